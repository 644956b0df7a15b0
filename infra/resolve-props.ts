/**
 * The construct's props resolved: defaults applied, and validated. Every problem is collected
 * and reported at once, each naming the prop (and, inside the data map or the retention
 * schedule, the path); values that are unresolved CDK tokens are not checked.
 */
import { Duration, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { DEFAULT_SWEEP_MAX_ENTRIES, MAX_SWEEP_ENTRIES } from '../functions/core/config';
import { DataMapSchema, formatPath, type DataMap } from '../functions/core/datamap';
import { RetentionScheduleSchema, type RetentionSchedule } from '../functions/core/retention';
import { LogPassSettingsSchema, type LogPassSettings } from '../functions/core/log-pass-settings';
import { DeadlineSettingsSchema, type DeadlineSettings } from '../functions/core/deadline-settings';
import { responseDays } from '../functions/core/deadlines';
import type { SubjectRightsOrchestratorProps } from './props';

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

/** The schedule of a scheduled machine: the prop its spec names (the sweep's when it names none), else once a day. */
export function machineSchedule(props: SubjectRightsOrchestratorProps, prop: 'sweepSchedule' | 'enforcementSchedule' | 'logErasureSchedule' | undefined): scheduler.ScheduleExpression {
  return (prop === 'enforcementSchedule' ? props.enforcementSchedule : prop === 'logErasureSchedule' ? props.logErasureSchedule : props.sweepSchedule) ?? scheduler.ScheduleExpression.rate(Duration.days(1));
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
