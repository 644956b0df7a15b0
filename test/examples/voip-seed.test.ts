/**
 * The reference-dataset loader against real local endpoints: DynamoDB Local and the project's
 * S3 server. Seeds the small scale once, then reads everything back through the SDK.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import {
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  type ObjectVersion,
  type DeleteMarkerEntry,
} from '@aws-sdk/client-s3';
import { parse as parseCsv } from 'csv-parse/sync';
import { voipDataMap } from '../../examples/voip-operator';
import { generateDataset, type SubjectsReport } from '../../examples/voip-operator/generator';
import { createOperatorResources, operatorResourcesHoldData } from '../../examples/voip-operator/infrastructure';
import { seedReferenceDataset, serializeReport, type SeedSummary } from '../../examples/voip-operator/seed';
import { lookupQueryValues } from '../../functions/connectors/dynamodb-forms';
import { normalize } from '../../functions/core/identifiers';
import { expandTemplate, type DynamoDbStore, type S3ObjectsStore } from '../../functions/core/datamap';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';

const map = voipDataMap();
let ep: TestEndpoints;
let dir: string;
let summary: SeedSummary;
let report: SubjectsReport;

beforeAll(async () => {
  ep = await startTestEndpoints();
  dir = await mkdtemp(path.join(tmpdir(), 'dsr-voip-seed-'));
  summary = await seedReferenceDataset({ dataDir: dir, scale: 'small', seed: 7, clients: ep });
  report = JSON.parse(await readFile(summary.subjectsFile, 'utf8')) as SubjectsReport;
}, 120_000);

afterAll(async () => {
  await ep?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function count(input: QueryCommandInput): Promise<number> {
  let total = 0;
  let start: QueryCommandInput['ExclusiveStartKey'];
  do {
    const out = await ep.dynamodb.send(new QueryCommand({ ...input, Select: 'COUNT', ExclusiveStartKey: start }));
    total += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return total;
}

async function allVersions(bucket: string, prefix: string): Promise<{ versions: ObjectVersion[]; markers: DeleteMarkerEntry[] }> {
  const versions: ObjectVersion[] = [];
  const markers: DeleteMarkerEntry[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const out = await ep.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker, MaxKeys: 200 }));
    versions.push(...(out.Versions ?? []));
    markers.push(...(out.DeleteMarkers ?? []));
    if (!out.IsTruncated) return { versions, markers };
    keyMarker = out.NextKeyMarker;
    versionMarker = out.NextVersionIdMarker;
  }
}

test('subjects.json is written, and is exactly what the generator reports for the same seed', async () => {
  expect(summary.subjectsFile).toBe(path.join(dir, 'reference', 'subjects.json'));
  const expected = serializeReport(generateDataset({ scale: 'small', seed: 7 }).report());
  expect(await readFile(summary.subjectsFile, 'utf8')).toBe(expected);
  expect(summary).toMatchObject({ scale: 'small', seed: 7, asOf: '2026-11-01T00:00:00.000Z', subjects: 20 });
  expect(summary.durationMs).toBeGreaterThan(0);
  expect(summary.logBytes.uncompressed).toBe(report.totals['sip-logs'].uncompressedBytes + report.totals['app-logs'].uncompressedBytes);
  expect(summary.logBytes.stored).toBeGreaterThan(0);
  expect(summary.logBytes.stored).toBeLessThan(summary.logBytes.uncompressed);
});

test('every subject has its expected items in every table, by key and through the GSIs', async () => {
  for (const store of map.stores.filter((s): s is DynamoDbStore => s.kind === 'dynamodb')) {
    expect(summary.tables[store.name]).toBe(report.totals[store.name as 'accounts'].items);
    const owner = store.lookups.find((l) => l.role === 'owner' && !l.index)!;
    const thirdParty = store.lookups.filter((l) => l.role === 'third-party');
    for (const s of report.subjects) {
      const expected = report.subjects.find((x) => x.subjectId === s.subjectId)!.expected[store.name as 'accounts'];
      const owned = await count({ TableName: store.table, KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': owner.attribute }, ExpressionAttributeValues: { ':v': { S: s.identifiers[owner.identifier][0] } } });
      expect({ store: store.name, subject: s.subjectId, owned }).toEqual({ store: store.name, subject: s.subjectId, owned: expected.owner });
      if (thirdParty.length === 0) continue;
      // Third-party items through the GSIs: other accounts' items naming one of the subject's values.
      const seen = new Set<string>();
      for (const l of thirdParty) {
        // Every written form a contact card may hold, each hit confirmed on its canonical value.
        for (const value of lookupQueryValues(l, s.identifiers[l.identifier], map.identifiers)) {
          const out = await ep.dynamodb.send(
            new QueryCommand({ TableName: store.table, IndexName: l.index, KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': l.attribute }, ExpressionAttributeValues: { ':v': { S: value } } }),
          );
          for (const item of out.Items ?? []) {
            if (item[owner.attribute].S === s.subjectId) continue;
            if (!s.identifiers[l.identifier].includes(normalize(l.identifier, item[l.attribute].S ?? '', map.identifiers) ?? '')) continue;
            seen.add(`${item[store.key.partitionKey].S}\u0000${item[store.key.sortKey!].S}`);
          }
        }
      }
      expect({ store: store.name, subject: s.subjectId, thirdParty: seen.size }).toEqual({ store: store.name, subject: s.subjectId, thirdParty: expected.thirdParty });
    }
  }
});

test('the media bucket is versioned with Object Lock, holds versions, delete markers and legal holds', async () => {
  expect((await ep.s3.send(new GetBucketVersioningCommand({ Bucket: 'voip-media' }))).Status).toBe('Enabled');
  expect((await ep.s3.send(new GetBucketVersioningCommand({ Bucket: 'voip-logs' }))).Status).toBe('Enabled');
  const lock = await ep.s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'voip-media' }));
  expect(lock.ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled');

  for (const store of map.stores.filter((s): s is S3ObjectsStore => s.kind === 's3-objects')) {
    const name = store.name as 'call-recordings';
    const all = await allVersions(store.bucket, store.keyTemplate.slice(0, store.keyTemplate.indexOf('{')));
    expect({ store: name, versions: all.versions.length, markers: all.markers.length }).toEqual({ store: name, versions: report.totals[name].versions, markers: report.totals[name].deleteMarkers });
    for (const s of report.subjects) {
      const mine = await allVersions(store.bucket, expandTemplate(store.keyTemplate, { accountId: s.subjectId }));
      const keys = new Set([...mine.versions, ...mine.markers].map((v) => v.Key));
      const current = new Set(mine.versions.filter((v) => v.IsLatest).map((v) => v.Key));
      expect({ store: name, subject: s.subjectId, objects: keys.size, versions: mine.versions.length, deleteMarkers: mine.markers.length, current: current.size }).toEqual({
        store: name,
        subject: s.subjectId,
        objects: s.expected[name].objects,
        versions: s.expected[name].versions,
        deleteMarkers: s.expected[name].deleteMarkers,
        current: s.expected[name].current,
      });
    }
  }

  // Legal holds: every held version the report counts is ON, the others are not.
  const held = report.subjects.filter((s) => s.flags.legalHeldMedia);
  expect(held.length).toBeGreaterThan(0);
  let on = 0;
  for (const s of held) {
    for (const store of map.stores.filter((x): x is S3ObjectsStore => x.kind === 's3-objects')) {
      const { versions } = await allVersions(store.bucket, expandTemplate(store.keyTemplate, { accountId: s.subjectId }));
      let here = 0;
      for (const v of versions) {
        const hold = await ep.s3.send(new GetObjectLegalHoldCommand({ Bucket: store.bucket, Key: v.Key, VersionId: v.VersionId })).catch(() => undefined);
        if (hold?.LegalHold?.Status === 'ON') here++;
      }
      expect(here).toBe(s.expected[store.name as 'call-recordings'].legalHolds);
      on += here;
    }
  }
  expect(on).toBeGreaterThan(0);
});

test('every log object is where the report says, gunzips where gzip, and parses to the counted records', async () => {
  for (const store of ['sip-logs', 'app-logs'] as const) {
    const prefix = store === 'sip-logs' ? 'sip/' : 'app/';
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await ep.s3.send(new ListObjectsV2Command({ Bucket: 'voip-logs', Prefix: prefix, ContinuationToken: token }));
      keys.push(...(out.Contents ?? []).map((c) => c.Key!));
      token = out.NextContinuationToken;
    } while (token);
    expect(keys.length).toBe(report.totals[store].objects);
    let records = 0;
    let bytes = 0;
    const malformed = report.malformed.filter((m) => m.store === store);
    for (const key of keys) {
      const got = await ep.s3.send(new GetObjectCommand({ Bucket: 'voip-logs', Key: key }));
      const raw = Buffer.from(await got.Body!.transformToByteArray());
      const text = (key.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
      bytes += Buffer.byteLength(text);
      if (store === 'app-logs') {
        const rows = parseCsv(text, { columns: true }) as Array<Record<string, string>>;
        expect(Object.keys(rows[0])).toEqual(['timestamp', 'accountId', 'email', 'clientIp', 'action', 'message']);
        records += rows.length;
        continue;
      }
      const bad = malformed.find((m) => m.key === key)?.lines ?? [];
      text
        .split('\n')
        .slice(0, -1)
        .forEach((line, k) => {
          if (bad.includes(k + 1)) expect(() => JSON.parse(line)).toThrow();
          else {
            const rec = JSON.parse(line) as Record<string, unknown>;
            expect(typeof rec.ts).toBe('string');
            records++;
          }
        });
    }
    expect(records).toBe(report.totals[store].records);
    expect(bytes).toBe(report.totals[store].uncompressedBytes);
  }
});

test('creating the operator resources again keeps the existing ones', async () => {
  expect(await operatorResourcesHoldData(ep)).toBe(true);
  const again = await createOperatorResources(ep);
  expect(again.tablesCreated).toEqual([]);
  expect(again.bucketsCreated).toEqual([]);
  expect(again.tablesExisting.sort()).toEqual(['voip-accounts', 'voip-billing', 'voip-cdrs', 'voip-consents', 'voip-contacts', 'voip-devices', 'voip-payment-tokens']);
  expect(again.bucketsExisting.sort()).toEqual(['voip-logs', 'voip-media']);
});

test('seeding stores that hold data is refused; with replace, they end up holding exactly the new dataset', async () => {
  const small = { dataDir: dir, scale: 'small', seed: 8, subjects: 13, logBytes: 200_000, clients: ep } as const;
  await expect(seedReferenceDataset(small)).rejects.toThrow('already hold data');
  const again = await seedReferenceDataset({ ...small, replace: true });
  const fresh = JSON.parse(await readFile(again.subjectsFile, 'utf8')) as SubjectsReport;
  expect(fresh.subjects).toHaveLength(13);
  // Nothing of the first dataset is left: versions, markers and items are the new ones only.
  const media = await allVersions('voip-media', '');
  const totals = (k: 'versions' | 'deleteMarkers') => fresh.totals['call-recordings'][k] + fresh.totals.voicemail[k] + fresh.totals.fax[k];
  expect({ versions: media.versions.length, markers: media.markers.length }).toEqual({ versions: totals('versions'), markers: totals('deleteMarkers') });
  const logs = await allVersions('voip-logs', '');
  expect(logs.versions.length).toBe(fresh.totals['sip-logs'].objects + fresh.totals['app-logs'].objects);
  expect(await count({ TableName: 'voip-accounts', KeyConditionExpression: 'accountId = :a', ExpressionAttributeValues: { ':a': { S: 'cust-20' } } })).toBe(0);
  expect(await count({ TableName: 'voip-accounts', KeyConditionExpression: 'accountId = :a', ExpressionAttributeValues: { ':a': { S: 'cust-12' } } })).toBe(1);
}, 120_000);
