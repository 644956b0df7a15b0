/**
 * The access report (`access` requests): the overview of what is held, without the data itself,
 * as JSON (hashed into the receipt) and as HTML beside it, under `reports/<requestId>/`.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ExportedStore } from '../request-data';
import { canonicalJson, sha256Hex } from '../hash';
import { docKeys, loadPlan, storeNamed } from '../request-data';
import { DEFAULT_SCHEDULE, parseSchedule, ruleFor, type RetentionSchedule } from '../retention';
import type { Runtime } from '../runtime';
import { renderOverviewHtml } from './html';
import { overviewOf, storeOverview, type Overview } from './overview';

export interface AssembledExport {
  readonly bundleKey: string;
  readonly bundleHash: string;
  /** Files (media) in the bundle, or held (access report). */
  readonly files: number;
  readonly records: number;
  /** The object's size in bytes (the receipt records it beside the hash). */
  readonly bytes: number;
}

export interface AssembleOptions {
  /** Stores whose export failed: named in the overview as not included. */
  readonly failedStores?: readonly string[];
}

export function scheduleOf(rt: Runtime): RetentionSchedule {
  return rt.config.retention === undefined ? DEFAULT_SCHEDULE : parseSchedule(rt.config.retention);
}

export function reportKeys(requestId: string) {
  return { json: `reports/${requestId}/access-report.json`, html: `reports/${requestId}/access-report.html` };
}

/** The overview of an access request, from the plan and the exported documents. */
export async function accessReport(rt: Runtime, requestId: string, planHash: string, storeNames: readonly string[], opts: AssembleOptions = {}): Promise<Overview> {
  const plan = await loadPlan(rt, requestId, planHash);
  const schedule = scheduleOf(rt);
  const stores = [];
  for (const name of storeNames) {
    const store = storeNamed(rt, name);
    const exported = await rt.workspace.getJson<ExportedStore>(docKeys.exported(requestId, name));
    stores.push(storeOverview({ store, exported, slice: plan.stores.find((s) => s.store === name), rule: ruleFor(schedule, store) }));
  }
  return overviewOf({
    requestId,
    type: 'access',
    generatedAt: rt.clock.now().toISOString(),
    planHash,
    operator: rt.config.dataMap.operator?.name ?? null,
    stores,
    failedStores: [...(opts.failedStores ?? [])],
  });
}

export async function assembleAccessReport(rt: Runtime, requestId: string, planHash: string, storeNames: readonly string[], opts: AssembleOptions = {}): Promise<AssembledExport> {
  const report = await accessReport(rt, requestId, planHash, storeNames, opts);
  const body = canonicalJson(report);
  const keys = reportKeys(requestId);
  const bucket = rt.config.settings.bundleBucket;
  await rt.s3.send(new PutObjectCommand({ Bucket: bucket, Key: keys.html, Body: renderOverviewHtml(report), ContentType: 'text/html; charset=utf-8' }));
  await rt.s3.send(new PutObjectCommand({ Bucket: bucket, Key: keys.json, Body: body, ContentType: 'application/json' }));
  return { bundleKey: keys.json, bundleHash: sha256Hex(body), files: report.totals.files, records: report.totals.records, bytes: Buffer.byteLength(body) };
}
