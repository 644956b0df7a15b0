/**
 * `--wait`: follows an execution through its history events, not by sampling its current
 * state (a state shorter than the poll would be missed). Shows the elapsed time, the state the
 * execution is in, per Map how many stores are done of how many, and retries. On a terminal it
 * rewrites one status line; elsewhere (a pipe, a log) it prints one line per state change.
 */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type DescribeExecutionCommandOutput, type HistoryEvent } from '@aws-sdk/client-sfn';
import { CliError, EXIT, type Clients, type Printer } from './context';
import { byId, EventTree } from './event-tree';

/** What the events so far say about the run. */
export class RunProgress {
  private readonly tree = new EventTree();
  private readonly seen = new Set<number>();
  state: string | undefined;
  retries = 0;
  readonly maps = new Map<string, { total: number; done: number; failed: number; closed: boolean }>();

  /**
   * Takes events in any order, each once. Returns a line per state entered (Choices only route
   * and are left out) and one when a Map ends, with its count: the quiet display off a terminal.
   */
  add(events: readonly HistoryEvent[]): string[] {
    const changes: string[] = [];
    for (const e of byId(events)) {
      if (e.id === undefined || this.seen.has(e.id)) continue;
      this.seen.add(e.id);
      const depth = this.tree.add(e);
      const before = this.state;
      this.take(e, depth);
      const mapEnded = depth === 0 && (e.type === 'MapStateSucceeded' || e.type === 'MapStateFailed');
      if ((this.state !== before && e.type !== 'ChoiceStateEntered') || mapEnded) changes.push(this.describe());
    }
    return changes;
  }

  private take(e: HistoryEvent, depth: number): void {
    if (this.tree.isRetry(e)) this.retries++;
    const current = this.state ? this.maps.get(this.state) : undefined;
    if (e.type === 'MapStateStarted' && depth === 0 && this.state) {
      this.maps.set(this.state, { total: e.mapStateStartedEventDetails?.length ?? 0, done: 0, failed: 0, closed: false });
    } else if ((e.type === 'MapStateSucceeded' || e.type === 'MapStateFailed') && depth === 0 && current) {
      // The Map is over: every iteration has ended, whenever their own events arrive.
      if (e.type === 'MapStateSucceeded') current.done = current.total;
      current.closed = true;
    } else if (e.type === 'MapIterationSucceeded' || e.type === 'MapIterationFailed' || e.type === 'MapIterationAborted') {
      const name = e.mapIterationSucceededEventDetails?.name ?? e.mapIterationFailedEventDetails?.name ?? e.mapIterationAbortedEventDetails?.name;
      const map = name ? this.maps.get(name) : undefined;
      if (map && !map.closed) {
        map.done = Math.min(map.total, map.done + 1);
        if (e.type !== 'MapIterationSucceeded') map.failed++;
      }
    } else if (depth === 0 && e.stateEnteredEventDetails?.name) {
      this.state = e.stateEnteredEventDetails.name;
    }
  }

  describe(): string {
    const map = this.state ? this.maps.get(this.state) : undefined;
    const stores = map ? ` · stores done ${map.done}/${map.total}${map.failed ? ` (${map.failed} failed)` : ''}` : '';
    return `${this.state ?? 'starting'}${stores}`;
  }
}

/** Reads the events newer than those seen: newest first, page by page, until a seen one. */
async function newEvents(c: Clients, arn: string, lastId: number): Promise<HistoryEvent[]> {
  const found: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const out = await c.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 100, nextToken }));
    const page = out.events ?? [];
    const fresh = page.filter((e) => (e.id ?? 0) > lastId);
    found.push(...fresh);
    nextToken = fresh.length === page.length ? out.nextToken : undefined;
  } while (nextToken);
  return found;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function waitForExecution(
  c: Clients,
  arn: string,
  timeoutSeconds: number,
  printer: Printer,
  show: boolean,
  tty: boolean = Boolean(process.stdout.isTTY && process.stderr.isTTY),
): Promise<DescribeExecutionCommandOutput> {
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1000;
  const progress = new RunProgress();
  let lastId = 0;
  for (;;) {
    const out = await c.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    const events = await newEvents(c, arn, lastId);
    lastId = Math.max(lastId, ...events.map((e) => e.id ?? 0));
    const changes = progress.add(events);
    const closed = out.status !== 'RUNNING' && out.status !== 'PENDING_REDRIVE';
    const retries = progress.retries ? ` · retries ${progress.retries}` : '';
    if (show) {
      const at = seconds(Date.now() - started);
      if (tty) process.stderr.write(`\r\u001b[2K  ${at}  ${progress.describe()}${retries}`);
      // Off a terminal every change is a line of its own, short states included.
      else for (const line of changes) printer.err(`  ${at}  ${line}${retries}`);
      if (closed) {
        if (tty) process.stderr.write('\n');
        printer.err(`  ${out.status?.toLowerCase()} after ${at}${progress.retries ? `, ${progress.retries} retries` : ''}`);
      }
    }
    if (closed) return out;
    if (Date.now() > deadline) throw new CliError(`still running after ${timeoutSeconds} s: ${arn}`, EXIT.timeout);
    await new Promise((r) => setTimeout(r, pollDelayMs(Date.now() - started)));
  }
}

/**
 * How long to wait before asking again: a short request is seen done within a tenth of a second,
 * while a pass that runs for minutes is asked once a second (each ask is a DescribeExecution and a
 * GetExecutionHistory call, both throttled per account on AWS).
 */
export function pollDelayMs(elapsedMs: number): number {
  if (elapsedMs < 2_000) return 100;
  if (elapsedMs < 30_000) return 250;
  return 1_000;
}
