/**
 * The Vitest `browser` project: the tests in spec/browser/ run in Debian's Chromium, driven by
 * Playwright (no browser is ever downloaded). Without Chromium the project is left out, with a
 * printed reason, so that `npm test` still passes on a machine without it.
 */
import { existsSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import type { TestProjectConfiguration } from 'vitest/config';
import { commands } from './commands.js';

/** The Chromium binary: `CHROMIUM_PATH`, or Debian's package. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a headless run in a container, without any network of its own. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** The browser project, or `undefined` (with a message on stderr) when Chromium is missing. */
export function browserProject(): TestProjectConfiguration | undefined {
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`[rxconn] browser project skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`);
    return undefined;
  }
  return {
    // Pre-bundled at start: discovering them mid-run makes Vite reload the page under a test.
    optimizeDeps: { include: ['rxjs', '@angular/core', '@angular/core/rxjs-interop', '@angular/common/http', '@angular/compiler', 'zone.js'] },
    test: {
      name: 'browser',
      include: ['spec/browser/**/*.browser.spec.ts'],
      globalSetup: ['spec/browser/rig/global-setup.ts'],
      testTimeout: 20_000,
      hookTimeout: 20_000,
      browser: {
        enabled: true,
        headless: true,
        screenshotFailures: false,
        provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: FLAGS } }),
        instances: [{ browser: 'chromium' }],
        commands,
      },
    },
  };
}
