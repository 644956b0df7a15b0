import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SubjectRightsOrchestrator, type SubjectRightsOrchestratorProps } from '../../infra/construct';
import { OrchestratorPropsError, validateProps } from '../../infra/resolve-props';
import { referenceDataMap, testApp } from './synth';

/** The problems validateProps reports (the construct runs it before creating anything). */
function problems(props: Partial<SubjectRightsOrchestratorProps>, configure?: (stack: Stack) => Partial<SubjectRightsOrchestratorProps>): string[] {
  const stack = new Stack(testApp(), 'S');
  try {
    validateProps('Dsr', { dataMap: referenceDataMap(), ...props, ...configure?.(stack) });
  } catch (err) {
    if (err instanceof OrchestratorPropsError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('SubjectRightsOrchestrator: props validated at synth', () => {
  it('accepts the reference data map with defaults', () => {
    expect(problems({})).toEqual([]);
  });

  it('names the data map prop and the path of each problem', () => {
    const map = referenceDataMap();
    map.stores[0] = { ...map.stores[0], table: 'x' };
    map.stores[6] = { ...map.stores[6], keyTemplate: 'recordings/{accountId}' };
    const found = problems({ dataMap: map });
    expect(found).toEqual([
      expect.stringMatching(/^dataMap\.stores\[0\]\.table: must be a valid DynamoDB table name/),
      expect.stringMatching(/^dataMap\.stores\[6\]\.keyTemplate: placeholder \{accountId\} must be followed by "\/"/),
    ]);
  });

  it('refuses a data map that is not one', () => {
    expect(problems({ dataMap: 'datamap.json' })).toEqual([expect.stringMatching(/^dataMap: /)]);
  });

  it('refuses tokens in the data map, since it is bundled at synth', () => {
    const found = problems({}, (stack) => {
      const map = referenceDataMap();
      map.stores[1] = { ...map.stores[1], table: new Table(stack, 'Billing', { partitionKey: { name: 'accountId', type: dynamodb.AttributeType.STRING } }).tableName };
      return { dataMap: map };
    });
    expect(found).toEqual([expect.stringMatching(/^dataMap\.stores\[1\]\.table: is a CDK token/)]);
  });

  it('refuses a bucket ARN that is not a bucket ARN, naming the prop and the bucket', () => {
    expect(problems({ buckets: { 'voip-media': 'arn:aws:s3:::voip-media/recordings' } })).toEqual([
      'buckets.voip-media: "arn:aws:s3:::voip-media/recordings" is not an S3 bucket ARN (arn:<partition>:s3:::<name>)',
    ]);
    expect(problems({ buckets: { 'voip-media': 'arn:aws:s3:::voip-other' } })).toEqual(['buckets.voip-media: the ARN names voip-other, not voip-media']);
    expect(problems({ buckets: { 'voip-unknown': 'arn:aws:s3:::voip-unknown' } })).toEqual(['buckets.voip-unknown: no store in dataMap uses voip-unknown']);
  });

  it('refuses a table ARN that is not one, and accepts a tokenized one', () => {
    expect(problems({ tables: { 'voip-cdrs': 'arn:aws:dynamodb:ca-central-1:111111111111:table/voip-cdrs/index/by-callee' } })).toEqual([
      expect.stringMatching(/^tables\.voip-cdrs: ".*" is not a DynamoDB table ARN/),
    ]);
    expect(problems({}, (stack) => ({ tables: { 'voip-cdrs': dynamodb.Table.fromTableArn(stack, 'Cdrs', `arn:aws:dynamodb:${stack.region}:${stack.account}:table/voip-cdrs`) } }))).toEqual([]);
  });

  it('refuses approval without a support role to approve', () => {
    expect(problems({ approvalRequired: true })).toEqual([expect.stringMatching(/^approvalRequired: .*supportRole/)]);
    expect(problems({ approvalRequired: true }, (stack) => ({ supportRole: iam.Role.fromRoleName(stack, 'Support', 'dsr-support') }))).toEqual([]);
  });

  it('names the path inside the retention schedule and unknown store overrides', () => {
    const found = problems({ retention: { rules: [{ category: 'billing', keep: { years: 0 }, basis: 'tax' }], stores: { nowhere: { basis: 'none' } } } });
    expect(found).toEqual([expect.stringMatching(/^retention\.rules\[0\]\.keep: a duration must be longer than zero/)]);
    expect(problems({ retention: { rules: [], stores: { nowhere: { basis: 'none' } } } })).toEqual(['retention.stores.nowhere: no store of that name in dataMap']);
  });

  it('bounds the bundle URL lifetime by S3 presigning and by the bundle retention', () => {
    expect(problems({ bundleUrlExpiry: Duration.days(8) })).toEqual([expect.stringMatching(/^bundleUrlExpiry: must be a whole number of seconds between 60 and 604800/)]);
    expect(problems({ bundleUrlExpiry: Duration.days(3), bundleRetention: Duration.days(2) })).toEqual([expect.stringMatching(/^bundleRetention: 2 day\(s\) is shorter than bundleUrlExpiry/)]);
  });

  it('bounds the sweep page', () => {
    expect(problems({ sweepMaxEntriesPerRun: 280 })).toEqual([]);
    for (const bad of [0, 281, 2000, 12.5]) {
      expect(problems({ sweepMaxEntriesPerRun: bad })).toEqual([
        `sweepMaxEntriesPerRun: ${bad} is not a whole number from 1 to 280 (a sweep run's state and history must stay inside Step Functions' quotas)`,
      ]);
    }
  });

  it('validates the deadline settings, each problem naming its field', () => {
    expect(problems({ deadlines: { responseDays: { CA: 30, 'CA-QC': 30, FR: 30 }, defaultJurisdiction: 'CA-QC', maxExtensionDays: 30, nearingDays: 5 } })).toEqual([]);
    expect(problems({ deadlines: { responseDays: { CA: 0 } } })).toEqual([expect.stringMatching(/^deadlines\.responseDays\.CA: /)]);
    expect(problems({ deadlines: { responseDays: { canada: 30 } } as never })).toEqual([expect.stringMatching(/^deadlines\.responseDays(\.canada)?: .*ISO 3166/)]);
    expect(problems({ deadlines: { maxExtensionDays: 400 } })).toEqual([expect.stringMatching(/^deadlines\.maxExtensionDays: /)]);
    expect(problems({ deadlines: { nearingDays: 1.5 } })).toEqual([expect.stringMatching(/^deadlines\.nearingDays: /)]);
    expect(problems({ deadlines: { periodDays: 30 } as never })).toEqual([expect.stringMatching(/^deadlines: .*periodDays/)]);
    // A request naming no jurisdiction must have a period: FR is not covered by { CA: 30 }.
    expect(problems({ deadlines: { responseDays: { CA: 30 }, defaultJurisdiction: 'FR' } })).toEqual(['deadlines.defaultJurisdiction: FR has no period in deadlines.responseDays (nor has its country)']);
    // A subdivision falls back on its country.
    expect(problems({ deadlines: { responseDays: { CA: 30 }, defaultJurisdiction: 'CA-ON' } })).toEqual([]);
  });

  it('reports every problem at once', () => {
    const map = referenceDataMap();
    map.stores[0] = { ...map.stores[0], name: 'Accounts' };
    const found = problems({ dataMap: map, approvalRequired: true, workRetention: Duration.hours(1) });
    expect(found).toEqual([
      expect.stringMatching(/^dataMap\.stores\[0\]\.name: /),
      expect.stringMatching(/^approvalRequired: /),
      expect.stringMatching(/^workRetention: /),
    ]);
  });

  it('fails the construct before it creates anything, with one error listing the problems under its id', () => {
    const stack = new Stack(testApp(), 'S');
    expect(() => new SubjectRightsOrchestrator(stack, 'Dsr', { dataMap: { version: 2 }, approvalRequired: true })).toThrow(
      /SubjectRightsOrchestrator Dsr: invalid props:\n {2}- dataMap\.version: .*\n {2}- dataMap\.stores: .*\n {2}- approvalRequired: /,
    );
    expect(stack.node.findAll().filter((c) => c.node.path.includes('/Dsr/'))).toEqual([]);
  });
});
