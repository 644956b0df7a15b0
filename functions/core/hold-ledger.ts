/**
 * Legal holds in the ledger table (pk `hold`, sk `<holdId>`). A hold is on one subject or a
 * whole store; releasing is conditional on the hold still being active, and every change is
 * appended as an event item so the history of a hold survives its release.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { queryPartition } from './ledger-partition';
import { ErasureInProgressError, holdVersionBump, sendTransaction, storeLockKey, subjectLockKey } from './erasure-lock';
import type { HoldKind } from './retention';
import type { Runtime } from './runtime';

/** What placing a hold says: where it applies, why, who places it, and until when. */
export interface PlaceHoldInput {
  readonly scope: 'subject' | 'store';
  readonly subjectId?: string;
  readonly store?: string;
  readonly kind: HoldKind;
  readonly reference: string;
  readonly placedBy: string;
  readonly endsAt?: string;
}

/** A hold as the ledger keeps it: what was placed, when, and its release. */
export interface HoldRecord extends PlaceHoldInput {
  readonly holdId: string;
  readonly placedAt: string;
  readonly status: 'active' | 'released';
  readonly releasedAt?: string;
  readonly releasedBy?: string;
}

export async function listHolds(rt: Pick<Runtime, 'dynamodb' | 'ledger'>): Promise<HoldRecord[]> {
  const holds: HoldRecord[] = [];
  for await (const item of queryPartition(rt, 'hold')) holds.push(item as unknown as HoldRecord);
  return holds;
}

/** Holds active at `now`: not released and not past their end date. */
export async function listActiveHolds(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, now: Date): Promise<HoldRecord[]> {
  return (await listHolds(rt)).filter((h) => h.status === 'active' && (!h.endsAt || new Date(h.endsAt) > now));
}

export class HoldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HoldError';
  }
}

/**
 * Places a hold. Each change is also written as an event item (`hold-event` / `<time>#<holdId>#<n>`)
 * in the same transaction, so the hold's history outlives it.
 */
export async function placeHold(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, input: PlaceHoldInput, now: Date, holdId: string): Promise<HoldRecord> {
  const hold: HoldRecord = { holdId, ...input, placedAt: now.toISOString(), status: 'active' };
  const doc = DynamoDBDocumentClient.from(rt.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  await sendTransaction(
    doc,
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: rt.ledger.table, Item: { pk: 'hold', sk: holdId, ...hold }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Put: { TableName: rt.ledger.table, Item: holdEvent(holdId, 'placed', input.placedBy, now) } },
        holdVersionBump(rt.ledger.table, lockKeyOf(hold)),
      ],
    }),
  ).catch((err: unknown) => {
    throw erasureRace(err) ?? err;
  });
  return hold;
}

/** Releases an active hold; releasing twice, or a hold that does not exist, is an error. */
export async function releaseHold(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, holdId: string, releasedBy: string, now: Date): Promise<void> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const existing = (await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: { pk: 'hold', sk: holdId }, ConsistentRead: true }))).Item as HoldRecord | undefined;
  if (!existing) throw new HoldError(`hold ${holdId} does not exist`);
  if (existing.status !== 'active') throw new HoldError(`hold ${holdId} was already released`);
  try {
    await sendTransaction(
      doc,
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: rt.ledger.table,
              Key: { pk: 'hold', sk: holdId },
              UpdateExpression: 'SET #status = :released, releasedAt = :now, releasedBy = :by',
              ConditionExpression: '#status = :active',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':released': 'released', ':active': 'active', ':now': now.toISOString(), ':by': releasedBy },
            },
          },
          { Put: { TableName: rt.ledger.table, Item: holdEvent(holdId, 'released', releasedBy, now) } },
          holdVersionBump(rt.ledger.table, lockKeyOf(existing)),
        ],
      }),
    );
  } catch (err) {
    const race = erasureRace(err);
    if (race) throw race;
    if ((err as { name?: string }).name === 'TransactionCanceledException') throw new HoldError(`hold ${holdId} was already released`);
    throw err;
  }
}

function lockKeyOf(hold: Pick<HoldRecord, 'scope' | 'subjectId' | 'store'>) {
  return hold.scope === 'store' ? storeLockKey(hold.store!) : subjectLockKey(hold.subjectId!);
}

/** The lock item's condition failed: an erasure holds the lease right now. */
function erasureRace(err: unknown): Error | undefined {
  if (!(err instanceof TransactionCanceledException)) return undefined;
  return err.CancellationReasons?.[2]?.Code === 'ConditionalCheckFailed' ? new ErasureInProgressError() : undefined;
}

function holdEvent(holdId: string, change: 'placed' | 'released', by: string, now: Date) {
  return { pk: 'hold-event', sk: `${now.toISOString()}#${holdId}#${change}`, holdId, change, by, at: now.toISOString() };
}
