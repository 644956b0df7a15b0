/**
 * The reference operator's customers, their devices, contacts and calls: the in-memory model
 * every table item, media object and log record of the dataset is derived from. This module
 * holds the shapes and the fixed values; subjects.ts builds the customers, contacts.ts and
 * calls.ts what each of them did.
 *
 * Only the customers themselves live in memory for the whole run (a few thousand at most);
 * contacts and calls are pure functions of (seed, customer index), recomputed when needed, so
 * the large scale never holds its hundreds of thousands of call records at once.
 */
import type { City, DeviceModel, PLANS } from './reference-data';

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
