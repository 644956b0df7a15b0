/**
 * The local IAM evaluator against the behaviour AWS documents (IAM User Guide: policy
 * evaluation logic; Action, Resource and Condition elements; condition operators; conditions
 * with multiple context keys or values). Pure: no endpoint involved.
 */
import { actionMatches, conditionHolds, evaluate, PolicyEvaluationError, resourceMatches, type IamStatement } from '../../local/iam/evaluate';

const REGION_ARN = 'arn:aws:dynamodb:us-east-1:000000000000';
const allow = (Action: IamStatement['Action'], Resource: IamStatement['Resource'] = '*', Condition?: IamStatement['Condition']): IamStatement => ({ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) });
const deny = (Action: IamStatement['Action'], Resource: IamStatement['Resource'] = '*'): IamStatement => ({ Effect: 'Deny', Action, Resource });
const request = (action: string, resource: string, context?: Record<string, string | string[]>) => ({ action, resource, ...(context ? { context } : {}) });

describe('evaluate: allow, explicit deny, default deny', () => {
  it('denies by default: no statement, or none that matches', () => {
    expect(evaluate([], request('s3:GetObject', 'arn:aws:s3:::b/k')).decision).toBe('implicit-deny');
    expect(evaluate([allow('s3:PutObject')], request('s3:GetObject', 'arn:aws:s3:::b/k')).decision).toBe('implicit-deny');
  });

  it('allows what an Allow statement matches, naming the statement', () => {
    expect(evaluate([{ ...allow('s3:GetObject', 'arn:aws:s3:::b/*'), Sid: 'Read' }], request('s3:GetObject', 'arn:aws:s3:::b/k'))).toEqual({ decision: 'allow', statement: 'Read' });
  });

  it('lets an explicit deny win over any allow, in whatever order the statements come', () => {
    const r = request('dynamodb:DeleteItem', `${REGION_ARN}:table/t`);
    expect(evaluate([allow('dynamodb:*'), deny('dynamodb:DeleteItem')], r).decision).toBe('explicit-deny');
    expect(evaluate([deny('dynamodb:DeleteItem'), allow('dynamodb:*')], r).decision).toBe('explicit-deny');
    expect(evaluate([allow('dynamodb:*'), deny('dynamodb:DeleteItem')], request('dynamodb:GetItem', `${REGION_ARN}:table/t`)).decision).toBe('allow');
  });

  it('reads NotAction and NotResource as "everything except"', () => {
    const notIam: IamStatement = { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' };
    expect(evaluate([notIam], request('s3:GetObject', 'arn:aws:s3:::b/k')).decision).toBe('allow');
    expect(evaluate([notIam], request('iam:CreateUser', 'arn:aws:iam::000000000000:user/u')).decision).toBe('implicit-deny');
    const notBucket: IamStatement = { Effect: 'Deny', Action: 's3:*', NotResource: ['arn:aws:s3:::mine', 'arn:aws:s3:::mine/*'] };
    expect(evaluate([allow('s3:*'), notBucket], request('s3:GetObject', 'arn:aws:s3:::theirs/k')).decision).toBe('explicit-deny');
    expect(evaluate([allow('s3:*'), notBucket], request('s3:GetObject', 'arn:aws:s3:::mine/k')).decision).toBe('allow');
  });

  it('refuses an Effect that is neither Allow nor Deny', () => {
    expect(() => evaluate([{ Effect: 'allow' as never, Action: '*', Resource: '*' }], request('s3:GetObject', 'arn:aws:s3:::b/k'))).toThrow(PolicyEvaluationError);
  });
});

describe('actionMatches: case-insensitive, * and ?', () => {
  it.each([
    ['s3:GetObject', 's3:GetObject', true],
    ['S3:getobject', 's3:GetObject', true],
    ['s3:Get*', 's3:GetObjectVersion', true],
    ['s3:Get*', 's3:PutObject', false],
    ['s3:*Object', 's3:DeleteObject', true],
    ['s3:Get?bject', 's3:GetObject', true],
    ['s3:Get?bject', 's3:GetObjectTagging', false],
    ['dynamodb:Query', 'dynamodb:QueryItems', false],
    ['dynamodb:Query', 's3:Query', false],
    ['*', 'states:StartExecution', true],
    ['dynamodb:Get.tem', 'dynamodb:GetItem', false],
  ])('%s against %s: %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });
});

describe('resourceMatches: ARN parts, case-sensitive wildcards', () => {
  it.each([
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/a/b.json', true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b', false],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b2/x', false],
    ['arn:aws:s3:::B/*', 'arn:aws:s3:::b/x', false],
    ['arn:aws:s3:::b/recordings/*/*', 'arn:aws:s3:::b/recordings/acc-1/call.wav', true],
    ['arn:aws:s3:::b/recordings/*/*', 'arn:aws:s3:::b/recordings/call.wav', false],
    [`${REGION_ARN}:table/t`, `${REGION_ARN}:table/t`, true],
    [`${REGION_ARN}:table/t`, `${REGION_ARN}:table/t/index/i`, false],
    [`${REGION_ARN}:table/t/index/*`, `${REGION_ARN}:table/t/index/by-email`, true],
    ['arn:aws:dynamodb:*:*:table/t', 'arn:aws:dynamodb:ca-central-1:111111111111:table/t', true],
    ['arn:aws:dynamodb:us-*:000000000000:table/t', 'arn:aws:dynamodb:eu-west-1:000000000000:table/t', false],
    ['arn:aws:states:us-east-1:000000000000:execution:dsr-subject-request:*', 'arn:aws:states:us-east-1:000000000000:execution:dsr-subject-request:req-1', true],
    ['arn:aws:states:us-east-1:000000000000:execution:dsr-subject-request:*', 'arn:aws:states:us-east-1:000000000000:execution:dsr-retention-sweep:sweep-1', false],
    ['*', 'arn:aws:s3:::anything', true],
  ])('%s against %s: %s', (pattern, arn, expected) => {
    expect(resourceMatches(pattern, arn)).toBe(expected);
  });

  it('does not let a wildcard in one part stand for another part (region `*` is not the account)', () => {
    expect(resourceMatches('arn:aws:dynamodb:*:000000000000:table/t', 'arn:aws:dynamodb:us-east-1:111111111111:table/t')).toBe(false);
  });
});

describe('conditionHolds: operators', () => {
  it('compares StringEquals case-sensitively, StringEqualsIgnoreCase not', () => {
    expect(conditionHolds({ StringEquals: { 's3:prefix': 'sip/' } }, { 's3:prefix': 'sip/' })).toBe(true);
    expect(conditionHolds({ StringEquals: { 's3:prefix': 'sip/' } }, { 's3:prefix': 'SIP/' })).toBe(false);
    expect(conditionHolds({ StringEqualsIgnoreCase: { 's3:prefix': 'sip/' } }, { 's3:prefix': 'SIP/' })).toBe(true);
    // StringEquals has no wildcards: `*` is literal.
    expect(conditionHolds({ StringEquals: { 's3:prefix': 'sip/*' } }, { 's3:prefix': 'sip/2026/' })).toBe(false);
  });

  it('matches StringLike with * and ?, ORs the values, and is false when the key is absent', () => {
    const c = { StringLike: { 's3:prefix': ['sip/*', 'app/??/*'] } };
    expect(conditionHolds(c, { 's3:prefix': 'sip/2026/01/' })).toBe(true);
    expect(conditionHolds(c, { 's3:prefix': 'app/01/x' })).toBe(true);
    expect(conditionHolds(c, { 's3:prefix': 'app/001/x' })).toBe(false);
    expect(conditionHolds(c, { 's3:prefix': 'recordings/' })).toBe(false);
    // AWS: a key absent from the request context does not match; the condition is false.
    expect(conditionHolds(c, {})).toBe(false);
  });

  it('NORs the values of a negated operator, and holds when the key is absent', () => {
    const c = { StringNotEquals: { 'aws:PrincipalTag/role': ['audit', 'security'] } };
    expect(conditionHolds(c, { 'aws:PrincipalTag/role': 'audit' })).toBe(false);
    expect(conditionHolds(c, { 'aws:PrincipalTag/role': 'security' })).toBe(false);
    expect(conditionHolds(c, { 'aws:PrincipalTag/role': 'dev' })).toBe(true);
    // AWS: if the policy requires the key *not* to match and it is absent, the condition is true.
    expect(conditionHolds(c, {})).toBe(true);
    expect(conditionHolds({ StringNotLike: { 's3:prefix': 'sip/*' } }, {})).toBe(true);
    expect(conditionHolds({ StringNotLike: { 's3:prefix': 'sip/*' } }, { 's3:prefix': 'sip/x' })).toBe(false);
    expect(conditionHolds({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:s3:::b' } }, {})).toBe(true);
  });

  it('lets …IfExists pass an absent key and check a present one', () => {
    const c = { StringEqualsIfExists: { 'ec2:InstanceType': ['t3.micro'] } };
    expect(conditionHolds(c, {})).toBe(true);
    expect(conditionHolds(c, { 'ec2:InstanceType': 't3.micro' })).toBe(true);
    expect(conditionHolds(c, { 'ec2:InstanceType': 'm5.large' })).toBe(false);
  });

  it('reads Null as "is the key absent"', () => {
    expect(conditionHolds({ Null: { 'aws:TokenIssueTime': 'true' } }, {})).toBe(true);
    expect(conditionHolds({ Null: { 'aws:TokenIssueTime': 'true' } }, { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' })).toBe(false);
    expect(conditionHolds({ Null: { 'aws:TokenIssueTime': 'false' } }, { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' })).toBe(true);
  });

  it('compares Bool values, policy values given as strings or booleans', () => {
    expect(conditionHolds({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'true' })).toBe(true);
    expect(conditionHolds({ Bool: { 'aws:SecureTransport': false } }, { 'aws:SecureTransport': 'false' })).toBe(true);
    expect(conditionHolds({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'false' })).toBe(false);
    expect(conditionHolds({ Bool: { 'aws:SecureTransport': 'true' } }, {})).toBe(false);
  });

  it('matches ArnLike and ArnEquals part by part with wildcards; a value that is no ARN matches neither', () => {
    const machine = 'arn:aws:states:us-east-1:000000000000:stateMachine:dsr-subject-request';
    expect(conditionHolds({ ArnLike: { 'aws:SourceArn': 'arn:aws:states:*:000000000000:stateMachine:dsr-*' } }, { 'aws:SourceArn': machine })).toBe(true);
    expect(conditionHolds({ ArnEquals: { 'aws:SourceArn': 'arn:aws:states:*:000000000000:stateMachine:dsr-*' } }, { 'aws:SourceArn': machine })).toBe(true);
    expect(conditionHolds({ ArnEquals: { 'aws:SourceArn': machine } }, { 'aws:SourceArn': machine.replace('000000000000', '111111111111') })).toBe(false);
    expect(conditionHolds({ ArnLike: { 'aws:SourceArn': '*' } }, { 'aws:SourceArn': 'not-an-arn' })).toBe(false);
  });

  it('ANDs operators and keys', () => {
    const c = { StringLike: { 's3:prefix': 'sip/*' }, StringEquals: { 's3:delimiter': '/' } };
    expect(conditionHolds(c, { 's3:prefix': 'sip/x', 's3:delimiter': '/' })).toBe(true);
    expect(conditionHolds(c, { 's3:prefix': 'sip/x' })).toBe(false);
    expect(conditionHolds({ StringEquals: { a: '1', b: '2' } }, { a: '1', b: '3' })).toBe(false);
  });

  it('takes condition keys case-insensitively', () => {
    expect(conditionHolds({ StringEquals: { 'S3:Prefix': 'sip/' } }, { 's3:prefix': 'sip/' })).toBe(true);
  });

  it('refuses an operator it does not implement rather than deciding', () => {
    expect(() => conditionHolds({ NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': '5' })).toThrow(/NumericLessThan is not supported/);
  });
});

describe('conditionHolds: ForAllValues and ForAnyValue', () => {
  const receiptsOnly = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['receipt'] } };

  it('ForAllValues: every request value must match one policy value', () => {
    expect(conditionHolds(receiptsOnly, { 'dynamodb:LeadingKeys': ['receipt'] })).toBe(true);
    expect(conditionHolds(receiptsOnly, { 'dynamodb:LeadingKeys': ['receipt', 'request#r-1'] })).toBe(false);
    expect(conditionHolds(receiptsOnly, { 'dynamodb:LeadingKeys': 'request#r-1' })).toBe(false);
  });

  it('ForAllValues: an absent key or an empty set is true (as AWS documents)', () => {
    expect(conditionHolds(receiptsOnly, {})).toBe(true);
    expect(conditionHolds(receiptsOnly, { 'dynamodb:LeadingKeys': [] })).toBe(true);
  });

  it('ForAnyValue: one matching request value is enough; an absent key is false', () => {
    const c = { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } };
    expect(conditionHolds(c, { 'aws:TagKeys': ['owner', 'environment'] })).toBe(true);
    expect(conditionHolds(c, { 'aws:TagKeys': ['owner'] })).toBe(false);
    expect(conditionHolds(c, {})).toBe(false);
    expect(conditionHolds(c, { 'aws:TagKeys': [] })).toBe(false);
  });

  it('qualifies negated and wildcard operators too', () => {
    const none = { 'ForAllValues:StringNotLike': { 'aws:TagKeys': ['secret*'] } };
    expect(conditionHolds(none, { 'aws:TagKeys': ['owner', 'env'] })).toBe(true);
    expect(conditionHolds(none, { 'aws:TagKeys': ['owner', 'secret-x'] })).toBe(false);
    expect(conditionHolds(none, {})).toBe(true);
    const some = { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['owner'] } };
    expect(conditionHolds(some, { 'aws:TagKeys': ['owner', 'env'] })).toBe(true);
    expect(conditionHolds(some, { 'aws:TagKeys': ['owner'] })).toBe(false);
    expect(conditionHolds(some, {})).toBe(false);
  });

  it('decides a whole statement with a set condition', () => {
    const auditor = [allow(['dynamodb:GetItem', 'dynamodb:Query'], `${REGION_ARN}:table/dsr-ledger`, receiptsOnly)];
    expect(evaluate(auditor, request('dynamodb:GetItem', `${REGION_ARN}:table/dsr-ledger`, { 'dynamodb:LeadingKeys': ['receipt'] })).decision).toBe('allow');
    expect(evaluate(auditor, request('dynamodb:GetItem', `${REGION_ARN}:table/dsr-ledger`, { 'dynamodb:LeadingKeys': ['request#r-1'] })).decision).toBe('implicit-deny');
  });
});
