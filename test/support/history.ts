/** Execution histories read as an auditor's tool reads them: every page, children included. */
import { ListExecutionsCommand, ListMapRunsCommand, paginateGetExecutionHistory, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';

/** Every event of one execution's history, all pages, oldest first. */
export async function fullHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory({ client: sfn, pageSize: 1000 }, { executionArn })) events.push(...(page.events ?? []));
  return events;
}

/** The events of an execution and of every child execution its Map Runs started (a Distributed Map's children keep histories of their own). */
export async function historyWithChildren(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events = await fullHistory(sfn, executionArn);
  for (const run of (await sfn.send(new ListMapRunsCommand({ executionArn }))).mapRuns ?? []) {
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new ListExecutionsCommand({ mapRunArn: run.mapRunArn, nextToken }));
      for (const child of page.executions ?? []) events.push(...(await fullHistory(sfn, child.executionArn!)));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return events;
}
