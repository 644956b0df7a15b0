/**
 * What each operation needs on an S3 store: s3-objects (one object per subject, keys from a
 * template) and s3-records (records inside shared objects, rewritten to erase). Pure data, no CDK.
 */
import type { S3ObjectsStore, S3RecordsStore } from '../functions/core/datamap';
import type { StoreNeed, StoreOperation } from './store-needs';

/** Where the s3-records connector stages rewritten objects, in the store's own bucket (its `stagingPrefix` default). */
export const S3_RECORDS_STAGING_PREFIX = '.dsr-rewrite/';

const S3_LIST = ['s3:ListBucket', 's3:ListBucketVersions'];
const S3_READ_OBJECTS = ['s3:GetObject', 's3:GetObjectVersion'];
const S3_PROTECTION = ['s3:GetObjectLegalHold', 's3:GetObjectRetention'];
const S3_READ_TAGS = ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'];
const S3_WRITE_TAGS = ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'];

/** `recordings/{accountId}/` → `recordings/*\/*`: the keys of every subject, and nothing outside the template. */
export function keyPattern(prefixOrTemplate: string): string {
  return `${prefixOrTemplate.replace(/\{[^{}]*\}/g, '*')}*`.replace(/\*+/g, '*');
}

export function s3ObjectsNeeds(store: S3ObjectsStore, operation: StoreOperation): StoreNeed[] {
  const pattern = keyPattern(store.keyTemplate);
  const bucket = { type: 'bucket', bucket: store.bucket } as const;
  const objects = { type: 'objects', bucket: store.bucket, pattern } as const;
  const list: StoreNeed = { store: store.name, actions: S3_LIST, resource: bucket, prefix: pattern };
  const on = (actions: string[]): StoreNeed => ({ store: store.name, actions, resource: objects });
  switch (operation) {
    case 'identity':
    case 'holds':
    case 'subject-dates':
    case 'expire':
    case 'consent':
      return [];
    case 'discover':
      return [list, on([...S3_READ_OBJECTS, ...S3_PROTECTION, ...S3_READ_TAGS])];
    case 'export':
      // Listing lets a version deleted since discovery read as 404 (reported missing), not 403.
      return [list, on(S3_READ_OBJECTS)];
    case 'erase':
      return [
        list,
        on([...S3_READ_OBJECTS, ...S3_PROTECTION, ...S3_READ_TAGS, ...S3_WRITE_TAGS]),
        // Every version and delete marker goes, by version id; never a bare DeleteObject.
        ...(store.erase.mode === 'delete' ? [on(['s3:DeleteObjectVersion'])] : []),
      ];
    case 'restrict':
      return [list, on([...S3_READ_OBJECTS, ...S3_PROTECTION, ...S3_READ_TAGS, ...S3_WRITE_TAGS])];
  }
}

export function s3RecordsNeeds(store: S3RecordsStore, operation: StoreOperation): StoreNeed[] {
  const pattern = keyPattern(store.prefix);
  const staging = keyPattern(S3_RECORDS_STAGING_PREFIX);
  const bucket = { type: 'bucket', bucket: store.bucket } as const;
  const objects = (p: string) => ({ type: 'objects', bucket: store.bucket, pattern: p }) as const;
  const wholeBucket = store.prefix === '';
  const list = (actions: string[], prefix: string): StoreNeed => ({ store: store.name, actions, resource: bucket, ...(wholeBucket ? {} : { prefix }) });
  const on = (actions: string[], p = pattern): StoreNeed => ({ store: store.name, actions, resource: objects(p) });
  switch (operation) {
    case 'identity':
    case 'holds':
    case 'subject-dates':
    case 'expire':
    case 'consent':
      return [];
    case 'discover':
      // Noncurrent versions (older copies, objects under a delete marker) hold records too.
      return [list(S3_LIST, pattern), on([...S3_READ_OBJECTS, ...S3_PROTECTION])];
    case 'export':
      return [list(S3_LIST, pattern), on(S3_READ_OBJECTS)];
    case 'restrict':
      // Records inside an object cannot be marked: restrictions are counted, nothing is written.
      return [list(S3_LIST, pattern), on(S3_READ_OBJECTS)];
    case 'erase': {
      // Rewrite: stage the object without the subject's records, verify, replace, remove old versions.
      // The replacement carries the replaced version's tags (read them, set them on the copy).
      const rewrite = [...S3_READ_OBJECTS, ...S3_PROTECTION, ...S3_READ_TAGS, ...S3_WRITE_TAGS, 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObjectVersion'];
      return [
        list(S3_LIST, pattern),
        { store: store.name, actions: S3_LIST, resource: bucket, prefix: staging },
        on(rewrite),
        on(rewrite, staging),
      ];
    }
  }
}
