/**
 * The streaming core of the s3-records connector, independent of S3: it reads one log object's
 * bytes (gzip or not), frames records over Buffers, prefilters raw bytes with one multi-pattern
 * automaton for all subjects, parses only candidate records, and matches their fields exactly.
 * The same pass can rewrite the object: every record the caller does not remove or replace is
 * copied byte for byte (terminators and a missing final newline included), while a SHA-256 and
 * counts of the output are computed for verification.
 */
import { createHash } from 'node:crypto';
import { sha256Hex } from '../core/hash';
import type { RecordMatches } from '../core/matching';
import { PatternHits } from '../core/multi-pattern';
import { RecordSpans, csvFramer, isBlank, looksLikeJsonObject, parseCsvRecord } from '../core/record-framing';
import { decode, UnreadableObjectError, WHOLE_STORED_BYTES } from './s3-records-decode';
import { identifierTokens } from './s3-records-malformed';
import { parseRecord, shiftSpans } from './s3-records-parse';

export { SourceReadError, UnreadableObjectError, type Compression, type UnreadableReason } from './s3-records-decode';
export type { MatchedRecord, RecordDecision, RecordStreamOptions, RetainedBody, RetainedRecord, RewriteCounts, StreamCounts } from './s3-records-types';
import type { MatchedRecord, RecordDecision, RecordStreamOptions, RewriteCounts } from './s3-records-types';

/** SHA-256 of no bytes: the output hash of a pass that writes nothing. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const LF = 0x0a;
const CR = 0x0d;

/**
 * Reads every record of `body`. For each record that matches a subject, `onMatch` is called;
 * when `rewrite` is given, its decision shapes the output, which goes to `rewrite.write` as
 * decompressed bytes (the caller compresses and uploads).
 */
export async function processRecords(
  body: AsyncIterable<Uint8Array>,
  opts: RecordStreamOptions,
  onMatch: (record: MatchedRecord) => RecordDecision | void,
  rewrite?: { write: (chunk: Buffer, gzip: boolean) => Promise<void> | void },
): Promise<RewriteCounts> {
  const { matcher, format } = opts;
  // Only CSV needs a framer and span arrays (JSON Lines are framed inline).
  const framer = format === 'csv' ? csvFramer() : undefined;
  const spans = format === 'csv' ? new RecordSpans() : undefined;
  const hits = new PatternHits();
  const linePatterns: number[] = [];
  const state = { gzip: false };
  const hash = rewrite ? createHash('sha256') : undefined;
  const counts: RewriteCounts = {
    bytes: 0,
    records: 0,
    blank: 0,
    malformed: 0,
    malformedCandidates: 0,
    malformedMatched: 0,
    candidates: 0,
    matched: 0,
    gzip: false,
    kept: 0,
    removed: 0,
    replaced: 0,
    malformedReplaced: 0,
    outputSha256: '',
    outputBytes: 0,
  };
  let header: string[] | undefined;
  let firstRecord = true;
  const patterns = !matcher.empty;

  const emit = async (chunk: Buffer): Promise<void> => {
    if (!rewrite || chunk.length === 0) return;
    hash?.update(chunk);
    counts.outputBytes += chunk.length;
    await rewrite.write(chunk, state.gzip);
  };

  // Per region: the prefilter's hits, the next backslash, and where the current run of kept
  // bytes started (for the rewrite).
  let buf: Buffer = Buffer.alloc(0);
  let consumed = 0;
  let h = 0;
  let backslash = -1;
  let runStart = 0;
  // Where the current region starts in the decompressed body (what a retained record's place counts from).
  let regionBase = 0;
  const retain = opts.retain;

  /** Whether the record `record` last handled was malformed. */
  let lastMalformed = false;

  /**
   * Any record that is not the plain, untouched common case: the full treatment. Synchronous
   * (most candidates are kept, and a promise per record was measurable at K = 10,000): it
   * returns the caller's decision only when the record is removed or replaced.
   */
  const record = (s: number, ce: number, e: number, framedMalformed: boolean): Exclude<RecordDecision, { kind: 'keep' }> | undefined => {
    counts.records++;
    const index = counts.records;
    while (h < hits.n && hits.ends[h] < s) h++;
    // The patterns found in this record, so that its candidates need no second scan.
    linePatterns.length = 0;
    for (; h < hits.n && hits.ends[h] < e; h++) linePatterns.push(hits.patterns[h]);
    const rawHit = linePatterns.length > 0;
    let escapeMayHide = false;
    if (backslash >= 0 && backslash < e) {
      // Most escapes (`\"` in SIP display names) stand for no character of any value: the
      // line needs no second look, and no rescan, unless one does.
      if (backslash >= s) escapeMayHide = matcher.escapeMayHideValue(buf, backslash, ce);
      backslash = buf.indexOf(0x5c, e);
      if (backslash >= consumed) backslash = -1;
    }
    const candidate = rawHit || escapeMayHide;
    if (isBlank(buf, s, ce)) {
      counts.blank++;
      counts.kept++;
      firstRecord = false;
      return undefined;
    }
    let malformed = framedMalformed || (format === 'jsonl' && !looksLikeJsonObject(buf, s, ce));
    let decision: RecordDecision | void = undefined;
    const ids = candidate ? matcher.candidates(buf, s, ce, { patterns: linePatterns, escapeMayHide }) : undefined;
    if (ids && ids.size > 0) {
      counts.candidates++;
      const parsed = malformed ? null : parseRecord(buf, s, ce, format, header, firstRecord);
      if (!parsed) {
        malformed = true;
        counts.malformedCandidates++;
        const tokens = identifierTokens(matcher, buf, s, ce);
        if (tokens.length > 0) {
          counts.malformedMatched++;
          const matches: RecordMatches = new Map();
          for (const t of tokens) for (const ref of t.subjects) matches.set(ref, []);
          const bytes = Buffer.from(buf.subarray(s, ce));
          const m: MatchedRecord = { index, bytes, fingerprint: sha256Hex(bytes), record: {}, matches, malformed: { tokens } };
          if (retain && !retain.overflow) retain.records.push({ start: regionBase + s, contentEnd: regionBase + ce, end: regionBase + e, record: m });
          decision = onMatch(m);
        }
      } else {
        const matches = matcher.match(parsed.get, ids);
        if (matches.size > 0) {
          counts.matched++;
          const bytes = Buffer.from(buf.subarray(s, ce));
          const m: MatchedRecord = {
            index,
            bytes,
            fingerprint: sha256Hex(bytes),
            record: parsed.record,
            matches,
            csv: parsed.csv && header ? { header, fields: shiftSpans(parsed.csv, s) } : undefined,
          };
          if (retain && !retain.overflow) retain.records.push({ start: regionBase + s, contentEnd: regionBase + ce, end: regionBase + e, record: m });
          decision = onMatch(m);
        }
      }
    }
    if (malformed) counts.malformed++;
    firstRecord = false;
    lastMalformed = malformed;
    if (!decision || decision.kind === 'keep') {
      counts.kept++;
      return undefined;
    }
    return decision;
  };

  /** Writes the kept run before a removed or replaced record [s, e), and its replacement. */
  const edit = async (s: number, ce: number, e: number, decision: Exclude<RecordDecision, { kind: 'keep' }>): Promise<void> => {
    await emit(buf.subarray(runStart, s));
    if (decision.kind === 'remove') {
      counts.removed++;
    } else {
      counts.replaced++;
      if (lastMalformed) counts.malformedReplaced++;
      await emit(Buffer.concat([decision.bytes, buf.subarray(ce, e)]));
    }
    runStart = e;
  };

  /**
   * Frames, prefilters and handles the complete records of `region`; returns how many bytes it
   * consumed (the rest is an incomplete record, unless `final`). Most records hold no pattern,
   * no escape and no oddity: they are only counted, without a call per record.
   */
  const region = async (region: Buffer, final: boolean): Promise<number> => {
    buf = region;
    if (format === 'jsonl') {
      consumed = final ? buf.length : buf.lastIndexOf(LF) + 1;
    } else {
      spans!.clear();
      consumed = framer!.frame(buf, 0, final, spans!);
    }
    if (consumed === 0) return 0;
    hits.clear();
    if (patterns) matcher.prefilter.scanHits(buf, 0, consumed, hits);
    // JSON escapes can hide a value from the raw prefilter: lines with a backslash get a second look.
    backslash = format === 'jsonl' && patterns ? buf.indexOf(0x5c) : -1;
    if (backslash >= consumed) backslash = -1;
    h = 0;
    runStart = 0;
    if (format === 'jsonl') {
      let p = 0;
      while (p < consumed) {
        const nl = buf.indexOf(LF, p);
        const last = nl < 0 || nl >= consumed;
        const e = last ? consumed : nl + 1;
        const ce = last ? consumed : nl > p && buf[nl - 1] === CR ? nl - 1 : nl;
        // The common case: `{...}` with no prefilter hit and no backslash.
        if ((h >= hits.n || hits.ends[h] >= e) && (backslash < 0 || backslash >= e) && ce - p >= 2 && buf[p] === 0x7b && buf[ce - 1] === 0x7d) {
          counts.records++;
          counts.kept++;
          firstRecord = false;
        } else {
          const d = record(p, ce, e, false);
          if (d) await edit(p, ce, e, d);
        }
        p = e;
      }
    } else {
      const sp = spans!;
      for (let r = 0; r < sp.count; r++) {
        const s = sp.starts[r];
        const ce = sp.contentEnds[r];
        const e = sp.ends[r];
        if (header === undefined) {
          const parsed = sp.malformed[r] ? null : parseCsvRecord(buf, s, ce);
          if (!parsed) throw new UnreadableObjectError('csv-header');
          header = parsed.values;
          // A UTF-8 byte order mark is not part of the first column's name.
          if (header.length > 0 && header[0].startsWith('\uFEFF')) header[0] = header[0].slice(1);
          firstRecord = false;
          continue; // the header is kept as it is
        }
        while (h < hits.n && hits.ends[h] < s) h++;
        // The common case: a well-framed, non-blank record with no prefilter hit.
        const c = buf[s];
        if ((h >= hits.n || hits.ends[h] >= e) && sp.malformed[r] === 0 && ce > s && c !== 0x20 && c !== 0x09 && c !== CR) {
          counts.records++;
          counts.kept++;
          firstRecord = false;
        } else {
          const d = record(s, ce, e, sp.malformed[r] === 1);
          if (d) await edit(s, ce, e, d);
        }
      }
    }
    await emit(buf.subarray(runStart, consumed));
    regionBase += consumed;
    return consumed;
  };

  // The incomplete record at the end of what was framed so far, as the chunks that hold it: a
  // record longer than a chunk is joined once when it is complete, not once per chunk (that made
  // time and memory grow with the square of the record's length).
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // CSV cannot tell where a record ends without framing it from its start (quotes): it is framed
  // again only once the pending bytes have doubled, so a long record is framed O(1) times per byte.
  let frameAgainAt = 0;
  for await (const chunk of decode(body, opts.compression, opts.wholeObjectBytes ?? WHOLE_STORED_BYTES, state)) {
    counts.bytes += chunk.length;
    if (retain && !retain.overflow) {
      if (retain.limit !== undefined && counts.bytes > retain.limit) {
        retain.overflow = true;
        retain.chunks.length = 0;
        retain.records.length = 0;
      } else retain.chunks.push(chunk);
    }
    let buf = chunk;
    if (pendingBytes > 0) {
      // JSON Lines: a pending line ends at the chunk's first newline; only that line is joined.
      const nl = format === 'jsonl' ? chunk.indexOf(LF) : -1;
      if ((format === 'jsonl' && nl < 0) || (format === 'csv' && pendingBytes + chunk.length < frameAgainAt)) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        continue;
      }
      if (nl >= 0) {
        pending.push(chunk.subarray(0, nl + 1));
        await region(Buffer.concat(pending, pendingBytes + nl + 1), false);
        buf = chunk.subarray(nl + 1);
      } else {
        pending.push(chunk);
        buf = Buffer.concat(pending, pendingBytes + chunk.length);
      }
      pending = [];
      pendingBytes = 0;
    }
    const consumed = await region(buf, false);
    if (consumed < buf.length) {
      pending = [Buffer.from(buf.subarray(consumed))];
      pendingBytes = buf.length - consumed;
      frameAgainAt = 2 * pendingBytes;
    }
  }
  if (pendingBytes > 0) await region(pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes), true);
  counts.gzip = state.gzip;
  counts.outputSha256 = hash ? hash.digest('hex') : EMPTY_SHA256;
  return counts;
}
