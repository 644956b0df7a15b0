/**
 * Multi-pattern byte search, the prefilter of the log connector: one pass over the raw bytes
 * finds every occurrence of any of thousands of patterns. Three searches, chosen by the patterns:
 *
 * - one or two patterns: native `Buffer.indexOf` per pattern;
 * - up to 1,024 patterns of 6 bytes or more (a request's identifiers): a Wu–Manber skip search
 *   in four lanes (skip-search.ts), which looks at a fraction of the bytes;
 * - otherwise (short patterns, or a batch of thousands of subjects): Aho–Corasick compiled to a
 *   DFA, whose cost per byte does not grow with the number of patterns.
 *
 * Patterns are byte strings (UTF-8 of identifier values), matched literally: no RegExp is ever
 * built from a value. With `foldCase` they match ignoring ASCII case (email addresses): the
 * automaton puts both cases of a letter in one byte class, so its scan costs the same; the
 * skip search's shift table holds both cases. The automaton works on an alphabet reduced to
 * the bytes that occur in some pattern (plus one class for every other byte), so the transition table stays small
 * (states × classes × 4 bytes) and hot in cache.
 */
import { compileSkipSearch, skipSearchHits } from './skip-search';

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
  /** The longest pattern's length in bytes. */
  readonly maxLength: number;
  /** How `scanEnds` searches: native indexOf per pattern, a skip search, or the automaton. */
  readonly strategy: 'native' | 'skip' | 'automaton';
  /**
   * Every occurrence entirely within [start, end), as (end offset, pattern) pairs appended to
   * `out` in order of end, then pattern (the occurrence's last byte is at the end offset). The
   * hot path.
   */
  scanHits(buf: Uint8Array, start: number, end: number, out: PatternHits): void;
  /** Calls `onEnd(i)` once for every offset `i` in [start, end) at which some pattern ends. */
  scanEnds(buf: Uint8Array, start: number, end: number, onEnd: (i: number) => void): void;
  /** True when some pattern occurs entirely within [start, end). */
  occursIn(buf: Uint8Array, start: number, end: number): boolean;
  /** Every occurrence of every pattern entirely within [start, end), overlapping ones included. */
  occurrences(buf: Uint8Array, start: number, end: number): PatternHit[];
}

/**
 * Occurrences found by a scan, in growable typed arrays (no object per hit): the offset of each
 * occurrence's last byte, and the pattern's index. `clear()` makes it reusable.
 */
export class PatternHits {
  n = 0;
  ends = new Int32Array(256);
  patterns = new Int32Array(256);

  clear(): void {
    this.n = 0;
  }

  push(end: number, pattern: number): void {
    if (this.n === this.ends.length) {
      const e = new Int32Array(this.n * 2);
      e.set(this.ends);
      this.ends = e;
      const p = new Int32Array(this.n * 2);
      p.set(this.patterns);
      this.patterns = p;
    }
    this.ends[this.n] = end;
    this.patterns[this.n++] = pattern;
  }

  /** Sorts the hits from `from` on by end, then pattern (searches that find them out of order). */
  sortFrom(from: number): void {
    let sorted = true;
    for (let i = from + 1; i < this.n && sorted; i++) sorted = this.ends[i - 1] < this.ends[i] || (this.ends[i - 1] === this.ends[i] && this.patterns[i - 1] <= this.patterns[i]);
    if (sorted) return;
    const order = Array.from({ length: this.n - from }, (_v, i) => from + i).sort((a, b) => this.ends[a] - this.ends[b] || this.patterns[a] - this.patterns[b]);
    const ends = order.map((i) => this.ends[i]);
    const patterns = order.map((i) => this.patterns[i]);
    this.ends.set(ends, from);
    this.patterns.set(patterns, from);
  }
}

/** Up to this many patterns, scans search each with native indexOf instead of the automaton. */
const NATIVE_MAX_PATTERNS = 2;
/** Ranges at least this long are scanned with two interleaved lanes. */
const LANES_MIN_BYTES = 4096;
/**
 * The skip search needs patterns at least this long to skip far enough to beat the automaton,
 * and few enough that its shift table stays mostly long shifts (measured on the reference SIP
 * logs: 1.4x the automaton at 74 patterns, 1.2x at 1,000, 0.5x at 7,000).
 */
const SKIP_MIN_LENGTH = 6;
const SKIP_MAX_PATTERNS = 1024;

export interface CompileOptions {
  /** Match ASCII letters ignoring case (never the native search then). Default false. */
  readonly foldCase?: boolean;
}

const isAsciiLetter = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/** Builds the automaton. Empty patterns are ignored (they would match everywhere). */
export function compilePatterns(patterns: readonly Uint8Array[], options: CompileOptions = {}): PatternSet {
  const foldCase = options.foldCase ?? false;
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
  const finalOutputs: number[][] = new Array(states);
  for (let r = 0; r < states; r++) finalOutputs[r] = [...outputs[byRank[r]]].sort((a, b) => a - b);

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
  const nonEmpty: Array<[number, Buffer]> = [];
  patterns.forEach((p, id) => {
    if (p.length > 0) nonEmpty.push([id, Buffer.from(p.buffer, p.byteOffset, p.byteLength)]);
  });

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

  /** Few patterns: native Buffer.indexOf per pattern beats any JavaScript loop. */
  function scanNative(buf: Uint8Array, start: number, end: number, out: PatternHits): void {
    // A view of exactly [start, end): indexOf must not search past the range.
    const b = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
    const from = out.n;
    for (const [id, p] of nonEmpty) {
      let i = b.indexOf(p);
      while (i >= 0) {
        out.push(start + i + p.length - 1, id);
        i = b.indexOf(p, i + 1);
      }
    }
    out.sortFrom(from);
  }

  const minLength = nonEmpty.reduce((m, [, p]) => Math.min(m, p.length), Infinity);
  // Folding case, native indexOf cannot serve.
  const strategy: PatternSet['strategy'] =
    nonEmpty.length <= NATIVE_MAX_PATTERNS && !foldCase ? 'native' : minLength >= SKIP_MIN_LENGTH && nonEmpty.length <= SKIP_MAX_PATTERNS ? 'skip' : 'automaton';
  const skip = strategy === 'skip' ? compileSkipSearch(nonEmpty, minLength, foldCase, () => new PatternHits()) : undefined;

  function scanHits(buf: Uint8Array, start: number, end: number, out: PatternHits): void {
    if (maxLength === 0 || end <= start) return;
    if (strategy === 'native') return scanNative(buf, start, end, out);
    // Always a plain Uint8Array here, so the hot loops stay monomorphic.
    const u = buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    if (skip && end - start >= LANES_MIN_BYTES) return skipSearchHits(skip, u, start, end, out);
    const at: number[] = [];
    const rows: number[] = [];
    if (end - start >= LANES_MIN_BYTES && end - start >= 16 * maxLength) scanLanes(u, start, end, at, rows);
    else lane(u, start, end, at, rows);
    for (let n = 0; n < at.length; n++) for (const id of finalOutputs[rows[n] / classes]) out.push(at[n], id);
  }

  function scanEnds(buf: Uint8Array, start: number, end: number, onEnd: (i: number) => void): void {
    const hits = new PatternHits();
    scanHits(buf, start, end, hits);
    let last = -1;
    for (let n = 0; n < hits.n; n++) if (hits.ends[n] !== last) onEnd((last = hits.ends[n]));
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

  return { size: patterns.length, states, maxLength, strategy, scanHits, scanEnds, occursIn, occurrences };
}
