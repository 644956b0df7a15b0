/**
 * The reference operator's customers, their devices, contacts and calls: the in-memory model
 * every table item, media object and log record of the dataset is derived from.
 *
 * Only the customers themselves live in memory for the whole run (a few thousand at most);
 * contacts and calls are pure functions of (seed, customer index), recomputed when needed, so
 * the large scale never holds its hundreds of thousands of call records at once.
 */
import { rngFor, WeightedPicker, type Rng } from './prng';
import {
  CITIES,
  DEVICE_MODELS,
  ENGLISH_FIRST,
  ENGLISH_LAST,
  ENGLISH_STREETS,
  FRAUD_DESTINATIONS,
  FRENCH_FIRST,
  FRENCH_LAST,
  FRENCH_STREETS,
  OTHER_EMAIL_DOMAINS,
  PLANS,
  SUBJECT_EMAIL_DOMAINS,
  type City,
  type DeviceModel,
} from './reference-data';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const YEAR = 365 * DAY;

/** A subject id made of regex and glob metacharacters (no "/": it is a key-template segment). */
export const SPECIAL_SUBJECT_ID = 'cust-1+.*?[x](y|z)^$';

/** The deliberate near-miss values (see `nearMisses` in subjects.json). */
export const NEAR_MISS = {
  phone: '+15145550101',
  phoneLonger: '+151455501012',
  email: 'bob@example.com',
  emailLonger: 'alice.bob@example.com',
  ip: '203.0.113.5',
  ipLonger: '203.0.113.50',
} as const;

export interface ModelParams {
  readonly seed: string;
  readonly asOf: number;
  readonly subjects: number;
  readonly callsPerYear: readonly [number, number];
  readonly contacts: readonly [number, number];
}

export interface Device {
  readonly deviceId: string;
  readonly model: DeviceModel;
  readonly firmware: string;
  readonly userAgent: string;
  readonly mac: string | null;
  readonly ip: string;
  readonly home: boolean;
  readonly registeredAt: number;
  readonly lastSeenAt: number;
  /**
   * The address before the last change (ISP lease renewed, phone moved between networks), or
   * null. Logs before `ipChangedAt` show it; it is registered nowhere, so it is no identifier.
   */
  readonly previousIp: string | null;
  readonly ipChangedAt: number;
}

/** The address a device used at time t. */
export function deviceIpAt(d: Device, t: number): string {
  return d.previousIp !== null && t < d.ipChangedAt ? d.previousIp : d.ip;
}

export interface Subject {
  readonly index: number;
  readonly accountId: string;
  readonly accountNumber: number;
  readonly firstName: string;
  readonly lastName: string;
  readonly fullName: string;
  readonly language: 'fr-CA' | 'en-CA';
  readonly email: string;
  readonly phones: readonly string[];
  readonly sipUsername: string;
  readonly city: City;
  readonly address: { readonly line1: string; readonly city: string; readonly province: string; readonly postalCode: string; readonly country: 'CA' };
  readonly plan: (typeof PLANS)[number];
  readonly businessName?: string;
  readonly createdAt: number;
  readonly deactivatedAt?: number;
  /** End of activity: deactivation, or asOf for active accounts. */
  readonly activeUntil: number;
  readonly fraudInvestigation: boolean;
  readonly recordingEnabled: boolean;
  readonly marketingConsent: boolean;
  readonly devices: readonly Device[];
  /** A mobile-network address the portal sees; not registered anywhere, so not an identifier. */
  readonly mobileIp: string;
  readonly callsPerYear: number;
  /** Relative weight of this customer in portal and log traffic. */
  readonly activity: number;
  /** Media of this subject under S3 legal hold: every recording version, or one voicemail. */
  readonly legalHold: 'recordings' | 'voicemail' | null;
}

export interface Contact {
  readonly ownerAccountId: string;
  readonly contactId: string;
  readonly contactName: string;
  readonly contactPhone: string;
  readonly contactEmail?: string;
  readonly label: string;
  readonly favorite: boolean;
  readonly createdAt: number;
}

export type Disposition = 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED' | 'VOICEMAIL';

export interface Call {
  readonly callId: string;
  /** The subject whose call list holds this call (the caller for outbound, the callee for inbound). */
  readonly subject: number;
  readonly start: number;
  readonly durationSeconds: number;
  readonly direction: 'outbound' | 'inbound';
  readonly ownNumber: string;
  readonly otherNumber: string;
  /** The other party when it is also a customer (on-net call); only on outbound calls. */
  readonly other?: number;
  readonly disposition: Disposition;
  readonly route: string;
  readonly device: number;
  readonly international: boolean;
  /** A fixed scenario of the dataset rather than a random call. */
  readonly scripted?: string;
}

const ASCII = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();

const POSTAL_LETTERS = 'ABCEGHJKLMNPRSTVWXYZ';

const CITY_PICKER = new WeightedPicker(CITIES.map((c) => [c, c.weight] as const));
const OUTBOUND_OUTCOME = new WeightedPicker<Disposition>([['ANSWERED', 78], ['NO ANSWER', 10], ['BUSY', 6], ['FAILED', 6]]);
const INBOUND_OUTCOME = new WeightedPicker<Disposition>([['ANSWERED', 72], ['NO ANSWER', 8], ['BUSY', 3], ['VOICEMAIL', 17]]);

class PhoneAllocator {
  private readonly pools = new Map<string, number[]>();
  private readonly reserved = new Set<string>();
  constructor(private readonly rng: Rng) {}
  reserve(phone: string): void {
    this.reserved.add(phone);
  }
  next(areaCode: string): string {
    let pool = this.pools.get(areaCode);
    if (!pool) {
      const lines: number[] = [];
      for (let l = 100; l < 2000; l++) lines.push(l);
      pool = this.rng.shuffle(lines);
      this.pools.set(areaCode, pool);
    }
    for (;;) {
      const line = pool.pop();
      if (line === undefined) throw new Error(`no fictional numbers left in area code ${areaCode}`);
      const phone = `+1${areaCode}555${String(line).padStart(4, '0')}`;
      if (!this.reserved.has(phone)) return phone;
    }
  }
}

/** A number of someone who is not a customer: same 555 exchange, lines 2000-9999. */
export function externalNumber(rng: Rng): string {
  const city = CITY_PICKER.pick(rng);
  const roll = rng.next();
  if (roll < 0.04) return `+1800555${rng.int(2000, 9999)}`;
  if (roll < 0.1) return `+1212555${rng.int(2000, 9999)}`;
  return `+1${rng.pick(city.areaCodes)}555${rng.int(2000, 9999)}`;
}

export function externalEmail(rng: Rng): string {
  const french = rng.chance(0.5);
  const first = ASCII(rng.pick(french ? FRENCH_FIRST : ENGLISH_FIRST));
  const last = ASCII(rng.pick(french ? FRENCH_LAST : ENGLISH_LAST));
  return `${first}.${last}${rng.int(1, 99)}@${rng.pick(OTHER_EMAIL_DOMAINS)}`;
}

export function externalName(rng: Rng): string {
  const french = rng.chance(0.5);
  return `${rng.pick(french ? FRENCH_FIRST : ENGLISH_FIRST)} ${rng.pick(french ? FRENCH_LAST : ENGLISH_LAST)}`;
}

/** Unique addresses: 100.64.0.0/10 through a bijection, IPv6 in 2001:db8::/32. */
class IpAllocator {
  private k = 0;
  private readonly offset: number;
  constructor(private readonly rng: Rng) {
    this.offset = rng.int(0, (1 << 22) - 1);
  }
  v4(): string {
    for (;;) {
      const n = (Math.imul(this.k++, 2654435761) + this.offset) & ((1 << 22) - 1);
      const a = 100;
      const b = 64 + (n >>> 16);
      const c = (n >>> 8) & 0xff;
      const d = n & 0xff;
      if (d === 0 || d === 255) continue;
      return `${a}.${b}.${c}.${d}`;
    }
  }
  v6(): string {
    const n = this.k++;
    return `2001:db8:${(0x100 + (n >>> 16)).toString(16)}:${(n & 0xffff).toString(16)}::${this.rng.hex(4).replace(/^0+/, '') || '1'}`;
  }
}

interface Pin {
  city?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  firstPhone?: string;
  homeIp?: string;
  deactivatedDaysAgo?: number;
  fraud?: boolean;
  recording?: boolean;
  legalHold?: Subject['legalHold'];
  callsPerYear?: number;
  createdDaysAgo?: number;
}

/**
 * Fixed customers (by index) so that every scale holds the scenarios the tests and the demo
 * rely on: near-miss identifiers, deactivation on both sides of two years, fraud flags, holds.
 */
const PINS: Record<number, Pin> = {
  0: { city: 'Montréal', firstPhone: NEAR_MISS.phone, homeIp: NEAR_MISS.ip, recording: true, createdDaysAgo: 2900, callsPerYear: 40 },
  1: { firstName: 'Robert', lastName: 'Gagnon', email: NEAR_MISS.email, createdDaysAgo: 1500 },
  2: { firstName: 'Alice', lastName: 'Bourque', email: NEAR_MISS.emailLonger, createdDaysAgo: 1200 },
  3: { deactivatedDaysAgo: 3 * 365 + 40, fraud: true, createdDaysAgo: 2200 },
  4: { deactivatedDaysAgo: 2 * 365 + 150, fraud: false, createdDaysAgo: 2000 },
  5: { deactivatedDaysAgo: 240, fraud: true, recording: true, legalHold: 'recordings', callsPerYear: 40, createdDaysAgo: 1800 },
  6: { legalHold: 'voicemail', createdDaysAgo: 900 },
  7: { deactivatedDaysAgo: 90, recording: true, createdDaysAgo: 1000, callsPerYear: 30 },
  9: { city: 'Montréal', createdDaysAgo: 700, callsPerYear: 30 },
  10: { homeIp: NEAR_MISS.ipLonger, createdDaysAgo: 600 },
};
/** Customers that must stay active (scripted calls and sessions in the log window). */
const ACTIVE_PINS = new Set([0, 1, 2, 6, 9, 10, 11]);

export const MIN_SUBJECTS = 13;

export function buildSubjects(p: ModelParams): Subject[] {
  if (p.subjects < MIN_SUBJECTS) throw new Error(`subjects must be at least ${MIN_SUBJECTS} (the fixed scenarios need them)`);
  const rng = rngFor(p.seed, 'subjects');
  const phones = new PhoneAllocator(rngFor(p.seed, 'phones'));
  phones.reserve(NEAR_MISS.phone);
  const ips = new IpAllocator(rngFor(p.seed, 'ips'));
  const emails = new Set<string>([NEAR_MISS.email, NEAR_MISS.emailLonger]);
  const deviceIds = new Set<string>();
  const numberOffset = rng.int(0, 899_999);
  const subjects: Subject[] = [];
  for (let i = 0; i < p.subjects; i++) {
    const pin = PINS[i] ?? {};
    const accountId = i === p.subjects - 1 ? SPECIAL_SUBJECT_ID : `cust-${i + 1}`;
    const accountNumber = 100_000 + ((i * 7919 + numberOffset) % 900_000);
    const city = pin.city ? CITIES.find((c) => c.name === pin.city)! : CITY_PICKER.pick(rng);
    const french = rng.chance(city.french);
    const firstName = pin.firstName ?? rng.pick(french ? FRENCH_FIRST : ENGLISH_FIRST);
    const lastName = pin.lastName ?? rng.pick(french ? FRENCH_LAST : ENGLISH_LAST);
    const fullName = `${firstName} ${lastName}`;
    let email = pin.email;
    const domain = rng.pick(SUBJECT_EMAIL_DOMAINS);
    const style = rng.next();
    for (let n = 0; !email || (!pin.email && emails.has(email)); n++) {
      const local = style < 0.15 ? `${ASCII(firstName)[0]}${ASCII(lastName)}` : style < 0.2 ? `${ASCII(firstName)}.${ASCII(lastName)}+voip` : `${ASCII(firstName)}.${ASCII(lastName)}`;
      email = `${local}${n === 0 ? '' : n + 1}@${domain}`;
    }
    emails.add(email);

    const phoneCount = rng.weighted([[1, 0.6], [2, 0.3], [3, 0.1]] as const);
    const own: string[] = pin.firstPhone ? [pin.firstPhone] : [];
    while (own.length < phoneCount) own.push(phones.next(rng.chance(0.85) ? rng.pick(city.areaCodes) : rng.pick(rng.pick(CITIES).areaCodes)));

    const createdAt = p.asOf - (pin.createdDaysAgo ?? rng.int(45, 8 * 365 - 5)) * DAY - rng.int(0, DAY - 1);
    let deactivatedAt: number | undefined;
    if (pin.deactivatedDaysAgo !== undefined) deactivatedAt = p.asOf - pin.deactivatedDaysAgo * DAY - rng.int(0, DAY - 1);
    else if (!ACTIVE_PINS.has(i) && i !== p.subjects - 1 && rng.chance(0.22)) {
      const span = p.asOf - createdAt - 60 * DAY;
      if (span > DAY) deactivatedAt = createdAt + 60 * DAY + Math.floor(rng.next() * span);
    }
    const activeUntil = deactivatedAt ?? p.asOf;
    const plan = rng.weighted(PLANS.map((pl, k) => [pl, [40, 25, 15, 8, 12][k]] as const));
    const businessName = plan.code.startsWith('BIZ') ? `${french ? 'Les Services' : ''} ${lastName} ${french ? 'inc.' : 'Consulting Ltd.'}`.trim() : undefined;

    // Devices: a home device first (its public IP shared with other home devices), then softphones.
    const deviceCount = rng.weighted([[1, 0.55], [2, 0.35], [3, 0.1]] as const);
    const homeIp = pin.homeIp ?? ips.v4();
    // Some addresses changed shortly before the end of activity (inside the log window).
    const ipChange = i === 0 || rng.chance(0.4);
    const ipChangedAt = activeUntil - rng.int(6 * 3600, 3 * 86_400) * 1000;
    const previousHomeIp = ipChange ? ips.v4() : null;
    const devices: Device[] = [];
    for (let d = 0; d < deviceCount; d++) {
      const hardware = DEVICE_MODELS.filter((m) => m.kind !== 'softphone');
      const soft = DEVICE_MODELS.filter((m) => m.kind === 'softphone');
      const model = d === 0 || rng.chance(0.4) ? rng.pick(hardware) : rng.pick(soft);
      const home = model.kind !== 'softphone';
      let mac: string | null = null;
      let deviceId: string;
      do {
        if (model.oui) {
          const nic = `${model.oui}${rng.hex(6)}`;
          mac = nic.match(/../g)!.join(':').toUpperCase();
          deviceId = `dev-${nic}`;
        } else {
          deviceId = `dev-${rng.hex(12)}`;
        }
      } while (deviceIds.has(deviceId));
      deviceIds.add(deviceId);
      const ip = home ? homeIp : rng.chance(0.3) ? ips.v6() : ips.v4();
      const previousIp = home ? previousHomeIp : ipChange ? (ip.includes(':') ? ips.v6() : ips.v4()) : null;
      const firmware = rng.pick(model.firmware);
      const registeredAt = Math.min(activeUntil - DAY, createdAt + Math.floor(rng.next() * Math.max(DAY, (activeUntil - createdAt) * (d === 0 ? 0.05 : 0.6))));
      const lastSeenAt = activeUntil - rng.int(60, deactivatedAt ? 10 * DAY / 1000 : 3 * 3600) * 1000;
      devices.push({ deviceId, model, firmware, userAgent: model.userAgent(firmware), mac, ip, home, registeredAt, lastSeenAt: Math.max(lastSeenAt, registeredAt), previousIp, ipChangedAt });
    }

    const streets = french ? FRENCH_STREETS : ENGLISH_STREETS;
    const unit = rng.chance(0.3) ? (french ? `, app. ${rng.int(1, 12)}` : `, Unit ${rng.int(100, 1800)}`) : '';
    const postalCode = `${rng.pick(city.fsa)}${rng.pick([...POSTAL_LETTERS])} ${rng.int(0, 9)}${rng.pick([...POSTAL_LETTERS])}${rng.int(0, 9)}`;
    subjects.push({
      index: i,
      accountId,
      accountNumber,
      firstName,
      lastName,
      fullName,
      language: french ? 'fr-CA' : 'en-CA',
      email,
      phones: own,
      sipUsername: `${accountNumber}_${ASCII(firstName)}`,
      city,
      address: { line1: `${rng.int(10, 9999)} ${rng.pick(streets)}${unit}`, city: city.name, province: city.province, postalCode, country: 'CA' },
      plan,
      businessName,
      createdAt,
      deactivatedAt,
      activeUntil,
      fraudInvestigation: pin.fraud ?? (!ACTIVE_PINS.has(i) && rng.chance(0.04)),
      recordingEnabled: pin.recording ?? (rng.chance(0.35) || i === p.subjects - 1),
      marketingConsent: rng.chance(0.4),
      devices,
      mobileIp: ips.v4(),
      callsPerYear: pin.callsPerYear ?? rng.int(p.callsPerYear[0], p.callsPerYear[1]),
      activity: 0.3 + rng.next() * 1.7,
      legalHold: pin.legalHold ?? null,
    });
  }
  return subjects;
}

export function isActiveAt(s: Subject, t: number): boolean {
  return t >= s.createdAt && t < s.activeUntil;
}

/** Address-book entries of one customer; some are other customers, one customer lists themself. */
export function contactsOf(p: ModelParams, subjects: readonly Subject[], i: number): Contact[] {
  const s = subjects[i];
  const rng = rngFor(p.seed, 'contacts', i);
  const count = rng.int(p.contacts[0], p.contacts[1]);
  const out: Contact[] = [];
  const add = (c: Omit<Contact, 'ownerAccountId' | 'contactId' | 'createdAt' | 'favorite' | 'label'> & { label?: string }) => {
    out.push({
      ownerAccountId: s.accountId,
      contactId: `ct-${rng.hex(10)}`,
      label: c.label ?? rng.pick(['mobile', 'home', 'work']),
      favorite: rng.chance(0.2),
      createdAt: s.createdAt + Math.floor(rng.next() * (s.activeUntil - s.createdAt)),
      contactName: c.contactName,
      contactPhone: c.contactPhone,
      ...(c.contactEmail ? { contactEmail: c.contactEmail } : {}),
    });
  };
  for (let k = 0; k < count; k++) {
    if (subjects.length > 1 && rng.chance(0.35)) {
      let j = rng.int(0, subjects.length - 2);
      if (j >= i) j++;
      const o = subjects[j];
      add({ contactName: rng.chance(0.3) ? o.firstName : o.fullName, contactPhone: rng.pick(o.phones), contactEmail: rng.chance(0.5) ? o.email : undefined });
    } else {
      add({ contactName: externalName(rng), contactPhone: externalNumber(rng), contactEmail: rng.chance(0.4) ? externalEmail(rng) : undefined });
    }
  }
  // Fixed scenarios.
  if (i === 4) add({ contactName: `${subjects[0].firstName} (cell)`, contactPhone: NEAR_MISS.phone, label: 'mobile' });
  if (i === 10) add({ contactName: 'Plombier', contactPhone: NEAR_MISS.phoneLonger, label: 'work' });
  if (i === 11) {
    add({ contactName: 'Bob', contactPhone: subjects[1].phones[0], contactEmail: NEAR_MISS.email });
    add({ contactName: 'Alice B.', contactPhone: externalNumber(rng), contactEmail: NEAR_MISS.emailLonger });
    add({ contactName: 'Moi', contactPhone: s.phones[0], contactEmail: s.email, label: 'home' });
  }
  return out;
}

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
