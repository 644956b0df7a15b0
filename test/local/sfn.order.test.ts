import { join } from 'node:path';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { startSfnServer, type LambdaHandler, type RunningSfnServer } from '../../local/sfn';
import { awsJson, hasAwsCli } from '../support/aws-cli';

/**
 * The order and previousEventId links of Map, Parallel, Retry and Catch events, against AWS's
 * recorded histories (sources in local/sfn/history.ts). Handlers are held by gates so the
 * interleaving is the same on every run.
 */
const ASL = join(__dirname, '..', 'fixtures', 'asl');
const REGION = 'us-east-1';
const fn = (name: string): string => `arn:aws:lambda:${REGION}:000000000000:function:${name}`;
const machineArn = (name: string): string => `arn:aws:states:${REGION}:000000000000:stateMachine:${name}`;
const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

let openSlowItem = (): void => undefined;
let slowItem = new Promise<void>((resolve) => (openSlowItem = resolve));
const attempts = new Map<string, number>();
const calls: string[] = [];

const lambdas: Record<string, LambdaHandler> = {
  [fn('work')]: async (event) => {
    const { item } = event as { item: string };
    calls.push(item);
    const attempt = (attempts.get(item) ?? 0) + 1;
    attempts.set(item, attempt);
    if (item === 'slow' || (item === 'held-once' && attempt === 1)) await slowItem;
    if (item === 'flaky' && attempt === 1) throw named('Flaky', 'first attempt');
    if (item === 'fails-once' && attempt === 1) throw named('Broken', 'first attempt');
    if (item.startsWith('broken')) throw named('Broken', 'cannot do it');
    return { item };
  },
};

let server: RunningSfnServer;
let sfn: SFNClient;

beforeAll(async () => {
  server = await startSfnServer({
    stateMachines: [
      { name: 'map-retry-catch', definitionPath: join(ASL, 'map-retry-catch.asl.json'), substitutions: { WorkFunctionArn: fn('work') } },
      { name: 'map-fails', definitionPath: join(ASL, 'map-fails.asl.json'), substitutions: { WorkFunctionArn: fn('work') } },
      { name: 'parallel-fails', definitionPath: join(ASL, 'parallel-fails.asl.json'), substitutions: { WorkFunctionArn: fn('work') } },
      { name: 'map-retried', definitionPath: join(ASL, 'map-retried.asl.json'), substitutions: { WorkFunctionArn: fn('work') } },
    ],
    lambdas,
  });
  sfn = new SFNClient({ endpoint: server.endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  openSlowItem();
  sfn.destroy();
  await server.close();
});

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return events ?? [];
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const links = (events: HistoryEvent[]): [string, number][] => events.map((e) => [e.type as string, e.previousEventId as number]);

describe('an inline Map with MaxConcurrency 2 over 3 items: one retried once, one caught', () => {
  let arn: string;
  let events: HistoryEvent[];

  beforeAll(async () => {
    slowItem = new Promise<void>((resolve) => (openSlowItem = resolve));
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('map-retry-catch'), name: 'order-1', input: JSON.stringify({ items: ['slow', 'flaky', 'broken'] }) }),
    );
    arn = started.executionArn as string;
    // The first item is held until the third has finished, so the third takes the second's slot.
    await eventually(async () => (await history(arn)).some((e) => e.mapIterationSucceededEventDetails?.index === 2), 'the third iteration to end');
    openSlowItem();
    await server.waitForExecution(arn);
    events = await history(arn);
  });

  it('succeeds with every item, the caught one included', async () => {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string)).toEqual([
      { count: 3 },
      [{ item: 'slow' }, { item: 'flaky' }, { item: 'broken', error: 'Broken' }],
    ]);
  });

  it('writes the events in AWS order with AWS previousEventId links', () => {
    expect(links(events)).toEqual([
      ['ExecutionStarted', 0], // 1
      ['MapStateEntered', 0], // 2
      ['MapStateStarted', 2], // 3
      // Both slots start from MapStateStarted.
      ['MapIterationStarted', 3], // 4: index 0 (slow)
      ['MapIterationStarted', 3], // 5: index 1 (flaky)
      ['TaskStateEntered', 4], // 6
      ['TaskStateEntered', 5], // 7
      ['TaskScheduled', 6], // 8
      ['TaskStarted', 8], // 9
      ['TaskScheduled', 7], // 10
      ['TaskStarted', 10], // 11
      // A retry: the failed attempt, then a new TaskScheduled chained to it.
      ['TaskFailed', 11], // 12
      ['TaskScheduled', 12], // 13
      ['TaskStarted', 13], // 14
      ['TaskSucceeded', 14], // 15
      ['TaskStateExited', 15], // 16
      ['MapIterationSucceeded', 16], // 17: index 1
      // The third item takes the freed slot: it points at that iteration's last state event.
      ['MapIterationStarted', 16], // 18: index 2 (broken)
      ['TaskStateEntered', 18], // 19
      ['TaskScheduled', 19], // 20
      ['TaskStarted', 20], // 21
      // A catch: the failed task, its state exited, the catcher's state entered.
      ['TaskFailed', 21], // 22
      ['TaskStateExited', 22], // 23
      ['PassStateEntered', 23], // 24
      ['PassStateExited', 24], // 25
      ['MapIterationSucceeded', 25], // 26: index 2
      ['TaskSucceeded', 9], // 27
      ['TaskStateExited', 27], // 28
      ['MapIterationSucceeded', 28], // 29: index 0
      // Both point at the last MapIterationSucceeded, and come after it.
      ['MapStateSucceeded', 29], // 30
      ['MapStateExited', 29], // 31
      ['ParallelStateEntered', 31], // 32
      ['ParallelStateStarted', 32], // 33
      // Each branch chains from ParallelStateStarted.
      ['PassStateEntered', 33], // 34: CountItems
      ['PassStateEntered', 33], // 35: KeepItems
      ['PassStateExited', 34], // 36
      ['PassStateExited', 35], // 37
      // Both point at the latest branch event.
      ['ParallelStateSucceeded', 37], // 38
      ['ParallelStateExited', 37], // 39
      ['ExecutionSucceeded', 39], // 40
    ]);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    const iterations = events.filter((e) => e.type?.startsWith('MapIteration')).map((e) => [e.type, (e.mapIterationStartedEventDetails ?? e.mapIterationSucceededEventDetails)?.index]);
    expect(iterations).toEqual([
      ['MapIterationStarted', 0],
      ['MapIterationStarted', 1],
      ['MapIterationSucceeded', 1],
      ['MapIterationStarted', 2],
      ['MapIterationSucceeded', 2],
      ['MapIterationSucceeded', 0],
    ]);
    expect(events[21].taskFailedEventDetails).toMatchObject({ error: 'Broken' });
    expect(events[11].taskFailedEventDetails).toMatchObject({ error: 'Flaky' });
    expect(events.filter((e) => e.type === 'PassStateEntered').map((e) => e.stateEnteredEventDetails!.name)).toEqual(['Recovered', 'CountItems', 'KeepItems']);
  });

  (hasAwsCli ? it : it.skip)('is an answer the aws CLI parses', async () => {
    const parsed = await awsJson<{ events: { id: number; previousEventId: number; type: string }[] }>(server.endpoint, ['stepfunctions', 'get-execution-history', '--execution-arn', arn]);
    expect(parsed.events.map((e) => [e.type, e.previousEventId])).toEqual(links(events));
  });
});

describe('a Map whose iteration fails while another runs, caught by the Map', () => {
  it('aborts the running iteration, starts no more, then records MapStateFailed and the catcher', async () => {
    slowItem = new Promise<void>((resolve) => (openSlowItem = resolve));
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('map-fails'), name: 'order-2', input: JSON.stringify({ items: ['slow', 'broken-2', 'never'] }) }),
    );
    const arn = started.executionArn as string;
    await server.waitForExecution(arn);
    openSlowItem();
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string).error).toMatchObject({ Error: 'Broken' });
    const events = await history(arn);
    expect(links(events)).toEqual([
      ['ExecutionStarted', 0],
      ['MapStateEntered', 0],
      ['MapStateStarted', 2],
      ['MapIterationStarted', 3],
      ['MapIterationStarted', 3],
      ['TaskStateEntered', 4],
      ['TaskStateEntered', 5],
      ['TaskScheduled', 6],
      ['TaskStarted', 8],
      ['TaskScheduled', 7],
      ['TaskStarted', 10],
      ['TaskFailed', 11], // 12
      // Points at the iteration's last event, and is passed by: MapStateFailed points there too.
      ['MapIterationFailed', 12], // 13
      ['MapIterationAborted', 9], // 14: the held iteration
      ['MapStateFailed', 12], // 15
      ['MapStateExited', 15], // 16
      ['PassStateEntered', 16],
      ['PassStateExited', 17],
      ['ExecutionSucceeded', 18],
    ]);
    expect(events[12].mapIterationFailedEventDetails).toEqual({ name: 'EachItem', index: 1 });
    expect(events[13].mapIterationAbortedEventDetails).toEqual({ name: 'EachItem', index: 0 });
    // The library queues the third item after the failure; AWS starts no iteration then, and the handler never runs.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).not.toContain('never');
    expect((await history(arn)).length).toBe(events.length);
  });
});

describe('a Map retried by its own Retry after an iteration failed', () => {
  it('records no MapStateFailed, aborts the running iteration, and starts again from the failed one', async () => {
    slowItem = new Promise<void>((resolve) => (openSlowItem = resolve));
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('map-retried'), name: 'order-3', input: JSON.stringify({ items: ['held-once', 'fails-once'] }) }),
    );
    const arn = started.executionArn as string;
    await server.waitForExecution(arn);
    openSlowItem();
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('SUCCEEDED');
    const events = await history(arn);
    expect(links(events).slice(0, 17)).toEqual([
      ['ExecutionStarted', 0],
      ['MapStateEntered', 0],
      ['MapStateStarted', 2],
      ['MapIterationStarted', 3],
      ['MapIterationStarted', 3],
      ['TaskStateEntered', 4],
      ['TaskStateEntered', 5],
      ['TaskScheduled', 6],
      ['TaskStarted', 8],
      ['TaskScheduled', 7],
      ['TaskStarted', 10],
      ['TaskFailed', 11], // 12
      ['MapIterationFailed', 12], // 13
      ['MapIterationAborted', 9], // 14
      // As AWS records a retried Map: a new MapStateStarted pointing at the failed iteration's last event.
      ['MapStateStarted', 12], // 15
      ['MapIterationStarted', 15],
      ['MapIterationStarted', 15],
    ]);
    expect(links(events).slice(-3)).toEqual([
      ['MapStateSucceeded', expect.any(Number)],
      ['MapStateExited', events[events.length - 3].previousEventId],
      ['ExecutionSucceeded', events[events.length - 2].id],
    ]);
    expect(events.map((e) => e.type)).not.toContain('MapStateFailed');
    const ends = events.filter((e) => /^MapIteration(Succeeded|Failed|Aborted)$/.test(e.type as string));
    expect(ends).toHaveLength(events.filter((e) => e.type === 'MapIterationStarted').length);
  });
});

describe('a Parallel whose branch fails while the other runs, caught by the Parallel', () => {
  it('aborts the running branch, then records ParallelStateFailed at the failed branch and the catcher', async () => {
    slowItem = new Promise<void>((resolve) => (openSlowItem = resolve));
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('parallel-fails'), name: 'order-4', input: '{}' }));
    const arn = started.executionArn as string;
    await server.waitForExecution(arn);
    openSlowItem();
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('SUCCEEDED');
    const events = await history(arn);
    expect(links(events)).toEqual([
      ['ExecutionStarted', 0],
      ['ParallelStateEntered', 0],
      ['ParallelStateStarted', 2],
      // Each branch chains from ParallelStateStarted.
      ['TaskStateEntered', 3], // 4: Slow
      ['TaskStateEntered', 3], // 5: Breaks
      ['TaskScheduled', 4],
      ['TaskStarted', 6], // 7
      ['TaskScheduled', 5],
      ['TaskStarted', 8],
      ['TaskFailed', 9], // 10
      ['TaskStateAborted', 7], // 11: the running branch, cut
      ['ParallelStateFailed', 10], // 12: at the failed branch's last event
      ['ParallelStateExited', 12],
      ['PassStateEntered', 13],
      ['PassStateExited', 14],
      ['ExecutionSucceeded', 15],
    ]);
    expect(events[3].stateEnteredEventDetails!.name).toBe('Slow');
  });
});
