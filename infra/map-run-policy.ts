/**
 * The Distributed Map's own needs (start its children, read its manifest, write its results),
 * in a policy of their own: the machine's default policy cannot name the machine's ARN (a cycle).
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { pascal } from './functions';
import type { WildcardGrant } from './nag';
import { machinePolicy, MAP_RUN_MACHINES, type PolicyArns } from './policies';
import { renderStatements } from './user-policies';

export function addMapRunPolicies(scope: Construct, machines: ReadonlyMap<string, sfn.StateMachine>, policyArns: PolicyArns, encryptionKey: kms.IKey, wildcards: WildcardGrant[]): void {
  for (const machineId of MAP_RUN_MACHINES) {
    const mapRunPolicy = new iam.Policy(scope, `${pascal(machineId)}MapRunPolicy`, { roles: [machines.get(machineId)!.role] });
    const mapRun = machinePolicy(machineId, [], policyArns);
    // Invoke is the default policy's (machines.ts grants it with the functions); asked for none here, it would name nothing.
    renderStatements({ statements: mapRun.statements.filter((st) => st.Sid !== 'Invoke'), wildcards: mapRun.wildcards }, (st) => mapRunPolicy.addStatements(st), mapRunPolicy, wildcards);
    mapRunPolicy.addStatements(new iam.PolicyStatement({ sid: 'MapRunKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [encryptionKey.keyArn] }));
  }
}
