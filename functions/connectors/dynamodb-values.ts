/**
 * DynamoDB attribute values: plain JSON for export, identifier strings for matching, keys for
 * de-duplication. Written here (not `@aws-sdk/util-dynamodb`) so numbers beyond 2^53 and binary
 * values come out as JSON a bundle can carry, and sets as sorted arrays.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Item } from '../aws/dynamodb-keys';

// Keys live with the batch utilities (functions/aws/); re-exported for the connector's imports.
export { keyOf, keyString, type Item } from '../aws/dynamodb-keys';

/** A JSON-safe value of an attribute: sets become sorted arrays, binary base64, unsafe numbers strings. */
export function toPlain(av: AttributeValue): unknown {
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return plainNumber(av.N);
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.NULL !== undefined) return null;
  if (av.B !== undefined) return Buffer.from(av.B).toString('base64');
  if (av.L !== undefined) return av.L.map(toPlain);
  if (av.M !== undefined) return itemToPlain(av.M);
  if (av.SS !== undefined) return [...av.SS].sort();
  if (av.NS !== undefined) return [...av.NS].sort((a, b) => Number(a) - Number(b)).map(plainNumber);
  if (av.BS !== undefined) return av.BS.map((b) => Buffer.from(b).toString('base64')).sort();
  return null;
}

function plainNumber(n: string): number | string {
  const value = Number(n);
  return Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value)) && String(value) === n ? value : n;
}

export function itemToPlain(item: Item, omit: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(item).sort()) {
    if (!omit.has(name)) out[name] = toPlain(item[name]);
  }
  return out;
}

/**
 * The identifier strings an attribute holds: a string, a number's text, or the strings of a
 * string set or list. Anything else holds none.
 */
export function identifierStrings(av: AttributeValue | undefined): string[] {
  if (!av) return [];
  if (av.S !== undefined) return [av.S];
  if (av.N !== undefined) return [av.N];
  if (av.SS !== undefined) return av.SS;
  if (av.L !== undefined) return av.L.flatMap((e) => (e.S !== undefined ? [e.S] : []));
  return [];
}

/** Strings, string sets and lists of strings only: what identity resolution collects. */
export function yieldedStrings(av: AttributeValue | undefined): string[] {
  if (!av) return [];
  if (av.S !== undefined) return [av.S];
  if (av.SS !== undefined) return av.SS;
  if (av.L !== undefined) return av.L.flatMap((e) => (e.S !== undefined ? [e.S] : []));
  return [];
}

/**
 * The DynamoDB value for an anonymized replacement. `undefined` means the attribute is removed
 * (the `null` strategy: absent is DynamoDB's null, and it also works for index key attributes).
 */
export function replacementValue(value: unknown): AttributeValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number' && Number.isFinite(value)) return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  return { S: JSON.stringify(value) };
}

/** A canonical decimal: the only number text that compares exactly (DynamoDB equates 007 and 7). */
export function isCanonicalNumber(text: string): boolean {
  return /^-?(0|[1-9]\d*)(\.\d*[1-9])?$/.test(text) && text !== '-0';
}
