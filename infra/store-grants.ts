/**
 * The grants a set of operations needs on the data map's stores: each store's needs, by kind,
 * merged into as few IAM statements as their actions allow. Pure data, no CDK: infra/policies.ts
 * turns the grants into statements.
 */
import type { DataMap, Store } from '../functions/core/datamap';
import { dynamoNeeds } from './dynamodb-needs';
import { s3ObjectsNeeds, s3RecordsNeeds } from './s3-needs';
import type { StoreNeed, StoreOperation, StoreResource } from './store-needs';

/** One IAM statement's worth: these actions on these resources (bucket-level list actions limited to `prefixes`). */
export interface StoreGrant {
  readonly actions: readonly string[];
  readonly resources: readonly StoreResource[];
  /** `s3:prefix` patterns (StringLike) a list action is limited to; absent = the whole bucket. */
  readonly prefixes?: readonly string[];
  /** The data map stores the grant serves. */
  readonly stores: readonly string[];
}

/** The grants `operations` need on the stores of `dataMap`, merged into as few statements as their actions allow. */
export function storeGrants(dataMap: DataMap, operations: readonly StoreOperation[]): StoreGrant[] {
  const consentStores = new Set(Object.values(dataMap.purposes).flatMap((p) => p.consentAt.map((c) => c.store)));
  // Consent is set only in the stores a purpose names; every other operation reads the whole map.
  const needs = operations.flatMap((operation) => dataMap.stores.filter((s) => operation !== 'consent' || consentStores.has(s.name)).flatMap((store) => storeNeeds(store, operation)));
  return merge(needs);
}

function storeNeeds(store: Store, operation: StoreOperation): StoreNeed[] {
  switch (store.kind) {
    case 'dynamodb':
      return dynamoNeeds(store, operation);
    case 's3-objects':
      return s3ObjectsNeeds(store, operation);
    case 's3-records':
      return s3RecordsNeeds(store, operation);
  }
}

function resourceKey(r: StoreResource): string {
  return JSON.stringify(r);
}

/**
 * Merges needs into statements: object and table needs with the same action set share one
 * statement; list needs are per bucket with the union of their prefixes (a bucket-wide need
 * drops the condition for that bucket).
 */
function merge(needs: readonly StoreNeed[]): StoreGrant[] {
  // Per resource: the union of actions, and (for buckets) the prefixes.
  const perResource = new Map<string, { resource: StoreResource; actions: Set<string>; prefixes: Set<string> | null; stores: Set<string> }>();
  for (const need of needs) {
    const key = resourceKey(need.resource);
    let entry = perResource.get(key);
    if (!entry) {
      entry = { resource: need.resource, actions: new Set(), prefixes: new Set(), stores: new Set() };
      perResource.set(key, entry);
    }
    need.actions.forEach((a) => entry.actions.add(a));
    entry.stores.add(need.store);
    if (need.resource.type === 'bucket') {
      if (need.prefix === undefined) entry.prefixes = null;
      else entry.prefixes?.add(need.prefix);
    }
  }
  const grants = new Map<string, { actions: string[]; resources: StoreResource[]; prefixes?: string[]; stores: Set<string> }>();
  for (const entry of perResource.values()) {
    const actions = [...entry.actions].sort();
    const prefixes = entry.resource.type === 'bucket' && entry.prefixes ? [...entry.prefixes].sort() : undefined;
    // Buckets keep one statement each (their condition is theirs); the rest group by action set.
    const key = entry.resource.type === 'bucket' ? `bucket:${resourceKey(entry.resource)}` : `actions:${actions.join(',')}`;
    let grant = grants.get(key);
    if (!grant) {
      grant = { actions, resources: [], ...(prefixes ? { prefixes } : {}), stores: new Set() };
      grants.set(key, grant);
    }
    grant.resources.push(entry.resource);
    entry.stores.forEach((s) => grant.stores.add(s));
  }
  return [...grants.values()].map((g) => ({ actions: g.actions, resources: g.resources, ...(g.prefixes ? { prefixes: g.prefixes } : {}), stores: [...g.stores].sort() }));
}

/** Whether any action writes (the resource's KMS key then needs encrypt as well as decrypt). */
export function writes(actions: readonly string[]): boolean {
  return actions.some((a) => /^(dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)|s3:(PutObject|DeleteObjectVersion|AbortMultipartUpload))$/.test(a));
}
