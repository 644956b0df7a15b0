/**
 * Work units of a log-erasure pass. Step Functions' ItemBatcher weighs items by count and by
 * their JSON size, not by the bytes of the objects they name, so the pass packs the keys of
 * each store into units of about `unitBytes` of records itself (every version of a key in the
 * same unit: a rewrite deletes the older versions, which another unit must not be reading), and
 * the Distributed Map runs one child execution per unit. A unit's key list lives in the work
 * bucket; the manifest line the Map reads carries the unit's id, store and sizes only, so no
 * object key reaches the execution history.
 */
import { isGzipObject, type Store } from './datamap';
import type { ListedKey } from '../connectors/types';
import type { LogPassSettings } from './log-pass-settings';

export interface WorkUnit {
  readonly unit: string;
  readonly store: string;
  readonly keys: readonly string[];
}

/** What the Distributed Map reads per unit (one JSON Lines line of the manifest). */
export interface ManifestLine {
  readonly unit: string;
  readonly store: string;
  readonly keys: number;
  readonly versions: number;
  readonly storedBytes: number;
  /** Estimated uncompressed bytes, what the unit budget counts. */
  readonly bytes: number;
}

export const passKeys = {
  root: (passId: string) => `log-passes/${passId}/`,
  pass: (passId: string) => `log-passes/${passId}/pass.json`,
  manifest: (passId: string) => `log-passes/${passId}/manifest.jsonl`,
  unit: (passId: string, unit: string) => `log-passes/${passId}/units/${unit}.json`,
  result: (passId: string, unit: string) => `log-passes/${passId}/results/${unit}.json`,
  results: (passId: string) => `log-passes/${passId}/results/`,
  mapRun: (passId: string) => `log-passes/${passId}/map-run`,
  /** Personal: the identities the pass erases, deleted (every version) when it finishes. */
  subjects: (passId: string, store: string) => `log-passes/${passId}/subjects/${store}.json`,
};

/** Bytes of records a key's versions hold, estimated from their stored size. */
export function estimatedBytes(store: Store, listed: ListedKey, settings: Pick<LogPassSettings, 'gzipRatio'>): number {
  return store.kind === 's3-records' && isGzipObject(store, listed.key) ? Math.round(listed.storedBytes * settings.gzipRatio) : listed.storedBytes;
}

/**
 * Packs keys into units in listing order (consecutive keys, usually the same hours or days, go
 * together): a unit closes when the next key would take it past the budget. A key bigger than
 * the budget is a unit of its own: objects are read whole (gzip does not seek).
 */
export async function packUnits(
  store: Store,
  keys: AsyncIterable<ListedKey>,
  settings: Pick<LogPassSettings, 'unitBytes' | 'gzipRatio'>,
  nextUnitId: () => string,
  emit: (unit: WorkUnit, line: ManifestLine) => Promise<void>,
): Promise<{ units: number; keys: number; versions: number; storedBytes: number }> {
  let open: { keys: string[]; versions: number; storedBytes: number; bytes: number } | undefined;
  const totals = { units: 0, keys: 0, versions: 0, storedBytes: 0 };
  const close = async () => {
    if (!open || open.keys.length === 0) return;
    const unit = nextUnitId();
    await emit({ unit, store: store.name, keys: open.keys }, { unit, store: store.name, keys: open.keys.length, versions: open.versions, storedBytes: open.storedBytes, bytes: open.bytes });
    totals.units++;
    open = undefined;
  };
  for await (const listed of keys) {
    const bytes = estimatedBytes(store, listed, settings);
    if (open && open.bytes + bytes > settings.unitBytes) await close();
    open ??= { keys: [], versions: 0, storedBytes: 0, bytes: 0 };
    open.keys.push(listed.key);
    open.versions += listed.versions;
    open.storedBytes += listed.storedBytes;
    open.bytes += bytes;
    totals.keys++;
    totals.versions += listed.versions;
    totals.storedBytes += listed.storedBytes;
  }
  await close();
  return totals;
}
