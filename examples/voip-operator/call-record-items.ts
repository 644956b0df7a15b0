/** The call-record table: the caller's record of every call, and the callee's of an on-net one. */
import type { Call, Subject } from './model';
import { isoDate, round2 } from './formatting';

export function cdrItem(subjects: readonly Subject[], c: Call, recorded: boolean): Record<string, unknown> {
  const s = subjects[c.subject];
  const billed = c.durationSeconds === 0 ? 0 : Math.ceil(c.durationSeconds / 6) * 6;
  const rate = c.route === 'on-net' || c.direction === 'inbound' ? 0 : c.international ? (c.otherNumber.startsWith('+44') ? 0.35 : 1.2) : 0.01;
  return {
    accountId: s.accountId,
    callId: c.callId,
    direction: c.direction,
    callerNumber: c.direction === 'outbound' ? c.ownNumber : c.otherNumber,
    calleeNumber: c.direction === 'outbound' ? c.otherNumber : c.ownNumber,
    startTime: isoDate(c.start),
    startShard: startShard(c.callId),
    endTime: isoDate(c.start + c.durationSeconds * 1000),
    durationSeconds: c.durationSeconds,
    billedSeconds: billed,
    disposition: c.disposition,
    route: c.route,
    costCad: round2((billed / 60) * rate),
    deviceId: s.devices[Math.min(c.device, s.devices.length - 1)].deviceId,
    recorded,
  };
}

/** The callee's own record of an on-net call. */
export function calleeLeg(subjects: readonly Subject[], c: Call): Record<string, unknown> {
  const o = subjects[c.other!];
  return {
    accountId: o.accountId,
    callId: c.callId,
    direction: 'inbound',
    callerNumber: c.ownNumber,
    calleeNumber: c.otherNumber,
    startTime: isoDate(c.start),
    startShard: startShard(c.callId),
    endTime: isoDate(c.start + c.durationSeconds * 1000),
    durationSeconds: c.durationSeconds,
    billedSeconds: 0,
    disposition: c.disposition,
    route: 'on-net',
    costCad: 0,
    deviceId: o.devices[0].deviceId,
    recorded: false,
  };
}

/**
 * The CDR date index's partition (`by-start-shard`): four shards, so the index's writes spread
 * over four partitions instead of one. A hash of the call id, with no draw from the generator's
 * random streams, so every other byte of the dataset stays as it was.
 */
export function startShard(callId: string): string {
  let h = 0;
  for (let i = 0; i < callId.length; i++) h = (h * 31 + callId.charCodeAt(i)) >>> 0;
  return `s${h % 4}`;
}
