/**
 * What an erasure left in place on purpose, and why: the findings the plan refused (an S3 legal
 * hold or Object Lock retention seen at discovery, a hold from the ledger) and those a connector
 * refused at erase time (a protection placed since, a noncurrent log version that also holds
 * retained records). A hold is an outcome of the request, not a failure: the receipt lists these
 * per store and reason, and VerifyErasure counts what it finds of them as held, apart from what
 * is unexpectedly left.
 */
import type { ApplyResult, Finding } from '../connectors/types';
import type { StorePlan } from './plan';

export interface RefusalCount {
  readonly store: string;
  readonly reason: string;
  readonly count: number;
}

/** The plan's basis for an S3 legal hold, in the words connectors use for the same refusal. */
const REASON_OF_BASIS: Readonly<Record<string, string>> = { 'object-legal-hold': 'legal-hold' };

/**
 * Reasons for which a finding stays but is not held: kept because of the retention schedule
 * (`version-holds-retained-records`), a delete marker left over a kept version so that it does
 * not become current again, and a malformed record the store reports instead of redacting (which
 * verification still counts as unexpected: its identifier is readable).
 */
const NOT_HELD = new Set(['version-holds-retained-records', 'marker-hides-kept-version', 'malformed-record']);

/** Refused findings that verification does not accept as expected. */
const STILL_UNEXPECTED = new Set(['malformed-record']);

/** Per finding id, why it was left in place: the plan's refusals first, then the connector's. */
export function refusedFindings(slice: StorePlan, applied: Pick<ApplyResult, 'refused'> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of slice.entries) {
    // An access request's refusals change nothing: its action is `keep` for every finding.
    if (e.decision === 'refused' && e.action !== 'keep') out.set(e.findingId, REASON_OF_BASIS[e.basis] ?? e.basis);
  }
  for (const r of applied?.refused ?? []) if (!out.has(r.findingId)) out.set(r.findingId, r.reason);
  return out;
}

/** The receipt's refusal lines of one store: a count per reason, in a stable order. */
export function countRefusals(store: string, refused: ReadonlyMap<string, string>): RefusalCount[] {
  const byReason = new Map<string, number>();
  for (const reason of refused.values()) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  return [...byReason.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([reason, count]) => ({ store, reason, count }));
}

export function isHeld(reason: string): boolean {
  return !NOT_HELD.has(reason);
}

export function excusesRemaining(reason: string): boolean {
  return !STILL_UNEXPECTED.has(reason);
}

/**
 * How a finding kept on purpose is recognised again after the erasure, when its locator has
 * changed. An S3 version is the same version whatever is above it (a kept old version becomes
 * the latest once the newer ones are gone). A log record is recognised by its object key and the
 * hash of its bytes; a record that was in the current version may now be in an older one (its
 * object was rewritten, and that version could not be deleted), so it matches in any version.
 */
export function keptIdentities(f: Finding): string[] {
  const l = f.locator;
  if (l.type === 's3-object') return [`object\u0000${l.bucket}\u0000${l.key}\u0000${l.versionId ?? 'null'}`];
  if (l.type === 's3-record') return [`record\u0000${l.bucket}\u0000${l.key}\u0000${l.versionId ?? '*'}\u0000${l.fingerprint}`];
  return [f.id];
}

/** The identities under which a finding of the verifying discovery may have been kept. */
export function foundIdentities(f: Finding): string[] {
  const l = f.locator;
  if (l.type === 's3-object') return keptIdentities(f);
  if (l.type === 's3-record') {
    const any = `record\u0000${l.bucket}\u0000${l.key}\u0000*\u0000${l.fingerprint}`;
    return l.versionId ? [`record\u0000${l.bucket}\u0000${l.key}\u0000${l.versionId}\u0000${l.fingerprint}`, any] : [any];
  }
  return [f.id];
}
