/**
 * HTTP field syntax (RFC 9110 §5): pure predicates shared by request validation and the
 * HTTP/1.1 response parser. No I/O.
 */

const TOKEN_CHARS = "!#$%&'*+\\-.^_`|~0-9A-Za-z";
// Field values: visible ASCII, obs-text, spaces and tabs; never CR, LF, NUL, another control or DEL.
const FIELD_VALUE_CHARS = '\\t\\x20-\\x7e\\x80-\\xff';
const TOKEN = new RegExp(`^[${TOKEN_CHARS}]+$`);
const FIELD_VALUE = new RegExp(`^[${FIELD_VALUE_CHARS}]*$`);
// Scanners (global: test() from lastIndex, which allocates nothing).
const NOT_TOKEN = new RegExp(`[^${TOKEN_CHARS}]`, 'g');
const NOT_FIELD_VALUE = new RegExp(`[^${FIELD_VALUE_CHARS}]`, 'g');

/** Whether `name` is a valid HTTP token (method, header name). */
export function isToken(name: string): boolean {
  return TOKEN.test(name);
}

/** Whether `value` may be sent as a header field value (no CR, LF or NUL). */
export function isFieldValue(value: string): boolean {
  return FIELD_VALUE.test(value);
}

/** Index of the first character at or after `from` that cannot be in a token, or -1. */
export function indexOfNonToken(text: string, from: number): number {
  NOT_TOKEN.lastIndex = from;
  return NOT_TOKEN.test(text) ? NOT_TOKEN.lastIndex - 1 : -1;
}

/** Index of the first character at or after `from` that cannot be in a field value (see {@link isFieldValue}), or -1. */
export function indexOfNonFieldValue(text: string, from: number): number {
  NOT_FIELD_VALUE.lastIndex = from;
  return NOT_FIELD_VALUE.test(text) ? NOT_FIELD_VALUE.lastIndex - 1 : -1;
}

/** Strips SP and HTAB at both ends: only they are optional whitespace in HTTP (String#trim would also strip \xa0, which is obs-text). */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === ' ' || value[start] === '\t')) start++;
  while (end > start && (value[end - 1] === ' ' || value[end - 1] === '\t')) end--;
  return value.slice(start, end);
}

function byteTable(allowed: (text: string) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let byte = 0; byte < 256; byte++) table[byte] = allowed(String.fromCharCode(byte)) ? 1 : 0;
  return table;
}

/** 1 for each byte that may appear in a token ({@link isToken}, one byte at a time), else 0. For parsers reading bytes as they arrive. */
export const TOKEN_BYTES: Uint8Array = byteTable(isToken);

/** 1 for each byte that may appear in a field value ({@link isFieldValue}, one byte at a time: HTAB, SP, VCHAR, obs-text), else 0. */
export const FIELD_VALUE_BYTES: Uint8Array = byteTable(isFieldValue);
