/**
 * A pending access or portability request holds what it covers from erasure and purge until
 * it is answered (PIPEDA s.8(8)): the person must be able to see their data and pursue their
 * recourse before it goes. Each such request leaves an item under its subject's hash
 * (`subject#<sha256>` / `request#<id>`, the partition of the subject's lock item), written
 * with the request itself, so finding a subject's pending requests is one Query of one small
 * partition plus a read of each request's status, and no key holds the subject id in clear.
 *
 * `pendingAccessRequests` is the one answer to "does this subject have a pending request": the
 * pipeline's erasures and sweeps ask it (holds.ts), so does retention enforcement, per subject
 * past a limit (enforcement-subjects.ts), and for the record-level purge, which needs every such
 * subject at once, through `pendingAccessSubjects` (candidates from the deadline index, each
 * decided here).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ANSWERED, DEADLINE_INDEX, dueStateOf, indexItems } from './deadlines';
import { subjectLockKey } from './erasure-lock';
import type { RequestStatus } from './ledger';
import { queryPartition } from './ledger-partition';
import type { SubjectRequest } from './request';

/** The basis recorded for what a pending access or portability request holds. */
export const PENDING_ACCESS_BASIS = 'pending-access-request';

/** The request types whose answer needs the data to still be there. */
export const HOLDING_TYPES: ReadonlySet<string> = new Set(['access', 'portability']);

export interface PendingRequest {
  readonly requestId: string;
  readonly type: string;
  readonly status: RequestStatus;
  readonly dueAt: string | null;
}

type Ctx = { readonly dynamodb: DynamoDBClient; readonly ledger: { readonly table: string } };

/** The subject's lock item's partition (`subject#<sha256>`): one place for everything keyed by the subject. */
function subjectPartition(subjectId: string): string {
  return subjectLockKey(subjectId).pk;
}

/**
 * What a new access or portability request writes with itself (nothing for other types): its
 * item under the subject's hash, and a bump of the subject's hold version. The bump is what a
 * placed hold does (functions/core/erasure-lock.ts): an erasure planned before the request
 * arrived takes no further lease on the subject, so its plan cannot erase what the request now
 * holds; it ends PlanOutdated, and its new plan keeps that data. Unconditional, unlike a hold:
 * a person's request is received whatever runs at that moment.
 */
export function pendingRequestWrites(request: SubjectRequest, table: string): Array<Record<string, unknown>> {
  if (!HOLDING_TYPES.has(request.type)) return [];
  return [
    { Put: { TableName: table, Item: { pk: subjectPartition(request.subjectId), sk: `request#${request.requestId}`, requestId: request.requestId, type: request.type, receivedAt: request.receivedAt } } },
    { Update: { TableName: table, Key: subjectLockKey(request.subjectId), UpdateExpression: 'ADD holdVersion :one', ExpressionAttributeValues: { ':one': 1 } } },
  ];
}

/**
 * The subject's access and portability requests that are not answered yet (not completed,
 * refused or cancelled), `except` one request id (the caller's own). Consistent reads: a
 * request answered a moment ago no longer holds.
 */
export async function pendingAccessRequests(rt: Ctx, subjectId: string, opts: { except?: string } = {}): Promise<PendingRequest[]> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const found: PendingRequest[] = [];
  for await (const item of queryPartition(rt, subjectPartition(subjectId), { sortKeyPrefix: 'request#' })) {
    const requestId = item.requestId as string;
    if (requestId === opts.except) continue;
    const request = (await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: { pk: `request#${requestId}`, sk: 'request' }, ConsistentRead: true }))).Item;
    const status = request?.status as RequestStatus | undefined;
    if (!status || ANSWERED.has(status)) continue;
    found.push({ requestId, type: item.type as string, status, dueAt: (request?.dueAt as string | undefined) ?? null });
  }
  return found;
}

/**
 * Every subject with a pending access or portability request, for a record-level purge that
 * must keep what any of them covers. The candidates are the open requests of those types in
 * the ledger's deadline index (one Query of its `open` partition, ids only: the index projects
 * no subject id), each request read for its subject; whether a subject's requests still hold
 * is then asked of pendingAccessRequests, the one place that decides it. The index is
 * eventually consistent: a request received a moment ago may be seen by the next run only.
 */
export async function pendingAccessSubjects(rt: Ctx): Promise<Set<string>> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const subjects = new Set<string>();
  const ruledOut = new Set<string>();
  const openAccess = {
    TableName: rt.ledger.table,
    IndexName: DEADLINE_INDEX.name,
    KeyConditionExpression: '#state = :open',
    FilterExpression: '#type IN (:access, :portability)',
    ExpressionAttributeNames: { '#state': DEADLINE_INDEX.partitionKey, '#type': 'requestType' },
    ExpressionAttributeValues: { ':open': dueStateOf('received'), ':access': 'access', ':portability': 'portability' },
    ProjectionExpression: 'requestId',
  };
  for await (const item of indexItems(rt, openAccess)) {
    const request = (await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: { pk: `request#${item.requestId as string}`, sk: 'request' }, ConsistentRead: true }))).Item;
    const subjectId = (request?.request as SubjectRequest | undefined)?.subjectId;
    if (!subjectId || subjects.has(subjectId) || ruledOut.has(subjectId)) continue;
    if ((await pendingAccessRequests(rt, subjectId)).length > 0) subjects.add(subjectId);
    else ruledOut.add(subjectId);
  }
  return subjects;
}
