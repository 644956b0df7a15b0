/**
 * Sampled q-gram search, the prefilter's search for thousands of patterns (a batch of K
 * subjects): what the skip search (skip-search.ts) does for a thousand patterns, without a shift
 * table that fills up with zeros as patterns are added, and without the automaton's table of
 * hundreds of thousands of states, which misses the cache when the text keeps it in deep states.
 *
 * With m the shortest pattern's length and q = 4, an occurrence of a pattern holds s = m - q + 1
 * consecutive 4-byte windows, at offsets a .. a + s - 1 of the pattern for any a up to its
 * length - m, and a text position sampled every s bytes falls on exactly one of them. So the
 * scan reads the 4 bytes at every s-th position (one aligned word when s is 4 or 8, the strides
 * it rounds down to), hashes them and tests one bit of a bitset of the patterns' windows, then a
 * byte under a second hash that says at which d < s of its run such a window is. Only then does
 * it look for the patterns themselves: the min(m, 8) bytes at the position - d are a key, tested
 * in a bitset of the patterns' keys (each pattern's bytes from its own a), then looked up, and a
 * pattern whose key it is is compared in full where it would start. Each occurrence is found
 * exactly once, by the one sample among its s windows, so the results are the automaton's.
 *
 * Which s windows: those the fewest other patterns share (a batch's values have common parts,
 * `555-`, `"100.`, `"dev-`, that are as common in the text), the later ones on a tie
 * (identifiers end in their distinctive bytes).
 *
 * Case: windows and keys are read with bit 0x20 set in every byte, which folds ASCII case (and
 * maps a few punctuation bytes together, which only adds keys to look at), so one table serves
 * both; the full comparison is exact, or exact on folded bytes when ignoring case.
 */
import type { PatternHits } from './multi-pattern';
import { FOLD } from './skip-search';

const SAME = Uint8Array.from({ length: 256 }, (_v, b) => b);
/** The window length: one 32-bit word. */
export const GRAM_Q = 4;
const LOOSE = 0x20202020;
const MUL1 = 0x9e3779b1 | 0;
const MUL2 = 0x85ebca77 | 0;
const MUL3 = 0xc2b2ae3d | 0;

export interface GramSearch {
  /** Bytes between samples: the shortest pattern's length - GRAM_Q + 1, rounded down to 8 or 4 from there. */
  readonly stride: number;
  /** Key length: min(shortest pattern's length, 8). */
  readonly keyLength: number;
  /** 32 - log2(bits of the bitset). */
  readonly shift: number;
  readonly bitset: Int32Array;
  /** Per hash (its top bits): which d < stride a window with that hash is at in its pattern's run. */
  readonly dmask: Uint8Array;
  readonly maskShift: number;
  /** A bitset of the patterns' keys' hashes, and the keys by the top bits of their hash (CSR): two loose words and the pattern each. */
  readonly keyShift: number;
  readonly keySet: Int32Array;
  readonly bucketShift: number;
  readonly bucketStart: Int32Array;
  readonly entries: Int32Array;
  /** The patterns (folded when ignoring case), concatenated: each one's start, length, key offset a. */
  readonly bytes: Uint8Array;
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
  readonly keyAt: Int32Array;
  /** Each pattern's index in the caller's list. */
  readonly ids: Int32Array;
  readonly fold: Uint8Array;
}

const word = (b: Uint8Array, p: number): number => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) | LOOSE;
/** The key's second word: its bytes 4 .. keyLength - 1. */
function word2(b: Uint8Array, p: number, keyLength: number): number {
  let w = 0;
  for (let j = keyLength - 1; j >= 4; j--) w = (w << 8) | b[p + j] | 0x20;
  return w;
}
const keyHash = (w1: number, w2: number): number => Math.imul(w1, MUL1) ^ Math.imul(w2, MUL2);

/**
 * `indexed`: (caller's index, pattern) pairs, every pattern at least `m` > GRAM_Q bytes long.
 * The windows' commonness is counted among the patterns: the text is not known yet.
 */
export function compileGramSearch(indexed: ReadonlyArray<readonly [number, Uint8Array]>, m: number, foldCase: boolean): GramSearch {
  const fold = foldCase ? FOLD : SAME;
  // Strides of 4 and 8 read aligned words; a stride of at most 8 keeps a run's d in a byte.
  const most = m - GRAM_Q + 1;
  const stride = most >= 8 ? 8 : most >= 4 ? 4 : most;
  const keyLength = Math.min(m, 8);
  const patterns = indexed.map(([, p]) => Uint8Array.from(p, (b) => fold[b]));
  // How many windows of all the patterns each loose gram is: the commonness of a window.
  const common = new Map<number, number>();
  for (const p of patterns) for (let o = 0; o + GRAM_Q <= p.length; o++) common.set(word(p, o), (common.get(word(p, o)) ?? 0) + 1);
  const keyAt = new Int32Array(patterns.length);
  patterns.forEach((p, i) => {
    let best = Infinity;
    for (let a = 0; a <= Math.min(p.length - GRAM_Q - stride + 1, p.length - keyLength); a++) {
      let cost = 0;
      for (let o = a; o < a + stride; o++) cost += common.get(word(p, o))!;
      if (cost <= best) {
        best = cost;
        keyAt[i] = a;
      }
    }
  });

  const grams = patterns.length * stride;
  const bits = Math.min(24, Math.max(16, Math.ceil(Math.log2(grams * 16))));
  const shift = 32 - bits;
  const bitset = new Int32Array(1 << (bits - 5));
  // The d mask by a second hash, so a gram that collides with a pattern's in the bitset
  // (`sbc-`, `"req`: on every line) seldom collides here too; as many bytes as the bitset, to
  // stay in cache beside the parsing of candidates.
  const maskShift = 32 - (bits - 3);
  const dmask = new Uint8Array(1 << (32 - maskShift));
  const n = patterns.length;
  const keyBits = Math.min(24, Math.max(10, Math.ceil(Math.log2(n * 16))));
  const keyShift = 32 - keyBits;
  const keySet = new Int32Array(1 << (keyBits - 5));
  const bucketShift = 32 - Math.max(4, Math.ceil(Math.log2(n)));
  const bucketStart = new Int32Array((1 << (32 - bucketShift)) + 1);
  const hashes = new Int32Array(n);
  patterns.forEach((p, i) => {
    for (let o = keyAt[i]; o < keyAt[i] + stride; o++) {
      const h = Math.imul(word(p, o), MUL1) >>> shift;
      bitset[h >>> 5] |= 1 << (h & 31);
      dmask[Math.imul(word(p, o), MUL3) >>> maskShift] |= 1 << (o - keyAt[i]);
    }
    hashes[i] = keyHash(word(p, keyAt[i]), word2(p, keyAt[i], keyLength));
    const k = hashes[i] >>> keyShift;
    keySet[k >>> 5] |= 1 << (k & 31);
    bucketStart[(hashes[i] >>> bucketShift) + 1]++;
  });
  for (let b = 0; b < 1 << (32 - bucketShift); b++) bucketStart[b + 1] += bucketStart[b];
  const fill = bucketStart.slice(0, -1);
  // Per entry, its key's two words and its pattern side by side: one cache line per look.
  const entries = new Int32Array(3 * n);
  patterns.forEach((p, i) => {
    const at = 3 * fill[hashes[i] >>> bucketShift]++;
    entries[at] = word(p, keyAt[i]);
    entries[at + 1] = word2(p, keyAt[i], keyLength);
    entries[at + 2] = i;
  });
  const lengths = new Int32Array(patterns.map((p) => p.length));
  const starts = new Int32Array(n);
  for (let i = 1; i < n; i++) starts[i] = starts[i - 1] + lengths[i - 1];
  const bytes = new Uint8Array(patterns.reduce((t, p) => t + p.length, 0));
  patterns.forEach((p, i) => bytes.set(p, starts[i]));
  const ids = new Int32Array(indexed.map(([id]) => id));
  return { stride, keyLength, shift, bitset, dmask, maskShift, keyShift, keySet, bucketShift, bucketStart, entries, bytes, starts, lengths, keyAt, ids, fold };
}

/** The patterns whose key starts at `k` (the sample minus some d < stride), compared in full within [start, end). */
function verify(g: GramSearch, buf: Uint8Array, k: number, start: number, end: number, out: PatternHits): void {
  const w1 = word(buf, k);
  const w2 = word2(buf, k, g.keyLength);
  const h = keyHash(w1, w2);
  const ks = h >>> g.keyShift;
  if ((g.keySet[ks >>> 5] & (1 << (ks & 31))) === 0) return;
  const { bucketStart, entries, bytes, starts, lengths, keyAt, ids, fold: f } = g;
  const b = h >>> g.bucketShift;
  for (let e = 3 * bucketStart[b], ee = 3 * bucketStart[b + 1]; e < ee; e += 3) {
    if (entries[e] !== w1 || entries[e + 1] !== w2) continue;
    const i = entries[e + 2];
    const at = k - keyAt[i];
    const len = lengths[i];
    if (at < start || at + len > end) continue;
    const ps = starts[i];
    let j = 0;
    while (j < len && f[buf[at + j]] === bytes[ps + j]) j++;
    if (j === len) out.push(at + len - 1, ids[i]);
  }
}

/**
 * Every occurrence entirely within [start, end), appended to `out` in order of end, then
 * pattern. Samples go left to right, but an occurrence found at one sample can end after one
 * found at the next (a longer pattern), so the appended hits are put in order at the end: an
 * insertion sort, since each is out of place by at most the longest pattern's length.
 */
export function gramSearchHits(g: GramSearch, buf: Uint8Array, start: number, end: number, out: PatternHits): void {
  const from = out.n;
  if (g.stride === 4 || g.stride === 8) scanWords(g, buf, start, end, out);
  else scanBytes(g, buf, start, end, out);
  sortTail(out, from);
}

/**
 * Strides of 4 and 8: aligned 32-bit reads, one load per sample instead of four. Any first
 * sample within the range's first stride bytes finds every occurrence. (Each loop is a function
 * of its own so that V8 optimizes it on its own feedback: one function with both deoptimized
 * when a scan took the other loop, at 3.5x the time.)
 */
function scanWords(g: GramSearch, buf: Uint8Array, start: number, end: number, out: PatternHits): void {
  const { stride, shift, bitset, dmask, maskShift } = g;
  const last = end - GRAM_Q;
  const step = stride >> 2;
  const first = start + ((4 - ((buf.byteOffset + start) & 3)) & 3);
  if (first > last) return scanBytes(g, buf, start, end, out);
  const words = new Int32Array(buf.buffer, buf.byteOffset + first, (buf.byteLength - first) >> 2);
  for (let i = 0, p = first; p <= last; i += step, p += stride) {
    const w = words[i] | LOOSE;
    const h = Math.imul(w, MUL1) >>> shift;
    if ((bitset[h >>> 5] & (1 << (h & 31))) === 0) continue;
    const d = dmask[Math.imul(w, MUL3) >>> maskShift];
    if (d !== 0) probe(g, buf, p, d, start, end, out);
  }
}

/** Other strides (patterns of 5 or 6 bytes), and ranges too short for an aligned word: four byte reads per sample. */
function scanBytes(g: GramSearch, buf: Uint8Array, start: number, end: number, out: PatternHits): void {
  const { stride, shift, bitset, dmask, maskShift } = g;
  const last = end - GRAM_Q;
  for (let p = start; p <= last; p += stride) {
    const w = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) | LOOSE;
    const h = Math.imul(w, MUL1) >>> shift;
    if ((bitset[h >>> 5] & (1 << (h & 31))) === 0) continue;
    const d = dmask[Math.imul(w, MUL3) >>> maskShift];
    if (d !== 0) probe(g, buf, p, d, start, end, out);
  }
}

/** For each d in the mask: the key of an occurrence sampled at `p` at d bytes into its run starts at p - d. */
function probe(g: GramSearch, buf: Uint8Array, p: number, mask: number, start: number, end: number, out: PatternHits): void {
  const kl = g.keyLength;
  for (let d = 0; mask !== 0; d++, mask >>= 1) {
    if ((mask & 1) === 0) continue;
    const k = p - d;
    if (k >= start && k + kl <= end) verify(g, buf, k, start, end, out);
  }
}

/** Insertion sort of out's hits from `from` on, by end then pattern: cheap when nearly sorted. */
function sortTail(out: PatternHits, from: number): void {
  const { ends, patterns } = out;
  for (let i = from + 1; i < out.n; i++) {
    const e = ends[i];
    const p = patterns[i];
    let j = i - 1;
    if (ends[j] < e || (ends[j] === e && patterns[j] <= p)) continue;
    while (j >= from && (ends[j] > e || (ends[j] === e && patterns[j] > p))) {
      ends[j + 1] = ends[j];
      patterns[j + 1] = patterns[j];
      j--;
    }
    ends[j + 1] = e;
    patterns[j + 1] = p;
  }
}
