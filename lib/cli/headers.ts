/**
 * The request headers of one CLI run: `-H` pairs, the credentials of the URL, and what `--json`
 * implies.
 */
import type { CliCommand } from './args.js';

/** Headers from `-H` pairs; a repeated name is joined with `, `. */
export function headerRecord(pairs: CliCommand['headers']): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return headers;
}

/**
 * `Basic base64(user:password)` for the credentials of `url` (`http://user:pass@host/`,
 * percent-decoded as curl does; a user without a password sends an empty one), or `undefined`
 * when the URL has none. A percent sequence that does not decode is sent as written.
 */
export function basicAuthorization(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  return `Basic ${Buffer.from(`${decode(url.username)}:${decode(url.password)}`, 'utf8').toString('base64')}`;
}

/**
 * Every header the command sends: its `-H` headers, plus `authorization` from the URL's
 * credentials and, with `--json`, `content-type` and `accept: application/json`, each unless a
 * `-H` header of that name was given (the explicit one wins, as in curl).
 */
export function requestHeaders(command: CliCommand): Record<string, string> {
  const headers = headerRecord(command.headers);
  const implied: Record<string, string | undefined> = {
    authorization: basicAuthorization(command.url),
    ...(command.json !== undefined && { 'content-type': 'application/json', accept: 'application/json' }),
  };
  for (const [name, value] of Object.entries(implied)) {
    if (value !== undefined && !(name in headers)) headers[name] = value;
  }
  return headers;
}
