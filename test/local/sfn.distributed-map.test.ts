import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, DescribeMapRunCommand, ListExecutionsCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand, StopExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { startS3Server, type RunningS3Server } from '../../local/s3';
import { startSfnServer, type RunningSfnServer } from '../../local/sfn';
import type { Authorizer } from '../../local/iam/types';
import { awsJson, hasAwsCli } from '../support/aws-cli';
import { fullHistory } from '../support/history';

const ASL = join(__dirname, '..', 'fixtures', 'asl');
const ACCT = 'arn:aws:states:us-east-1:000000000000';
const fn = (name: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const BUCKET = 'dmap-work';
const creds = (accessKeyId: string) => ({ accessKeyId, secretAccessKey: `${accessKeyId}-secret` });

// The machine 'dmap-denied' signs as a role without states:StartExecution; 'dmap-noread' without s3:GetObject.
const asked: { key: string; action: string; resource: string }[] = [];
// 'reader-role' may call everything but the Map Run reads, to see which ARN each is asked on.
const authorize: Authorizer = (key, request) => {
  asked.push({ key, action: request.action, resource: request.resource });
  if (key === 'reader-role' && ['states:DescribeMapRun', 'states:ListMapRuns'].includes(request.action)) {
    return { allowed: false, principalArn: 'arn:aws:sts::000000000000:assumed-role/reader-role/reader-role', reason: `because no identity-based policy allows the ${request.action} action` };
  }
  const denied =
    (key === 'nolist-role' && request.action === 's3:ListBucket') ||
    (key === 'denied-role' && request.action === 'states:StartExecution') || (key === 'noread-role' && request.action === 's3:GetObject');
  return denied ? { allowed: false, principalArn: `arn:aws:sts::000000000000:assumed-role/${key}/${key}`, reason: `because no identity-based policy allows the ${request.action} action` } : { allowed: true };
};

let s3server: RunningS3Server;
let server: RunningSfnServer;
let sfn: SFNClient;
let s3: S3Client;
const processed: number[] = [];

const putManifest = async (key: string, lines: string[]): Promise<void> => {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: lines.join('\n') }));
};

const historyOf = (executionArn: string): Promise<HistoryEvent[]> => fullHistory(sfn, executionArn);

const run = async (machine: string, input: unknown) => {
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: `${ACCT}:stateMachine:${machine}`, input: JSON.stringify(input) }));
  await server.waitForExecution(executionArn as string, 120_000);
  return { executionArn: executionArn as string, described: await sfn.send(new DescribeExecutionCommand({ executionArn })) };
};

beforeAll(async () => {
  s3server = await startS3Server({ authorize });
  s3 = new S3Client({ endpoint: s3server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds('local') });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const batch = (name: string) => ({ name, definitionPath: join(ASL, 'dmap-batch.asl.json'), substitutions: { ProcessFunctionArn: fn('dmap-process') } });
  server = await startSfnServer({
    stateMachines: [
      batch('dmap-batch'),
      batch('dmap-denied'),
      batch('dmap-noread'),
      { name: 'dmap-list', definitionPath: join(ASL, 'dmap-list.asl.json'), substitutions: {} },
      { name: 'dmap-list-denied', definitionPath: join(ASL, 'dmap-list.asl.json'), substitutions: {} },
      { name: 'dmap-pass', definitionPath: join(ASL, 'dmap-pass.asl.json'), substitutions: {} },
      { name: 'dmap-inline', definitionPath: join(ASL, 'dmap-inline.asl.json'), substitutions: { DoubleFunctionArn: fn('dmap-double') } },
      { name: 'dmap-slow', definitionPath: join(ASL, 'dmap-inline.asl.json'), substitutions: { DoubleFunctionArn: fn('dmap-slow') } },
    ],
    lambdas: {
      'dmap-process': async (event) => {
        const { Items, BatchInput } = event as { Items: { n: number; fail?: boolean }[]; BatchInput: { run: string } };
        if (Items.some((i) => i.fail)) throw Object.assign(new Error('item refused'), { name: 'ItemRefused' });
        processed.push(...Items.map((i) => i.n));
        return { run: BatchInput.run, count: Items.length };
      },
      'dmap-slow': async () => new Promise((resolve) => setTimeout(() => resolve({}), 300)),
      'dmap-double': async (event) => {
        const { v, pad } = event as { v: number; pad?: number };
        return pad ? { doubled: v * 2, pad: 'x'.repeat(pad) } : { doubled: v * 2 };
      },
    },
    authorize,
    s3Endpoint: s3server.endpoint,
    machineCredentials: (machine) => creds(machine === 'dmap-list-denied' ? 'nolist-role' : machine === 'dmap-denied' ? 'denied-role' : machine === 'dmap-noread' ? 'noread-role' : 'machine-role'),
  });
  sfn = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: creds('local') });
  const lines = Array.from({ length: 3000 }, (_, n) => JSON.stringify({ n, fail: n === 1234 || n === 2345 }));
  // AWS skips empty lines of a JSONL source.
  lines.splice(10, 0, '');
  await putManifest('manifests/erase.jsonl', lines);
}, 60_000);

afterAll(async () => {
  sfn?.destroy();
  s3?.destroy();
  await server?.close();
  await s3server?.close();
});

const getJson = async (key: string): Promise<unknown> => {
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return JSON.parse(await (got.Body as { transformToString(): Promise<string> }).transformToString());
};

const mapRunOf = async (executionArn: string): Promise<string> => {
  const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn }));
  expect(mapRuns).toHaveLength(1);
  return mapRuns?.[0].mapRunArn as string;
};

describe('Distributed Map', () => {
  test('batches a JSONL manifest into child executions, tolerates failed items under the threshold, writes results to S3', async () => {
    processed.length = 0;
    // 3000 items in 30 batches of 100; items 1234 and 2345 fail their batch: 200 failed items, 200 tolerated.
    const { executionArn, described } = await run('dmap-batch', { bucket: BUCKET, manifest: 'manifests/erase.jsonl', perBatch: 100, run: 'r1', tolerated: 200, maxItems: 0 });
    expect(described.status).toBe('SUCCEEDED');
    expect(processed).toHaveLength(2800);
    const output = JSON.parse(described.output as string) as { erased: { MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } } };
    const mapRunArn = output.erased.MapRunArn;
    expect(mapRunArn).toMatch(/^arn:aws:states:us-east-1:000000000000:mapRun:dmap-batch\/Erase:[0-9a-f-]{36}$/);
    const runId = mapRunArn.split(':').pop() as string;
    expect(output.erased.ResultWriterDetails).toEqual({ Bucket: BUCKET, Key: `results/${runId}/manifest.json` });

    const events = await historyOf(executionArn);
    expect(events.map((e) => e.type)).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapRunStarted', 'MapRunSucceeded', 'MapStateExited', 'SucceedStateEntered', 'SucceedStateExited', 'ExecutionSucceeded']);
    expect(events[2].mapRunStartedEventDetails?.mapRunArn).toBe(mapRunArn);
    expect(events.map((e) => e.previousEventId)).toEqual([0, 0, 2, 3, 4, 5, 6, 7]);

    const manifest = (await getJson(`results/${runId}/manifest.json`)) as { DestinationBucket: string; MapRunArn: string; ResultFiles: Record<string, { Key: string; Size: number }[]> };
    expect(manifest.DestinationBucket).toBe(BUCKET);
    expect(manifest.MapRunArn).toBe(mapRunArn);
    expect(manifest.ResultFiles.SUCCEEDED).toEqual([{ Key: `results/${runId}/SUCCEEDED_0.json`, Size: expect.any(Number) }]);
    const succeeded = (await getJson(`results/${runId}/SUCCEEDED_0.json`)) as { Status: string; Output: string; Input: string; ExecutionArn: string }[];
    const failed = (await getJson(`results/${runId}/FAILED_0.json`)) as { Status: string; Error: string }[];
    expect(succeeded).toHaveLength(28);
    expect(failed).toHaveLength(2);
    expect(failed.map((f) => f.Error)).toEqual(['ItemRefused', 'ItemRefused']);
    expect(JSON.parse(succeeded[0].Output)).toEqual({ run: 'r1', count: 100 });
    expect(JSON.parse(succeeded[0].Input).BatchInput).toEqual({ run: 'r1' });

    const mapRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(mapRun).toMatchObject({ mapRunArn, executionArn, status: 'SUCCEEDED', maxConcurrency: 4, toleratedFailureCount: 200, toleratedFailurePercentage: 0 });
    expect(mapRun.itemCounts).toMatchObject({ total: 3000, succeeded: 2800, failed: 200, pending: 0, running: 0, resultsWritten: 3000 });
    expect(mapRun.executionCounts).toMatchObject({ total: 30, succeeded: 28, failed: 2, pending: 0, running: 0 });
    expect(mapRun.stopDate).toBeInstanceOf(Date);

    // The children: listed by Map Run, ARNed under <machine>/<label>, each with its own history.
    const children = await sfn.send(new ListExecutionsCommand({ mapRunArn, maxResults: 1000 }));
    expect(children.executions).toHaveLength(30);
    const child = children.executions?.[0];
    expect(child?.executionArn).toMatch(/^arn:aws:states:us-east-1:000000000000:execution:dmap-batch\/Erase:[0-9a-f-]{36}$/);
    expect(child?.stateMachineArn).toBe(`${ACCT}:stateMachine:dmap-batch/Erase`);
    const childDescribed = await sfn.send(new DescribeExecutionCommand({ executionArn: child?.executionArn }));
    expect(childDescribed.mapRunArn).toBe(mapRunArn);
    const childEvents = await historyOf(child?.executionArn as string);
    expect(childEvents[0].type).toBe('ExecutionStarted');
    expect(childEvents.some((e) => e.type === 'LambdaFunctionScheduled')).toBe(true);
    const page1 = await sfn.send(new ListExecutionsCommand({ mapRunArn, maxResults: 20 }));
    const page2 = await sfn.send(new ListExecutionsCommand({ mapRunArn, maxResults: 20, nextToken: page1.nextToken }));
    expect((page1.executions?.length ?? 0) + (page2.executions?.length ?? 0)).toBe(30);
    expect(page2.nextToken).toBeUndefined();
  }, 120_000);

  test('over the tolerated threshold the Map fails with States.ExceedToleratedFailureThreshold, which Catch takes', async () => {
    const { executionArn, described } = await run('dmap-batch', { bucket: BUCKET, manifest: 'manifests/erase.jsonl', perBatch: 100, run: 'r2', tolerated: 199, maxItems: 0 });
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string).failure).toEqual({ Error: 'States.ExceedToleratedFailureThreshold', Cause: 'The specified tolerated failure threshold was exceeded' });
    const events = await historyOf(executionArn);
    expect(events.map((e) => e.type)).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapRunStarted', 'MapRunFailed', 'MapStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded']);
    expect(events[3].mapRunFailedEventDetails).toEqual({ error: 'States.ExceedToleratedFailureThreshold', cause: 'The specified tolerated failure threshold was exceeded' });
    const mapRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn: await mapRunOf(executionArn) }));
    expect(mapRun.status).toBe('FAILED');
    expect(mapRun.itemCounts?.failed).toBe(200);
  }, 120_000);

  test('MaxItems limits what the reader hands out', async () => {
    const { executionArn, described } = await run('dmap-batch', { bucket: BUCKET, manifest: 'manifests/erase.jsonl', perBatch: 7, run: 'r3', tolerated: 0, maxItems: 50 });
    expect(described.status).toBe('SUCCEEDED');
    const mapRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn: await mapRunOf(executionArn) }));
    expect(mapRun.itemCounts?.total).toBe(50);
    expect(mapRun.executionCounts?.total).toBe(8);
  }, 60_000);

  test('a machine role without states:StartExecution on itself cannot start the Map Run children', async () => {
    const { executionArn, described } = await run('dmap-denied', { bucket: BUCKET, manifest: 'manifests/erase.jsonl', perBatch: 100, run: 'r4', tolerated: 0, maxItems: 0 });
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('States.Runtime');
    expect(described.cause).toContain(`is not authorized to perform: states:StartExecution on resource: ${ACCT}:stateMachine:dmap-denied`);
    const types = (await historyOf(executionArn)).map((e) => e.type);
    expect(types).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapRunStarted', 'MapRunFailed', 'ExecutionFailed']);
    const children = await sfn.send(new ListExecutionsCommand({ mapRunArn: await mapRunOf(executionArn) }));
    expect(children.executions).toEqual([]);
  }, 60_000);

  test('a machine role without s3:GetObject fails the ItemReader with States.ItemReaderFailed', async () => {
    const { described } = await run('dmap-noread', { bucket: BUCKET, manifest: 'manifests/erase.jsonl', perBatch: 100, run: 'r5', tolerated: 0, maxItems: 0 });
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('States.ItemReaderFailed');
    expect(described.cause).toContain('AccessDenied');
  }, 60_000);

  test('listObjectsV2 hands out the objects under the prefix as AWS shapes them; without s3:ListBucket the reader fails', async () => {
    await putManifest('listed/a.json', ['{}']);
    await putManifest('listed/b.json', ['{"b":1}']);
    const { executionArn, described } = await run('dmap-list', { bucket: BUCKET, prefix: 'listed/' });
    expect(described.status).toBe('SUCCEEDED');
    const items = JSON.parse(described.output as string) as Record<string, unknown>[];
    expect(items.map((i) => i.Key)).toEqual(['listed/a.json', 'listed/b.json']);
    expect(items[1]).toEqual({ Etag: expect.stringMatching(/^"[0-9a-f]{32}"$/), Key: 'listed/b.json', LastModified: expect.any(Number), Size: 7, StorageClass: 'STANDARD' });
    const mapRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn: await mapRunOf(executionArn) }));
    expect(mapRun.toleratedFailurePercentage).toBe(10);
    const denied = await run('dmap-list-denied', { bucket: BUCKET, prefix: 'listed/' });
    expect(denied.described).toMatchObject({ status: 'FAILED', error: 'States.ItemReaderFailed' });
  }, 60_000);

  test('a bad JSONL line fails the reader', async () => {
    await putManifest('manifests/bad.jsonl', ['{"n":1}', '{"n":']);
    const { described } = await run('dmap-batch', { bucket: BUCKET, manifest: 'manifests/bad.jsonl', perBatch: 1, run: 'r6', tolerated: 0, maxItems: 0 });
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('States.ItemReaderFailed');
  }, 60_000);

  test('without ResultWriter the output is the array of child outputs, in item order', async () => {
    const { described } = await run('dmap-inline', { items: [{ v: 1 }, { v: 2 }, { v: 3 }] });
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string)).toEqual([{ doubled: 2 }, { doubled: 4 }, { doubled: 6 }]);
  }, 60_000);

  test('without ResultWriter an output over 256 KiB is States.DataLimitExceeded', async () => {
    // Each child returns ~1 KB: 300 of them are over the 256 KiB a state output may hold.
    const items = Array.from({ length: 300 }, (_, i) => ({ v: i, pad: 1000 }));
    const { described } = await run('dmap-inline', { items });
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('States.DataLimitExceeded');
  }, 60_000);

  test('100,000 items with a Pass processor: a handful of parent events, every state under 256 KiB, in seconds', async () => {
    await putManifest('manifests/big.jsonl', Array.from({ length: 100_000 }, (_, n) => JSON.stringify({ n })));
    const started = Date.now();
    const { executionArn, described } = await run('dmap-pass', { bucket: BUCKET, manifest: 'manifests/big.jsonl' });
    const seconds = (Date.now() - started) / 1000;
    console.log(`100,000 child executions in ${seconds.toFixed(1)} s`);
    expect(described.status).toBe('SUCCEEDED');
    const events = await historyOf(executionArn);
    expect(events.map((e) => e.type)).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapRunStarted', 'MapRunSucceeded', 'MapStateExited', 'ExecutionSucceeded']);
    for (const e of events) expect(Buffer.byteLength(JSON.stringify(e), 'utf8')).toBeLessThan(256 * 1024);
    const mapRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn: await mapRunOf(executionArn) }));
    expect(mapRun.executionCounts).toMatchObject({ total: 100_000, succeeded: 100_000 });
    expect(seconds).toBeLessThan(120);
  }, 300_000);

  test('StopExecution of the parent aborts the Map Run and its running children', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: `${ACCT}:stateMachine:dmap-slow`, input: JSON.stringify({ items: Array.from({ length: 10 }, (_, v) => ({ v })) }) }));
    let mapRunArn: string | undefined;
    for (let i = 0; i < 100 && !mapRunArn; i++) {
      mapRunArn = (await sfn.send(new ListMapRunsCommand({ executionArn }))).mapRuns?.[0]?.mapRunArn;
      if (!mapRunArn) await new Promise((r) => setTimeout(r, 10));
    }
    expect(mapRunArn).toBeDefined();
    await new Promise((r) => setTimeout(r, 50));
    await sfn.send(new StopExecutionCommand({ executionArn }));
    await new Promise((r) => setTimeout(r, 50));
    const mapRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(mapRun.status).toBe('ABORTED');
    expect(mapRun.executionCounts).toMatchObject({ total: 10, running: 0, aborted: 2, succeeded: 0, pending: 8 });
    const children = await sfn.send(new ListExecutionsCommand({ mapRunArn }));
    expect(children.executions?.map((e) => e.status)).toEqual(['ABORTED', 'ABORTED']);
  }, 60_000);

  test('IAM: DescribeMapRun on the Map Run ARN, ListMapRuns on the execution ARN, ListExecutions of a Map Run on the Map Run ARN', async () => {
    const { executionArn } = await run('dmap-inline', { items: [{ v: 1 }] });
    const mapRunArn = await mapRunOf(executionArn);
    const reader = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: creds('reader-role') });
    try {
      await expect(reader.send(new DescribeMapRunCommand({ mapRunArn }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining(`not authorized to perform: states:DescribeMapRun on resource: ${mapRunArn}`),
      });
      await expect(reader.send(new ListMapRunsCommand({ executionArn }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining(`states:ListMapRuns on resource: ${executionArn}`),
      });
      asked.length = 0;
      await reader.send(new ListExecutionsCommand({ mapRunArn }));
      expect(asked).toEqual([{ key: 'reader-role', action: 'states:ListExecutions', resource: mapRunArn }]);
    } finally {
      reader.destroy();
    }
  }, 60_000);

  (hasAwsCli ? test : test.skip)('the aws CLI parses list-map-runs, describe-map-run and list-executions --map-run-arn', async () => {
    const { executionArn } = await run('dmap-batch', { bucket: BUCKET, manifest: 'manifests/erase.jsonl', perBatch: 500, run: 'cli', tolerated: 1000, maxItems: 0 });
    const aws = (...args: string[]): Promise<Record<string, unknown>> => awsJson(server.endpoint, ['stepfunctions', ...args]);
    const listed = (await aws('list-map-runs', '--execution-arn', executionArn)) as { mapRuns: { mapRunArn: string; executionArn: string; stateMachineArn: string; startDate: string }[] };
    expect(listed.mapRuns).toHaveLength(1);
    const mapRunArn = listed.mapRuns[0].mapRunArn;
    expect(listed.mapRuns[0]).toMatchObject({ executionArn, stateMachineArn: `${ACCT}:stateMachine:dmap-batch/Erase` });
    const described = await aws('describe-map-run', '--map-run-arn', mapRunArn);
    expect(described).toMatchObject({ mapRunArn, status: 'SUCCEEDED', maxConcurrency: 4, toleratedFailureCount: 1000, itemCounts: { total: 3000, failed: 1000 }, executionCounts: { total: 6, failed: 2 } });
    expect(described.startDate).toBeDefined();
    const children = (await aws('list-executions', '--map-run-arn', mapRunArn)) as { executions: { mapRunArn: string; status: string }[] };
    expect(children.executions).toHaveLength(6);
    expect(children.executions.every((e) => e.mapRunArn === mapRunArn)).toBe(true);
  }, 60_000);

  type MapFields = { ItemProcessor: { ProcessorConfig: Record<string, unknown> }; ItemReader: { ReaderConfig: Record<string, unknown> }; ResultWriter: Record<string, unknown> };
  test.each([
    ['EXPRESS children', (st: MapFields) => (st.ItemProcessor.ProcessorConfig.ExecutionType = 'EXPRESS'), /ExecutionType EXPRESS/],
    ['a CSV reader', (st: MapFields) => (st.ItemReader.ReaderConfig.InputType = 'CSV'), /InputType CSV/],
    ['a WriterConfig', (st: MapFields) => (st.ResultWriter.WriterConfig = { OutputType: 'JSONL' }), /WriterConfig/],
  ])('refuses at startup what it would not run as AWS does: %s', async (_what, change, message) => {
    const asl = JSON.parse(readFileSync(join(ASL, 'dmap-pass.asl.json'), 'utf8')) as { States: { Each: MapFields } };
    change(asl.States.Each);
    const path = join(mkdtempSync(join(tmpdir(), 'dmap-asl-')), 'refused.asl.json');
    writeFileSync(path, JSON.stringify(asl));
    await expect(startSfnServer({ stateMachines: [{ name: 'refused', definitionPath: path, substitutions: {} }], lambdas: {} })).rejects.toThrow(message);
  });
});
