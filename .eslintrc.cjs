/* eslint-env node */
module.exports = {
  root: true,
  parser: '@typescript-eslint/parser',
  parserOptions: { ecmaVersion: 2022, sourceType: 'module' },
  plugins: ['@typescript-eslint'],
  extends: ['eslint:recommended', 'plugin:@typescript-eslint/recommended'],
  env: { node: true, es2022: true },
  ignorePatterns: ['dist/', 'node_modules/', 'docs/'],
  rules: {
    '@typescript-eslint/no-explicit-any': 'error',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    'no-restricted-imports': ['error', { patterns: ['../spec/*', '**/spec/*'] }],
  },
  overrides: [
    { files: ['spec/**', 'bench/**'], rules: { 'no-restricted-imports': 'off' } },
    {
      // The core runs in every runtime: no Node built-ins, no ws, nothing of a runtime.
      files: ['lib/core/**'],
      rules: {
        'no-restricted-imports': ['error', { patterns: [
          { group: ['node:*'], message: 'lib/core is runtime-free: Node code belongs in lib/node (reach it through core/runtime.ts).' },
          { group: ['ws', '../node/*', '../../node/*', '../browser/*', '../../browser/*'], message: 'lib/core must not depend on a runtime: use core/runtime.ts.' },
          { group: ['../spec/*', '**/spec/*'], message: 'lib must not import spec.' },
        ] }],
      },
    },
    {
      // The browser runtime, and the Angular code both builds share (not the Node entries index.ts, http.ts): no Node built-ins, no ws, no Node runtime.
      files: ['lib/browser/**', 'lib/angular/**'],
      excludedFiles: ['lib/angular/index.ts', 'lib/angular/http.ts'],
      env: { browser: true },
      rules: {
        'no-restricted-imports': ['error', { patterns: [
          { group: ['node:*'], message: 'lib/browser (and the shared Angular code) runs in a browser: no Node built-ins.' },
          { group: ['ws', '../node/*', '../../node/*'], message: 'lib/browser must not reach the Node runtime or ws: a browser bundle would carry them.' },
          { group: ['../spec/*', '**/spec/*'], message: 'lib must not import spec.' },
        ] }],
      },
    },
  ],
};
