/**
 * Retention limits: the longest the schedule lets data be kept, turned into work that needs
 * no request. Pure: the data map and the schedule in, what to enforce out.
 *
 * - subject-level limits (`from` a subject date: accounts 2 years after deactivation,
 *   recordings 6 months after termination): which index lists the subjects, and which stores
 *   the system-originated erasure covers;
 * - record-level limits on DynamoDB stores (`from: "record"`: CDRs 12 months, invoices 7
 *   years): how the records are found (date index or segmented Scan);
 * - record-level limits on log stores: S3 lifecycle rules, generated here and rendered by the
 *   construct (and printed in the README).
 */
import type { DataMap, DateIndex, DynamoDbStore, Expiry, S3RecordsStore } from './datamap';
import { ConfigError } from './errors';
import { addDuration, ruleFor, type Duration, type RetentionSchedule } from './retention';

export interface SubjectLimit {
  /** The rule's category (`account`, `call-recording`): also the limit's name. */
  readonly category: string;
  readonly basis: string;
  readonly from: string;
  readonly after: Duration;
  /** The subject store whose index lists subjects by the date, and that index. */
  readonly subjectStore: string;
  readonly table: string;
  /** The attribute holding the subject id (the subject store's partition key). */
  readonly subjectAttribute: string;
  readonly dateIndex: DateIndex;
  /** The stores the erasure covers; undefined = every store (the whole subject). */
  readonly stores?: readonly string[];
}

export interface RecordLimit {
  readonly store: string;
  readonly table: string;
  readonly category: string;
  readonly basis: string;
  readonly after: Duration;
  readonly dateField: string;
  readonly expiry: Expiry;
}

/** `{years: 2}` → `2y0m0d`: how a limit is written in bases and receipts. */
export function durationText(d: Duration): string {
  return `${d.years ?? 0}y${d.months ?? 0}m${d.days ?? 0}d`;
}

/** The instant before which an anchor is past `after` at `now` (the inverse of addDuration). */
export function cutoffFor(now: Date, after: Duration): Date {
  return addDuration(now, { years: -(after.years ?? 0), months: -(after.months ?? 0), days: -(after.days ?? 0) });
}

export function subjectLimits(dataMap: DataMap, schedule: RetentionSchedule): SubjectLimit[] {
  const limits: SubjectLimit[] = [];
  for (const rule of schedule.rules) {
    if (!rule.limit || rule.limit.from === 'record') continue;
    const holder = dataMap.stores.find((s): s is DynamoDbStore => s.kind === 'dynamodb' && rule.limit!.from in s.subjectDates);
    if (!holder) throw new ConfigError(`retention rule ${rule.category}: limit counts from "${rule.limit.from}", which no store's subjectDates names`);
    const stores = dataMap.stores.filter((s) => s.category === rule.category).map((s) => s.name);
    if (rule.limit.erases === 'category' && stores.length === 0) continue;
    limits.push({
      category: rule.category,
      basis: rule.basis,
      from: rule.limit.from,
      after: rule.limit.after,
      subjectStore: holder.name,
      table: holder.table,
      subjectAttribute: holder.key.partitionKey,
      dateIndex: holder.subjectDates[rule.limit.from],
      ...(rule.limit.erases === 'category' ? { stores } : {}),
    });
  }
  return limits;
}

/** DynamoDB stores with a record-level limit and an expiry method; a limit on a store without one is not enforced there (the report says so). */
export function recordLimits(dataMap: DataMap, schedule: RetentionSchedule): RecordLimit[] {
  const limits: RecordLimit[] = [];
  for (const store of dataMap.stores) {
    if (store.kind !== 'dynamodb' || !store.expiry) continue;
    const rule = ruleFor(schedule, store);
    const limit = rule.limit ?? schedule.rules.find((r) => r.category === store.category)?.limit;
    if (!limit || limit.from !== 'record') continue;
    const dateField = store.expiry.method === 'index' ? store.expiry.dateAttribute : store.dateField;
    if (!dateField) throw new ConfigError(`store ${store.name}: a record-level limit needs a dateField`);
    limits.push({ store: store.name, table: store.table, category: store.category, basis: rule.basis, after: limit.after, dateField, expiry: store.expiry });
  }
  return limits;
}

/** One unit of purge work: a store, and for a Scan one segment of it. No personal value. */
export interface PurgeUnit {
  readonly store: string;
  readonly method: 'index' | 'scan';
  readonly segment: number;
  readonly segments: number;
}

export function purgeUnits(limits: readonly RecordLimit[]): PurgeUnit[] {
  return limits.flatMap((l): PurgeUnit[] =>
    l.expiry.method === 'index'
      ? [{ store: l.store, method: 'index' as const, segment: 0, segments: 1 }]
      : Array.from({ length: l.expiry.segments }, (_, segment) => ({ store: l.store, method: 'scan' as const, segment, segments: (l.expiry as { segments: number }).segments })),
  );
}

/**
 * An S3 lifecycle rule, in the shape of PutBucketLifecycleConfiguration (and of CDK's
 * `s3.LifecycleRule` once days are turned into Durations by the construct).
 */
export interface LifecycleRuleSpec {
  readonly bucket: string;
  readonly id: string;
  readonly prefix: string;
  /** Current versions expire (a delete marker takes their place) this many days after creation. */
  readonly expirationDays?: number;
  /** Versions made noncurrent (by the expiry or by a rewrite) go this many days later. */
  readonly noncurrentVersionExpirationDays?: number;
  /** Delete markers with no version left behind them are removed. */
  readonly expiredObjectDeleteMarker?: boolean;
  /** Where the period comes from: the rule's category, basis and limit. */
  readonly source: string;
}

/**
 * The limit in whole days, rounded up: S3 counts from object creation and acts at the next
 * midnight UTC, so the rule can only be later than the limit, never earlier than a minimum
 * kept by `keep`. Months count as 31 days and years as 366 for the same reason.
 */
export function lifecycleDays(d: Duration): number {
  return (d.years ?? 0) * 366 + (d.months ?? 0) * 31 + (d.days ?? 0);
}

/**
 * The lifecycle rules of every log store with a record-level limit: its objects expire when
 * the newest record they can hold is past the limit (log objects are written as the records
 * come, so object age is record age), noncurrent versions a day after (a rewrite's old copies
 * included), and the delete markers left with nothing under them. S3 never expires a version
 * under an Object Lock legal hold or retention: what is held that way stays.
 */
export function lifecycleRules(dataMap: DataMap, schedule: RetentionSchedule): LifecycleRuleSpec[] {
  const rules: LifecycleRuleSpec[] = [];
  const buckets = new Set<string>();
  for (const store of dataMap.stores.filter((s): s is S3RecordsStore => s.kind === 's3-records')) {
    const rule = ruleFor(schedule, store);
    const limit = rule.limit ?? schedule.rules.find((r) => r.category === store.category)?.limit;
    if (!limit || limit.from !== 'record') continue;
    const days = lifecycleDays(limit.after);
    if (rule.keep && days < lifecycleDays(rule.keep)) throw new ConfigError(`store ${store.name}: its limit (${durationText(limit.after)}) is shorter than what it must keep (${durationText(rule.keep)})`);
    const source = `${store.category}: at most ${durationText(limit.after)} (basis ${rule.basis})`;
    rules.push({ bucket: store.bucket, id: `dsr-expire-${store.name}`, prefix: store.prefix, expirationDays: days, source });
    rules.push({ bucket: store.bucket, id: `dsr-expire-noncurrent-${store.name}`, prefix: store.prefix, noncurrentVersionExpirationDays: 1, source });
    buckets.add(store.bucket);
  }
  for (const bucket of [...buckets].sort()) {
    rules.push({ bucket, id: 'dsr-expired-delete-markers', prefix: '', expiredObjectDeleteMarker: true, source: 'delete markers with no version left behind them' });
  }
  return rules;
}
