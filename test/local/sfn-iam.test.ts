/**
 * IAM on the local Step Functions endpoint: the SDK v3 and the aws CLI against the real
 * endpoint, with a small identity policy per principal (test/support/test-policy.ts).
 */
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { startSfnServer, type RunningSfnServer } from '../../local/sfn';
import { awsCli, awsCliEnv, hasAwsCli } from '../support/aws-cli';
import { roleArn, testAuthorizer, type TestAuthorizer } from '../support/test-policy';

const FLOW = 'arn:aws:states:us-east-1:000000000000:stateMachine:dsr-flow';
const executionArn = (name: string) => `arn:aws:states:us-east-1:000000000000:execution:dsr-flow:${name}`;
const fn = (name: string): string => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

let server: RunningSfnServer;
let authz: TestAuthorizer;
const clients: SFNClient[] = [];
let admin: SFNClient;
let starter: SFNClient;

function client(accessKeyId: string): SFNClient {
  const c = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 'x' }, maxAttempts: 1 });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  authz = testAuthorizer({
    AKSTARTER: {
      arn: roleArn('starter'),
      statements: [
        { Effect: 'Allow', Action: 'states:StartExecution', Resource: FLOW },
        { Effect: 'Allow', Action: 'states:DescribeExecution', Resource: executionArn('*') },
      ],
    },
  });
  server = await startSfnServer({
    stateMachines: [
      { name: 'dsr-flow', definitionPath: join(__dirname, '..', 'fixtures', 'asl', 'dsr-flow.asl.json'), substitutions: { ValidateFunctionArn: fn('dsr-validate'), EraseFunctionArn: fn('dsr-erase') } },
    ],
    lambdas: { 'dsr-validate': async () => ({ kind: 'none', stores: [] }), 'dsr-erase': async () => ({}) },
    authorize: authz.authorize,
  });
  admin = client('local');
  starter = client('AKSTARTER');
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
});

async function denied(p: Promise<unknown>): Promise<SFNServiceException> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SFNServiceException)) throw new Error(`expected a Step Functions error, got ${String(err)}`);
  return err;
}

const message = (action: string, resource: string) =>
  `User: ${roleArn('starter')} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

describe('Step Functions asks IAM for every call', () => {
  it('lets allowed calls through and denies the others on the execution ARN', async () => {
    const { executionArn: arn } = await starter.send(new StartExecutionCommand({ stateMachineArn: FLOW, name: 'iam-1', input: '{}' }));
    expect(arn).toBe(executionArn('iam-1'));
    await server.waitForExecution(arn as string);
    await expect(starter.send(new DescribeExecutionCommand({ executionArn: arn }))).resolves.toMatchObject({ status: 'SUCCEEDED' });
    const history = await denied(starter.send(new GetExecutionHistoryCommand({ executionArn: arn })));
    expect(history.name).toBe('AccessDeniedException');
    expect(history.$metadata.httpStatusCode).toBe(400);
    expect(history.message).toBe(message('states:GetExecutionHistory', executionArn('iam-1')));
    const stop = await denied(starter.send(new StopExecutionCommand({ executionArn: arn })));
    expect(stop.message).toBe(message('states:StopExecution', executionArn('iam-1')));
  });

  it('authorizes machine-level calls on the state machine ARN and ListStateMachines on the account', async () => {
    expect((await denied(starter.send(new ListExecutionsCommand({ stateMachineArn: FLOW })))).message).toBe(message('states:ListExecutions', FLOW));
    expect((await denied(starter.send(new DescribeStateMachineCommand({ stateMachineArn: FLOW })))).message).toBe(message('states:DescribeStateMachine', FLOW));
    expect((await denied(starter.send(new ListStateMachinesCommand({})))).message).toBe(
      message('states:ListStateMachines', 'arn:aws:states:us-east-1:000000000000:stateMachine:*'),
    );
  });

  it('starts nothing when StartExecution is denied', async () => {
    const other = 'arn:aws:states:us-east-1:000000000000:stateMachine:dsr-flow-other';
    const err = await denied(client('AKUNKNOWN').send(new StartExecutionCommand({ stateMachineArn: FLOW, name: 'iam-denied' })));
    // A key no principal has is refused before any policy, as AWS refuses it.
    expect(err.name).toBe('UnrecognizedClientException');
    expect(err.message).toBe('The security token included in the request is invalid.');
    expect(err.$metadata.httpStatusCode).toBe(400);
    const { executions } = await admin.send(new ListExecutionsCommand({ stateMachineArn: FLOW }));
    expect(executions?.map((e) => e.name)).not.toContain('iam-denied');
    // IAM comes first: the starter may not start another machine, whether or not it exists.
    expect((await denied(starter.send(new StartExecutionCommand({ stateMachineArn: other })))).message).toBe(message('states:StartExecution', other));
  });
});

(hasAwsCli ? describe : describe.skip)('the aws CLI', () => {
  it('prints AccessDeniedException for a denied call', async () => {
    const { code, stderr } = await awsCli(server.endpoint, ['stepfunctions', 'list-state-machines'], awsCliEnv('AKSTARTER'));
    expect(code).not.toBe(0);
    expect(stderr).toContain(
      `An error occurred (AccessDeniedException) when calling the ListStateMachines operation: ${message('states:ListStateMachines', 'arn:aws:states:us-east-1:000000000000:stateMachine:*')}`,
    );
  });
});

describe('a Task invokes Lambda as the machine role', () => {
  let flowServer: RunningSfnServer;
  let invoked: string[];
  beforeAll(async () => {
    invoked = [];
    // The machine's role may invoke the validator only: ValidateRequest runs, nothing else.
    const machineAuthz = testAuthorizer({
      AKFLOWROLE: { arn: roleArn('dsr-flow-role'), statements: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: fn('dsr-validate') }] },
    });
    flowServer = await startSfnServer({
      stateMachines: [
        { name: 'dsr-flow', definitionPath: join(__dirname, '..', 'fixtures', 'asl', 'dsr-flow.asl.json'), substitutions: { ValidateFunctionArn: fn('dsr-validate'), EraseFunctionArn: fn('dsr-erase') } },
      ],
      lambdas: {
        'dsr-validate': async () => (invoked.push('validate'), { kind: 'erase', stores: ['a'] }),
        'dsr-erase': async () => (invoked.push('erase'), {}),
      },
      authorize: machineAuthz.authorize,
      machineCredentials: () => ({ accessKeyId: 'AKFLOWROLE', secretAccessKey: 'x' }),
    });
  });
  afterAll(async () => {
    await flowServer?.close();
  });

  it('fails the Task with Lambda.AWSLambdaException and AWS message when the role may not invoke the function, and never calls it', async () => {
    const sfn = new SFNClient({ endpoint: flowServer.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'x' } });
    try {
      const { executionArn: arn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: FLOW, name: 'invoke-denied', input: '{}' }));
      await flowServer.waitForExecution(arn as string);
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
      expect(described.status).toBe('FAILED');
      expect(invoked).toEqual(['validate']);
      const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
      const failed = events.find((e) => e.type === 'TaskFailed');
      expect(failed?.taskFailedEventDetails?.error).toBe('Lambda.AWSLambdaException');
      expect(failed?.taskFailedEventDetails?.cause).toMatch(
        new RegExp(
          `^User: ${roleArn('dsr-flow-role').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not authorized to perform: lambda:InvokeFunction on resource: ${fn('dsr-erase')} ` +
            'because no identity-based policy allows the lambda:InvokeFunction action \\(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: [0-9a-f-]{36}; Proxy: null\\)$',
        ),
      );
      // As on AWS: scheduled, then failed; the function never started.
      const erase = events.slice(events.indexOf(failed!) - 1, events.indexOf(failed!) + 1).map((e) => e.type);
      expect(erase).toEqual(['TaskScheduled', 'TaskFailed']);
    } finally {
      sfn.destroy();
    }
  });
});
