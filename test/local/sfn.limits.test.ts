import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { startSfnServer, type AslMachine, type LambdaHandler, type RunningSfnServer } from '../../local/sfn';
import { fullHistory } from '../support/history';

/**
 * AWS's payload quota (262,144 bytes of UTF-8 JSON per state input or output, not only a Task's
 * result) and history quota (25,000 events), on the local engine. Neither is caught or retried
 * by States.ALL (AWS: "cannot catch the States.DataLimitExceeded terminal error or Runtime
 * error types").
 */
const REGION = 'us-east-1';
const LIMIT = 262_144;
const fn = (name: string): string => `arn:aws:lambda:${REGION}:000000000000:function:${name}`;
const machineArn = (name: string): string => `arn:aws:states:${REGION}:000000000000:stateMachine:${name}`;
const resultTooLarge = (state: string): string => `The state/task '${state}' returned a result with a size exceeding the maximum number of bytes service limit.`;

/** `{"pad":"..."}` of exactly `bytes` UTF-8 bytes, with two-byte characters: bytes are counted, not characters. */
const padded = (bytes: number): { pad: string } => {
  const room = bytes - '{"pad":""}'.length;
  return { pad: 'é'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2) };
};

const calls: Record<string, number> = {};
const count = (name: string): void => {
  calls[name] = (calls[name] ?? 0) + 1;
};

const lambdas: Record<string, LambdaHandler> = {
  [fn('sized')]: async (event) => {
    count('sized');
    return padded((event as { bytes: number }).bytes);
  },
  [fn('echo')]: async (event) => {
    count('echo');
    return event;
  },
};

const task = (name: string, extra: Record<string, unknown> = {}) => ({ Type: 'Task', Resource: fn(name), ...extra });
const catchAll = { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }] };
const retryAll = { Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3, IntervalSeconds: 1 }] };
const caught = { Caught: { Type: 'Pass', End: true } };

const machines: Record<string, AslMachine> = {
  // The handler's result is the state output as is (a bare function ARN, no paths).
  'task-result': { StartAt: 'Sized', States: { Sized: task('sized', { ...catchAll, ...retryAll, End: true }), ...caught } },
  // A Pass state's output: twice its input.
  'pass-output': {
    StartAt: 'Sized',
    States: { Sized: task('sized', { Next: 'Double' }), Double: { Type: 'Pass', Parameters: { 'a.$': '$', 'b.$': '$' }, End: true } },
  },
  // The result fits, the state output after ResultPath does not.
  'result-path': { StartAt: 'Sized', States: { Sized: task('sized', { ResultPath: '$.result', ...catchAll, End: true }), ...caught } },
  // A Task's input after Parameters.
  'task-input': { StartAt: 'Echo', States: { Echo: task('echo', { Parameters: { 'a.$': '$', 'b.$': '$' }, ...catchAll, End: true }), ...caught } },
  // Each iteration fits, the Map's output (all of them) does not.
  'map-output': {
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Sized', States: { Sized: task('sized', { End: true }) } },
        ...catchAll,
        End: true,
      },
      ...caught,
    },
  },
  // An iteration's input after ItemSelector.
  'map-iteration-input': {
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemSelector: { 'a.$': '$.blob', 'b.$': '$.blob' },
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Echo', States: { Echo: task('echo', { End: true }) } },
        ...catchAll,
        End: true,
      },
      ...caught,
    },
  },
  // Four events per turn, forever: the history limit ends it.
  'endless-loop': {
    StartAt: 'Tick',
    States: {
      Tick: { Type: 'Pass', Next: 'Again' },
      Again: { Type: 'Choice', Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Done' }], Default: 'Tick' },
      Done: { Type: 'Succeed' },
    },
  },
};

let dir: string;
let server: RunningSfnServer;
let sfn: SFNClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfn-limits-'));
  const stateMachines = Object.entries(machines).map(([name, definition]) => {
    const definitionPath = join(dir, `${name}.asl.json`);
    writeFileSync(definitionPath, JSON.stringify(definition));
    return { name, definitionPath, substitutions: {} };
  });
  server = await startSfnServer({ stateMachines, lambdas });
  sfn = new SFNClient({ endpoint: server.endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  sfn.destroy();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(machine: string, name: string, input: unknown): Promise<{ status?: string; error?: string; cause?: string; events: HistoryEvent[] }> {
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn(machine), name, input: JSON.stringify(input) }));
  await server.waitForExecution(executionArn as string, 60_000);
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { status: described.status, error: described.error, cause: described.cause, events: await fullHistory(sfn, executionArn as string) };
}

const types = (events: HistoryEvent[]): string[] => events.map((e) => e.type as string);
const last = (events: HistoryEvent[]): HistoryEvent => events[events.length - 1];

describe('States.DataLimitExceeded', () => {
  it('lets a state output of exactly 262,144 bytes through and fails one byte more, past Retry and Catch on States.ALL', async () => {
    const fits = await run('task-result', 'fits', { bytes: LIMIT });
    expect(fits.status).toBe('SUCCEEDED');
    expect(Buffer.byteLength(last(fits.events).executionSucceededEventDetails!.output as string)).toBe(LIMIT);

    const before = calls.sized ?? 0;
    const over = await run('task-result', 'over', { bytes: LIMIT + 1 });
    expect(over).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded', cause: resultTooLarge('Sized') });
    expect(types(over.events)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionFailed', 'ExecutionFailed']);
    expect(over.events[4].lambdaFunctionFailedEventDetails).toMatchObject({ error: 'States.DataLimitExceeded' });
    expect(last(over.events)).toMatchObject({ previousEventId: 5, executionFailedEventDetails: { error: 'States.DataLimitExceeded', cause: resultTooLarge('Sized') } });
    // Not retried: one call.
    expect((calls.sized ?? 0) - before).toBe(1);
  });

  it("fails a Pass state whose output is over the limit, with no Exited event", async () => {
    const result = await run('pass-output', 'pass', { bytes: 140_000 });
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded', cause: resultTooLarge('Double') });
    expect(types(result.events).slice(-2)).toEqual(['PassStateEntered', 'ExecutionFailed']);
    expect(last(result.events).previousEventId).toBe(result.events[result.events.length - 2].id);
  });

  it('measures the state output after ResultPath, and no Catch on States.ALL takes it', async () => {
    const result = await run('result-path', 'result-path', { bytes: 140_000, carried: padded(140_000) });
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded', cause: resultTooLarge('Sized') });
    expect(types(result.events)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'ExecutionFailed']);
  });

  it("fails a Task whose input after Parameters is over the limit, before its handler runs", async () => {
    const before = calls.echo ?? 0;
    const result = await run('task-input', 'task-input', padded(140_000));
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(result.cause).toContain("'Echo'");
    expect(types(result.events)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'ExecutionFailed']);
    expect(last(result.events).previousEventId).toBe(2);
    expect((calls.echo ?? 0) - before).toBe(0);
  });

  it("fails a Map whose iterations fit but whose output does not, past the Map's Catch", async () => {
    const result = await run('map-output', 'map-output', { items: [{ bytes: 100_000 }, { bytes: 100_000 }, { bytes: 100_000 }] });
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded', cause: resultTooLarge('Each') });
    expect(types(result.events).filter((t) => t === 'MapIterationSucceeded')).toHaveLength(3);
    expect(types(result.events)).not.toContain('MapStateExited');
    expect(types(result.events)).not.toContain('PassStateEntered');
  });

  it("fails a Map iteration whose input after ItemSelector is over the limit", async () => {
    const before = calls.echo ?? 0;
    const result = await run('map-iteration-input', 'map-iteration-input', { blob: padded(140_000), items: [1] });
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(result.cause).toContain("'Echo'");
    expect(types(result.events).slice(-2)).toEqual(['MapIterationStarted', 'ExecutionFailed']);
    expect((calls.echo ?? 0) - before).toBe(0);
  });

  it('refuses an execution input over the limit at StartExecution (InvalidExecutionInput), and takes one at it', async () => {
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('pass-output'), name: 'big-input', input: JSON.stringify(padded(LIMIT + 1)) }))).rejects.toMatchObject({
      name: 'InvalidExecutionInput',
    });
    const atLimit = JSON.stringify({ ...padded(LIMIT - ',"stop":1'.length), stop: 1 });
    expect(Buffer.byteLength(atLimit)).toBe(LIMIT);
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn('endless-loop'), name: 'input-at-limit', input: atLimit }));
    expect((await server.waitForExecution(executionArn as string)).status).toBe('SUCCEEDED');
  });
});

describe('the 25,000-event history limit', () => {
  it('fails the execution with States.Runtime as event 25,000', async () => {
    const result = await run('endless-loop', 'endless', {});
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: 'The execution reached the maximum number of history events (25000).' });
    expect(result.events).toHaveLength(25_000);
    expect(result.events.map((e) => e.id)).toEqual(result.events.map((_, i) => i + 1));
    expect(last(result.events)).toMatchObject({ id: 25_000, type: 'ExecutionFailed', previousEventId: 24_999 });
  }, 60_000);
});
