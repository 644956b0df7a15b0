/**
 * How the seed writes into the operator's stores: table items in retried batches, media
 * versions with their legal holds, and log objects (streamed when too large to buffer).
 */
import { Transform, type Readable } from 'node:stream';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteObjectCommand, PutObjectCommand, PutObjectLegalHoldCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { LogObject, MediaObject, TableItem } from './generator';

/** Objects above this many uncompressed bytes are streamed as multipart uploads, never buffered. */
const STREAM_ABOVE_BYTES = 48 * 1024 * 1024;
/** BatchWriteItem takes at most 25 items. */
const BATCH_SIZE = 25;
const MAX_BATCH_ATTEMPTS = 12;

/** Runs tasks with at most `limit` in flight; `add` waits while the pool is full. */
export class Pool {
  private readonly running = new Set<Promise<void>>();
  private failure: unknown;
  constructor(private readonly limit: number) {}
  async add(task: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) throw this.failure;
    const p: Promise<void> = task()
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
    if (this.failure) throw this.failure;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function writeBatch(doc: DynamoDBDocumentClient, table: string, items: readonly Record<string, unknown>[]): Promise<void> {
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 1; ; attempt++) {
    const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
    const left = out.UnprocessedItems?.[table] ?? [];
    if (left.length === 0) return;
    if (attempt >= MAX_BATCH_ATTEMPTS) throw new Error(`BatchWriteItem on ${table}: ${left.length} items still unprocessed after ${attempt} attempts`);
    requests = left as typeof requests;
    await sleep(Math.min(2000, 25 * 2 ** attempt) * (0.5 + ((attempt * 7919) % 100) / 200));
  }
}

export async function loadTables(doc: DynamoDBDocumentClient, items: Iterable<TableItem>, concurrency: number, progress: (n: number) => void): Promise<Record<string, number>> {
  const pool = new Pool(concurrency);
  const counts: Record<string, number> = {};
  const pending = new Map<string, Record<string, unknown>[]>();
  let done = 0;
  const flush = async (table: string) => {
    const batch = pending.get(table);
    if (!batch || batch.length === 0) return;
    pending.set(table, []);
    await pool.add(async () => {
      await writeBatch(doc, table, batch);
      done += batch.length;
      progress(done);
    });
  };
  for (const { store, table, item } of items) {
    counts[store] = (counts[store] ?? 0) + 1;
    let batch = pending.get(table);
    if (!batch) pending.set(table, (batch = []));
    batch.push(item);
    if (batch.length >= BATCH_SIZE) await flush(table);
  }
  for (const table of [...pending.keys()]) await flush(table);
  await pool.drain();
  return counts;
}

export async function putMedia(s3: S3Client, o: MediaObject): Promise<void> {
  for (const v of o.versions) {
    if (v.deleteMarker) {
      await s3.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: o.key }));
      continue;
    }
    const put = await s3.send(new PutObjectCommand({ Bucket: o.bucket, Key: o.key, Body: v.body, ContentType: o.contentType, Metadata: { ...v.metadata } }));
    if (v.legalHold) {
      await s3.send(new PutObjectLegalHoldCommand({ Bucket: o.bucket, Key: o.key, VersionId: put.VersionId, LegalHold: { Status: 'ON' } }));
    }
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** Counts bytes passing through a stream without changing it. */
function counted(stream: Readable, onBytes: (n: number) => void): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  stream.on('error', (err) => counter.destroy(err));
  return stream.pipe(counter);
}

export async function putLog(s3: S3Client, o: LogObject): Promise<number> {
  if (o.approxBytes <= STREAM_ABOVE_BYTES) {
    const body = await collect(o.body());
    await s3.send(new PutObjectCommand({ Bucket: o.bucket, Key: o.key, Body: body, ContentType: o.contentType }));
    return body.length;
  }
  let stored = 0;
  const upload = new Upload({
    client: s3,
    params: { Bucket: o.bucket, Key: o.key, Body: counted(o.body(), (n) => (stored += n)), ContentType: o.contentType },
    partSize: 8 * 1024 * 1024,
    queueSize: 2,
  });
  await upload.done();
  return stored;
}
