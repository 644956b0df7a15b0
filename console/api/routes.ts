/**
 * The console API's endpoints, each a few lines over the shared operations (cli/operations,
 * cli/executions, functions/core). Which role may call which endpoint is declared here, next to
 * the endpoint, and matches the IAM policies: `support` may write, `auditor` reads history,
 * receipts and sweeps (the auditor policy reads no request item, no hold).
 */
import type { z } from 'zod';
import { listHolds, type HoldRecord } from '../../functions/core/hold-ledger';
import { allReceipts, checkChain, type StoredReceipt } from '../../functions/core/receipt';
import type { Clients } from '../../cli/context';
import { approvePlan, rejectPlan } from '../../cli/operations/approval';
import { placeCheckedHold, releaseHoldAs, startSweepRun } from '../../cli/operations/holds';
import { newRequest, startRequest, type FieldNames } from '../../cli/operations/start';
import type { Caller, Role } from './auth';
import { invalidInput } from './errors';
import { bundleOf, presignBundle } from '../../cli/operations/bundle';
import { cancelReport, cancelRequest } from '../../cli/operations/cancel';
import { retentionReport } from '../../cli/operations/retention-report';
import { requestPage } from './list';
import { ApproveBodySchema, CancelBodySchema, HoldBodySchema, ListQuerySchema, RejectBodySchema, ReportQuerySchema, StartBodySchema, SweepBodySchema } from './schemas';
import { listSweeps, requestDetail } from './views';

export interface RouteContext {
  readonly clients: Clients;
  readonly caller: Caller;
  readonly params: readonly string[];
  readonly query: Record<string, string>;
  readonly body: unknown;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: RegExp;
  readonly roles: readonly Role[];
  /** What the caller tries, for the 403's message. */
  readonly action: string;
  readonly run: (ctx: RouteContext) => Promise<{ status?: number; body: unknown }>;
}

/** `root` names what a whole-object issue is about (an unknown key): the body, or the query string. */
function parse<S extends z.ZodType>(schema: S, value: unknown, root = '(body)'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw invalidInput(result.error.issues, root);
  return result.data;
}

/** The API's field names for the shared start checks (the CLI names them as options). */
const API_NAMES: FieldNames = {
  type: 'type',
  subject: 'subjectId',
  requestId: 'requestId',
  verifiedBy: 'verification.verifiedBy',
  verificationMethod: 'verification.method',
  verificationRef: 'verification.reference',
  verifiedAt: 'verification.verifiedAt',
  receivedAt: 'receivedAt',
  jurisdiction: 'jurisdiction',
  purposes: 'purposes',
};

/** A hold as the console shows it: whose data it holds is never shown back (a subject id). */
function holdView(h: HoldRecord) {
  const { subjectId: _subjectId, ...rest } = h;
  return rest;
}

const receiptRef = (r: StoredReceipt) => ({ sequence: r.sequence, hash: r.hash });
const BOTH: readonly Role[] = ['support', 'auditor'];
const SUPPORT: readonly Role[] = ['support'];

export const ROUTES: readonly Route[] = [
  { method: 'GET', path: /^\/api\/me$/, roles: BOTH, action: 'read', run: async ({ caller }) => ({ body: caller }) },
  {
    method: 'GET',
    path: /^\/api\/requests$/,
    roles: BOTH,
    action: 'list requests',
    run: async ({ clients, query }) => ({ body: await requestPage(clients, parse(ListQuerySchema, query, '(query)')) }),
  },
  {
    method: 'POST',
    path: /^\/api\/requests$/,
    roles: SUPPORT,
    action: 'start a request',
    run: async ({ clients, body }) => {
      const b = parse(StartBodySchema, body);
      const v = b.verification;
      const input = newRequest(
        {
          type: b.type,
          subject: b.subjectId,
          requestId: b.requestId,
          verifiedBy: v?.verifiedBy,
          verificationMethod: v?.method,
          verificationRef: v?.reference,
          verifiedAt: v?.verifiedAt,
          receivedAt: b.receivedAt,
          jurisdiction: b.jurisdiction,
          purposes: b.purposes,
        },
        API_NAMES,
      );
      const { record } = await startRequest(clients, input, 'run', v?.verifiedAt === undefined, API_NAMES);
      // The subject id is not echoed: the person just typed it, and the answer may be logged.
      return { status: 202, body: { requestId: record.request.requestId, status: record.status, started: true } };
    },
  },
  {
    method: 'GET',
    path: /^\/api\/requests\/([A-Za-z0-9_-]{1,64})$/,
    roles: BOTH,
    action: 'read a request',
    run: async ({ clients, params }) => ({ body: await requestDetail(clients, params[0]) }),
  },
  {
    method: 'POST',
    path: /^\/api\/requests\/([A-Za-z0-9_-]{1,64})\/approve$/,
    roles: SUPPORT,
    action: 'approve a plan',
    run: async ({ clients, params, body, caller }) => {
      const b = parse(ApproveBodySchema, body);
      const done = await approvePlan(clients, params[0], { approvedBy: caller.user, planHash: b.planHash, hashField: 'planHash' });
      return { status: 202, body: { requestId: params[0], planHash: done.planHash, status: 'approved', receipt: receiptRef(done.receipt) } };
    },
  },
  {
    method: 'POST',
    path: /^\/api\/requests\/([A-Za-z0-9_-]{1,64})\/reject$/,
    roles: SUPPORT,
    action: 'reject a plan',
    run: async ({ clients, params, body, caller }) => {
      const b = parse(RejectBodySchema, body);
      const done = await rejectPlan(clients, params[0], { rejectedBy: caller.user, reference: b.reference, planHash: b.planHash, hashField: 'planHash' });
      return { body: { requestId: params[0], planHash: done.planHash, status: 'rejected', receipt: receiptRef(done.receipt) } };
    },
  },
  {
    method: 'POST',
    path: /^\/api\/requests\/([A-Za-z0-9_-]{1,64})\/cancel$/,
    roles: SUPPORT,
    action: 'cancel a request',
    run: async ({ clients, params, body }) => {
      const b = parse(CancelBodySchema, body);
      const started = await cancelRequest(clients, params[0], b.reason, 'reason');
      // Running: the execution stops at its next unit of work and writes the receipt (202); at rest: done (200).
      if (started.outcome === 'cancel-requested') return { status: 202, body: { requestId: params[0], status: 'cancel-requested', executions: started.running.map((e) => e.name) } };
      return { body: { ...(await cancelReport(clients, params[0])), outcome: started.outcome } };
    },
  },
  {
    method: 'GET',
    path: /^\/api\/requests\/([A-Za-z0-9_-]{1,64})\/bundle$/,
    roles: SUPPORT,
    action: 'download a bundle',
    run: async ({ clients, params }) => {
      const ref = await bundleOf(clients, params[0]);
      const link = await presignBundle(clients, ref);
      return { body: { requestId: params[0], type: ref.type, sha256: ref.sha256, bytes: ref.bytes ?? null, ...link } };
    },
  },
  {
    method: 'GET',
    path: /^\/api\/retention\/report$/,
    roles: BOTH,
    action: 'read the retention report',
    run: async ({ clients, query }) => {
      const q = parse(ReportQuerySchema, query, '(query)');
      return { body: await retentionReport(clients, q.now ? new Date(q.now).toISOString() : undefined) };
    },
  },
  {
    method: 'GET',
    path: /^\/api\/holds$/,
    roles: SUPPORT,
    action: 'list holds',
    run: async ({ clients }) => ({ body: { holds: (await listHolds(clients)).map(holdView).sort((a, b) => (a.status === b.status ? a.placedAt.localeCompare(b.placedAt) : a.status === 'active' ? -1 : 1)) } }),
  },
  {
    method: 'POST',
    path: /^\/api\/holds$/,
    roles: SUPPORT,
    action: 'place a hold',
    run: async ({ clients, body, caller }) => {
      const b = parse(HoldBodySchema, body);
      const endsAt = b.endsAt ? new Date(b.endsAt).toISOString() : undefined;
      const placed = await placeCheckedHold(
        clients,
        { subject: b.scope === 'subject' ? b.subjectId : undefined, store: b.scope === 'store' ? b.store : undefined, kind: b.kind, reference: b.reference, placedBy: caller.user, endsAt },
        { subject: 'subjectId', store: 'store', kind: 'kind' },
      );
      return { status: 201, body: { hold: holdView(placed) } };
    },
  },
  {
    method: 'POST',
    path: /^\/api\/holds\/(hold-[0-9a-f]{12})\/release$/,
    roles: SUPPORT,
    action: 'release a hold',
    run: async ({ clients, params, caller }) => {
      await releaseHoldAs(clients, params[0], caller.user);
      return { body: { holdId: params[0], status: 'released' } };
    },
  },
  { method: 'GET', path: /^\/api\/sweeps$/, roles: BOTH, action: 'list sweep runs', run: async ({ clients }) => ({ body: { sweeps: await listSweeps(clients) } }) },
  {
    method: 'POST',
    path: /^\/api\/sweeps$/,
    roles: SUPPORT,
    action: 'start a sweep',
    run: async ({ clients, body }) => {
      const b = parse(SweepBodySchema, body);
      const run = await startSweepRun(clients, b.now ? new Date(b.now).toISOString() : undefined);
      return { status: 202, body: { sweepId: run.sweepId, status: 'started' } };
    },
  },
  {
    method: 'GET',
    path: /^\/api\/receipts\/verify$/,
    roles: BOTH,
    action: 'verify the receipt chain',
    run: async ({ clients }) => {
      const receipts: StoredReceipt[] = [];
      for await (const r of allReceipts(clients)) receipts.push(r);
      return { body: checkChain(receipts) };
    },
  },
];
