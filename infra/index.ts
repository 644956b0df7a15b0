/** The package entry point: the construct, its props, and what a deployment may want to inspect. */
export { SubjectRightsOrchestrator, type SubjectRightsOrchestratorProps } from './construct';
export { OrchestratorPropsError } from './resolve-props';
export { HANDLER_ACCESS, storeGrants, type HandlerAccess, type StoreGrant, type StoreOperation } from './access';
export { MACHINES, type MachineSpec } from './machines';
export { allPolicies, auditorPolicy, handlerPolicy, machinePolicy, ROLE_NAMES, supportPolicy, type PolicyArns, type PolicyStatementJson, type PrincipalPolicy } from './policies';
export { ReferenceOperatorStack, type ReferenceOperatorStackProps } from './stack';
