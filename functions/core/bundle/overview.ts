/**
 * The overview of what the operator holds about the subject: per store its category, how many
 * records and files, the dates they cover, what is missing, and per category how long it is
 * kept and why. The access report is this overview; a bundle's index.html shows it too.
 * No personal value appears in it: counts, dates, store names, finding-id prefixes.
 */
import type { ExportedStore } from '../request-data';
import type { Store } from '../datamap';
import { countDecisions, type StorePlan } from '../plan';
import type { Duration, RetentionRule } from '../retention';

export interface MissingItem {
  /** The first 12 hex digits of the finding id: enough to find it in the plan, nothing personal. */
  readonly ref: string;
  readonly reason: string;
}

export interface StoreOverview {
  readonly store: string;
  readonly category: string;
  readonly kind: Store['kind'];
  readonly description: string | null;
  readonly records: number;
  readonly ownRecords: number;
  readonly aboutYouInOthersRecords: number;
  readonly files: number;
  readonly bytes: number;
  readonly missing: MissingItem[];
  readonly maskedValues?: number;
  readonly datesCovered: { from: string; to: string } | null;
  readonly retention: { keep: string | null; basis: string; source: string | null };
  readonly decisions: Record<string, number>;
  /** Where the store's files are in a bundle (relative to data/). */
  readonly paths?: Record<string, string>;
}

export interface CategoryOverview {
  readonly category: string;
  readonly stores: string[];
  readonly records: number;
  readonly files: number;
  readonly keep: string | null;
  readonly basis: string;
  readonly source: string | null;
}

export interface Overview {
  readonly requestId: string;
  readonly type: 'access' | 'portability';
  readonly generatedAt: string;
  readonly planHash: string;
  readonly operator: string | null;
  /** True when no store holds anything about the subject. */
  readonly empty: boolean;
  readonly totals: { records: number; files: number; bytes: number; missing: number; stores: number };
  /** Stores whose export failed: their data is not in the bundle (the request is marked failed). */
  readonly failedStores: string[];
  readonly categories: CategoryOverview[];
  readonly stores: StoreOverview[];
}

export function durationText(d: Duration | undefined): string | null {
  if (!d) return null;
  const parts: string[] = [];
  const unit = (n: number | undefined, one: string) => {
    if (n) parts.push(`${n} ${one}${n === 1 ? '' : 's'}`);
  };
  unit(d.years, 'year');
  unit(d.months, 'month');
  unit(d.days, 'day');
  return parts.join(', ');
}

/** Earliest and latest value of the store's date field, when it has one. */
export function datesCovered(store: Store, records: ExportedStore['records']): { from: string; to: string } | null {
  if (!store.dateField) return null;
  let from: { t: number; s: string } | undefined;
  let to: { t: number; s: string } | undefined;
  for (const r of records) {
    const v = r.record[store.dateField];
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const t = new Date(v).getTime();
    if (Number.isNaN(t)) continue;
    if (!from || t < from.t) from = { t, s: String(v) };
    if (!to || t > to.t) to = { t, s: String(v) };
  }
  return from && to ? { from: from.s, to: to.s } : null;
}

export function storeOverview(args: {
  store: Store;
  exported: ExportedStore | undefined;
  slice: StorePlan | undefined;
  rule: Omit<RetentionRule, 'category'>;
  /** Items that were exported but could not be put into the bundle. */
  extraMissing?: readonly MissingItem[];
  /** The files actually in the bundle, when some of the exported ones could not be. */
  filesWritten?: ReadonlyArray<{ size: number }>;
  maskedValues?: number;
  paths?: Record<string, string>;
}): StoreOverview {
  const { store, exported } = args;
  const records = exported?.records ?? [];
  const files = args.filesWritten ?? exported?.files ?? [];
  const own = records.filter((r) => r.role === 'owner').length;
  return {
    store: store.name,
    category: store.category,
    kind: store.kind,
    description: store.description ?? null,
    records: records.length,
    ownRecords: own,
    aboutYouInOthersRecords: records.length - own,
    files: files.length,
    bytes: files.reduce((n, f) => n + f.size, 0),
    missing: [...(exported?.missing ?? []).map((m) => ({ ref: m.findingId.slice(0, 12), reason: m.reason })), ...(args.extraMissing ?? [])],
    ...(args.maskedValues !== undefined ? { maskedValues: args.maskedValues } : {}),
    datesCovered: datesCovered(store, records),
    retention: { keep: durationText(args.rule.keep), basis: args.rule.basis, source: args.rule.source ?? null },
    decisions: (args.slice ? countDecisions(args.slice.entries) : {}) as Record<string, number>,
    ...(args.paths ? { paths: args.paths } : {}),
  };
}

export function overviewOf(args: {
  requestId: string;
  type: 'access' | 'portability';
  generatedAt: string;
  planHash: string;
  operator: string | null;
  stores: StoreOverview[];
  failedStores: string[];
}): Overview {
  const categories = new Map<string, CategoryOverview & { stores: string[] }>();
  for (const s of args.stores) {
    const c = categories.get(s.category);
    if (c) {
      categories.set(s.category, { ...c, stores: [...c.stores, s.store], records: c.records + s.records, files: c.files + s.files });
    } else {
      categories.set(s.category, { category: s.category, stores: [s.store], records: s.records, files: s.files, keep: s.retention.keep, basis: s.retention.basis, source: s.retention.source });
    }
  }
  const totals = {
    records: args.stores.reduce((n, s) => n + s.records, 0),
    files: args.stores.reduce((n, s) => n + s.files, 0),
    bytes: args.stores.reduce((n, s) => n + s.bytes, 0),
    missing: args.stores.reduce((n, s) => n + s.missing.length, 0),
    stores: args.stores.filter((s) => s.records + s.files > 0).length,
  };
  return {
    requestId: args.requestId,
    type: args.type,
    generatedAt: args.generatedAt,
    planHash: args.planHash,
    operator: args.operator,
    empty: totals.records + totals.files === 0,
    totals,
    failedStores: args.failedStores,
    categories: [...categories.values()],
    stores: args.stores,
  };
}
