/** Where each part of the dataset goes, and the shapes of what the generator hands out for it. */
import type { Readable } from 'node:stream';

/** Where each part of the dataset lives; must agree with datamap.json (a test checks it). */
export const LAYOUT = {
  accounts: { store: 'accounts', table: 'voip-accounts' },
  invoices: { store: 'invoices', table: 'voip-billing' },
  paymentTokens: { store: 'payment-tokens', table: 'voip-payment-tokens' },
  callRecords: { store: 'call-records', table: 'voip-cdrs' },
  contacts: { store: 'contacts', table: 'voip-contacts' },
  devices: { store: 'devices', table: 'voip-devices' },
  consents: { store: 'consents', table: 'voip-consents' },
  recordings: { store: 'call-recordings', bucket: 'voip-media', prefix: 'recordings/' },
  voicemail: { store: 'voicemail', bucket: 'voip-media', prefix: 'voicemail/' },
  fax: { store: 'fax', bucket: 'voip-media', prefix: 'fax/' },
  sipLogs: { store: 'sip-logs', bucket: 'voip-logs', prefix: 'sip/' },
  appLogs: { store: 'app-logs', bucket: 'voip-logs', prefix: 'app/' },
} as const;

export const DYNAMODB_STORES = ['accounts', 'invoices', 'payment-tokens', 'call-records', 'contacts', 'devices', 'consents'] as const;
export const MEDIA_STORES = ['call-recordings', 'voicemail', 'fax'] as const;
export const LOG_STORES = ['sip-logs', 'app-logs'] as const;
export type DynamoStoreName = (typeof DYNAMODB_STORES)[number];
export type MediaStoreName = (typeof MEDIA_STORES)[number];
export type LogStoreName = (typeof LOG_STORES)[number];

export interface TableItem {
  readonly store: DynamoStoreName;
  readonly table: string;
  readonly item: Record<string, unknown>;
}

export type MediaVersion =
  | { readonly deleteMarker: false; readonly body: Buffer; readonly legalHold: boolean; readonly metadata: Readonly<Record<string, string>> }
  | { readonly deleteMarker: true };

export interface MediaObject {
  readonly store: MediaStoreName;
  readonly bucket: string;
  readonly key: string;
  readonly accountId: string;
  readonly contentType: string;
  /** Oldest first: put them in this order; a delete marker is a DeleteObject without version id. */
  readonly versions: readonly MediaVersion[];
}

export interface LogObject {
  readonly store: LogStoreName;
  readonly bucket: string;
  readonly key: string;
  readonly format: 'jsonl' | 'csv';
  readonly compression: 'gzip' | 'none';
  readonly contentType: string;
  /** About how many uncompressed bytes `lines()` yields (the generator stops at the first record past it). */
  readonly approxBytes: number;
  /** The uncompressed text, in chunks of whole lines. */
  lines(): Generator<string>;
  /** The object's bytes as stored: gzip of `lines()`, or `lines()` as UTF-8. */
  body(): Readable;
}
