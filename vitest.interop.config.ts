import { defineConfig } from 'vitest/config';

// The interop suite: rxconn against third-party servers (nginx, nghttpd, websocketd) that it
// installs from Debian packages when missing and starts itself on 127.0.0.1.
export default defineConfig({
  test: {
    include: ['spec/interop/**/*.spec.ts'],
    testTimeout: 30_000,
    // The first file may wait for apt-get.
    hookTimeout: 300_000,
    pool: 'forks',
    // One server process family at a time, and one apt-get at a time.
    fileParallelism: false,
  },
});
