/**
 * VerifyErasure: discover again after erasing. What remains is either expected (retained,
 * restricted, refused, third-party records now redacted) or unexpected, and the receipt says so.
 */
import { z } from 'zod';
import { connectorFor } from '../connectors';
import type { ApplyResult, Finding } from '../connectors/types';
import { docKeys, loadFindings, loadIdentity, loadPlan, storeNamed } from '../core/request-data';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from '../core/runtime';
import { taskHandler } from './middleware';
import { HashSchema } from './schemas';

export const handler = taskHandler('verify-erasure', z.object({ requestId: RequestIdSchema, planHash: HashSchema }), async ({ requestId, planHash }) => {
  const rt = getRuntime();
  const plan = await loadPlan(rt, requestId, planHash);
  const identity = await loadIdentity(rt, requestId);
  const byStore: Record<string, { remaining: number; unexpected: number }> = {};
  let remaining = 0;
  let unexpected = 0;
  for (const slice of plan.stores) {
    const store = storeNamed(rt, slice.store);
    const kept = new Set(slice.entries.filter((e) => e.action === 'restrict' || e.action === 'keep').map((e) => e.findingId));
    // Versions S3 refused to delete (Object Lock found at erase time) remain for a stated reason.
    const applied = await rt.workspace.getJson<ApplyResult>(docKeys.applied(requestId, slice.store));
    for (const refusal of applied?.refused ?? []) kept.add(refusal.findingId);
    const found = await connectorFor(store).discover(store, identity, rt.connectorContext());
    // A log record's locator (ETag, line) changes when its object is rewritten for someone
    // else; the record itself is recognised by its object key and the hash of its bytes.
    const findings = await loadFindings(rt, requestId, slice.store);
    const keptRecords = new Set(findings.filter((f) => kept.has(f.id)).map(recordIdentity));
    const notExpected = found.filter((f) => !kept.has(f.id) && !keptRecords.has(recordIdentity(f))).length;
    byStore[slice.store] = { remaining: found.length, unexpected: notExpected };
    remaining += found.length;
    unexpected += notExpected;
  }
  return { remaining, unexpected, byStore };
});

function recordIdentity(f: Finding): string {
  // A noncurrent version never changes: its records are told apart by version too.
  return f.locator.type === 's3-record' ? `${f.locator.key}#${f.locator.versionId ?? ''}#${f.locator.fingerprint}` : f.id;
}
