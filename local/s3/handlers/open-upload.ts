import { errors } from '../errors';
import { param, type Ctx } from '../http';
import type { Bucket, Upload } from '../store';

/** An upload being completed is NoSuchUpload to every other request, so no part changes under the commit. */
export const completing = new WeakSet<Upload>();

/** The upload a request names by its uploadId, if it is still open for that key. */
export function openUpload(ctx: Ctx): { b: Bucket; up: Upload } {
  const b = ctx.store.bucket(ctx.bucket);
  const id = param(ctx, 'uploadId') ?? '';
  const up = b.uploads.get(id);
  if (!up || up.meta.key !== ctx.key || completing.has(up)) throw errors.noSuchUpload(id);
  return { b, up };
}
