/**
 * rxconn's HTTP/1.1 response parser against llhttp, the parser inside `node:http` (through
 * node's own binding, set up as node's HTTP client sets it up): the same bytes must give the same
 * verdict (accept or refuse), status, headers, body, trailers and keep-alive, except for the
 * deliberate differences listed in the README. Fed whole, byte by byte and split at random.
 * The same comparison over real sockets (rxconn's `open()` against `http.get`) is in
 * http1-differential-wire.spec.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CASES } from './helpers/http1-cases.js';
import { explain, outcome } from './helpers/http1-differences.js';
import { bytes, llParse, rxParse } from './helpers/http1-events.js';
import type { Event, Run } from './helpers/http1-events.js';

/** The input as one read, and one byte per read. */
const wholeAndBytewise = (text: string): Buffer[][] => [[bytes(text)], [...bytes(text)].map(b => Buffer.from([b]))];

/** rxconn and llhttp on `text`: same outcome whole and byte by byte, and the same as each other unless a documented difference explains it. */
function compare(text: string, run: Run | undefined): { rx: Event[]; ll: Event[]; differs: string | undefined } {
  const [whole, bytewise] = wholeAndBytewise(text);
  const rx = rxParse(whole, run);
  const ll = llParse(whole, run);
  // Fed byte by byte, a line with two faults may be refused for the one seen first: same events, same verdict.
  expect(outcome(rxParse(bytewise, run)), 'rxconn byte by byte').toEqual(outcome(rx));
  expect(outcome(llParse(bytewise, run)), 'llhttp byte by byte').toEqual(outcome(ll));
  const same = JSON.stringify(outcome(rx)) === JSON.stringify(outcome(ll));
  return { rx, ll, differs: same ? undefined : (explain(rx, ll, text) ?? 'unexplained') };
}

describe('HTTP/1.1 parser vs llhttp: the hand-written cases', () => {
  it.each(CASES.map(c => [c.name, c] as const))('%s', (_name, c) => {
    const { rx, ll, differs } = compare(c.text, c.run);
    if (differs !== c.differs) expect({ differs, rx, ll }).toEqual({ differs: c.differs, rx: 'as llhttp', ll });
  });

  it(`covers ${CASES.length} cases, ${CASES.filter(c => c.differs).length} of them deliberate differences`, () => {
    expect(new Set(CASES.map(c => c.name)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(150);
  });
});

// ---- generated responses ----

const token = fc.string({ unit: fc.constantFrom(...'abcxyzABZ019-_.!#$%&\'*+^`|~'), minLength: 1, maxLength: 8 });
/** Bytes that break things: line ends, controls, whitespace, separators, obs-text. */
const odd = fc.constantFrom('\r', '\n', '\r\n', '\x00', '\x01', '\x0b', '\x1b', '\x7f', ' ', '\t', ':', ';', ',', '"', '\\', '=', '\xa0', '\xff', '0', 'f', 'chunked', 'close');
const text = fc.array(fc.oneof({ weight: 6, arbitrary: token }, { weight: 2, arbitrary: fc.constantFrom(' ', ', ', '=', '/', '; ') }, { weight: 1, arbitrary: odd }), { maxLength: 6 }).map(parts => parts.join(''));
const name = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('Content-Length', 'Transfer-Encoding', 'Connection', 'Set-Cookie', 'Keep-Alive', 'Trailer', 'X-A', 'x-a', 'content-type') },
  { weight: 4, arbitrary: token },
  { weight: 1, arbitrary: text },
);
const field = fc.tuple(name, fc.constantFrom(': ', ': ', ': ', ': ', ': ', ':', ':  ', ': \t', ' : '), text).map(([n, sep, v]) => `${n}${sep}${v}`);
const extension = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(token, fc.option(fc.oneof(token, token.map(t => `"${t}"`)), { nil: undefined })).map(([n, v]) => (v === undefined ? `;${n}` : `;${n}=${v}`)) },
  { weight: 1, arbitrary: text.map(t => `;${t}`) },
);
const chunk = fc.tuple(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map(c => String.fromCharCode(c)), minLength: 1, maxLength: 20 }), fc.array(extension, { maxLength: 2 }), fc.boolean()).map(
  ([data, exts, upper]) => `${upper ? data.length.toString(16).toUpperCase() : data.length.toString(16)}${exts.join('')}\r\n${data}\r\n`,
);
const payload = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map(c => String.fromCharCode(c)), maxLength: 16 });
/** The framing fields and the body they frame (right, or wrong on purpose). */
const framed = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(payload, fc.integer({ min: -2, max: 2 })).map(([data, off]) => ({ fields: `Content-Length: ${Math.max(0, data.length + (off === 1 ? 1 : 0))}\r\n`, body: data })) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.array(chunk, { maxLength: 3 }), fc.constantFrom('0\r\n\r\n', '0;x=y\r\n\r\n', '0\r\nX-T: 1\r\n\r\n', '0\r\nX-T: 1\r\nx-t: 2\r\n\r\n'), fc.constantFrom('chunked', 'gzip, chunked', 'Chunked')).map(([chunks, last, te]) => ({
      fields: `Transfer-Encoding: ${te}\r\n`,
      body: chunks.join('') + last,
    })),
  },
  { weight: 1, arbitrary: payload.map(data => ({ fields: '', body: data })) },
  { weight: 1, arbitrary: fc.constantFrom({ fields: 'Content-Length: 0\r\n', body: '' }, { fields: 'Transfer-Encoding: gzip\r\n', body: 'raw' }) },
);
const statusLine = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'), fc.constantFrom(200, 200, 201, 204, 304, 404, 500), fc.constantFrom(' OK', '', ' ', ' Reason phrase')).map(([v, s, r]) => `${v} ${s}${r}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('HTTP/1.1 ', 'HTTP/1.0 ', 'HTTP/1.1 2', 'HTTP/1.'), text).map(([a, b]) => a + b) },
);
const inform = fc.constantFrom('', '', '', 'HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', 'HTTP/1.1 100 Continue\r\n\r\n\r\n');
const response = fc
  .record({
    lead: fc.constantFrom('', '', '', '\r\n', '\n'),
    inform,
    status: statusLine,
    fields: fc.array(field, { maxLength: 4 }),
    framed,
    connection: fc.constantFrom('', '', 'Connection: close\r\n', 'Connection: keep-alive\r\n'),
    lineEnd: fc.oneof({ weight: 12, arbitrary: fc.constant('\r\n') }, { weight: 1, arbitrary: fc.constantFrom('\n', '\r') }),
    method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST'),
    close: fc.boolean(),
  })
  .map(r => ({
    text: `${r.lead}${r.inform}${r.status}\r\n${r.connection}${r.fields.map(f => `${f}${r.lineEnd}`).join('')}${r.framed.fields}\r\n${r.method === 'HEAD' ? '' : r.framed.body}`,
    run: { methods: [r.method], close: r.close },
  }));

/** A generated response, with one byte replaced, inserted or deleted somewhere. */
const mutated = fc.tuple(response, fc.nat(), fc.constantFrom('replace', 'insert', 'delete'), odd).map(([r, at, how, with_]) => {
  const i = at % (r.text.length + 1);
  const text = how === 'delete' ? r.text.slice(0, i) + r.text.slice(i + 1) : r.text.slice(0, i) + with_ + r.text.slice(how === 'replace' ? i + 1 : i);
  return { text, run: r.run };
});

describe('HTTP/1.1 parser vs llhttp: generated responses (fast-check)', () => {
  const runs = Number(process.env.HTTP1_FUZZ_RUNS ?? 1500);
  const verdicts = { accepted: 0, refused: 0, stricter: 0, closes: 0 };

  it.each([
    ['generated responses', response],
    ['generated responses with one byte mutated', mutated],
  ] as const)('%s: the same verdict, head, body, trailers and keep-alive, whole and byte by byte', (_name, arbitrary) => {
    fc.assert(
      fc.property(arbitrary, ({ text, run }) => {
        const { rx, ll, differs } = compare(text, run);
        if (differs === 'unexplained') expect({ text, rx }).toEqual({ text, rx: ll });
        if (differs === 'stricter' || differs === 'closes') verdicts[differs]++;
        else if (rx.some(e => e[0] === 'error')) verdicts.refused++;
        else verdicts.accepted++;
      }),
      { seed: 11, numRuns: runs },
    );
  });

  it('exercised both sides: many accepted, many refused', () => {
    // Two properties of `runs` each.
    expect(verdicts.accepted, JSON.stringify(verdicts)).toBeGreaterThan(runs / 3);
    expect(verdicts.refused, JSON.stringify(verdicts)).toBeGreaterThan(runs / 2);
    expect(verdicts.stricter + verdicts.closes, JSON.stringify(verdicts)).toBeGreaterThan(0);
  });

  it('random splits give the same events as one read (fast-check)', () => {
    fc.assert(
      fc.property(fc.oneof(response, mutated), fc.array(fc.nat(), { maxLength: 6 }), ({ text, run }, cuts) => {
        const b = bytes(text);
        const at = [...new Set(cuts.map(c => c % (b.length + 1)))].sort((x, y) => x - y);
        const chunks = [0, ...at].map((start, k, all) => b.subarray(start, all[k + 1] ?? b.length));
        expect(outcome(rxParse(chunks, run))).toEqual(outcome(rxParse([b], run)));
      }),
      { seed: 12, numRuns: runs },
    );
  });
});
