/**
 * The delete marker over a version that stays: deleting it would make the kept version (held,
 * or not in the plan) the current object again, served to every reader though its owner deleted
 * it. The s3-objects connector keeps such a marker and reports it; a marker over versions that
 * all go is deleted with them. Against the project's own S3 server, with Object Lock.
 */
import { CreateBucketCommand, DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand, PutObjectLegalHoldCommand } from '@aws-sdk/client-s3';
import { s3ObjectsConnector } from '../../functions/connectors/s3-objects';
import type { S3ObjectLocator } from '../../functions/connectors/types';
import { S3ObjectsStoreSchema } from '../../functions/core/datamap';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';
import { testContext } from './dynamodb-fixtures';

let env: TestEndpoints;
beforeAll(async () => {
  env = await startTestEndpoints({ dynamodb: false });
});
afterAll(() => env?.close());

test('a marker over a held version stays (reported); a marker over versions that all go is deleted', async () => {
  const bucket = `markers-${Date.now().toString(36)}`;
  await env.s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  const store = S3ObjectsStoreSchema.parse({ name: 'voicemail', kind: 's3-objects', category: 'voicemail', bucket, keyTemplate: 'voicemail/{accountId}/' });
  const held = 'voicemail/cust-1/held.wav';
  const gone = 'voicemail/cust-1/gone.wav';
  const heldVersion = (await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: held, Body: 'held message' }))).VersionId!;
  await env.s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: held, VersionId: heldVersion, LegalHold: { Status: 'ON' } }));
  const heldMarker = (await env.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: held }))).VersionId!;
  await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: gone, Body: 'message' }));
  await env.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: gone }));

  const ctx = testContext(env.dynamodb, [], env.s3);
  const findings = await s3ObjectsConnector.discover(store, { accountId: ['cust-1'] }, ctx);
  expect(findings).toHaveLength(4);
  const result = await s3ObjectsConnector.apply(store, { accountId: ['cust-1'] }, findings.map((finding) => ({ finding, action: 'delete' as const })), ctx);
  const byId = new Map(findings.map((f) => [f.id, f.locator as S3ObjectLocator]));
  expect(result.applied).toEqual({ delete: 2 });
  expect(result.refused.map((r) => [byId.get(r.findingId)!.versionId, r.reason]).sort()).toEqual(
    [
      [heldVersion, 'legal-hold'],
      [heldMarker, 'marker-hides-kept-version'],
    ].sort(),
  );
  const left = await env.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  expect((left.Versions ?? []).map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual([[held, heldVersion, false]]);
  expect((left.DeleteMarkers ?? []).map((m) => [m.Key, m.VersionId, m.IsLatest])).toEqual([[held, heldMarker, true]]);
  await env.s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: held, VersionId: heldVersion, LegalHold: { Status: 'OFF' } }));
});
