/**
 * Receipts: per request (and per sweep) what was decided and done, with no personal value,
 * each chained to the previous one by its SHA-256 so a removed or altered receipt shows.
 *
 * Ledger items: `receipt` / `<sequence>` holds the canonical JSON body and its hash;
 * `receipt` / `head` the last sequence and hash (the conditional update that appends);
 * `receipt` / `request#<id>` (`sweep#<id>`) points a request (a sweep) at its receipt, which
 * makes a rewrite idempotent; `receipt` / `request#<id>#change#<changeId>` points at the receipt
 * of a later change to the request (approved, rejected, restriction lifted): who (as a hash),
 * when, what, in counts. The pointers live in the receipt partition so that auditors, whose
 * policy reads that partition only (request items hold the subject id), can find a request's
 * receipts. Ledgers written before kept the request pointer at `request#<id>` / `receipt`:
 * still honoured.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { canonicalJson, sha256Hex } from './hash';
import { InvalidInputError, ReceiptChainBusyError } from './errors';
import { requestPk } from './ledger';
import { queryPartition } from './ledger-partition';
import type { Runtime } from './runtime';

export const GENESIS_HASH = '0'.repeat(64);

export interface ReceiptBody {
  readonly receiptVersion: 1;
  /** `retention`: one retention-enforcement run (functions/core/enforcement-*.ts). */
  readonly kind: 'request' | 'sweep' | 'change' | 'retention';
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
  const pointerKey = receiptPointerKey(body);
  for (let attempt = 0; attempt < 20; attempt++) {
    const existing = (await readPointer(doc, rt.ledger.table, pointerKey)) ?? (await readPointer(doc, rt.ledger.table, legacyPointerKey(body.kind, body.id)));
    if (existing) return getReceipt(rt, existing.sequence as number) as Promise<StoredReceipt>;
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
  throw new ReceiptChainBusyError('could not append the receipt: the chain head kept changing', { kind: body.kind, attempts: 20 });
}

/** Where a receipt's pointer is: in the receipt partition, after `head` and the sequences. */
export function receiptPointerKey(body: Pick<ReceiptBody, 'kind' | 'id'> & { readonly requestId?: unknown }): { pk: string; sk: string } {
  if (body.kind === 'change') {
    if (typeof body.requestId !== 'string') throw new InvalidInputError(`change receipt ${body.id} names no request`, { id: body.id });
    return { pk: RECEIPT_PK, sk: `${changePrefix(body.requestId)}${body.id}` };
  }
  return { pk: RECEIPT_PK, sk: body.kind === 'request' ? requestPk(body.id) : `${body.kind}#${body.id}` };
}

/** Request ids have no `#`, so this prefix is exactly one request's changes. */
function changePrefix(requestId: string): string {
  return `${requestPk(requestId)}#change#`;
}

function legacyPointerKey(kind: ReceiptBody['kind'], id: string): { pk: string; sk: string } | undefined {
  // Change receipts came after the pointers moved: they have no older place.
  if (kind === 'change' || kind === 'retention') return undefined;
  return { pk: kind === 'request' ? requestPk(id) : `sweep#${id}`, sk: 'receipt' };
}

const RECEIPT_PK = 'receipt';

async function readPointer(doc: DynamoDBDocumentClient, table: string, key: { pk: string; sk: string } | undefined): Promise<Record<string, unknown> | undefined> {
  if (!key) return undefined;
  return (await doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}

/** The change id of a lift: who asked is in the ledger under it (`dsr lift-restriction --by`). */
export const LIFTED = 'restriction-lifted';

/** What a change's receipt says of who made it: a hash, bound to the request and the change. */
export function actorHash(requestId: string, changeId: string, by: string): string {
  return sha256Hex(canonicalJson({ requestId, changeId, by }));
}

/** The receipts of the changes made to a request after it ran, in chain order. */
export async function changeReceipts(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, requestId: string): Promise<StoredReceipt[]> {
  const found: StoredReceipt[] = [];
  for await (const p of queryPartition(rt, RECEIPT_PK, { sortKeyPrefix: changePrefix(requestId) })) {
    const r = await getReceipt(rt, p.sequence as number);
    if (r) found.push(r);
  }
  return found.sort((a, b) => a.sequence - b.sequence);
}

export async function getReceipt(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, sequence: number): Promise<StoredReceipt | undefined> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const out = await doc.send(new GetCommand({ TableName: rt.ledger.table, Key: { pk: 'receipt', sk: seqKey(sequence) }, ConsistentRead: true }));
  return out.Item as StoredReceipt | undefined;
}

/** `legacyPointers: false` for a caller that may not read request items (an auditor): no call it would be denied. */
export async function receiptForRequest(rt: Pick<Runtime, 'dynamodb' | 'ledger'>, requestId: string, opts: { legacyPointers?: boolean } = {}): Promise<StoredReceipt | undefined> {
  const doc = DynamoDBDocumentClient.from(rt.dynamodb);
  const pointer = (await readPointer(doc, rt.ledger.table, receiptPointerKey({ kind: 'request', id: requestId }))) ?? (opts.legacyPointers === false ? undefined : await legacyPointer(doc, rt.ledger.table, requestId));
  return pointer ? getReceipt(rt, pointer.sequence as number) : undefined;
}

/**
 * A receipt written before the pointer moved into the receipt partition. An auditor may not
 * read request items (they hold the subject id): to an auditor such a receipt has no pointer,
 * and `dsr receipt verify` still shows it in the chain.
 */
async function legacyPointer(doc: DynamoDBDocumentClient, table: string, requestId: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await readPointer(doc, table, legacyPointerKey('request', requestId));
  } catch (err) {
    if ((err as { name?: string }).name === 'AccessDeniedException') return undefined;
    throw err;
  }
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
