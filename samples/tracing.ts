/**
 * Tracing from rxconn's diagnostics_channel events, the way an OpenTelemetry instrumentation
 * would: a span per request started on `rxconn:request:create` (in the caller's async context, so
 * it finds its parent there, and it injects a W3C `traceparent` header), enriched on `headers`
 * and `response`, ended on `end` or `error`; connection lifecycle events become span events of a
 * connection span. No tracing library is needed to read it: the spans are printed.
 *
 * Run: `npx tsx samples/tracing.ts` (starts its own server on 127.0.0.1, exits 0).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { lastValueFrom, take } from 'rxjs';
import { open, text } from '../lib/index.js';
import type {
  ConnectionMessage,
  DiagnosticsRequest,
  RequestCreateMessage,
  RequestEndMessage,
  RequestErrorMessage,
  RequestHeadersMessage,
  RequestResponseMessage,
} from '../lib/index.js';

interface Span {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parent: Span | undefined;
  readonly start: number;
  readonly attributes: Record<string, string | number | boolean>;
}

/** The active span of the caller, as a tracer's context manager would keep it. */
const context = new AsyncLocalStorage<Span>();
const spans = new WeakMap<DiagnosticsRequest, Span>();
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

function startSpan(name: string, parent = context.getStore()): Span {
  return { name, traceId: parent?.traceId ?? hex(16), spanId: hex(8), parent, start: performance.now(), attributes: {} };
}

function endSpan(span: Span, outcome: string): void {
  const ms = (performance.now() - span.start).toFixed(1);
  const parent = span.parent ? ` (child of "${span.parent.name}")` : '';
  console.log(`span "${span.name}"${parent}: ${outcome}, ${ms} ms ${JSON.stringify(span.attributes)}`);
}

diagnosticsChannel.subscribe('rxconn:request:create', message => {
  const { request } = message as RequestCreateMessage;
  const span = startSpan(`${request.method} ${request.path.split('?')[0]}`);
  Object.assign(span.attributes, { 'http.request.method': request.method, 'url.full': request.origin + request.path });
  request.addHeader('traceparent', `00-${span.traceId}-${span.spanId}-01`); // propagation to the server
  spans.set(request, span);
});
diagnosticsChannel.subscribe('rxconn:request:headers', message => {
  const { request, protocol, remotePort } = message as RequestHeadersMessage;
  Object.assign(spans.get(request)?.attributes ?? {}, { 'network.protocol.name': protocol, 'server.port': remotePort ?? 0 });
});
diagnosticsChannel.subscribe('rxconn:request:response', message => {
  const { request, status } = message as RequestResponseMessage;
  Object.assign(spans.get(request)?.attributes ?? {}, { 'http.response.status_code': status });
});
diagnosticsChannel.subscribe('rxconn:request:end', message => {
  const { request, cancelled } = message as RequestEndMessage;
  const span = spans.get(request);
  if (span) endSpan(span, cancelled ? 'cancelled (not an error)' : 'ok');
});
diagnosticsChannel.subscribe('rxconn:request:error', message => {
  const { request, error } = message as RequestErrorMessage;
  const span = spans.get(request);
  if (span) endSpan(span, `error ${(error as { code?: string }).code ?? error.name}`);
});
for (const type of ['connecting', 'connected', 'closing', 'closed']) {
  diagnosticsChannel.subscribe(`rxconn:connection:${type}`, message => {
    const { origin, event } = message as ConnectionMessage;
    console.log(`connection event: ${event.type} ${origin}`);
  });
}

// A server that reports the trace context it received.
const server = http.createServer((req, res) => {
  if (req.url === '/stream') {
    res.write('tick'); // never ends: the client cancels it
    return;
  }
  res.end(req.headers.traceparent ? 'traced' : 'untraced');
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const conn = open(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { protocols: ['http1'] });

// An application span around two requests: their spans become its children.
const checkout = startSpan('checkout');
await context.run(checkout, async () => {
  const cart = await lastValueFrom(conn.get('/cart?id=7').pipe(text()));
  console.log(`GET /cart answered: ${cart.body}`);
  await lastValueFrom(conn.post('/orders', '{}').pipe(text()));
});
endSpan(checkout, 'ok');
// Outside any span: a root span; cancelled after the first chunk.
await lastValueFrom(conn.get('/stream').pipe(take(2)));

await conn.shutdown();
server.close();
