/**
 * The customers themselves: names, addresses, numbers, devices and account history, drawn from
 * the seed, with a few pinned customers that carry the fixed scenarios at every scale.
 */
import { rngFor, WeightedPicker } from './prng';
import { IpAllocator, PhoneAllocator } from './identifier-allocators';
import { DAY, NEAR_MISS, SPECIAL_SUBJECT_ID, type Device, type ModelParams, type Subject } from './model';
import {
  CITIES,
  DEVICE_MODELS,
  ENGLISH_FIRST,
  ENGLISH_LAST,
  ENGLISH_STREETS,
  FRENCH_FIRST,
  FRENCH_LAST,
  FRENCH_STREETS,
  PLANS,
  SUBJECT_EMAIL_DOMAINS,
} from './reference-data';

/** A name's letters and digits without accents, lower case: how it goes into e-mail addresses and SIP usernames. */
export const ASCII = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();

const POSTAL_LETTERS = 'ABCEGHJKLMNPRSTVWXYZ';

export const CITY_PICKER = new WeightedPicker(CITIES.map((c) => [c, c.weight] as const));

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
