/**
 * cdk-nag acknowledgements, each for one finding on one construct with its reason. Wildcard
 * resources are acknowledged one ARN at a time, from the ARNs the construct granted (never
 * "any wildcard in this policy"), so a wildcard added later still fails the check.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface WildcardGrant {
  /** The role or managed policy holding the statement. */
  readonly scope: IConstruct;
  /** The resource ARN with its wildcard, as granted (tokens allowed). */
  readonly arn: string;
  readonly reason: string;
}

/** Records acknowledgements of AwsSolutions-IAM5 for exactly these resources. */
export function acknowledgeWildcards(grants: readonly WildcardGrant[]): void {
  const done = new Set<string>();
  for (const { scope, arn, reason } of grants) {
    const id = `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(arn))}]`;
    const key = `${scope.node.path}|${id}`;
    if (done.has(key)) continue;
    done.add(key);
    Validations.of(scope).acknowledge({ id, reason });
  }
}

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The string cdk-nag names a CloudFormation value by (its utils/flatten-cfn-reference, which
 * the package does not export): `{Ref: X}` → `<X>`, GetAtt → `<X.Attr>`, Join → joined.
 * test/infra checks the result by running cdk-nag, so a drift shows as a finding.
 */
export function flattenCfnReference(reference: unknown): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const n = node as Record<string, unknown>;
    if (n['Fn::Join']) {
      const [delimiter, items] = n['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (n['Fn::Sub']) return visit(n['Fn::Sub']);
    if (n['Fn::GetAtt']) {
      const [resource, attribute] = n['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (n['Fn::ImportValue']) return visit(n['Fn::ImportValue']);
    if (n.Ref) return `<${visit(n.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(reference);
}
