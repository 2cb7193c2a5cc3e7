/**
 * Run as a child process by spec/diagnostics.spec.ts: a diagnostics subscriber that throws on
 * every rxconn channel must not break a request. Node rethrows a subscriber's exception as an
 * `uncaughtException` on a later tick; this script counts those instead of dying, and prints
 * one JSON line: the response and the exceptions seen.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastValueFrom } from 'rxjs';
import { open, text } from '../../lib/index.js';

const uncaught: string[] = [];
process.on('uncaughtException', error => uncaught.push(error.message));

const names = ['create', 'headers', 'response', 'end', 'error'].map(step => `rxconn:request:${step}`).concat(['connecting', 'connected', 'closing', 'closed'].map(type => `rxconn:connection:${type}`));
for (const name of names) {
  diagnosticsChannel.subscribe(name, () => {
    throw new Error(`subscriber of ${name} threw`);
  });
}

const server = http.createServer((_req, res) => res.end('fine'));
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const conn = open(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
const response = await lastValueFrom(conn.get('/').pipe(text()));
await conn.shutdown();
server.close();
await new Promise(resolve => setImmediate(resolve)); // let the last rethrows land
console.log(JSON.stringify({ status: response.status, body: response.body, state: conn.state, uncaught: uncaught.sort() }));
