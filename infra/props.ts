/**
 * The construct's props: what each one does and its default. resolve-props.ts applies the
 * defaults and validates them.
 */
import type { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { ConsoleOptions } from './console';
import type { DeadlineSettings } from '../functions/core/deadline-settings';
import type { LogPassSettings } from '../functions/core/log-pass-settings';

export interface SubjectRightsOrchestratorProps {
  /**
   * The operator's data map (the JSON of examples/voip-operator/datamap.json), validated at
   * synth. It is bundled into every function, so its values must be literals, not tokens.
   */
  readonly dataMap: unknown;

  /**
   * Retention schedule replacing the default one (functions/core/retention.ts).
   * @default - the default schedule taken from the reference operator's policies
   */
  readonly retention?: unknown;

  /**
   * Erasures stop at a stored plan until support runs `dsr approve`. Needs `supportRole`.
   * @default false
   */
  readonly approvalRequired?: boolean;

  /**
   * The IAM role support staff use (for IAM Identity Center, the permission set's role imported
   * with `Role.fromRoleArn`). The support policy is attached to it. Required with `approvalRequired`.
   * @default - none: attach `supportPolicy` yourself
   */
  readonly supportRole?: iam.IRole;

  /**
   * The IAM role auditors use; the auditor policy is attached to it.
   * @default - none: attach `auditorPolicy` yourself
   */
  readonly auditorRole?: iam.IRole;

  /**
   * The support and auditor managed policies are named `<prefix>-support` and
   * `<prefix>-auditor`: stable names an IAM Identity Center permission set can reference as
   * customer managed policies (Identity Center's own `AWSReservedSSO_*` roles are refused as
   * `supportRole`/`auditorRole`: it manages their policies itself).
   * @default - `<stack name>-<construct id>`
   */
  readonly managedPolicyNamePrefix?: string;

  /**
   * Existing DynamoDB tables of the data map, keyed by the table name the data map uses: an
   * imported `ITable` (with its `encryptionKey` when it has a customer managed key) or a
   * table ARN. Tables not listed are looked up by name in this stack's account and region.
   * @default - every table by name, in this stack's account and region
   */
  readonly tables?: Readonly<Record<string, dynamodb.ITable | string>>;

  /**
   * Existing S3 buckets of the data map, keyed by the bucket name the data map uses: an
   * imported `IBucket` (with its `encryptionKey` when objects are SSE-KMS with a customer
   * managed key) or a bucket ARN.
   * @default - every bucket by name
   */
  readonly buckets?: Readonly<Record<string, s3.IBucket | string>>;

  /**
   * KMS key for the ledger, the work and bundle buckets, the anonymization key secret and the
   * log groups (log groups only when the key's policy can be edited by this stack).
   * @default - a new customer managed key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The secret holding the HMAC key used to anonymize fields (at least 16 characters).
   * @default - a generated 64-character secret encrypted with `encryptionKey`
   */
  readonly anonymizationSecret?: secretsmanager.ISecret;

  /**
   * When the retention sweep runs (EventBridge Scheduler). Applies to the machines that are
   * scheduled (the retention sweep, once it exists).
   * @default - once a day
   */
  readonly sweepSchedule?: scheduler.ScheduleExpression;

  /**
   * When the retention-enforcement machine runs (EventBridge Scheduler): it erases subjects
   * past a subject-level limit and purges records past a record-level one.
   * @default rate(1 day)
   */
  readonly enforcementSchedule?: scheduler.ScheduleExpression;

  /**
   * Due (request, store) entries one sweep run erases (1-280). A run carries its entries in its
   * state (256 KB) and history (25,000 events); 280 keeps both with every entry at its longest.
   * The next run goes on where it stopped, so a backlog bigger than this takes several scheduled
   * runs (or `dsr sweep`, which runs again).
   * @default 250
   */
  readonly sweepMaxEntriesPerRun?: number;

  /**
   * When the log-erasure machine looks at the queue (EventBridge Scheduler). A run does a pass
   * when `logPass.intervalDays` have gone by since the last one or a queued request's deadline
   * is within `logPass.deadlineMarginDays`; otherwise it ends at once.
   * @default - once a day
   */
  readonly logErasureSchedule?: scheduler.ScheduleExpression;

  /**
   * The batched log-erasure pass (functions/core/log-pass-settings.ts): which log stores it
   * takes (`aboveBytes`, for stores with `logPass: auto`), the work unit size, the subjects one
   * pass takes, the Distributed Map's `MaxConcurrency`, the interval and the deadline margin.
   * @default - see LogPassSettingsSchema: 10 GiB, 4 GiB units, 10,000 subjects, concurrency 100, daily, 7 days
   */
  readonly logPass?: Partial<LogPassSettings>;

  /**
   * Statutory deadlines (functions/core/deadline-settings.ts): days to answer a request per
   * jurisdiction (`responseDays`, e.g. `{ CA: 30, 'CA-QC': 30 }`; a subdivision without an
   * entry uses its country's), the jurisdiction of a request that names none, the longest
   * extension, and the window of `dsr requests --due-within` and of the deadline alarm.
   * @default - 30 days for CA and CA-QC, default jurisdiction CA, extensions up to 30 days, alarm 7 days ahead
   */
  readonly deadlines?: Partial<DeadlineSettings>;

  /**
   * Lifetime of the presigned URL of a portability bundle (1 minute to 7 days).
   * @default Duration.minutes(15)
   */
  readonly bundleUrlExpiry?: Duration;

  /**
   * How long bundles and access reports stay in the bundle bucket (at least `bundleUrlExpiry`).
   * @default Duration.days(7)
   */
  readonly bundleRetention?: Duration;

  /**
   * How long a request's working documents (identity, findings, plans) stay in the work
   * bucket. An erasure waiting for approval longer than this has to be planned again.
   * @default Duration.days(30)
   */
  readonly workRetention?: Duration;

  /**
   * SNS topic for the state machine alarms (failed, timed out, aborted executions).
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Retention of the functions' and state machines' log groups.
   * @default logs.RetentionDays.SIX_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Bucket receiving the server access logs of the work and bundle buckets.
   * @default - a new bucket, SSE-S3 (S3 log delivery cannot write SSE-KMS), logs expire after a year
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * The web console for support and auditors: an HTTP API + Lambda behind a Cognito JWT
   * authorizer (groups `support` and `auditor`), the page on S3 behind CloudFront.
   * @default - no console
   */
  readonly console?: ConsoleOptions;
}
