/**
 * Export: each finding's item read again and exported whole while it is still the subject's
 * own, otherwise reduced to what is about the subject; an item gone or no longer matching is
 * reported missing.
 */
import { batchGetItems } from '../aws/dynamodb-batch';
import type { DynamoDbStore } from '../core/datamap';
import { matchingLookups } from './dynamodb-find';
import { subjectValuesFor } from './dynamodb-forms';
import type { ResolvedOptions } from './dynamodb-options';
import { batchTarget } from './dynamodb-requests';
import { RESTRICTION_MARKER } from './dynamodb-restriction';
import { describeTable, planLookups } from './dynamodb-table';
import { identifierStrings, itemToPlain, keyString, toPlain, type Item } from './dynamodb-values';
import { checkFinding, locatorKey } from './dynamodb-verify';
import type { ConnectorContext, ExportItem, Finding, Identity } from './types';

export async function* exportItems(store: DynamoDbStore, identity: Identity, findings: readonly Finding[], ctx: ConnectorContext, opts: ResolvedOptions): AsyncIterable<ExportItem> {
  const info = await describeTable(ctx.dynamodb, store);
  planLookups(store, info, new Set());
  for (const f of findings) checkFinding(store, info, f);
  const got = await batchGetItems(batchTarget(ctx.dynamodb, store, info), findings.map(locatorKey), opts.backoff);
  const all = store.lookups.map((_l, i) => i);
  let records = 0;
  let gone = 0;
  for (const f of findings) {
    const item = got.get(keyString(locatorKey(f)));
    const matched = item ? matchingLookups(store, identity, item, all) : [];
    if (!item || matched.length === 0) {
      gone++;
      yield { type: 'missing', findingId: f.id, reason: item ? 'no-longer-matches' : 'not-found' };
      continue;
    }
    records++;
    // An item exported whole must still be the subject's own; otherwise only what is about them.
    if (f.role === 'owner' && matched.some((p) => store.lookups[p].role === 'owner')) {
      yield { type: 'record', findingId: f.id, role: 'owner', record: itemToPlain(item, new Set([RESTRICTION_MARKER])) };
    } else {
      yield { type: 'record', findingId: f.id, role: 'third-party', record: thirdPartyRecord(store, identity, item, matched) };
    }
  }
  ctx.log('dynamodb.export', { store: store.name, records, missing: gone });
}

/**
 * Someone else's item reduced to what the subject may see: `thirdParty.exportFields` (never a
 * key, lookup or yields attribute, even if listed: those hold the other person's identifiers)
 * and, in each matched attribute, only the subject's own values.
 */
function thirdPartyRecord(store: DynamoDbStore, identity: Identity, item: Item, matched: readonly number[]): Record<string, unknown> {
  const identifying = new Set([
    store.key.partitionKey,
    ...(store.key.sortKey ? [store.key.sortKey] : []),
    ...store.lookups.map((l) => l.attribute),
    ...Object.keys(store.yields),
    RESTRICTION_MARKER,
  ]);
  const record: Record<string, unknown> = {};
  for (const field of store.thirdParty?.exportFields ?? []) {
    if (!identifying.has(field) && item[field] !== undefined) record[field] = toPlain(item[field]);
  }
  for (const position of matched) {
    const attribute = store.lookups[position].attribute;
    const mine = subjectValuesFor(store, identity, attribute);
    const av = item[attribute];
    if (av === undefined) continue;
    if (av.S !== undefined || av.N !== undefined) record[attribute] = toPlain(av);
    else record[attribute] = identifierStrings(av).filter((v) => mine.has(v)).sort();
  }
  return record;
}
