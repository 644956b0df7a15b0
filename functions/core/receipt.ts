/**
 * Receipts: per request (and per sweep) what was decided and done, with no personal value,
 * each chained to the previous one by its SHA-256 so a removed or altered receipt shows.
 *
 * Ledger items: `receipt` / `<sequence>` holds the canonical JSON body and its hash;
 * `receipt` / `head` the last sequence and hash (the conditional update that appends);
 * `request#<id>` / `receipt` points a request at its receipt (idempotent rewrites);
 * `request#<id>` / `change#<changeId>` points at the receipt of a later change to the request
 * (approved, rejected, restriction lifted): who, when, what, in counts.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { canonicalJson, sha256Hex } from './hash';
import { queryPartition, requestPk } from './ledger';
import type { Runtime } from './runtime';

export const GENESIS_HASH = '0'.repeat(64);

export interface ReceiptBody {
  readonly receiptVersion: 1;
  readonly kind: 'request' | 'sweep' | 'change';
  readonly id: string;
  readonly [field: string]: unknown;
}

export interface StoredReceipt {
  readonly sequence: number;
  readonly hash: string;
  readonly previousHash: string;
  readonly body: string;
}

function seqKey(n: number): string {
  return String(n).padStart(12, '0');
}

export async function appendReceipt(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, body: ReceiptBody): Promise<StoredReceipt> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const pointerKey = pointerOf(body);
  for (let attempt = 0; attempt < 20; attempt++) {
    const existing = await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: pointerKey, ConsistentRead: true }));
    if (existing.Item) return getReceipt(rt, existing.Item.sequence as number) as Promise<StoredReceipt>;
    const head = (await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: { pk: 'receipt', sk: 'head' }, ConsistentRead: true }))).Item;
    const sequence = ((head?.sequence as number | undefined) ?? 0) + 1;
    const previousHash = (head?.hash as string | undefined) ?? GENESIS_HASH;
    const text = canonicalJson({ ...body, sequence, previousHash });
    const hash = sha256Hex(text);
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: rt.ledger.table, Item: { pk: 'receipt', sk: seqKey(sequence), sequence, hash, previousHash, body: text }, ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Put: {
                TableName: rt.ledger.table,
                Item: { pk: 'receipt', sk: 'head', sequence, hash },
                ConditionExpression: head ? '#seq = :prev' : 'attribute_not_exists(pk)',
                ...(head ? { ExpressionAttributeNames: { '#seq': 'sequence' }, ExpressionAttributeValues: { ':prev': sequence - 1 } } : {}),
              },
            },
            { Put: { TableName: rt.ledger.table, Item: { ...pointerKey, sequence, hash }, ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return { sequence, hash, previousHash, body: text };
    } catch (err) {
      // Another receipt was appended meanwhile (or this one by a retry): read again and retry.
      if (!(err instanceof TransactionCanceledException)) throw err;
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1) + Math.random() * 50));
    }
  }
  throw new Error('could not append the receipt: the chain head kept changing');
}

function pointerOf(body: ReceiptBody): { pk: string; sk: string } {
  if (body.kind === 'change') {
    if (typeof body.requestId !== 'string') throw new Error(`change receipt ${body.id} names no request`);
    return { pk: requestPk(body.requestId), sk: `change#${body.id}` };
  }
  return { pk: body.kind === 'request' ? requestPk(body.id) : `sweep#${body.id}`, sk: 'receipt' };
}

/** The change id of a lift: who asked is in the ledger under it (`dsr lift-restriction --by`). */
export const LIFTED = 'restriction-lifted';

/** What a change's receipt says of who made it: a hash, bound to the request and the change. */
export function actorHash(requestId: string, changeId: string, by: string): string {
  return sha256Hex(canonicalJson({ requestId, changeId, by }));
}

/** The receipts of the changes made to a request after it ran, in chain order. */
export async function changeReceipts(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, requestId: string): Promise<StoredReceipt[]> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const found: StoredReceipt[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: rt.ledger.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :change)',
        ExpressionAttributeValues: { ':pk': requestPk(requestId), ':change': 'change#' },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    for (const p of out.Items ?? []) {
      const r = await getReceipt(rt, p.sequence as number);
      if (r) found.push(r);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return found.sort((a, b) => a.sequence - b.sequence);
}

export async function getReceipt(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, sequence: number): Promise<StoredReceipt | undefined> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const out = await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: { pk: 'receipt', sk: seqKey(sequence) }, ConsistentRead: true }));
  return out.Item as StoredReceipt | undefined;
}

export async function receiptForRequest(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, requestId: string): Promise<StoredReceipt | undefined> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const pointer = await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: { pk: requestPk(requestId), sk: 'receipt' }, ConsistentRead: true }));
  return pointer.Item ? getReceipt(rt, pointer.Item.sequence as number) : undefined;
}

/** Every receipt in order, for `dsr receipt verify`. */
export async function* allReceipts(rt: Pick<Runtime, 'dynamodb' | 'ledger'>): AsyncGenerator<StoredReceipt> {
  // Sequence keys are zero-padded digits, so they all sort before `head`.
  for await (const item of queryPartition(rt, 'receipt', { sortKeyBefore: 'head' })) yield item as unknown as StoredReceipt;
}

export interface ChainCheck {
  readonly ok: boolean;
  readonly count: number;
  readonly problems: string[];
}

/** Recomputes every hash and link; names each receipt that does not fit. */
export function checkChain(receipts: Iterable<StoredReceipt>): ChainCheck {
  const problems: string[] = [];
  let previous = GENESIS_HASH;
  let expected = 1;
  let count = 0;
  for (const r of receipts) {
    count++;
    if (r.sequence !== expected) problems.push(`receipt ${r.sequence}: expected sequence ${expected} (a receipt is missing)`);
    if (sha256Hex(r.body) !== r.hash) problems.push(`receipt ${r.sequence}: body does not match its hash (altered)`);
    let parsed: { previousHash?: string; sequence?: number } = {};
    try {
      parsed = JSON.parse(r.body) as typeof parsed;
    } catch {
      problems.push(`receipt ${r.sequence}: body is not JSON`);
    }
    if (parsed.previousHash !== previous || r.previousHash !== previous) problems.push(`receipt ${r.sequence}: does not chain to receipt ${r.sequence - 1}`);
    if (parsed.sequence !== r.sequence) problems.push(`receipt ${r.sequence}: sequence inside the body differs`);
    previous = r.hash;
    expected = r.sequence + 1;
  }
  return { ok: problems.length === 0, count, problems };
}
