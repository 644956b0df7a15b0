/**
 * Identity resolution: from a verified subject id to every identifier the operator holds for
 * that person (account ids, phone numbers, emails, SIP usernames, devices, IPs), so that stores
 * keyed by any of them can be searched.
 *
 * Each round runs the OWNER lookups of every dynamodb store that declares `yields`, for the
 * identifier values not queried before, and adds the `yields` attribute values of the items
 * found. It stops at the first round that adds nothing (a fixpoint). Each value is kept as
 * stored (an exact-match Query needs the stored form) and in its canonical form when that
 * differs (identifiers.ts: `(514) 555-0101` also as `+15145550101`, `Jean@Example.COM` also as
 * `jean@example.com`), so stores that write it the usual way are found too; log matching
 * normalizes both sides anyway. Counts are of distinct canonical values.
 *
 * Third-party lookups never feed the identity: another person's record that mentions the
 * subject must not make that person's identifiers the subject's.
 */
import type { Connector, ConnectorContext, ConnectorRegistry, Identity } from '../connectors/types';
import { IDENTIFIER_TYPES, type DataMap, type DynamoDbStore, type IdentifierType, type Store } from './datamap';
import { DataMapError, DsrError, InvalidInputError } from './errors';
import { normalize } from './identifiers';

/** Identity resolution did not converge within its bounds. No identifier values in the message. */
export class IdentityResolutionError extends DsrError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, details);
    this.name = 'IdentityResolutionError';
  }
}

export interface ResolveIdentityOptions {
  /** Query rounds allowed before giving up (a chain longer than this is a data problem). Default 10. */
  readonly maxRounds?: number;
  /** Identifier values allowed in all (a shared identifier can chain many accounts together). Default 1000. */
  readonly maxIdentifiers?: number;
}

export interface ResolvedIdentity {
  readonly identity: Identity;
  /** Rounds that ran queries. */
  readonly rounds: number;
  /** Whether an owner record matched the subject id itself. */
  readonly found: boolean;
  /** Values per identifier type (types without values omitted). */
  readonly counts: Partial<Record<IdentifierType, number>>;
}

/** A store identity resolution reads: a DynamoDB store that yields identifiers from its owner records. */
export function isIdentitySource(store: Store): store is DynamoDbStore {
  return store.kind === 'dynamodb' && Object.keys(store.yields).length > 0 && store.lookups.some((l) => l.role === 'owner');
}

export async function resolveIdentity(
  dataMap: DataMap,
  subjectId: string,
  /** The connectors: each source store's answers its owner lookups (`findOwnerRecords`). */
  connectors: ConnectorRegistry,
  ctx: Pick<ConnectorContext, 'dynamodb' | 'log'>,
  options: ResolveIdentityOptions = {},
): Promise<ResolvedIdentity> {
  if (typeof subjectId !== 'string' || subjectId.length === 0) throw new InvalidInputError('the subject id must be a non-empty string');
  const maxRounds = options.maxRounds ?? 10;
  const maxIdentifiers = options.maxIdentifiers ?? 1000;
  const sources = dataMap.stores.filter(isIdentitySource);
  const lookupOf = new Map(sources.map((store) => [store.name, ownerLookup(connectors(store) as Connector<DynamoDbStore>, store)]));

  const values = new Map<IdentifierType, Set<string>>([['subjectId', new Set([subjectId])]]);
  const queried = new Map<IdentifierType, Set<string>>();
  let rounds = 0;
  let found = false;

  for (;;) {
    // The values of each type no round has queried yet.
    const pending: Identity = {};
    for (const [type, set] of values) {
      const done = queried.get(type) ?? new Set<string>();
      const fresh = [...set].filter((v) => !done.has(v));
      if (fresh.length > 0) pending[type] = fresh;
    }
    const relevant = sources.filter((s) => s.lookups.some((l) => l.role === 'owner' && (pending[l.identifier]?.length ?? 0) > 0));
    if (relevant.length === 0) break;
    if (rounds >= maxRounds) {
      throw new IdentityResolutionError(`identity resolution did not reach a fixpoint within ${maxRounds} rounds`, { rounds, counts: countsOf(values, dataMap) });
    }
    rounds++;
    for (const [type, fresh] of Object.entries(pending) as Array<[IdentifierType, string[]]>) {
      const done = queried.get(type) ?? new Set<string>();
      for (const v of fresh) done.add(v);
      queried.set(type, done);
    }

    let added = 0;
    const perStore = await Promise.all(relevant.map(async (store) => ({ store, ...(await lookupOf.get(store.name)!(store, pending, ctx)) })));
    for (const { store, records, queries } of perStore) {
      let storeAdded = 0;
      for (const record of records) {
        if (record.matchedBy.includes('subjectId')) found = true;
        for (const [attribute, type] of Object.entries(store.yields)) {
          for (const value of record.yielded[attribute] ?? []) {
            if (value === '') continue;
            const set = values.get(type) ?? new Set<string>();
            values.set(type, set);
            for (const form of [value, normalize(type, value, dataMap.identifiers)]) {
              if (form === undefined || form === '' || set.has(form)) continue;
              set.add(form);
              storeAdded++;
            }
          }
        }
      }
      added += storeAdded;
      ctx.log('identity.round.store', { round: rounds, store: store.name, queries, items: records.length, added: storeAdded });
    }
    const total = Object.values(countsOf(values, dataMap)).reduce((n, c) => n + c, 0);
    ctx.log('identity.round', { round: rounds, stores: relevant.length, added, identifiers: total });
    if (total > maxIdentifiers) {
      throw new IdentityResolutionError(`identity resolution found more than ${maxIdentifiers} identifiers; a shared identifier probably links unrelated records`, {
        rounds,
        counts: countsOf(values, dataMap),
      });
    }
    if (added === 0) break;
  }

  const identity: Identity = {};
  for (const type of IDENTIFIER_TYPES) {
    const set = values.get(type);
    if (set && set.size > 0) identity[type] = [...set];
  }
  const counts = countsOf(values, dataMap);
  ctx.log('identity.resolved', { rounds, found, ...Object.fromEntries(Object.entries(counts).map(([t, n]) => [`count.${t}`, n])) });
  return { identity, rounds, found, counts };
}

/** A source store's owner lookup; a kind whose connector has none cannot yield identifiers. */
function ownerLookup(connector: Connector<DynamoDbStore>, store: DynamoDbStore): NonNullable<Connector<DynamoDbStore>['findOwnerRecords']> {
  const find = connector.findOwnerRecords?.bind(connector);
  if (!find) throw new DataMapError(`store ${store.name} declares yields, but its connector (${store.kind}) cannot look up owner records`, { store: store.name });
  return find;
}

/** Distinct values per type, a stored form and its canonical form counted once. */
function countsOf(values: ReadonlyMap<IdentifierType, ReadonlySet<string>>, dataMap: DataMap): Partial<Record<IdentifierType, number>> {
  const counts: Partial<Record<IdentifierType, number>> = {};
  for (const type of IDENTIFIER_TYPES) {
    const n = new Set([...(values.get(type) ?? [])].map((v) => normalize(type, v, dataMap.identifiers) ?? v)).size;
    if (n > 0) counts[type] = n;
  }
  return counts;
}
