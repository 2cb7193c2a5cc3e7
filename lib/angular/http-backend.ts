/**
 * rxconn as Angular's `HttpBackend`: `HttpClient` calls, after the app's interceptors, go out on
 * an rxconn connection (Node: its one HTTP/1.1 or HTTP/2 connection; browser: fetch under a
 * monitored link) and come back as Angular's `HttpEvent`s.
 */
import { InjectionToken, inject } from '@angular/core';
import type { FactoryProvider, Provider } from '@angular/core';
import { HttpBackend, HttpErrorResponse, HttpEventType, HttpHeaderResponse, HttpHeaders, HttpResponse } from '@angular/common/http';
import type { HttpEvent, HttpRequest } from '@angular/common/http';
import { Observable } from 'rxjs';
import { InvalidArgumentError, UnsupportedError } from '../core/errors.js';
import type { Headers, ResponseEvent } from '../core/events.js';
import type { RequestInit } from '../core/request-init.js';
import { concatBytes, decodeUtf8 } from '../core/utf8.js';
import type { ConnectionService } from './connection-service.js';

/** The connection `provideRxconnHttpBackend()` opens; inject it for its `status` Signal. */
export const RXCONN_HTTP_CONNECTION = new InjectionToken<ConnectionService>('RXCONN_HTTP_CONNECTION');

/** rxconn's response headers as Angular's. */
function toHttpHeaders(headers: Headers): HttpHeaders {
  const init: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) init[name] = value;
  return new HttpHeaders(init);
}

/** The request's path on the connection's origin; throws for another origin. */
function pathOf(url: string, origin: string): string {
  if (url.startsWith('/')) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`HttpClient URL ${JSON.stringify(url)} must be a path ("/items") or an absolute URL on ${origin}`);
  }
  if (parsed.origin !== origin) throw new InvalidArgumentError(`HttpClient URL ${url} is not on the rxconn connection's origin ${origin}`);
  return parsed.pathname + parsed.search;
}

/** Angular's serialized body as an rxconn body. */
function bodyOf(req: HttpRequest<unknown>): string | Uint8Array | undefined {
  const body = req.serializeBody();
  if (body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (typeof URLSearchParams !== 'undefined' && body instanceof URLSearchParams) return body.toString();
  throw new UnsupportedError(`the rxconn HttpClient backend cannot send a ${body.constructor.name} body: send a string, JSON, an ArrayBuffer or URLSearchParams`);
}

/** The rxconn request for an Angular request. */
function toRequest(req: HttpRequest<unknown>, origin: string): RequestInit {
  const headers: Record<string, string[]> = {};
  for (const name of req.headers.keys()) headers[name] = req.headers.getAll(name) ?? [];
  const body = bodyOf(req);
  if (body !== undefined && !req.headers.has('content-type')) {
    const type = req.detectContentTypeHeader();
    if (type) headers['content-type'] = [type];
  }
  return {
    method: req.method,
    path: pathOf(req.urlWithParams, origin),
    headers,
    ...(body !== undefined && { body }),
    ...(req.timeout !== undefined && { timeout: req.timeout }),
  };
}

/** The body as `responseType` asks, or the text when JSON does not parse (Angular's rule). */
function parseBody(req: HttpRequest<unknown>, bytes: Uint8Array): { ok: boolean; body: unknown; error?: unknown } {
  switch (req.responseType) {
    case 'arraybuffer':
      return { ok: true, body: bytes.slice().buffer };
    case 'blob':
      return { ok: true, body: new Blob([bytes.slice()]) };
    case 'text':
      return { ok: true, body: decodeUtf8(bytes) };
    default: {
      const text = decodeUtf8(bytes).replace(/^\uFEFF/, '');
      if (text === '') return { ok: true, body: null };
      try {
        return { ok: true, body: JSON.parse(text) as unknown };
      } catch (error) {
        return { ok: false, body: text, error };
      }
    }
  }
}

/**
 * An `HttpBackend` on an rxconn connection. Each `handle()` is cold: subscribing sends the
 * request (after `Sent`), unsubscribing cancels it on the wire. It emits `HttpHeaderResponse`
 * and `DownloadProgress` when `reportProgress` is set, then one `HttpResponse`; a status outside
 * 200–299 errors with `HttpErrorResponse` carrying the body; a network failure (the rxconn error:
 * `RXCONN_CONNECTION_DOWN`, `RXCONN_TIMEOUT`...) errors with `HttpErrorResponse` status 0, the
 * rxconn error as its `error`.
 */
export class RxconnHttpBackend extends HttpBackend {
  readonly #connection: ConnectionService;

  /** @param connection - the rxconn connection the calls go out on (`provideRxconnHttpBackend` passes its own) */
  constructor(connection: ConnectionService) {
    super();
    this.#connection = connection;
  }

  /** One `HttpClient` call, after the interceptors: cold, sent on subscribe, aborted on unsubscribe. */
  handle(req: HttpRequest<unknown>): Observable<HttpEvent<unknown>> {
    const connection = this.#connection;
    const url = req.urlWithParams;
    return new Observable<HttpEvent<unknown>>(subscriber => {
      let init: RequestInit;
      try {
        init = toRequest(req, connection.info().origin);
      } catch (error) {
        subscriber.error(new HttpErrorResponse({ error, status: 0, url }));
        return undefined;
      }
      subscriber.next({ type: HttpEventType.Sent });
      let status = 0;
      let headers = new HttpHeaders();
      const chunks: Uint8Array[] = [];
      let loaded = 0;
      return connection.request(init).subscribe({
        next: (event: ResponseEvent) => {
          if (event.type === 'response') {
            status = event.status;
            headers = toHttpHeaders(event.headers);
            if (req.reportProgress) subscriber.next(new HttpHeaderResponse({ headers, status, url }));
          } else if (event.type === 'data') {
            chunks.push(event.data);
            loaded += event.data.byteLength;
            if (req.reportProgress) {
              const total = Number(headers.get('content-length'));
              subscriber.next({ type: HttpEventType.DownloadProgress, loaded, ...(Number.isFinite(total) && total > 0 && { total }) });
            }
          }
        },
        error: (error: unknown) => subscriber.error(new HttpErrorResponse({ error, status: 0, url })),
        complete: () => {
          const parsed = parseBody(req, concatBytes(chunks, loaded));
          const ok = status >= 200 && status < 300;
          if (ok && parsed.ok) {
            subscriber.next(new HttpResponse({ body: parsed.body, headers, status, url }));
            subscriber.complete();
          } else if (ok) {
            subscriber.error(new HttpErrorResponse({ error: { error: parsed.error, text: parsed.body }, headers, status, url }));
          } else {
            subscriber.error(new HttpErrorResponse({ error: parsed.body, headers, status, url }));
          }
        },
      });
    });
  }
}

/** The providers of `provideRxconnHttpBackend()`: the connection (`connection` provides {@link RXCONN_HTTP_CONNECTION}) and the backend. */
export function rxconnHttpBackendProviders(connection: FactoryProvider): Provider[] {
  return [connection, { provide: HttpBackend, useFactory: () => new RxconnHttpBackend(inject(RXCONN_HTTP_CONNECTION)) }];
}
