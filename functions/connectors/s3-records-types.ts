/**
 * The shapes the streaming core (s3-records-stream.ts) works in: a matched record as the caller
 * sees it, its decision, the options of a read, its counts, and what a scan keeps of an object
 * for a rewrite that does not read it again (s3-records-replay.ts).
 */
import type { RecordMatcher, RecordMatches } from '../core/matching';
import type { Compression } from './s3-records-decode';
import type { TokenSpan } from './s3-records-malformed';
import type { CsvFields } from '../core/record-framing';

export interface MatchedRecord {
  /** 1-based: the line (JSON Lines) or the data record after the header (CSV). */
  readonly index: number;
  /** The record's exact bytes, terminator excluded (a copy). */
  readonly bytes: Buffer;
  /** SHA-256 (hex) of `bytes`. */
  readonly fingerprint: string;
  /** The parsed record: a JSON object, or a CSV row as { column: value }. */
  readonly record: Record<string, unknown>;
  /** Per subject, the field paths that mention it. */
  readonly matches: RecordMatches;
  /** CSV only: the parsed fields and their raw spans within `bytes`. */
  readonly csv?: { readonly header: readonly string[]; readonly fields: CsvFields };
  /**
   * Set for a record that does not parse but holds subjects' identifiers as whole tokens (then
   * `record` is empty and `matches` names no field): where each token stands in `bytes`.
   */
  readonly malformed?: { readonly tokens: readonly TokenSpan[] };
}

export type RecordDecision = { readonly kind: 'keep' } | { readonly kind: 'remove' } | { readonly kind: 'replace'; readonly bytes: Buffer };

export interface RecordStreamOptions {
  readonly format: 'jsonl' | 'csv';
  readonly compression: Compression;
  readonly matcher: RecordMatcher;
  /**
   * Objects of at most this many stored bytes are read whole and scanned in one region; bigger
   * ones are streamed in bounded memory. Default 4 MiB; 0 streams everything (tests use it to
   * compare the two paths).
   */
  readonly wholeObjectBytes?: number;
  /**
   * When given, the scan keeps what a rewrite of the same bytes needs (the decompressed body and
   * every matched record with its place in it), so the rewrite reads, inflates and matches
   * nothing again (s3-records-replay.ts).
   */
  readonly retain?: RetainedBody;
}

/** A matched record and where it stands in the decompressed body: [start, contentEnd) its bytes, [contentEnd, end) its terminator. */
export interface RetainedRecord {
  readonly start: number;
  readonly contentEnd: number;
  readonly end: number;
  readonly record: MatchedRecord;
}

/** What a scan kept of one object for its rewrite: filled in by processRecords. */
export interface RetainedBody {
  /** The decompressed body, as decoded chunks (joined by the replay). */
  readonly chunks: Buffer[];
  readonly records: RetainedRecord[];
  /**
   * Decompressed bytes to keep at most: a bigger object is not kept (its chunks are let go as the
   * scan goes, `overflow` set), so a huge object streams in bounded memory as ever.
   */
  readonly limit?: number;
  overflow?: boolean;
}

export interface StreamCounts {
  /** Bytes after decompression. */
  bytes: number;
  /** Records, blank and malformed ones included (CSV: the header excluded). */
  records: number;
  blank: number;
  malformed: number;
  /** Malformed records in which the prefilter found an identifier: kept, but worth a look. */
  malformedCandidates: number;
  /** Malformed records holding a subject's identifier as a whole token: handed to `onMatch`. */
  malformedMatched: number;
  /** Records the prefilter let through to parsing. */
  candidates: number;
  /** Records matching at least one subject. */
  matched: number;
  /** Whether the object was gzip. */
  gzip: boolean;
}

export interface RewriteCounts extends StreamCounts {
  kept: number;
  removed: number;
  replaced: number;
  /** Of the replaced records, the malformed ones (their identifiers redacted in place). */
  malformedReplaced: number;
  /** SHA-256 (hex) of the decompressed output. */
  outputSha256: string;
  outputBytes: number;
}

