/**
 * Vite for the sample page: `npm run demo:browser` serves it, `vite build samples/browser` builds
 * it (spec/samples-browser.spec.ts does, to check that the browser build bundles).
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  server: { host: '127.0.0.1' },
  build: { target: 'es2022' },
});
