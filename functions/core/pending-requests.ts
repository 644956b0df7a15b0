/**
 * Whether a subject has an access or portability request that is not answered yet: what it
 * covers must not be erased or purged meanwhile (PIPEDA s.8(8)). The one place enforcement
 * asks; the deadlines work (issue 15, deliverable 2) records pending requests in a form that
 * can be looked up by subject, and this module is where that lookup replaces the one below.
 *
 * Until then it reads what is recorded of running requests today: the subject-request
 * machine's running executions (named after their request ids) and, for each, the request
 * item in the ledger (its type and subject). No Scan of the ledger. Subject ids stay inside
 * the handler.
 */
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { currentContainer } from './lambda-container';
import type { Runtime } from './runtime';

const ANSWERED_BY_ACCESS = new Set(['access', 'portability']);

/** The SDK client of the calling function's container (its own role's credentials locally). */
export function containerSfnClient(): SFNClient {
  const credentials = currentContainer()?.credentials;
  return new SFNClient(credentials ? { credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey } } : {});
}

/** Every subject with a running access or portability request. */
export async function subjectsWithPendingAccessRequests(rt: Pick<Runtime, 'ledger'>, stateMachineArn: string, sfn: SFNClient = containerSfnClient()): Promise<Set<string>> {
  const subjects = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }));
    for (const e of page.executions ?? []) {
      // A plan or a resume runs as `<requestId>--<mode>`: the request id comes first.
      const requestId = (e.name ?? '').split('--')[0];
      const record = requestId ? await rt.ledger.getRequest(requestId) : undefined;
      if (record && ANSWERED_BY_ACCESS.has(record.request.type)) subjects.add(record.request.subjectId);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return subjects;
}

/** The question enforcement asks of one subject (see the module comment for what answers it). */
export async function subjectHasPendingAccessRequest(rt: Pick<Runtime, 'ledger'>, subjectId: string, stateMachineArn: string): Promise<boolean> {
  return (await subjectsWithPendingAccessRequests(rt, stateMachineArn)).has(subjectId);
}
