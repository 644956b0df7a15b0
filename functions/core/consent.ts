/**
 * Withdrawing consent and objecting (request types `withdraw-consent` and `objection`): per
 * purpose the request names, either the consent attributes the data map records it in are set
 * to their withdrawn value, or, where the purpose rests on a basis other than consent (a legal
 * obligation, the contract, fraud prevention), the purpose is refused with that basis. A
 * refusal is an outcome of the request, recorded in its receipt, not a failure.
 *
 * The attributes are written through the store's connector (`setAttribute`: conditional writes
 * of exactly that attribute). What is recorded is counts and, per place, a keyed hash of the
 * values before and after (the anonymization key's HMAC: values as small as `true` cannot be
 * guessed back from it), never a value. Each place's outcome is kept in the work bucket as soon
 * as it is written, so a retried or resumed execution reuses it instead of applying it again.
 */
import type { AttributeChange } from '../connectors/types';
import type { Anonymizer } from './anonymize';
import { throwIfCancelled } from './cancel';
import { DataMapError, RequestNotFoundError, RequestStateError } from './errors';
import { consentKeys, type PlaceOutcome } from './consent-progress';
import { canonicalJson } from './hash';
import { checkPurposes, isConsentType, type LegalBasis } from './purposes';
import { loadIdentity, storeNamed } from './request-data';
import type { Runtime } from './runtime';

export interface PurposeOutcome {
  readonly purpose: string;
  readonly basis: LegalBasis;
  readonly citation: string | null;
  /** `applied`: consent withdrawn everywhere it is recorded; `refused`: the basis overrides the request. */
  readonly outcome: 'applied' | 'refused';
  readonly reason: 'overriding-basis' | null;
  readonly places: readonly PlaceOutcome[];
}

export interface ConsentResult {
  readonly type: 'withdraw-consent' | 'objection';
  readonly purposes: readonly PurposeOutcome[];
  readonly totals: { readonly applied: number; readonly refused: number; readonly items: number; readonly changed: number; readonly unchanged: number; readonly absent: number };
}

export { consentKeys, type PlaceOutcome };

export async function applyConsent(rt: Runtime, requestId: string): Promise<ConsentResult> {
  const record = await rt.ledger.getRequest(requestId);
  if (!record) throw new RequestNotFoundError(requestId);
  throwIfCancelled(record);
  const { type, purposes: named } = record.request;
  if (!isConsentType(type) || !named) throw new RequestStateError(`request ${requestId} is ${type}: it names no purposes`, { requestId, type });
  const declared = rt.config.dataMap.purposes;
  checkPurposes(named, declared);
  const identity = await loadIdentity(rt, requestId);
  const ctx = rt.connectorContext();

  const purposes: PurposeOutcome[] = [];
  for (const name of named) {
    const purpose = declared[name];
    const head = { purpose: name, basis: purpose.basis, citation: purpose.citation ?? null };
    if (purpose.basis !== 'consent') {
      purposes.push({ ...head, outcome: 'refused', reason: 'overriding-basis', places: [] });
      continue;
    }
    // A unit of work: a cancel seen here leaves this purpose (and the rest) as they are.
    throwIfCancelled(await rt.ledger.getRequest(requestId));
    const places: PlaceOutcome[] = [];
    for (const place of purpose.consentAt) {
      const key = consentKeys.place(requestId, name, place);
      const done = await rt.workspace.getJson<PlaceOutcome>(key);
      if (done) {
        places.push(done);
        continue;
      }
      const store = storeNamed(rt, place.store);
      const connector = rt.connectors(store);
      if (!connector.setAttribute) throw new DataMapError(`store ${store.name} (${store.kind}) cannot record consent`, { store: store.name });
      const changes = await connector.setAttribute(store, identity, { attribute: place.attribute, value: place.withdrawn, ...(place.where ? { where: place.where } : {}) }, ctx);
      const outcome = summarize(place.store, place.attribute, changes, ctx.anonymizer);
      await rt.workspace.putJson(key, outcome);
      places.push(outcome);
    }
    purposes.push({ ...head, outcome: 'applied', reason: null, places });
  }
  const all = purposes.flatMap((p) => p.places);
  const sum = (f: (p: PlaceOutcome) => number) => all.reduce((n, p) => n + f(p), 0);
  const result: ConsentResult = {
    type,
    purposes,
    totals: {
      applied: purposes.filter((p) => p.outcome === 'applied').length,
      refused: purposes.filter((p) => p.outcome === 'refused').length,
      items: sum((p) => p.items),
      changed: sum((p) => p.changed),
      unchanged: sum((p) => p.unchanged),
      absent: sum((p) => p.absent),
    },
  };
  await rt.workspace.putJson(consentKeys.result(requestId), result);
  return result;
}

export async function loadConsentResult(rt: Pick<Runtime, 'workspace'>, requestId: string): Promise<ConsentResult> {
  const result = await rt.workspace.getJson<ConsentResult>(consentKeys.result(requestId));
  if (!result) throw new RequestStateError(`request ${requestId} reached its receipt without a consent result`, { requestId });
  return result;
}

function summarize(store: string, attribute: string, changes: readonly AttributeChange[], anonymizer: Anonymizer): PlaceOutcome {
  const count = (s: AttributeChange['status']) => changes.filter((c) => c.status === s).length;
  return {
    store,
    attribute,
    items: changes.length,
    changed: count('changed'),
    unchanged: count('unchanged'),
    absent: count('absent'),
    beforeHash: keyedHash(anonymizer, changes.map((c) => [c.itemRef, c.before ?? null])),
    afterHash: keyedHash(anonymizer, changes.map((c) => [c.itemRef, c.after ?? null])),
  };
}

/** Keyed: a hash of a boolean per item could otherwise be reversed by trying both values. */
function keyedHash(anonymizer: Anonymizer, values: unknown): string {
  return String(anonymizer.apply({ strategy: 'hmac' }, canonicalJson(values)));
}
