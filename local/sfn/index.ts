/**
 * A local Step Functions endpoint: the JSON protocol of AWS Step Functions over HTTP, running
 * the project's ASL files on aws-local-stepfunctions with every Task bound to an in-process
 * handler. Point @aws-sdk/client-sfn or the aws CLI at it with AWS_ENDPOINT_URL_SFN.
 */
export { startSfnServer } from './server';
export type { LocalStateMachine, RunningSfnServer, SfnServerOptions } from './server';
export type { LambdaContext, LambdaHandler } from './tasks';
export { collectStates, DefinitionError, loadDefinition } from './definition';
export type { AslMachine, AslState, LoadedDefinition } from './definition';
export type { ExecutionRecord, ExecutionStatus } from './model';
export { ACCOUNT_ID } from './model';
