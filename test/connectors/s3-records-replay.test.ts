/**
 * The rewrite from a scan's own read (s3-records-replay.ts) against the rewrite that reads the
 * object again (processRecords with a decision): for any body, chunking, format and mix of
 * decisions, the same output bytes and the same counts, hash included. The batched log pass
 * relies on it to rewrite each object without a second read.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { replayRecords, RoundArena, SLAB_BYTES } from '../../functions/connectors/s3-records-replay';
import { processRecords, type MatchedRecord, type RecordDecision, type RetainedBody } from '../../functions/connectors/s3-records-stream';
import type { Identity } from '../../functions/connectors/types';
import { RecordMatcher, type RecordFieldSpec } from '../../functions/core/matching';

const SIP_FIELDS: RecordFieldSpec[] = [
  { path: 'from', identifier: 'phone', match: 'token' },
  { path: 'sipUser', identifier: 'sipUsername', match: 'value' },
];
const APP_FIELDS: RecordFieldSpec[] = [
  { path: 'accountId', identifier: 'accountId', match: 'value' },
  { path: 'email', identifier: 'email', match: 'value' },
  { path: 'message', identifier: 'email', match: 'token' },
];
const alice: Identity = { phone: ['+15145550101'], sipUsername: ['alice'] };
const bob: Identity = { email: ['bob@example.com'], accountId: ['cust-1'] };

function chunked(buf: Buffer, cuts: number[]): AsyncIterable<Uint8Array> {
  const points = [...new Set(cuts.map((c) => Math.min(buf.length, Math.max(0, c % (buf.length + 1)))))].sort((a, b) => a - b);
  return (async function* () {
    let prev = 0;
    for (const p of [...points, buf.length]) {
      if (p > prev) yield new Uint8Array(buf.subarray(prev, p));
      prev = p;
    }
  })();
}

/** A decision from the record's index and the test's choice list: keep, remove, or replace with a marker. */
function decider(choices: readonly number[]): (r: MatchedRecord) => RecordDecision {
  return (r) => {
    const c = choices.length === 0 ? 1 : choices[r.index % choices.length];
    if (c === 0) return { kind: 'keep' };
    if (c === 1) return { kind: 'remove' };
    return { kind: 'replace', bytes: Buffer.from(`{"redacted":${r.index}}`) };
  };
}

async function bothWays(input: Buffer, format: 'jsonl' | 'csv', fields: RecordFieldSpec[], subjects: Map<string, Identity>, cuts: number[], streamed: boolean, choices: number[]) {
  const matcher = new RecordMatcher(fields, subjects, format);
  const wholeObjectBytes = streamed ? 0 : undefined;
  const again: Buffer[] = [];
  const reread = await processRecords(chunked(input, cuts), { format, compression: 'auto', matcher, wholeObjectBytes }, decider(choices), { write: (c) => void again.push(Buffer.from(c)) });
  const retain: RetainedBody = { chunks: [], records: [] };
  const counts = await processRecords(chunked(input, cuts), { format, compression: 'auto', matcher, wholeObjectBytes, retain }, () => undefined);
  const replayed: Buffer[] = [];
  const replay = await replayRecords({ counts, body: retain }, decider(choices), (c, gzip) => {
    expect(gzip).toBe(reread.gzip);
    replayed.push(Buffer.from(c));
  });
  return { reread, replay, again: Buffer.concat(again), replayed: Buffer.concat(replayed), retained: retain.records.length };
}

describe('replayRecords gives what a second read gives (fast-check)', () => {
  test('JSON Lines: near misses, blank and truncated lines, CRLF, no final newline, gzip or not, whole or streamed', async () => {
    const line = fc.oneof(
      fc.constantFrom(
        '{"from":"sip:+15145550101@pbx","sipUser":"alice"}',
        '{"from":"sip:+151455501012@pbx","sipUser":"alice2"}',
        '',
        'not JSON +15145550101',
        '{"truncated":"sip:+15145550101@pbx',
        '{"from":"sip:\\u002b15145550101@pbx"}',
      ),
      fc.record({ from: fc.constantFrom('sip:+15145550101@x', '+1 (514) 555-0101', 'x'), sipUser: fc.constantFrom('alice', 'ALICE', 'bob') }).map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 40 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 5 }),
        async (lines, eol, finalEol, cuts, gz, streamed, choices) => {
          const raw = Buffer.from(lines.join(eol) + (finalEol && lines.length > 0 ? eol : ''));
          const r = await bothWays(gz ? gzipSync(raw) : raw, 'jsonl', SIP_FIELDS, new Map([['alice', alice]]), cuts, streamed, choices);
          expect(r.replayed.equals(r.again)).toBe(true);
          expect(r.replay).toEqual(r.reread);
          expect(r.retained).toBe(r.reread.matched + r.reread.malformedMatched);
        },
      ),
      { numRuns: 250 },
    );
  });

  test('CSV: quoted multi-line fields, CRLF, random chunk boundaries', async () => {
    const cell = fc.oneof(
      fc.constantFrom('bob@example.com', 'BOB@Example.com', 'cust-1', 'cust-10', 'to bob@example.com,\r\nok', '"bob@example.com"'),
      fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', ' ', '@'), maxLength: 6 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(cell, cell, cell), { maxLength: 15 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 5 }),
        async (rows, crlf, cuts, streamed, choices) => {
          const input = Buffer.from(stringifyCsv([['accountId', 'email', 'message'], ...rows], { record_delimiter: crlf ? 'windows' : 'unix', quoted_match: /[\r\n]/ }));
          const r = await bothWays(input, 'csv', APP_FIELDS, new Map([['bob', bob]]), cuts, streamed, choices);
          expect(r.replayed.equals(r.again)).toBe(true);
          expect(r.replay).toEqual(r.reread);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a body of many chunks (streamed, over 1 MiB) replays from its joined chunks', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(i % 97 === 0 ? `{"n":${i},"from":"sip:+15145550101@pbx"}` : `{"n":${i},"from":"sip:+15145559${String(i % 1000).padStart(3, '0')}@pbx"}`);
    const input = gzipSync(Buffer.from(lines.join('\n') + '\n'));
    const r = await bothWays(input, 'jsonl', SIP_FIELDS, new Map([['alice', alice]]), [], true, [1, 2, 0]);
    expect(r.reread.matched).toBe(Math.ceil(20_000 / 97));
    expect(r.reread.removed).toBeGreaterThan(0);
    expect(r.reread.replaced).toBeGreaterThan(0);
    expect(r.replayed.equals(r.again)).toBe(true);
    expect(r.replay).toEqual(r.reread);
  });
});

describe('RoundArena', () => {
  test('holds each body contiguously, unchanged by the bodies held after it in the same round; a body over a slab keeps its chunks', () => {
    const arena = new RoundArena();
    const part = Math.floor(SLAB_BYTES / 6.4);
    const bodies = [0, 1, 2, 3, 4].map((i) => [Buffer.alloc(part + i, 0x61 + i), Buffer.from(`tail-${i}`)]);
    const held = bodies.map((chunks) => arena.hold(chunks, chunks.reduce((n, c) => n + c.length, 0)));
    for (const [i, h] of held.entries()) {
      expect(h).toHaveLength(1);
      expect(h[0].equals(Buffer.concat(bodies[i]))).toBe(true);
    }
    // More than a slab: kept as it came.
    const big = [Buffer.alloc(SLAB_BYTES + 1, 0x7a)];
    expect(arena.hold(big, big[0].length)[0]).toBe(big[0]);
    // Seven such bodies need two slabs; the first five are still intact.
    const more = [5, 6].map((i) => [Buffer.alloc(part, 0x61 + i)]);
    const heldMore = more.map((chunks) => arena.hold(chunks, chunks[0].length));
    for (const [i, h] of held.entries()) expect(h[0].equals(Buffer.concat(bodies[i]))).toBe(true);
    for (const [i, h] of heldMore.entries()) expect(h[0].equals(more[i][0])).toBe(true);
    expect(heldMore[1][0].buffer).not.toBe(held[0][0].buffer);
    // After reset the next round writes over the first slab.
    arena.reset();
    const next = arena.hold([Buffer.from('next round')], 10);
    expect(next[0].toString()).toBe('next round');
    expect(next[0].buffer).toBe(held[0][0].buffer);
  });
});

describe('processRecords keeps an object only up to its limit', () => {
  test('a body over the limit is let go as the scan goes (overflow), and the scan counts as without keeping', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `{"n":${i},"from":"sip:+1514555${i % 7 === 0 ? '0101' : '9999'}@pbx"}`);
    const input = gzipSync(Buffer.from(lines.join('\n') + '\n'));
    const matcher = new RecordMatcher(SIP_FIELDS, new Map([['alice', alice]]), 'jsonl');
    const plain = await processRecords(chunked(input, []), { format: 'jsonl', compression: 'auto', matcher, wholeObjectBytes: 0 }, () => undefined);
    const over: RetainedBody = { chunks: [], records: [], limit: 10_000 };
    const counted = await processRecords(chunked(input, []), { format: 'jsonl', compression: 'auto', matcher, wholeObjectBytes: 0, retain: over }, () => undefined);
    expect(counted).toEqual(plain);
    expect(plain.bytes).toBeGreaterThan(10_000);
    expect({ overflow: over.overflow, chunks: over.chunks.length, records: over.records.length }).toEqual({ overflow: true, chunks: 0, records: 0 });
    const within: RetainedBody = { chunks: [], records: [], limit: plain.bytes };
    await processRecords(chunked(input, []), { format: 'jsonl', compression: 'auto', matcher, wholeObjectBytes: 0, retain: within }, () => undefined);
    expect(within.overflow).toBeUndefined();
    expect(within.records).toHaveLength(plain.matched);
    expect(Buffer.concat(within.chunks)).toHaveLength(plain.bytes);
  });
});
