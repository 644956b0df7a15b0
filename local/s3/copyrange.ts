import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Segment } from './model';
import { openRange } from './reader';

/** Streams bytes [start, end] of a stored object into a new file and returns their MD5 (hex). */
export async function copyRangeToFile(
  paths: (s: Segment) => string,
  segments: Segment[],
  start: number,
  end: number,
  dest: string,
): Promise<string> {
  const md5 = createHash('md5');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      md5.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(await openRange(paths, segments, start, end), hasher, createWriteStream(dest));
  } catch (err) {
    await rm(dest, { force: true });
    throw err;
  }
  return md5.digest('hex');
}
