/**
 * Other people's values out of the subject's own records, before anything reaches a bundle.
 *
 * The connectors reduce records of *other* people to what is about the subject, but the
 * subject's own records carry other people too: the number they called (a CDR's callee or
 * caller), the people in their address book, the other party of a SIP dialog, the support
 * agent who answered. A bundle hands none of those over. Three rules, all conservative:
 * - a field the data map declares as holding an identifier keeps only the subject's own values;
 *   a declared `token` field that mentions none of the subject's values is masked whole;
 * - in a store with third-party lookups, an owner record whose third-party fields hold none of
 *   the subject's values is about someone else: the fields the operator lists under
 *   `thirdParty.redact` (their name, number, address) are masked;
 * - anywhere else, text shaped like a phone number (E.164), an e-mail address or an IP address
 *   that is not the subject's is masked.
 * A masked value becomes `[REDACTED <kind> #n]`, numbered per bundle, so the subject can still
 * see that two calls went to the same number without learning the number.
 */
import { isIPv6 } from 'node:net';
import type { Identity } from '../../connectors/types';
import type { IdentifierType, Store } from '../datamap';
import { containsToken, continuationClass } from '../token-boundaries';

interface FieldRule {
  readonly type: IdentifierType;
  readonly match: 'value' | 'token';
}

const SHAPES: ReadonlyArray<{ kind: 'email' | 'phone' | 'ip'; pattern: RegExp; accept?: (token: string) => boolean }> = [
  { kind: 'email', pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g },
  { kind: 'phone', pattern: /(?<![0-9+])\+[0-9]{7,15}(?![0-9])/g },
  { kind: 'ip', pattern: /(?<![0-9.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![0-9]|\.[0-9])/g },
  // IPv6: full form, or compressed with "::" and at least two groups (not a C++ "std::").
  {
    kind: 'ip',
    pattern: /(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Fa-f:])/g,
    accept: (t) => isIPv6(t) && (t.split(':').length === 8 || (t.includes('::') && t.split(':').filter(Boolean).length >= 2)),
  },
];

export const REDACTED_PREFIX = '[REDACTED';
/** Fields holding dotted version numbers, which look like IPv4 addresses. */
const VERSION_FIELD = /(version|firmware|release|build)[^.]*$/i;

export class OthersRedactor {
  private readonly own = new Set<string>();
  private readonly ownTyped: Array<{ type: IdentifierType; value: string }> = [];
  private readonly pseudonyms = new Map<string, string>();
  private readonly perKind = new Map<string, number>();
  /** How many values were masked. */
  masked = 0;

  constructor(identity: Identity) {
    for (const [type, values] of Object.entries(identity) as Array<[IdentifierType, string[] | undefined]>) {
      for (const value of values ?? []) {
        if (value === '') continue;
        this.own.add(type === 'email' ? value.toLowerCase() : value);
        this.ownTyped.push({ type, value });
      }
    }
  }

  /** A copy of `record` with other people's values masked (see the module comment). */
  record(store: Store, role: 'owner' | 'third-party', record: Record<string, unknown>): Record<string, unknown> {
    const fields = declaredFields(store);
    const aboutOther = role === 'owner' && this.aboutSomeoneElse(store, record);
    const group = aboutOther && store.kind === 'dynamodb' ? new Set(Object.keys(store.thirdParty?.redact ?? {})) : new Set<string>();
    return this.walk(record, '', fields, group) as Record<string, unknown>;
  }

  private aboutSomeoneElse(store: Store, record: Record<string, unknown>): boolean {
    if (store.kind !== 'dynamodb') return false;
    const attributes = store.lookups.filter((l) => l.role === 'third-party').map((l) => l.attribute);
    if (attributes.length === 0) return false;
    const values = attributes.flatMap((a) => scalars(record[a]));
    return values.length > 0 && !values.some((v) => this.isOwn(v));
  }

  private walk(node: unknown, path: string, fields: ReadonlyMap<string, FieldRule>, group: ReadonlySet<string>): unknown {
    if (Array.isArray(node)) return node.map((item) => this.walk(item, path, fields, group));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
        const child = path === '' ? key : `${path}.${key}`;
        out[key] = path === '' && group.has(key) && value !== null && value !== undefined ? this.maskAll(value, fields.get(key)?.type ?? 'value') : this.walk(value, child, fields, group);
      }
      return out;
    }
    const rule = fields.get(path);
    if (rule && (typeof node === 'string' || typeof node === 'number')) return this.declared(node, rule);
    return typeof node === 'string' ? this.scan(node, !VERSION_FIELD.test(path)) : node;
  }

  private declared(value: string | number, rule: FieldRule): unknown {
    const text = String(value);
    if (rule.match === 'value') return this.isOwn(text) ? value : this.mask(text, rule.type);
    const mentionsSubject = this.ownTyped.some((v) => containsToken(text, v.value, continuationClass(v.type, v.value)));
    return mentionsSubject ? this.scan(text) : this.mask(text, rule.type);
  }

  /**
   * Masks shaped values (phone, e-mail, IP) that are not the subject's. An address whose user
   * part is the subject's (a SIP URI `sip:+15145550101@pbx`) is theirs; one whose user part is
   * someone else's number keeps its domain. `ipShapes` is false for fields whose name says they
   * hold versions ("2.0.1.4" is a firmware, not an address).
   */
  private scan(text: string, ipShapes = true): string {
    let out = text;
    for (const shape of SHAPES) {
      if (shape.kind === 'ip' && !ipShapes) continue;
      out = out.replace(shape.pattern, (token) => {
        if (shape.accept && !shape.accept(token)) return token;
        if (this.isOwn(token)) return token;
        if (shape.kind === 'email') {
          const at = token.lastIndexOf('@');
          const user = token.slice(0, at);
          if (this.isOwn(user)) return token;
          if (/^\+[0-9]{7,15}$/.test(user)) return `${this.mask(user, 'phone')}${token.slice(at)}`;
        }
        return this.mask(token, shape.kind);
      });
    }
    return out;
  }

  private maskAll(value: unknown, kind: string): unknown {
    if (Array.isArray(value)) return value.map((v) => this.maskAll(v, kind));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.maskAll(v, kind)]));
    if (typeof value === 'string' && (this.isOwn(value) || value.startsWith(REDACTED_PREFIX))) return value;
    return typeof value === 'string' || typeof value === 'number' ? this.mask(String(value), kind) : value;
  }

  private isOwn(value: string): boolean {
    return this.own.has(value) || this.own.has(value.toLowerCase());
  }

  private mask(value: string, kind: string): string {
    if (value.startsWith(REDACTED_PREFIX)) return value;
    const key = `${kind}\u0000${kind === 'email' ? value.toLowerCase() : value}`;
    let pseudonym = this.pseudonyms.get(key);
    if (!pseudonym) {
      const n = (this.perKind.get(kind) ?? 0) + 1;
      this.perKind.set(kind, n);
      pseudonym = `${REDACTED_PREFIX}${kind === 'value' ? '' : ` ${kind}`} #${n}]`;
      this.pseudonyms.set(key, pseudonym);
    }
    this.masked++;
    return pseudonym;
  }
}

/** The identifier-bearing fields a store declares, by dotted path. */
export function declaredFields(store: Store): Map<string, FieldRule> {
  const fields = new Map<string, FieldRule>();
  if (store.kind === 'dynamodb') {
    for (const l of store.lookups) fields.set(l.attribute, { type: l.identifier, match: 'value' });
    for (const [attribute, type] of Object.entries(store.yields)) fields.set(attribute, { type, match: 'value' });
  } else if (store.kind === 's3-records') {
    for (const f of store.fields) fields.set(f.path, { type: f.identifier, match: f.match });
  }
  return fields;
}

function scalars(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(scalars);
  if (typeof value === 'string' && value !== '') return [value];
  if (typeof value === 'number') return [String(value)];
  return [];
}
