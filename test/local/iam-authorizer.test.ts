/**
 * The local principals and their policies (infra/policies.ts with the local ARNs), decided by
 * the evaluator for the calls the handlers and the CLI make. The endpoints' side (the same
 * decisions as AccessDenied through the SDK) is in test/pipeline/iam-enforced.test.ts.
 */
import { parseDataMap } from '../../functions/core/datamap';
import { HANDLERS } from '../../functions/handlers/registry';
import { LOCAL_CREDENTIALS, STATE_MACHINES } from '../../local/engine';
import { ADMIN_ACCESS_KEY_ID, createLocalAuthorizer, handlerCredentials, localAccessKeyId, localPolicies, personCredentials, withoutAction } from '../../local/iam/authorizer';
import { accessDeniedMessage, type AuthzRequest } from '../../local/iam/types';
import { referenceDataMap } from '../infra/synth';

const dataMap = parseDataMap(referenceDataMap());
const settings = { ledgerTable: 'dsr-ledger', workBucket: 'dsr-work', bundleBucket: 'dsr-bundles' };
const options = { dataMap, settings, region: 'us-east-1', accountId: '000000000000' };
const authorize = createLocalAuthorizer(options);

const LEDGER = 'arn:aws:dynamodb:us-east-1:000000000000:table/dsr-ledger';
const WORK = 'arn:aws:s3:::dsr-work';
const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:dsr-subject-request';
const ledger = (action: string, leadingKey: string): AuthzRequest => ({ action, resource: LEDGER, context: { 'dynamodb:LeadingKeys': [leadingKey] } });
const SUPPORT = personCredentials('support').accessKeyId;
const AUDITOR = personCredentials('auditor').accessKeyId;
const as = (handler: string) => handlerCredentials(handler).accessKeyId;
const allowed = (key: string, r: AuthzRequest) => authorize(key, r).allowed;

describe('local principals', () => {
  it('has one access key per function (its role name), per person, and per machine; the admin key is the engine\'s', () => {
    expect(handlerCredentials('erase-store').accessKeyId).toBe('dsrEraseStore');
    expect(personCredentials('support').accessKeyId).toBe('dsrSupport');
    expect(personCredentials('auditor').accessKeyId).toBe('dsrAuditor');
    expect(ADMIN_ACCESS_KEY_ID).toBe(LOCAL_CREDENTIALS.accessKeyId);
    expect([...localPolicies(options).values()].map((p) => p.roleName).sort()).toEqual(
      [...HANDLERS.map((h) => `dsr-${h.id}`), 'dsr-support', 'dsr-auditor', 'dsr-subject-request-machine', 'dsr-retention-sweep-machine', 'dsr-log-erasure-machine', 'dsr-retention-enforcement-machine'].sort(),
    );
    // Alphanumeric, as AWS's are (and DynamoDB Local insists).
    for (const key of localPolicies(options).keys()) expect(key).toMatch(/^[A-Za-z0-9]+$/);
  });

  it('names the engine\'s state machines as local/engine.ts does', () => {
    expect(allowed(SUPPORT, { action: 'states:StartExecution', resource: `arn:aws:states:us-east-1:000000000000:stateMachine:${STATE_MACHINES['retention-sweep'].name}` })).toBe(true);
  });

  it('allows the administrator everything and an unknown key nothing', () => {
    expect(allowed(ADMIN_ACCESS_KEY_ID, { action: 'dynamodb:DeleteTable', resource: LEDGER })).toBe(true);
    const unknown = authorize('AKIAEXAMPLE', ledger('dynamodb:GetItem', 'receipt'));
    expect(unknown).toEqual({ allowed: false, principalArn: expect.stringContaining('AKIAEXAMPLE'), reason: expect.stringMatching(/does not exist/) });
  });

  it('words a denial as AWS does', () => {
    const r = { action: 'states:StartExecution', resource: MACHINE };
    const decision = authorize(AUDITOR, r);
    if (decision.allowed) throw new Error('the auditor may not start executions');
    expect(accessDeniedMessage(r, decision)).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/dsr-auditor/dsr-auditor is not authorized to perform: states:StartExecution on resource: ${MACHINE} because no identity-based policy allows the states:StartExecution action`,
    );
  });

  it('denies what an override takes out of a policy: the check can fail', () => {
    const without = createLocalAuthorizer({ ...options, override: (role, p) => (role === 'dsr-schedule-deferred' ? withoutAction(p, 'dynamodb:BatchWriteItem') : p) });
    expect(without(as('schedule-deferred'), ledger('dynamodb:BatchWriteItem', 'deferred')).allowed).toBe(false);
    expect(without(as('write-receipt'), ledger('dynamodb:PutItem', 'receipt')).allowed).toBe(true);
  });
});

describe('the four gaps a real deployment found', () => {
  it('schedule-deferred writes the deferred entries with BatchWriteItem', () => {
    expect(allowed(as('schedule-deferred'), ledger('dynamodb:BatchWriteItem', 'deferred'))).toBe(true);
    expect(allowed(as('schedule-deferred'), { action: 's3:PutObject', resource: `${WORK}/deferred/r-1/identity.json` })).toBe(true);
  });

  it('find-due-deferrals reads and moves the sweep cursor', () => {
    expect(allowed(as('find-due-deferrals'), ledger('dynamodb:Query', 'deferred'))).toBe(true);
    expect(allowed(as('find-due-deferrals'), ledger('dynamodb:GetItem', 'sweep'))).toBe(true);
    expect(allowed(as('find-due-deferrals'), ledger('dynamodb:PutItem', 'sweep'))).toBe(true);
  });

  it('write-sweep-receipts lists and deletes the versions of a kept identity, and nothing outside deferred/', () => {
    const key = 'deferred/r-1/identity.json';
    expect(allowed(as('write-sweep-receipts'), { action: 's3:ListBucketVersions', resource: WORK, context: { 's3:prefix': key } })).toBe(true);
    expect(allowed(as('write-sweep-receipts'), { action: 's3:DeleteObjectVersion', resource: `${WORK}/${key}` })).toBe(true);
    expect(allowed(as('write-sweep-receipts'), { action: 's3:ListBucketVersions', resource: WORK, context: { 's3:prefix': 'requests/' } })).toBe(false);
    expect(allowed(as('write-sweep-receipts'), { action: 's3:ListBucketVersions', resource: WORK })).toBe(false);
    expect(allowed(as('write-sweep-receipts'), { action: 's3:DeleteObjectVersion', resource: `${WORK}/requests/r-1/identity.json` })).toBe(false);
    expect(allowed(as('write-sweep-receipts'), { action: 's3:DeleteObject', resource: `${WORK}/${key}` })).toBe(false);
  });

  it('auditors read the receipt partition (where a request\'s receipt pointer now is), never a request item', () => {
    expect(allowed(AUDITOR, ledger('dynamodb:GetItem', 'receipt'))).toBe(true);
    expect(allowed(AUDITOR, ledger('dynamodb:Query', 'receipt'))).toBe(true);
    expect(allowed(AUDITOR, ledger('dynamodb:GetItem', 'request#r-1'))).toBe(false);
    expect(allowed(AUDITOR, ledger('dynamodb:Query', 'hold'))).toBe(false);
    expect(allowed(AUDITOR, ledger('dynamodb:PutItem', 'receipt'))).toBe(false);
    expect(allowed(AUDITOR, { action: 'states:GetExecutionHistory', resource: 'arn:aws:states:us-east-1:000000000000:execution:dsr-subject-request:r-1' })).toBe(true);
  });
});

describe('least privilege, as decided locally', () => {
  it('gives no function a bare DeleteObject, DeleteItem or a Scan of the ledger', () => {
    for (const h of HANDLERS) {
      for (const action of ['dynamodb:DeleteItem', 'dynamodb:Scan']) expect([h.id, action, allowed(as(h.id), ledger(action, 'request#r-1'))]).toEqual([h.id, action, false]);
      expect([h.id, allowed(as(h.id), { action: 's3:DeleteObject', resource: 'arn:aws:s3:::voip-media/recordings/a/b.wav' })]).toEqual([h.id, false]);
    }
  });

  it('lets a machine role invoke its own functions only', () => {
    const fn = (id: string) => `arn:aws:lambda:us-east-1:000000000000:function:dsr-${id}`;
    expect(allowed(localAccessKeyId('dsr-subject-request-machine'), { action: 'lambda:InvokeFunction', resource: fn('erase-store') })).toBe(true);
    expect(allowed(localAccessKeyId('dsr-subject-request-machine'), { action: 'lambda:InvokeFunction', resource: fn('erase-due-entry') })).toBe(false);
    expect(allowed(localAccessKeyId('dsr-retention-sweep-machine'), { action: 'lambda:InvokeFunction', resource: fn('erase-due-entry') })).toBe(true);
  });

  it('keeps support from the work bucket and auditors from the stores', () => {
    expect(allowed(SUPPORT, { action: 's3:GetObject', resource: `${WORK}/requests/r-1/identity.json` })).toBe(false);
    expect(allowed(SUPPORT, { action: 's3:GetObject', resource: 'arn:aws:s3:::dsr-bundles/bundles/r-1.zip' })).toBe(true);
    expect(allowed(AUDITOR, { action: 'dynamodb:Query', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/voip-accounts', context: { 'dynamodb:LeadingKeys': ['acc-1'] } })).toBe(false);
  });
});
