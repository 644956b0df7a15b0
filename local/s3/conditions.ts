import { errors } from './errors';
import type { ObjectVersion } from './model';

type Headers = (name: string) => string | undefined;

function etagList(value: string): string[] {
  return value.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
}

function matches(value: string, etag: string): boolean {
  return etagList(value).some((t) => t === '*' || t === etag);
}

/** HTTP dates carry whole seconds, so comparisons drop the stored milliseconds. */
function modifiedSince(lastModified: number, value: string): boolean | undefined {
  const since = Date.parse(value);
  if (Number.isNaN(since)) return undefined;
  return Math.floor(lastModified / 1000) * 1000 > since;
}

/**
 * RFC 7232 evaluation as S3 documents it for GET/HEAD: If-Match wins over If-Unmodified-Since,
 * If-None-Match over If-Modified-Since. Returns 304 for "not modified", throws 412 on failure.
 */
export function checkReadConditions(get: Headers, v: ObjectVersion, prefix = ''): 304 | undefined {
  const ifMatch = get(`${prefix}if-match`);
  const ifNoneMatch = get(`${prefix}if-none-match`);
  const ifModified = get(`${prefix}if-modified-since`);
  const ifUnmodified = get(`${prefix}if-unmodified-since`);
  if (ifMatch !== undefined) {
    if (!matches(ifMatch, v.etag)) throw errors.preconditionFailed(`${prefix}If-Match`);
  } else if (ifUnmodified !== undefined && modifiedSince(v.lastModified, ifUnmodified) === true) {
    throw errors.preconditionFailed(`${prefix}If-Unmodified-Since`);
  }
  if (ifNoneMatch !== undefined) {
    if (matches(ifNoneMatch, v.etag)) return 304;
  } else if (ifModified !== undefined && modifiedSince(v.lastModified, ifModified) === false) {
    return 304;
  }
  return undefined;
}

/**
 * Conditional writes (PutObject, CompleteMultipartUpload): If-None-Match: * fails if the key has
 * a current object; If-Match fails with 404 when there is none and 412 when its ETag differs.
 */
export function checkWriteConditions(get: Headers, key: string, current: ObjectVersion | undefined): void {
  const live = current && !current.deleteMarker ? current : undefined;
  const ifNoneMatch = get('if-none-match');
  const ifMatch = get('if-match');
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') throw errors.notImplemented('If-None-Match other than *');
    if (live) throw errors.preconditionFailed('If-None-Match');
  }
  if (ifMatch !== undefined) {
    if (!live) throw errors.noSuchKey(key);
    if (!matches(ifMatch, live.etag)) throw errors.preconditionFailed('If-Match');
  }
}

/**
 * Conditional deletes (DeleteObject's If-Match header, DeleteObjects' per-object ETag element):
 * evaluated against the key's current version whatever version is deleted, as S3 documents it.
 * No current object (or a delete marker) is 404 NoSuchKey; another ETag is 412.
 */
export function checkDeleteCondition(ifMatch: string | undefined, key: string, current: ObjectVersion | undefined): void {
  if (ifMatch === undefined) return;
  if (!current || current.deleteMarker) throw errors.noSuchKey(key);
  if (!matches(ifMatch, current.etag)) throw errors.preconditionFailed('If-Match');
}

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A single "bytes=" range. Syntactically invalid or multi-range headers are ignored (whole
 * object, as S3 does); a well-formed range that starts past the end is 416 InvalidRange.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw errors.invalidRange(value, size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw errors.invalidRange(value, size);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  return { start, end: Math.min(end, size - 1) };
}
