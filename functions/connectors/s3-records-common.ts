/**
 * What every part of the s3-records connector shares: its options, the result shapes of the
 * batch scan and erasure, the key hash logs carry instead of keys, and small helpers. The parts
 * are separate modules (listing and reading, staging, replace, version deletion, redaction) so
 * the batched log pass can call each alone; this module holds what they have in common.
 */
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { S3RecordsStore } from '../core/datamap';
import { DataMapError, StoreUnavailableError } from '../core/errors';
import { sha256Hex } from '../core/hash';
import type { RecordFieldSpec } from '../core/matching';
import { s3Code } from './s3-shared';
import type { RewriteCounts, UnreadableReason } from './s3-records-stream';
import type { Finding, RefusalReason } from './types';

export interface S3RecordsOptions {
  /** Objects scanned or rewritten at the same time. Default 4. */
  readonly concurrency?: number;
  /** Rewrites of one object before ConcurrentModificationError. Default 3. */
  readonly maxAttempts?: number;
  /** gzip level of rewritten objects where the store does not set `gzipLevel`. Default 6 (zlib's default). */
  readonly gzipLevel?: number;
  /** Multipart part size for staged uploads and large copies. Default 16 MiB. */
  readonly partSize?: number;
  /** Objects at least this big are replaced with a multipart copy (CopyObject stops at 5 GiB). */
  readonly multipartCopyThreshold?: number;
  /** Where rewritten bodies are staged, in the store's bucket; never scanned. Default `.dsr-rewrite/`. */
  readonly stagingPrefix?: string;
  /** MaxKeys of each ListObjectVersions page of the store; absent: S3's 1000. */
  readonly pageSize?: number;
  /**
   * The batched pass erases a work unit in rounds: it scans about this many decompressed bytes
   * of objects (estimated from stored sizes, gzip taken as 10x), decides, and rewrites the
   * round's objects from what the scan kept of them, up to this many bytes (past that a
   * rewrite reads its object again). 0 keeps nothing: every rewrite reads again. Default 384 MiB.
   */
  readonly roundBytes?: number;
  /** Test hook: called after the staged body is verified, just before the conditional replace. */
  readonly beforeReplace?: (info: { readonly key: string; readonly attempt: number }) => Promise<void>;
}

const DEFAULTS = {
  concurrency: 4,
  maxAttempts: 3,
  gzipLevel: 6,
  partSize: 16 * 1024 * 1024,
  multipartCopyThreshold: 5 * 1024 * 1024 * 1024,
  stagingPrefix: '.dsr-rewrite/',
  roundBytes: 384 * 1024 * 1024,
};

/** The options with their defaults filled in: what every part of the connector is handed. */
export type S3RecordsSettings = typeof DEFAULTS & Pick<S3RecordsOptions, 'beforeReplace' | 'pageSize'>;

export function settingsOf(options: S3RecordsOptions): S3RecordsSettings {
  const opt = { ...DEFAULTS, ...options };
  if (!opt.stagingPrefix.endsWith('/') || opt.stagingPrefix === '/') throw new DataMapError('stagingPrefix must be a non-empty key prefix ending with "/"');
  return opt;
}

/** An object that could not be read as records: reported, counted, left untouched. */
export interface UnreadableObject {
  readonly key: string;
  /** Safe for logs and history. */
  readonly keyHash: string;
  readonly reason: UnreadableReason;
}

export interface ScanTotals {
  objects: number;
  /** Bytes as stored (compressed). */
  storedBytes: number;
  /** Bytes after decompression. */
  bytes: number;
  records: number;
  malformed: number;
  malformedCandidates: number;
  candidates: number;
  matched: number;
}

export interface StoreScanResult {
  /** Per subject reference: one finding per matching record. */
  readonly findings: Map<string, Finding[]>;
  readonly unreadable: UnreadableObject[];
  readonly totals: ScanTotals;
}

export interface StoreEraseResult {
  /** Objects rewritten (replaced by a verified new version). */
  readonly rewritten: number;
  /** Noncurrent versions holding the subjects' records, deleted whole (they cannot be rewritten). */
  readonly versionsDeleted: number;
  /** Records removed (delete-record) or redacted (redact), per subject reference. */
  readonly erased: Map<string, number>;
  readonly redacted: number;
  readonly removed: number;
  readonly malformedKept: number;
  /** Objects or versions S3 protects: untouched, with the reason. */
  readonly refused: ReadonlyArray<{ readonly key: string; readonly keyHash: string; readonly reason: RefusalReason }>;
  readonly unreadable: UnreadableObject[];
  readonly totals: ScanTotals;
}

/** The subject reference of a single-subject call (discover, apply, export). */
export const ONE = 'subject';

/** What logs, history and batch outcomes carry instead of a key: a short SHA-256 of bucket and key. */
export function keyHash(bucket: string, key: string): string {
  return sha256Hex(`${bucket}/${key}`).slice(0, 16);
}

export function fieldSpecs(store: S3RecordsStore): RecordFieldSpec[] {
  return store.fields.map((f) => ({ path: f.path, identifier: f.identifier, match: f.match }));
}

export function newTotals(): ScanTotals {
  return { objects: 0, storedBytes: 0, bytes: 0, records: 0, malformed: 0, malformedCandidates: 0, candidates: 0, matched: 0 };
}

export function addCounts(t: ScanTotals, c: RewriteCounts, storedBytes: number): void {
  t.objects++;
  t.storedBytes += storedBytes;
  t.bytes += c.bytes;
  t.records += c.records;
  t.malformed += c.malformed;
  t.malformedCandidates += c.malformedCandidates;
  t.candidates += c.candidates;
  t.matched += c.matched;
}

/** Runs `fn` over `items`, at most `limit` at once; the first failure stops taking new items. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** An S3 failure of the store, typed for the retry policy, with the S3 code and never a key. */
export function unavailable(store: S3RecordsStore, what: string, err: unknown): StoreUnavailableError {
  return new StoreUnavailableError(store.name, `${what} failed (${s3Code(err) ?? 'error'})`, { cause: err });
}

export function bodyOf(out: GetObjectCommandOutput): Readable {
  return out.Body as Readable;
}

export function checkStore(store: S3RecordsStore): void {
  if (store.kind !== 's3-records') throw new DataMapError(`store ${store.name} is not an s3-records store`);
}
