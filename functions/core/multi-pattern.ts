/**
 * Multi-pattern byte search (Aho–Corasick compiled to a DFA), the prefilter of the log
 * connector: one pass over the raw bytes finds every place where any of thousands of patterns
 * ends, at a cost per byte that does not grow with the number of patterns.
 *
 * Patterns are byte strings (UTF-8 of identifier values), matched literally: no RegExp is ever
 * built from a value. The automaton works on an alphabet reduced to the bytes that occur in
 * some pattern (plus one class for every other byte), so the transition table stays small
 * (states × classes × 4 bytes) and hot in cache.
 */

export interface PatternHit {
  /** Index of the pattern in the array given to `compilePatterns`. */
  readonly pattern: number;
  /** Offset of the first byte of the occurrence. */
  readonly start: number;
  /** Offset just after the last byte of the occurrence. */
  readonly end: number;
}

export interface PatternSet {
  readonly size: number;
  readonly states: number;
  /**
   * Calls `onEnd(i)` for every offset `i` in [start, end) at which at least one pattern ends
   * (the occurrence's last byte is at `i`). The hot path: one table lookup per byte.
   */
  scanEnds(buf: Uint8Array, start: number, end: number, onEnd: (i: number) => void): void;
  /** True when some pattern occurs entirely within [start, end). */
  occursIn(buf: Uint8Array, start: number, end: number): boolean;
  /** Every occurrence of every pattern entirely within [start, end), overlapping ones included. */
  occurrences(buf: Uint8Array, start: number, end: number): PatternHit[];
}

/** Up to this many patterns, scanEnds searches each with native indexOf instead of the automaton. */
const NATIVE_MAX_PATTERNS = 2;
/** Ranges at least this long are scanned with two interleaved lanes. */
const LANES_MIN_BYTES = 4096;

/** Builds the automaton. Empty patterns are ignored (they would match everywhere). */
export function compilePatterns(patterns: readonly Uint8Array[]): PatternSet {
  // Alphabet reduction: class 0 is "a byte no pattern contains".
  const cls = new Int32Array(256);
  let classes = 1;
  for (const p of patterns) {
    for (const b of p) if (cls[b] === 0) cls[b] = classes++;
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
  const finalOutputs: number[][] = new Array(states);
  for (let r = 0; r < states; r++) finalOutputs[r] = outputs[byRank[r]];

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
  const nonEmpty = patterns.filter((p) => p.length > 0).map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));

  /** One lane of the automaton over [from, to). */
  function lane(buf: Uint8Array, from: number, to: number, hits: number[]): void {
    const t = table;
    const k = cls;
    let s = 0;
    for (let i = from; i < to; i++) {
      s = t[s + k[buf[i]]];
      if (s < 0) {
        s = ~s;
        hits.push(i);
      }
    }
  }

  /**
   * Two interleaved lanes over the halves of the range: each step advances two independent
   * states, so the CPU overlaps their table loads instead of waiting on one chain of loads
   * (measured: 1.7x one lane). The second lane first runs over the maxLength - 1 bytes before
   * its half without reporting, so an occurrence across the middle is found by exactly one lane.
   */
  function scanLanes(buf: Uint8Array, start: number, end: number, onEnd: (i: number) => void): void {
    const t = table;
    const k = cls;
    const half = (end - start) >> 1;
    const mid = start + half;
    const h0: number[] = [];
    const h1: number[] = [];
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
          h0.push(i);
        }
        if (s1 < 0) {
          s1 = ~s1;
          h1.push(j);
        }
      }
    }
    // The second lane finishes the odd byte, if any.
    for (let j = mid + half; j < end; j++) {
      s1 = t[s1 + k[buf[j]]];
      if (s1 < 0) {
        s1 = ~s1;
        h1.push(j);
      }
    }
    for (const i of h0) onEnd(i);
    for (const i of h1) onEnd(i);
  }

  /** Few patterns: native Buffer.indexOf per pattern beats any JavaScript loop. */
  function scanNative(buf: Uint8Array, start: number, end: number, onEnd: (i: number) => void): void {
    // A view of exactly [start, end): indexOf must not search past the range.
    const b = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
    const ends: number[] = [];
    for (const p of nonEmpty) {
      let i = b.indexOf(p);
      while (i >= 0) {
        ends.push(start + i + p.length - 1);
        i = b.indexOf(p, i + 1);
      }
    }
    if (ends.length === 0) return;
    ends.sort((x, y) => x - y);
    let last = -1;
    for (const e of ends) if (e !== last) onEnd((last = e));
  }

  function scanEnds(buf: Uint8Array, start: number, end: number, onEnd: (i: number) => void): void {
    if (maxLength === 0 || end <= start) return;
    if (nonEmpty.length <= NATIVE_MAX_PATTERNS) return scanNative(buf, start, end, onEnd);
    // Always a plain Uint8Array here, so the hot loops stay monomorphic.
    const u = buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    if (end - start >= LANES_MIN_BYTES && end - start >= 16 * maxLength) return scanLanes(u, start, end, onEnd);
    const hits: number[] = [];
    lane(u, start, end, hits);
    for (const i of hits) onEnd(i);
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
        for (const id of finalOutputs[s / classes]) hits.push({ pattern: id, start: i + 1 - lengths[id], end: i + 1 });
      }
    }
    return hits;
  }

  return { size: patterns.length, states, scanEnds, occursIn, occurrences };
}
