/**
 * What one subject's request may reach in an `s3-objects` store: the key prefixes its
 * identifiers expand to, and a check that every planned finding lies under one of them, so a
 * plan can never reach another subject's files.
 */
import { expandTemplate, templatePlaceholders, type IdentifierType, type S3ObjectsStore } from '../core/datamap';
import { DataMapError, InvalidInputError } from '../core/errors';
import { findingId } from '../core/hash';
import { groupByAction } from './planned-actions';
import { compareText } from './s3-shared';
import type { Action, Finding, Identity, PlannedAction, S3ObjectLocator } from './types';

/** Prefixes one discovery may list (a template with several placeholders multiplies them). */
export const MAX_PREFIXES = 10_000;

/**
 * The subject's key prefixes: the template expanded for every combination of the identity's
 * values of its placeholder types. A value that cannot stand in a key (empty, ".", "..", or
 * containing "/") is skipped and counted.
 */
export function subjectPrefixes(store: S3ObjectsStore, identity: Identity): { prefixes: string[]; skippedValues: number } {
  const types = [...new Set(templatePlaceholders(store.keyTemplate))];
  let skippedValues = 0;
  const usable = new Map<IdentifierType, string[]>();
  for (const type of types) {
    const ok: string[] = [];
    for (const value of new Set(identity[type] ?? [])) {
      try {
        expandTemplate(`{${type}}/`, { [type]: value });
        ok.push(value);
      } catch (err) {
        if (!(err instanceof DataMapError)) throw err;
        skippedValues++;
      }
    }
    usable.set(type, ok);
  }
  let combos: Array<Partial<Record<IdentifierType, string>>> = [{}];
  for (const type of types) {
    combos = combos.flatMap((c) => (usable.get(type) ?? []).map((v) => ({ ...c, [type]: v })));
    if (combos.length > MAX_PREFIXES) throw new DataMapError(`store ${store.name}: the key template expands to more than ${MAX_PREFIXES} prefixes for one subject`, { store: store.name });
  }
  const prefixes = types.length === 0 ? [] : [...new Set(combos.map((c) => expandTemplate(store.keyTemplate, c)))].sort(compareText);
  return { prefixes, skippedValues };
}

export function groupActions(store: S3ObjectsStore, prefixes: readonly string[], actions: readonly PlannedAction[]): Record<Action, Finding[]> {
  return groupByAction(store.name, actions, ({ finding, action }) => {
    checkFinding(store, prefixes, finding);
    if (action === 'anonymize' || action === 'redact-mentions') {
      throw new InvalidInputError(`store ${store.name}: ${action} does not apply to stored files; use delete or restrict`, { store: store.name });
    }
  });
}

/**
 * A finding this store may act on for this subject: its own, in its bucket, and under one of
 * the subject's prefixes, so a plan can never reach another subject's files.
 */
export function checkFinding(store: S3ObjectsStore, prefixes: readonly string[], f: Finding): void {
  const problem = (what: string): never => {
    throw new InvalidInputError(`store ${store.name}: finding ${f.id} ${what}`, { store: store.name, findingId: f.id });
  };
  if (f.store !== store.name) problem('belongs to another store');
  const l = f.locator as S3ObjectLocator;
  if (l.type !== 's3-object' || l.bucket !== store.bucket || typeof l.key !== 'string') problem('does not locate an object of this bucket');
  if (!prefixes.some((p) => l.key.startsWith(p))) problem("is not under the subject's key prefix");
  if (f.id !== findingId(store.name, l)) problem('does not match its locator');
}
