/**
 * A ZIP written as a stream, one entry after the other, with the SHA-256 and size of every
 * entry computed on the way through and the SHA-256 of the whole archive computed on the way
 * out. Only the entry being written is open at any time; nothing holds a whole file. yazl does
 * the ZIP format (ZIP64 where sizes or offsets pass 4 GB).
 */
import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { ZipFile } from 'yazl';

export interface EntryResult {
  readonly size: number;
  readonly sha256: string;
}

export interface EntryOptions {
  /** Deflate (text) or store (media, already compressed or not worth the CPU). Default: deflate. */
  readonly compress?: boolean;
  /** Expected size: yazl fails the archive if the stream gives another number of bytes. */
  readonly size?: number;
}

/** Counts and hashes what passes through. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  digest?: string;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    cb();
  }
}

export class StreamingZip {
  private readonly zip = new ZipFile();
  private readonly outHash = new HashingStream();
  private failed?: Error;
  private readonly failure: Promise<never>;
  private fail!: (err: Error) => void;
  private current?: Readable;
  /** The archive's bytes: read this (e.g. as the Body of an S3 upload). */
  readonly output: Readable;

  constructor(
    private readonly base: string,
    private readonly mtime: Date,
  ) {
    this.failure = new Promise<never>((_ok, reject) => {
      this.fail = (err) => {
        if (this.failed) return;
        this.failed = err;
        reject(err);
      };
    });
    this.failure.catch(() => undefined);
    this.zip.on('error', (err: Error) => this.abort(err));
    this.outHash.on('error', (err: Error) => this.abort(err));
    this.zip.outputStream.on('error', (err: Error) => this.abort(err));
    this.output = this.zip.outputStream.pipe(this.outHash);
  }

  /**
   * Adds `path` (under the base directory) from the stream `open()` gives, and resolves once
   * the entry is written, with its size and SHA-256.
   */
  async addStream(path: string, open: () => Promise<Readable> | Readable, opts: EntryOptions = {}): Promise<EntryResult> {
    if (this.failed) throw this.failed;
    const hasher = new HashingStream();
    const done = new Promise<EntryResult>((resolve, reject) => {
      hasher.once('end', () => resolve({ size: hasher.bytes, sha256: hasher.digest! }));
      hasher.once('error', reject);
    });
    this.zip.addReadStreamLazy(
      `${this.base}/${path}`,
      { compress: opts.compress ?? true, mtime: this.mtime, mode: 0o100644, ...(opts.size !== undefined ? { size: opts.size } : {}) },
      (cb) => {
        Promise.resolve()
          .then(open)
          .then((source) => {
            this.current = source;
            // yazl pipes and does not forward a source's error: fail the archive ourselves.
            source.once('error', (err: Error) => {
              hasher.destroy(err);
              this.abort(err);
            });
            cb(null, source.pipe(hasher));
          }, (err: Error) => {
            this.abort(err);
            cb(err, undefined as unknown as Readable);
          });
      },
    );
    return Promise.race([done, this.failure]);
  }

  addBuffer(path: string, data: Buffer | string, opts: Omit<EntryOptions, 'size'> = {}): Promise<EntryResult> {
    const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.addStream(path, () => Readable.from([buffer]), { ...opts, size: buffer.length });
  }

  /** Writes the central directory; resolves with the archive's size and SHA-256 once it has all been read. */
  async finish(): Promise<EntryResult> {
    if (this.failed) throw this.failed;
    const done = new Promise<EntryResult>((resolve, reject) => {
      this.outHash.once('end', () => resolve({ size: this.outHash.bytes, sha256: this.outHash.digest! }));
      this.outHash.once('error', reject);
    });
    this.zip.end();
    return Promise.race([done, this.failure]);
  }

  /** Stops everything: the entry being read, the archive, whoever waits on them. */
  abort(err: Error): void {
    if (this.failed) return;
    this.fail(err);
    this.current?.destroy();
    this.outHash.destroy(err);
  }
}

