/**
 * A small identity-policy authorizer for endpoint tests: principals by access key, each with
 * Allow/Deny statements (wildcard actions and resources, StringEquals / StringLike /
 * ForAllValues:StringEquals conditions). It stands in for the project's IAM evaluator (iam-core)
 * only so the endpoints' own part — which triples they ask for, and how they answer a denial —
 * is tested on its own; the endpoints, SDK and CLI around it are real.
 */
import type { AuthzDecision, AuthzRequest, Authorizer } from '../../local/iam/types';

export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface TestPrincipal {
  /** As AWS prints it, e.g. arn:aws:sts::000000000000:assumed-role/reader/reader. */
  readonly arn: string;
  readonly statements: readonly Statement[];
}

const list = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? (v as readonly T[]) : [v as T]);

/** IAM's wildcard match: * any run, ? one character, everything else literal. */
function globMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, caseInsensitive ? 'is' : 's');
  return re.test(value);
}

function conditionHolds(cond: Statement['Condition'], context: AuthzRequest['context']): boolean {
  if (!cond) return true;
  for (const [operator, keys] of Object.entries(cond)) {
    for (const [key, expected] of Object.entries(keys)) {
      const wanted = list(expected);
      const actual = context?.[key];
      const values = actual === undefined ? [] : list(actual);
      switch (operator) {
        case 'StringEquals':
          if (values.length === 0 || !values.some((v) => wanted.includes(v))) return false;
          break;
        case 'StringLike':
          if (values.length === 0 || !values.some((v) => wanted.some((w) => globMatch(w, v)))) return false;
          break;
        case 'ForAllValues:StringEquals':
          // Vacuously true when the key is absent, as in AWS.
          if (!values.every((v) => wanted.includes(v))) return false;
          break;
        default:
          throw new Error(`test policy: condition operator ${operator} is not supported`);
      }
    }
  }
  return true;
}

function applies(s: Statement, r: AuthzRequest): boolean {
  return (
    list(s.Action).some((a) => globMatch(a, r.action, true)) &&
    list(s.Resource).some((p) => globMatch(p, r.resource)) &&
    conditionHolds(s.Condition, r.context)
  );
}

export interface TestAuthorizer {
  readonly authorize: Authorizer;
  /** Every request asked, in order: what the endpoint turned each call into. */
  readonly asked: { accessKey: string; request: AuthzRequest }[];
}

/** `admin` keys are allowed everything; unknown keys are denied as unknown. */
export function testAuthorizer(principals: Record<string, TestPrincipal>, admin: readonly string[] = ['local']): TestAuthorizer {
  const asked: TestAuthorizer['asked'] = [];
  const authorize: Authorizer = (accessKey, request): AuthzDecision => {
    asked.push({ accessKey, request });
    if (admin.includes(accessKey)) return { allowed: true };
    const p = principals[accessKey];
    // Marked as local/iam/unknown-key.ts expects (the local authorizer's form).
    if (!p) return { allowed: false, principalArn: `arn:aws:iam::000000000000:access-key/${accessKey}`, reason: 'because the AWS access key id does not exist in our records' };
    const matching = p.statements.filter((s) => applies(s, request));
    if (matching.some((s) => s.Effect === 'Deny')) {
      return { allowed: false, principalArn: p.arn, reason: `with an explicit deny in an identity-based policy` };
    }
    if (matching.length > 0) return { allowed: true };
    return { allowed: false, principalArn: p.arn, reason: `because no identity-based policy allows the ${request.action} action` };
  };
  return { authorize, asked };
}

export const roleArn = (name: string): string => `arn:aws:sts::000000000000:assumed-role/${name}/${name}`;
