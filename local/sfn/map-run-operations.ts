/** DescribeMapRun, ListMapRuns and UpdateMapRun, with AWS's field names and paging. */
import type { ExecutionManager } from './executions';
import type { MapRunRecord } from './map-runs';
import { checkedArn, epochSeconds, SfnError, seqPage } from './protocol';

const mapRunChecked = (manager: ExecutionManager, arn: string): MapRunRecord => {
  const run = manager.mapRuns.get(checkedArn(arn, 'mapRun'));
  if (!run) throw new SfnError('ResourceNotFound', `Resource not found: '${arn}'`);
  return run;
};

export function describeMapRun(manager: ExecutionManager, mapRunArn: string): Record<string, unknown> {
  const run = mapRunChecked(manager, mapRunArn);
  return {
    mapRunArn: run.mapRunArn,
    executionArn: run.executionArn,
    status: run.status,
    startDate: epochSeconds(run.startDate),
    ...(run.stopDate !== undefined ? { stopDate: epochSeconds(run.stopDate) } : {}),
    maxConcurrency: run.maxConcurrency,
    toleratedFailurePercentage: run.toleratedFailurePercentage,
    toleratedFailureCount: run.toleratedFailureCount,
    itemCounts: { ...run.itemCounts, failuresNotRedrivable: 0, pendingRedrive: 0 },
    executionCounts: { ...run.executionCounts, failuresNotRedrivable: 0, pendingRedrive: 0 },
    redriveCount: 0,
  };
}

export function listMapRuns(manager: ExecutionManager, executionArn: string, maxResults: number | undefined, nextToken: string | undefined): Record<string, unknown> {
  manager.get(checkedArn(executionArn, 'execution'));
  const { page, next } = seqPage(manager.mapRuns.ofExecution(executionArn), `mapRuns|${executionArn}`, maxResults, nextToken);
  return {
    mapRuns: page.map((r) => ({
      executionArn: r.executionArn,
      mapRunArn: r.mapRunArn,
      stateMachineArn: r.stateMachineArn,
      startDate: epochSeconds(r.startDate),
      ...(r.stopDate !== undefined ? { stopDate: epochSeconds(r.stopDate) } : {}),
    })),
    ...next,
  };
}

/** Only the recorded settings change: the running Map Run keeps the limits it started with (documented). */
export function updateMapRun(manager: ExecutionManager, req: { mapRunArn: string; maxConcurrency?: number; toleratedFailurePercentage?: number; toleratedFailureCount?: number }): Record<string, unknown> {
  const run = mapRunChecked(manager, req.mapRunArn);
  if (req.maxConcurrency !== undefined) run.maxConcurrency = req.maxConcurrency;
  if (req.toleratedFailurePercentage !== undefined) run.toleratedFailurePercentage = req.toleratedFailurePercentage;
  if (req.toleratedFailureCount !== undefined) run.toleratedFailureCount = req.toleratedFailureCount;
  return {};
}
