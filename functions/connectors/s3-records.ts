/**
 * The `s3-records` connector: subjects' records inside log objects (JSON Lines or CSV, gzip or
 * not), found by exact identifier matching and erased by rewriting the objects.
 *
 * Discovery streams every object under the store's prefix once for a whole batch of subjects
 * (see s3-records-stream.ts for the scan), noncurrent versions included: an older copy of an
 * object, or one under a delete marker (a crash leftover, a lifecycle "delete" in a versioned
 * bucket), still holds its records. Erasure works the way S3 Find and Forget does:
 *   1. read the current version (remember its ETag) and stream a new body without the planned
 *      records (or with them redacted) to a staging key, every other byte copied as it was;
 *   2. verify the staged body by reading it back: same SHA-256 and record count as what was
 *      written, and none of the removed records in it;
 *   3. replace the original with a conditional copy (`If-Match: <ETag read in 1>`); when the
 *      object changed meanwhile, start again from 1 (bounded), so a record written meanwhile
 *      is never lost;
 *   4. delete every older version and delete marker of the key, since they still hold the
 *      erased records, except versions S3 Object Lock protects: those are refused, never
 *      bypassed, and reported.
 * A noncurrent version cannot be rewritten: one that holds records to erase is deleted whole,
 * and only when every record of the subject in it is planned to go (else it is refused with
 * `version-holds-retained-records` and goes when the retained records are due).
 * Logs carry hashes of keys, counts and sizes only.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCopyCommand,
  type GetObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { malformedDecision } from './s3-records-malformed';
import { preservedAttributes, type PreservedAttributes } from './s3-records-preserve';
import { versionPages } from '../aws/s3-version-pages';
import type { Anonymization, S3RecordsStore } from '../core/datamap';
import { ConcurrentModificationError, DataMapError, StoreUnavailableError, VerificationFailedError } from '../core/errors';
import { findingId, sha256Hex } from '../core/hash';
import { mapAtPath, RecordMatcher, redactMentions, type RecordFieldSpec, type RecordMatches } from '../core/matching';
import { formatCsvField } from '../core/record-framing';
import {
  processRecords,
  SourceReadError,
  UnreadableObjectError,
  type MatchedRecord,
  type RecordDecision,
  type RewriteCounts,
  type UnreadableReason,
} from './s3-records-stream';
import type {
  Action,
  Connector,
  ConnectorContext,
  ExportItem,
  Finding,
  Identity,
  PlannedAction,
  Protection,
  RefusalReason,
  S3RecordLocator,
} from './types';

export { UnreadableObjectError, type UnreadableReason } from './s3-records-stream';

export interface S3RecordsOptions {
  /** Objects scanned or rewritten at the same time. Default 4. */
  readonly concurrency?: number;
  /** Rewrites of one object before ConcurrentModificationError. Default 3. */
  readonly maxAttempts?: number;
  /** gzip level of rewritten objects. Default 6 (zlib's default). */
  readonly gzipLevel?: number;
  /** Multipart part size for staged uploads and large copies. Default 16 MiB. */
  readonly partSize?: number;
  /** Objects at least this big are replaced with a multipart copy (CopyObject stops at 5 GiB). */
  readonly multipartCopyThreshold?: number;
  /** Where rewritten bodies are staged, in the store's bucket; never scanned. Default `.dsr-rewrite/`. */
  readonly stagingPrefix?: string;
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
};

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

export type S3RecordsConnector = Connector<S3RecordsStore> & {
  scanStore(store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreScanResult>;
  eraseFromStore(store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreEraseResult>;
};

const ONE = 'subject';

function keyHash(bucket: string, key: string): string {
  return sha256Hex(`${bucket}/${key}`).slice(0, 16);
}

function fieldSpecs(store: S3RecordsStore): RecordFieldSpec[] {
  return store.fields.map((f) => ({ path: f.path, identifier: f.identifier, match: f.match }));
}

function newTotals(): ScanTotals {
  return { objects: 0, storedBytes: 0, bytes: 0, records: 0, malformed: 0, malformedCandidates: 0, candidates: 0, matched: 0 };
}

function addCounts(t: ScanTotals, c: RewriteCounts, storedBytes: number): void {
  t.objects++;
  t.storedBytes += storedBytes;
  t.bytes += c.bytes;
  t.records += c.records;
  t.malformed += c.malformed;
  t.malformedCandidates += c.malformedCandidates;
  t.candidates += c.candidates;
  t.matched += c.matched;
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
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

function s3Status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function s3Code(err: unknown): string | undefined {
  return (err as { name?: string; Code?: string })?.Code ?? (err as { name?: string })?.name;
}

function isNotFound(err: unknown): boolean {
  const code = s3Code(err);
  return code === 'NoSuchKey' || code === 'NotFound' || (s3Status(err) === 404 && code !== 'NoSuchBucket');
}

function isPreconditionFailed(err: unknown): boolean {
  return s3Status(err) === 412 || s3Code(err) === 'PreconditionFailed';
}

function unavailable(store: S3RecordsStore, what: string, err: unknown): StoreUnavailableError {
  return new StoreUnavailableError(store.name, `${what} failed (${s3Code(err) ?? 'error'})`, { cause: err });
}

function bodyOf(out: GetObjectCommandOutput): Readable {
  return out.Body as Readable;
}

function protectionOf(head: {
  ObjectLockLegalHoldStatus?: string;
  ObjectLockMode?: string;
  ObjectLockRetainUntilDate?: Date;
}): Protection | undefined {
  const legalHold = head.ObjectLockLegalHoldStatus === 'ON';
  const mode = head.ObjectLockMode;
  const retention =
    (mode === 'GOVERNANCE' || mode === 'COMPLIANCE') && head.ObjectLockRetainUntilDate
      ? { mode: mode as 'GOVERNANCE' | 'COMPLIANCE', retainUntil: new Date(head.ObjectLockRetainUntilDate).toISOString() }
      : undefined;
  if (!legalHold && !retention) return undefined;
  return retention ? { legalHold, retention } : { legalHold };
}

/** Why S3 will refuse to delete a version with this protection now, if it will. */
function refusalFor(p: Protection | undefined, now: Date): RefusalReason | undefined {
  if (!p) return undefined;
  if (p.legalHold) return 'legal-hold';
  if (p.retention && new Date(p.retention.retainUntil) > now) return p.retention.mode === 'COMPLIANCE' ? 'object-lock-compliance' : 'object-lock-governance';
  return undefined;
}

function retentionDate(record: Record<string, unknown>, dateField: string | undefined): string | undefined {
  if (!dateField) return undefined;
  for (const v of valuesAtPathRaw(record, dateField)) {
    let d: Date | undefined;
    if (typeof v === 'string' && v.trim() !== '') d = new Date(/^\d+$/.test(v.trim()) ? epoch(Number(v)) : v);
    else if (typeof v === 'number' && Number.isFinite(v)) d = new Date(epoch(v));
    if (d && !Number.isNaN(d.getTime())) return d.toISOString();
  }
  return undefined;
}

/** Epoch seconds or milliseconds (anything below 10^11 is taken as seconds: before 1973 in ms). */
function epoch(n: number): number {
  return Math.abs(n) < 1e11 ? n * 1000 : n;
}

function valuesAtPathRaw(record: Record<string, unknown>, path: string): unknown[] {
  const out: unknown[] = [];
  // The identity function leaves the record as it was.
  mapAtPath(record, path, (node) => {
    out.push(node);
    return node;
  });
  return out;
}

/** An object of the store: whether it has a current version, and its noncurrent versions. */
interface ListedObject {
  readonly key: string;
  /** The current version's size (0 when the current version is a delete marker). */
  size: number;
  /** False when a delete marker is the current version: only noncurrent versions remain. */
  current: boolean;
  readonly noncurrent: Array<{ readonly versionId: string; readonly size: number }>;
}

/**
 * The list of every version and delete marker of exactly `key`, newest first (by LastModified;
 * the SDK returns versions and delete markers as two lists).
 */
interface VersionEntry {
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly isLatest: boolean;
  readonly lastModified: number;
  /** Versions only (delete markers have none). */
  readonly etag?: string;
}

async function listVersions(s3: S3Client, bucket: string, key: string): Promise<VersionEntry[]> {
  const entries: VersionEntry[] = [];
  for await (const page of versionPages((command) => s3.send(command), { Bucket: bucket, Prefix: key })) {
    for (const v of page.Versions ?? []) {
      if (v.Key !== key) continue;
      entries.push({ versionId: v.VersionId ?? 'null', deleteMarker: false, isLatest: !!v.IsLatest, lastModified: v.LastModified?.getTime() ?? 0, etag: v.ETag });
    }
    for (const m of page.DeleteMarkers ?? []) {
      if (m.Key !== key) continue;
      entries.push({ versionId: m.VersionId ?? 'null', deleteMarker: true, isLatest: !!m.IsLatest, lastModified: m.LastModified?.getTime() ?? 0 });
    }
    // Past the key itself, every further key only shares the prefix.
    if (page.IsTruncated && page.NextKeyMarker !== undefined && page.NextKeyMarker !== key) break;
  }
  return entries.sort((a, b) => Number(b.isLatest) - Number(a.isLatest) || b.lastModified - a.lastModified);
}

async function deleteAllVersions(s3: S3Client, bucket: string, key: string): Promise<void> {
  for (const v of await listVersions(s3, bucket, key)) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v.versionId }));
  }
}

/**
 * A staged body older than this cannot belong to a rewrite still running (a handler runs at most
 * 15 minutes): it is what a crashed rewrite left.
 */
const STALE_STAGING_MS = 60 * 60 * 1000;

/** Every version and delete marker under `prefix` last modified before `before`. */
async function versionsBefore(s3: S3Client, bucket: string, prefix: string, before: Date): Promise<Array<{ key: string; versionId: string }>> {
  const out: Array<{ key: string; versionId: string }> = [];
  for await (const page of versionPages((command) => s3.send(command), { Bucket: bucket, Prefix: prefix })) {
    for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
      if (v.Key && v.Key.startsWith(prefix) && v.LastModified && v.LastModified < before) out.push({ key: v.Key, versionId: v.VersionId ?? 'null' });
    }
  }
  return out;
}

function copySource(bucket: string, key: string, versionId: string | undefined): string {
  const path = `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return versionId ? `${path}?versionId=${encodeURIComponent(versionId)}` : path;
}

/** What to do with one matching record during a rewrite. */
type Rewriter = (record: MatchedRecord) => RecordDecision;

interface RewriteOutcome {
  readonly status: 'rewritten' | 'unchanged' | 'missing' | 'refused' | 'unreadable';
  readonly counts?: RewriteCounts;
  readonly reason?: RefusalReason;
  readonly unreadable?: UnreadableReason;
  /** Versions left in place because S3 protects them, with the reason of the first. */
  readonly protectedOld?: RefusalReason;
  readonly etagChanged?: boolean;
}

export function createS3RecordsConnector(options: S3RecordsOptions = {}): S3RecordsConnector {
  const opt = { ...DEFAULTS, ...options };
  if (!opt.stagingPrefix.endsWith('/') || opt.stagingPrefix === '/') throw new DataMapError('stagingPrefix must be a non-empty key prefix ending with "/"');

  /**
   * Every object of the store, with its noncurrent versions: an older copy of a log object, or
   * one under a delete marker, still holds its records, so discovery reads them too.
   */
  async function listObjects(store: S3RecordsStore, ctx: ConnectorContext): Promise<ListedObject[]> {
    const byKey = new Map<string, ListedObject>();
    const entry = (key: string) => {
      let o = byKey.get(key);
      if (!o) byKey.set(key, (o = { key, size: 0, current: false, noncurrent: [] }));
      return o;
    };
    try {
      for await (const page of versionPages((command) => ctx.s3.send(command), { Bucket: store.bucket, Prefix: store.prefix || undefined })) {
        for (const v of page.Versions ?? []) {
          if (!v.Key || v.Key.startsWith(opt.stagingPrefix) || v.Key.endsWith('/')) continue;
          const o = entry(v.Key);
          if (v.IsLatest) {
            o.current = true;
            o.size = v.Size ?? 0;
          } else {
            o.noncurrent.push({ versionId: v.VersionId ?? 'null', size: v.Size ?? 0 });
          }
        }
      }
    } catch (err) {
      throw unavailable(store, 'ListObjectVersions', err);
    }
    return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Reads one object (its current version, or the given noncurrent one) through `processRecords`. */
  async function readObject(
    store: S3RecordsStore,
    key: string,
    matcher: RecordMatcher,
    onMatch: (r: MatchedRecord, object: { readonly etag: string; readonly protection?: Protection }) => RecordDecision | void,
    ctx: ConnectorContext,
    versionId?: string,
  ): Promise<{ etag: string; versionId?: string; counts: RewriteCounts; storedBytes: number; protection?: Protection } | 'missing'> {
    let got: GetObjectCommandOutput;
    try {
      got = await ctx.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
    } catch (err) {
      if (isNotFound(err)) return 'missing';
      throw unavailable(store, 'GetObject', err);
    }
    const body = bodyOf(got);
    const object = { etag: got.ETag ?? '', protection: protectionOf(got) };
    try {
      const counts = await processRecords(body, { format: store.format, compression: store.compression, matcher }, (r) => onMatch(r, object));
      return { ...object, versionId: got.VersionId, counts, storedBytes: got.ContentLength ?? 0 };
    } catch (err) {
      if (err instanceof SourceReadError) throw unavailable(store, 'GetObject body', err.cause);
      throw err;
    } finally {
      body.destroy();
    }
  }

  /**
   * One pass over every object version of the store for a batch of subjects. `onMatch` sees each
   * matching record as it streams by (the records themselves are not kept); `onObject` is called
   * once an object version has been read whole, so a caller can keep what it found there only for
   * versions that were read to the end.
   */
  async function scanObjects<T>(
    store: S3RecordsStore,
    matcher: RecordMatcher,
    ctx: ConnectorContext,
    onMatch: (where: { key: string; versionId?: string; etag: string; protection?: Protection }, r: MatchedRecord) => T,
    onObject: (found: T[]) => void,
  ): Promise<{ unreadable: UnreadableObject[]; totals: ScanTotals }> {
    const unreadable: UnreadableObject[] = [];
    const totals = newTotals();
    const reads = (await listObjects(store, ctx)).flatMap((o) => [
      ...(o.current ? [{ key: o.key, versionId: undefined }] : []),
      ...o.noncurrent.map((v) => ({ key: o.key, versionId: v.versionId })),
    ]);
    await forEachLimit(reads, opt.concurrency, async ({ key, versionId }) => {
      const kh = keyHash(store.bucket, key);
      const found: T[] = [];
      let result;
      try {
        result = await readObject(store, key, matcher, (r, object) => void found.push(onMatch({ key, versionId, ...object }, r)), ctx, versionId);
      } catch (err) {
        if (err instanceof UnreadableObjectError) {
          unreadable.push({ key, keyHash: kh, reason: err.reason });
          ctx.log('s3-records.unreadable', { store: store.name, keyHash: kh, reason: err.reason });
          ctx.onUnreadable?.({ store: store.name, ref: kh, reason: err.reason });
          return;
        }
        throw err;
      }
      if (result === 'missing') return;
      addCounts(totals, result.counts, result.storedBytes);
      onObject(found);
      ctx.log('s3-records.scanned', {
        store: store.name,
        keyHash: kh,
        storedBytes: result.storedBytes,
        bytes: result.counts.bytes,
        records: result.counts.records,
        matched: result.counts.matched,
        malformed: result.counts.malformed,
      });
    });
    return { unreadable, totals };
  }

  async function scanStore(store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreScanResult> {
    const started = Date.now();
    const matcher = new RecordMatcher(fieldSpecs(store), subjects, store.format, store.identifiers);
    const findings = new Map<string, Finding[]>();
    if (matcher.empty) return { findings, unreadable: [], totals: newTotals() };
    const { unreadable, totals } = await scanObjects(
      store,
      matcher,
      ctx,
      ({ key, versionId, etag, protection }, r) => {
        const locator: S3RecordLocator = {
          type: 's3-record',
          bucket: store.bucket,
          key,
          etag,
          line: r.index,
          fingerprint: r.fingerprint,
          ...(versionId ? { versionId } : {}),
        };
        const date = retentionDate(r.record, store.dateField);
        const id = findingId(store.name, locator);
        return [...r.matches].map(
          ([ref, fields]): [string, Finding] => [
            ref,
            { id, store: store.name, role: 'owner', locator, fields: [...fields], ...(date ? { date } : {}), ...(protection ? { protection } : {}), ...(r.malformed ? { malformed: true } : {}) },
          ],
        );
      },
      (found) => {
        for (const [ref, f] of found.flat()) {
          const list = findings.get(ref) ?? [];
          list.push(f);
          findings.set(ref, list);
        }
      },
    );
    // Deterministic order whatever the concurrency: by key, the current version first, then record.
    for (const list of findings.values()) {
      list.sort((a, b) => {
        const la = a.locator as S3RecordLocator;
        const lb = b.locator as S3RecordLocator;
        const va = la.versionId ?? '';
        const vb = lb.versionId ?? '';
        return la.key < lb.key ? -1 : la.key > lb.key ? 1 : va < vb ? -1 : va > vb ? 1 : la.line - lb.line;
      });
    }
    ctx.log('s3-records.store-scanned', {
      store: store.name,
      subjects: subjects.size,
      objects: totals.objects,
      unreadable: unreadable.length,
      bytes: totals.bytes,
      matched: totals.matched,
      ms: Date.now() - started,
    });
    return { findings, unreadable, totals };
  }

  /** Where the staged bodies of `key` go: one folder per object, so they can be found again. */
  function stagingFolder(key: string): string {
    return `${opt.stagingPrefix}${sha256Hex(key).slice(0, 24)}/`;
  }

  /**
   * Deletes what crashed rewrites left under the bucket's staging prefix, for any object (the
   * object may never be rewritten again). Discovery skips that prefix, so a stale staged body (a
   * copy of everyone else's records) would otherwise escape every later erasure. Run once per
   * erasure in the store, before its rewrites.
   */
  async function removeStaleStaging(store: S3RecordsStore, ctx: ConnectorContext): Promise<void> {
    let stale;
    try {
      stale = await versionsBefore(ctx.s3, store.bucket, opt.stagingPrefix, new Date(ctx.now.getTime() - STALE_STAGING_MS));
    } catch (err) {
      throw unavailable(store, 'ListObjectVersions', err);
    }
    for (const v of stale) {
      try {
        await ctx.s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: v.key, VersionId: v.versionId }));
      } catch (err) {
        if (!isNotFound(err)) throw unavailable(store, 'DeleteObject', err);
      }
    }
    if (stale.length > 0) ctx.log('s3-records.stale-staging-removed', { store: store.name, versions: stale.length });
  }

  /** Streams a rewritten body to a staging key; returns what was written. */
  async function stage(
    store: S3RecordsStore,
    key: string,
    original: GetObjectCommandOutput,
    matcher: RecordMatcher,
    rewriter: Rewriter,
    ctx: ConnectorContext,
    preserved: PreservedAttributes,
  ): Promise<{ stagingKey: string; versionId?: string; counts: RewriteCounts }> {
    const stagingKey = `${stagingFolder(key)}${randomUUID()}`;
    interface Sink {
      readonly stream: PassThrough | ReturnType<typeof createGzip>;
      readonly upload: Upload;
      readonly done: Promise<{ VersionId?: string }>;
      failed?: unknown;
    }
    let sink: Sink | undefined;
    const open = (gzip: boolean): Sink => {
      const stream = gzip ? createGzip({ level: opt.gzipLevel }) : new PassThrough();
      const upload = new Upload({
        client: ctx.s3,
        partSize: opt.partSize,
        queueSize: 2,
        leavePartsOnError: false,
        params: {
          Bucket: store.bucket,
          Key: stagingKey,
          Body: stream,
          ContentType: original.ContentType,
          ContentEncoding: original.ContentEncoding,
          ContentDisposition: original.ContentDisposition,
          ContentLanguage: original.ContentLanguage,
          CacheControl: original.CacheControl,
          Metadata: original.Metadata,
          ...preserved.encryption,
        },
      });
      const s: Sink = { stream, upload, done: upload.done() };
      s.done.catch((err: unknown) => {
        s.failed = err;
        stream.destroy();
      });
      return s;
    };
    const body = bodyOf(original);
    let counts: RewriteCounts;
    try {
      counts = await processRecords(body, { format: store.format, compression: store.compression, matcher }, (r) => rewriter(r), {
        write: async (chunk, gzip) => {
          sink ??= open(gzip);
          if (sink.failed) throw sink.failed;
          if (!sink.stream.write(chunk)) await Promise.race([once(sink.stream, 'drain'), sink.done]);
        },
      });
    } catch (err) {
      if (sink) {
        await sink.upload.abort().catch(() => undefined);
        sink.stream.destroy();
        await sink.done.catch(() => undefined);
        await deleteAllVersions(ctx.s3, store.bucket, stagingKey).catch(() => undefined);
      }
      if (err instanceof SourceReadError) throw unavailable(store, 'GetObject body', err.cause);
      throw err;
    } finally {
      body.destroy();
    }
    sink ??= open(counts.gzip);
    sink.stream.end();
    let uploaded: { VersionId?: string };
    try {
      uploaded = await sink.done;
    } catch (err) {
      await deleteAllVersions(ctx.s3, store.bucket, stagingKey).catch(() => undefined);
      throw unavailable(store, 'staging upload', err);
    }
    return { stagingKey, versionId: uploaded.VersionId, counts };
  }

  /** Reads the staged body back and checks it is exactly what was meant to be written. */
  async function verifyStaged(
    store: S3RecordsStore,
    staged: { stagingKey: string; versionId?: string; counts: RewriteCounts },
    matcher: RecordMatcher,
    removedFingerprints: ReadonlySet<string>,
    ctx: ConnectorContext,
  ): Promise<number> {
    const kh = keyHash(store.bucket, staged.stagingKey);
    const got = await ctx.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: staged.stagingKey, VersionId: staged.versionId }));
    const body = bodyOf(got);
    let reappeared = 0;
    let back: RewriteCounts;
    try {
      back = await processRecords(
        body,
        { format: store.format, compression: staged.counts.gzip ? 'gzip' : 'none', matcher },
        (r) => {
          if (removedFingerprints.has(r.fingerprint)) reappeared++;
        },
        { write: () => undefined },
      );
    } catch (err) {
      throw new VerificationFailedError('the rewritten object cannot be read back', { keyHash: kh }, { cause: err });
    } finally {
      body.destroy();
    }
    const w = staged.counts;
    const expectedRecords = w.records - w.removed;
    const problems: string[] = [];
    if (w.kept + w.removed + w.replaced !== w.records) problems.push('kept + removed + replaced differs from the records read');
    if (back.records !== expectedRecords) problems.push(`record count ${back.records}, expected ${expectedRecords}`);
    if (back.outputSha256 !== w.outputSha256) problems.push('SHA-256 of the records read back differs from the one written');
    if (back.bytes !== w.outputBytes) problems.push('byte count differs');
    if (reappeared > 0) problems.push(`${reappeared} removed record(s) present`);
    if (problems.length > 0) throw new VerificationFailedError(`rewritten object failed verification: ${problems.join('; ')}`, { keyHash: kh, problems });
    return got.ContentLength ?? 0;
  }

  async function replace(
    store: S3RecordsStore,
    key: string,
    staged: { stagingKey: string; versionId?: string; size: number },
    original: GetObjectCommandOutput,
    ctx: ConnectorContext,
    preserved: PreservedAttributes,
  ): Promise<string | undefined> {
    const source = copySource(store.bucket, staged.stagingKey, staged.versionId);
    const etag = original.ETag as string;
    if (staged.size < opt.multipartCopyThreshold) {
      const out = await ctx.s3.send(
        new CopyObjectCommand({
          Bucket: store.bucket,
          Key: key,
          CopySource: source,
          IfMatch: etag,
          MetadataDirective: 'COPY',
          StorageClass: original.StorageClass,
          // The staged object has no tags: the replaced version's are set explicitly.
          TaggingDirective: 'REPLACE',
          ...(preserved.tagging ? { Tagging: preserved.tagging } : {}),
          ...preserved.encryption,
        }),
      );
      return out.VersionId;
    }
    const created = await ctx.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: store.bucket,
        Key: key,
        ContentType: original.ContentType,
        ContentEncoding: original.ContentEncoding,
        ContentDisposition: original.ContentDisposition,
        ContentLanguage: original.ContentLanguage,
        CacheControl: original.CacheControl,
        Metadata: original.Metadata,
        StorageClass: original.StorageClass,
        ...(preserved.tagging ? { Tagging: preserved.tagging } : {}),
        ...preserved.encryption,
      }),
    );
    const uploadId = created.UploadId as string;
    try {
      const parts: Array<{ PartNumber: number; ETag?: string }> = [];
      const partSize = Math.max(opt.partSize, Math.ceil(staged.size / 10_000));
      for (let offset = 0, n = 1; offset < staged.size || n === 1; offset += partSize, n++) {
        const last = Math.min(staged.size, offset + partSize) - 1;
        const part = await ctx.s3.send(
          new UploadPartCopyCommand({
            Bucket: store.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: n,
            CopySource: source,
            CopySourceRange: staged.size > 0 ? `bytes=${offset}-${last}` : undefined,
          }),
        );
        parts.push({ PartNumber: n, ETag: part.CopyPartResult?.ETag });
        if (staged.size === 0) break;
      }
      const done = await ctx.s3.send(
        new CompleteMultipartUploadCommand({ Bucket: store.bucket, Key: key, UploadId: uploadId, IfMatch: etag, MultipartUpload: { Parts: parts } }),
      );
      return done.VersionId;
    } catch (err) {
      await ctx.s3.send(new AbortMultipartUploadCommand({ Bucket: store.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw err;
    }
  }

  /** Deletes every version and delete marker of `key` older than `keepVersionId`; protected ones are refused. */
  async function deleteOlderVersions(store: S3RecordsStore, key: string, keepVersionId: string | undefined, ctx: ConnectorContext): Promise<{ deleted: number; refused?: RefusalReason }> {
    const entries = await listVersions(ctx.s3, store.bucket, key);
    // An unversioned bucket: the copy replaced the only version.
    if ((keepVersionId === undefined || keepVersionId === 'null') && entries.every((e) => e.versionId === 'null')) return { deleted: 0 };
    const ours = entries.find((e) => e.versionId === (keepVersionId ?? 'null'));
    if (!ours) throw new VerificationFailedError('the new version is not listed', { keyHash: keyHash(store.bucket, key) });
    let deleted = 0;
    let refused: RefusalReason | undefined;
    for (const e of entries) {
      // Keep ours, and anything written after it by someone else.
      if (e === ours || e.lastModified > ours.lastModified || (e.isLatest && !ours.isLatest)) continue;
      if (!e.deleteMarker) {
        let reason: RefusalReason | undefined;
        try {
          const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key, VersionId: e.versionId }));
          reason = refusalFor(protectionOf(head), ctx.now);
        } catch (err) {
          if (isNotFound(err)) continue;
          throw unavailable(store, 'HeadObject', err);
        }
        if (reason) {
          refused ??= reason;
          ctx.log('s3-records.version-refused', { store: store.name, keyHash: keyHash(store.bucket, key), reason });
          continue;
        }
      }
      try {
        await ctx.s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key, VersionId: e.versionId }));
        deleted++;
      } catch (err) {
        if (s3Status(err) === 403) {
          // S3 refused (Object Lock applied between the check and the delete): never bypassed.
          refused ??= 'object-lock-governance';
          continue;
        }
        if (isNotFound(err)) continue;
        throw unavailable(store, 'DeleteObject', err);
      }
    }
    return { deleted, refused };
  }

  /**
   * Erases from a noncurrent version, which cannot be rewritten: the version is deleted whole, and
   * only when every record of the subject in it is planned to go (`planned` fingerprints; `all`
   * for a batch erasure of every record of the subjects). Everyone else's records in it are old
   * copies: the current version, if any, keeps them.
   */
  async function eraseNoncurrentVersion(
    store: S3RecordsStore,
    key: string,
    versionId: string,
    planned: ReadonlySet<string> | 'all',
    matcher: RecordMatcher,
    ctx: ConnectorContext,
  ): Promise<{ status: 'deleted' | 'gone' } | { status: 'refused'; reason: RefusalReason }> {
    const kh = keyHash(store.bucket, key);
    let protection: Protection | undefined;
    if (planned === 'all') {
      // Every record of the subjects goes: whether S3 lets the version go is all there is to ask.
      try {
        protection = protectionOf(await ctx.s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key, VersionId: versionId })));
      } catch (err) {
        if (isNotFound(err)) return { status: 'gone' };
        throw unavailable(store, 'HeadObject', err);
      }
    } else {
      let uncovered = false;
      const read = await readObject(
        store,
        key,
        matcher,
        (r) => {
          if (!planned.has(r.fingerprint) && r.matches.size > 0) uncovered = true;
        },
        ctx,
        versionId,
      );
      if (read === 'missing') return { status: 'gone' };
      if (uncovered) {
        ctx.log('s3-records.version-refused', { store: store.name, keyHash: kh, reason: 'version-holds-retained-records' });
        return { status: 'refused', reason: 'version-holds-retained-records' };
      }
      protection = read.protection;
    }
    const protectedBy = refusalFor(protection, ctx.now);
    if (protectedBy) {
      ctx.log('s3-records.version-refused', { store: store.name, keyHash: kh, reason: protectedBy });
      return { status: 'refused', reason: protectedBy };
    }
    try {
      await ctx.s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key, VersionId: versionId }));
    } catch (err) {
      // S3 refused (Object Lock applied since the read): never bypassed.
      if (s3Status(err) === 403) return { status: 'refused', reason: 'object-lock-governance' };
      if (isNotFound(err)) return { status: 'gone' };
      throw unavailable(store, 'DeleteObject', err);
    }
    ctx.log('s3-records.version-deleted', { store: store.name, keyHash: kh });
    return { status: 'deleted' };
  }

  /**
   * The whole safe rewrite of one object: stage, verify, conditionally replace (retrying from
   * the start when the object changed), delete older versions.
   */
  async function rewriteObject(
    store: S3RecordsStore,
    key: string,
    matcher: RecordMatcher,
    makeRewriter: () => { rewriter: Rewriter; removed: Set<string> },
    ctx: ConnectorContext,
    expectedEtag?: string,
  ): Promise<RewriteOutcome> {
    const kh = keyHash(store.bucket, key);
    for (let attempt = 1; attempt <= opt.maxAttempts; attempt++) {
      let original: GetObjectCommandOutput;
      try {
        original = await ctx.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
      } catch (err) {
        if (isNotFound(err)) return { status: 'missing' };
        throw unavailable(store, 'GetObject', err);
      }
      const current = refusalFor(protectionOf(original), ctx.now);
      if (current) {
        bodyOf(original).destroy();
        ctx.log('s3-records.refused', { store: store.name, keyHash: kh, reason: current });
        return { status: 'refused', reason: current };
      }
      const etagChanged = expectedEtag !== undefined && original.ETag !== expectedEtag;
      const { rewriter, removed } = makeRewriter();
      let preserved: PreservedAttributes;
      try {
        preserved = await preservedAttributes(ctx.s3, store.bucket, key, original);
      } catch (err) {
        bodyOf(original).destroy();
        if (isNotFound(err)) continue; // replaced or deleted since the GET: read it again
        throw unavailable(store, 'GetObjectTagging', err);
      }
      let staged;
      try {
        staged = await stage(store, key, original, matcher, rewriter, ctx, preserved);
      } catch (err) {
        if (err instanceof UnreadableObjectError) {
          ctx.log('s3-records.unreadable', { store: store.name, keyHash: kh, reason: err.reason });
          ctx.onUnreadable?.({ store: store.name, ref: kh, reason: err.reason });
          return { status: 'unreadable', unreadable: err.reason };
        }
        throw err;
      }
      try {
        const c = staged.counts;
        if (c.removed === 0 && c.replaced === 0) {
          // A rewrite of ours interrupted after the replace and before the older versions were
          // deleted: the version the findings were made in is still there, under the new one.
          // Finish the job, or a retry would leave the subject's records in that version.
          if (etagChanged && original.VersionId && (await listVersions(ctx.s3, store.bucket, key)).some((e) => !e.isLatest && e.etag === expectedEtag)) {
            const old = await deleteOlderVersions(store, key, original.VersionId, ctx);
            ctx.log('s3-records.interrupted-rewrite-finished', { store: store.name, keyHash: kh, oldVersionsDeleted: old.deleted, oldVersionRefused: old.refused });
            return { status: 'unchanged', counts: c, protectedOld: old.refused, etagChanged };
          }
          return { status: 'unchanged', counts: c, etagChanged };
        }
        const size = await verifyStaged(store, staged, matcher, removed, ctx);
        await opt.beforeReplace?.({ key, attempt });
        let newVersion: string | undefined;
        try {
          newVersion = await replace(store, key, { ...staged, size }, original, ctx, preserved);
        } catch (err) {
          if (isPreconditionFailed(err) || isNotFound(err)) {
            ctx.log('s3-records.changed-meanwhile', { store: store.name, keyHash: kh, attempt });
            continue;
          }
          throw unavailable(store, 'conditional replace', err);
        }
        const old = await deleteOlderVersions(store, key, newVersion, ctx);
        ctx.log('s3-records.rewritten', {
          store: store.name,
          keyHash: kh,
          attempt,
          records: c.records,
          removed: c.removed,
          redacted: c.replaced,
          malformedKept: c.malformed,
          bytesIn: c.bytes,
          bytesOut: c.outputBytes,
          storedBytesOut: size,
          etagChanged,
          oldVersionsDeleted: old.deleted,
          oldVersionRefused: old.refused,
        });
        return { status: 'rewritten', counts: c, protectedOld: old.refused, etagChanged };
      } finally {
        await deleteAllVersions(ctx.s3, store.bucket, staged.stagingKey).catch((err) =>
          ctx.log('s3-records.staging-left', { store: store.name, keyHash: kh, error: s3Code(err) }),
        );
      }
    }
    throw new ConcurrentModificationError(`object kept changing during ${opt.maxAttempts} rewrite attempts`, { store: store.name, keyHash: kh });
  }

  /** The replacement bytes for a record redacted per the store's erase fields, or its mentions of `refs`. */
  function redactRecord(store: S3RecordsStore, r: MatchedRecord, how: 'store-fields' | 'mentions', refs: ReadonlySet<string>, matcher: RecordMatcher, ctx: ConnectorContext): Buffer {
    const edits = new Map<string, (node: unknown) => unknown>();
    if (how === 'store-fields' && store.erase.mode === 'redact') {
      for (const [path, strategy] of Object.entries(store.erase.fields) as Array<[string, Anonymization]>) {
        edits.set(path, (node) => ctx.anonymizer.apply(strategy, node));
      }
    } else {
      const token = redactionToken(ctx);
      const paths = new Set<string>();
      for (const ref of refs) for (const p of r.matches.get(ref) ?? []) paths.add(p);
      for (const spec of matcher.fields) {
        if (!paths.has(spec.path)) continue;
        edits.set(spec.path, (node) => {
          if (typeof node !== 'string' && typeof node !== 'number') return node;
          const text = String(node);
          const values = matcher.valuesIn(text, spec, refs);
          if (values.length === 0) return node;
          return redactMentions(text, values, spec.match, token);
        });
      }
    }
    if (store.format === 'jsonl') {
      const record = structuredClone(r.record);
      for (const [path, fn] of edits) mapAtPath(record, path, fn);
      return Buffer.from(JSON.stringify(record), 'utf8');
    }
    // CSV: untouched fields keep their exact bytes; edited ones are written per RFC 4180.
    const csv = r.csv as NonNullable<MatchedRecord['csv']>;
    const parts = csv.fields.spans.map(([a, b]) => r.bytes.subarray(a, b));
    for (const [path, fn] of edits) {
      const i = csv.header.indexOf(path);
      if (i < 0 || i >= csv.fields.values.length) continue;
      const next = fn(csv.fields.values[i]);
      const text = next === null || next === undefined ? '' : String(next);
      if (text !== csv.fields.values[i]) parts[i] = Buffer.from(formatCsvField(text), 'utf8');
    }
    const out: Buffer[] = [];
    parts.forEach((p, i) => {
      if (i > 0) out.push(Buffer.from(','));
      out.push(p);
    });
    return Buffer.concat(out);
  }

  function checkStore(store: S3RecordsStore): void {
    if (store.kind !== 's3-records') throw new DataMapError(`store ${store.name} is not an s3-records store`);
  }

  const connector: S3RecordsConnector = {
    kind: 's3-records',
    scanStore,

    async discover(store, identity, ctx) {
      checkStore(store);
      const result = await scanStore(store, new Map([[ONE, identity]]), ctx);
      return result.findings.get(ONE) ?? [];
    },

    async apply(store, identity, actions, ctx) {
      checkStore(store);
      const applied: Partial<Record<Action, number>> = {};
      const refused: Array<{ findingId: string; reason: RefusalReason }> = [];
      const missing: string[] = [];
      let malformedKept = 0;
      const count = (a: Action, n = 1) => (applied[a] = (applied[a] ?? 0) + n);

      // Per object: the planned rewrites by fingerprint; restrictions are only counted.
      const byKey = new Map<string, { etag: string; planned: PlannedAction[] }>();
      // Findings in noncurrent versions: each such version is deleted whole, or not at all.
      const byVersion = new Map<string, { key: string; versionId: string; planned: PlannedAction[] }>();
      for (const pa of actions) {
        const loc = pa.finding.locator;
        if (pa.finding.store !== store.name || loc.type !== 's3-record' || loc.bucket !== store.bucket) {
          throw new DataMapError(`finding ${pa.finding.id.slice(0, 12)} does not belong to store ${store.name}`);
        }
        if (pa.action === 'restrict' || pa.action === 'unrestrict' || pa.action === 'keep') {
          count(pa.action);
          continue;
        }
        if (loc.versionId !== undefined) {
          const id = `${loc.key}\u0000${loc.versionId}`;
          const entry = byVersion.get(id) ?? { key: loc.key, versionId: loc.versionId, planned: [] };
          entry.planned.push(pa);
          byVersion.set(id, entry);
          continue;
        }
        const entry = byKey.get(loc.key) ?? { etag: loc.etag, planned: [] };
        entry.planned.push(pa);
        byKey.set(loc.key, entry);
      }
      const matcher = new RecordMatcher(fieldSpecs(store), new Map([[ONE, identity]]), store.format, store.identifiers);
      const refs = new Set([ONE]);
      if (byKey.size > 0) await removeStaleStaging(store, ctx);

      await forEachLimit([...byKey.entries()], opt.concurrency, async ([key, { etag, planned }]) => {
        const byFingerprint = new Map<string, PlannedAction[]>();
        for (const pa of planned) {
          const fp = (pa.finding.locator as S3RecordLocator).fingerprint;
          byFingerprint.set(fp, [...(byFingerprint.get(fp) ?? []), pa]);
        }
        let seen = new Set<string>();
        let reported = new Set<string>();
        const outcome = await rewriteObject(
          store,
          key,
          matcher,
          () => {
            seen = new Set<string>();
            reported = new Set<string>();
            const removed = new Set<string>();
            const rewriter: Rewriter = (r) => {
              // Recognised by fingerprint AND still the subject's (re-matched just now).
              const pas = byFingerprint.get(r.fingerprint);
              if (!pas || !r.matches.has(ONE)) return { kind: 'keep' };
              seen.add(r.fingerprint);
              if (r.malformed) {
                const d = malformedDecision(store.malformed, r, refs, redactionToken(ctx));
                (d.kind === 'keep' ? reported : removed).add(r.fingerprint);
                return d;
              }
              const action = pas[0].action;
              if (action === 'delete' && store.erase.mode === 'delete-record') {
                removed.add(r.fingerprint);
                return { kind: 'remove' };
              }
              const how = action === 'redact-mentions' || (action === 'anonymize' && store.erase.mode === 'delete-record') ? 'mentions' : 'store-fields';
              const bytes = redactRecord(store, r, how, refs, matcher, ctx);
              if (bytes.equals(r.bytes)) return { kind: 'keep' };
              removed.add(r.fingerprint);
              return { kind: 'replace', bytes };
            };
            return { rewriter, removed };
          },
          ctx,
          etag,
        );
        if (outcome.counts) malformedKept += outcome.counts.malformed - outcome.counts.malformedReplaced;
        for (const [fp, pas] of byFingerprint) {
          for (const pa of pas) {
            if (outcome.status === 'refused') refused.push({ findingId: pa.finding.id, reason: outcome.reason as RefusalReason });
            else if (outcome.status === 'missing' || outcome.status === 'unreadable' || !seen.has(fp)) missing.push(pa.finding.id);
            else if (reported.has(fp)) refused.push({ findingId: pa.finding.id, reason: 'malformed-record' });
            else if (outcome.protectedOld) refused.push({ findingId: pa.finding.id, reason: outcome.protectedOld });
            else count(pa.action);
          }
        }
      });
      // After the rewrites: a rewrite deletes its object's older versions, which is erasure too.
      await forEachLimit([...byVersion.values()], opt.concurrency, async ({ key, versionId, planned }) => {
        const fingerprints = new Set(planned.map((pa) => (pa.finding.locator as S3RecordLocator).fingerprint));
        const outcome = await eraseNoncurrentVersion(store, key, versionId, fingerprints, matcher, ctx);
        for (const pa of planned) {
          if (outcome.status === 'refused') refused.push({ findingId: pa.finding.id, reason: outcome.reason });
          else count(pa.action);
        }
      });
      return { applied, refused, missing, malformedKept };
    },

    async *export(store, identity, findings, ctx): AsyncIterable<ExportItem> {
      checkStore(store);
      // Per object version read: the key, and the noncurrent version id if any ('' = current).
      const byRead = new Map<string, Finding[]>();
      for (const f of findings) {
        const loc = f.locator;
        if (loc.type !== 's3-record' || f.store !== store.name) continue;
        const id = `${loc.key}\u0000${loc.versionId ?? ''}`;
        byRead.set(id, [...(byRead.get(id) ?? []), f]);
      }
      const matcher = new RecordMatcher(fieldSpecs(store), new Map([[ONE, identity]]), store.format, store.identifiers);
      for (const [id, list] of [...byRead.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const [key, versionId] = id.split('\u0000');
        // Several findings may share a fingerprint (identical lines): hand them out in order.
        const waiting = new Map<string, Finding[]>();
        for (const f of [...list].sort((a, b) => (a.locator as S3RecordLocator).line - (b.locator as S3RecordLocator).line)) {
          const fp = (f.locator as S3RecordLocator).fingerprint;
          waiting.set(fp, [...(waiting.get(fp) ?? []), f]);
        }
        const items: ExportItem[] = [];
        let result;
        try {
          result = await readObject(
            store,
            key,
            matcher,
            (r) => {
              const queue = waiting.get(r.fingerprint);
              if (!queue || queue.length === 0 || !r.matches.has(ONE)) return;
              const f = queue.shift() as Finding;
              // A record that does not parse has no fields to give; its raw bytes may be anyone's.
              items.push(r.malformed ? { type: 'missing', findingId: f.id, reason: 'record-malformed' } : { type: 'record', findingId: f.id, role: 'owner', record: r.record });
            },
            ctx,
            versionId || undefined,
          );
        } catch (err) {
          if (!(err instanceof UnreadableObjectError)) throw err;
          result = 'unreadable' as const;
        }
        yield* items;
        const reason = result === 'missing' ? 'object-gone' : result === 'unreadable' ? 'object-unreadable' : 'record-gone';
        for (const queue of waiting.values()) for (const f of queue) yield { type: 'missing', findingId: f.id, reason };
        ctx.log('s3-records.exported', { store: store.name, keyHash: keyHash(store.bucket, key), records: items.length });
      }
    },

    async eraseFromStore(store, subjects, ctx) {
      checkStore(store);
      const matcher = new RecordMatcher(fieldSpecs(store), subjects, store.format, store.identifiers);
      // Only where the subjects are (objects, and noncurrent versions with per-subject counts):
      // a finding per record would hold hundreds of MB for a busy archive object.
      const keys = new Set<string>();
      const versions = new Map<string, { key: string; versionId: string; refs: Map<string, number> }>();
      const scan = matcher.empty
        ? { unreadable: [] as UnreadableObject[], totals: newTotals() }
        : await scanObjects(
            store,
            matcher,
            ctx,
            // A current version only needs to be known to match; a noncurrent one, by whom.
            ({ key, versionId }, r) => (versionId === undefined ? key : { key, versionId, refs: [...r.matches.keys()] }),
            (found) => {
              for (const f of found) {
                if (typeof f === 'string') {
                  keys.add(f);
                  continue;
                }
                const { key, versionId, refs } = f;
                const id = `${key}\u0000${versionId}`;
                const v = versions.get(id) ?? { key, versionId, refs: new Map<string, number>() };
                for (const ref of refs) v.refs.set(ref, (v.refs.get(ref) ?? 0) + 1);
                versions.set(id, v);
              }
            },
          );
      const refs = new Set(subjects.keys());
      const erased = new Map<string, number>();
      const refusedOut: Array<{ key: string; keyHash: string; reason: RefusalReason }> = [];
      const unreadable = [...scan.unreadable];
      let rewritten = 0;
      let removedTotal = 0;
      let redactedTotal = 0;
      let malformedKept = 0;
      if (keys.size > 0) await removeStaleStaging(store, ctx);
      await forEachLimit([...keys].sort(), opt.concurrency, async (key) => {
        let perSubject = new Map<string, number>();
        let reportedMalformed = 0;
        const outcome = await rewriteObject(
          store,
          key,
          matcher,
          () => {
            perSubject = new Map();
            reportedMalformed = 0;
            const removed = new Set<string>();
            const rewriter: Rewriter = (r) => {
              if (r.malformed && store.malformed === 'report') {
                reportedMalformed++;
                return { kind: 'keep' };
              }
              for (const ref of r.matches.keys()) perSubject.set(ref, (perSubject.get(ref) ?? 0) + 1);
              if (r.malformed) {
                const d = malformedDecision(store.malformed, r, refs, redactionToken(ctx));
                if (d.kind === 'replace') removed.add(r.fingerprint);
                return d;
              }
              if (store.erase.mode === 'delete-record') {
                removed.add(r.fingerprint);
                return { kind: 'remove' };
              }
              const bytes = redactRecord(store, r, 'store-fields', refs, matcher, ctx);
              if (bytes.equals(r.bytes)) return { kind: 'keep' };
              removed.add(r.fingerprint);
              return { kind: 'replace', bytes };
            };
            return { rewriter, removed };
          },
          ctx,
        );
        const kh = keyHash(store.bucket, key);
        if (outcome.status === 'refused') refusedOut.push({ key, keyHash: kh, reason: outcome.reason as RefusalReason });
        if (outcome.status !== 'refused' && reportedMalformed > 0) refusedOut.push({ key, keyHash: kh, reason: 'malformed-record' });
        if (outcome.status === 'unreadable') unreadable.push({ key, keyHash: kh, reason: outcome.unreadable as UnreadableReason });
        if (outcome.status !== 'rewritten' || !outcome.counts) return;
        rewritten++;
        removedTotal += outcome.counts.removed;
        redactedTotal += outcome.counts.replaced;
        malformedKept += outcome.counts.malformed - outcome.counts.malformedReplaced;
        if (outcome.protectedOld) refusedOut.push({ key, keyHash: kh, reason: outcome.protectedOld });
        for (const [ref, n] of perSubject) erased.set(ref, (erased.get(ref) ?? 0) + n);
      });
      // Noncurrent versions (after the rewrites, which delete their objects' older versions).
      let versionsDeleted = 0;
      await forEachLimit([...versions.values()], opt.concurrency, async ({ key, versionId, refs: found }) => {
        const outcome = await eraseNoncurrentVersion(store, key, versionId, 'all', matcher, ctx);
        if (outcome.status === 'refused') {
          refusedOut.push({ key, keyHash: keyHash(store.bucket, key), reason: outcome.reason });
          return;
        }
        if (outcome.status === 'deleted') versionsDeleted++;
        for (const [ref, n] of found) erased.set(ref, (erased.get(ref) ?? 0) + n);
      });
      return { rewritten, versionsDeleted, erased, removed: removedTotal, redacted: redactedTotal, malformedKept, refused: refusedOut, unreadable, totals: scan.totals };
    },
  };
  return connector;
}

export const s3RecordsConnector: S3RecordsConnector = createS3RecordsConnector();

/** What replaces a subject's identifier inside another record or a malformed one. */
function redactionToken(ctx: ConnectorContext): string {
  return ctx.anonymizer.apply({ strategy: 'redact', token: '[REDACTED]' }, undefined) as string;
}

/** Scans a store once for a batch of subjects (subject reference → identity). */
export function scanStore(store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreScanResult> {
  return s3RecordsConnector.scanStore(store, subjects, ctx);
}

/** Erases every record of a batch of subjects from a store (the retention sweep), one rewrite per object. */
export function eraseFromStore(store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreEraseResult> {
  return s3RecordsConnector.eraseFromStore(store, subjects, ctx);
}

export type { RecordMatches };
