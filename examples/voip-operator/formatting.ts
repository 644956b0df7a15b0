/** How dates and amounts are written in items, object keys and subjects.json. */
export const isoDate = (t: number) => new Date(t).toISOString();
export const round2 = (v: number) => Math.round(v * 100) / 100;

/** The parts of a date that go into object keys (yyyy/mm/dd/hh). */
export const ymd = (t: number) => {
  const d = new Date(t).toISOString();
  return { y: d.slice(0, 4), m: d.slice(5, 7), d: d.slice(8, 10), h: d.slice(11, 13) };
};
