/** DiscoverStore: one store's findings for the subject, written to the work bucket. */
import { queuesForLogPass } from '../core/log-pass-route';
import { docKeys, loadIdentity, storeNamed } from '../core/request-data';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { StoreTaskInput } from './schemas';

export const handler = taskHandler('discover-store', StoreTaskInput, async ({ requestId, store: storeName }) => {
  const rt = getRuntime();
  const store = storeNamed(rt, storeName);
  const record = await rt.ledger.getRequest(requestId);
  // An erasure of a big log store is done by the batched pass, which reads the store once for
  // every queued subject: no scan here (functions/core/log-pass-route.ts).
  if (record && (await queuesForLogPass(rt, store, record.request.type))) {
    await rt.workspace.putJson(docKeys.findings(requestId, storeName), []);
    return { store: storeName, status: 'ok', counts: { findings: 0, owner: 0, thirdParty: 0, queued: 1 } };
  }
  const identity = await loadIdentity(rt, requestId);
  // Objects that cannot be read (a corrupt gzip) are left untouched and counted, never skipped silently.
  let unreadable = 0;
  const ctx = { ...rt.connectorContext(), onUnreadable: () => void unreadable++ };
  const findings = await rt.connectors(store).discover(store, identity, ctx);
  await rt.workspace.putJson(docKeys.findings(requestId, storeName), findings);
  const thirdParty = findings.filter((f) => f.role === 'third-party').length;
  return { store: storeName, status: 'ok', counts: { findings: findings.length, owner: findings.length - thirdParty, thirdParty, ...(unreadable ? { unreadable } : {}) } };
});
