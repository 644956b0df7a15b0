import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { startSfnServer, type LambdaHandler, type RunningSfnServer } from '../../local/sfn';

const ASL = join(__dirname, '..', 'fixtures', 'asl');
const fn = (name: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const FLOW = 'arn:aws:states:us-east-1:000000000000:stateMachine:dsr-flow';
const EXPORT = 'arn:aws:states:us-east-1:000000000000:stateMachine:dsr-export';

let release = (): void => undefined;
const held = new Promise<void>((resolve) => (release = resolve));
let exportStarted = (): void => undefined;
const exportRunning = new Promise<void>((resolve) => (exportStarted = resolve));

const lambdas: Record<string, LambdaHandler> = {
  [fn('dsr-validate')]: async () => ({ kind: 'erase', stores: ['orders'] }),
  [fn('dsr-erase')]: async (event) => ({ ...(event as object), erased: true }),
  [fn('dsr-export')]: async () => {
    exportStarted();
    await held;
    return { exported: true };
  },
};

let dataDir: string;
const open: { server: RunningSfnServer; client: SFNClient }[] = [];

async function start(): Promise<{ server: RunningSfnServer; client: SFNClient }> {
  const server = await startSfnServer({
    dataDir,
    stateMachines: [
      { name: 'dsr-flow', definitionPath: join(ASL, 'dsr-flow.asl.json'), substitutions: { ValidateFunctionArn: fn('dsr-validate'), EraseFunctionArn: fn('dsr-erase') } },
      { name: 'dsr-export', definitionPath: join(ASL, 'single-task.asl.json'), substitutions: { ExportFunctionArn: fn('dsr-export') } },
    ],
    lambdas,
  });
  const client = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  open.push({ server, client });
  return { server, client };
}

async function stop({ server, client }: { server: RunningSfnServer; client: SFNClient }): Promise<void> {
  client.destroy();
  await server.close();
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'sfn-data-'));
});

afterAll(async () => {
  release();
  await Promise.all(open.map(stop));
  rmSync(dataDir, { recursive: true, force: true });
});

it('keeps executions and history across a restart, and fails the ones that were running', async () => {
  const first = await start();
  const done = await first.client.send(new StartExecutionCommand({ stateMachineArn: FLOW, name: 'req-kept', input: '{"subject":"s-1"}' }));
  await first.server.waitForExecution(done.executionArn as string);
  const before = await first.client.send(new GetExecutionHistoryCommand({ executionArn: done.executionArn }));
  const interrupted = await first.client.send(new StartExecutionCommand({ stateMachineArn: EXPORT, name: 'req-interrupted' }));
  await exportRunning;
  await stop(first);
  expect(existsSync(join(dataDir, 'executions', 'dsr-flow', 'req-kept.json'))).toBe(true);

  const second = await start();
  const kept = await second.client.send(new DescribeExecutionCommand({ executionArn: done.executionArn }));
  expect(kept).toMatchObject({ status: 'SUCCEEDED', input: '{"subject":"s-1"}' });
  expect(JSON.parse(kept.output as string).erasures).toEqual([{ store: 'orders', position: 0, requestId: 'req-kept', erased: true }]);
  const after = await second.client.send(new GetExecutionHistoryCommand({ executionArn: done.executionArn }));
  expect(after.events).toEqual(before.events);

  const failed = await second.client.send(new DescribeExecutionCommand({ executionArn: interrupted.executionArn }));
  expect(failed).toMatchObject({ status: 'FAILED', error: 'Local.EngineStopped' });
  expect(failed.stopDate).toBeInstanceOf(Date);
  const failedHistory = (await second.client.send(new GetExecutionHistoryCommand({ executionArn: interrupted.executionArn }))).events!;
  expect(failedHistory.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'ExecutionFailed']);
  expect(failedHistory[4].executionFailedEventDetails).toMatchObject({ error: 'Local.EngineStopped' });

  // The names stay taken, as they would on AWS.
  await expect(second.client.send(new StartExecutionCommand({ stateMachineArn: FLOW, name: 'req-kept', input: '{"subject":"s-1"}' }))).rejects.toBeInstanceOf(
    ExecutionAlreadyExists,
  );
  const fresh = await second.client.send(new StartExecutionCommand({ stateMachineArn: FLOW, name: 'req-new', input: '{}' }));
  await second.server.waitForExecution(fresh.executionArn as string);
  const listed = await second.client.send(new ListExecutionsCommand({ stateMachineArn: FLOW }));
  expect(listed.executions!.map((e) => e.name)).toEqual(['req-new', 'req-kept']);

  // The first server's handler finishing late must not touch what the second server owns.
  release();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await stop(second);

  const third = await start();
  const again = (await third.client.send(new GetExecutionHistoryCommand({ executionArn: interrupted.executionArn }))).events!;
  expect(again.map((e) => e.type)).toEqual(failedHistory.map((e) => e.type));
  expect((await third.client.send(new DescribeExecutionCommand({ executionArn: fresh.executionArn }))).status).toBe('SUCCEEDED');
});
