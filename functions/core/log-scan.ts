/**
 * Discovery of a big log store for an access or portability request, fanned out: DiscoverStore
 * only lists the store's object versions into work units (log-pass-units.ts, the packing the
 * erasure pass uses) and writes the store's manifest; BeginLogScan joins the stores' manifests
 * into the one a top-level Distributed Map reads; each child scans one unit for the subject
 * (`discoverMany`, K = 1) and keeps the unit's findings in the work bucket; CollectLogFindings
 * joins them, in unit order, into the store's findings document, so ApplyRetention, ExportStore
 * and the bundle read exactly what a single DiscoverStore would have written.
 *
 * Everything lives under the request's prefix and the execution's name: a unit whose findings
 * exist is not scanned again when its Map is retried (a failed unit, a timeout), while a later
 * execution of the request lists and scans afresh. State and manifest lines carry unit ids,
 * store names and sizes only; keys and findings stay in the bucket.
 */
import type { Finding } from '../connectors/types';
import { isBatchConnector } from '../connectors/types';
import { DataMapError, RequestStateError } from './errors';
import { packUnits, type ManifestLine, type WorkUnit } from './log-pass-units';
import { docKeys, loadIdentity, storeNamed } from './request-data';
import type { Runtime } from './runtime';
import { Workspace } from './workspace';

/** The work-bucket layout of one execution's fan-out (the machine role reads the manifest and writes the Map Run's results). */
export const scanKeys = {
  root: (requestId: string, execution: string) => Workspace.key(requestId, `log-scan/${execution}/`),
  manifest: (requestId: string, execution: string) => `${scanKeys.root(requestId, execution)}manifest.jsonl`,
  storeManifest: (requestId: string, execution: string, store: string) => `${scanKeys.root(requestId, execution)}stores/${store}.jsonl`,
  unit: (requestId: string, execution: string, unit: string) => `${scanKeys.root(requestId, execution)}units/${unit}.json`,
  result: (requestId: string, execution: string, unit: string) => `${scanKeys.root(requestId, execution)}findings/${unit}.json`,
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
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ManifestLine);
}

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
}

/** ScanLogUnit: one unit's objects read once for the request's subject; the findings are the unit's checkpoint. */
export async function scanLogUnit(rt: Runtime, args: { requestId: string; execution: string; line: ManifestLine }): Promise<{ units: 1; counts: Record<string, number> }> {
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
  const result: UnitFindings = { unit: unit.unit, store: store.name, findings: found.get('subject') ?? [], unreadable };
  await rt.workspace.putJson(resultKey, result);
  return { units: 1, counts: countsOf(result) };
}

function countsOf(r: UnitFindings): Record<string, number> {
  const thirdParty = r.findings.filter((f) => f.role === 'third-party').length;
  return { findings: r.findings.length, owner: r.findings.length - thirdParty, thirdParty, ...(r.unreadable ? { unreadable: r.unreadable } : {}) };
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
