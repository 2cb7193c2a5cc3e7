/**
 * The chunk-size line of a chunked body (RFC 9112 §7.1), read one byte at a time as bytes
 * arrive: `chunk-size *( ";" token [ "=" ( token / quoted-string ) ] ) CRLF`, with exactly the
 * grammar llhttp accepts in its strict mode (no whitespace around the size or the `;`, no bare LF,
 * no control characters) and a bound on the line's length. Pure: no I/O.
 */
import { ProtocolError } from '../core/errors.js';
import { FIELD_VALUE_BYTES, TOKEN_BYTES } from '../core/http-syntax.js';
import { showByte } from './http1-fields.js';

/** Longest chunk-size line accepted, extensions included, in bytes. */
export const MAX_CHUNK_LINE = 1024;

const CR = 0x0d;
const LF = 0x0a;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Hex digit values; -1 for other bytes. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x41 + i] = HEX[0x61 + i] = 10 + i;

// Where the reader is in the line.
/** Before the first hex digit. */
const FIRST = 0;
/** In the size. */
const SIZE = 1;
/** Just after a `;`: an extension name starts. */
const EXTENSION = 2;
const NAME = 3;
const VALUE = 4;
const QUOTED = 5;
/** After a backslash in a quoted value. */
const PAIR = 6;
/** After a closing quote. */
const QUOTED_DONE = 7;
/** After the CR: the LF must follow. */
const LF_NEXT = 8;

/** Reads one chunk-size line after another. */
export class ChunkLine {
  #step = FIRST;
  #size = 0;
  #length = 0;

  /** The size read by the last complete line. */
  get size(): number {
    return this.#size;
  }

  /**
   * Reads the line from `buf[at]` on. Returns the index just past its LF, or -1 when the input
   * ended first (the next call goes on where this one stopped). Throws {@link ProtocolError} at
   * the first byte that cannot belong to a valid line.
   */
  read(buf: Buffer, at: number): number {
    if (this.#step === FIRST) this.#size = 0;
    let step = this.#step;
    let size = this.#size;
    for (; at < buf.length; at++) {
      if (++this.#length > MAX_CHUNK_LINE) throw new ProtocolError(`response chunk-size line is longer than ${MAX_CHUNK_LINE} bytes`);
      const byte = buf[at];
      switch (step) {
        case FIRST:
        case SIZE: {
          const digit = HEX[byte];
          if (digit >= 0) {
            size = size * 16 + digit;
            if (size > Number.MAX_SAFE_INTEGER) throw new ProtocolError('chunk size exceeds 2^53 - 1 bytes');
            step = SIZE;
          } else if (step === FIRST) {
            throw this.#invalid(byte, 'where the chunk size should start');
          } else if (byte === CR) {
            step = LF_NEXT;
          } else if (byte === SEMICOLON) {
            step = EXTENSION;
          } else {
            throw this.#invalid(byte, 'after the chunk size');
          }
          break;
        }
        case EXTENSION:
        case NAME:
          // A name may be empty (`;=v`, `;;`), as llhttp allows; not whitespace or a line end right after `;`.
          if (step === EXTENSION && (byte === CR || byte === LF || byte === 0x20)) throw this.#invalid(byte, 'where a chunk extension should start');
          if (TOKEN_BYTES[byte] === 1) step = NAME;
          else if (byte === EQUALS) step = VALUE;
          else if (byte === SEMICOLON) step = EXTENSION;
          else if (byte === CR) step = LF_NEXT;
          else throw this.#invalid(byte, 'in a chunk extension name');
          break;
        case VALUE:
          if (byte === QUOTE) step = QUOTED;
          else if (TOKEN_BYTES[byte] === 1) step = VALUE;
          else if (byte === SEMICOLON) step = EXTENSION;
          else if (byte === CR) step = LF_NEXT;
          else throw this.#invalid(byte, 'in a chunk extension value');
          break;
        case QUOTED:
          if (byte === QUOTE) step = QUOTED_DONE;
          else if (byte === BACKSLASH) step = PAIR;
          else if (FIELD_VALUE_BYTES[byte] !== 1) throw this.#invalid(byte, 'in a quoted chunk extension value');
          break;
        case PAIR:
          if (FIELD_VALUE_BYTES[byte] !== 1) throw this.#invalid(byte, 'in a quoted-pair of a chunk extension value');
          step = QUOTED;
          break;
        case QUOTED_DONE:
          if (byte === SEMICOLON) step = EXTENSION;
          else if (byte === CR) step = LF_NEXT;
          else throw this.#invalid(byte, 'after a quoted chunk extension value');
          break;
        case LF_NEXT:
          if (byte !== LF) throw new ProtocolError('a CR not followed by LF in a chunk-size line');
          this.#step = FIRST;
          this.#size = size;
          this.#length = 0;
          return at + 1;
      }
    }
    this.#step = step;
    this.#size = size;
    return -1;
  }

  #invalid(byte: number, where: string): ProtocolError {
    if (byte === LF) return new ProtocolError('a chunk-size line ends with a bare LF (no CR)');
    return new ProtocolError(`invalid byte ${showByte(byte)} ${where} in a chunk-size line`);
  }
}
