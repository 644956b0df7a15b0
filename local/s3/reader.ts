import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Segment } from './model';

interface Slice {
  handle: FileHandle;
  start: number;
  end: number;
}

/**
 * Opens the files holding bytes [start, end] of an object before anything is sent, so that a
 * concurrent overwrite or delete (which unlinks files) cannot cut the response short: an open
 * file stays readable after unlink. Throws ENOENT if a file was already gone.
 */
export async function openRange(paths: (s: Segment) => string, segments: Segment[], start: number, end: number): Promise<Readable> {
  const slices: Slice[] = [];
  try {
    let offset = 0;
    for (const seg of segments) {
      const segStart = offset;
      const segEnd = offset + seg.size - 1;
      offset += seg.size;
      if (seg.size === 0 || segEnd < start || segStart > end) continue;
      const handle = await open(paths(seg), 'r');
      slices.push({ handle, start: Math.max(start, segStart) - segStart, end: Math.min(end, segEnd) - segStart });
    }
  } catch (err) {
    await Promise.all(slices.map((s) => s.handle.close()));
    throw err;
  }
  const readable = Readable.from(concat(slices), { objectMode: false });
  // On 'close' rather than in the generator: a generator destroyed before it started never runs
  // its finally block, and a client can go away before the first byte.
  readable.once('close', () => {
    for (const s of slices) s.handle.close().catch(() => undefined);
  });
  return readable;
}

async function* concat(slices: Slice[]): AsyncGenerator<Buffer> {
  for (const { handle, start, end } of slices) {
    const stream = handle.createReadStream({ start, end, autoClose: false, highWaterMark: 1024 * 1024 });
    for await (const chunk of stream) yield chunk as Buffer;
  }
}
