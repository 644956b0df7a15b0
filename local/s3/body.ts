import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { AwsChunkedDecoder, isAwsChunked } from './chunked';
import { errors, S3Error } from './errors';
import { CHECKSUM_ALGORITHMS, type Checksum, type ChecksumAlgorithm } from './model';

export const MAX_PUT_SIZE = 5 * 1024 ** 3;
const MAX_XML_BODY = 4 * 1024 * 1024;

/** Computes digests as bytes pass; CRC32C/CRC64NVME are left to the client (stored as sent). */
class Digester {
  readonly md5 = createHash('md5');
  private crc = 0;
  private readonly hash?: Hash;

  constructor(readonly algorithm?: ChecksumAlgorithm) {
    if (algorithm === 'SHA1') this.hash = createHash('sha1');
    if (algorithm === 'SHA256') this.hash = createHash('sha256');
  }

  update(chunk: Buffer): void {
    this.md5.update(chunk);
    if (this.algorithm === 'CRC32') this.crc = crc32(chunk, this.crc);
    else this.hash?.update(chunk);
  }

  /** base64 digest for the checksum algorithm, if this endpoint can compute it. */
  checksum(): string | undefined {
    if (this.algorithm === 'CRC32') {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(this.crc >>> 0);
      return out.toString('base64');
    }
    return this.hash?.digest('base64');
  }
}

export interface ReceivedBody {
  path: string;
  size: number;
  md5: string;
  checksum?: Checksum;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The checksum algorithm a request declares, by header, trailer announcement or SDK hint. */
function requestedAlgorithm(req: IncomingMessage): ChecksumAlgorithm | undefined {
  const names = [header(req, 'x-amz-trailer') ?? '', ...Object.keys(req.headers)];
  for (const name of names) {
    const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(name.trim().toLowerCase());
    const algo = m && CHECKSUM_ALGORITHMS.find((a) => a.toLowerCase() === m[1]);
    if (algo) return algo;
  }
  const hint = header(req, 'x-amz-sdk-checksum-algorithm')?.toUpperCase();
  return CHECKSUM_ALGORITHMS.find((a) => a === hint);
}

/** Whether a request carries an integrity check S3 accepts for Object Lock uploads: Content-MD5 or a checksum. */
export function declaresIntegrity(req: IncomingMessage): boolean {
  return header(req, 'content-md5') !== undefined || requestedAlgorithm(req) !== undefined;
}

/** The request body with any aws-chunked framing removed, and that framing's trailers. */
function decodedStream(req: IncomingMessage): { source: Readable; trailers: () => Record<string, string> } {
  if (!isAwsChunked(req.headers)) return { source: req, trailers: () => ({}) };
  const decoder = new AwsChunkedDecoder();
  req.on('error', (err) => decoder.destroy(err));
  return { source: req.pipe(decoder), trailers: () => decoder.trailers };
}

function declaredLength(req: IncomingMessage): number | undefined {
  const raw = header(req, 'x-amz-decoded-content-length') ?? (isAwsChunked(req.headers) ? undefined : header(req, 'content-length'));
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Streams a request body to `path` while computing its MD5 and declared checksum, then checks
 * Content-MD5, x-amz-checksum-* (header or trailer) and the declared length. On any failure the
 * file is removed and an S3Error is thrown.
 */
export async function receiveBody(req: IncomingMessage, path: string, maxSize = MAX_PUT_SIZE): Promise<ReceivedBody> {
  const expected = declaredLength(req);
  if (expected !== undefined && expected > maxSize) throw errors.entityTooLarge(maxSize);
  const algorithm = requestedAlgorithm(req);
  const digest = new Digester(algorithm);
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      size += chunk.length;
      if (size > maxSize) return done(errors.entityTooLarge(maxSize));
      digest.update(chunk);
      done(null, chunk);
    },
  });
  const { source, trailers } = decodedStream(req);
  try {
    await pipeline(source, meter, createWriteStream(path, { highWaterMark: 1024 * 1024 }));
    if (expected !== undefined && size !== expected) throw errors.incompleteBody();
    const md5 = digest.md5.digest();
    verifyContentMd5(header(req, 'content-md5'), md5);
    const checksum = verifyChecksum(req, algorithm, digest.checksum(), trailers());
    return { path, size, md5: md5.toString('hex'), checksum };
  } catch (err) {
    await rm(path, { force: true });
    if (err instanceof S3Error) throw err;
    if (req.destroyed || req.readableAborted) throw errors.incompleteBody();
    throw err;
  }
}

function verifyContentMd5(given: string | undefined, md5: Buffer): void {
  if (given === undefined) return;
  const raw = Buffer.from(given, 'base64');
  if (raw.length !== 16) throw errors.invalidDigest();
  if (!raw.equals(md5)) throw errors.badDigest('Content-MD5');
}

function verifyChecksum(
  req: IncomingMessage,
  algorithm: ChecksumAlgorithm | undefined,
  computed: string | undefined,
  trailers: Record<string, string>,
): Checksum | undefined {
  if (!algorithm) return undefined;
  const name = `x-amz-checksum-${algorithm.toLowerCase()}`;
  const given = header(req, name) ?? trailers[name];
  if (given !== undefined && computed !== undefined && given !== computed) throw errors.badDigest(algorithm);
  const value = given ?? computed;
  return value === undefined ? undefined : { algorithm, value, type: 'FULL_OBJECT' };
}

/**
 * Reads a small (XML) body into memory, decoding aws-chunked framing if present. Operations S3
 * marks as needing an integrity check (DeleteObjects, the Object Lock settings) pass
 * `integrityRequired`: without Content-MD5 or a checksum they are refused, as on S3.
 */
export async function readSmallBody(req: IncomingMessage, integrityRequired = false): Promise<Buffer> {
  if (integrityRequired && !declaresIntegrity(req)) {
    throw errors.invalidRequest('Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
  }
  const parts: Buffer[] = [];
  let size = 0;
  const { source } = decodedStream(req);
  await pipeline(
    source,
    new Writable({
      write(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > MAX_XML_BODY) return done(errors.malformedXml());
        parts.push(chunk);
        done();
      },
    }),
  );
  const body = Buffer.concat(parts);
  verifyContentMd5(header(req, 'content-md5'), createHash('md5').update(body).digest());
  return body;
}
