/**
 * Discovery (and export) of a big log store for an access, portability or restriction request,
 * fanned out: DiscoverStore only lists the store's object versions into work units
 * (log-pass-units.ts, the packing the erasure pass uses) and writes the store's manifest;
 * BeginLogScan joins the stores' manifests into the one a top-level Distributed Map reads; each
 * child scans one unit for the subject (`discoverMany`, K = 1) and keeps the unit's findings in
 * the work bucket; CollectLogFindings joins them, in unit order, into the store's findings
 * document, so ApplyRetention and RestrictStore read exactly what a single DiscoverStore would
 * have written. For access and portability the child also exports its unit's records (the
 * connector's `export` over the unit's findings: only the unit's objects that hold them are
 * read again), so no single Lambda reads the subject's records of the whole store; ExportStore
 * joins the units' exports in the same order (`fannedOutExport`).
 *
 * Everything lives under the request's prefix and the execution's name: a unit whose findings
 * exist is not scanned again when its Map is retried (a failed unit, a timeout), while a later
 * execution of the request lists and scans afresh. State and manifest lines carry unit ids,
 * store names and sizes only; keys and findings stay in the bucket.
 */
import type { ExportItem, Finding } from '../connectors/types';
import { isBatchConnector } from '../connectors/types';
import { DataMapError, RequestStateError } from './errors';
import { EXPORTING_TYPES } from './log-pass-route';
import { packUnits, type ManifestLine, type WorkUnit } from './log-pass-units';
import { mapLimit } from './map-limit';
import { docKeys, loadIdentity, storeNamed, type ExportedStore } from './request-data';
import type { Runtime } from './runtime';
import { Workspace } from './workspace';

/** Unit exports ExportStore reads at once. */
const PART_READS = 8;

/** The work-bucket layout of one execution's fan-out (the machine role reads the manifest and writes the Map Run's results). */
export const scanKeys = {
  root: (requestId: string, execution: string) => Workspace.key(requestId, `log-scan/${execution}/`),
  manifest: (requestId: string, execution: string) => `${scanKeys.root(requestId, execution)}manifest.jsonl`,
  storeManifest: (requestId: string, execution: string, store: string) => `${scanKeys.root(requestId, execution)}stores/${store}.jsonl`,
  unit: (requestId: string, execution: string, unit: string) => `${scanKeys.root(requestId, execution)}units/${unit}.json`,
  result: (requestId: string, execution: string, unit: string) => `${scanKeys.root(requestId, execution)}findings/${unit}.json`,
  exported: (requestId: string, execution: string, unit: string) => `${scanKeys.root(requestId, execution)}export/${unit}.json`,
  mapRun: (requestId: string, execution: string) => `${scanKeys.root(requestId, execution)}map-run`,
};

/** Unit ids name their store, so one manifest serves every store of the request: `<store>.<000001>`. */
export const UNIT_ID = /^[a-z][a-z0-9-]{0,62}\.[0-9]{6,}$/;

/** What DiscoverStore returns for a fanned-out store: its sizes, no findings yet (`fannedOut: 1` marks it for the collect step). */
export interface ListedStoreCounts {
  readonly fannedOut: 1;
  readonly units: number;
  readonly keys: number;
  readonly versions: number;
  readonly storedBytes: number;
}

/** DiscoverStore's part: the store's units and its manifest (JSON Lines, one line per unit). */
export async function listStoreUnits(rt: Runtime, args: { requestId: string; execution: string; store: string }): Promise<ListedStoreCounts> {
  const store = storeNamed(rt, args.store);
  const connector = rt.connectors(store);
  if (!isBatchConnector(connector)) throw new DataMapError(`store ${store.name} (${store.kind}) cannot be discovered in work units`);
  const lines: ManifestLine[] = [];
  let seq = 0;
  const totals = await packUnits(store, connector.listKeys(store, rt.connectorContext()), rt.config.settings.logPass, () => `${store.name}.${String(++seq).padStart(6, '0')}`, async (unit: WorkUnit, line) => {
    await rt.workspace.putJson(scanKeys.unit(args.requestId, args.execution, unit.unit), unit);
    lines.push(line);
  });
  await rt.workspace.putText(scanKeys.storeManifest(args.requestId, args.execution, store.name), jsonLines(lines), 'application/jsonl');
  // No unit at all (an empty store): the findings are known now.
  if (totals.units === 0) await rt.workspace.putJson(docKeys.findings(args.requestId, store.name), []);
  return { fannedOut: 1, ...totals };
}

function jsonLines(lines: readonly unknown[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : '');
}

async function manifestLines(rt: Runtime, key: string): Promise<ManifestLine[]> {
  const text = await rt.workspace.getText(key);
  if (text === undefined) throw new RequestStateError(`the log scan has no manifest at ${key}`, {});
  return parseLines(text);
}

const parseLines = (text: string): ManifestLine[] =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ManifestLine);

/** One store's entry of the discovery the state carries (store, status, counts). */
export interface DiscoveredStore {
  readonly store: string;
  readonly status: string;
  readonly counts?: Record<string, number>;
  readonly error?: string;
}

const fannedOut = (discovery: readonly DiscoveredStore[]) => discovery.filter((d) => d.status === 'ok' && d.counts?.fannedOut === 1 && (d.counts.units ?? 0) > 0);

export interface ScanStart {
  readonly bucket: string;
  readonly manifestKey: string;
  readonly resultsPrefix: string;
  readonly stores: number;
  readonly units: number;
  readonly maxConcurrency: number;
}

/** BeginLogScan: the stores' manifests joined into the one the Distributed Map reads. */
export async function beginLogScan(rt: Runtime, args: { requestId: string; execution: string; discovery: readonly DiscoveredStore[] }): Promise<ScanStart> {
  const stores = fannedOut(args.discovery);
  const lines: ManifestLine[] = [];
  for (const d of stores) lines.push(...(await manifestLines(rt, scanKeys.storeManifest(args.requestId, args.execution, d.store))));
  const manifestKey = scanKeys.manifest(args.requestId, args.execution);
  if (lines.length > 0) await rt.workspace.putText(manifestKey, jsonLines(lines), 'application/jsonl');
  return { bucket: rt.workspace.bucket, manifestKey, resultsPrefix: scanKeys.mapRun(args.requestId, args.execution), stores: stores.length, units: lines.length, maxConcurrency: rt.config.settings.logPass.maxConcurrency };
}

/** A unit's findings for the subject: personal (keys, fields), in the work bucket only. */
interface UnitFindings {
  readonly unit: string;
  readonly store: string;
  readonly findings: readonly Finding[];
  readonly unreadable: number;
  /** Access and portability: how many records and missing findings the unit exported. */
  readonly exported?: { readonly records: number; readonly missing: number };
}

/** A unit's export for the subject: the records of its findings, or why one is missing. Personal, in the work bucket only. */
interface UnitExport {
  readonly unit: string;
  readonly records: ExportedStore['records'];
  readonly missing: ExportedStore['missing'];
}

/**
 * ScanLogUnit: one unit's objects read once for the request's subject, and for an access or
 * portability request its findings' records exported; the findings are the unit's checkpoint,
 * written last, so a unit with findings has its export too.
 */
export async function scanLogUnit(rt: Runtime, args: { requestId: string; execution: string; line: ManifestLine; requestType?: string }): Promise<{ units: 1; counts: Record<string, number> }> {
  const { requestId, execution, line } = args;
  const resultKey = scanKeys.result(requestId, execution, line.unit);
  const done = await rt.workspace.getJson<UnitFindings>(resultKey);
  if (done) return { units: 1, counts: { ...countsOf(done), alreadyDone: 1 } };
  const unit = await rt.workspace.getJson<WorkUnit>(scanKeys.unit(requestId, execution, line.unit));
  if (!unit || unit.store !== line.store) throw new RequestStateError(`request ${requestId} has no work unit ${line.unit} for store ${line.store}`, { requestId, unit: line.unit });
  const store = storeNamed(rt, unit.store);
  const connector = rt.connectors(store);
  if (!isBatchConnector(connector)) throw new DataMapError(`store ${store.name} (${store.kind}) cannot be discovered in work units`);
  const identity = await loadIdentity(rt, requestId);
  let unreadable = 0;
  const ctx = { ...rt.connectorContext(), onUnreadable: () => void unreadable++ };
  const found = await connector.discoverMany(store, new Map([['subject', identity]]), unit.keys, ctx);
  const findings = found.get('subject') ?? [];
  let exported: UnitFindings['exported'];
  if (args.requestType !== undefined && EXPORTING_TYPES.has(args.requestType)) {
    const part = await unitExport(unit.unit, store.name, connector.export(store, identity, findings, rt.connectorContext()));
    await rt.workspace.putJson(scanKeys.exported(requestId, execution, unit.unit), part);
    exported = { records: part.records.length, missing: part.missing.length };
  }
  const result: UnitFindings = { unit: unit.unit, store: store.name, findings, unreadable, ...(exported ? { exported } : {}) };
  await rt.workspace.putJson(resultKey, result);
  return { units: 1, counts: countsOf(result) };
}

async function unitExport(unit: string, store: string, items: AsyncIterable<ExportItem>): Promise<UnitExport> {
  const records: Array<ExportedStore['records'][number]> = [];
  const missing: Array<ExportedStore['missing'][number]> = [];
  for await (const item of items) {
    if (item.type === 'record') records.push({ findingId: item.findingId, role: item.role, record: item.record });
    else if (item.type === 'missing') missing.push({ findingId: item.findingId, reason: item.reason });
    // Log records are records: a file would need ExportStore's staging, which a unit does not do.
    else throw new DataMapError(`store ${store} exported a file from work unit ${unit}: only records can be exported in work units`);
  }
  return { unit, records, missing };
}

function countsOf(r: UnitFindings): Record<string, number> {
  const thirdParty = r.findings.filter((f) => f.role === 'third-party').length;
  return {
    findings: r.findings.length,
    owner: r.findings.length - thirdParty,
    thirdParty,
    ...(r.unreadable ? { unreadable: r.unreadable } : {}),
    ...(r.exported ? { exportedRecords: r.exported.records, exportMissing: r.exported.missing } : {}),
  };
}

/**
 * ExportStore's part for a store this execution fanned out: the units' exports joined in
 * manifest order, the order one export reads the store's objects in; undefined when the store
 * was not fanned out by this execution (no manifest of its own), so the connector exports it.
 */
export async function fannedOutExport(rt: Runtime, args: { requestId: string; execution: string; store: string }): Promise<Omit<ExportedStore, 'store'> | undefined> {
  const text = await rt.workspace.getText(scanKeys.storeManifest(args.requestId, args.execution, args.store));
  if (text === undefined) return undefined;
  // Read side by side (a store of 1 TB has hundreds of units), joined in manifest order.
  const parts = await mapLimit(parseLines(text), PART_READS, async (line) => {
    const part = await rt.workspace.getJson<UnitExport>(scanKeys.exported(args.requestId, args.execution, line.unit));
    if (!part) throw new RequestStateError(`request ${args.requestId} has no export of work unit ${line.unit} (store ${args.store})`, { requestId: args.requestId, unit: line.unit });
    return part;
  });
  return { records: parts.flatMap((p) => p.records), files: [], missing: parts.flatMap((p) => p.missing) };
}

/**
 * CollectLogFindings: each fanned-out store's unit findings, in manifest order (listing order,
 * every version of a key in one unit: the order one DiscoverStore sorts its findings in), as
 * the store's findings document; the discovery comes back with the store's real counts, or the
 * store failed when a unit has no findings (the Map failed on it, after its retries).
 */
export async function collectLogFindings(rt: Runtime, args: { requestId: string; execution: string; discovery: readonly DiscoveredStore[] }): Promise<DiscoveredStore[]> {
  const stores = new Set(fannedOut(args.discovery).map((d) => d.store));
  const out: DiscoveredStore[] = [];
  for (const d of args.discovery) {
    if (!stores.has(d.store)) {
      out.push(d);
      continue;
    }
    const findings: Finding[] = [];
    let unreadable = 0;
    let unfinished = 0;
    const lines = await manifestLines(rt, scanKeys.storeManifest(args.requestId, args.execution, d.store));
    for (const line of lines) {
      const unit = await rt.workspace.getJson<UnitFindings>(scanKeys.result(args.requestId, args.execution, line.unit));
      if (!unit) {
        unfinished++;
        continue;
      }
      findings.push(...unit.findings);
      unreadable += unit.unreadable;
    }
    // A unit whose scan failed (the Map gave up on it): the store failed, as a failed DiscoverStore does; the others go on.
    if (unfinished > 0) {
      out.push({ store: d.store, status: 'failed', error: 'LogScanUnitFailed', counts: { units: lines.length, unfinished } });
      continue;
    }
    await rt.workspace.putJson(docKeys.findings(args.requestId, d.store), findings);
    const counts = countsOf({ unit: '', store: d.store, findings, unreadable });
    out.push({ store: d.store, status: 'ok', counts: { ...counts, units: lines.length } });
  }
  return out;
}
