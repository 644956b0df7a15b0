/**
 * Statutory deadlines: every request is due a number of days after it was received (the
 * period of its jurisdiction, functions/core/deadline-settings.ts), may be extended once by at
 * most 30 days while the first deadline has not passed (PIPEDA s.8(4)), and is listed by
 * due date through the ledger's DEADLINE_INDEX: open requests in one partition of the index,
 * answered ones in another, so "overdue" is one Query, never a Scan of the ledger.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { DeadlineSettingsSchema, type DeadlineSettings } from './deadline-settings';
import { DsrError, InvalidInputError } from './errors';
import { canonicalJson, sha256Hex } from './hash';
import type { RequestRecord, RequestStatus } from './ledger';
import type { SubjectRequest } from './request';
import { metricLine, METRICS_NAMESPACE } from './metrics';

const DAY_MS = 86_400_000;

/** The ledger's sparse index of requests by due date; its projection leaves out the request itself (the subject id). */
export const DEADLINE_INDEX = {
  name: 'by-due',
  partitionKey: 'dueState',
  sortKey: 'dueAt',
  projected: ['requestId', 'requestType', 'origin', 'status', 'receivedAt', 'jurisdiction', 'extension'],
} as const;

/** Statuses that answer a request: its clock stops. A failed or rejected request still has to be answered. */
export const ANSWERED: ReadonlySet<RequestStatus> = new Set<RequestStatus>(['completed', 'refused', 'cancelled']);

export type DueState = 'open' | 'answered';

export function dueStateOf(status: RequestStatus): DueState {
  return ANSWERED.has(status) ? 'answered' : 'open';
}

export interface RequestDeadline {
  readonly receivedAt: string;
  readonly dueAt: string;
  readonly jurisdiction: string;
}

/** The period of a jurisdiction: its own, else its country's, else the default jurisdiction's. */
export function responseDays(settings: DeadlineSettings, jurisdiction: string): number {
  const country = jurisdiction.split('-')[0];
  const days = settings.responseDays[jurisdiction] ?? settings.responseDays[country] ?? settings.responseDays[settings.defaultJurisdiction];
  if (days === undefined) throw new InvalidInputError(`no response period is set for jurisdiction ${jurisdiction} (settings.deadlines.responseDays)`);
  return days;
}

export function requestDeadline(request: SubjectRequest, settings: DeadlineSettings = DeadlineSettingsSchema.parse({})): RequestDeadline {
  const jurisdiction = request.jurisdiction ?? settings.defaultJurisdiction;
  const received = new Date(request.receivedAt);
  return { receivedAt: received.toISOString(), dueAt: new Date(received.getTime() + responseDays(settings, jurisdiction) * DAY_MS).toISOString(), jurisdiction };
}

/** Whole days from `now` to `dueAt`, rounded up (0 on the day itself, negative once overdue). */
export function daysLeft(dueAt: string, now: Date): number {
  return Math.ceil((new Date(dueAt).getTime() - now.getTime()) / DAY_MS);
}

/** The hash a receipt carries in place of a free-text reason (which may name people). */
export function reasonHash(requestId: string, change: string, reason: string): string {
  return sha256Hex(canonicalJson({ requestId, change, reason }));
}

export type ExtensionRefusal = 'already-extended' | 'deadline-passed' | 'answered' | 'no-deadline';

/** An extension the law does not allow: `reason` is the code; the CLI exits "refused". */
export class ExtensionRefusedError extends DsrError {
  constructor(
    readonly reason: ExtensionRefusal,
    message: string,
  ) {
    super(message, { reason });
    this.name = 'ExtensionRefused';
  }
}

export type Ctx = { readonly dynamodb: DynamoDBClient; readonly ledger: { readonly table: string } };

export interface Extension {
  readonly firstDueAt: string;
  readonly dueAt: string;
  readonly days: number;
  readonly reasonHash: string;
  readonly at: string;
  /** False when the same extension was already recorded (a retry): nothing changed. */
  readonly changed: boolean;
}

/**
 * Extends a request's deadline once. Refused a second time, after the first deadline, for an
 * answered request, and beyond `maxExtensionDays`. Conditional on the deadline it read, so two
 * extensions at once cannot both pass. The reason is kept in the ledger; callers put its hash
 * in the receipt. Repeating the identical extension answers the one recorded.
 */
export async function extendDeadline(
  rt: Ctx,
  record: RequestRecord,
  args: { days: number; reason: string; now: Date; settings?: DeadlineSettings },
): Promise<Extension> {
  const settings = args.settings ?? DeadlineSettingsSchema.parse({});
  const { requestId } = record.request;
  if (!Number.isInteger(args.days) || args.days < 1 || args.days > settings.maxExtensionDays) {
    throw new InvalidInputError(`an extension is 1 to ${settings.maxExtensionDays} whole days (PIPEDA s.8(4))`);
  }
  const hash = reasonHash(requestId, 'deadline-extended', args.reason);
  if (record.extension) {
    if (record.extension.days === args.days && record.extension.reasonHash === hash) return { ...record.extension, dueAt: record.dueAt!, changed: false };
    throw new ExtensionRefusedError('already-extended', `request ${requestId} was already extended once (by ${record.extension.days} days on ${record.extension.at.slice(0, 10)}); the law allows one extension`);
  }
  if (!record.dueAt) throw new ExtensionRefusedError('no-deadline', `request ${requestId} has no recorded deadline to extend`);
  if (ANSWERED.has(record.status)) throw new ExtensionRefusedError('answered', `request ${requestId} is ${record.status}: an answered request has no deadline to extend`);
  if (args.now.getTime() >= new Date(record.dueAt).getTime()) {
    throw new ExtensionRefusedError('deadline-passed', `request ${requestId} was due ${record.dueAt}: an extension must be sent before the first deadline`);
  }
  const dueAt = new Date(new Date(record.dueAt).getTime() + args.days * DAY_MS).toISOString();
  const extension = { days: args.days, reasonHash: hash, at: args.now.toISOString(), firstDueAt: record.dueAt };
  try {
    await DynamoDBDocumentClient.from(rt.dynamodb).send(
      new UpdateCommand({
        TableName: rt.ledger.table,
        Key: { pk: `request#${requestId}`, sk: 'request' },
        UpdateExpression: 'SET dueAt = :due, extension = :ext, extensionReason = :reason, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(extension) AND dueAt = :first',
        ExpressionAttributeValues: { ':due': dueAt, ':ext': extension, ':reason': args.reason, ':now': args.now.toISOString(), ':first': record.dueAt },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new ExtensionRefusedError('already-extended', `request ${requestId} was extended meanwhile; the law allows one extension`);
    throw err;
  }
  return { ...extension, dueAt, changed: true };
}

export interface ListedRequest {
  readonly requestId: string;
  readonly type: string;
  readonly origin: string;
  readonly status: string;
  readonly receivedAt: string;
  readonly dueAt: string;
  readonly jurisdiction: string | null;
  readonly extended: boolean;
  readonly daysLeft: number;
  readonly overdue: boolean;
}

/** Who asked: a person (`subject`) or the retention schedule (functions/core/enforcement-subjects.ts). */
export const REQUEST_ORIGINS = ['subject', 'retention-schedule'] as const;

export interface RequestQuery {
  readonly now: Date;
  /** Open requests past their due date. */
  readonly overdue?: boolean;
  /** Open requests due from now to now + this many days. */
  readonly dueWithinDays?: number;
  readonly status?: RequestStatus;
  readonly type?: string;
  /** `subject` (a person asked) or `retention-schedule` (retention enforcement started it). */
  readonly origin?: string;
}

/**
 * Requests by due date, from DEADLINE_INDEX: one Query per index partition read (open, and
 * answered only when asked for all or for an answered status). `--type`/`--status` filter
 * inside that Query (and `origin`). Index reads are eventually consistent: a request changed a moment ago may
 * show its previous status.
 */
export async function listRequests(rt: Ctx, q: RequestQuery): Promise<ListedRequest[]> {
  const rows: ListedRequest[] = [];
  for (const query of deadlineQueries(rt, q)) {
    for await (const item of indexItems(rt, query)) rows.push(listed(item, q.now));
  }
  return rows.sort(byDue);
}

/** The list's order: due date, then request id (an index keeps equal due dates in no order of ours). */
export const byDue = (a: ListedRequest, b: ListedRequest): number => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : a.requestId.localeCompare(b.requestId));

/**
 * The Queries of the deadline index a listing reads: one per index partition, with the due
 * range as the key condition and the other filters inside the Query. `from` narrows the range
 * to due dates at or after it (a page's start), so a page reads from where the last one ended.
 */
export function deadlineQueries(rt: Ctx, q: RequestQuery, from?: string): QueryCommandInput[] {
  const now = q.now.toISOString();
  const dated = q.overdue || q.dueWithinDays !== undefined;
  const states: DueState[] = dated ? ['open'] : q.status ? [dueStateOf(q.status)] : ['open', 'answered'];
  const names: Record<string, string> = { '#state': DEADLINE_INDEX.partitionKey };
  const values: Record<string, unknown> = {};
  // The due range as [lo, hi], both inclusive: "overdue" (strictly before now) ends a millisecond before now, the precision due dates are written in.
  let lo: string | undefined = from;
  let hi: string | undefined;
  if (q.dueWithinDays !== undefined) {
    // Due within N days, and (with --overdue too) those already past.
    hi = new Date(q.now.getTime() + q.dueWithinDays * DAY_MS).toISOString();
    if (!q.overdue) lo = lo !== undefined && lo > now ? lo : now;
  } else if (q.overdue) hi = new Date(q.now.getTime() - 1).toISOString();
  // A page that starts after the range's end reads nothing (BETWEEN refuses lo > hi).
  if (lo !== undefined && hi !== undefined && lo > hi) return [];
  let range = '';
  if (lo !== undefined && hi !== undefined) {
    range = ' AND #due BETWEEN :lo AND :hi';
    Object.assign(values, { ':lo': lo, ':hi': hi });
  } else if (hi !== undefined) {
    range = ' AND #due <= :hi';
    values[':hi'] = hi;
  } else if (lo !== undefined) {
    range = ' AND #due >= :lo';
    values[':lo'] = lo;
  }
  if (range) names['#due'] = DEADLINE_INDEX.sortKey;
  const filters: string[] = [];
  if (q.status) {
    filters.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = q.status;
  }
  if (q.type) {
    filters.push('#type = :type');
    names['#type'] = 'requestType';
    values[':type'] = q.type;
  }
  if (q.origin) {
    // Items from before `origin` was written at the top level are subject requests.
    filters.push(q.origin === 'subject' ? '(#origin = :origin OR attribute_not_exists(#origin))' : '#origin = :origin');
    names['#origin'] = 'origin';
    values[':origin'] = q.origin;
  }
  return states.map((state) => ({
    TableName: rt.ledger.table,
    IndexName: DEADLINE_INDEX.name,
    KeyConditionExpression: `#state = :state${range}`,
    FilterExpression: filters.length > 0 ? filters.join(' AND ') : undefined,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ...values, ':state': state },
  }));
}

/** The items one Query yields, page after page (`pageSize` caps the items each page reads). */
export async function* indexItems(rt: Ctx, query: QueryCommandInput, pageSize?: number): AsyncGenerator<Record<string, unknown>> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new QueryCommand({ ...query, ExclusiveStartKey: start, Limit: pageSize }));
    yield* out.Items ?? [];
    start = out.LastEvaluatedKey;
  } while (start);
}

export function listed(item: Record<string, unknown>, now: Date): ListedRequest {
  const dueAt = item.dueAt as string;
  const status = item.status as RequestStatus;
  const left = daysLeft(dueAt, now);
  return {
    requestId: item.requestId as string,
    type: item.requestType as string,
    origin: (item.origin as string | undefined) ?? 'subject',
    status,
    receivedAt: item.receivedAt as string,
    dueAt,
    jurisdiction: (item.jurisdiction as string | undefined) ?? null,
    extended: item.extension !== undefined,
    daysLeft: left,
    overdue: !ANSWERED.has(status) && new Date(dueAt).getTime() < now.getTime(),
  };
}

/** The CloudWatch namespace and metric names of the deadline check (the construct alarms on NEARING). */
export const DEADLINE_METRICS = { namespace: METRICS_NAMESPACE, nearing: 'RequestsNearingDeadline', overdue: 'RequestsOverdue' } as const;

/**
 * What the deadline alarm watches: open requests overdue, and open requests overdue or due
 * within `nearingDays`. Two Queries of the deadline index, ids only.
 */
export async function deadlineCounts(rt: Ctx, now: Date, nearingDays: number): Promise<{ nearing: number; overdue: number; nearingDays: number }> {
  const [nearing, overdue] = await Promise.all([listRequests(rt, { now, overdue: true, dueWithinDays: nearingDays }), listRequests(rt, { now, overdue: true })]);
  return { nearing: nearing.length, overdue: overdue.length, nearingDays };
}

/** The deadline counts as one embedded-metric-format line (functions/core/metrics.ts). */
export function deadlineMetricLine(counts: { nearing: number; overdue: number }, now: Date): string {
  return metricLine({ [DEADLINE_METRICS.nearing]: counts.nearing, [DEADLINE_METRICS.overdue]: counts.overdue }, now);
}
