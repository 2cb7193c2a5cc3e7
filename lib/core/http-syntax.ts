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
