/**
 * The work-bucket documents of one request, by name. Every handler reads and writes them
 * through here so the layout is in one place.
 */
import type { Finding, Identity } from '../connectors/types';
import { DataMapError, RequestStateError } from './errors';
import type { Plan } from './plan';
import type { Runtime } from './runtime';
import { Workspace } from './workspace';
import type { Store } from './datamap';

/** What ExportStore writes per store and AssembleExport reads: records, staged files, missing items. */
export interface ExportedStore {
  readonly store: string;
  readonly records: ReadonlyArray<{ findingId: string; role: 'owner' | 'third-party'; record: Record<string, unknown> }>;
  readonly files: ReadonlyArray<{ findingId: string; name: string; size: number; contentType?: string; stagingKey: string }>;
  readonly missing: ReadonlyArray<{ findingId: string; reason: string }>;
}

/** Where an exported file waits, in the work bucket, for the bundle to be assembled. */
export function stagingKey(requestId: string, store: string, name: string): string {
  return Workspace.key(requestId, `staging/${store}/${name}`);
}

export const docKeys = {
  identity: (requestId: string) => Workspace.key(requestId, 'identity.json'),
  findings: (requestId: string, store: string) => Workspace.key(requestId, `findings/${store}.json`),
  plan: (requestId: string, planHash: string) => Workspace.key(requestId, `plans/${planHash}.json`),
  applied: (requestId: string, store: string) => Workspace.key(requestId, `applied/${store}.json`),
  exported: (requestId: string, store: string) => Workspace.key(requestId, `export/${store}.json`),
};

export async function loadIdentity(rt: Runtime, requestId: string): Promise<Identity> {
  const identity = await rt.workspace.getJson<Identity>(docKeys.identity(requestId));
  if (!identity) throw new RequestStateError(`request ${requestId} has no resolved identity`, { requestId });
  return identity;
}

export async function loadFindings(rt: Runtime, requestId: string, store: string): Promise<Finding[]> {
  const findings = await rt.workspace.getJson<Finding[]>(docKeys.findings(requestId, store));
  if (!findings) throw new RequestStateError(`request ${requestId} has no findings for store ${store}`, { requestId, store });
  return findings;
}

export async function loadPlan(rt: Runtime, requestId: string, planHash: string): Promise<Plan> {
  const plan = await rt.workspace.getVerifiedJson<Plan>(docKeys.plan(requestId, planHash), planHash);
  if (!plan) throw new RequestStateError(`request ${requestId} has no plan ${planHash.slice(0, 12)}`, { requestId });
  return plan;
}

export function storeNamed(rt: Runtime, name: string): Store {
  const store = rt.config.dataMap.stores.find((s) => s.name === name);
  if (!store) throw new DataMapError(`store ${name} is not in the data map`);
  return store;
}
