/**
 * The log-erasure queue: an erasure request does not rewrite big log stores itself; it queues
 * them here and the scheduled pass (log-pass.ts) erases every queued subject in one read of
 * each store. One ledger item per request and store (pk `logq`, sk `<store>#<requestId>`):
 * ids, dates and statuses only — the subject is found through the request.
 */
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { queryPartition } from './ledger-partition';
import type { Runtime } from './runtime';

export const LOG_QUEUE_PK = 'logq';

export type QueueStatus = 'pending' | 'running' | 'done';

export interface QueuedLogErasure {
  readonly requestId: string;
  readonly store: string;
  readonly status: QueueStatus;
  readonly queuedAt: string;
  /** The request's statutory deadline (receipt + the response period): a pass runs before it. */
  readonly dueBy: string;
  readonly planHash: string;
  /** The pass that took it (running) or finished it (done). */
  readonly passId?: string;
  readonly doneAt?: string;
  /** Passes that could not erase it yet (a hold, another erasure of the subject). */
  readonly postponed?: number;
  readonly lastPostponedBecause?: string;
}

function sk(store: string, requestId: string): string {
  return `${store}#${requestId}`;
}

const doc = (rt: Pick<Runtime, 'dynamodb'>) => DynamoDBDocumentClient.from(rt.dynamodb, { marshallOptions: { removeUndefinedValues: true } });

/** Queues a request's store; queuing again (a retried Task, a resume) keeps the first entry. */
export async function enqueueLogErasure(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, entry: Omit<QueuedLogErasure, 'status'>): Promise<'queued' | 'already-queued'> {
  try {
    await doc(rt).send(
      new PutCommand({
        TableName: rt.ledger.table,
        Item: { pk: LOG_QUEUE_PK, sk: sk(entry.store, entry.requestId), status: 'pending', ...entry },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return 'queued';
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return 'already-queued';
    throw err;
  }
}

/** Every entry not yet done, oldest deadline first. */
export async function queuedLogErasures(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, opts: { requestId?: string; includeDone?: boolean } = {}): Promise<QueuedLogErasure[]> {
  const out: QueuedLogErasure[] = [];
  const filter = [opts.includeDone ? undefined : '#status <> :done', opts.requestId ? 'requestId = :rid' : undefined].filter(Boolean).join(' AND ');
  for await (const item of queryPartition(rt, LOG_QUEUE_PK, {
    filter: filter || undefined,
    names: opts.includeDone ? undefined : { '#status': 'status' },
    values: { ...(opts.includeDone ? {} : { ':done': 'done' }), ...(opts.requestId ? { ':rid': opts.requestId } : {}) },
  })) {
    const { pk: _pk, sk: _sk, ...entry } = item;
    out.push(entry as unknown as QueuedLogErasure);
  }
  return out.sort((a, b) => (a.dueBy < b.dueBy ? -1 : a.dueBy > b.dueBy ? 1 : a.queuedAt < b.queuedAt ? -1 : a.queuedAt > b.queuedAt ? 1 : 0));
}

/** Updates one entry; `whileOpen`: only if no pass has finished it (a done entry stays done). */
async function updateEntry(
  rt: Pick<Runtime, 'dynamodb' | 'ledger'>,
  store: string,
  requestId: string,
  update: { expression: string; values: Record<string, unknown>; whileOpen: boolean },
): Promise<void> {
  await doc(rt).send(
    new UpdateCommand({
      TableName: rt.ledger.table,
      Key: { pk: LOG_QUEUE_PK, sk: sk(store, requestId) },
      UpdateExpression: update.expression,
      ...(update.whileOpen ? { ConditionExpression: '#status <> :done' } : {}),
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ...update.values, ...(update.whileOpen ? { ':done': 'done' } : {}) },
    }),
  );
}

/** A pass takes an entry: pending, or running under an earlier pass that never finished. */
export async function markTaken(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, store: string, requestId: string, passId: string): Promise<void> {
  await updateEntry(rt, store, requestId, { expression: 'SET #status = :running, passId = :pass', values: { ':running': 'running', ':pass': passId }, whileOpen: true });
}

/** The pass could not erase it this time: back to pending, with the reason (a decision name, no value). */
export async function markPostponed(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, store: string, requestId: string, because: string): Promise<void> {
  await updateEntry(rt, store, requestId, {
    expression: 'SET #status = :pending, lastPostponedBecause = :why REMOVE passId ADD postponed :one',
    values: { ':pending': 'pending', ':why': because, ':one': 1 },
    whileOpen: true,
  });
}

export async function markDone(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, store: string, requestId: string, passId: string, at: string): Promise<void> {
  await updateEntry(rt, store, requestId, { expression: 'SET #status = :done, doneAt = :at, passId = :pass', values: { ':done': 'done', ':at': at, ':pass': passId }, whileOpen: false });
}

/**
 * Whether a queued log erasure still waits for this subject: the request was answered and its
 * account erased, but its records in the big log stores are there until the pass, so the
 * subject is still known (a hold placed now must reach them). One Query of the queue, then the
 * open entries' requests (a pass's worth at most).
 */
export async function subjectHasQueuedLogErasure(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, subjectId: string): Promise<boolean> {
  const requestIds = [...new Set((await queuedLogErasures(rt)).map((e) => e.requestId))];
  for (const requestId of requestIds) if ((await rt.ledger.getRequest(requestId))?.request.subjectId === subjectId) return true;
  return false;
}

/** Whether the request still has log stores queued (its kept identity must outlive them). */
export async function hasQueuedLogErasure(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, requestId: string): Promise<boolean> {
  return (await queuedLogErasures(rt, { requestId })).length > 0;
}

/** The statutory deadline of a request received at `receivedAt`. */
export function deadlineOf(receivedAt: string, responseDays: number): string {
  return new Date(new Date(receivedAt).getTime() + responseDays * 86_400_000).toISOString();
}

/** The metric names of the queue check (the construct alarms on OVERDUE: a statutory deadline passed with log records not erased). */
export const LOG_QUEUE_METRICS = { queued: 'LogErasuresQueued', overdue: 'LogErasuresOverdue' } as const;

/** Queued log erasures not done yet, and those of them past their request's deadline. */
export function logQueueCounts(queue: readonly QueuedLogErasure[], now: Date): { queued: number; overdue: number } {
  const open = queue.filter((e) => e.status !== 'done');
  return { queued: open.length, overdue: open.filter((e) => new Date(e.dueBy).getTime() < now.getTime()).length };
}
