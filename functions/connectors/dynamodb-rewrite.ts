/**
 * Anonymizing and redacting fields of an item in place: which fields change and to what, and
 * the conditional update that writes only those, never recreating a vanished item nor
 * overwriting a concurrent change.
 */
import { GetItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Anonymizer } from '../core/anonymize';
import type { Anonymization, DynamoDbStore } from '../core/datamap';
import { ConcurrentModificationError, DataMapError } from '../core/errors';
import { matchingLookups } from './dynamodb-find';
import { subjectValuesFor, type SubjectValues } from './dynamodb-forms';
import { conditionalUpdate, guard } from './dynamodb-requests';
import type { TableInfo } from './dynamodb-table';
import { replacementValue, toPlain, type Item } from './dynamodb-values';
import { locatorKey } from './dynamodb-verify';
import type { Finding, Identity } from './types';

/** Field → new value (`undefined`: remove it), for the fields an update changes. */
type Changes = Map<string, AttributeValue | undefined>;
type ComputeChanges = (item: Item) => Changes;

export function anonymizeChanges(store: DynamoDbStore, info: TableInfo, anonymizer: Anonymizer): ComputeChanges {
  const fields = store.erase.mode === 'anonymize' ? store.erase.fields : {};
  refuseKeyFields(store, info, Object.keys(fields));
  return (item) => {
    const changes: Changes = new Map();
    for (const [field, strategy] of Object.entries(fields)) {
      if (item[field] === undefined) continue;
      const next = anonymizeValue(strategy, item[field], anonymizer);
      if (!sameValue(next, item[field])) changes.set(field, next);
    }
    return changes;
  };
}

/**
 * redact-mentions: a redact field that is a lookup attribute (an identifier) is changed only
 * where it holds the subject's value (in a list or set: only those elements), so the other
 * person's own values stay. A redact field that is not an identifier (the name on a contact
 * card) describes the person the record mentions: it is redacted when the record still
 * mentions the subject through a third-party lookup, and left alone otherwise.
 */
export function redactChanges(store: DynamoDbStore, info: TableInfo, identity: Identity, anonymizer: Anonymizer): ComputeChanges {
  const fields = store.thirdParty?.redact ?? {};
  refuseKeyFields(store, info, Object.keys(fields));
  const lookupAttributes = new Set(store.lookups.map((l) => l.attribute));
  const thirdParty = store.lookups.map((l, i) => (l.role === 'third-party' ? i : -1)).filter((i) => i >= 0);
  return (item) => {
    const changes: Changes = new Map();
    const mentions = matchingLookups(store, identity, item, thirdParty).length > 0;
    for (const [field, strategy] of Object.entries(fields)) {
      if (item[field] === undefined) continue;
      let next: AttributeValue | undefined;
      if (lookupAttributes.has(field)) next = anonymizeValue(strategy, item[field], anonymizer, subjectValuesFor(store, identity, field));
      else if (mentions) next = anonymizeValue(strategy, item[field], anonymizer);
      else continue;
      if (!sameValue(next, item[field])) changes.set(field, next);
    }
    return changes;
  };
}

function refuseKeyFields(store: DynamoDbStore, info: TableInfo, fields: readonly string[]): void {
  for (const field of fields) {
    if (field === info.partitionKey || field === info.sortKey) {
      throw new DataMapError(`store ${store.name}: ${field} is part of the primary key and cannot be anonymized in place; use erase mode "delete"`, { store: store.name });
    }
  }
}

/**
 * The anonymized form of one attribute. With `only`, just the strings in `only` change (a
 * string equal to one, or those elements of a list or set); without, the whole value.
 */
function anonymizeValue(strategy: Anonymization, av: AttributeValue, anonymizer: Anonymizer, only?: SubjectValues): AttributeValue | undefined {
  const one = (value: unknown): AttributeValue | undefined => replacementValue(anonymizer.apply(strategy, value));
  const hit = (text: string): boolean => !only || only.has(text);
  if (av.S !== undefined) return hit(av.S) ? one(av.S) : av;
  if (av.N !== undefined) return hit(av.N) ? one(toPlain(av)) : av;
  if (av.SS !== undefined) {
    const next = new Set<string>();
    for (const s of av.SS) {
      if (!hit(s)) next.add(s);
      else {
        const r = one(s);
        if (r !== undefined) next.add(r.S ?? r.N ?? JSON.stringify(toPlain(r)));
      }
    }
    return next.size > 0 ? { SS: [...next] } : undefined;
  }
  if (av.L !== undefined) {
    if (only) return { L: av.L.map((e) => (e.S !== undefined && only.has(e.S) ? (one(e.S) ?? { NULL: true }) : e)) };
    if (strategy.strategy === 'null') return undefined;
    return { L: av.L.map((e) => one(toPlain(e)) ?? { NULL: true }) };
  }
  return only ? av : one(toPlain(av));
}

function sameValue(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(toPlain(a)) === JSON.stringify(toPlain(b)) && Object.keys(a)[0] === Object.keys(b)[0];
}

/**
 * Reads (or takes the pre-read item), computes the changes, and writes them with a condition
 * that the item exists and the changed fields still hold what was read: a vanished item is
 * reported missing, never recreated; an item changed meanwhile is read again.
 */
export async function rewriteItem(
  store: DynamoDbStore,
  info: TableInfo,
  client: DynamoDBClient,
  finding: Finding,
  preRead: Item | undefined,
  compute: ComputeChanges,
  attempts: number,
): Promise<'applied' | 'missing'> {
  const key = locatorKey(finding);
  let item = preRead;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      const out = await guard(store, 'GetItem', () => client.send(new GetItemCommand({ TableName: store.table, Key: key, ConsistentRead: true })));
      item = out.Item;
    }
    if (!item) return 'missing';
    const current = item;
    const changes = compute(current);
    if (changes.size === 0) return 'applied';
    const names: Record<string, string> = { '#pk': info.partitionKey };
    const values: Record<string, AttributeValue> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    const conditions = ['attribute_exists(#pk)'];
    [...changes].forEach(([field, next], i) => {
      names[`#f${i}`] = field;
      values[`:o${i}`] = current[field];
      conditions.push(`#f${i} = :o${i}`);
      if (next === undefined) removes.push(`#f${i}`);
      else {
        values[`:n${i}`] = next;
        sets.push(`#f${i} = :n${i}`);
      }
    });
    const update = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
    const ok = await conditionalUpdate(store, client, {
      TableName: store.table,
      Key: key,
      UpdateExpression: update,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    if (ok) return 'applied';
  }
  throw new ConcurrentModificationError(`store ${store.name}: finding ${finding.id} kept changing during the update (${attempts} attempts)`, {
    store: store.name,
    findingId: finding.id,
  });
}
