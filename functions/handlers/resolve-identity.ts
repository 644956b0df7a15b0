/** ResolveIdentity: subject id → every identifier, to a fixpoint; stored in the work bucket. */
import { z } from 'zod';
import { resolveIdentity } from '../core/identity';
import { RequestIdSchema } from '../core/request';
import { getRuntime } from '../core/runtime';
import { Workspace } from '../core/workspace';
import { taskHandler } from './middleware';

export const handler = taskHandler('resolve-identity', z.object({ requestId: RequestIdSchema }), async ({ requestId }) => {
  const rt = getRuntime();
  const record = await rt.ledger.getRequest(requestId);
  if (!record) throw new Error(`request ${requestId} is not in the ledger`);
  const resolved = await resolveIdentity(rt.config.dataMap, record.request.subjectId, rt.connectorContext());
  const identityHash = await rt.workspace.putJson(Workspace.key(requestId, 'identity.json'), resolved.identity);
  if (!resolved.found) await rt.ledger.setStatus(requestId, 'refused', rt.clock.now(), { reason: 'unknown-subject' });
  const identifierCounts = Object.fromEntries(Object.entries(resolved.identity).map(([type, values]) => [type, values?.length ?? 0]));
  return { found: resolved.found, rounds: resolved.rounds, identifierCounts, identityHash };
});
