/**
 * Listing and reading a log store: which object versions there are, and one streamed read of
 * each for a whole batch of subjects (see s3-records-stream.ts for the scan itself). Noncurrent
 * versions are read too: an older copy of an object, or one under a delete marker (a crash
 * leftover, a lifecycle "delete" in a versioned bucket), still holds its records.
 */
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { versionPages } from '../aws/s3-version-pages';
import { isGzipObject, type S3RecordsStore } from '../core/datamap';
import { findingId } from '../core/hash';
import { mapAtPath, RecordMatcher } from '../core/matching';
import { addCounts, bodyOf, fieldSpecs, forEachLimit, keyHash, newTotals, unavailable, type S3RecordsSettings, type ScanTotals, type StoreScanResult, type UnreadableObject } from './s3-records-common';
import { SLAB_BYTES, type RetainedScan, type RoundArena } from './s3-records-replay';
import { processRecords, SourceReadError, UnreadableObjectError, type MatchedRecord, type RecordDecision, type RetainedBody, type RewriteCounts } from './s3-records-stream';
import { compareText, isGone, protectionOf } from './s3-shared';
import type { ConnectorContext, Finding, Identity, Protection, S3RecordLocator } from './types';
import { recordMatcherFor } from '../core/matcher-cache';

/** One object version to read: the current one (no versionId) or a noncurrent one. */
export interface ObjectRead {
  readonly key: string;
  readonly versionId?: string;
  /** Its stored size, where the listing gave it. */
  readonly storedBytes?: number;
}

/** What a decompressed gzip object is taken to be, per stored byte, when sizing rounds (JSON logs: 8-12). */
const GZIP_RATIO = 10;

/** Bytes of records an object version holds, estimated from its stored size. */
export function estimatedRecordBytes(store: S3RecordsStore, key: string, storedBytes: number): number {
  return isGzipObject(store, key) ? storedBytes * GZIP_RATIO : storedBytes;
}

/** Keys a scan never reads: the connector's own staged bodies, and folder placeholders. */
export function isScannedKey(opt: S3RecordsSettings, key: string): boolean {
  return !key.startsWith(opt.stagingPrefix) && !key.endsWith('/');
}

/**
 * Every object version of the store to read, by key, the current version first: an older copy
 * of a log object, or one under a delete marker, still holds its records.
 */
export async function listReads(opt: S3RecordsSettings, store: S3RecordsStore, ctx: ConnectorContext): Promise<Array<ObjectRead & { storedBytes: number }>> {
  const byKey = new Map<string, { current: boolean; currentBytes: number; noncurrent: Array<{ versionId: string; storedBytes: number }> }>();
  try {
    const input = { Bucket: store.bucket, Prefix: store.prefix || undefined, ...(opt.pageSize ? { MaxKeys: opt.pageSize } : {}) };
    for await (const page of versionPages((command) => ctx.s3.send(command), input)) {
      for (const v of page.Versions ?? []) {
        if (!v.Key || !isScannedKey(opt, v.Key)) continue;
        const o = byKey.get(v.Key) ?? { current: false, currentBytes: 0, noncurrent: [] };
        byKey.set(v.Key, o);
        if (v.IsLatest) {
          o.current = true;
          o.currentBytes = v.Size ?? 0;
        } else o.noncurrent.push({ versionId: v.VersionId ?? 'null', storedBytes: v.Size ?? 0 });
      }
    }
  } catch (err) {
    throw unavailable(store, 'ListObjectVersions', err);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .flatMap(([key, o]) => [...(o.current ? [{ key, storedBytes: o.currentBytes }] : []), ...o.noncurrent.map((v) => ({ key, ...v }))]);
}

/** Reads one object (its current version, or the given noncurrent one) through `processRecords`. */
export async function readObject(
  store: S3RecordsStore,
  key: string,
  matcher: RecordMatcher,
  onMatch: (r: MatchedRecord, object: { readonly etag: string; readonly protection?: Protection }) => RecordDecision | void,
  ctx: ConnectorContext,
  versionId?: string,
  retain?: RetainedBody,
): Promise<{ etag: string; versionId?: string; counts: RewriteCounts; storedBytes: number; protection?: Protection } | 'missing'> {
  let got: GetObjectCommandOutput;
  try {
    got = await ctx.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  } catch (err) {
    if (isGone(err)) return 'missing';
    throw unavailable(store, 'GetObject', err);
  }
  const body = bodyOf(got);
  const object = { etag: got.ETag ?? '', protection: protectionOf(got) };
  try {
    const counts = await processRecords(body, { format: store.format, compression: store.compression, matcher, retain }, (r) => onMatch(r, object));
    return { ...object, versionId: got.VersionId, counts, storedBytes: got.ContentLength ?? 0 };
  } catch (err) {
    if (err instanceof SourceReadError) throw unavailable(store, 'GetObject body', err.cause);
    throw err;
  } finally {
    body.destroy();
  }
}

/**
 * Where a scan keeps the current versions it found records in, for their rewrite to use
 * (s3-records-replay.ts), up to `maxBytes` of decompressed bytes; past that, a rewrite reads
 * the object again.
 */
export interface KeepForRewrite {
  readonly into: Map<string, RetainedScan>;
  readonly maxBytes: number;
  bytes: number;
  /** Where the kept bodies are copied to (reused round after round); absent: zlib's buffers are kept. */
  readonly arena?: RoundArena;
}

/**
 * One read of each of `reads` for a batch of subjects. `onMatch` sees each matching record as it
 * streams by (the records themselves are not kept); `onObject` is called once an object version
 * has been read whole, so a caller can keep what it found there only for versions read to the end.
 */
export async function scanObjects<T>(
  opt: S3RecordsSettings,
  store: S3RecordsStore,
  matcher: RecordMatcher,
  ctx: ConnectorContext,
  reads: readonly ObjectRead[],
  onMatch: (where: { key: string; versionId?: string; etag: string; protection?: Protection }, r: MatchedRecord) => T,
  onObject: (found: T[]) => void,
  keep?: KeepForRewrite,
): Promise<{ unreadable: UnreadableObject[]; totals: ScanTotals }> {
  const unreadable: UnreadableObject[] = [];
  const totals = newTotals();
  await forEachLimit(reads, opt.concurrency, async ({ key, versionId, storedBytes }) => {
    const kh = keyHash(store.bucket, key);
    const found: T[] = [];
    // Only a current version is rewritten (a noncurrent one is deleted whole, or refused). Each
    // read in flight may keep its share of the round, and no more than a slab: memory stays within
    // about twice the round, and a huge object streams through as ever (one its stored size says
    // is too big is not even begun).
    const limit = keep ? Math.min(Math.floor(keep.maxBytes / opt.concurrency), SLAB_BYTES) : 0;
    const retain: RetainedBody | undefined = keep && !versionId && estimatedRecordBytes(store, key, storedBytes ?? 0) <= limit ? { chunks: [], records: [], limit } : undefined;
    let result;
    try {
      result = await readObject(store, key, matcher, (r, object) => void found.push(onMatch({ key, versionId, ...object }, r)), ctx, versionId, retain);
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
    if (keep && retain && !retain.overflow && retain.records.length > 0 && keep.bytes + result.counts.bytes <= keep.maxBytes) {
      keep.bytes += result.counts.bytes;
      const chunks = keep.arena ? keep.arena.hold(retain.chunks, result.counts.bytes) : retain.chunks;
      keep.into.set(key, { etag: result.etag, versionId: result.versionId, counts: result.counts, body: { chunks, records: retain.records } });
    }
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

/**
 * The findings of every subject in `reads`: one finding per matching record, its id from the
 * store and locator only, so any scan that reads the same version gives the same ids.
 */
export async function scanFindings(
  opt: S3RecordsSettings,
  store: S3RecordsStore,
  subjects: ReadonlyMap<string, Identity>,
  reads: readonly ObjectRead[] | ((ctx: ConnectorContext) => Promise<readonly ObjectRead[]>),
  ctx: ConnectorContext,
  keep?: KeepForRewrite,
): Promise<StoreScanResult> {
  const started = Date.now();
  const matcher = recordMatcherFor(fieldSpecs(store), subjects, store.format, store.identifiers);
  const findings = new Map<string, Finding[]>();
  if (matcher.empty) return { findings, unreadable: [], totals: newTotals() };
  const list = typeof reads === 'function' ? await reads(ctx) : reads;
  const { unreadable, totals } = await scanObjects(
    opt,
    store,
    matcher,
    ctx,
    list,
    ({ key, versionId, etag, protection }, r) => {
      const locator: S3RecordLocator = { type: 's3-record', bucket: store.bucket, key, etag, line: r.index, fingerprint: r.fingerprint, ...(versionId ? { versionId } : {}) };
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
    keep,
  );
  // Deterministic order whatever the concurrency: by key, the current version first, then record.
  for (const list of findings.values()) {
    list.sort((a, b) => {
      const la = a.locator as S3RecordLocator;
      const lb = b.locator as S3RecordLocator;
      return compareText(la.key, lb.key) || compareText(la.versionId ?? '', lb.versionId ?? '') || la.line - lb.line;
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

/** Scans the whole store once for a batch of subjects (subject reference → identity). */
export function scanStore(opt: S3RecordsSettings, store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreScanResult> {
  return scanFindings(opt, store, subjects, (c) => listReads(opt, store, c), ctx);
}

/** The retention anchor of a record: its `dateField` as an ISO date (ISO text, or epoch seconds or ms). */
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
