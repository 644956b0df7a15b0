/**
 * The streaming core of the s3-records connector, without S3: framing, prefilter, matching and
 * byte-exact rewriting over arbitrary chunkings of gzip and plain bodies.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { processRecords, UnreadableObjectError, type MatchedRecord, type RecordDecision } from '../../functions/connectors/s3-records-stream';
import { RecordMatcher, type RecordFieldSpec } from '../../functions/core/matching';
import { csvFramer, parseCsvRecord, RecordSpans } from '../../functions/core/record-framing';
import type { Identity } from '../../functions/connectors/types';

const SIP_FIELDS: RecordFieldSpec[] = [
  { path: 'from', identifier: 'phone', match: 'token' },
  { path: 'to', identifier: 'phone', match: 'token' },
  { path: 'sipUser', identifier: 'sipUsername', match: 'value' },
  { path: 'sourceIp', identifier: 'ip', match: 'value' },
  { path: 'userAgent.deviceId', identifier: 'deviceId', match: 'value' },
];
const APP_FIELDS: RecordFieldSpec[] = [
  { path: 'accountId', identifier: 'accountId', match: 'value' },
  { path: 'email', identifier: 'email', match: 'value' },
  { path: 'message', identifier: 'email', match: 'token' },
];

function chunked(buf: Buffer, cuts: number[]): AsyncIterable<Uint8Array> {
  const points = [...new Set(cuts.map((c) => Math.min(buf.length, Math.max(0, c))))].sort((a, b) => a - b);
  return (async function* () {
    let prev = 0;
    for (const p of [...points, buf.length]) {
      if (p > prev) yield new Uint8Array(buf.subarray(prev, p));
      prev = p;
    }
  })();
}

/** `wholeObjectBytes: 0` streams the object chunk by chunk; by default a small one is read whole. */
async function scan(
  body: Buffer,
  fields: RecordFieldSpec[],
  subjects: Map<string, Identity>,
  format: 'jsonl' | 'csv',
  cuts: number[] = [],
  compression: 'gzip' | 'none' | 'auto' = 'auto',
  wholeObjectBytes?: number,
) {
  const matcher = new RecordMatcher(fields, subjects, format);
  const matched: MatchedRecord[] = [];
  const counts = await processRecords(chunked(body, cuts), { format, compression, matcher, wholeObjectBytes }, (r) => void matched.push(r));
  return { counts, matched };
}

async function rewrite(
  body: Buffer,
  fields: RecordFieldSpec[],
  subjects: Map<string, Identity>,
  format: 'jsonl' | 'csv',
  decide: (r: MatchedRecord) => RecordDecision,
  cuts: number[] = [],
  wholeObjectBytes?: number,
) {
  const matcher = new RecordMatcher(fields, subjects, format);
  const out: Buffer[] = [];
  const counts = await processRecords(chunked(body, cuts), { format, compression: 'auto', matcher, wholeObjectBytes }, decide, { write: (c) => void out.push(Buffer.from(c)) });
  return { counts, output: Buffer.concat(out) };
}

const alice: Identity = { phone: ['+15145550101'], sipUsername: ['alice'], deviceId: ['dev-a1'], ip: ['10.0.0.1'] };
const bob: Identity = { phone: ['+15145550202'], email: ['bob@example.com'], accountId: ['cust-1'] };

const SIP_LINES = [
  '{"ts":"2026-11-01T10:00:00Z","from":"sip:+15145550101@pbx.voip.example","to":"sip:+15145559999@pbx.voip.example","sipUser":"alice"}',
  '{"ts":"2026-11-01T10:00:01Z","from":"sip:+151455501012@pbx.voip.example","to":"sip:+15145559999@pbx.voip.example","sipUser":"alice2"}',
  '',
  'this line is not JSON +15145550101',
  '{"ts":"2026-11-01T10:00:02Z","from":"sip:+15145550303@pbx","to":"sip:+15145550202@pbx","userAgent":{"deviceId":"dev-b9"}}',
  '{"ts":"2026-11-01T10:00:03Z","from":"sip:\\u002b15145550101@pbx","note":"escaped plus"}',
  '{"ts":"2026-11-01T10:00:04Z","sourceIp":"10.0.0.1","userAgent":{"deviceId":"dev-a1"}}',
  '{"ts":"2026-11-01T10:00:05Z","sourceIp":"10.0.0.10","userAgent":{"deviceId":"dev-a10"}}',
  '{"truncated":"sip:+15145550101@pbx',
];

describe('processRecords: JSON Lines', () => {
  const text = SIP_LINES.join('\r\n').replace('\r\n\r\n', '\n\n'); // mixed terminators, no final newline
  const body = Buffer.from(text);

  test('finds exactly the records of each subject, with fields, whatever the chunking and compression', async () => {
    const subjects = new Map([
      ['alice', alice],
      ['bob', bob],
    ]);
    const expected = [
      { index: 1, matches: { alice: ['from', 'sipUser'] } },
      { index: 5, matches: { bob: ['to'] } },
      { index: 6, matches: { alice: ['from'] } },
      { index: 7, matches: { alice: ['sourceIp', 'userAgent.deviceId'] } },
    ];
    const variants: Array<[Buffer, number[]]> = [
      [body, []],
      [body, [1, 2, 3, 50, 51, 200, 201, 202, 300, 301]],
      [body, Array.from({ length: body.length }, (_v, i) => i)],
      [gzipSync(body), []],
      [gzipSync(body), [1, 2, 10, 11]],
      [Buffer.concat([gzipSync(body.subarray(0, 100)), gzipSync(body.subarray(100))]), [5]], // two gzip members
    ];
    for (const [input, cuts] of variants) {
      const { counts, matched } = await scan(input, SIP_FIELDS, subjects, 'jsonl', cuts);
      const parsed = matched.filter((m) => !m.malformed);
      expect(parsed.map((m) => ({ index: m.index, matches: Object.fromEntries([...m.matches].map(([k, v]) => [k, [...v].sort()])) }))).toEqual(expected);
      expect(counts).toMatchObject({ records: 9, blank: 1, malformed: 2, matched: 4, bytes: body.length });
      expect(counts.malformedCandidates).toBe(2); // both malformed lines mention alice's number
      // ...as a whole token, so both are handed over too, with where the number stands.
      expect(matched.filter((m) => m.malformed).map((m) => [m.index, [...m.matches.keys()], m.malformed!.tokens.map((t) => m.bytes.subarray(t.start, t.end).toString())])).toEqual([
        [4, ['alice'], ['+15145550101']],
        [9, ['alice'], ['+15145550101']],
      ]);
      expect(counts.malformedMatched).toBe(2);
    }
  });

  test('a record fingerprint is the SHA-256 of its exact bytes, terminator excluded', async () => {
    const { matched } = await scan(body, SIP_FIELDS, new Map([['alice', alice]]), 'jsonl');
    const { createHash } = await import('node:crypto');
    expect(matched[0].bytes.toString()).toBe(SIP_LINES[0]);
    expect(matched[0].fingerprint).toBe(createHash('sha256').update(SIP_LINES[0]).digest('hex'));
  });

  test('rewriting removes only the chosen records and keeps every other byte, malformed lines included', async () => {
    for (const cuts of [[], [7, 8, 9, 130, 131, 400]]) {
      const { counts, output } = await rewrite(body, SIP_FIELDS, new Map([['alice', alice]]), 'jsonl', (r) => ({ kind: r.malformed ? 'keep' : 'remove' }), cuts);
      // lines 1, 6 and 7 (alice's) go; their terminators with them
      const lines = text.split(/(?<=\n)/);
      const want = lines.filter((_l, i) => ![0, 5, 6].includes(i)).join('');
      expect(output.toString()).toBe(want);
      expect(output.toString().endsWith('{"truncated":"sip:+15145550101@pbx')).toBe(true); // no final newline added
      expect(counts).toMatchObject({ records: 9, removed: 3, kept: 6, replaced: 0, malformed: 2, outputBytes: Buffer.byteLength(want) });
    }
  });

  test('a replaced record keeps its own terminator', async () => {
    const { output } = await rewrite(body, SIP_FIELDS, new Map([['bob', bob]]), 'jsonl', () => ({ kind: 'replace', bytes: Buffer.from('{"x":1}') }));
    expect(output.toString()).toBe(text.replace(SIP_LINES[4], '{"x":1}'));
  });

  test('values with JSON escapes, quotes, backslashes and non-ASCII are matched', async () => {
    const lines = [
      JSON.stringify({ sipUser: 'x"y' }),
      JSON.stringify({ sipUser: 'a\\b' }),
      '{"sipUser":"jos\\u00e9"}',
      '{"sipUser":"josé"}',
      '{"sipUser":"jos\\u00e9s"}',
      '{"sipUser":"\\ud83d\\ude00"}',
      '{"sipUser":"x\\"y2"}',
    ];
    const subjects = new Map<string, Identity>([
      ['q', { sipUsername: ['x"y'] }],
      ['b', { sipUsername: ['a\\b'] }],
      ['j', { sipUsername: ['josé'] }],
      ['e', { sipUsername: ['😀'] }],
    ]);
    const { matched } = await scan(Buffer.from(lines.join('\n')), SIP_FIELDS, subjects, 'jsonl');
    expect(matched.map((m) => [m.index, [...m.matches.keys()]])).toEqual([
      [1, ['q']],
      [2, ['b']],
      [3, ['j']],
      [4, ['j']],
      [6, ['e']],
    ]);
  });

  test('gzip problems are typed: corrupt, truncated, not gzip at all', async () => {
    const gz = gzipSync(body);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 20, 40);
    const m = new Map([['alice', alice]]);
    await expect(scan(corrupt, SIP_FIELDS, m, 'jsonl', [], 'gzip')).rejects.toMatchObject({ name: 'UnreadableObject', reason: 'corrupt-gzip' });
    await expect(scan(gz.subarray(0, gz.length - 10), SIP_FIELDS, m, 'jsonl', [], 'auto')).rejects.toBeInstanceOf(UnreadableObjectError);
    await expect(scan(body, SIP_FIELDS, m, 'jsonl', [], 'gzip')).rejects.toMatchObject({ reason: 'not-gzip' });
    // compression none reads gzip bytes as (malformed) text rather than failing
    const { counts } = await scan(gz, SIP_FIELDS, m, 'jsonl', [], 'none');
    expect(counts.gzip).toBe(false);
    expect(counts.matched).toBe(0);
  });

  test('an empty object has no records', async () => {
    const { counts } = await scan(Buffer.alloc(0), SIP_FIELDS, new Map([['alice', alice]]), 'jsonl', [], 'gzip');
    expect(counts.records).toBe(0);
    const streamed = await scan(Buffer.alloc(0), SIP_FIELDS, new Map([['alice', alice]]), 'jsonl', [], 'gzip', 0);
    expect(streamed.counts.records).toBe(0);
  });

  test('gzip problems are typed on the streamed path too', async () => {
    const gz = gzipSync(body);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 20, 40);
    const m = new Map([['alice', alice]]);
    await expect(scan(corrupt, SIP_FIELDS, m, 'jsonl', [7, 30], 'gzip', 0)).rejects.toMatchObject({ name: 'UnreadableObject', reason: 'corrupt-gzip' });
    await expect(scan(gz.subarray(0, gz.length - 10), SIP_FIELDS, m, 'jsonl', [5], 'auto', 0)).rejects.toBeInstanceOf(UnreadableObjectError);
    await expect(scan(body, SIP_FIELDS, m, 'jsonl', [1], 'gzip', 0)).rejects.toMatchObject({ reason: 'not-gzip' });
  });

  test('a UTF-8 byte order mark before the first record is not part of it (JSON Lines and CSV, whole or streamed)', async () => {
    const jsonl = Buffer.from('\uFEFF' + SIP_LINES[0] + '\r\n' + SIP_LINES[0] + '\n');
    const csv = Buffer.from('\uFEFFaccountId,email,message\ncust-1,x,y\n');
    for (const whole of [undefined, 0]) {
      const j = await scan(jsonl, SIP_FIELDS, new Map([['alice', alice]]), 'jsonl', [1, 2, 3], 'auto', whole);
      expect(j.matched.map((r) => r.index)).toEqual([1, 2]);
      expect(j.counts).toMatchObject({ records: 2, malformed: 0, matched: 2 });
      const c = await scan(csv, APP_FIELDS, new Map([['bob', bob]]), 'csv', [2], 'auto', whole);
      expect(c.matched.map((r) => [r.index, [...r.matches.get('bob')!]])).toEqual([[1, ['accountId']]]);
    }
  });

  test('a gzip object of several members is read whole, every member included', async () => {
    const half = SIP_LINES.length >> 1;
    const a = Buffer.from(SIP_LINES.slice(0, half).join('\n') + '\n');
    const b = Buffer.from(SIP_LINES.slice(half).join('\n') + '\n');
    const m = new Map([['alice', alice]]);
    const members = await scan(Buffer.concat([gzipSync(a), gzipSync(b)]), SIP_FIELDS, m, 'jsonl');
    const single = await scan(gzipSync(Buffer.concat([a, b])), SIP_FIELDS, m, 'jsonl', [], 'auto', 0);
    expect(members.counts.records).toBe(SIP_LINES.length);
    expect(members.matched.map((r) => r.index)).toEqual(single.matched.map((r) => r.index));
    expect(members.counts).toEqual(single.counts);
  });

  test('a small object that decompresses past the whole-object cap (32 MiB) is streamed after all, with the same result', async () => {
    // Highly compressible: 64 KB stored, about 34 MB decoded.
    const block = Buffer.from(SIP_LINES.join('\n') + '\n');
    const big = Buffer.concat(Array.from({ length: Math.ceil((34 * 1024 * 1024) / block.length) }, () => block));
    const gz = gzipSync(big);
    expect(gz.length).toBeLessThan(4 * 1024 * 1024);
    const m = new Map([['alice', alice]]);
    const read = await scan(gz, SIP_FIELDS, m, 'jsonl');
    const small = await scan(gzipSync(block), SIP_FIELDS, m, 'jsonl');
    const copies = big.length / block.length;
    expect(read.counts.bytes).toBe(big.length);
    expect(read.counts.records).toBe(small.counts.records * copies);
    expect(read.counts.matched).toBe(small.counts.matched * copies);
    expect(read.matched.at(-1)!.index).toBe(small.counts.records * (copies - 1) + small.matched.at(-1)!.index);
  });
});

describe('processRecords: CSV', () => {
  const rows = [
    ['timestamp', 'accountId', 'email', 'clientIp', 'message'],
    ['2026-11-01T10:00:00Z', 'cust-1', 'bob@example.com', '10.1.1.1', 'login ok'],
    ['2026-11-01T10:00:01Z', 'cust-10', 'bobby@example.com', '10.1.1.2', 'login ok'],
    ['2026-11-01T10:00:02Z', 'cust-7', 'carol@example.com', '10.1.1.3', 'password reset sent to bob@example.com,\nthen "confirmed"'],
    ['2026-11-01T10:00:03Z', 'cust-7', 'carol@example.com', '10.1.1.3', 'mail from alice.bob@example.com rejected'],
    ['2026-11-01T10:00:04Z', 'cust-8', 'dan@example.com', '10.1.1.4', 'x'],
  ];
  const text = stringifyCsv(rows, { record_delimiter: 'windows' });

  test('header row names the columns; quoted fields with commas, quotes and newlines', async () => {
    for (const cuts of [[], [3, 60, 61, 150, 151, 152, 200], Array.from({ length: text.length }, (_v, i) => i)]) {
      const { counts, matched } = await scan(Buffer.from(text), APP_FIELDS, new Map([['bob', bob]]), 'csv', cuts);
      expect(matched.map((m) => [m.index, m.matches.get('bob')])).toEqual([
        [1, ['accountId', 'email']],
        [3, ['message']],
      ]);
      expect(matched[1].record).toEqual(Object.fromEntries(rows[0].map((c, i) => [c, rows[3][i]])));
      expect(counts).toMatchObject({ records: 5, malformed: 0 });
    }
  });

  test('rewrite keeps the header and every other record byte for byte', async () => {
    const { output, counts } = await rewrite(Buffer.from(text), APP_FIELDS, new Map([['bob', bob]]), 'csv', () => ({ kind: 'remove' }));
    expect(output.toString()).toBe(stringifyCsv([rows[0], rows[2], rows[4], rows[5]], { record_delimiter: 'windows' }));
    expect(counts).toMatchObject({ records: 5, removed: 2, kept: 3 });
  });

  test('an unclosed quote makes one malformed line, not the rest of the object', async () => {
    const broken = 'h1,message\r\na,"never closed bob@example.com\r\nb,bob@example.com\r\nc,ok\r\n';
    const fields: RecordFieldSpec[] = [{ path: 'message', identifier: 'email', match: 'token' }];
    const { counts, matched } = await scan(Buffer.from(broken), fields, new Map([['bob', bob]]), 'csv');
    expect(matched.filter((m) => !m.malformed).map((m) => m.index)).toEqual([2]);
    // The malformed line still holds bob's address as a token: handed over as malformed.
    expect(matched.filter((m) => m.malformed).map((m) => m.index)).toEqual([1]);
    expect(counts).toMatchObject({ records: 3, malformed: 1, malformedCandidates: 1, malformedMatched: 1 });
  });

  test('framing and parsing agree with csv-parse on random RFC 4180 data', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r\n', ' ', 'é', '1'), maxLength: 8 });
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }), fc.boolean(), (data, crlf) => {
        const csv = Buffer.from(stringifyCsv(data, { record_delimiter: crlf ? 'windows' : 'unix', quoted_match: /[\r\n]/ }));
        const spans = new RecordSpans();
        const end = csvFramer().frame(csv, 0, true, spans);
        expect(end).toBe(csv.length);
        const mine: string[][] = [];
        for (let r = 0; r < spans.count; r++) {
          expect(spans.malformed[r]).toBe(0);
          mine.push((parseCsvRecord(csv, spans.starts[r], spans.contentEnds[r]) as { values: string[] }).values);
        }
        const theirs = parseCsv(csv, { relax_column_count: true }) as string[][];
        expect(mine).toEqual(theirs);
      }),
      { numRuns: 500 },
    );
  });
});

describe('processRecords: chunking, and reading whole or streamed, never change the result (fast-check)', () => {
  test('random JSON Lines with near misses, random chunk boundaries, gzip or not', async () => {
    const line = fc.oneof(
      fc.constantFrom(...SIP_LINES),
      fc.record({ from: fc.constantFrom('sip:+15145550101@x', 'sip:+15145550102@x', '+15145550101', 'x'), sipUser: fc.constantFrom('alice', 'alice.', 'bob') }).map((o) => JSON.stringify(o)),
      fc.string({ maxLength: 20 }).filter((s) => !s.includes('\n')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 30 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), fc.boolean(), async (lines, eol, finalEol, cuts, gz, streamed) => {
        const text = lines.join(eol) + (finalEol && lines.length > 0 ? eol : '');
        const raw = Buffer.from(text);
        const input = gz ? gzipSync(raw) : raw;
        const subjects = new Map([['alice', alice]]);
        const whole = await scan(input, SIP_FIELDS, subjects, 'jsonl');
        const parts = await scan(input, SIP_FIELDS, subjects, 'jsonl', cuts.map((c) => c % (input.length + 1)), 'auto', 0);
        expect(parts.matched.map((m) => [m.index, m.fingerprint])).toEqual(whole.matched.map((m) => [m.index, m.fingerprint]));
        expect(parts.counts).toEqual(whole.counts);
        // removing the matches leaves exactly the other lines, terminators and all
        const { output } = await rewrite(input, SIP_FIELDS, subjects, 'jsonl', () => ({ kind: 'remove' }), cuts.map((c) => c % (input.length + 1)), streamed ? 0 : undefined);
        const removed = new Set(whole.matched.map((m) => m.index - 1));
        const physical = text.split(/(?<=\n)/).filter((l) => l !== '');
        expect(output.toString()).toBe(physical.filter((_l, i) => !removed.has(i)).join(''));
      }),
      { numRuns: 200 },
    );
  });

  test('random CSV with quoted multi-line fields, random chunk boundaries', async () => {
    const cell = fc.oneof(
      fc.constantFrom('bob@example.com', 'alice.bob@example.com', 'cust-1', 'cust-10', 'to bob@example.com,\r\nok', '"bob@example.com"'),
      fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r\n', ' ', 'b', '@'), maxLength: 6 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(cell, cell, cell), { maxLength: 12 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 10 }), async (rows, crlf, cuts) => {
        const text = stringifyCsv([['accountId', 'email', 'message'], ...rows], { record_delimiter: crlf ? 'windows' : 'unix', quoted_match: /[\r\n]/ });
        const input = Buffer.from(text);
        const subjects = new Map([['bob', bob]]);
        const whole = await scan(input, APP_FIELDS, subjects, 'csv');
        const parts = await scan(input, APP_FIELDS, subjects, 'csv', cuts.map((c) => c % (input.length + 1)), 'auto', 0);
        expect(parts.matched.map((m) => [m.index, m.fingerprint])).toEqual(whole.matched.map((m) => [m.index, m.fingerprint]));
        expect(parts.counts).toEqual(whole.counts);
        expect(whole.counts.records).toBe(rows.length);
        // the matches are exactly the rows a direct check finds
        const direct = rows
          .map((r, i) => [i + 1, r[0] === 'cust-1' || r[1] === 'bob@example.com' || (/(^|[^A-Za-z0-9._%+@-])bob@example\.com($|[^A-Za-z0-9._%+@-])/.test(r[2]))] as const)
          .filter(([, m]) => m)
          .map(([i]) => i);
        expect(whole.matched.map((m) => m.index)).toEqual(direct);
        const { output } = await rewrite(input, APP_FIELDS, subjects, 'csv', () => ({ kind: 'remove' }), cuts.map((c) => c % (input.length + 1)), 0);
        const removed = new Set(direct);
        expect(output.toString()).toBe(stringifyCsv([['accountId', 'email', 'message'], ...rows.filter((_r, i) => !removed.has(i + 1))], { record_delimiter: crlf ? 'windows' : 'unix', quoted_match: /[\r\n]/ }));
      }),
      { numRuns: 200 },
    );
  });
});
