/**
 * Discovery: the subject's items as findings (owner or third-party, dated where the store has a
 * date field, marked when restricted), logged by counts only.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDbStore } from '../core/datamap';
import { findingId } from '../core/hash';
import { findItems, type MatchedItem, type Role } from './dynamodb-find';
import type { DynamoDbConnectorOptions } from './dynamodb-options';
import { RESTRICTION_MARKER } from './dynamodb-restriction';
import type { ConnectorContext, DynamoLocator, Finding, Identity } from './types';

export async function discoverFindings(store: DynamoDbStore, identity: Identity, ctx: ConnectorContext, options: DynamoDbConnectorOptions): Promise<Finding[]> {
  const { items, stats } = await findItems(store, identity, ctx, options);
  const findings = items.map((m) => toFinding(store, m));
  ctx.log('dynamodb.discover', {
    store: store.name,
    ...stats,
    findings: findings.length,
    owner: findings.filter((f) => f.role === 'owner').length,
    thirdParty: findings.filter((f) => f.role === 'third-party').length,
    restricted: findings.filter((f) => f.restricted).length,
  });
  return findings;
}

function dateOf(av: AttributeValue | undefined): string | undefined {
  if (!av) return undefined;
  let time: number | undefined;
  if (av.S !== undefined) time = Date.parse(av.S);
  else if (av.N !== undefined) {
    const n = Number(av.N);
    // Epoch seconds (what DynamoDB TTL uses) or milliseconds: seconds until the year 5138.
    time = Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  if (time === undefined || !Number.isFinite(time)) return undefined;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function toFinding(store: DynamoDbStore, m: MatchedItem): Finding {
  const role: Role = m.matched.some((p) => store.lookups[p].role === 'owner') ? 'owner' : 'third-party';
  const locator: DynamoLocator = { type: 'dynamodb', table: store.table, key: m.key };
  const date = store.dateField ? dateOf(m.item[store.dateField]) : undefined;
  return {
    id: findingId(store.name, locator),
    store: store.name,
    role,
    locator,
    ...(date ? { date } : {}),
    fields: [...new Set(m.matched.map((p) => store.lookups[p].attribute))],
    ...(m.item[RESTRICTION_MARKER] !== undefined ? { restricted: true } : {}),
  };
}
