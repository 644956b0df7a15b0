import { randomBytes } from 'node:crypto';

export type VersioningStatus = 'Enabled' | 'Suspended';
export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** x-amz-server-side-encryption values: SSE-S3, SSE-KMS and DSSE-KMS (SSE-C is not offered). */
export type SseAlgorithm = 'AES256' | 'aws:kms' | 'aws:kms:dsse';
export const SSE_ALGORITHMS: readonly SseAlgorithm[] = ['AES256', 'aws:kms', 'aws:kms:dsse'];

/** How one version (or upload) is encrypted, as S3 reports it on GET/HEAD. */
export interface Encryption {
  algorithm: SseAlgorithm;
  /** The KMS key's ARN (the account's aws/s3 key when none was named); absent for AES256. */
  kmsKeyArn?: string;
  /** Only for aws:kms, and only when true (S3 sends the header only then). */
  bucketKey?: boolean;
}

/** A bucket's default encryption (PutBucketEncryption), kept as given: S3 does not validate the key id. */
export interface BucketEncryption {
  algorithm: SseAlgorithm;
  kmsMasterKeyId?: string;
  bucketKeyEnabled: boolean;
}

export interface DefaultRetention {
  mode: LockMode;
  days?: number;
  years?: number;
}

export interface BucketMeta {
  name: string;
  created: number;
  region: string;
  /** Absent until versioning is first configured: objects then get the "null" version id. */
  versioning?: VersioningStatus;
  objectLock: boolean;
  defaultRetention?: DefaultRetention;
  /** Absent: S3's base level, SSE-S3 (AES256) for every new object. */
  encryption?: BucketEncryption;
}

/** One file holding a contiguous run of an object's bytes; multipart objects keep one per part. */
export interface Segment {
  file: string;
  size: number;
}

export interface Tag {
  key: string;
  value: string;
}

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  value: string;
  /** COMPOSITE for multipart checksums-of-checksums ("…-N"), FULL_OBJECT otherwise. */
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

export interface Retention {
  mode: LockMode;
  until: number;
}

export interface ObjectVersion {
  versionId: string;
  deleteMarker: boolean;
  lastModified: number;
  etag: string;
  size: number;
  segments: Segment[];
  /** Stored representation headers: content-type, content-encoding, …, x-amz-meta-*. */
  headers: Record<string, string>;
  tags: Tag[];
  storageClass?: string;
  checksum?: Checksum;
  retention?: Retention;
  legalHold?: boolean;
  /** Absent on versions stored before encryption was modelled: read as AES256, S3's base level. */
  encryption?: Encryption;
  /** Set on a version made by CompleteMultipartUpload, so that a retry of it can be answered again. */
  completedUpload?: CompletedUpload;
}

export interface CompletedUpload {
  uploadId: string;
  /** The completion's part list, "number:etag" joined by commas: a retry must name the same parts. */
  parts: string;
}

export interface KeyEntry {
  key: string;
  /** Newest first, which is also the order ListObjectVersions reports them in. */
  versions: ObjectVersion[];
}

/** Object settings given at CreateMultipartUpload and applied when the upload completes. */
export interface UploadMeta {
  uploadId: string;
  key: string;
  initiated: number;
  headers: Record<string, string>;
  tags: Tag[];
  storageClass?: string;
  retention?: Retention;
  legalHold?: boolean;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: 'FULL_OBJECT' | 'COMPOSITE';
  encryption?: Encryption;
}

export interface PartMeta {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: number;
  file: string;
  checksum?: Checksum;
}

export const NULL_VERSION = 'null';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 32 letters and digits: never a leading '-', which command-line parsers take for an option. */
export function newVersionId(): string {
  return Array.from(randomBytes(32), (byte) => ALNUM[byte % ALNUM.length]).join('');
}

export function newId(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

/** S3 orders keys by their UTF-8 bytes; UTF-16 order differs only once surrogates are involved. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a.slice(i)), Buffer.from(b.slice(i)));
  }
  return a.length - b.length;
}

/** Index of the first element of `sorted` that is greater than `key` (or >= when inclusive). */
export function lowerBound(sorted: readonly string[], key: string, inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(sorted[mid], key);
    if (c < 0 || (!inclusive && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const quoteEtag = (hex: string): string => `"${hex}"`;
