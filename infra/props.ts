/**
 * The construct's props and their validation. Every problem is collected and reported at once,
 * each naming the prop (and, inside the data map or the retention schedule, the path); values
 * that are unresolved CDK tokens are not checked.
 */
import { Duration, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { ConsoleOptions } from './console';
import { DEFAULT_SWEEP_MAX_ENTRIES, MAX_SWEEP_ENTRIES } from '../functions/core/config';
import { DataMapSchema, formatPath, type DataMap } from '../functions/core/datamap';
import { RetentionScheduleSchema, type RetentionSchedule } from '../functions/core/retention';
import { LogPassSettingsSchema, type LogPassSettings } from '../functions/core/log-pass-settings';
import { DeadlineSettingsSchema, type DeadlineSettings } from '../functions/core/deadline-settings';
import { responseDays } from '../functions/core/deadlines';

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

export class OrchestratorPropsError extends Error {
  override name = 'OrchestratorPropsError';
  constructor(
    readonly construct: string,
    readonly problems: readonly string[],
  ) {
    super(`SubjectRightsOrchestrator ${construct}: invalid props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface ValidatedProps {
  readonly dataMap: DataMap;
  readonly retention?: RetentionSchedule;
  readonly bundleUrlExpirySeconds: number;
  readonly bundleRetentionDays: number;
  readonly workRetentionDays: number;
  readonly sweepMaxEntries: number;
  readonly logPass: LogPassSettings;
  /** Only when the prop is given: the functions otherwise use the defaults. */
  readonly deadlines?: DeadlineSettings;
}

const TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/([A-Za-z0-9_.-]{3,255})$/;
const BUCKET_ARN = /^arn:aws[a-z-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/;

/** Validates the props; throws OrchestratorPropsError listing every problem. */
export function validateProps(id: string, props: SubjectRightsOrchestratorProps): ValidatedProps {
  const problems: string[] = [];
  const dataMap = checkDataMap(props.dataMap, problems);
  const retention = props.retention === undefined ? undefined : checkRetention(props.retention, dataMap, problems);

  if (props.approvalRequired && !props.supportRole) {
    problems.push('approvalRequired: erasures would wait for `dsr approve`, but no supportRole is given to approve them; pass supportRole');
  }
  if (dataMap) {
    checkReferences('tables', props.tables, new Set(dataMap.stores.flatMap((s) => (s.kind === 'dynamodb' ? [s.table] : []))), TABLE_ARN, 'a DynamoDB table ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>)', (t) => (t as dynamodb.ITable).tableName, problems);
    checkReferences('buckets', props.buckets, new Set(dataMap.stores.flatMap((s) => (s.kind === 'dynamodb' ? [] : [s.bucket]))), BUCKET_ARN, 'an S3 bucket ARN (arn:<partition>:s3:::<name>)', (b) => (b as s3.IBucket).bucketName, problems);
  }

  const before = problems.length;
  const bundleUrlExpirySeconds = seconds('bundleUrlExpiry', props.bundleUrlExpiry, Duration.minutes(15), 60, 604800, problems);
  const expiryValid = problems.length === before;
  const bundleRetentionDays = days('bundleRetention', props.bundleRetention, Duration.days(7), problems);
  const workRetentionDays = days('workRetention', props.workRetention, Duration.days(30), problems);
  if (expiryValid && bundleRetentionDays * 86400 < bundleUrlExpirySeconds) {
    problems.push(`bundleRetention: ${bundleRetentionDays} day(s) is shorter than bundleUrlExpiry; a URL would outlive its bundle`);
  }

  const sweepMaxEntries = props.sweepMaxEntriesPerRun ?? DEFAULT_SWEEP_MAX_ENTRIES;
  if (!Number.isInteger(sweepMaxEntries) || sweepMaxEntries < 1 || sweepMaxEntries > MAX_SWEEP_ENTRIES) {
    problems.push(`sweepMaxEntriesPerRun: ${sweepMaxEntries} is not a whole number from 1 to ${MAX_SWEEP_ENTRIES} (a sweep run's state and history must stay inside Step Functions' quotas)`);
  }

  const logPassParsed = LogPassSettingsSchema.safeParse(props.logPass ?? {});
  if (!logPassParsed.success) for (const issue of logPassParsed.error.issues) problems.push(`logPass.${issue.path.join('.')}: ${issue.message}`);

  const deadlines = props.deadlines === undefined ? undefined : checkDeadlines(props.deadlines, problems);

  if (problems.length > 0) throw new OrchestratorPropsError(id, problems);
  return { dataMap: dataMap!, retention, bundleUrlExpirySeconds, bundleRetentionDays, workRetentionDays, sweepMaxEntries, logPass: logPassParsed.data!, ...(deadlines ? { deadlines } : {}) };
}

function checkDataMap(raw: unknown, problems: string[]): DataMap | undefined {
  // The map is bundled into the functions at synth: a token would reach them unresolved.
  const tokens = tokenPaths(raw);
  for (const path of tokens) {
    problems.push(`dataMap${prefixed(path)}: is a CDK token; the data map is bundled into the functions at synth, so write the literal name (and pass the resource in tables/buckets if it needs an ARN or a KMS key)`);
  }
  if (tokens.length > 0) return undefined;
  const result = DataMapSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`dataMap${prefixed(formatPath(issue.path))}: ${issue.message}`);
    return undefined;
  }
  return result.data;
}

function checkRetention(raw: unknown, dataMap: DataMap | undefined, problems: string[]): RetentionSchedule | undefined {
  const result = RetentionScheduleSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`retention${prefixed(formatPath(issue.path))}: ${issue.message}`);
    return undefined;
  }
  if (dataMap) {
    const names = new Set(dataMap.stores.map((s) => s.name));
    for (const store of Object.keys(result.data.stores)) {
      if (!names.has(store)) problems.push(`retention.stores.${store}: no store of that name in dataMap`);
    }
  }
  return result.data;
}

function checkDeadlines(raw: unknown, problems: string[]): DeadlineSettings | undefined {
  const result = DeadlineSettingsSchema.safeParse(raw);
  if (!result.success) {
    // zod says only "Invalid key in record" of a key that is not a jurisdiction.
    for (const issue of result.error.issues) problems.push(`deadlines${prefixed(formatPath(issue.path))}: ${issue.code === 'invalid_key' ? 'is not a jurisdiction: must be an ISO 3166 code such as CA or CA-QC' : issue.message}`);
    return undefined;
  }
  // A request naming no jurisdiction must have a period, or every such request would fail at its start.
  try {
    responseDays(result.data, result.data.defaultJurisdiction);
  } catch {
    problems.push(`deadlines.defaultJurisdiction: ${result.data.defaultJurisdiction} has no period in deadlines.responseDays (nor has its country)`);
    return undefined;
  }
  return result.data;
}

function checkReferences(
  prop: string,
  given: Readonly<Record<string, unknown>> | undefined,
  mapped: ReadonlySet<string>,
  arnPattern: RegExp,
  arnDescription: string,
  nameOf: (resource: unknown) => string,
  problems: string[],
): void {
  for (const [name, ref] of Object.entries(given ?? {})) {
    if (!mapped.has(name)) {
      problems.push(`${prop}.${name}: no store in dataMap uses ${name}`);
      continue;
    }
    if (typeof ref === 'string') {
      if (Token.isUnresolved(ref)) continue;
      const m = arnPattern.exec(ref);
      if (!m) problems.push(`${prop}.${name}: "${ref}" is not ${arnDescription}`);
      else if (m[1] !== name) problems.push(`${prop}.${name}: the ARN names ${m[1]}, not ${name}`);
      continue;
    }
    const actual = nameOf(ref);
    if (!Token.isUnresolved(actual) && actual !== name) problems.push(`${prop}.${name}: the resource is named ${actual}, not ${name}`);
  }
}

function seconds(prop: string, value: Duration | undefined, fallback: Duration, min: number, max: number, problems: string[]): number {
  const d = value ?? fallback;
  if (Token.isUnresolved(d.toSeconds({ integral: false }))) {
    problems.push(`${prop}: must be a literal duration (it is written into the functions' configuration)`);
    return fallback.toSeconds();
  }
  const s = d.toSeconds({ integral: false });
  if (!Number.isInteger(s) || s < min || s > max) problems.push(`${prop}: must be a whole number of seconds between ${min} and ${max}, got ${s}`);
  return s;
}

function days(prop: string, value: Duration | undefined, fallback: Duration, problems: string[]): number {
  const d = value ?? fallback;
  const n = d.toDays({ integral: false });
  if (Token.isUnresolved(n)) return fallback.toDays();
  if (!Number.isInteger(n) || n < 1) problems.push(`${prop}: must be a whole number of days, at least 1, got ${n}`);
  return Math.max(1, Math.floor(n));
}

function prefixed(path: string): string {
  if (path === '(root)') return '';
  return path.startsWith('[') ? path : `.${path}`;
}

/** Paths of the strings in `value` that are unresolved tokens. */
function tokenPaths(value: unknown, path: PropertyKey[] = []): string[] {
  if (typeof value === 'string') return Token.isUnresolved(value) ? [formatPath(path)] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => tokenPaths(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => tokenPaths(v, [...path, k]));
  return [];
}
