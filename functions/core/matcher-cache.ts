/**
 * Compiled record matchers, kept per warm container. A Distributed Map runs many work units of
 * one pass in the same Lambda container, and each unit compiles the same subjects twice
 * (discovery, then the rewrite): at 10,000 subjects that is seconds of CPU per compile. The
 * matcher is immutable once built, so one compiled for the same fields, format, identifier
 * settings and subjects (in the same order) is the same matcher; the key is a hash of all four,
 * so any change of a subject's identifiers, or of the store's fields, compiles anew.
 */
import type { Identity } from '../connectors/types';
import { canonicalJson, sha256Hex } from './hash';
import type { IdentifierSettings } from './identifiers';
import { RecordMatcher, type RecordFieldSpec, type RecordFormat } from './matching';

/** Two: a unit's discovery set and its rewrite set (the subjects with something to erase). */
const KEEP = 2;
const compiled = new Map<string, RecordMatcher>();

export function recordMatcherFor(fields: readonly RecordFieldSpec[], subjects: ReadonlyMap<string, Identity>, format: RecordFormat, settings: IdentifierSettings = {}): RecordMatcher {
  const key = sha256Hex(canonicalJson({ fields, format, settings, subjects: [...subjects] }));
  const hit = compiled.get(key);
  if (hit) {
    // Most recently used last: the oldest is the one to drop.
    compiled.delete(key);
    compiled.set(key, hit);
    return hit;
  }
  const matcher = new RecordMatcher(fields, subjects, format, settings);
  compiled.set(key, matcher);
  if (compiled.size > KEEP) compiled.delete(compiled.keys().next().value as string);
  return matcher;
}

/** How many compiled matchers are kept (tests). */
export function cachedMatchers(): number {
  return compiled.size;
}
