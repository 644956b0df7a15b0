import { z } from 'zod';
import type { ExecutionManager } from './executions';
import { toWire } from './wire';
import { describeMapRun, listMapRuns, updateMapRun } from './map-run-operations';
import { ROLE_ARN, type ExecutionRecord } from './model';
import { checkedArn, decodeToken, encodeToken, epochSeconds, pageSize, SfnError, seqPage } from './protocol';

const arn = z.string().min(1).max(2048);
const maxResults = z.number().int().optional();
const nextToken = z.string().min(1).max(1024).optional();
const status = z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']);

const schemas = {
  StartExecution: z.object({ stateMachineArn: arn, name: z.string().optional(), input: z.string().optional(), traceHeader: z.string().optional() }),
  DescribeExecution: z.object({ executionArn: arn, includedData: z.enum(['ALL_DATA', 'METADATA_ONLY']).optional() }),
  GetExecutionHistory: z.object({ executionArn: arn, maxResults, reverseOrder: z.boolean().optional(), nextToken, includeExecutionData: z.boolean().optional() }),
  ListExecutions: z.object({ stateMachineArn: arn.optional(), statusFilter: status.optional(), maxResults, nextToken, mapRunArn: z.string().optional() }),
  StopExecution: z.object({ executionArn: arn, error: z.string().max(256).optional(), cause: z.string().max(32768).optional() }),
  DescribeStateMachine: z.object({ stateMachineArn: arn }),
  DescribeStateMachineForExecution: z.object({ executionArn: arn }),
  ListStateMachines: z.object({ maxResults, nextToken }),
  DescribeMapRun: z.object({ mapRunArn: arn }),
  ListMapRuns: z.object({ executionArn: arn, maxResults, nextToken }),
  UpdateMapRun: z.object({
    mapRunArn: arn,
    maxConcurrency: z.number().int().min(0).optional(),
    toleratedFailurePercentage: z.number().min(0).max(100).optional(),
    toleratedFailureCount: z.number().int().min(0).optional(),
  }),
};

export type OperationName = keyof typeof schemas;

const parse = <K extends OperationName>(op: K, body: unknown): z.infer<(typeof schemas)[K]> => {
  const result = schemas[op].safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new SfnError('ValidationException', `1 validation error detected: Value at '${issue.path.join('.')}' failed to satisfy constraint: ${issue.message}`);
  }
  return result.data as z.infer<(typeof schemas)[K]>;
};

/** What ListExecutions says of each execution, and DescribeExecution first. */
function summary(e: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: epochSeconds(e.startDate),
    ...(e.stopDate !== undefined ? { stopDate: epochSeconds(e.stopDate) } : {}),
  };
}

function describe(e: ExecutionRecord, includeData: boolean): Record<string, unknown> {
  return {
    ...summary(e),
    ...(includeData ? { input: e.input } : {}),
    inputDetails: { included: includeData },
    ...(e.status === 'SUCCEEDED' ? { ...(includeData ? { output: e.output } : {}), outputDetails: { included: includeData } } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
    ...(e.cause !== undefined ? { cause: e.cause } : {}),
    ...(e.mapRunArn !== undefined ? { mapRunArn: e.mapRunArn } : {}),
  };
}

type Handler = (body: unknown, manager: ExecutionManager) => unknown;

export const operations = {
  StartExecution(body, manager) {
    const req = parse('StartExecution', body);
    const record = manager.start(checkedArn(req.stateMachineArn, 'stateMachine'), req.name, req.input);
    return { executionArn: record.executionArn, startDate: epochSeconds(record.startDate) };
  },

  DescribeExecution(body, manager) {
    const req = parse('DescribeExecution', body);
    return describe(manager.get(checkedArn(req.executionArn, 'execution')).execution, req.includedData !== 'METADATA_ONLY');
  },

  GetExecutionHistory(body, manager) {
    const req = parse('GetExecutionHistory', body);
    const { events } = manager.get(checkedArn(req.executionArn, 'execution'));
    const size = pageSize(req.maxResults);
    const reverse = req.reverseOrder === true;
    const scope = `${req.executionArn}|${reverse}`;
    // The token holds the next event id, which stays valid while a running execution grows.
    const from = req.nextToken !== undefined ? decodeToken(req.nextToken, scope) : reverse ? events.length : 1;
    const ordered = reverse ? events.filter((e) => e.id <= from).reverse() : events.filter((e) => e.id >= from);
    const page = ordered.slice(0, size);
    const more = ordered.length > size;
    return {
      events: page.map((e) => toWire(e, req.includeExecutionData !== false)),
      ...(more ? { nextToken: encodeToken(scope, page[page.length - 1].id + (reverse ? -1 : 1)) } : {}),
    };
  },

  ListExecutions(body, manager) {
    const req = parse('ListExecutions', body);
    if (req.mapRunArn !== undefined && req.stateMachineArn !== undefined) throw new SfnError('ValidationException', 'Must provide only a StateMachine ARN or a MapRun ARN, not both');
    if (req.mapRunArn === undefined && req.stateMachineArn === undefined) throw new SfnError('ValidationException', 'Must provide a StateMachine ARN or MapRun ARN');
    let machine = '';
    if (req.mapRunArn !== undefined) {
      checkedArn(req.mapRunArn, 'mapRun');
      if (!manager.mapRuns.get(req.mapRunArn)) throw new SfnError('ResourceNotFound', `Resource not found: '${req.mapRunArn}'`);
    } else {
      machine = checkedArn(req.stateMachineArn as string, 'stateMachine');
      if (!manager.machines.has(machine)) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${machine}'`);
    }
    const scope = `${req.mapRunArn ?? machine}|${req.statusFilter ?? ''}`;
    const statusFilter = req.statusFilter === 'PENDING_REDRIVE' ? undefined : req.statusFilter;
    // Nothing is ever redrivable locally, so PENDING_REDRIVE matches no execution.
    const listed = req.statusFilter === 'PENDING_REDRIVE' ? [] : req.mapRunArn !== undefined ? manager.listByMapRun(req.mapRunArn, statusFilter) : manager.list(machine, statusFilter);
    const { page, next } = seqPage(listed, scope, req.maxResults, req.nextToken);
    return {
      executions: page.map((e) => ({ ...summary(e), ...(e.mapRunArn !== undefined ? { mapRunArn: e.mapRunArn } : {}) })),
      ...next,
    };
  },

  StopExecution(body, manager) {
    const req = parse('StopExecution', body);
    const record = manager.stop(checkedArn(req.executionArn, 'execution'), req.error, req.cause);
    return { stopDate: epochSeconds(record.stopDate ?? Date.now()) };
  },

  DescribeStateMachine(body, manager) {
    const req = parse('DescribeStateMachine', body);
    const machine = manager.machines.get(checkedArn(req.stateMachineArn, 'stateMachine'));
    if (!machine) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${req.stateMachineArn}'`);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: machine.text,
      roleArn: ROLE_ARN,
      type: 'STANDARD',
      creationDate: epochSeconds(machine.creationDate),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  },

  DescribeStateMachineForExecution(body, manager) {
    const req = parse('DescribeStateMachineForExecution', body);
    const { stateMachineArn } = manager.get(checkedArn(req.executionArn, 'execution')).execution;
    const machine = manager.machines.get(stateMachineArn);
    if (!machine) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return { stateMachineArn, name: machine.name, definition: machine.text, roleArn: ROLE_ARN, updateDate: epochSeconds(machine.creationDate) };
  },

  ListStateMachines(body, manager) {
    const req = parse('ListStateMachines', body);
    const size = pageSize(req.maxResults);
    const from = req.nextToken !== undefined ? decodeToken(req.nextToken, 'machines') : 0;
    const all = [...manager.machines.values()].sort((a, b) => a.name.localeCompare(b.name));
    const page = all.slice(from, from + size);
    return {
      stateMachines: page.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: 'STANDARD', creationDate: epochSeconds(m.creationDate) })),
      ...(from + size < all.length ? { nextToken: encodeToken('machines', from + size) } : {}),
    };
  },
} as Record<OperationName, Handler>;

Object.assign(operations, {
  DescribeMapRun: (body: unknown, manager: ExecutionManager) => describeMapRun(manager, parse('DescribeMapRun', body).mapRunArn),
  ListMapRuns: (body: unknown, manager: ExecutionManager) => {
    const req = parse('ListMapRuns', body);
    return listMapRuns(manager, req.executionArn, req.maxResults, req.nextToken);
  },
  UpdateMapRun: (body: unknown, manager: ExecutionManager) => updateMapRun(manager, parse('UpdateMapRun', body)),
});

export const isOperation = (name: string): name is OperationName => Object.prototype.hasOwnProperty.call(operations, name);
