import { deniedKey } from '../authorize';
import { readSmallBody } from '../body';
import { checkDeleteCondition } from '../conditions';
import { errors, S3Error } from '../errors';
import { flag, header, param, parseBool, sendEmpty, sendXml, type Ctx } from '../http';
import { deleteCurrent, deleteHeaders, deleteVersion, type DeleteOutcome } from '../versions';
import { children, parseXml, text, type XmlNode } from '../xml';

export async function deleteObject(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  const versionId = param(ctx, 'versionId');
  checkDeleteCondition(header(ctx, 'if-match'), ctx.key, b.keys.get(ctx.key)?.versions[0]);
  const out =
    versionId === undefined
      ? deleteCurrent(ctx.store, b, ctx.key)
      : deleteVersion(ctx.store, b, ctx.key, versionId, flag(ctx, 'x-amz-bypass-governance-retention'));
  await out.saved;
  sendEmpty(ctx, 204, deleteHeaders(b, out));
}

/**
 * Multi-object delete: each key succeeds or fails on its own; Quiet reports only failures. An
 * object's ETag element makes its delete conditional, as If-Match does for DeleteObject; the
 * LastModifiedTime and Size conditions exist only for directory buckets.
 */
export async function deleteObjects(ctx: Ctx): Promise<void> {
  const b = ctx.store.bucket(ctx.bucket);
  const doc = parseXml(await readSmallBody(ctx.req, true), 'Delete');
  const objects = children(doc, 'Object');
  if (objects.length === 0 || objects.length > 1000) throw errors.malformedXml();
  const quiet = parseBool(text(doc, 'Quiet')) ?? false;
  const bypass = flag(ctx, 'x-amz-bypass-governance-retention');
  const rows: XmlNode[] = [];
  const saves: Promise<void>[] = [];
  for (const obj of objects) {
    const key = text(obj, 'Key', true);
    if (key === undefined) throw errors.malformedXml();
    const versionId = text(obj, 'VersionId') || undefined;
    if (text(obj, 'LastModifiedTime') !== undefined || text(obj, 'Size') !== undefined) {
      throw errors.notImplemented('DeleteObjects LastModifiedTime or Size conditions (directory buckets only)');
    }
    let out: DeleteOutcome;
    try {
      const denied = deniedKey(ctx, key, versionId, bypass);
      if (denied) throw denied;
      checkDeleteCondition(text(obj, 'ETag'), key, b.keys.get(key)?.versions[0]);
      out = versionId === undefined ? deleteCurrent(ctx.store, b, key) : deleteVersion(ctx.store, b, key, versionId, bypass);
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      rows.push(['Error', [['Key', key], ['VersionId', versionId], ['Code', err.code], ['Message', err.message]]]);
      continue;
    }
    saves.push(out.saved);
    if (quiet) continue;
    const createdMarker = versionId === undefined && out.deleteMarker;
    rows.push([
      'Deleted',
      [
        ['Key', key],
        ['VersionId', versionId],
        ['DeleteMarker', out.deleteMarker ? true : undefined],
        ['DeleteMarkerVersionId', out.deleteMarker ? (createdMarker ? out.versionId : versionId) : undefined],
      ],
    ]);
  }
  await Promise.all(saves);
  sendXml(ctx, 'DeleteResult', rows);
}
