import { defineConfig } from 'vitest/config';
import { browserProject } from './spec/browser/rig/project.js';

const browser = browserProject();

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['spec/**/*.spec.ts'],
          testTimeout: 20_000,
          hookTimeout: 20_000,
          pool: 'forks',
          // Interop suites install and start third-party servers: `npm run test:interop`.
          // Browser suites run in Chromium: the `browser` project below.
          exclude: ['spec/interop/**', 'spec/browser/**', 'node_modules/**'],
        },
      },
      ...(browser ? [browser] : []),
    ],
  },
});
