/** Customers' calls, a pure function of (seed, customer index): random ones and the scripted scenarios. */
import { rngFor, WeightedPicker, type Rng } from './prng';
import { HOUR, NEAR_MISS, YEAR, DAY, type Call, type Disposition, type ModelParams, type Subject } from './model';
import { externalNumber } from './outside-parties';
import { isActiveAt } from './subjects';
import { FRAUD_DESTINATIONS } from './reference-data';

const OUTBOUND_OUTCOME = new WeightedPicker<Disposition>([['ANSWERED', 78], ['NO ANSWER', 10], ['BUSY', 6], ['FAILED', 6]]);
const INBOUND_OUTCOME = new WeightedPicker<Disposition>([['ANSWERED', 72], ['NO ANSWER', 8], ['BUSY', 3], ['VOICEMAIL', 17]]);

/**
 * The calls of one customer over the last two years of their activity: outbound calls
 * (to other customers or outside numbers) and inbound calls from outside. Inbound calls from
 * other customers are the other customer's outbound calls.
 */
export function callsOf(p: ModelParams, subjects: readonly Subject[], i: number): Call[] {
  const s = subjects[i];
  const rng = rngFor(p.seed, 'calls', i);
  const from = Math.max(s.createdAt, p.asOf - 2 * YEAR);
  const until = s.activeUntil;
  const calls: Call[] = [];
  if (until > from) {
    const count = Math.round((s.callsPerYear * (until - from)) / YEAR);
    for (let k = 0; k < count; k++) {
      const start = from + Math.floor(rng.next() * (until - from - 3600_000));
      calls.push(randomCall(rng, p, subjects, s, start));
    }
  }
  for (const c of scriptedCalls(p, subjects, i)) calls.push(c);
  calls.sort((a, b) => a.start - b.start || (a.callId < b.callId ? -1 : 1));
  return calls;
}

function randomCall(rng: Rng, _p: ModelParams, subjects: readonly Subject[], s: Subject, start: number): Call {
  const callId = rng.uuid();
  const ownNumber = rng.pick(s.phones);
  const device = rng.int(0, s.devices.length - 1);
  const fraudWindow = s.fraudInvestigation && start > s.activeUntil - 60 * DAY;
  if (rng.chance(0.55)) {
    // Outbound.
    if (fraudWindow && rng.chance(0.5)) {
      return { callId, subject: s.index, start, durationSeconds: rng.int(600, 5400), direction: 'outbound', ownNumber, otherNumber: rng.pick(FRAUD_DESTINATIONS), disposition: 'ANSWERED', route: 'carrier-c', device, international: true };
    }
    let other: number | undefined;
    let otherNumber: string;
    if (subjects.length > 1 && rng.chance(0.2)) {
      let j = rng.int(0, subjects.length - 2);
      if (j >= s.index) j++;
      if (isActiveAt(subjects[j], start)) other = j;
    }
    otherNumber = other !== undefined ? rng.pick(subjects[other].phones) : externalNumber(rng);
    const disposition = OUTBOUND_OUTCOME.pick(rng);
    if (other === undefined && rng.chance(0.02)) otherNumber = rng.pick(FRAUD_DESTINATIONS);
    const international = !otherNumber.startsWith('+1');
    return {
      callId,
      subject: s.index,
      start,
      durationSeconds: disposition === 'ANSWERED' ? Math.max(3, Math.round(rng.exponential(190))) : 0,
      direction: 'outbound',
      ownNumber,
      otherNumber,
      other,
      disposition,
      route: other !== undefined ? 'on-net' : rng.pick(['carrier-a', 'carrier-b', 'carrier-c']),
      device,
      international,
    };
  }
  const disposition = INBOUND_OUTCOME.pick(rng);
  return {
    callId,
    subject: s.index,
    start,
    durationSeconds: disposition === 'ANSWERED' ? Math.max(3, Math.round(rng.exponential(210))) : disposition === 'VOICEMAIL' ? rng.int(8, 75) : 0,
    direction: 'inbound',
    ownNumber,
    otherNumber: externalNumber(rng),
    disposition,
    route: rng.pick(['carrier-a', 'carrier-b']),
    device,
    international: false,
  };
}

/** Calls every scale holds, inside the log window (it is at least two days long). */
function scriptedCalls(p: ModelParams, subjects: readonly Subject[], i: number): Call[] {
  const rng = rngFor(p.seed, 'scripted-calls', i);
  const at = (hoursAgo: number, minute: number) => p.asOf - hoursAgo * HOUR + minute * 60_000 + rng.int(0, 59_999);
  const s = subjects[i];
  const base = { subject: i, device: 0, international: false } as const;
  if (i === 9) {
    return [
      { ...base, callId: rng.uuid(), start: at(20, 14), durationSeconds: 95, direction: 'outbound', ownNumber: s.phones[0], otherNumber: subjects[0].phones[0], other: 0, disposition: 'ANSWERED', route: 'on-net', scripted: 'on-net call cust-10 -> cust-1' },
      { ...base, callId: rng.uuid(), start: at(19, 2), durationSeconds: 0, direction: 'outbound', ownNumber: s.phones[0], otherNumber: NEAR_MISS.phoneLonger, disposition: 'FAILED', route: 'carrier-a', scripted: 'misdial one digit too long' },
    ];
  }
  if (i === 0) {
    return [{ ...base, callId: rng.uuid(), start: at(5, 30), durationSeconds: 412, direction: 'outbound', ownNumber: s.phones[0], otherNumber: externalNumber(rng), disposition: 'ANSWERED', route: 'carrier-b', scripted: 'recorded outbound call' }];
  }
  if (i === subjects.length - 1) {
    return [{ ...base, callId: rng.uuid(), start: at(9, 10), durationSeconds: 128, direction: 'inbound', ownNumber: s.phones[0], otherNumber: externalNumber(rng), disposition: 'ANSWERED', route: 'carrier-b', scripted: 'recorded call of the special-character id' }];
  }
  if (i === 6) {
    return [{ ...base, callId: rng.uuid(), start: at(30, 45), durationSeconds: 41, direction: 'inbound', ownNumber: s.phones[0], otherNumber: externalNumber(rng), disposition: 'VOICEMAIL', route: 'carrier-a', scripted: 'voicemail under legal hold' }];
  }
  return [];
}
