/** ResolveIdentity: subject id → every identifier, to a fixpoint; stored in the work bucket. */
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '../core/hash';
import { RequestNotFoundError } from '../core/errors';
import { resolveIdentity } from '../core/identity';
import { EXECUTION_MODES, RequestIdSchema } from '../core/request';
import { docKeys } from '../core/request-data';
import { identityToResume } from '../core/resume';
import { getRuntime } from './runtime';
import { taskHandler } from './middleware';

const Input = z.object({ requestId: RequestIdSchema, mode: z.enum(EXECUTION_MODES).default('run') });

export const handler = taskHandler('resolve-identity', Input, async ({ requestId, mode }) => {
  const rt = getRuntime();
  const record = await rt.ledger.getRequest(requestId);
  if (!record) throw new RequestNotFoundError(requestId);
  // A resume works with the identity the request resolved: the account record may be erased.
  const kept = mode === 'resume' ? await identityToResume(rt, requestId) : undefined;
  const resolved = kept ? { identity: kept, found: true, rounds: 0 } : await resolveIdentity(rt.config.dataMap, record.request.subjectId, rt.connectors, rt.connectorContext());
  // A refused request keeps no identity (not even one version of it in the versioned bucket).
  const identityHash = resolved.found ? await rt.workspace.putJson(docKeys.identity(requestId), resolved.identity) : sha256Hex(canonicalJson(resolved.identity));
  if (!resolved.found) await rt.ledger.setStatus(requestId, 'refused', rt.clock.now(), { reason: 'unknown-subject' });
  const identifierCounts = Object.fromEntries(Object.entries(resolved.identity).map(([type, values]) => [type, values?.length ?? 0]));
  return { found: resolved.found, rounds: resolved.rounds, identifierCounts, identityHash };
});
