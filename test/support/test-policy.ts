/**
 * Identity policies for endpoint tests: principals by access key, each with a few statements,
 * decided by the project's own IAM evaluator (local/iam/evaluate.ts, the one the engine uses),
 * so the endpoints' part — which (action, resource, context) triples they ask for, and how they
 * answer a denial — is tested on its own, without the product's whole policy model.
 */
import { evaluate, type IamStatement } from '../../local/iam/evaluate';
import type { AuthzDecision, AuthzRequest, Authorizer } from '../../local/iam/types';

export type Statement = IamStatement;

export interface TestPrincipal {
  /** As AWS prints it, e.g. arn:aws:sts::000000000000:assumed-role/reader/reader. */
  readonly arn: string;
  readonly statements: readonly Statement[];
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
    const decision = evaluate(p.statements, request);
    if (decision.decision === 'allow') return { allowed: true };
    if (decision.decision === 'explicit-deny') return { allowed: false, principalArn: p.arn, reason: 'with an explicit deny in an identity-based policy' };
    return { allowed: false, principalArn: p.arn, reason: `because no identity-based policy allows the ${request.action} action` };
  };
  return { authorize, asked };
}

export const roleArn = (name: string): string => `arn:aws:sts::000000000000:assumed-role/${name}/${name}`;
