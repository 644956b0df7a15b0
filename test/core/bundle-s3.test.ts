/**
 * The bundle assembler against the project's S3 server (no DynamoDB, no state machine): the
 * work-bucket documents of a request are written by hand, the way ExportStore leaves them.
 * Empty subject, media that vanished, and a 50 MB bundle that must go up in several parts.
 */
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assemblePortabilityBundle } from '../../functions/core/bundle';
import { parseBagInfo } from '../../functions/core/bundle/bagit';
import type { Overview } from '../../functions/core/bundle/overview';
import { verifyBundle } from '../../functions/core/bundle/verify';
import type { DsrConfig } from '../../functions/core/config';
import { parseDataMap } from '../../functions/core/datamap';
import { hashOf } from '../../functions/core/hash';
import type { Plan } from '../../functions/core/plan';
import { docKeys } from '../../functions/core/request-data';
import type { Runtime } from '../../functions/core/runtime';
import { Workspace } from '../../functions/core/workspace';
import type { ExportedStore } from '../../functions/core/request-data';
import { stagingKey } from '../../functions/core/request-data';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';
import { readZip, unzipTest } from './bundle-support';

const NOW = new Date('2026-11-02T12:00:00.000Z');
const dataMap = parseDataMap(JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/voip-operator/datamap.json'), 'utf8')));
const ALL_STORES = dataMap.stores.map((s) => s.name);
let ep: TestEndpoints;
let rt: Runtime;
let dir: string;

beforeAll(async () => {
  ep = await startTestEndpoints({ dynamodb: false });
  for (const bucket of ['work', 'bundles']) await ep.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const config = { dataMap, settings: { ledgerTable: 'ledger', workBucket: 'work', bundleBucket: 'bundles', verificationMaxAgeDays: 30, approvalRequired: false, bundleUrlExpirySeconds: 900, connectorConcurrency: 4 } } as DsrConfig;
  rt = {
    config,
    s3: ep.s3,
    workspace: new Workspace(ep.s3, 'work'),
    clock: { now: () => NOW },
    logger: { info: () => undefined },
  } as unknown as Runtime;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-bundle-s3-'));
}, 60_000);
afterAll(async () => {
  await ep?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function bytes(total: number): Readable {
  let left = total;
  let x = 3;
  return new Readable({
    read() {
      if (left === 0) return this.push(null);
      const n = Math.min(left, 256 * 1024);
      const chunk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) chunk[i] = (x = (x * 1103515245 + 12345) & 0xff);
      left -= n;
      this.push(chunk);
    },
  });
}

/** Identity, plan and one exported document per store, as the state machine would have left them. */
async function prepare(requestId: string, exported: Record<string, Partial<ExportedStore>>): Promise<string> {
  await rt.workspace.putJson(docKeys.identity(requestId), { subjectId: ['cust-x'], accountId: ['cust-x'], phone: ['+15145550100'] });
  const plan: Plan = { requestId, type: 'portability', createdAt: NOW.toISOString(), identityHash: 'i', stores: ALL_STORES.map((s) => ({ store: s, kind: dataMap.stores.find((d) => d.name === s)!.kind, findingsHash: 'f', entries: [] })) };
  const planHash = await rt.workspace.putJson(docKeys.plan(requestId, hashOf(plan)), plan);
  for (const store of ALL_STORES) {
    await rt.workspace.putJson(docKeys.exported(requestId, store), { store, records: [], files: [], missing: [], ...exported[store] });
  }
  return planHash;
}

async function download(key: string, file: string): Promise<string> {
  const out = await ep.s3.send(new GetObjectCommand({ Bucket: 'bundles', Key: key }));
  await pipeline(out.Body as Readable, fs.createWriteStream(file));
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

async function entries(file: string) {
  const list = await readZip(file);
  const text = (name: string) => list.find((e) => e.name.endsWith(`/${name}`))!.data.toString('utf8');
  return { list, text, overview: JSON.parse(text('data/index.json')) as Overview };
}

describe('portability bundle in S3', () => {
  it('gives a subject with no data a valid, empty bundle that says so', async () => {
    const planHash = await prepare('empty-1', {});
    const result = await assemblePortabilityBundle(rt, 'empty-1', planHash, ALL_STORES);
    expect(result).toMatchObject({ bundleKey: 'bundles/empty-1/bundle.zip', files: 0, records: 0 });
    const file = path.join(dir, 'empty.zip');
    expect(await download(result.bundleKey, file)).toBe(result.bundleHash);
    expect(unzipTest(file).status).toBe(0);
    const check = await verifyBundle(file);
    expect(check.problems).toEqual([]);
    // index.json, and a JSON file per store: each with its schema.
    expect(check.jsonValidated).toBe(ALL_STORES.length + 1);
    const { text, overview, list } = await entries(file);
    expect(overview).toMatchObject({ empty: true, totals: { records: 0, files: 0, missing: 0 } });
    expect(text('data/index.html')).toContain('We found no data about you');
    const info = parseBagInfo(text('bag-info.txt'));
    expect(info.get('DSR-Subject-Data')).toEqual(['none']);
    expect(info.get('External-Description')![0]).toMatch(/no data about the subject was found/);
    expect(list.filter((e) => e.name.endsWith('.csv'))).toHaveLength(ALL_STORES.length);
    expect(text('data/contacts/contacts.vcf')).toBe('');
  });

  it('reports media that vanished (before export, and from staging) in the index instead of skipping it', async () => {
    const requestId = 'vanish-1';
    const kept = stagingKey(requestId, 'voicemail', 'kept.wav');
    await new Upload({ client: ep.s3, params: { Bucket: 'work', Key: kept, Body: Buffer.from('RIFF....WAVE') } }).done();
    const planHash = await prepare(requestId, {
      voicemail: {
        files: [
          { findingId: 'a'.repeat(64), name: 'kept.wav', size: 12, contentType: 'audio/wav', stagingKey: kept },
          { findingId: 'b'.repeat(64), name: 'gone.wav', size: 10, contentType: 'audio/wav', stagingKey: stagingKey(requestId, 'voicemail', 'gone.wav') },
        ],
        missing: [{ findingId: 'c'.repeat(64), reason: 'version-gone' }],
      },
    });
    const result = await assemblePortabilityBundle(rt, requestId, planHash, ALL_STORES);
    expect(result).toMatchObject({ files: 1, missing: 2 });
    const file = path.join(dir, 'vanish.zip');
    await download(result.bundleKey, file);
    expect((await verifyBundle(file)).problems).toEqual([]);
    const { overview, text, list } = await entries(file);
    const vm = overview.stores.find((s) => s.store === 'voicemail')!;
    expect(vm).toMatchObject({ files: 1, bytes: 12, missing: [{ ref: 'cccccccccccc', reason: 'version-gone' }, { ref: 'bbbbbbbbbbbb', reason: 'staging-gone' }] });
    expect(overview.empty).toBe(false);
    expect(list.map((e) => e.name)).toContain('vanish-1/data/voicemail/files/kept.wav');
    const html = text('data/index.html');
    expect(html).toContain('deleted after it was found, before it could be copied');
    expect(html).toContain('bbbbbbbbbbbb');
    expect(JSON.parse(text('data/voicemail/voicemail.json')).missing).toHaveLength(2);
  });

  it('streams 50 MB of media into a multipart upload of several parts', async () => {
    const requestId = 'big-1';
    const size = 50 * 1024 * 1024;
    const key = stagingKey(requestId, 'call-recordings', 'long call.wav');
    const source = createHash('sha256');
    const body = bytes(size);
    body.on('data', (c: Buffer) => source.update(c));
    await new Upload({ client: ep.s3, params: { Bucket: 'work', Key: key, Body: body } }).done();
    const planHash = await prepare(requestId, { 'call-recordings': { files: [{ findingId: 'd'.repeat(64), name: 'long call.wav', size, contentType: 'audio/wav', stagingKey: key }] } });
    const result = await assemblePortabilityBundle(rt, requestId, planHash, ALL_STORES, { partSize: 5 * 1024 * 1024 });
    const head = await ep.s3.send(new HeadObjectCommand({ Bucket: 'bundles', Key: result.bundleKey }));
    const parts = Number(/-(\d+)"?$/.exec(head.ETag ?? '')?.[1] ?? 1);
    expect(parts).toBeGreaterThanOrEqual(10);
    expect(head.ContentLength).toBe(result.bytes);
    const file = path.join(dir, 'big.zip');
    expect(await download(result.bundleKey, file)).toBe(result.bundleHash);
    expect(unzipTest(file).status).toBe(0);
    expect((await verifyBundle(file)).ok).toBe(true);
    const manifest = (await entries(file)).text('manifest-sha256.txt');
    expect(manifest).toContain(`${source.digest('hex')}  data/call-recordings/files/long call.wav\n`);
  }, 120_000);
});
