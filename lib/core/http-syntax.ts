/**
 * HTTP field syntax (RFC 9110 §5): pure predicates shared by request validation and the
 * HTTP/1.1 response parser. No I/O.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, spaces and tabs; never CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Whether `name` is a valid HTTP token (method, header name). */
export function isToken(name: string): boolean {
  return TOKEN.test(name);
}

/** Whether `value` may be sent as a header field value (no CR, LF or NUL). */
export function isFieldValue(value: string): boolean {
  return FIELD_VALUE.test(value);
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
