/**
 * The sample page (samples/browser/) in Chromium: its live status follows the connection through
 * an outage, and its button sends requests whose results it lists.
 */
import { expect, test, vi } from 'vitest';
import { commands } from 'vitest/browser';
import { mountStatusPage } from '../../samples/browser/status-page.js';
import { origin, track } from './helpers.js';

test('the page shows the live status and the requests', async () => {
  const o = await origin('h2');
  const root = document.createElement('main');
  document.body.append(root);
  const page = mountStatusPage(root, o.url, { path: '/hello', connection: { keepalive: { interval: 100, timeout: 1_000 }, retry: { initialDelay: 20, maxDelay: 100, maxRetries: Infinity } } });
  track(page.connection);
  const status = root.querySelector<HTMLElement>('[data-role="status"]')!;
  const requests = root.querySelector('[data-role="requests"]')!;
  await vi.waitFor(() => expect(status.textContent).toBe('connected'));
  expect(status.dataset.state).toBe('connected');
  root.querySelector<HTMLButtonElement>('[data-role="send"]')!.click();
  await vi.waitFor(() => expect(requests.textContent).toContain('200 hello over HTTP/2.0'));
  await commands.stopOrigin(o.id);
  await vi.waitFor(() => expect(status.textContent).toBe('disconnected'));
  expect(root.querySelector('[data-role="events"]')!.textContent).toMatch(/disconnected: RXCONN_(CONNECTION_DOWN|KEEPALIVE_TIMEOUT)/);
  await commands.restartOrigin(o.id);
  await vi.waitFor(() => expect(status.textContent).toBe('connected'));
  await page.dispose();
  expect(status.textContent).toBe('closed');
  root.remove();
});
