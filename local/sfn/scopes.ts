import type { AslMachine } from './definition';

/** Where a state lives: at the top level, in a Map's item processor, or in one Parallel branch. */
export interface Scope {
  owner: string;
  kind: 'Map' | 'Parallel';
  branch: number;
}

export const ROOT_LANE = 'root';

/**
 * The history's previousEventId chains run per "lane": the top level, each Map iteration, each
 * Parallel branch. The library tells which Map iteration a nested event belongs to (`index`) but
 * not which Parallel branch; state names are unique across a machine, so the definition does.
 */
export class Scopes {
  private readonly scopes = new Map<string, Scope>();
  readonly branchCounts = new Map<string, number>();
  readonly maxConcurrency = new Map<string, number>();

  constructor(machine: AslMachine) {
    const walk = (m: AslMachine, scope: Scope | undefined): void => {
      for (const [name, state] of Object.entries(m.States)) {
        if (scope) this.scopes.set(name, scope);
        const inner = state.ItemProcessor ?? state.Iterator;
        if (inner) {
          // The library runs at most 40 iterations at a time when MaxConcurrency is 0 or absent.
          this.maxConcurrency.set(name, typeof state.MaxConcurrency === 'number' && state.MaxConcurrency > 0 ? state.MaxConcurrency : 40);
          walk(inner, { owner: name, kind: 'Map', branch: 0 });
        }
        (state.Branches ?? []).forEach((branch, i) => walk(branch, { owner: name, kind: 'Parallel', branch: i }));
        if (state.Branches) this.branchCounts.set(name, state.Branches.length);
      }
    };
    walk(machine, undefined);
  }

  scopeOf(state: string): Scope | undefined {
    return this.scopes.get(state);
  }

  /** The lane of a state's events; `index` is the Map iteration the library reports. */
  laneOf(state: string, index: number | undefined): string {
    const scope = this.scopes.get(state);
    if (!scope) return ROOT_LANE;
    return scope.kind === 'Map' ? iterationLane(scope.owner, index ?? 0) : `${scope.owner}/${scope.branch}${index === undefined ? '' : `@${index}`}`;
  }

  /** The composite states (Map, Parallel) a state is nested in, innermost first. */
  ownersOf(state: string): string[] {
    const owners: string[] = [];
    for (let scope = this.scopes.get(state); scope; scope = this.scopes.get(scope.owner)) owners.push(scope.owner);
    return owners;
  }
}

export const iterationLane = (map: string, index: number): string => `${map}[${index}]`;
