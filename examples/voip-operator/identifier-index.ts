/**
 * The values that identify a customer, as identity resolution would find them: the generator
 * looks up what it writes into items and log records here to note whom each one mentions.
 */
import type { Subject } from './model';

export interface IdentifierIndex {
  readonly accountId: ReadonlyMap<string, number>;
  readonly email: ReadonlyMap<string, number>;
  readonly phone: ReadonlyMap<string, number>;
  readonly sipUsername: ReadonlyMap<string, number>;
  readonly deviceId: ReadonlyMap<string, number>;
  readonly ip: ReadonlyMap<string, number>;
}

export function buildIndex(subjects: readonly Subject[]): IdentifierIndex {
  const accountId = new Map<string, number>();
  const email = new Map<string, number>();
  const phone = new Map<string, number>();
  const sipUsername = new Map<string, number>();
  const deviceId = new Map<string, number>();
  const ip = new Map<string, number>();
  const put = (m: Map<string, number>, v: string, i: number, what: string) => {
    const prior = m.get(v);
    if (prior !== undefined && prior !== i) throw new Error(`generator bug: ${what} shared by customers ${prior} and ${i}`);
    m.set(v, i);
  };
  for (const s of subjects) {
    put(accountId, s.accountId, s.index, 'accountId');
    put(email, s.email, s.index, 'email');
    for (const p of s.phones) put(phone, p, s.index, 'phone');
    put(sipUsername, s.sipUsername, s.index, 'sipUsername');
    for (const d of s.devices) {
      put(deviceId, d.deviceId, s.index, 'deviceId');
      put(ip, d.ip, s.index, 'ip');
    }
  }
  return { accountId, email, phone, sipUsername, deviceId, ip };
}
