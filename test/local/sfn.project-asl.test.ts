import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { loadDefinition, startSfnServer, type LambdaHandler } from '../../local/sfn';

/**
 * The project's own ASL files, run as they are: every `${...}` placeholder gets a local
 * function ARN, so any Task the local server cannot run fails this test first.
 */
const DIR = join(__dirname, '..', '..', 'statemachines');
const files = readdirSync(DIR).filter((f) => f.endsWith('.asl.json'));
const functionFor = (placeholder: string): string => `arn:aws:lambda:us-east-1:000000000000:function:local-${placeholder.replace(/FunctionArn$/, '')}`;
const substitutionsOf = (path: string): Record<string, string> =>
  Object.fromEntries([...readFileSync(path, 'utf8').matchAll(/\$\{([^!}][^}]*)\}/g)].map(([, key]) => [key, functionFor(key)]));

it.each(files)('%s loads, validates and starts on the local server', async (file) => {
  const path = join(DIR, file);
  const server = await startSfnServer({ stateMachines: [{ name: 'm', definitionPath: path, substitutions: substitutionsOf(path) }], lambdas: {} });
  await server.close();
});

const SUBJECT_REQUEST = join(DIR, 'subject-request.asl.json');

(files.includes('subject-request.asl.json') ? it : it.skip)('subject-request retries ValidateRequest on StoreUnavailable, then records the failure', async () => {
  const substitutions = substitutionsOf(SUBJECT_REQUEST);
  const { definition } = loadDefinition(SUBJECT_REQUEST, substitutions);
  const retrier = definition.States.ValidateRequest.Retry?.find((r) => r.ErrorEquals.includes('StoreUnavailable'));
  const calls: Record<string, unknown[]> = {};
  const lambdas: Record<string, LambdaHandler> = Object.fromEntries(
    Object.entries(substitutions).map(([key, arn]) => [
      arn,
      async (event: unknown) => {
        (calls[key] ??= []).push(event);
        if (key === 'ValidateRequestFunctionArn') throw Object.assign(new Error('ledger table unreachable'), { name: 'StoreUnavailable' });
        return { recorded: true };
      },
    ]),
  );
  const server = await startSfnServer({ stateMachines: [{ name: 'subject-request', definitionPath: SUBJECT_REQUEST, substitutions }], lambdas });
  const sfn = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:subject-request',
        name: 'req-0001',
        input: JSON.stringify({ requestId: 'req-0001', requestHash: 'h', mode: 'plan' }),
      }),
    );
    await server.waitForExecution(executionArn as string);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.status).toBe('FAILED');
    expect(calls.ValidateRequestFunctionArn).toHaveLength(1 + (retrier?.MaxAttempts ?? 3));
    expect(calls.RecordFailureFunctionArn).toHaveLength(1);
    expect(JSON.stringify(calls.RecordFailureFunctionArn[0])).toContain('StoreUnavailable');
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    const entered = events!.filter((e) => e.stateEnteredEventDetails).map((e) => e.stateEnteredEventDetails!.name);
    expect(entered.slice(0, 2)).toEqual(['ValidateRequest', 'RecordFailure']);
    expect(events![events!.length - 1].type).toBe('ExecutionFailed');
  } finally {
    sfn.destroy();
    await server.close();
  }
});
