/**
 * The plan: every finding with its decision and the action that carries it out. Stored in the
 * work bucket and addressed by its hash, so an approval names exactly what will be done.
 */
import type { Store } from './datamap';
import type { HoldVersions } from './erasure-lock';
import { hashOf } from './hash';
import { decide, DECISIONS, type ActiveHold, type Decision, type DecisionKind, type RetentionSchedule } from './retention';
import type { PlannedRequestType, RequestType } from './request';
import type { Action, Finding } from '../connectors/types';

export interface PlanEntry extends Decision {
  readonly findingId: string;
  readonly role: 'owner' | 'third-party';
  readonly action: Action;
}

export interface StorePlan {
  readonly store: string;
  readonly kind: Store['kind'];
  /** Hash of the findings file the entries refer to. */
  readonly findingsHash: string;
  readonly entries: readonly PlanEntry[];
  /**
   * An erasure's log store that the batched log-erasure pass erases (functions/core/log-pass.ts):
   * no entries here; the pass decides each record by the same schedule and holds.
   */
  readonly queued?: true;
}

export interface Plan {
  readonly requestId: string;
  readonly type: PlannedRequestType;
  readonly createdAt: string;
  readonly identityHash: string;
  readonly stores: readonly StorePlan[];
  /** The hold versions the decisions saw: an erasure applies the plan only if they are unchanged. */
  readonly holdVersions?: HoldVersions;
}

export type DecisionCounts = Partial<Record<DecisionKind | 'third-party', number>>;

/** The action that carries out a decision for a record of this role and request type. */
export function actionFor(decision: DecisionKind, role: 'owner' | 'third-party', type: RequestType): Action {
  if (type === 'access' || type === 'portability') return 'keep';
  switch (decision) {
    case 'erase':
      return role === 'owner' ? 'delete' : 'redact-mentions';
    case 'anonymize':
      return role === 'owner' ? 'anonymize' : 'redact-mentions';
    case 'retain-until':
    case 'refused':
    case 'restrict':
      return 'restrict';
  }
}

export function planStore(args: {
  store: Store;
  findings: readonly Finding[];
  findingsHash: string;
  type: PlannedRequestType;
  now: Date;
  schedule: RetentionSchedule;
  holds: readonly ActiveHold[];
}): StorePlan {
  const entries = args.findings.map((finding): PlanEntry => {
    const decision = decide({ finding, store: args.store, requestType: args.type, now: args.now, schedule: args.schedule, holds: args.holds });
    return { findingId: finding.id, role: finding.role, ...decision, action: actionFor(decision.decision, finding.role, args.type) };
  });
  return { store: args.store.name, kind: args.store.kind, findingsHash: args.findingsHash, entries };
}

export function countDecisions(entries: readonly PlanEntry[]): DecisionCounts {
  const counts: DecisionCounts = {};
  for (const d of DECISIONS) counts[d] = 0;
  for (const e of entries) {
    counts[e.decision] = (counts[e.decision] ?? 0) + 1;
    if (e.role === 'third-party') counts['third-party'] = (counts['third-party'] ?? 0) + 1;
  }
  return counts;
}

/** One row of a plan as a reviewer reads it: how many entries share a decision, basis and role. */
export interface PlanBreakdownRow {
  readonly decision: DecisionKind;
  readonly basis: string;
  readonly role: 'owner' | 'third-party';
  readonly count: number;
  /** For dated decisions: the earliest and latest due day among the rows' entries. */
  readonly firstDue?: string;
  readonly lastDue?: string;
}

/** A store's entries grouped by decision, basis and role (dates as a range, not a row each). */
export function planBreakdown(entries: readonly PlanEntry[]): PlanBreakdownRow[] {
  const rows = new Map<string, { decision: DecisionKind; basis: string; role: 'owner' | 'third-party'; count: number; firstDue?: string; lastDue?: string }>();
  for (const e of entries) {
    const key = `${e.decision}|${e.basis}|${e.role}`;
    const row = rows.get(key) ?? { decision: e.decision, basis: e.basis, role: e.role, count: 0 };
    row.count++;
    if (e.until) {
      if (!row.firstDue || e.until < row.firstDue) row.firstDue = e.until;
      if (!row.lastDue || e.until > row.lastDue) row.lastDue = e.until;
    }
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => DECISIONS.indexOf(a.decision) - DECISIONS.indexOf(b.decision) || a.role.localeCompare(b.role) || a.basis.localeCompare(b.basis));
}

export function planHash(plan: Plan): string {
  return hashOf(plan);
}
