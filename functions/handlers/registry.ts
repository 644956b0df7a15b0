/**
 * Every Task handler: its ASL substitution, its module, and its sizing. The local engine maps
 * substitutions to in-process handlers from this list; the CDK construct makes one Lambda
 * function per entry from the same list, so the two cannot drift.
 */
export interface HandlerSpec {
  /** Lambda function name suffix and log name. */
  readonly id: string;
  /** The `${…}` placeholder in the ASL that receives the function's ARN. */
  readonly substitution: string;
  /** Module under functions/handlers/ and its export. */
  readonly module: string;
  readonly exportName: string;
  /** Memory (MB) and timeout (s): see the README's "Functions" table for why. */
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** The state machine whose ASL uses it. */
  readonly machine: 'subject-request' | 'retention-sweep' | 'log-erasure' | 'retention-enforcement';
}

export const HANDLERS: readonly HandlerSpec[] = [
  { id: 'validate-request', substitution: 'ValidateRequestFunctionArn', module: 'validate-request', exportName: 'handler', memoryMb: 256, timeoutSeconds: 15, machine: 'subject-request' },
  { id: 'resolve-identity', substitution: 'ResolveIdentityFunctionArn', module: 'resolve-identity', exportName: 'handler', memoryMb: 512, timeoutSeconds: 120, machine: 'subject-request' },
  { id: 'discover-store', substitution: 'DiscoverStoreFunctionArn', module: 'discover-store', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 900, machine: 'subject-request' },
  { id: 'begin-log-scan', substitution: 'BeginLogScanFunctionArn', module: 'begin-log-scan', exportName: 'handler', memoryMb: 256, timeoutSeconds: 60, machine: 'subject-request' },
  // One work unit of a fanned-out log store: 1,769 MB is one full vCPU, spent inflating and matching (as erase-log-unit).
  { id: 'scan-log-unit', substitution: 'ScanLogUnitFunctionArn', module: 'scan-log-unit', exportName: 'handler', memoryMb: 1769, timeoutSeconds: 900, machine: 'subject-request' },
  { id: 'collect-log-findings', substitution: 'CollectLogFindingsFunctionArn', module: 'collect-log-findings', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 300, machine: 'subject-request' },
  { id: 'apply-retention', substitution: 'ApplyRetentionFunctionArn', module: 'apply-retention', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 300, machine: 'subject-request' },
  { id: 'load-approved-plan', substitution: 'LoadApprovedPlanFunctionArn', module: 'load-approved-plan', exportName: 'handler', memoryMb: 512, timeoutSeconds: 60, machine: 'subject-request' },
  { id: 'erase-store', substitution: 'EraseStoreFunctionArn', module: 'erase-store', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 900, machine: 'subject-request' },
  { id: 'restrict-store', substitution: 'RestrictStoreFunctionArn', module: 'erase-store', exportName: 'restrictHandler', memoryMb: 512, timeoutSeconds: 900, machine: 'subject-request' },
  { id: 'apply-consent', substitution: 'ApplyConsentFunctionArn', module: 'apply-consent', exportName: 'handler', memoryMb: 256, timeoutSeconds: 120, machine: 'subject-request' },
  { id: 'export-store', substitution: 'ExportStoreFunctionArn', module: 'export-store', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 900, machine: 'subject-request' },
  { id: 'assemble-export', substitution: 'AssembleExportFunctionArn', module: 'assemble-export', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 900, machine: 'subject-request' },
  { id: 'verify-erasure', substitution: 'VerifyErasureFunctionArn', module: 'verify-erasure', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 900, machine: 'subject-request' },
  { id: 'schedule-deferred', substitution: 'ScheduleDeferredFunctionArn', module: 'schedule-deferred', exportName: 'handler', memoryMb: 256, timeoutSeconds: 60, machine: 'subject-request' },
  { id: 'write-receipt', substitution: 'WriteReceiptFunctionArn', module: 'write-receipt', exportName: 'handler', memoryMb: 256, timeoutSeconds: 60, machine: 'subject-request' },
  { id: 'record-failure', substitution: 'RecordFailureFunctionArn', module: 'record-failure', exportName: 'handler', memoryMb: 128, timeoutSeconds: 15, machine: 'subject-request' },
  { id: 'find-due-deferrals', substitution: 'FindDueDeferralsFunctionArn', module: 'find-due-deferrals', exportName: 'handler', memoryMb: 256, timeoutSeconds: 60, machine: 'retention-sweep' },
  { id: 'erase-due-entry', substitution: 'EraseDueEntryFunctionArn', module: 'erase-due-entry', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 900, machine: 'retention-sweep' },
  { id: 'begin-log-pass', substitution: 'BeginLogPassFunctionArn', module: 'begin-log-pass', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 900, machine: 'log-erasure' },
  // 1,769 MB is one full vCPU: a unit's time is spent inflating and matching.
  { id: 'erase-log-unit', substitution: 'EraseLogUnitFunctionArn', module: 'erase-log-unit', exportName: 'handler', memoryMb: 1769, timeoutSeconds: 900, machine: 'log-erasure' },
  { id: 'finish-log-pass', substitution: 'FinishLogPassFunctionArn', module: 'finish-log-pass', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 900, machine: 'log-erasure' },
  { id: 'write-sweep-receipts', substitution: 'WriteSweepReceiptsFunctionArn', module: 'write-sweep-receipts', exportName: 'handler', memoryMb: 256, timeoutSeconds: 60, machine: 'retention-sweep' },
  { id: 'plan-enforcement', substitution: 'PlanEnforcementFunctionArn', module: 'plan-enforcement', exportName: 'handler', memoryMb: 256, timeoutSeconds: 30, machine: 'retention-enforcement' },
  { id: 'start-retention-erasures', substitution: 'StartRetentionErasuresFunctionArn', module: 'start-retention-erasures', exportName: 'handler', memoryMb: 512, timeoutSeconds: 900, machine: 'retention-enforcement' },
  { id: 'purge-expired-records', substitution: 'PurgeExpiredRecordsFunctionArn', module: 'purge-expired-records', exportName: 'handler', memoryMb: 1024, timeoutSeconds: 900, machine: 'retention-enforcement' },
  { id: 'write-enforcement-receipt', substitution: 'WriteEnforcementReceiptFunctionArn', module: 'write-enforcement-receipt', exportName: 'handler', memoryMb: 256, timeoutSeconds: 60, machine: 'retention-enforcement' },
];

export function localFunctionArn(region: string, id: string): string {
  return `arn:aws:lambda:${region}:000000000000:function:dsr-${id}`;
}
