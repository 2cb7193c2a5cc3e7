import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Interop suites install and start third-party servers: `npm run test:interop`.
    exclude: ['spec/interop/**', 'node_modules/**'],
  },
});
