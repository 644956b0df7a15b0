/**
 * Aho–Corasick compiled to a DFA: the prefilter's search for short patterns (and for sets the
 * other searches do not serve), whose cost per byte does not grow with the number of patterns.
 * The automaton works on an alphabet reduced to the bytes that occur in some pattern (plus one
 * class for every other byte), so the transition table stays small (states × classes × 4 bytes)
 * and hot in cache. Folding case, both cases of a letter share one byte class, so its scan
 * costs the same.
 */
import type { PatternHit, PatternHits } from './multi-pattern';

/** Ranges at least this long are scanned with two interleaved lanes. */
const LANES_MIN_BYTES = 4096;

const isAsciiLetter = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

export interface Automaton {
  readonly states: number;
  scanHits(u: Uint8Array, start: number, end: number, out: PatternHits): void;
  occursIn(buf: Uint8Array, start: number, end: number): boolean;
  occurrences(buf: Uint8Array, start: number, end: number): PatternHit[];
}

/** Builds the automaton. Empty patterns are ignored (they would match everywhere). */
export function compileAutomaton(patterns: readonly Uint8Array[], foldCase: boolean): Automaton {
  // Alphabet reduction: class 0 is "a byte no pattern contains". Folding case, a letter's two
  // cases share a class.
  const cls = new Int32Array(256);
  let classes = 1;
  for (const p of patterns) {
    for (const b of p) {
      if (cls[b] !== 0) continue;
      cls[b] = classes++;
      if (foldCase && isAsciiLetter(b)) cls[b ^ 0x20] = cls[b];
    }
  }

  // Trie, with children in a growable flat table (state * classes + class -> state, 0 = none).
  let cap = 64;
  let goto = new Int32Array(cap * classes);
  let depth = new Int32Array(cap);
  let states = 1;
  const outputs: number[][] = [[]];
  patterns.forEach((p, id) => {
    if (p.length === 0) return;
    let s = 0;
    for (const b of p) {
      const c = cls[b];
      let next = goto[s * classes + c];
      if (next === 0) {
        if (states === cap) {
          cap *= 2;
          const g = new Int32Array(cap * classes);
          g.set(goto);
          goto = g;
          const d = new Int32Array(cap);
          d.set(depth);
          depth = d;
        }
        next = states++;
        outputs.push([]);
        depth[next] = depth[s] + 1;
        goto[s * classes + c] = next;
      }
      s = next;
    }
    outputs[s].push(id);
  });

  // Breadth-first: failure links, inherited outputs, and the complete DFA transitions.
  const fail = new Int32Array(states);
  const delta = new Int32Array(states * classes);
  const queue = new Int32Array(states);
  let head = 0;
  let tail = 0;
  for (let c = 0; c < classes; c++) {
    const next = goto[c];
    delta[c] = next;
    if (next !== 0) queue[tail++] = next;
  }
  while (head < tail) {
    const s = queue[head++];
    const f = fail[s];
    if (outputs[f].length > 0) outputs[s] = outputs[s].concat(outputs[f]);
    for (let c = 0; c < classes; c++) {
      const next = goto[s * classes + c];
      if (next !== 0) {
        fail[next] = delta[f * classes + c];
        delta[s * classes + c] = next;
        queue[tail++] = next;
      } else {
        delta[s * classes + c] = delta[f * classes + c];
      }
    }
  }

  // Renumber states in breadth-first order, so that the shallow states a scan visits almost
  // all the time sit together in memory.
  const rank = new Int32Array(states);
  const byRank = new Int32Array(states);
  for (let r = 0; r < tail; r++) {
    rank[queue[r]] = r + 1;
    byRank[r + 1] = queue[r];
  }
  // Each state's patterns, sorted, as flat arrays (CSR): at K = 10,000 subjects an array per
  // state was 265,000 small objects for every garbage collection to visit.
  const outStart = new Int32Array(states + 1);
  for (let r = 0; r < states; r++) outStart[r + 1] = outStart[r] + outputs[byRank[r]].length;
  const outIds = new Int32Array(outStart[states]);
  for (let r = 0; r < states; r++) outIds.set([...outputs[byRank[r]]].sort((a, b) => a - b), outStart[r]);

  // Hot table: entries are the next state's row offset (state * classes), bitwise-negated
  // when that state ends a pattern, so the scan loop tests one sign bit per byte.
  const table = new Int32Array(states * classes);
  for (let r = 0; r < states; r++) {
    const old = byRank[r];
    for (let c = 0; c < classes; c++) {
      const next = delta[old * classes + c];
      const row = rank[next] * classes;
      table[r * classes + c] = outputs[next].length > 0 ? ~row : row;
    }
  }
  const lengths = patterns.map((p) => p.length);

  const maxLength = patterns.reduce((m, p) => Math.max(m, p.length), 0);

  /** One lane of the automaton over [from, to): hit offsets and the row of the state reached. */
  function lane(buf: Uint8Array, from: number, to: number, at: number[], rows: number[]): void {
    const t = table;
    const k = cls;
    let s = 0;
    for (let i = from; i < to; i++) {
      s = t[s + k[buf[i]]];
      if (s < 0) {
        s = ~s;
        at.push(i);
        rows.push(s);
      }
    }
  }

  /**
   * Two interleaved lanes over the halves of the range: each step advances two independent
   * states, so the CPU overlaps their table loads instead of waiting on one chain of loads
   * (measured: 1.7x one lane). The second lane first runs over the maxLength - 1 bytes before
   * its half without reporting, so an occurrence across the middle is found by exactly one lane.
   */
  function scanLanes(buf: Uint8Array, start: number, end: number, at: number[], rows: number[]): void {
    const t = table;
    const k = cls;
    const half = (end - start) >> 1;
    const mid = start + half;
    const at1: number[] = [];
    const rows1: number[] = [];
    let s0 = 0;
    let s1 = 0;
    for (let i = mid - maxLength + 1; i < mid; i++) {
      s1 = t[s1 + k[buf[i]]];
      if (s1 < 0) s1 = ~s1;
    }
    for (let i = start, j = mid; i < mid; i++, j++) {
      s0 = t[s0 + k[buf[i]]];
      s1 = t[s1 + k[buf[j]]];
      if ((s0 | s1) < 0) {
        if (s0 < 0) {
          s0 = ~s0;
          at.push(i);
          rows.push(s0);
        }
        if (s1 < 0) {
          s1 = ~s1;
          at1.push(j);
          rows1.push(s1);
        }
      }
    }
    // The second lane finishes the odd byte, if any.
    for (let j = mid + half; j < end; j++) {
      s1 = t[s1 + k[buf[j]]];
      if (s1 < 0) {
        s1 = ~s1;
        at1.push(j);
        rows1.push(s1);
      }
    }
    for (let n = 0; n < at1.length; n++) {
      at.push(at1[n]);
      rows.push(rows1[n]);
    }
  }

  /** Every occurrence within [start, end) of a plain Uint8Array, appended to `out` in order of end, then pattern. */
  function scanHits(u: Uint8Array, start: number, end: number, out: PatternHits): void {
    const at: number[] = [];
    const rows: number[] = [];
    if (end - start >= LANES_MIN_BYTES && end - start >= 16 * maxLength) scanLanes(u, start, end, at, rows);
    else lane(u, start, end, at, rows);
    for (let n = 0; n < at.length; n++) {
      const r = rows[n] / classes;
      for (let k = outStart[r]; k < outStart[r + 1]; k++) out.push(at[n], outIds[k]);
    }
  }

  function occursIn(buf: Uint8Array, start: number, end: number): boolean {
    let s = 0;
    for (let i = start; i < end; i++) {
      s = table[s + cls[buf[i]]];
      if (s < 0) return true;
    }
    return false;
  }

  function occurrences(buf: Uint8Array, start: number, end: number): PatternHit[] {
    const hits: PatternHit[] = [];
    let s = 0;
    for (let i = start; i < end; i++) {
      s = table[s + cls[buf[i]]];
      if (s < 0) {
        s = ~s;
        const r = s / classes;
        for (let k = outStart[r]; k < outStart[r + 1]; k++) hits.push({ pattern: outIds[k], start: i + 1 - lengths[outIds[k]], end: i + 1 });
      }
    }
    return hits;
  }

  return { states, scanHits, occursIn, occurrences };
}
