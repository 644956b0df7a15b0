import { readFileSync } from 'node:fs';

/** A state as it appears in ASL; only the fields this adapter reads are typed. */
export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: unknown;
  ItemSelector?: unknown;
  ResultSelector?: unknown;
  ItemsPath?: string;
  InputPath?: string | null;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number; MaxDelaySeconds?: number }[];
  Iterator?: AslMachine;
  ItemProcessor?: AslMachine;
  Branches?: AslMachine[];
  Error?: string;
  ErrorPath?: string;
  Cause?: string;
  CausePath?: string;
  [field: string]: unknown;
}

export interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  [field: string]: unknown;
}

export interface LoadedDefinition {
  /** The substituted ASL text, as CloudFormation would hand it to Step Functions. */
  text: string;
  definition: AslMachine;
}

export class DefinitionError extends Error {
  override name = 'DefinitionError';
}

// `${!Name}` is Fn::Sub's escape for a literal `${Name}`, so it must not count as a placeholder.
const PLACEHOLDER = /\$\{(!?)([^}]*)\}/g;

/**
 * Reads an ASL file and applies CDK `definitionSubstitutions`. Both directions are errors:
 * a placeholder left over would reach Step Functions as a literal ARN, and an unused
 * substitution usually means the ASL and the stack have drifted apart.
 */
export function loadDefinition(path: string, substitutions: Record<string, string>): LoadedDefinition {
  const raw = readFileSync(path, 'utf8');
  const missing = new Set<string>();
  const used = new Set<string>();
  const text = raw.replace(PLACEHOLDER, (whole, escape: string, key: string) => {
    if (escape) return `\${${key}}`;
    if (!Object.prototype.hasOwnProperty.call(substitutions, key)) {
      missing.add(key);
      return whole;
    }
    used.add(key);
    return substitutions[key];
  });
  const unused = Object.keys(substitutions).filter((key) => !used.has(key));
  const problems: string[] = [];
  if (missing.size > 0) problems.push(`no substitution for placeholder(s) ${[...missing].map((k) => `\${${k}}`).join(', ')}`);
  if (unused.length > 0) problems.push(`substitution(s) never used: ${unused.join(', ')}`);
  if (problems.length > 0) throw new DefinitionError(`${path}: ${problems.join('; ')}`);

  let definition: AslMachine;
  try {
    definition = JSON.parse(text) as AslMachine;
  } catch (err) {
    throw new DefinitionError(`${path}: not valid JSON after substitution: ${(err as Error).message}`);
  }
  if (typeof definition !== 'object' || definition === null || typeof definition.StartAt !== 'string' || typeof definition.States !== 'object') {
    throw new DefinitionError(`${path}: not an ASL state machine (StartAt and States are required)`);
  }
  collectStates(definition, path);
  return { text, definition };
}

export interface StateRef {
  name: string;
  state: AslState;
}

/**
 * Every state, nested Map and Parallel branches included. The library keys its overrides by
 * bare state name at every nesting level, so a repeated name would silently share a handler:
 * refuse it here (Step Functions requires unique names across the whole machine anyway).
 */
export function collectStates(machine: AslMachine, where = 'definition'): StateRef[] {
  const found: StateRef[] = [];
  const seen = new Set<string>();
  const walk = (m: AslMachine): void => {
    for (const [name, state] of Object.entries(m.States)) {
      if (seen.has(name)) throw new DefinitionError(`${where}: state name '${name}' is used more than once`);
      seen.add(name);
      found.push({ name, state });
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner) walk(inner);
      for (const branch of state.Branches ?? []) walk(branch);
    }
  };
  walk(machine);
  return found;
}

/** AWS gives a Task no timeout by default; the library gives it 60 s. Lambda's own ceiling is 900 s. */
export const DEFAULT_TASK_TIMEOUT_SECONDS = 900;

/** The Resource the library sees for a Distributed Map, which it cannot run (see distributed-map.ts). */
export const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::local:distributedMap';

export const isDistributed = (state: AslState): boolean =>
  state.Type === 'Map' && (state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined)?.ProcessorConfig?.Mode === 'DISTRIBUTED';

const READERS = new Set(['arn:aws:states:::s3:getObject', 'arn:aws:states:::s3:listObjectsV2']);

/**
 * What the local engine cannot run as AWS would is refused at startup rather than run
 * differently: EXPRESS children, readers other than JSON/JSONL getObject and listObjectsV2,
 * writers other than putObject with JSON output.
 */
export function unsupportedDistributed(state: AslState): string | undefined {
  const config = (state.ItemProcessor as { ProcessorConfig?: { ExecutionType?: string } }).ProcessorConfig;
  if ((config?.ExecutionType ?? 'STANDARD') !== 'STANDARD') return `ExecutionType ${String(config?.ExecutionType)} child executions are not modelled locally (STANDARD is)`;
  const reader = state.ItemReader as { Resource?: string; ReaderConfig?: { InputType?: string } } | undefined;
  if (reader && !READERS.has(String(reader.Resource))) return `ItemReader resource ${String(reader.Resource)} is not modelled locally`;
  const input = reader?.ReaderConfig?.InputType;
  if (reader?.Resource === 'arn:aws:states:::s3:getObject' && input !== undefined && input !== 'JSON' && input !== 'JSONL') return `ReaderConfig InputType ${input} is not modelled locally (JSON and JSONL are)`;
  const writer = state.ResultWriter as { Resource?: string; WriterConfig?: { OutputType?: string; Transformation?: string } } | undefined;
  if (writer && writer.Resource !== 'arn:aws:states:::s3:putObject') return 'a ResultWriter without Resource arn:aws:states:::s3:putObject is not modelled locally';
  if (writer?.WriterConfig) return 'ResultWriter WriterConfig is not modelled locally';
  return undefined;
}

// What the library keeps of a Distributed Map: the Task fields that mean the same on a Map.
const DISTRIBUTED_KEPT = new Set(['Comment', 'InputPath', 'ResultPath', 'ResultSelector', 'OutputPath', 'Retry', 'Catch', 'Next', 'End']);
// Under 2^31 ms, Node's timer ceiling: a Map Run has no timeout of its own on AWS.
const DISTRIBUTED_TIMEOUT_SECONDS = 2_000_000;

/** A Distributed Map becomes, for the library, a Task whose handler runs the Map Run. */
function distributedAsTask(state: AslState): void {
  for (const key of Object.keys(state)) if (!DISTRIBUTED_KEPT.has(key)) delete state[key];
  Object.assign(state, { Type: 'Task', Resource: DISTRIBUTED_MAP_RESOURCE, TimeoutSeconds: DISTRIBUTED_TIMEOUT_SECONDS });
}

/** Rewrites a copy of the definition into what the library should run for one execution. */
export function prepareForRun(machine: AslMachine, startTimeIso: string): AslMachine {
  const copy = structuredClone(machine);
  for (const { name, state } of collectStates(copy)) {
    if (isDistributed(state)) {
      distributedAsTask(state);
      continue;
    }
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = DEFAULT_TASK_TIMEOUT_SECONDS;
    }
    // The library never sets $$.State and restarts $$.Execution.StartTime in every Map
    // iteration; both values are known before the run, so bake them into the templates.
    const statics: Record<string, string> = { '$$.State.Name': name, '$$.Execution.StartTime': startTimeIso };
    for (const field of ['Parameters', 'ItemSelector', 'ResultSelector'] as const) {
      if (state[field] !== undefined) state[field] = bakeContextPaths(state[field], statics);
    }
  }
  return copy;
}

function bakeContextPaths(template: unknown, statics: Record<string, string>): unknown {
  if (Array.isArray(template)) return template.map((item) => bakeContextPaths(item, statics));
  if (typeof template !== 'object' || template === null) return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && typeof value === 'string' && statics[value] !== undefined) {
      out[key.slice(0, -2)] = statics[value];
    } else {
      out[key] = bakeContextPaths(value, statics);
    }
  }
  return out;
}

/**
 * Per-state retry waits in milliseconds for the library's `retryIntervalOverrides`. The
 * override is a fixed wait per retrier, so BackoffRate growth and jitter are not modelled:
 * locally the point of a retry is that it happens, not how long it waits.
 */
export function retryIntervals(machine: AslMachine, scale: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const { name, state } of collectStates(machine)) {
    if (!state.Retry) continue;
    out[name] = state.Retry.map((retrier) => {
      const seconds = Math.min(retrier.IntervalSeconds ?? 1, retrier.MaxDelaySeconds ?? Infinity);
      return Math.max(0, seconds * 1000 * scale);
    });
  }
  return out;
}

/**
 * Resolves the simple JSONPaths ASL uses for ItemsPath/InputPath (`$`, `$.a.b`, `$['a']`, `$.a[0]`),
 * only to report MapStateStarted's `length`; anything fancier yields undefined.
 */
export function simplePath(path: string, value: unknown): unknown {
  if (!path.startsWith('$') || path.startsWith('$$')) return undefined;
  const steps = path.slice(1).match(/\.[^.[\]]+|\[\d+\]|\['[^']*'\]|\["[^"]*"\]/g) ?? [];
  if (steps.join('') !== path.slice(1)) return undefined;
  let current: unknown = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = step.startsWith('.') ? step.slice(1) : step.startsWith('[\'') || step.startsWith('["') ? step.slice(2, -2) : Number(step.slice(1, -1));
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}
