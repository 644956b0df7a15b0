import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, DescribeMapRunCommand, ListExecutionsCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { startSfnServer, type RunningSfnServer } from '../../local/sfn';

const ASL = join(__dirname, '..', 'fixtures', 'asl');
const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:dmap-inline';
const fn = (name: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

let release = (): void => undefined;
const held = new Promise<void>((resolve) => (release = resolve));
let dataDir: string;

async function start(slow: boolean): Promise<{ server: RunningSfnServer; client: SFNClient }> {
  const server = await startSfnServer({
    dataDir,
    stateMachines: [{ name: 'dmap-inline', definitionPath: join(ASL, 'dmap-inline.asl.json'), substitutions: { DoubleFunctionArn: fn('dmap-double') } }],
    lambdas: {
      'dmap-double': async (event) => {
        if (slow && (event as { v: number }).v > 1) await held;
        return { doubled: (event as { v: number }).v * 2 };
      },
    },
  });
  return { server, client: new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }) };
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'sfn-dmap-'));
});

afterAll(() => {
  release();
  rmSync(dataDir, { recursive: true, force: true });
});

test('after a restart, finished Map Runs are still described, and a running parent, its Map Run and its children are FAILED Local.EngineStopped', async () => {
  const first = await start(true);
  const done = await first.client.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'done', input: JSON.stringify({ items: [{ v: 0 }, { v: 1 }] }) }));
  await first.server.waitForExecution(done.executionArn as string);
  const doneRun = (await first.client.send(new ListMapRunsCommand({ executionArn: done.executionArn }))).mapRuns?.[0]?.mapRunArn;
  const running = await first.client.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'running', input: JSON.stringify({ items: [{ v: 0 }, { v: 2 }, { v: 3 }] }) }));
  let runningRun: string | undefined;
  for (let i = 0; i < 100 && !runningRun; i++) {
    runningRun = (await first.client.send(new ListMapRunsCommand({ executionArn: running.executionArn }))).mapRuns?.[0]?.mapRunArn;
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 50));
  first.client.destroy();
  await first.server.close();

  const second = await start(false);
  try {
    const finished = await second.client.send(new DescribeMapRunCommand({ mapRunArn: doneRun }));
    expect(finished).toMatchObject({ status: 'SUCCEEDED', executionCounts: { total: 2, succeeded: 2 } });
    const parent = await second.client.send(new DescribeExecutionCommand({ executionArn: running.executionArn }));
    expect(parent).toMatchObject({ status: 'FAILED', error: 'Local.EngineStopped' });
    expect((await second.client.send(new DescribeMapRunCommand({ mapRunArn: runningRun }))).status).toBe('FAILED');
    const children = await second.client.send(new ListExecutionsCommand({ mapRunArn: runningRun }));
    expect(children.executions?.length).toBeGreaterThan(0);
    expect(children.executions?.some((e) => e.status === 'FAILED')).toBe(true);
    expect(children.executions?.every((e) => e.status !== 'RUNNING')).toBe(true);
  } finally {
    second.client.destroy();
    await second.server.close();
  }
}, 60_000);
