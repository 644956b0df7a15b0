/**
 * What a subject receives: the access report (which stores hold what, how much, kept how long
 * and why) and the portability bundle. Written to the bundle bucket.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ExportedStore } from '../handlers/export-store';
import { canonicalJson, sha256Hex } from './hash';
import { countDecisions } from './plan';
import { docKeys, loadPlan, storeNamed } from './request-data';
import { DEFAULT_SCHEDULE, parseSchedule, ruleFor } from './retention';
import type { Runtime } from './runtime';

export interface AssembledExport {
  readonly bundleKey: string;
  readonly bundleHash: string;
  readonly files: number;
  readonly records: number;
}

export async function accessReport(rt: Runtime, requestId: string, planHash: string, storeNames: readonly string[]) {
  const plan = await loadPlan(rt, requestId, planHash);
  const schedule = rt.config.retention === undefined ? DEFAULT_SCHEDULE : parseSchedule(rt.config.retention);
  const stores = [];
  for (const name of storeNames) {
    const store = storeNamed(rt, name);
    const exported = await rt.workspace.getJson<ExportedStore>(docKeys.exported(requestId, name));
    const slice = plan.stores.find((s) => s.store === name);
    const rule = ruleFor(schedule, store);
    const dates = (exported?.records ?? [])
      .map((r) => (store.dateField ? r.record[store.dateField] : undefined))
      .filter((d): d is string => typeof d === 'string')
      .sort();
    stores.push({
      store: name,
      category: store.category,
      description: store.description ?? null,
      records: exported?.records.length ?? 0,
      files: exported?.files.length ?? 0,
      missing: exported?.missing.length ?? 0,
      aboutYouInOthersRecords: exported?.records.filter((r) => r.role === 'third-party').length ?? 0,
      datesCovered: dates.length > 0 ? { from: dates[0], to: dates[dates.length - 1] } : null,
      retention: { keep: rule.keep ?? null, basis: rule.basis, source: rule.source ?? null },
      decisions: slice ? countDecisions(slice.entries) : {},
    });
  }
  return { requestId, generatedAt: rt.clock.now().toISOString(), planHash, stores };
}

export async function assembleAccessReport(rt: Runtime, requestId: string, planHash: string, storeNames: readonly string[]): Promise<AssembledExport> {
  const report = await accessReport(rt, requestId, planHash, storeNames);
  const body = canonicalJson(report);
  const bundleKey = `reports/${requestId}/access-report.json`;
  await rt.s3.send(new PutObjectCommand({ Bucket: rt.config.settings.bundleBucket, Key: bundleKey, Body: body, ContentType: 'application/json' }));
  return {
    bundleKey,
    bundleHash: sha256Hex(body),
    files: report.stores.reduce((n, s) => n + s.files, 0),
    records: report.stores.reduce((n, s) => n + s.records, 0),
  };
}

export async function assemblePortabilityBundle(rt: Runtime, requestId: string, planHash: string, storeNames: readonly string[]): Promise<AssembledExport> {
  // The BagIt ZIP replaces this JSON bundle (issue 6); until then the data goes out as one JSON document.
  const report = await accessReport(rt, requestId, planHash, storeNames);
  const data: Record<string, unknown> = {};
  for (const name of storeNames) {
    const exported = await rt.workspace.getJson<ExportedStore>(docKeys.exported(requestId, name));
    data[name] = { records: exported?.records.map((r) => r.record) ?? [], files: exported?.files.map((f) => ({ name: f.name, size: f.size })) ?? [] };
  }
  const body = canonicalJson({ report, data });
  const bundleKey = `bundles/${requestId}/bundle.json`;
  await rt.s3.send(new PutObjectCommand({ Bucket: rt.config.settings.bundleBucket, Key: bundleKey, Body: body, ContentType: 'application/json' }));
  return { bundleKey, bundleHash: sha256Hex(body), files: report.stores.reduce((n, s) => n + s.files, 0), records: report.stores.reduce((n, s) => n + s.records, 0) };
}
