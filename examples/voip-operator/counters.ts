/**
 * Per-subject counts by store and field, noted while the parts are generated: they become the
 * expected counts of subjects.json without a second pass over the data.
 */
export interface Counter {
  [store: string]: Record<string, Int32Array>;
}

export function counters(stores: readonly string[], fields: readonly string[], n: number): Counter {
  const c: Counter = {};
  for (const s of stores) {
    c[s] = {};
    for (const f of fields) c[s][f] = new Int32Array(n);
  }
  return c;
}
