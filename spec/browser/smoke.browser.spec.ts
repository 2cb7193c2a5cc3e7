import { commands } from 'vitest/browser';
import { expect, test } from 'vitest';

test('smoke', async () => {
  const o = await commands.startOrigin('http1');
  const r = await fetch(o.url + '/hello');
  expect(await r.text()).toBe('hello over HTTP/1.1');
  await commands.closeOrigin(o.id);
});
