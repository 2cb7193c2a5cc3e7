/**
 * Comparing rxconn's HTTP/1.1 parser with llhttp: the events with error messages reduced to
 * "error", and the deliberate differences (listed in the README) recognised by what they are.
 */
import type { Difference } from './http1-cases.js';
import type { Event } from './http1-events.js';

/** Events with every error message dropped: the parsers word errors differently. */
export function outcome(events: readonly Event[]): Array<readonly unknown[]> {
  return events.map(e => (e[0] === 'error' ? ['error'] : e));
}

// What rxconn refuses on purpose where llhttp accepts, by the message it refuses with.
const STRICTER = [
  /^malformed status line: "(HTTP\/(2\.0|0\.9)|RTSP\/|ICE\/)/, // only HTTP/1.0 and HTTP/1.1
  /^invalid status code \d+$/, // below 100
  /^forbidden character 0x[0-9a-f]{2} in the response status line/, // a control character in the reason phrase
  /^a CR not followed by LF in the response status line/, // llhttp takes CR CR as the end of a status line
  /^invalid content-length in response: "\d{16,} *"$/, // above 2^53 - 1
  /^chunk size exceeds 2\^53 - 1 bytes$/,
];

/**
 * The documented difference that explains why `rx` differs from `ll` on `text`, or undefined
 * when none does (a bug on one side).
 */
export function explain(rx: readonly Event[], ll: readonly Event[], text: string): Difference | undefined {
  const a = outcome(rx);
  const b = outcome(ll);
  const error = rx.find(e => e[0] === 'error');
  if (error && STRICTER.some(re => re.test(error[1]))) {
    // rxconn refused where llhttp went on (it may refuse later, e.g. a body cut short); what came before is the same.
    const at = a.findIndex(e => e[0] === 'error');
    const llAt = b.findIndex(e => e[0] === 'error');
    if ((llAt === -1 || llAt > at) && JSON.stringify(a.slice(0, at)) === JSON.stringify(b.slice(0, at))) return 'stricter';
  }
  const rxEnd = a.findIndex(e => e[0] === 'end');
  const llEnd = b.findIndex(e => e[0] === 'end');
  if (rxEnd !== -1 && rxEnd === llEnd && JSON.stringify(a.slice(0, rxEnd)) === JSON.stringify(b.slice(0, llEnd)) && rx[rxEnd][1] === false && ll[llEnd][1] === true) {
    // rxconn closes after a response llhttp would keep the connection for.
    // The final head: the first one that is not a 1xx.
    const head = text
      .split('\r\n\r\n')
      .map(h => h.replace(/^[\r\n]+/, '').toLowerCase())
      .find(h => /^http\/1\.[01] (?!1\d\d)/.test(h)) ?? '';
    if (/^http\/1\.0 /.test(head) && /\r\ntransfer-encoding:[ \t]*[^\r\n \t]/.test(head)) return 'closes'; // HTTP/1.0 with transfer-encoding (RFC 9112 §6.1)
    if (/\r\nconnection:[^\r\n]*close[ \t]*\t/.test(head)) return 'closes'; // `close` followed by a tab (llhttp 9.3 keeps the connection)
  }
  return undefined;
}
