/**
 * The write and verify halves of a rewrite (S3 Find and Forget keeps write, verify, replace
 * and roll back together; here s3-records-rewrite.ts drives these): stream the new body of an
 * object to a staging key in its bucket, read it back and check it is exactly what was meant,
 * and clean up what a crashed rewrite left under the staging prefix.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createGzip } from 'node:zlib';
import { DeleteObjectCommand, GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { versionPages } from '../aws/s3-version-pages';
import type { S3RecordsStore } from '../core/datamap';
import { VerificationFailedError } from '../core/errors';
import { sha256Hex } from '../core/hash';
import type { RecordMatcher } from '../core/matching';
import { bodyOf, keyHash, unavailable, type S3RecordsSettings } from './s3-records-common';
import { contentHeaders, type ObjectHead, type PreservedAttributes } from './s3-records-preserve';
import { replayRecords, type RetainedScan } from './s3-records-replay';
import { processRecords, SourceReadError, type MatchedRecord, type RecordDecision, type RewriteCounts } from './s3-records-stream';
import { isGone, listKeyVersions } from './s3-shared';
import type { ConnectorContext } from './types';

/** What to do with one matching record during a rewrite. */
export type Rewriter = (record: MatchedRecord) => RecordDecision;

/** A staged body: where it is and what was written into it. */
export interface Staged {
  readonly stagingKey: string;
  readonly versionId?: string;
  readonly counts: RewriteCounts;
}

/** What the read-back of a staged body found: its stored size, and the SHA-256 and count of its records. */
export interface Verified {
  readonly size: number;
  readonly sha256: string;
  readonly records: number;
}

/**
 * A staged body older than this cannot belong to a rewrite still running (a handler runs at most
 * 15 minutes): it is what a crashed rewrite left.
 */
const STALE_STAGING_MS = 60 * 60 * 1000;

/** Where the staged bodies of `key` go: one folder per object, so they can be found again. */
function stagingFolder(opt: S3RecordsSettings, key: string): string {
  return `${opt.stagingPrefix}${sha256Hex(key).slice(0, 24)}/`;
}

export async function deleteAllVersions(s3: S3Client, bucket: string, key: string): Promise<void> {
  for (const v of await listKeyVersions(s3, bucket, key)) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v.versionId }));
  }
}

/**
 * Deletes a staged body once its rewrite is done: its one version, named by the upload (no
 * listing: a rewrite is one request cheaper); an unversioned bucket's upload names none, and a
 * plain delete removes the object there.
 */
export async function deleteStaged(s3: S3Client, bucket: string, staged: Pick<Staged, 'stagingKey' | 'versionId'>): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: staged.stagingKey, ...(staged.versionId ? { VersionId: staged.versionId } : {}) }));
}

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

/**
 * Deletes what crashed rewrites left under the bucket's staging prefix, for any object (the
 * object may never be rewritten again). Discovery skips that prefix, so a stale staged body (a
 * copy of everyone else's records) would otherwise escape every later erasure. Run once per
 * erasure in the store, before its rewrites.
 */
export async function removeStaleStaging(opt: S3RecordsSettings, store: S3RecordsStore, ctx: ConnectorContext): Promise<void> {
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
      if (!isGone(err)) throw unavailable(store, 'DeleteObject', err);
    }
  }
  if (stale.length > 0) ctx.log('s3-records.stale-staging-removed', { store: store.name, versions: stale.length });
}

/**
 * Streams a rewritten body to a staging key; returns what was written. The records come from
 * `original`'s body, read and matched again, or, when the scan kept them (`retained`, of the
 * same version), from what it kept: the same bytes either way.
 */
export async function stage(
  opt: S3RecordsSettings,
  store: S3RecordsStore,
  key: string,
  original: ObjectHead,
  matcher: RecordMatcher,
  rewriter: Rewriter,
  ctx: ConnectorContext,
  preserved: PreservedAttributes,
  retained?: RetainedScan,
): Promise<Staged> {
  const stagingKey = `${stagingFolder(opt, key)}${randomUUID()}`;
  interface Sink {
    readonly stream: PassThrough | ReturnType<typeof createGzip>;
    readonly upload: Upload;
    readonly done: Promise<{ VersionId?: string }>;
    failed?: unknown;
  }
  let sink: Sink | undefined;
  const open = (gzip: boolean): Sink => {
    const stream = gzip ? createGzip({ level: store.gzipLevel ?? opt.gzipLevel }) : new PassThrough();
    const upload = new Upload({
      client: ctx.s3,
      partSize: opt.partSize,
      queueSize: 2,
      leavePartsOnError: false,
      params: {
        Bucket: store.bucket,
        Key: stagingKey,
        Body: stream,
        ...contentHeaders(original),
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
  const body = retained ? undefined : bodyOf(original as GetObjectCommandOutput);
  const write = async (chunk: Buffer, gzip: boolean) => {
    sink ??= open(gzip);
    if (sink.failed) throw sink.failed;
    if (!sink.stream.write(chunk)) await Promise.race([once(sink.stream, 'drain'), sink.done]);
  };
  let counts: RewriteCounts;
  try {
    counts = body
      ? await processRecords(body, { format: store.format, compression: store.compression, matcher }, (r) => rewriter(r), { write })
      : await replayRecords(retained as RetainedScan, (r) => rewriter(r), write);
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
    body?.destroy();
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
export async function verifyStaged(store: S3RecordsStore, staged: Staged, matcher: RecordMatcher, removedFingerprints: ReadonlySet<string>, ctx: ConnectorContext): Promise<Verified> {
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
  return { size: got.ContentLength ?? 0, sha256: back.outputSha256, records: back.records };
}
