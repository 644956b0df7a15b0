/** DiscoverStore: one store's findings for the subject, written to the work bucket. */
import { fansOut, queuesForLogPass } from '../core/log-pass-route';
import { listStoreUnits } from '../core/log-scan';
import { docKeys, loadIdentity, storeNamed } from '../core/request-data';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';
import { StoreTaskInput } from './schemas';

export const handler = taskHandler('discover-store', StoreTaskInput, async ({ requestId, store: storeName, executionName }) => {
  const rt = getRuntime();
  const store = storeNamed(rt, storeName);
  const record = await rt.ledger.getRequest(requestId);
  // An erasure of a big log store is done by the batched pass, which reads the store once for
  // every queued subject: no scan here (functions/core/log-pass-route.ts).
  if (record && (await queuesForLogPass(rt, store, record.request.type))) {
    await rt.workspace.putJson(docKeys.findings(requestId, storeName), []);
    return { store: storeName, status: 'ok', counts: { findings: 0, owner: 0, thirdParty: 0, queued: 1 } };
  }
  // Access and portability of a big log store: only its listing, into work units that the
  // request's Distributed Map scans (functions/core/log-scan.ts); the counts say how many.
  if (record && executionName && (await fansOut(rt, store, record.request.type))) {
    return { store: storeName, status: 'ok', counts: { findings: 0, owner: 0, thirdParty: 0, ...(await listStoreUnits(rt, { requestId, execution: executionName, store: storeName })) } };
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
