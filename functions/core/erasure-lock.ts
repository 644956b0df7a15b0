/**
 * Holds and erasures exclude each other. A clerk placing a hold and an erasure starting at the
 * same moment must never end with held data erased, so both go through one item per subject
 * (and one per store) in the ledger:
 *   - placing or releasing a hold bumps `holdVersion`, on condition that no erasure lease is
 *     current (`erasingUntil` absent or past);
 *   - the plan records the `holdVersion`s its decisions saw; before deleting anything, an
 *     erasure takes a lease on the subject's item and the store's item, on condition that the
 *     versions are unchanged — so decisions made before a hold changed are never applied after.
 *
 * Leases are shared: each is an attribute of its own (`lease#<leaseId>` = until), and
 * `erasingUntil` is the latest of the live ones. Erasures of different subjects on one store
 * therefore never block each other (a log object shared by two people is erased for each, by
 * the connector's own conditional rewrites). On the subject's item one owner at a time:
 * two erasures of the same subject at once would race on the very same records, so the second
 * is refused with `SubjectErasureInProgress` (the machine retries it; a resume finishes it).
 * Releasing removes only the caller's own lease (optimistically, on `leaseEpoch`), and a
 * crashed run's lease still expires: every lease lasts LEASE_MS from its last renewal.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff';
import { DsrError, StoreUnavailableError } from './errors';
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

/** Another request is erasing the same subject right now (no hold changed). */
export class SubjectErasureInProgressError extends DsrError {
  constructor() {
    super('another request is erasing this subject right now; nothing erased here (retried, or resume the request later)');
    this.name = 'SubjectErasureInProgress';
  }
}

export interface HoldVersions {
  readonly subject: number;
  readonly stores: Record<string, number>;
}

type Key = { pk: string; sk: string };
type Ctx = Pick<Runtime, 'dynamodb' | 'ledger'>;

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
  const version = async (key: Key) => ((await readLock(rt, key))?.holdVersion as number | undefined) ?? 0;
  const entries = await Promise.all(stores.map(async (s) => [s, await version(storeLockKey(s))] as const));
  return { subject: await version(subjectLockKey(subjectId)), stores: Object.fromEntries(entries) };
}

/** BatchGetItem takes at most this many keys per call. */
const BATCH_GET_MAX = 100;

/**
 * `readHoldVersions` of many subjects on one store, in BatchGetItem calls of up to 100 lock items
 * (the store's own once, each subject's), consistent reads: what a work unit of the log pass
 * re-reads twice, for every subject of the pass. Keys DynamoDB leaves unprocessed (throttling)
 * are asked again after a backoff; after the last attempt the read fails.
 */
export async function readHoldVersionsMany(rt: Ctx, subjectIds: readonly string[], store: string, backoff: BackoffOptions = DEFAULT_BACKOFF): Promise<Map<string, HoldVersions>> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const table = rt.ledger.table;
  const storeKey = storeLockKey(store);
  const byPk = new Map<string, string[]>();
  for (const id of new Set(subjectIds)) {
    const pk = subjectLockKey(id).pk;
    byPk.set(pk, [...(byPk.get(pk) ?? []), id]);
  }
  const wanted: Key[] = [storeKey, ...[...byPk.keys()].map((pk) => ({ pk, sk: 'lock' }))];
  const versions = new Map<string, number>();
  for (let from = 0; from < wanted.length; from += BATCH_GET_MAX) {
    let keys: Key[] = wanted.slice(from, from + BATCH_GET_MAX);
    for (let attempt = 1; keys.length > 0; attempt++) {
      const out = await doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
      for (const item of out.Responses?.[table] ?? []) versions.set(String(item.pk), (item.holdVersion as number | undefined) ?? 0);
      keys = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Key[];
      if (keys.length === 0) break;
      if (attempt >= backoff.maxAttempts) throw new StoreUnavailableError('ledger', `BatchGetItem left ${keys.length} hold versions unread after ${attempt} attempts`);
      await sleep(backoffDelay(attempt, backoff));
    }
  }
  const storeVersion = versions.get(storeKey.pk) ?? 0;
  const result = new Map<string, HoldVersions>();
  for (const [pk, ids] of byPk) for (const id of ids) result.set(id, { subject: versions.get(pk) ?? 0, stores: { [store]: storeVersion } });
  return result;
}

/** The lock item of a subject: keyed by a hash, so the ledger's keys carry no subject id. */
export function subjectLockKey(subjectId: string): Key {
  return { pk: `subject#${sha256Hex(subjectId)}`, sk: 'lock' };
}

export function storeLockKey(store: string): Key {
  return { pk: `store#${store}`, sk: 'lock' };
}

const LEASE_PREFIX = 'lease#';

async function readLock(rt: Ctx, key: Key): Promise<Record<string, unknown> | undefined> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  return (await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: key, ConsistentRead: true }))).Item;
}

export interface LeaseArgs {
  readonly subjectId: string;
  readonly store: string;
  /** Who erases the subject: the request id (a sweep: `sweep-<requestId>`). Same owner, same subject: shared. */
  readonly owner: string;
  /** This lease's own name, released on its own: the owner's, or per store where one owner runs stores apart. */
  readonly leaseId: string;
  readonly seen: HoldVersions;
}

/** Takes (or renews) a lease on the subject and a store, if the holds are those the plan saw. */
export async function acquireErasureLease(rt: Ctx, args: LeaseArgs): Promise<void> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  for (let attempt = 1; ; attempt++) {
    // Lease times are wall-clock: a moved test clock must not make a lease look expired.
    const now = new Date().toISOString();
    const until = new Date(Date.now() + LEASE_MS).toISOString();
    const lease = (key: Key, seen: number, exclusive: boolean) => ({
      Update: {
        TableName: rt.ledger.table,
        Key: key,
        UpdateExpression: `SET #lease = :until, erasingUntil = :until${exclusive ? ', erasingOwner = :owner' : ''} ADD leaseEpoch :one`,
        ConditionExpression: `(attribute_not_exists(holdVersion) OR holdVersion = :seen)${exclusive ? ' AND (attribute_not_exists(erasingUntil) OR erasingUntil < :now OR erasingOwner = :owner)' : ''}`,
        ExpressionAttributeNames: { '#lease': `${LEASE_PREFIX}${args.leaseId}` },
        ExpressionAttributeValues: { ':until': until, ':seen': seen, ':one': 1, ...(exclusive ? { ':owner': args.owner, ':now': now } : {}) },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    });
    const seenStore = args.seen.stores[args.store] ?? 0;
    try {
      await sendTransaction(
        doc,
        new TransactWriteCommand({ TransactItems: [lease(subjectLockKey(args.subjectId), args.seen.subject, true), lease(storeLockKey(args.store), seenStore, false)] }),
      );
      return;
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons = err.CancellationReasons ?? [];
      if (!reasons.some((r) => r.Code === 'ConditionalCheckFailed')) throw err;
      // Which condition failed, from the item as it was (or read again where DynamoDB did not return it).
      const failed = async (i: number, key: Key) => {
        if (reasons[i]?.Code !== 'ConditionalCheckFailed') return undefined;
        const item = reasons[i]?.Item;
        return (item ? unmarshall(item as Parameters<typeof unmarshall>[0]) : await readLock(rt, key)) ?? {};
      };
      const [subject, store] = await Promise.all([failed(0, subjectLockKey(args.subjectId)), failed(1, storeLockKey(args.store))]);
      if (subject && ((subject.holdVersion as number | undefined) ?? 0) !== args.seen.subject) throw new HoldsChangedError('subject');
      if (store && ((store.holdVersion as number | undefined) ?? 0) !== seenStore) throw new HoldsChangedError('store', args.store);
      const busy = subject?.erasingOwner !== undefined && subject.erasingOwner !== args.owner && String(subject.erasingUntil ?? '') >= new Date().toISOString();
      if (busy) throw new SubjectErasureInProgressError();
      // Neither: the item changed between the write and the read (a lease ended); try again.
      if (attempt >= 5) throw new SubjectErasureInProgressError();
    }
  }
}

/**
 * Ends a lease on the subject's item and the stores' items (items where it holds none are left
 * alone). Expired leases of crashed runs are dropped on the way; `erasingUntil` becomes the
 * latest live lease, or goes with the last one.
 */
export async function releaseErasureLeases(rt: Ctx, subjectId: string, stores: readonly string[], leaseId: string): Promise<void> {
  await Promise.all([subjectLockKey(subjectId), ...stores.map(storeLockKey)].map((key) => releaseOne(rt, key, leaseId)));
}

async function releaseOne(rt: Ctx, key: Key, leaseId: string): Promise<void> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const mine = `${LEASE_PREFIX}${leaseId}`;
  for (let attempt = 1; ; attempt++) {
    const item = await readLock(rt, key);
    if (!item || item[mine] === undefined) return;
    const now = new Date().toISOString();
    const leases = Object.entries(item).filter(([name]) => name.startsWith(LEASE_PREFIX));
    const ending = leases.filter(([name, until]) => name === mine || String(until) < now).map(([name]) => name);
    const live = leases.filter(([name]) => !ending.includes(name)).map(([, until]) => String(until)).sort();
    const names = Object.fromEntries(ending.map((name, i) => [`#l${i}`, name]));
    const removals = [...Object.keys(names), ...(live.length === 0 ? ['erasingUntil', 'erasingOwner'] : [])];
    try {
      await doc.send(
        new UpdateCommand({
          TableName: rt.ledger.table,
          Key: key,
          UpdateExpression: `${live.length > 0 ? 'SET erasingUntil = :until ' : ''}REMOVE ${removals.join(', ')} ADD leaseEpoch :one`,
          // Nobody took or ended a lease since the read: the latest live lease is still this one.
          ConditionExpression: 'leaseEpoch = :epoch',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':epoch': item.leaseEpoch ?? 0, ':one': 1, ...(live.length > 0 ? { ':until': live[live.length - 1] } : {}) },
        }),
      );
      return;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException) || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 10 * attempt * Math.random()));
    }
  }
}

/** The transaction item that records a hold change on a lock item (placing or releasing). */
export function holdVersionBump(table: string, key: Key) {
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
