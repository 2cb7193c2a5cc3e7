/**
 * The browser sample builds with Vite (for the browser: the bundle has no `node:` import and no
 * `ws`), as an app of rxconn's would. Its behaviour is checked in Chromium:
 * spec/browser/sample.browser.spec.ts.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import { expect, it } from 'vitest';

const root = resolve(new URL('..', import.meta.url).pathname);

it('samples/browser builds with Vite into a page and one script, free of Node', { timeout: 60_000 }, async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'rxconn-sample-'));
  try {
    await build({ configFile: join(root, 'samples/browser/vite.config.ts'), logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    const assets = readdirSync(join(outDir, 'assets'));
    const scripts = assets.filter(name => name.endsWith('.js'));
    expect(scripts).toHaveLength(1);
    expect(readFileSync(join(outDir, 'index.html'), 'utf8')).toContain(`/assets/${scripts[0]}`);
    const code = readFileSync(join(outDir, 'assets', scripts[0]!), 'utf8');
    expect(code).not.toMatch(/["']node:|require\(["']ws["']\)|from ?["']ws["']/);
    expect(code).toContain('the probe');
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});
