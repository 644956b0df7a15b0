/** Packing a log store's keys into work units of the pass: pure arithmetic, no endpoint needed. */
import type { S3RecordsStore } from '../../functions/core/datamap';
import { DEFAULT_DATA_MAP, loadDataMapFile } from '../../local/engine';
import { estimatedBytes, packUnits, type ManifestLine, type WorkUnit } from '../../functions/core/log-pass-units';
import type { ListedKey } from '../../functions/connectors/types';

// The reference map's portal logs: `compression: auto` (gzip by the key's .gz).
const store = loadDataMapFile(DEFAULT_DATA_MAP).stores.find((s) => s.name === 'app-logs') as S3RecordsStore;

async function* keys(list: ListedKey[]): AsyncIterable<ListedKey> {
  yield* list;
}

async function pack(list: ListedKey[], unitBytes: number) {
  const units: Array<{ unit: WorkUnit; line: ManifestLine }> = [];
  let n = 0;
  const totals = await packUnits(store, keys(list), { unitBytes, gzipRatio: 10 }, () => String(++n).padStart(6, '0'), async (unit, line) => void units.push({ unit, line }));
  return { units, totals };
}

describe('work units of a log pass', () => {
  it('estimates a gzip object by the ratio and a plain one by its size', () => {
    expect(estimatedBytes(store, { key: 'app/a.csv.gz', versions: 1, storedBytes: 100 }, { gzipRatio: 10 })).toBe(1000);
    expect(estimatedBytes(store, { key: 'app/a.csv', versions: 1, storedBytes: 100 }, { gzipRatio: 10 })).toBe(100);
  });

  it('closes a unit before the budget is passed, keeps a key whole (every version), and an oversized key alone', async () => {
    const list = [
      { key: 'app/1.csv', versions: 1, storedBytes: 400 },
      { key: 'app/2.csv', versions: 3, storedBytes: 500 },
      { key: 'app/3.csv', versions: 1, storedBytes: 200 },
      { key: 'app/4.csv.gz', versions: 2, storedBytes: 500 },
      { key: 'app/5.csv', versions: 1, storedBytes: 100 },
    ];
    const { units, totals } = await pack(list, 1000);
    expect(units.map((u) => u.unit.keys)).toEqual([['app/1.csv', 'app/2.csv'], ['app/3.csv'], ['app/4.csv.gz'], ['app/5.csv']]);
    expect(units.map((u) => u.line.bytes)).toEqual([900, 200, 5000, 100]);
    expect(units[0].line).toEqual({ unit: '000001', store: 'app-logs', keys: 2, versions: 4, storedBytes: 900, bytes: 900 });
    expect(totals).toEqual({ units: 4, keys: 5, versions: 8, storedBytes: 1700 });
    // The manifest line names no object key: keys stay in the unit file in the work bucket.
    expect(JSON.stringify(units.map((u) => u.line))).not.toContain('app/');
  });

  it('an empty store gives no unit', async () => {
    expect(await pack([], 1000)).toEqual({ units: [], totals: { units: 0, keys: 0, versions: 0, storedBytes: 0 } });
  });
});
