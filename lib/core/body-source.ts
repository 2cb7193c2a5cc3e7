/**
 * Feeding a request body to the wire: text, bytes, or an Observable of chunks.
 */
import type { Subscription } from 'rxjs';
import { InvalidArgumentError } from './errors.js';
import type { RequestBody } from './request-init.js';

/** Where body chunks go. */
export interface BodyTarget {
  write(chunk: Buffer): void;
  end(): void;
  /** The body Observable errored (its own error, unchanged) or emitted something that is not a chunk. */
  fail(error: Error): void;
}

/** A chunk as bytes: strings are UTF-8. */
export function toBytes(chunk: string | Uint8Array): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

const METHODS_WITH_BODY: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Whether a request announces `content-length: length` (HTTP/1.1 and HTTP/2 alike): a known length
 * above 0, or 0 for a method that carries a body. A streamed body (`undefined`) announces none.
 */
export function announcesLength(method: string, length: number | undefined): length is number {
  return length !== undefined && (length > 0 || METHODS_WITH_BODY.has(method));
}

/** The byte length of a fixed body, or `undefined` for a streamed one. */
export function fixedLength(body: RequestBody | undefined): number | undefined {
  if (body === undefined) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body, 'utf8');
  if (body instanceof Uint8Array) return body.byteLength;
  return undefined;
}

/**
 * Sends `body` to `target`: a fixed body at once, a streamed one chunk by chunk as the Observable
 * emits (the writer's own buffering applies; an Observable cannot be paused). Returns the
 * subscription of a streamed body, to unsubscribe on cancel.
 */
export function sendBody(body: RequestBody | undefined, target: BodyTarget): Subscription | undefined {
  if (body === undefined) {
    target.end();
    return undefined;
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    if (fixedLength(body)) target.write(toBytes(body));
    target.end();
    return undefined;
  }
  let failed = false;
  // Assigned after subscribe returns; a synchronous body emits before that, so `failed` guards it.
  let subscription: Subscription | undefined = undefined;
  subscription = body.subscribe({
    next: chunk => {
      if (failed) return;
      if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
        failed = true;
        target.fail(new InvalidArgumentError('request.body emitted a value that is not a string or Uint8Array'));
        subscription?.unsubscribe();
        return;
      }
      const bytes = toBytes(chunk);
      if (bytes.length > 0) target.write(bytes);
    },
    error: (error: unknown) => {
      if (!failed) target.fail(error instanceof Error ? error : new Error(String(error)));
    },
    complete: () => {
      if (!failed) target.end();
    },
  });
  if (failed) subscription.unsubscribe();
  return subscription;
}
