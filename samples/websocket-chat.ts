/**
 * A WebSocket chat: two reconnecting clients (`webSocket(url)`) and one that first asks for the
 * history over HTTP, then upgrades its connection (`conn.websocket(path)`). The server restarts
 * in the middle: the clients report the loss, reconnect with backoff and upgrade again, and a
 * message sent while offline is queued and delivered after the reconnect. Then everybody leaves
 * cleanly (close 1001).
 *
 * Run: `npx tsx samples/websocket-chat.ts` (starts its own server on 127.0.0.1, exits 0).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { WebSocketServer } from 'ws';
import { json, open, webSocket } from '../lib/index.js';
import type { ReconnectingWebSocket } from '../lib/index.js';

// ---- the chat server: broadcasts `name: text`; GET /history returns what was said ----
const history: string[] = [];
const sockets = new Set<Socket>();
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(req.url === '/history' ? history : { error: 'not found' }));
});
server.on('connection', socket => {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
});
const chat = new WebSocketServer({ server, path: '/chat' });
chat.on('connection', (ws, req) => {
  const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name') ?? 'anonymous';
  ws.on('message', data => {
    const line = `${name}: ${data.toString()}`;
    history.push(line);
    for (const client of chat.clients) client.send(line);
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as AddressInfo).port;
const url = (name: string): string => `ws://127.0.0.1:${port}/chat?name=${name}`;

/** A server crash: every socket destroyed, then nothing listening. */
async function crash(): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  for (const socket of sockets) socket.destroy();
  await closed;
}

// ---- two reconnecting clients ----
const retry = { maxRetries: Infinity, initialDelay: 20, maxDelay: 100 };
const alice = webSocket(url('alice'), { retry });
const bob = webSocket(url('bob'), { retry });
const opened = (ws: ReconnectingWebSocket): Promise<unknown> => firstValueFrom(ws.pipe(filter(e => e.type === 'open')));
for (const [name, ws] of [['alice', alice], ['bob', bob]] as const) {
  ws.subscribe({
    next: event => {
      if (event.type === 'open' || event.type === 'close' || event.type === 'retrying') {
        console.log(`[${name}] ${event.type}${event.type === 'close' ? ` ${event.code}` : ''}${event.type === 'retrying' ? ` in ${Math.round(event.delay)} ms` : ''}`);
      }
    },
    error: (error: unknown) => console.log(`[${name}] gave up: ${String(error)}`),
  });
  ws.messages.subscribe({
    next: message => console.log(`  ${name} reads "${String(message)}"`),
    error: (error: unknown) => console.log(`[${name}] messages ended: ${String(error)}`),
  });
}
await Promise.all([opened(alice), opened(bob)]);

const bobHears = (count: number): Promise<unknown> => firstValueFrom(bob.messages.pipe(take(count), toArray()));
let heard = bobHears(2);
alice.send('hi bob');
bob.send('hi alice');
await heard;

// ---- the server restarts; a message sent meanwhile waits in alice's queue ----
console.log('-- the server crashes');
const lost = firstValueFrom(alice.pipe(filter(e => e.type === 'close')));
const back = Promise.all([opened(alice), opened(bob)]);
await crash();
await lost; // alice knows she is offline (a message written to a dead socket would be lost)
alice.send('did you see that?');
console.log(`alice queued ${alice.queued} message(s) while offline`);
server.listen(port, '127.0.0.1');
await once(server, 'listening');
console.log('-- the server is back');
heard = firstValueFrom(alice.messages.pipe(filter(m => m === 'alice: did you see that?')));
await back;
await heard;

// ---- a third client: HTTP first, then the same connection upgrades ----
const conn = open(`http://127.0.0.1:${port}`);
const { body: said } = await firstValueFrom(conn.get('/history').pipe(json<string[]>()));
console.log(`carol reads the history over HTTP: ${said.length} lines`);
const carol = conn.websocket('/chat?name=carol');
const carolReads = firstValueFrom(carol.pipe(take(1)));
carol.send('hello all'); // queued until the upgrade completes
console.log(`  carol reads "${String(await carolReads)}"`);

// ---- everybody leaves cleanly: close 1001, wait for the server's close frame ----
await Promise.all([alice.shutdown(), bob.shutdown(), conn.shutdown()]);
console.log('states:', alice.connection.state, bob.connection.state, conn.state);
chat.close();
server.close();
