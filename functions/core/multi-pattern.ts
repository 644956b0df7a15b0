/**
 * Multi-pattern byte search, the prefilter of the log connector: one pass over the raw bytes
 * finds every occurrence of any of thousands of patterns. Three searches, chosen by the patterns:
 *
 * - one or two patterns: native `Buffer.indexOf` per pattern;
 * - up to 1,024 patterns of 6 bytes or more (a request's identifiers): a Wu–Manber skip search
 *   in four lanes (skip-search.ts), which looks at a fraction of the bytes;
 * - otherwise (short patterns, or a batch of thousands of subjects): Aho–Corasick compiled to a
 *   DFA (automaton.ts), whose cost per byte does not grow with the number of patterns.
 *
 * All three find exactly the same occurrences. Patterns are byte strings (UTF-8 of identifier
 * values), matched literally: no RegExp is ever built from a value. With `foldCase` they match
 * ignoring ASCII case (email addresses).
 */
import { compileAutomaton } from './automaton';
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
/** Ranges at least this long are searched with the skip search's four lanes. */
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

/** Compiles the search the patterns call for. Empty patterns are ignored (they would match everywhere). */
export function compilePatterns(patterns: readonly Uint8Array[], options: CompileOptions = {}): PatternSet {
  const foldCase = options.foldCase ?? false;
  const maxLength = patterns.reduce((m, p) => Math.max(m, p.length), 0);
  const nonEmpty: Array<[number, Buffer]> = [];
  patterns.forEach((p, id) => {
    if (p.length > 0) nonEmpty.push([id, Buffer.from(p.buffer, p.byteOffset, p.byteLength)]);
  });
  const minLength = nonEmpty.reduce((m, [, p]) => Math.min(m, p.length), Infinity);
  const n = nonEmpty.length;
  // Folding case, native indexOf cannot serve.
  const strategy: PatternSet['strategy'] =
    n <= NATIVE_MAX_PATTERNS && !foldCase
      ? 'native'
      : minLength >= SKIP_MIN_LENGTH && n <= SKIP_MAX_PATTERNS
        ? 'skip'
        : 'automaton';
  const skip = strategy === 'skip' ? compileSkipSearch(nonEmpty, minLength, foldCase, () => new PatternHits()) : undefined;
  // The skip search and native indexOf leave short ranges and `occurrences` to the automaton.
  const automaton = compileAutomaton(patterns, foldCase);

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

  function scanHits(buf: Uint8Array, start: number, end: number, out: PatternHits): void {
    if (maxLength === 0 || end <= start) return;
    if (strategy === 'native') return scanNative(buf, start, end, out);
    // Always a plain Uint8Array here, so the hot loops stay monomorphic.
    const u = buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    if (skip && end - start >= LANES_MIN_BYTES) return skipSearchHits(skip, u, start, end, out);
    automaton.scanHits(u, start, end, out);
  }

  function scanEnds(buf: Uint8Array, start: number, end: number, onEnd: (i: number) => void): void {
    const hits = new PatternHits();
    scanHits(buf, start, end, hits);
    let last = -1;
    for (let i = 0; i < hits.n; i++) if (hits.ends[i] !== last) onEnd((last = hits.ends[i]));
  }

  return { size: patterns.length, states: automaton.states, maxLength, strategy, scanHits, scanEnds, occursIn: automaton.occursIn, occurrences: automaton.occurrences };
}
