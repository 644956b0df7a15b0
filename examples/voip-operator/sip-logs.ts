/**
 * SIP proxy logs (JSON Lines), one object at a time as a stream of text chunks, slice by slice
 * (one minute of traffic at a time for the huge object), each slice sorted by time and flushed.
 * A few lines of one object are truncated on purpose: parsers must skip them, not stop.
 */
import { rngFor } from './prng';
import type { Call } from './model';
import { chunked, wholeRecord, type LogContext, type LogObjectSpec, type ObjectTally } from './log-records';
import { SipWriter } from './sip-writer';
import { PROXY_HOSTS } from './reference-data';

function callsBetween(calls: readonly Call[], from: number, to: number): Call[] {
  let lo = 0;
  let hi = calls.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (calls[mid].start < from) lo = mid + 1;
    else hi = mid;
  }
  const out: Call[] = [];
  for (let k = lo; k < calls.length && calls[k].start < to; k++) out.push(calls[k]);
  return out;
}

export function* sipLines(ctx: LogContext, spec: LogObjectSpec, tally: ObjectTally): Generator<string> {
  const rng = rngFor(ctx.params.seed, 'sip', spec.key);
  const forms = rngFor(ctx.params.seed, 'sip-forms', spec.key);
  let linesBefore = 0;
  let sliceNo = 0;
  for (const slice of spec.slices) {
    const w = new SipWriter(ctx, rng, rng.pick(PROXY_HOSTS), forms);
    for (const c of callsBetween(ctx.calls, slice.from, slice.to)) w.dialog(c);
    w.fill(slice, (t, roll) => {
      if (roll < 0.57 && ctx.devices.length > 0) {
        let placed = false;
        for (let attempt = 0; attempt < 4 && !placed; attempt++) {
          const e = ctx.devices[Math.floor(rng.next() * ctx.devices.length)];
          if (t >= e.from && t < e.until) {
            if (roll < 0.42) w.register(t, e.s, e.d);
            else w.keepalive(t, e.s, e.d);
            placed = true;
          }
        }
        if (!placed) w.scanner(t);
      } else if (roll < 0.945) {
        w.scanner(t);
      } else if (roll < 0.95) {
        w.staleDevice(t, ctx.subjects[Math.floor(rng.next() * ctx.subjects.length)]);
      } else {
        w.bruteForce(t, ctx.subjects[Math.floor(rng.next() * ctx.subjects.length)]);
      }
    });
    const entries = w.byTime();
    const truncate = new Map<number, { cut: number; mentions: readonly number[] }>();
    if (spec.malformed && sliceNo === 0 && entries.length > 10) {
      const n = entries.length;
      let p1 = entries.findIndex((e, k) => k >= Math.floor(n / 2) && e.phoneInv !== undefined);
      if (p1 < 0) p1 = entries.findIndex((e) => e.phoneInv !== undefined);
      if (p1 < 0) p1 = Math.floor(n / 2);
      const e1 = entries[p1];
      const cutAt = e1.line.indexOf(',"sipUser"');
      truncate.set(p1, { cut: cutAt > 0 ? cutAt : Math.floor(e1.line.length * 0.6), mentions: cutAt > 0 ? (e1.phoneInv ?? []) : [] });
      for (const k of [Math.floor(n * 0.2), Math.floor(n * 0.8)]) if (!truncate.has(k)) truncate.set(k, { cut: 30 + rng.int(0, 18), mentions: [] });
    }
    yield* chunked(entries, tally, (e, k) => {
      const cut = truncate.get(k);
      if (!cut) return wholeRecord(tally, e);
      tally.malformedLines.push(linesBefore + k + 1);
      for (const m of cut.mentions) tally.malformedMentions.add(m);
      return e.line.slice(0, cut.cut);
    });
    linesBefore += entries.length;
    sliceNo++;
  }
}
