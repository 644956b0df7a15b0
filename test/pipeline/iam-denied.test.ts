/**
 * The check can fail: the same engine, with ScheduleDeferred's policy lacking the one action
 * its handler needs (dynamodb:BatchWriteItem on the ledger, the gap a real deployment found),
 * denies it through the real endpoint and the real SDK, and an erasure that keeps something
 * fails exactly there — as it would on AWS. Every other call of the run is allowed.
 */
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handlerCredentials, withoutAction } from '../../local/iam/authorizer';
import { startSeededEngine, type SeededEngine } from '../support/engine';

const NOW = '2026-11-02T12:00:00.000Z';
let env: SeededEngine;

beforeAll(async () => {
  env = await startSeededEngine({
    seed: 7,
    now: NOW,
    expectDenials: true,
    iamPolicyOverride: (role, policy) => (role === 'dsr-schedule-deferred' ? withoutAction(policy, 'dynamodb:BatchWriteItem') : policy),
  });
}, 300_000);

afterAll(() => env?.close());

/** Each failure in a history, with the state it happened in. */
function failures(events: readonly HistoryEvent[]): { state: string | undefined; error?: string; cause?: string }[] {
  let state: string | undefined;
  const out: { state: string | undefined; error?: string; cause?: string }[] = [];
  for (const e of events) {
    if (e.stateEnteredEventDetails) state = e.stateEnteredEventDetails.name;
    for (const [key, details] of Object.entries(e)) {
      if (key.endsWith('FailedEventDetails') && details && typeof details === 'object') out.push({ state, ...(details as { error?: string; cause?: string }) });
    }
  }
  return out;
}

it('fails an erasure that keeps something at ScheduleDeferred, with AccessDenied for dynamodb:BatchWriteItem', async () => {
  const subject = env.report.subjects.find((s) => !s.flags.fraudInvestigation && !s.flags.legalHeldMedia && !s.flags.specialCharacters && s.expected.invoices.owner > 0)!;
  const verification = ['--verified-by', 'agent-7', '--verification-method', 'id-document', '--verification-ref', 'TICKET-2', '--verified-at', NOW];
  const r = await env.t.dsr('start', '--type', 'erasure', '--subject', subject.subjectId, '--request-id', 'denied-1', ...verification, '--wait', '--json');
  const summary = JSON.parse(r.out.trim().split('\n').pop() ?? '{}');
  expect(summary.status).toBe('failed');
  expect(summary.execution.status).toBe('FAILED');

  const sfn = new SFNClient({});
  try {
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: summary.execution.arn, maxResults: 1000 }));
    const failed = failures(history.events ?? []);
    // The batch writer names the store and the SDK error it got (functions/connectors/dynamodb-batch.ts).
    expect(failed[0]).toMatchObject({ state: 'ScheduleDeferred', error: 'StoreUnavailable' });
    expect(failed[0].cause).toMatch(/store ledger: BatchWriteItem failed \(AccessDeniedException\)/);
  } finally {
    sfn.destroy();
  }
  // What the SDK got from the endpoint, signing as that function's role: AWS's own error and words.
  const asScheduleDeferred = new DynamoDBClient({ credentials: handlerCredentials('schedule-deferred'), maxAttempts: 1 });
  try {
    const write = asScheduleDeferred.send(new BatchWriteItemCommand({ RequestItems: { 'dsr-ledger': [{ PutRequest: { Item: { pk: { S: 'deferred' }, sk: { S: 'x' } } } }] } }));
    await expect(write).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    await expect(write).rejects.toThrow(
      'User: arn:aws:sts::000000000000:assumed-role/dsr-schedule-deferred/dsr-schedule-deferred is not authorized to perform: dynamodb:BatchWriteItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/dsr-ledger because no identity-based policy allows the dynamodb:BatchWriteItem action',
    );
  } finally {
    asScheduleDeferred.destroy();
  }
  // Denied once per attempt (the ASL retries a Task), for that role and that action only.
  const denied = new Set(env.t.engine.denials.map((d) => `${d.accessKeyId} ${d.action} ${d.resource}`));
  expect([...denied]).toEqual(['dsrScheduleDeferred dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:000000000000:table/dsr-ledger']);
}, 600_000);
