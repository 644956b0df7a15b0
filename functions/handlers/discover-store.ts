/** DiscoverStore: one store's findings for the subject, written to the work bucket. */
import { docKeys, loadIdentity, storeNamed } from '../core/request-data';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { StoreTaskInput } from './schemas';

export const handler = taskHandler('discover-store', StoreTaskInput, async ({ requestId, store: storeName }) => {
  const rt = getRuntime();
  const store = storeNamed(rt, storeName);
  const identity = await loadIdentity(rt, requestId);
  // Objects that cannot be read (a corrupt gzip) are left untouched and counted, never skipped silently.
  let unreadable = 0;
  const ctx = { ...rt.connectorContext(), onUnreadable: () => void unreadable++ };
  const findings = await rt.connectors(store).discover(store, identity, ctx);
  await rt.workspace.putJson(docKeys.findings(requestId, storeName), findings);
  const thirdParty = findings.filter((f) => f.role === 'third-party').length;
  return { store: storeName, status: 'ok', counts: { findings: findings.length, owner: findings.length - thirdParty, thirdParty, ...(unreadable ? { unreadable } : {}) } };
});
