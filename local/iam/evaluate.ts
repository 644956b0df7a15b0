/**
 * IAM policy evaluation for identity-based policies, with AWS's semantics: a request is
 * allowed when some Allow statement matches it and no Deny statement does (an explicit deny
 * wins; nothing matching is the default deny). Covers what infra/policies.ts emits and the
 * AWS-documented behaviour around it: Action/NotAction (case-insensitive, `*` and `?`),
 * Resource/NotResource (ARN wildcards, per ARN segment), and the Condition operators String*,
 * Arn*, Bool and Null, with …IfExists and the ForAllValues:/ForAnyValue: set qualifiers.
 * An operator it does not know fails loudly rather than deciding.
 */
import type { AuthzRequest } from './types';

type OneOrMany<T> = T | readonly T[];

/** A statement as IAM JSON has it (a string or a list wherever IAM allows both). */
export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: OneOrMany<string>;
  readonly NotAction?: OneOrMany<string>;
  readonly Resource?: OneOrMany<string>;
  readonly NotResource?: OneOrMany<string>;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, OneOrMany<string | boolean>>>>>;
}

export type Evaluation =
  | { readonly decision: 'allow'; readonly statement: string }
  | { readonly decision: 'explicit-deny'; readonly statement: string }
  | { readonly decision: 'implicit-deny' };

export class PolicyEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyEvaluationError';
  }
}

const list = <T>(v: OneOrMany<T> | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T]);

export function evaluate(statements: readonly IamStatement[], request: AuthzRequest): Evaluation {
  let allowedBy: string | undefined;
  for (const [i, s] of statements.entries()) {
    if (!statementMatches(s, request)) continue;
    const name = s.Sid ?? `#${i}`;
    if (s.Effect === 'Deny') return { decision: 'explicit-deny', statement: name };
    allowedBy ??= name;
  }
  return allowedBy !== undefined ? { decision: 'allow', statement: allowedBy } : { decision: 'implicit-deny' };
}

function statementMatches(s: IamStatement, request: AuthzRequest): boolean {
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyEvaluationError(`statement ${s.Sid ?? ''}: Effect must be Allow or Deny, not ${String(s.Effect)}`);
  const actionOk = s.Action !== undefined ? list(s.Action).some((p) => actionMatches(p, request.action)) : !list(s.NotAction).some((p) => actionMatches(p, request.action));
  if (!actionOk) return false;
  const resourceOk =
    s.Resource !== undefined ? list(s.Resource).some((p) => resourceMatches(p, request.resource)) : !list(s.NotResource).some((p) => resourceMatches(p, request.resource));
  return resourceOk && conditionHolds(s.Condition, request.context ?? {});
}

const compiled = new Map<string, RegExp>();

/** A glob of IAM: `*` any run of characters, `?` exactly one, everything else literal (compiled once: every call is decided). */
function globRegExp(pattern: string, flags = ''): RegExp {
  const key = `${flags}:${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
    re = new RegExp(`^${body}$`, `s${flags}`);
    compiled.set(key, re);
  }
  return re;
}

/** `s3:Get*` matches `s3:GetObject`; service prefix and action name are case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  return globRegExp(pattern, 'i').test(action);
}

/**
 * ARN matching as IAM does it: the six colon-separated parts (`arn:partition:service:region:
 * account:resource`, the resource keeping any further colons) are matched one by one,
 * case-sensitively, each with its own wildcards; `*` alone matches every resource.
 */
export function resourceMatches(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = arnParts(pattern);
  const a = arnParts(arn);
  if (!p || !a) return globRegExp(pattern).test(arn);
  return p.every((part, i) => globRegExp(part).test(a[i]));
}

function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

type Matcher = (policyValue: string, requestValue: string) => boolean;

/** The base operators: whether one request value matches one policy value, and whether the operator is negated. */
const OPERATORS: Readonly<Record<string, { readonly match: Matcher; readonly negated: boolean }>> = {
  StringEquals: { match: (p, v) => p === v, negated: false },
  StringNotEquals: { match: (p, v) => p === v, negated: true },
  StringEqualsIgnoreCase: { match: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: true },
  StringLike: { match: (p, v) => globRegExp(p).test(v), negated: false },
  StringNotLike: { match: (p, v) => globRegExp(p).test(v), negated: true },
  // ArnEquals and ArnLike are the same operator in IAM: per-part matching with wildcards.
  ArnEquals: { match: (p, v) => arnConditionMatches(p, v), negated: false },
  ArnLike: { match: (p, v) => arnConditionMatches(p, v), negated: false },
  ArnNotEquals: { match: (p, v) => arnConditionMatches(p, v), negated: true },
  ArnNotLike: { match: (p, v) => arnConditionMatches(p, v), negated: true },
  Bool: { match: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
};

function arnConditionMatches(pattern: string, value: string): boolean {
  // A value that is not an ARN matches nothing (IAM compares ARN parts).
  return arnParts(value) !== undefined && resourceMatches(pattern, value);
}

/** Every operator of the block holds (AND), every key of an operator holds (AND). */
export function conditionHolds(condition: IamStatement['Condition'], context: Readonly<Record<string, string | readonly string[]>>): boolean {
  if (!condition) return true;
  // Condition keys are case-insensitive in IAM.
  const byKey = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(condition).every(([operator, keys]) =>
    Object.entries(keys).every(([key, policyValues]) => operatorHolds(operator, list(policyValues).map(String), byKey.get(key.toLowerCase()))),
  );
}

function operatorHolds(operator: string, policyValues: readonly string[], requestValue: string | readonly string[] | undefined): boolean {
  const present = requestValue !== undefined;
  if (operator === 'Null') {
    // `Null: {key: "true"}` holds when the key is absent, `"false"` when it is present.
    return policyValues.some((p) => (p.toLowerCase() === 'true') === !present);
  }
  const qualifier = /^(ForAllValues|ForAnyValue):/.exec(operator)?.[1];
  let base = qualifier ? operator.slice(qualifier.length + 1) : operator;
  const ifExists = base.endsWith('IfExists');
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  const op = OPERATORS[base];
  if (!op) throw new PolicyEvaluationError(`condition operator ${operator} is not supported by the local IAM evaluator`);
  const values = requestValue === undefined ? [] : typeof requestValue === 'string' ? [requestValue] : requestValue;
  // One request value against the policy values: positive operators OR them, negated ones NOR them.
  const one = (v: string) => {
    const any = policyValues.some((p) => op.match(p, v));
    return op.negated ? !any : any;
  };
  if (qualifier === 'ForAllValues') {
    // Every request value passes; an absent key or an empty set passes too (AWS: "returns true").
    return values.every(one);
  }
  if (qualifier === 'ForAnyValue') {
    // At least one request value passes; an absent key or an empty set does not.
    return values.some(one);
  }
  if (!present) {
    // Absent key: …IfExists holds; a negated operator holds; a positive one does not.
    return ifExists || op.negated;
  }
  // A single-valued operator given several request values: positive if any matches, negated if none does.
  return op.negated ? values.every(one) : values.some(one);
}
