/**
 * Holds and erasures exclude each other. A clerk placing a hold and an erasure starting at the
 * same moment must never end with held data erased, so both go through one item per subject
 * (and one per store) in the ledger:
 *   - placing or releasing a hold bumps `holdVersion`, on condition that no erasure lease is
 *     current;
 *   - the plan records the `holdVersion`s its decisions saw; before deleting anything, an
 *     erasure takes a lease (`erasingRequest`, `erasingUntil`) on condition that the versions
 *     are unchanged — so decisions made before a hold changed are never applied after it.
 *     The lease ends with the request, or expires so a crashed run does not block holds.
 * Whichever conditional write lands first wins; the other is refused with a clear reason.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DsrError } from './errors';
import { sha256Hex } from './hash';
import type { Runtime } from './runtime';

/** Long enough for the slowest store's erasure Task (15 minutes) with margin. */
export const LEASE_MS = 20 * 60 * 1000;

export class HoldsChangedError extends DsrError {
  constructor(scope: 'subject' | 'store', store?: string) {
    super(scope === 'store' ? `holds on store ${store} changed after the plan was made; nothing erased there` : 'holds on the subject changed after the plan was made; nothing erased', { scope });
    this.name = 'HoldsChanged';
  }
}

export class ErasureInProgressError extends DsrError {
  constructor() {
    super('an erasure of this subject or store is in progress; place the hold again in a few minutes');
    this.name = 'ErasureInProgress';
  }
}

export interface HoldVersions {
  readonly subject: number;
  readonly stores: Record<string, number>;
}

/**
 * Sends a transaction, again when DynamoDB cancelled it only because another transaction was
 * touching the same item at that moment (TransactionConflict): that is not an answer yet.
 */
export async function sendTransaction(doc: DynamoDBDocumentClient, command: TransactWriteCommand, attempts = 6): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await doc.send(command);
      return;
    } catch (err) {
      const conflict = err instanceof TransactionCanceledException && (err.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict');
      if (!conflict || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 20 * 2 ** attempt * Math.random()));
    }
  }
}

/** The hold versions a plan's decisions are based on. */
export async function readHoldVersions(rt: Ctx, subjectId: string, stores: readonly string[]): Promise<HoldVersions> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const version = async (key: { pk: string; sk: string }) =>
    ((await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: key, ConsistentRead: true }))).Item?.holdVersion as number | undefined) ?? 0;
  const entries = await Promise.all(stores.map(async (s) => [s, await version(storeLockKey(s))] as const));
  return { subject: await version(subjectLockKey(subjectId)), stores: Object.fromEntries(entries) };
}

/** The lock item of a subject: keyed by a hash, so the ledger's keys carry no subject id. */
export function subjectLockKey(subjectId: string) {
  return { pk: `subject#${sha256Hex(subjectId)}`, sk: 'lock' };
}

export function storeLockKey(store: string) {
  return { pk: `store#${store}`, sk: 'lock' };
}

type Ctx = Pick<Runtime, 'dynamodb' | 'ledger'>;

/** Takes (or renews) the erasure lease for a request on its subject and a store. */
export async function acquireErasureLease(rt: Ctx, args: { subjectId: string; store: string; requestId: string; now: Date; seen: HoldVersions }): Promise<void> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const lease = (key: { pk: string; sk: string }, seen: number) => ({
    Update: {
      TableName: rt.ledger.table,
      Key: key,
      UpdateExpression: 'SET erasingRequest = :rid, erasingUntil = :until',
      ConditionExpression: '(attribute_not_exists(holdVersion) OR holdVersion = :seen) AND (attribute_not_exists(erasingUntil) OR erasingUntil < :now OR erasingRequest = :rid)',
      // Lease times are wall-clock: a moved test clock must not make a lease look expired.
      ExpressionAttributeValues: { ':rid': args.requestId, ':until': new Date(Date.now() + LEASE_MS).toISOString(), ':now': new Date().toISOString(), ':seen': seen },
    },
  });
  try {
    await sendTransaction(
      doc,
      new TransactWriteCommand({
        TransactItems: [lease(subjectLockKey(args.subjectId), args.seen.subject), lease(storeLockKey(args.store), args.seen.stores[args.store] ?? 0)],
      }),
    );
  } catch (err) {
    if (!(err instanceof TransactionCanceledException)) throw err;
    const [subjectReason, storeReason] = err.CancellationReasons ?? [];
    if (subjectReason?.Code === 'ConditionalCheckFailed') throw new HoldsChangedError('subject');
    if (storeReason?.Code === 'ConditionalCheckFailed') throw new HoldsChangedError('store', args.store);
    throw err;
  }
}

/** Ends a request's leases on its subject and stores (those it does not hold are left alone). */
export async function releaseErasureLeases(rt: Ctx, subjectId: string, stores: readonly string[], requestId: string): Promise<void> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  for (const key of [subjectLockKey(subjectId), ...stores.map(storeLockKey)]) {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: rt.ledger.table,
          Key: key,
          UpdateExpression: 'REMOVE erasingRequest, erasingUntil',
          ConditionExpression: 'erasingRequest = :rid',
          ExpressionAttributeValues: { ':rid': requestId },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}

/** The transaction item that records a hold change on a lock item (placing or releasing). */
export function holdVersionBump(table: string, key: { pk: string; sk: string }) {
  return {
    Update: {
      TableName: table,
      Key: key,
      UpdateExpression: 'ADD holdVersion :one',
      // Changing holds while an erasure holds the lease would race it: refuse instead.
      ConditionExpression: 'attribute_not_exists(erasingUntil) OR erasingUntil < :now',
      ExpressionAttributeValues: { ':one': 1, ':now': new Date().toISOString() },
    },
  };
}
