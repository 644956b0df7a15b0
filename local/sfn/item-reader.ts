/**
 * A Distributed Map's items: ItemsPath over the state input, or an ItemReader that reads S3
 * (`s3:getObject` with ReaderConfig InputType JSON / JSONL, or `s3:listObjectsV2`), signed as
 * the state machine's role so the local IAM decides as AWS would. A read that fails is
 * `States.ItemReaderFailed` (AWS's name for every ItemReader failure: access, missing object,
 * unparsable content, an input that is not an array).
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { simplePath } from './definition';
import { resolveTemplate } from './paths';

export const ITEM_READER_FAILED = 'States.ItemReaderFailed';

export class MapRunFailure extends Error {
  constructor(
    readonly error: string,
    cause: string,
  ) {
    super(cause);
    this.name = error;
  }
}

export interface S3Access {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export const s3Client = (access: S3Access): S3Client =>
  new S3Client({ endpoint: access.endpoint, region: access.region, forcePathStyle: true, credentials: access.credentials, maxAttempts: 1 });

interface ItemReaderSpec {
  Resource?: string;
  Parameters?: unknown;
  ReaderConfig?: { InputType?: string; MaxItems?: number; MaxItemsPath?: string; CSVHeaderLocation?: string };
}

/** AWS caps MaxItems at 100,000,000; 0 or absent means no limit. */
function maxItems(config: ItemReaderSpec['ReaderConfig'], input: unknown): number {
  const raw = config?.MaxItemsPath !== undefined ? simplePath(config.MaxItemsPath, input) : config?.MaxItems;
  if (raw === undefined || raw === 0) return Infinity;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw > 100_000_000) {
    throw new MapRunFailure('States.Runtime', `MaxItems must be an integer from 0 to 100000000, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** JSONL as AWS reads it: one JSON value per line; empty lines are skipped, a bad line fails the read. */
export function parseJsonl(text: string): unknown[] {
  const items: unknown[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    try {
      items.push(JSON.parse(lines[i]));
    } catch {
      throw new MapRunFailure(ITEM_READER_FAILED, `Failed to parse line ${i + 1} of the JSONL item source as JSON.`);
    }
  }
  return items;
}

const describeS3Error = (err: unknown): string => {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return `${e.name ?? 'Error'}: ${e.message ?? String(err)} (Service: S3, Status Code: ${e.$metadata?.httpStatusCode ?? 0})`;
};

export async function readItems(state: Record<string, unknown>, input: unknown, context: unknown, s3: S3Access | undefined): Promise<unknown[]> {
  const reader = state.ItemReader as ItemReaderSpec | undefined;
  if (!reader) {
    const items = simplePath(typeof state.ItemsPath === 'string' ? state.ItemsPath : '$', input);
    if (!Array.isArray(items)) throw new MapRunFailure('States.Runtime', 'Map state input at ItemsPath is not a JSON array.');
    return items;
  }
  const limit = maxItems(reader.ReaderConfig, input);
  if (!s3) throw new MapRunFailure(ITEM_READER_FAILED, 'The local Step Functions server was started without an S3 endpoint (s3Endpoint option).');
  const params = resolveTemplate(reader.Parameters ?? {}, input, context) as Record<string, unknown>;
  const client = s3Client(s3);
  try {
    if (reader.Resource === 'arn:aws:states:::s3:listObjectsV2') return await listObjects(client, params, limit);
    if (reader.Resource !== 'arn:aws:states:::s3:getObject') throw new MapRunFailure(ITEM_READER_FAILED, `ItemReader resource ${String(reader.Resource)} is not supported locally.`);
    const type = reader.ReaderConfig?.InputType ?? 'JSON';
    if (type !== 'JSON' && type !== 'JSONL') throw new MapRunFailure(ITEM_READER_FAILED, `ReaderConfig InputType ${type} is not supported locally (JSON and JSONL are).`);
    let text: string;
    try {
      const got = await client.send(new GetObjectCommand({ Bucket: String(params.Bucket), Key: String(params.Key), ...(params.VersionId ? { VersionId: String(params.VersionId) } : {}) }));
      text = await (got.Body as { transformToString(): Promise<string> }).transformToString();
    } catch (err) {
      throw new MapRunFailure(ITEM_READER_FAILED, describeS3Error(err));
    }
    let items: unknown[];
    if (type === 'JSONL') items = parseJsonl(text);
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new MapRunFailure(ITEM_READER_FAILED, 'The item source object is not valid JSON.');
      }
      if (!Array.isArray(parsed)) throw new MapRunFailure(ITEM_READER_FAILED, 'The item source object is not a JSON array.');
      items = parsed;
    }
    return items.slice(0, Math.min(items.length, limit));
  } finally {
    client.destroy();
  }
}

/** Items as AWS gives them for listObjectsV2: Key, Etag (quoted, as S3 returns it), LastModified (epoch seconds), Size, StorageClass. */
async function listObjects(client: S3Client, params: Record<string, unknown>, limit: number): Promise<unknown[]> {
  const items: unknown[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListObjectsV2Command({ Bucket: String(params.Bucket), Prefix: params.Prefix as string | undefined, ContinuationToken: token }));
    } catch (err) {
      throw new MapRunFailure(ITEM_READER_FAILED, describeS3Error(err));
    }
    for (const o of page.Contents ?? []) {
      if (items.length >= limit) return items;
      items.push({ Etag: o.ETag, Key: o.Key, LastModified: o.LastModified ? Math.floor(o.LastModified.getTime() / 1000) : undefined, Size: o.Size, StorageClass: o.StorageClass ?? 'STANDARD' });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return items;
}
