import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidExecutionInput,
  InvalidName,
  InvalidToken,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { startSfnServer, type LambdaHandler, type RunningSfnServer } from '../../local/sfn';

const ASL = join(__dirname, '..', 'fixtures', 'asl');
const REGION = 'us-east-1';
const fn = (name: string): string => `arn:aws:lambda:${REGION}:000000000000:function:${name}`;
const machineArn = (name: string): string => `arn:aws:states:${REGION}:000000000000:stateMachine:${name}`;

const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

/** A promise the test resolves by hand, to hold a handler mid-flight. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

interface ValidateRequest {
  kind?: string;
  stores?: string[];
  throttle?: number;
  refuse?: boolean;
}

const validateCalls: { event: Record<string, unknown>; functionName: string; requestId: string; remaining: number }[] = [];
const eraseCalls: unknown[] = [];
const exportCalls: unknown[] = [];
let exportGate = gate();
const sleepGate = gate();

const lambdas: Record<string, LambdaHandler> = {
  [fn('dsr-validate')]: async (event, context) => {
    const e = event as { request: ValidateRequest; requestId: string };
    validateCalls.push({ event: e as never, functionName: context.functionName, requestId: context.awsRequestId, remaining: context.getRemainingTimeInMillis() });
    const attempts = validateCalls.filter((c) => (c.event as { requestId: string }).requestId === e.requestId).length;
    if (e.request.throttle && attempts <= e.request.throttle) throw named('Throttled', `attempt ${attempts} throttled`);
    if (e.request.refuse) throw named('RequestRefused', 'subject identity not verified');
    return { kind: e.request.kind ?? 'none', stores: e.request.stores ?? [], ignored: 'dropped by ResultSelector' };
  },
  // Registered by bare name: FunctionName ARNs must still find it.
  'dsr-erase': async (event) => {
    eraseCalls.push(event);
    const { store, position } = event as { store: string; position: number };
    if (store === 'broken') throw new TypeError("Cannot read properties of undefined (reading 'id')");
    return { store, position, erased: true };
  },
  [fn('dsr-discover')]: async (event) => {
    const { store } = event as { store: string };
    // Finish in reverse order, so the iterations' events interleave.
    await new Promise((resolve) => setTimeout(resolve, { a: 40, b: 20, c: 0 }[store]));
    return { store };
  },
  [fn('dsr-sleep')]: async () => {
    await sleepGate.wait;
    return { woke: true };
  },
  [fn('dsr-export')]: async (event) => {
    exportCalls.push(event);
    await exportGate.wait;
    return { exported: true };
  },
};

let server: RunningSfnServer;
let sfn: SFNClient;

beforeAll(async () => {
  server = await startSfnServer({
    port: 0,
    stateMachines: [
      { name: 'dsr-flow', definitionPath: join(ASL, 'dsr-flow.asl.json'), substitutions: { ValidateFunctionArn: fn('dsr-validate'), EraseFunctionArn: fn('dsr-erase') } },
      { name: 'dsr-listing', definitionPath: join(ASL, 'dsr-flow.asl.json'), substitutions: { ValidateFunctionArn: fn('dsr-validate'), EraseFunctionArn: fn('dsr-erase') } },
      { name: 'dsr-ghost', definitionPath: join(ASL, 'dsr-flow.asl.json'), substitutions: { ValidateFunctionArn: fn('dsr-not-deployed'), EraseFunctionArn: fn('dsr-erase') } },
      { name: 'dsr-concurrent', definitionPath: join(ASL, 'concurrent-map.asl.json'), substitutions: { DiscoverFunctionArn: fn('dsr-discover') } },
      { name: 'dsr-export', definitionPath: join(ASL, 'single-task.asl.json'), substitutions: { ExportFunctionArn: fn('dsr-export') } },
      { name: 'dsr-task-timeout', definitionPath: join(ASL, 'task-timeout.asl.json'), substitutions: { ExportFunctionArn: fn('dsr-sleep') } },
      { name: 'dsr-deadline', definitionPath: join(ASL, 'execution-timeout.asl.json'), substitutions: { ExportFunctionArn: fn('dsr-sleep') } },
    ],
    lambdas,
  });
  sfn = new SFNClient({ endpoint: server.endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  exportGate.open();
  sleepGate.open();
  sfn.destroy();
  await server.close();
});

beforeEach(() => {
  exportGate.open();
  exportGate = gate();
});

async function run(machine: string, name: string, input: unknown): Promise<string> {
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn(machine), name, input: JSON.stringify(input) }));
  await server.waitForExecution(executionArn as string, 10_000);
  return executionArn as string;
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return events ?? [];
}

const types = (events: HistoryEvent[]): string[] => events.map((e) => e.type as string);

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a succeeding execution', () => {
  let arn: string;
  let events: HistoryEvent[];
  const input = { kind: 'erase', stores: ['orders', 'crm'] };

  beforeAll(async () => {
    arn = await run('dsr-flow', 'req-success', input);
    events = await history(arn);
  });

  it('is described as SUCCEEDED with its input, output and dates, polled through DescribeExecution', async () => {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({
      executionArn: `arn:aws:states:${REGION}:000000000000:execution:dsr-flow:req-success`,
      stateMachineArn: machineArn('dsr-flow'),
      name: 'req-success',
      status: 'SUCCEEDED',
      input: JSON.stringify(input),
    });
    expect(described.startDate).toBeInstanceOf(Date);
    expect(described.stopDate!.getTime()).toBeGreaterThanOrEqual(described.startDate!.getTime());
    expect(JSON.parse(described.output as string)).toEqual({
      ...input,
      validation: { kind: 'erase', stores: ['orders', 'crm'] },
      erasures: [
        { store: 'orders', position: 0, erased: true },
        { store: 'crm', position: 1, erased: true },
      ],
    });
  });

  it('records AWS event types in order, with ids 1..n and the causal previousEventId chain', () => {
    expect(types(events)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited',
      'ChoiceStateEntered', 'ChoiceStateExited',
      'MapStateEntered', 'MapStateStarted',
      'MapIterationStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited', 'MapIterationSucceeded',
      'MapIterationStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited', 'MapIterationSucceeded',
      'MapStateSucceeded', 'MapStateExited',
      'SucceedStateEntered', 'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    // As in AWS's recorded histories (see local/sfn/history.ts): ExecutionStarted and the first
    // state point at 0; with MaxConcurrency 1 the second iteration takes the first one's slot and
    // points at its last state event (16), not at MapIterationSucceeded; MapStateSucceeded and
    // MapStateExited both point at the last MapIterationSucceeded (24).
    expect(events.map((e) => e.previousEventId)).toEqual([0, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 18, 19, 20, 21, 22, 23, 24, 24, 26, 27, 28]);
    for (let i = 1; i < events.length; i++) expect(events[i].timestamp!.getTime()).toBeGreaterThanOrEqual(events[i - 1].timestamp!.getTime());
  });

  it('gives ExecutionStarted and state events their details', () => {
    expect(events[0].executionStartedEventDetails).toMatchObject({ input: JSON.stringify(input), inputDetails: { truncated: false } });
    expect(events[0].executionStartedEventDetails!.roleArn).toMatch(/^arn:aws:iam::000000000000:role\//);
    expect(events[1].stateEnteredEventDetails).toEqual({ name: 'ValidateRequest', input: JSON.stringify(input), inputDetails: { truncated: false } });
    expect(events[6].stateEnteredEventDetails!.name).toBe('RouteByKind');
    expect(JSON.parse(events[5].stateExitedEventDetails!.output as string)).toEqual({ ...input, validation: { kind: 'erase', stores: ['orders', 'crm'] } });
    expect(events[9].mapStateStartedEventDetails).toEqual({ length: 2 });
    expect(events[10].mapIterationStartedEventDetails).toEqual({ name: 'EraseEachStore', index: 0 });
    expect(events[16].mapIterationSucceededEventDetails).toEqual({ name: 'EraseEachStore', index: 0 });
    expect(events[17].mapIterationStartedEventDetails).toEqual({ name: 'EraseEachStore', index: 1 });
    expect(JSON.parse(events[28].executionSucceededEventDetails!.output as string)).toMatchObject({ erasures: [{ store: 'orders' }, { store: 'crm' }] });
  });

  it('records the lambda:invoke integration as AWS does: parameters, Payload envelope, context object', () => {
    const scheduled = events[2].taskScheduledEventDetails!;
    expect(scheduled).toMatchObject({ resourceType: 'lambda', resource: 'invoke', region: REGION });
    const started = new Date(events[0].timestamp!.getTime()).toISOString();
    expect(JSON.parse(scheduled.parameters as string)).toEqual({
      FunctionName: fn('dsr-validate'),
      Payload: { request: input, requestId: 'req-success', executionArn: arn, stateMachineArn: machineArn('dsr-flow'), state: 'ValidateRequest', startedAt: expect.any(String) },
    });
    expect(Math.abs(Date.parse(JSON.parse(scheduled.parameters as string).Payload.startedAt) - Date.parse(started))).toBeLessThan(1000);
    expect(events[3].taskStartedEventDetails).toEqual({ resourceType: 'lambda', resource: 'invoke' });
    const succeeded = events[4].taskSucceededEventDetails!;
    expect(succeeded).toMatchObject({ resourceType: 'lambda', resource: 'invoke' });
    expect(JSON.parse(succeeded.output as string)).toMatchObject({ ExecutedVersion: '$LATEST', StatusCode: 200, Payload: { kind: 'erase', ignored: 'dropped by ResultSelector' } });
  });

  it('calls the handlers with the Payload, a Lambda-like context and $$.Map.Item values', () => {
    const call = validateCalls.find((c) => (c.event as { requestId: string }).requestId === 'req-success')!;
    expect(call.functionName).toBe('dsr-validate');
    expect(call.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(call.remaining).toBeGreaterThan(60_000);
    expect(eraseCalls.filter((c) => (c as { requestId: string }).requestId === 'req-success')).toEqual([
      { store: 'orders', position: 0, requestId: 'req-success' },
      { store: 'crm', position: 1, requestId: 'req-success' },
    ]);
  });
});

describe('concurrent Map iterations and Parallel branches', () => {
  it('chains each iteration\'s events to that iteration, whatever order they finish in', async () => {
    const arn = await run('dsr-concurrent', 'req-concurrent', { stores: ['a', 'b', 'c'] });
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(JSON.parse(described.output as string)).toEqual([{ count: 3 }, [{ store: 'a' }, { store: 'b' }, { store: 'c' }]]);
    const events = await history(arn);
    const byId = new Map(events.map((e) => [e.id, e]));
    const finished = events.filter((e) => e.type === 'MapIterationSucceeded').map((e) => e.mapIterationSucceededEventDetails!.index);
    expect(finished).toEqual([2, 1, 0]);
    for (const [index, store] of ['a', 'b', 'c'].entries()) {
      const chain: HistoryEvent[] = [];
      let event = events.find((e) => e.type === 'MapIterationSucceeded' && e.mapIterationSucceededEventDetails!.index === index);
      while (event && event.type !== 'MapIterationStarted') {
        chain.unshift(event);
        event = byId.get(event.previousEventId as number);
      }
      expect(event?.mapIterationStartedEventDetails).toEqual({ name: 'EachStore', index });
      expect(types(chain)).toEqual(['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited', 'MapIterationSucceeded']);
      expect(JSON.parse(chain[1].taskScheduledEventDetails!.parameters as string).Payload).toEqual({ store });
      expect(JSON.parse(chain[3].taskSucceededEventDetails!.output as string).Payload).toEqual({ store });
    }
    const tail = types(events).slice(types(events).indexOf('MapStateSucceeded'));
    expect(tail.slice(0, 4)).toEqual(['MapStateSucceeded', 'MapStateExited', 'ParallelStateEntered', 'ParallelStateStarted']);
    // The two branches run concurrently, so their states may interleave.
    expect(tail.slice(4, 8).sort()).toEqual(['PassStateEntered', 'PassStateEntered', 'PassStateExited', 'PassStateExited']);
    expect(tail.slice(8)).toEqual(['ParallelStateSucceeded', 'ParallelStateExited', 'ExecutionSucceeded']);
  });
});

describe('failures, retries and catches', () => {
  it('fails with the thrown error name and a Lambda-style cause when a Map iteration throws', async () => {
    const arn = await run('dsr-flow', 'req-broken-store', { kind: 'erase', stores: ['orders', 'broken'] });
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    const cause = { errorType: 'TypeError', errorMessage: "Cannot read properties of undefined (reading 'id')", trace: [] };
    expect(described).toMatchObject({ status: 'FAILED', error: 'TypeError' });
    expect(JSON.parse(described.cause as string)).toEqual(cause);
    expect(described.output).toBeUndefined();
    const events = await history(arn);
    expect(types(events).slice(-6)).toEqual(['TaskScheduled', 'TaskStarted', 'TaskFailed', 'MapIterationFailed', 'MapStateFailed', 'ExecutionFailed']);
    const taskFailed = events.find((e) => e.type === 'TaskFailed')!.taskFailedEventDetails!;
    expect(taskFailed).toMatchObject({ resourceType: 'lambda', resource: 'invoke', error: 'TypeError' });
    expect(JSON.parse(taskFailed.cause as string)).toEqual(cause);
    expect(events.find((e) => e.type === 'MapIterationFailed')!.mapIterationFailedEventDetails).toEqual({ name: 'EraseEachStore', index: 1 });
    const failed = events[events.length - 1].executionFailedEventDetails!;
    expect(failed.error).toBe('TypeError');
    expect(JSON.parse(failed.cause as string)).toEqual(cause);
  });

  it('retries a Task on a matching custom error and records each attempt', async () => {
    const arn = await run('dsr-flow', 'req-throttled-once', { kind: 'none', throttle: 1 });
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('SUCCEEDED');
    const events = await history(arn);
    expect(types(events).slice(0, 9)).toEqual([
      'ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited',
    ]);
    expect(events[4].taskFailedEventDetails).toMatchObject({ error: 'Throttled' });
    expect(events[5].previousEventId).toBe(events[4].id);
    expect(validateCalls.filter((c) => (c.event as { requestId: string }).requestId === 'req-throttled-once')).toHaveLength(2);
  });

  it('fails with the retried error once MaxAttempts is used up', async () => {
    const arn = await run('dsr-flow', 'req-throttled-always', { kind: 'none', throttle: 10 });
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).toMatchObject({ status: 'FAILED', error: 'Throttled' });
    expect(types(await history(arn)).filter((t) => t === 'TaskScheduled')).toHaveLength(3);
  });

  it('catches a custom error into a Fail state that reports the Lambda cause', async () => {
    const arn = await run('dsr-flow', 'req-refused', { refuse: true });
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({ status: 'FAILED', error: 'RequestRefused' });
    expect(JSON.parse(described.cause as string)).toEqual({ errorType: 'RequestRefused', errorMessage: 'subject identity not verified', trace: [] });
    const events = await history(arn);
    expect(types(events)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskStateExited', 'FailStateEntered', 'ExecutionFailed']);
    expect(JSON.parse(events[5].stateExitedEventDetails!.output as string).refusal).toMatchObject({ Error: 'RequestRefused' });
    expect(validateCalls.filter((c) => (c.event as { requestId: string }).requestId === 'req-refused')).toHaveLength(1);
  });

  it('fails a Task whose function has no local handler, naming the function', async () => {
    const arn = await run('dsr-ghost', 'req-ghost', { kind: 'none' });
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
    expect(described.cause).toContain(fn('dsr-not-deployed'));
    expect(types(await history(arn))).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskFailed', 'ExecutionFailed']);
  });
});

describe('StartExecution', () => {
  it('is idempotent for the same name and input while running, and refuses a different input', async () => {
    const stateMachineArn = machineArn('dsr-export');
    const input = JSON.stringify({ requestId: 'r-1' });
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'req-idem', input }));
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'req-idem', input }));
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate!.getTime()).toBe(first.startDate!.getTime());
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'req-idem', input: '{"requestId":"r-2"}' }))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    exportGate.open();
    await server.waitForExecution(first.executionArn as string);
    // As on AWS, a closed execution's name cannot be reused, whatever the input.
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'req-idem', input }))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    expect(exportCalls.filter((c) => (c as { requestId: string }).requestId === 'r-1')).toHaveLength(1);
  });

  it('names an execution with a UUID when no name is given and defaults the input to {}', async () => {
    exportGate.open();
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('dsr-export') }));
    expect(executionArn).toMatch(/:execution:dsr-export:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await server.waitForExecution(executionArn as string);
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ input: '{}', status: 'SUCCEEDED', output: '{"exported":true}' });
  });

  it('rejects invalid input, names and machines with the typed AWS exceptions', async () => {
    const stateMachineArn = machineArn('dsr-flow');
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'bad-input', input: '{"kind":' }))).rejects.toBeInstanceOf(InvalidExecutionInput);
    const big = JSON.stringify({ blob: 'x'.repeat(256 * 1024) });
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'big-input', input: big }))).rejects.toBeInstanceOf(InvalidExecutionInput);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'has space' }))).rejects.toBeInstanceOf(InvalidName);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'a'.repeat(81) }))).rejects.toBeInstanceOf(InvalidName);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'slash/name' }))).rejects.toBeInstanceOf(InvalidName);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('nope') }))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: `${machineArn('dsr-flow').replace('stateMachine', 'execution')}:missing` }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    const names = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions!.map((e) => e.name);
    expect(names).not.toEqual(expect.arrayContaining(['bad-input', 'big-input']));
  });

  it('works through AWS_ENDPOINT_URL_SFN with an unchanged client', async () => {
    const previous = process.env.AWS_ENDPOINT_URL_SFN;
    process.env.AWS_ENDPOINT_URL_SFN = server.endpoint;
    const client = new SFNClient({ region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      const { stateMachines } = await client.send(new ListStateMachinesCommand({}));
      expect(stateMachines!.map((m) => m.name)).toEqual(['dsr-concurrent', 'dsr-deadline', 'dsr-export', 'dsr-flow', 'dsr-ghost', 'dsr-listing', 'dsr-task-timeout']);
    } finally {
      client.destroy();
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_SFN;
      else process.env.AWS_ENDPOINT_URL_SFN = previous;
    }
  });
});

describe('StopExecution', () => {
  it('aborts a running execution and records nothing after the abort', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('dsr-export'), name: 'req-stop', input: '{"requestId":"stop"}' }));
    await eventually(async () => types(await history(executionArn as string)).includes('LambdaFunctionStarted'), 'the handler to start');
    const { stopDate } = await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator.Cancelled', cause: 'subject withdrew the request' }));
    expect(stopDate).toBeInstanceOf(Date);
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', error: 'Operator.Cancelled', cause: 'subject withdrew the request', stopDate });
    exportGate.open();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const events = await history(executionArn as string);
    expect(types(events)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'ExecutionAborted']);
    expect(events[2].lambdaFunctionScheduledEventDetails).toMatchObject({ resource: fn('dsr-export'), input: '{"requestId":"stop"}' });
    expect(events[4]).toMatchObject({ previousEventId: 0, executionAbortedEventDetails: { error: 'Operator.Cancelled', cause: 'subject withdrew the request' } });
    // Stopping again is a no-op that reports the original stop.
    expect((await sfn.send(new StopExecutionCommand({ executionArn }))).stopDate).toEqual(stopDate);
  });
});

describe('timeouts', () => {
  // Both take a second of wall time: run them side by side.
  const finished: Promise<string>[] = [];
  beforeAll(() => {
    finished.push(run('dsr-task-timeout', 'req-task-timeout', { requestId: 'slow' }), run('dsr-deadline', 'req-deadline', {}));
    // Awaited by the tests; this only keeps an early rejection from being reported as unhandled.
    finished.forEach((p) => p.catch(() => undefined));
  });

  it('times a Task out after its TimeoutSeconds and ignores the handler finishing late', async () => {
    const arn = await finished[0];
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string).timeout).toMatchObject({ Error: 'States.Timeout' });
    await Promise.all(finished); // the deadline execution shares the handler: let it time out first
    sleepGate.open();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const events = await history(arn);
    expect(types(events)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskTimedOut', 'TaskStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded']);
    expect(events[2].taskScheduledEventDetails).toMatchObject({ timeoutInSeconds: 1 });
    expect(events[4].taskTimedOutEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke', error: 'States.Timeout' });
  });

  it('times an execution out after its TimeoutSeconds', async () => {
    const arn = await finished[1];
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    const events = await history(arn);
    expect(events[events.length - 1]).toMatchObject({ type: 'ExecutionTimedOut', previousEventId: 0, executionTimedOutEventDetails: { error: 'States.Timeout' } });
  });
});

describe('listing and paging', () => {
  const started: string[] = [];

  beforeAll(async () => {
    for (const [name, input] of [
      ['list-1', { kind: 'none' }],
      ['list-2', { refuse: true }],
      ['list-3', { kind: 'none' }],
      ['list-4', { refuse: true }],
      ['list-5', { kind: 'none' }],
    ] as const) {
      started.push(await run('dsr-listing', name, input));
    }
  });

  it('lists executions newest first, filtered by status, across pages', async () => {
    const stateMachineArn = machineArn('dsr-listing');
    const failed = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'FAILED' }));
    expect(failed.executions!.map((e) => [e.name, e.status])).toEqual([['list-4', 'FAILED'], ['list-2', 'FAILED']]);
    expect(failed.nextToken).toBeUndefined();
    const page1 = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'SUCCEEDED', maxResults: 2 }));
    expect(page1.executions!.map((e) => e.name)).toEqual(['list-5', 'list-3']);
    expect(page1.executions![0].stopDate).toBeInstanceOf(Date);
    const page2 = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'SUCCEEDED', maxResults: 2, nextToken: page1.nextToken }));
    expect(page2.executions!.map((e) => e.name)).toEqual(['list-1']);
    expect(page2.nextToken).toBeUndefined();
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toHaveLength(5);
    await expect(sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'FAILED', nextToken: page1.nextToken }))).rejects.toBeInstanceOf(InvalidToken);
  });

  it('pages history forwards and backwards, and drops data when includeExecutionData is false', async () => {
    const executionArn = started[0];
    const all = await history(executionArn);
    expect(all.length).toBeGreaterThan(6);
    const collect = async (reverseOrder: boolean): Promise<number[]> => {
      const ids: number[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 3, reverseOrder, nextToken }));
        expect(page.events!.length).toBeLessThanOrEqual(3);
        ids.push(...page.events!.map((e) => e.id as number));
        nextToken = page.nextToken;
      } while (nextToken);
      return ids;
    };
    expect(await collect(false)).toEqual(all.map((e) => e.id));
    expect(await collect(true)).toEqual(all.map((e) => e.id).reverse());
    const bare = (await sfn.send(new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }))).events!;
    expect(bare.map((e) => e.type)).toEqual(types(all));
    expect(bare[0].executionStartedEventDetails).toEqual({ roleArn: all[0].executionStartedEventDetails!.roleArn });
    expect(bare[1].stateEnteredEventDetails).toEqual({ name: 'ValidateRequest' });
    expect(bare[2].taskScheduledEventDetails).toEqual({ resourceType: 'lambda', resource: 'invoke', region: REGION });
    expect(JSON.stringify(bare)).not.toContain('"input"');
  });
});

describe('state machines and protocol errors', () => {
  it('describes a state machine with its substituted definition', async () => {
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn('dsr-export') }));
    expect(described).toMatchObject({ name: 'dsr-export', status: 'ACTIVE', type: 'STANDARD' });
    expect(JSON.parse(described.definition as string).States.Export.Resource).toBe(fn('dsr-export'));
    await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn('nope') }))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
  });

  const post = (target: string, body: string) =>
    fetch(`${server.endpoint}/`, { method: 'POST', headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': target }, body });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const bodyOf = async (res: Response): Promise<any> => res.json();

  it('answers an unknown operation with UnknownOperationException', async () => {
    const res = await post('AWSStepFunctions.CreateActivity', '{}');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'UnknownOperationException' });
    expect((await bodyOf(await post('DynamoDB_20120810.ListTables', '{}'))).__type).toBe('UnknownOperationException');
  });

  it('answers a malformed body with SerializationException', async () => {
    const res = await post('AWSStepFunctions.StartExecution', '{"stateMachineArn": ');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(await res.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('sends timestamps as epoch seconds', async () => {
    const body = await bodyOf(await post('AWSStepFunctions.ListExecutions', JSON.stringify({ stateMachineArn: machineArn('dsr-listing'), maxResults: 1 })));
    const { startDate } = body.executions[0];
    expect(typeof startDate).toBe('number');
    expect(Math.abs(startDate - Date.now() / 1000)).toBeLessThan(60);
  });
});
