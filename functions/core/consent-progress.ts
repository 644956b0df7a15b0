/**
 * Where a withdrawal or objection keeps each place's outcome (the work bucket), and what a
 * cancel finds there: read by core/consent.ts (to reuse a place already written) and by
 * core/cancel.ts (to list it in the `cancelled` receipt), so neither imports the other.
 */
import { hashOf } from './hash';
import type { ConsentLocation, Purpose } from './purposes';
import type { Runtime } from './runtime';
import { Workspace } from './workspace';

export interface PlaceOutcome {
  readonly store: string;
  readonly attribute: string;
  /** The subject's items the place covers (after the `where` filter). */
  readonly items: number;
  readonly changed: number;
  /** Already at the withdrawn value. */
  readonly unchanged: number;
  /** Items without the attribute: no consent recorded there, nothing written. */
  readonly absent: number;
  /** HMAC of every item's value before, and after, in item order. */
  readonly beforeHash: string;
  readonly afterHash: string;
}

export const consentKeys = {
  /** By the place itself (store, attribute, value, filter): a data map changed before a resume does not pass one place's outcome off as another's. */
  place: (requestId: string, purpose: string, place: ConsentLocation) => Workspace.key(requestId, `consent/${purpose}/${hashOf(place).slice(0, 16)}.json`),
  result: (requestId: string) => Workspace.key(requestId, 'consent/result.json'),
};

/** Per purpose and place of the request: `done` with its counts, or `untouched`. */
export async function consentPlacesDone(
  rt: Pick<Runtime, 'workspace'>,
  requestId: string,
  named: readonly string[],
  declared: Readonly<Record<string, Purpose>>,
): Promise<Array<{ purpose: string; store: string; attribute: string; state: 'done' | 'untouched'; changed?: number; items?: number }>> {
  const out = [];
  for (const purpose of named.filter((n) => Object.hasOwn(declared, n))) {
    for (const place of declared[purpose].consentAt) {
      const done = await rt.workspace.getJson<PlaceOutcome>(consentKeys.place(requestId, purpose, place));
      out.push(done ? { purpose, store: place.store, attribute: place.attribute, state: 'done' as const, items: done.items, changed: done.changed } : { purpose, store: place.store, attribute: place.attribute, state: 'untouched' as const });
    }
  }
  return out;
}
