/**
 * Finishing an erasure that failed half-way, under its own request id.
 *
 * Once a store is erased the account record may be gone, so a new request for the same person
 * is refused as `unknown-subject` and the rest of their data could never be reached. Hence:
 *   - before the first destructive action in any store, the identity the request resolved is
 *     kept under `deferred/<requestId>/identity.json` (the `requests/` prefix expires after
 *     workRetention; `deferred/` does not), until nothing of the request is left to do;
 *   - `dsr resume <requestId>` starts `<requestId>--resume-<n>`: the same machine in mode
 *     `resume`, which takes the kept identity instead of resolving the subject id again,
 *     rediscovers what is left, plans it with today's holds and retention, erases it and
 *     appends a receipt of its own (`<requestId>--resume-<n>`) to the same chain.
 * A resume plans again rather than re-applying the failed run's plan: that plan's hold versions
 * go stale with any hold change (a hold placed and released since included), so it could never
 * be applied again; and what is already erased is simply not found again.
 */
import type { Identity } from '../connectors/types';
import { docKeys } from './request-data';
import type { Runtime } from './runtime';
import { deferredIdentityKey } from './sweep';

/** Keeps the identity outside the expiring prefix, once: every store of the request keeps the same one. */
export async function keepIdentity(rt: Pick<Runtime, 'workspace'>, requestId: string, identity: Identity): Promise<void> {
  await rt.workspace.putJsonOnce(deferredIdentityKey(requestId), identity);
}

/** The identity a resume works with: the kept one, else the run's own if it has not expired. */
export async function identityToResume(rt: Pick<Runtime, 'workspace'>, requestId: string): Promise<Identity | undefined> {
  return (await rt.workspace.getJson<Identity>(deferredIdentityKey(requestId))) ?? (await rt.workspace.getJson<Identity>(docKeys.identity(requestId)));
}
