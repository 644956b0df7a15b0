import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errors } from './errors';
import { MetadataWriter } from './persist';
import {
  compareKeys,
  lowerBound,
  newId,
  type BucketMeta,
  type KeyEntry,
  type PartMeta,
  type Segment,
  type UploadMeta,
} from './model';

export interface Upload {
  meta: UploadMeta;
  parts: Map<number, PartMeta>;
}

export interface Bucket {
  meta: BucketMeta;
  keys: Map<string, KeyEntry>;
  /** Keys in S3 listing order, kept sorted on insert so listings can binary-search a marker. */
  sorted: string[];
  uploads: Map<string, Upload>;
  dir: string;
}

const FORMAT = { format: 'subject-rights-orchestrator/local-s3', version: 1 };

/**
 * Buckets, versions and uploads live in memory and are written through to `root`:
 * buckets/<name>/bucket.json, keys/<sha1(key)>.json (all versions of one key), blobs/<id>
 * (object bytes, one file per segment, owned by exactly one version: copies are hard links),
 * uploads/<id>/upload.json + part-<n>.json. Files a crash left unreferenced are removed at open.
 */
export class Store {
  readonly buckets = new Map<string, Bucket>();
  readonly tmpDir: string;
  private readonly writer: MetadataWriter;

  /** Without `durable` (no dataDir: a temp dir deleted on close) metadata is never written. */
  private constructor(
    readonly root: string,
    private readonly durable: boolean,
  ) {
    this.tmpDir = join(root, 'tmp');
    this.writer = new MetadataWriter(this.tmpDir);
  }

  static async open(root: string, durable = true): Promise<Store> {
    const store = new Store(root, durable);
    await rm(store.tmpDir, { recursive: true, force: true });
    await mkdir(store.tmpDir, { recursive: true });
    await mkdir(join(root, 'buckets'), { recursive: true });
    await store.writer.atomicWrite(join(root, 'format.json'), JSON.stringify(FORMAT));
    for (const name of await readdir(join(root, 'buckets'))) await store.loadBucket(name);
    return store;
  }

  bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw errors.noSuchBucket(name);
    return b;
  }

  async createBucket(meta: BucketMeta): Promise<void> {
    const dir = join(this.root, 'buckets', meta.name);
    const b: Bucket = { meta, keys: new Map(), sorted: [], uploads: new Map(), dir };
    this.buckets.set(meta.name, b);
    for (const sub of ['keys', 'blobs', 'uploads']) await mkdir(join(dir, sub), { recursive: true });
    await this.saveBucket(b);
  }

  saveBucket(b: Bucket): Promise<void> {
    return this.persist(join(b.dir, 'bucket.json'), () => JSON.stringify(b.meta));
  }

  async deleteBucket(b: Bucket): Promise<void> {
    this.buckets.delete(b.meta.name);
    await this.writer.drain();
    // Rename first so a crash mid-delete leaves nothing that looks like a bucket.
    const trash = join(this.tmpDir, `deleted-${newId(8)}`);
    await rename(b.dir, trash);
    await rm(trash, { recursive: true, force: true });
  }

  /** The key's entry, created (and indexed) if needed. */
  entryFor(b: Bucket, key: string): KeyEntry {
    let e = b.keys.get(key);
    if (!e) {
      e = { key, versions: [] };
      b.keys.set(key, e);
      b.sorted.splice(lowerBound(b.sorted, key, true), 0, key);
    }
    return e;
  }

  /** Persists one key's versions; an entry left with no versions is dropped from the index. */
  saveKey(b: Bucket, key: string): Promise<void> {
    const e = b.keys.get(key);
    if (e && e.versions.length === 0) {
      b.keys.delete(key);
      const i = lowerBound(b.sorted, key, true);
      if (b.sorted[i] === key) b.sorted.splice(i, 1);
    }
    return this.persist(join(b.dir, 'keys', `${keyHash(key)}.json`), () => {
      const live = b.keys.get(key);
      return live ? JSON.stringify(live) : null;
    });
  }

  blobPath(b: Bucket, file: string): string {
    return join(b.dir, 'blobs', file);
  }

  /**
   * A fresh blob name to stream a body into. Bytes land in place (no rename on commit): a blob
   * no version references is removed at the next open, so a crash mid-upload leaves no trace.
   */
  newBlob(b: Bucket): { file: string; path: string } {
    const file = newId();
    return { file, path: this.blobPath(b, file) };
  }

  /** Gives a new owner its own name for existing bytes (copies, completed uploads). */
  async shareBlob(b: Bucket, sourcePath: string): Promise<string> {
    const file = newId();
    const dest = this.blobPath(b, file);
    try {
      await link(sourcePath, dest);
    } catch {
      await copyFile(sourcePath, dest);
    }
    return file;
  }

  async removeBlobs(b: Bucket, segments: readonly Segment[]): Promise<void> {
    await Promise.all(segments.map((s) => unlink(this.blobPath(b, s.file)).catch(() => undefined)));
  }

  uploadDir(b: Bucket, uploadId: string): string {
    return join(b.dir, 'uploads', uploadId);
  }

  async createUpload(b: Bucket, meta: UploadMeta): Promise<void> {
    b.uploads.set(meta.uploadId, { meta, parts: new Map() });
    await mkdir(this.uploadDir(b, meta.uploadId), { recursive: true });
    await this.persist(join(this.uploadDir(b, meta.uploadId), 'upload.json'), () => JSON.stringify(meta));
  }

  savePart(b: Bucket, upload: Upload, partNumber: number): Promise<void> {
    const path = join(this.uploadDir(b, upload.meta.uploadId), `part-${partNumber}.json`);
    return this.persist(path, () => {
      const part = upload.parts.get(partNumber);
      return part ? JSON.stringify(part) : null;
    });
  }

  partPath(b: Bucket, uploadId: string, file: string): string {
    return join(this.uploadDir(b, uploadId), file);
  }

  async removeUpload(b: Bucket, uploadId: string): Promise<void> {
    b.uploads.delete(uploadId);
    const trash = join(this.tmpDir, `upload-${newId(8)}`);
    await rename(this.uploadDir(b, uploadId), trash).catch(() => undefined);
    await rm(trash, { recursive: true, force: true });
  }

  private persist(path: string, produce: () => string | null): Promise<void> {
    return this.durable ? this.writer.write(path, produce) : Promise.resolve();
  }

  async close(): Promise<void> {
    await this.writer.drain();
  }

  private async loadBucket(name: string): Promise<void> {
    const dir = join(this.root, 'buckets', name);
    const meta = await readJson<BucketMeta>(join(dir, 'bucket.json'));
    if (!meta) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    const b: Bucket = { meta, keys: new Map(), sorted: [], uploads: new Map(), dir };
    for (const sub of ['keys', 'blobs', 'uploads']) await mkdir(join(dir, sub), { recursive: true });
    const referenced = new Set<string>();
    for (const file of await readdir(join(dir, 'keys'))) {
      const e = await readJson<KeyEntry>(join(dir, 'keys', file));
      if (!e || e.versions.length === 0) continue;
      b.keys.set(e.key, e);
      for (const v of e.versions) for (const s of v.segments) referenced.add(s.file);
    }
    b.sorted = [...b.keys.keys()].sort(compareKeys);
    for (const file of await readdir(join(dir, 'blobs'))) {
      if (!referenced.has(file)) await rm(join(dir, 'blobs', file), { force: true });
    }
    for (const id of await readdir(join(dir, 'uploads'))) await this.loadUpload(b, id);
    this.buckets.set(name, b);
  }

  private async loadUpload(b: Bucket, uploadId: string): Promise<void> {
    const dir = this.uploadDir(b, uploadId);
    const meta = await readJson<UploadMeta>(join(dir, 'upload.json'));
    if (!meta) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    const upload: Upload = { meta, parts: new Map() };
    const files = await readdir(dir);
    for (const f of files.filter((n) => /^part-\d+\.json$/.test(n))) {
      const part = await readJson<PartMeta>(join(dir, f));
      if (part) upload.parts.set(part.partNumber, part);
    }
    const kept = new Set([...upload.parts.values()].map((p) => p.file));
    for (const f of files) {
      if (f.endsWith('.bin') && !kept.has(f)) await rm(join(dir, f), { force: true });
    }
    b.uploads.set(uploadId, upload);
  }
}

function keyHash(key: string): string {
  return createHash('sha1').update(key).digest('hex');
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
