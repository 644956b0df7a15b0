/**
 * The work bucket: where the personal parts of a running request live (identity, findings,
 * plan), so the state machine only carries references, counts and hashes.
 */
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { versionPages } from '../aws/s3-version-pages';
import { canonicalJson, sha256Hex } from './hash';
import { IntegrityError } from './errors';

export class Workspace {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  static key(requestId: string, name: string): string {
    return `requests/${requestId}/${name}`;
  }

  /** Writes canonical JSON and returns its SHA-256, which the state carries instead of the data. */
  async putJson(key: string, value: unknown): Promise<string> {
    const body = canonicalJson(value);
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }));
    return sha256Hex(body);
  }

  /** Writes a text document as it is (a JSON Lines manifest a Distributed Map reads). */
  async putText(key: string, body: string, contentType: string): Promise<string> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
    return sha256Hex(body);
  }

  /**
   * Writes the document unless the key already holds one (If-None-Match: *), so writers that
   * keep the same document — every store of an erasure, then ScheduleDeferred — leave one version.
   */
  async putJsonOnce(key: string, value: unknown): Promise<'written' | 'exists'> {
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: canonicalJson(value), ContentType: 'application/json', IfNoneMatch: '*' }));
      return 'written';
    } catch (err) {
      // 412: it is there; 409: another writer's conditional PUT of the same key is under way.
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return 'exists';
      throw err;
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const text = await this.getText(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await out.Body!.transformToString('utf8');
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  /** Deletes every version and delete marker of exactly this key (personal documents whose purpose is over). */
  async deleteEveryVersion(key: string): Promise<void> {
    for await (const page of versionPages((command) => this.s3.send(command), { Bucket: this.bucket, Prefix: key })) {
      for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].filter((v) => v.Key === key)) {
        await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: v.VersionId }));
      }
    }
  }

  /** Reads JSON and checks it still hashes to what the state recorded. */
  async getVerifiedJson<T>(key: string, expectedHash: string): Promise<T | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = await out.Body!.transformToString('utf8');
      if (sha256Hex(text) !== expectedHash) throw new IntegrityError(`work object ${key} does not match its recorded hash`, { key });
      return JSON.parse(text) as T;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }
}
