/**
 * The bytes of one log object as decompressed chunks: gzip told by its magic bytes (or by the
 * store's setting), small objects inflated whole in one zlib call, big ones streamed. Errors say
 * whose fault a failure is: the object's (UnreadableObjectError) or the source's (SourceReadError).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import { DsrError } from '../core/errors';

export type Compression = 'gzip' | 'none' | 'auto';

/** Why an object cannot be read as records. Safe for logs and history (no content). */
export type UnreadableReason = 'corrupt-gzip' | 'not-gzip' | 'csv-header';

/** The object's bytes cannot be read as the store's records; nothing was changed. */
export class UnreadableObjectError extends DsrError {
  constructor(
    readonly reason: UnreadableReason,
    options?: ErrorOptions,
  ) {
    super(`object unreadable: ${reason}`, { reason }, options);
    this.name = 'UnreadableObject';
  }
}

/** Reading the source failed (network, S3): not the object's fault. */
export class SourceReadError extends DsrError {
  constructor(options?: ErrorOptions) {
    super('reading the object failed', undefined, options);
    this.name = 'SourceReadError';
  }
}

const GZIP_CHUNK = 256 * 1024;
/**
 * Default for `wholeObjectBytes`: an object whose stored bytes fit in this is read whole and decompressed in one zlib call, and
 * its records are framed and scanned in one region. Log objects are mostly small (an hour of one
 * host), and for them the stream machinery (a gunzip stream, 256 KiB chunks, a region and a
 * pending copy per chunk) cost more CPU than the decompression and the scan together.
 */
export const WHOLE_STORED_BYTES = 4 * 1024 * 1024;
/** ...as long as it decompresses to at most this; a bigger one is streamed after all. */
const WHOLE_DECODED_BYTES = 32 * 1024 * 1024;

/**
 * zlib's output chunk for a whole object: its decompressed size, read from the gzip trailer
 * (ISIZE, the last member's size mod 2^32), so that the output comes back in one piece with no
 * concatenation. Only a hint: a wrong one costs a copy, never a byte.
 */
function wholeChunkSize(gz: Buffer): number {
  const isize = gz.length >= 18 ? gz.readUInt32LE(gz.length - 4) : 0;
  return Math.min(Math.max(isize + 1, 64 * 1024), WHOLE_DECODED_BYTES);
}

/** Decompressed chunks of `body`; detects gzip by its magic bytes when `compression` is auto. */
export async function* decode(body: AsyncIterable<Uint8Array>, compression: Compression, wholeLimit: number, state: { gzip: boolean }): AsyncGenerator<Buffer> {
  const it = body[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let done = false;
  const next = async (): Promise<IteratorResult<Uint8Array>> => {
    try {
      return await it.next();
    } catch (err) {
      throw new SourceReadError({ cause: err });
    }
  };
  // Read ahead up to the whole-object limit (small objects end within it), and at least the two
  // bytes that tell gzip.
  while (headLength < 2 || headLength <= wholeLimit) {
    const r = await next();
    if (r.done) {
      done = true;
      break;
    }
    const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    head.push(b);
    headLength += b.length;
  }
  const first = head.length === 1 ? head[0] : Buffer.concat(head, headLength);
  const magic = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  const gzip = compression === 'gzip' || (compression === 'auto' && magic);
  state.gzip = gzip;
  if (gzip && !magic) {
    if (first.length === 0 && compression === 'gzip') return; // an empty object holds no records
    throw new UnreadableObjectError('not-gzip');
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (done) return;
    for (;;) {
      const r = await next();
      if (r.done) return;
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
  }
  if (!gzip) {
    yield* rest();
    return;
  }
  if (done && headLength <= wholeLimit) {
    let whole: Buffer | undefined;
    try {
      // Synchronously: the inflate is the same work either way, and the thread pool's round
      // trip (a handle, a callback, an idle main thread) cost CPU per object on top of it. The
      // output is bounded by WHOLE_DECODED_BYTES, so the event loop waits a few ms at most.
      whole = gunzipSync(first, { chunkSize: wholeChunkSize(first), maxOutputLength: WHOLE_DECODED_BYTES });
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') throw new UnreadableObjectError('corrupt-gzip', { cause: err });
    }
    if (whole) {
      yield whole;
      return;
    }
  }
  const gunzipStream = createGunzip({ chunkSize: GZIP_CHUNK });
  let sourceError: unknown;
  const feeding = pipeline(
    Readable.from(
      (async function* () {
        try {
          yield* rest();
        } catch (err) {
          sourceError = err;
          throw err;
        }
      })(),
    ),
    gunzipStream,
  ).catch(() => undefined);
  try {
    for await (const chunk of gunzipStream) yield chunk as Buffer;
  } catch (err) {
    if (sourceError) throw sourceError;
    throw new UnreadableObjectError('corrupt-gzip', { cause: err });
  } finally {
    gunzipStream.destroy();
    void feeding;
  }
  if (sourceError) throw sourceError;
}
