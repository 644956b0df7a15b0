/**
 * The `s3-records` connector: subjects' records inside log objects (JSON Lines or CSV, gzip or
 * not), found by exact identifier matching and erased by rewriting the objects. This module only
 * composes the parts, each a module of its own so the batched log pass can use them alone:
 *   - s3-records-stream.ts (with -decode.ts, -parse.ts, -types.ts): one object's records, inflated, framed,
 *     prefiltered, parsed and matched in one pass, S3 aside;
 *   - s3-records-read.ts: listing, and one streamed read per object version for many subjects;
 *   - s3-records-stage.ts + s3-records-rewrite.ts: write, verify, conditional replace;
 *   - s3-records-versions.ts: deleting older and noncurrent versions (Object Lock honoured);
 *   - s3-records-redact.ts: redacting kept records;
 *   - s3-records-apply.ts, -erase.ts, -export.ts: one subject's plan, the retention sweep, export;
 *   - s3-records-batch.ts: the batched pass (`listKeys`, `discoverMany`, `applyMany`);
 *   - s3-records-rounds.ts + s3-records-replay.ts: the pass's `eraseMany`, one read per object.
 * A noncurrent version cannot be rewritten: one that holds records to erase is deleted whole,
 * and only when every record of the subject in it is planned to go (else it is refused with
 * `version-holds-retained-records` and goes when the retained records are due).
 * Logs carry hashes of keys, counts and sizes only.
 */
import type { S3RecordsStore } from '../core/datamap';
import type { RecordMatches } from '../core/matching';
import { applyOne } from './s3-records-apply';
import { applyMany, discoverMany, listKeys } from './s3-records-batch';
import { checkStore, ONE, settingsOf, type S3RecordsOptions, type StoreEraseResult, type StoreScanResult } from './s3-records-common';
import { eraseFromStore as eraseStore } from './s3-records-erase';
import { exportRecords } from './s3-records-export';
import { scanStore as scanWholeStore } from './s3-records-read';
import { eraseMany } from './s3-records-rounds';
import type { BatchConnector, ConnectorContext, Identity } from './types';

export { UnreadableObjectError, type UnreadableReason } from './s3-records-stream';
export type { S3RecordsOptions, ScanTotals, StoreEraseResult, StoreScanResult, UnreadableObject } from './s3-records-common';

export type S3RecordsConnector = BatchConnector<S3RecordsStore> & {
  scanStore(store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreScanResult>;
  eraseFromStore(store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreEraseResult>;
};

export function createS3RecordsConnector(options: S3RecordsOptions = {}): S3RecordsConnector {
  const opt = settingsOf(options);
  const scanStore = (store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext) => scanWholeStore(opt, store, subjects, ctx);
  return {
    kind: 's3-records',
    scanStore,

    async discover(store, identity, ctx) {
      checkStore(store);
      const result = await scanStore(store, new Map([[ONE, identity]]), ctx);
      return result.findings.get(ONE) ?? [];
    },

    async apply(store, identity, actions, ctx) {
      checkStore(store);
      return applyOne(opt, store, identity, actions, ctx);
    },

    async *export(store, identity, findings, ctx) {
      checkStore(store);
      yield* exportRecords(store, identity, findings, ctx);
    },

    async eraseFromStore(store, subjects, ctx) {
      checkStore(store);
      return eraseStore(opt, store, subjects, ctx);
    },

    listKeys: (store, ctx) => listKeys(opt, store, ctx),
    discoverMany: (store, subjects, keys, ctx) => discoverMany(opt, store, subjects, keys, ctx),
    applyMany: (store, work, ctx) => applyMany(opt, store, work, ctx),
    eraseMany: (store, subjects, keys, decide, ctx, opts) => eraseMany(opts?.roundBytes === undefined ? opt : { ...opt, roundBytes: opts.roundBytes }, store, subjects, keys, decide, ctx),
  };
}

export const s3RecordsConnector: S3RecordsConnector = createS3RecordsConnector();

/** Scans a store once for a batch of subjects (subject reference → identity). */
export function scanStore(store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreScanResult> {
  return s3RecordsConnector.scanStore(store, subjects, ctx);
}

/** Erases every record of a batch of subjects from a store (the retention sweep), one rewrite per object. */
export function eraseFromStore(store: S3RecordsStore, subjects: ReadonlyMap<string, Identity>, ctx: ConnectorContext): Promise<StoreEraseResult> {
  return s3RecordsConnector.eraseFromStore(store, subjects, ctx);
}

export type { RecordMatches };
