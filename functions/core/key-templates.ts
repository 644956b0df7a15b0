/**
 * Key templates of `s3-objects` stores (`recordings/{accountId}/`): their placeholders, what is
 * wrong with one (checked when the data map loads), and their expansion for one subject, which
 * refuses a value that would escape its segment.
 */
import { DataMapError } from './errors';
import { IDENTIFIER_TYPES, type IdentifierType } from './datamap-vocabulary';

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Placeholders of a key template, in order. */
export function templatePlaceholders(template: string): IdentifierType[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as IdentifierType);
}

/** What is wrong with a template, one message per problem (the data map reports each at the template's path). */
export function templateProblems(template: string): string[] {
  const problems: string[] = [];
  const names = [...template.matchAll(PLACEHOLDER)];
  if (names.length === 0) problems.push('must contain at least one {identifier} placeholder');
  if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) problems.push('has an unbalanced "{" or "}"');
  for (const m of names) {
    if (!(IDENTIFIER_TYPES as readonly string[]).includes(m[1])) {
      problems.push(`unknown placeholder {${m[1]}}; expected one of ${IDENTIFIER_TYPES.join(', ')}`);
    }
    // A placeholder that does not end a segment would make `cust-1` a prefix of `cust-10`.
    const after = template[m.index + m[0].length];
    if (after !== '/') problems.push(`placeholder {${m[1]}} must be followed by "/" so that one subject's prefix is never a prefix of another's`);
  }
  return problems;
}

/**
 * Expands a key template for one identifier value. Values containing "/" would escape their
 * segment, so they are refused rather than expanded.
 */
export function expandTemplate(template: string, values: Partial<Record<IdentifierType, string>>): string {
  return template.replace(PLACEHOLDER, (_m, key: string) => {
    const value = values[key as IdentifierType];
    if (value === undefined) throw new DataMapError(`key template needs a value for {${key}}`);
    if (value.includes('/') || value === '' || value === '.' || value === '..') {
      throw new DataMapError(`an identifier of type ${key} cannot be used in a key template (it is empty or contains "/")`);
    }
    return value;
  });
}
