/**
 * Applying a plan's actions to a store's items: deletes in batches, anonymize and
 * redact-mentions as conditional rewrites of the items read just before, restrict and
 * unrestrict as the marker. Every finding is checked first; counts go to the log.
 */
import { batchDeleteItems, batchGetItems, type BatchStats } from '../aws/dynamodb-batch';
import type { DynamoDbStore } from '../core/datamap';
import { InvalidInputError } from '../core/errors';
import { mapLimit } from '../core/map-limit';
import type { ResolvedOptions } from './dynamodb-options';
import { batchTarget } from './dynamodb-requests';
import { setMarker } from './dynamodb-restriction';
import { anonymizeChanges, redactChanges, rewriteItem } from './dynamodb-rewrite';
import { describeTable, planLookups, type TableInfo } from './dynamodb-table';
import { keyString } from './dynamodb-values';
import { checkFinding, locatorKey } from './dynamodb-verify';
import { groupByAction } from './planned-actions';
import type { Action, ApplyResult, ConnectorContext, Finding, Identity, PlannedAction } from './types';

export async function applyActions(store: DynamoDbStore, identity: Identity, actions: readonly PlannedAction[], ctx: ConnectorContext, opts: ResolvedOptions): Promise<ApplyResult> {
  const info = await describeTable(ctx.dynamodb, store);
  planLookups(store, info, new Set());
  const target = batchTarget(ctx.dynamodb, store, info);
  const byAction = groupActions(store, info, actions);
  const applied: Partial<Record<Action, number>> = {};
  const missing: string[] = [];
  const count = (action: Action, n: number): void => {
    if (n > 0) applied[action] = (applied[action] ?? 0) + n;
  };

  count('keep', byAction.keep.length);

  const batch: BatchStats = { requests: 0, retries: 0 };
  if (byAction.delete.length > 0) {
    await batchDeleteItems(target, byAction.delete.map((f) => locatorKey(f)), opts.backoff, batch);
    count('delete', byAction.delete.length);
  }

  for (const action of ['anonymize', 'redact-mentions'] as const) {
    const findings = byAction[action];
    if (findings.length === 0) continue;
    const compute = action === 'anonymize' ? anonymizeChanges(store, info, ctx.anonymizer) : redactChanges(store, info, identity, ctx.anonymizer);
    const before = await batchGetItems(target, findings.map(locatorKey), opts.backoff, batch);
    const outcomes = await mapLimit(findings, opts.concurrency, (f) =>
      rewriteItem(store, info, ctx.dynamodb, f, before.get(keyString(locatorKey(f))), compute, opts.conditionalAttempts),
    );
    findings.forEach((f, i) => {
      if (outcomes[i] === 'missing') missing.push(f.id);
    });
    count(action, outcomes.filter((o) => o === 'applied').length);
  }

  for (const action of ['restrict', 'unrestrict'] as const) {
    const findings = byAction[action];
    const outcomes = await mapLimit(findings, opts.concurrency, (f) => setMarker(store, info, ctx, f, action === 'restrict'));
    findings.forEach((f, i) => {
      if (outcomes[i] === 'missing') missing.push(f.id);
    });
    count(action, outcomes.filter((o) => o === 'applied').length);
  }

  const result: ApplyResult = { applied, refused: [], missing };
  ctx.log('dynamodb.apply', {
    store: store.name,
    ...Object.fromEntries(Object.entries(applied).map(([a, n]) => [`applied.${a}`, n])),
    missing: missing.length,
    batchRequests: batch.requests,
    batchRetries: batch.retries,
  });
  return result;
}

function groupActions(store: DynamoDbStore, info: TableInfo, actions: readonly PlannedAction[]): Record<Action, Finding[]> {
  const groups = groupByAction(store.name, actions, ({ finding }) => checkFinding(store, info, finding));
  if (groups.anonymize.length > 0 && store.erase.mode !== 'anonymize') {
    throw new InvalidInputError(`store ${store.name}: anonymize needs erase.mode "anonymize" with the fields to anonymize`, { store: store.name });
  }
  if (groups['redact-mentions'].length > 0 && !store.thirdParty) {
    throw new InvalidInputError(`store ${store.name}: redact-mentions needs a thirdParty.redact section`, { store: store.name });
  }
  return groups;
}
