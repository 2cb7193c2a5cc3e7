/** The WebSocket floor: a raw `ws` client (binary messages as Buffers, text as strings). */
import WebSocket from 'ws';
import type { RawData } from 'ws';
import type { WsClient, WsDriver, WsMessage } from '../common.js';

export const rawWs: WsDriver = {
  name: 'ws',
  setup(url: string): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const client: WsClient = {
        send: (data) => ws.send(data, { binary: typeof data !== 'string' }),
        onMessage: (_message: WsMessage) => undefined,
        close: () =>
          new Promise<void>((done) => {
            if (ws.readyState === WebSocket.CLOSED) return done();
            const timer = setTimeout(() => ws.terminate(), 2_000);
            ws.once('close', () => {
              clearTimeout(timer);
              done();
            });
            ws.close(1000);
          }),
      };
      ws.on('message', (data: RawData, isBinary: boolean) => client.onMessage(isBinary ? data : String(data)));
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', () => undefined);
        resolve(client);
      });
      ws.once('error', reject);
    });
  },
};
