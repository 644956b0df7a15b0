/**
 * The safe rewrite of one log object, the way S3 Find and Forget does it:
 *   1. read the current version (remember its ETag) and stream a new body without the planned
 *      records (or with them redacted) to a staging key, every other byte copied as it was;
 *   2. verify the staged body by reading it back: same SHA-256 and record count as what was
 *      written, and none of the removed records in it;
 *   3. replace the original with a conditional copy (`If-Match: <ETag read in 1>`); when the
 *      object changed meanwhile, start again from 1 (bounded), so a record written meanwhile
 *      is never lost;
 *   4. delete every older version and delete marker of the key, since they still hold the
 *      erased records, except versions S3 Object Lock protects (refused, reported).
 * Stages 1 and 2 are in s3-records-stage.ts; this module holds the replace and the loop.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCopyCommand,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { S3RecordsStore } from '../core/datamap';
import { ConcurrentModificationError } from '../core/errors';
import type { RecordMatcher } from '../core/matching';
import { bodyOf, keyHash, unavailable, type S3RecordsSettings } from './s3-records-common';
import { contentHeaders, preservedAttributes, type ObjectHead, type PreservedAttributes } from './s3-records-preserve';
import type { RetainedScan } from './s3-records-replay';
import { deleteStaged, stage, verifyStaged, type Rewriter } from './s3-records-stage';
import { UnreadableObjectError, type RewriteCounts, type UnreadableReason } from './s3-records-stream';
import { deleteOlderVersions } from './s3-records-versions';
import { copySource, isGone, isPreconditionFailed, listKeyVersions, protectionOf, refusalFor, s3Code } from './s3-shared';
import type { ConnectorContext, RefusalReason } from './types';

export interface RewriteOutcome {
  readonly status: 'rewritten' | 'unchanged' | 'missing' | 'refused' | 'unreadable';
  readonly counts?: RewriteCounts;
  readonly reason?: RefusalReason;
  readonly unreadable?: UnreadableReason;
  /** Versions left in place because S3 protects them, with the reason of the first. */
  readonly protectedOld?: RefusalReason;
  readonly etagChanged?: boolean;
  /** A rewrite's read-back of the new body: SHA-256 of its decompressed bytes, and its records. */
  readonly verified?: { readonly sha256: string; readonly records: number };
}

/** Copies the verified staged body over `key`, only if the key still is the version read (If-Match). */
async function replace(
  opt: S3RecordsSettings,
  store: S3RecordsStore,
  key: string,
  staged: { stagingKey: string; versionId?: string; size: number },
  original: ObjectHead,
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
      ...contentHeaders(original),
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

/**
 * The whole safe rewrite of one object: stage, verify, conditionally replace (retrying from
 * the start when the object changed), delete older versions. `makeRewriter` is called once per
 * attempt, so what an attempt decided never leaks into the next.
 */
export async function rewriteObject(
  opt: S3RecordsSettings,
  store: S3RecordsStore,
  key: string,
  matcher: RecordMatcher,
  makeRewriter: () => { rewriter: Rewriter; removed: Set<string> },
  ctx: ConnectorContext,
  expectedEtag?: string,
  retained?: RetainedScan,
): Promise<RewriteOutcome> {
  const kh = keyHash(store.bucket, key);
  for (let attempt = 1; attempt <= opt.maxAttempts; attempt++) {
    let original: ObjectHead;
    // The scan's own read, when it kept this version: a HEAD says it still is the current one.
    let kept: RetainedScan | undefined;
    try {
      if (attempt === 1 && retained) {
        original = await ctx.s3.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }));
        if (original.ETag === retained.etag && (original.VersionId ?? undefined) === retained.versionId) kept = retained;
        else original = await ctx.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
      } else {
        original = await ctx.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
      }
    } catch (err) {
      if (isGone(err)) return { status: 'missing' };
      throw unavailable(store, 'GetObject', err);
    }
    const release = () => {
      if (!kept) bodyOf(original as GetObjectCommandOutput).destroy();
    };
    const current = refusalFor(protectionOf(original), ctx.now);
    if (current) {
      release();
      ctx.log('s3-records.refused', { store: store.name, keyHash: kh, reason: current });
      return { status: 'refused', reason: current };
    }
    const etagChanged = expectedEtag !== undefined && original.ETag !== expectedEtag;
    const { rewriter, removed } = makeRewriter();
    let preserved: PreservedAttributes;
    try {
      preserved = await preservedAttributes(ctx.s3, store.bucket, key, original);
    } catch (err) {
      release();
      if (isGone(err)) continue; // replaced or deleted since the GET: read it again
      throw unavailable(store, 'GetObjectTagging', err);
    }
    let staged;
    try {
      staged = await stage(opt, store, key, original, matcher, rewriter, ctx, preserved, kept);
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
        if (etagChanged && original.VersionId && (await listKeyVersions(ctx.s3, store.bucket, key)).some((e) => !e.isLatest && e.etag === expectedEtag)) {
          const old = await deleteOlderVersions(store, key, original.VersionId, ctx);
          ctx.log('s3-records.interrupted-rewrite-finished', { store: store.name, keyHash: kh, oldVersionsDeleted: old.deleted, oldVersionRefused: old.refused });
          return { status: 'unchanged', counts: c, protectedOld: old.refused, etagChanged };
        }
        return { status: 'unchanged', counts: c, etagChanged };
      }
      const verified = await verifyStaged(store, staged, matcher, removed, ctx);
      await opt.beforeReplace?.({ key, attempt });
      let newVersion: string | undefined;
      try {
        newVersion = await replace(opt, store, key, { ...staged, size: verified.size }, original, ctx, preserved);
      } catch (err) {
        if (isPreconditionFailed(err) || isGone(err)) {
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
        storedBytesOut: verified.size,
        etagChanged,
        oldVersionsDeleted: old.deleted,
        oldVersionRefused: old.refused,
      });
      return { status: 'rewritten', counts: c, protectedOld: old.refused, etagChanged, verified: { sha256: verified.sha256, records: verified.records } };
    } finally {
      await deleteStaged(ctx.s3, store.bucket, staged).catch((err) =>
        ctx.log('s3-records.staging-left', { store: store.name, keyHash: kh, error: s3Code(err) }),
      );
    }
  }
  throw new ConcurrentModificationError(`object kept changing during ${opt.maxAttempts} rewrite attempts`, { store: store.name, keyHash: kh });
}
