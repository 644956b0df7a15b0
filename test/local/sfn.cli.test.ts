import { join } from 'node:path';
import { startSfnServer, type RunningSfnServer } from '../../local/sfn';
import { awsJson, hasAwsCli } from '../support/aws-cli';

const FLOW = 'arn:aws:states:us-east-1:000000000000:stateMachine:dsr-flow';
const fn = (name: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

let server: RunningSfnServer;

const aws = (...args: string[]): Promise<Record<string, unknown>> => awsJson(server.endpoint, ['stepfunctions', ...args]);

(hasAwsCli ? describe : describe.skip)('the aws CLI against the local endpoint', () => {
  beforeAll(async () => {
    server = await startSfnServer({
      stateMachines: [
        { name: 'dsr-flow', definitionPath: join(__dirname, '..', 'fixtures', 'asl', 'dsr-flow.asl.json'), substitutions: { ValidateFunctionArn: fn('dsr-validate'), EraseFunctionArn: fn('dsr-erase') } },
      ],
      lambdas: {
        'dsr-validate': async () => ({ kind: 'none', stores: [] }),
        'dsr-erase': async () => ({}),
      },
    });
  });
  afterAll(() => server?.close());

  it('starts and describes an execution, and gets AWS error codes', async () => {
    const started = await aws('start-execution', '--state-machine-arn', FLOW, '--name', 'cli-req-1', '--input', '{"subject":"cli"}');
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:dsr-flow:cli-req-1');
    // CLI v1 prints the epoch seconds it received; v2 turns them into ISO 8601.
    const startMs = typeof started.startDate === 'number' ? started.startDate * 1000 : Date.parse(String(started.startDate));
    expect(Math.abs(startMs - Date.now())).toBeLessThan(60_000);
    await server.waitForExecution(started.executionArn as string);
    const described = await aws('describe-execution', '--execution-arn', started.executionArn as string);
    expect(described).toMatchObject({ status: 'SUCCEEDED', name: 'cli-req-1', input: '{"subject":"cli"}' });
    expect(JSON.parse(described.output as string)).toMatchObject({ result: { erased: 0 } });
    const refused = aws('start-execution', '--state-machine-arn', FLOW, '--name', 'cli-req-1', '--input', '{"subject":"other"}');
    await expect(refused).rejects.toMatchObject({ stderr: expect.stringContaining('(ExecutionAlreadyExists)') });
  });
});
