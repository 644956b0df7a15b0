import fs from 'node:fs';
import path from 'node:path';
import { HANDLERS } from '../../functions/handlers/registry';
import { collectStates, loadDefinition } from '../../local/sfn/definition';
import { checkSubstitutions, MACHINES, machineFile, machineHandlers } from '../../infra/machines';
import { REPO_ROOT } from '../../infra/functions';

// asl-validator ships CommonJS with a default-function export and no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: unknown) => { isValid: boolean; errorsText: (sep?: string) => string };

const PLACEHOLDER = /\$\{(!?)([^}]*)\}/g;

describe('State machine definitions', () => {
  it('has a MACHINES entry for every statemachines/*.asl.json and a machine for every handler', () => {
    const files = fs.readdirSync(path.join(REPO_ROOT, 'statemachines')).filter((f) => f.endsWith('.asl.json'));
    expect(files.map((f) => `statemachines/${f}`).sort()).toEqual(MACHINES.map((m) => m.file).sort());
    expect(HANDLERS.filter((h) => !MACHINES.some((m) => m.id === h.machine)).map((h) => h.id)).toEqual([]);
  });

  it.each(MACHINES.map((m) => [m.id, m] as const))('%s: every ${…} placeholder is a handler substitution, and every substitution is used', (_id, spec) => {
    const raw = fs.readFileSync(machineFile(spec), 'utf8');
    const placeholders = [...raw.matchAll(PLACEHOLDER)].filter((m) => !m[1]).map((m) => m[2]);
    // Handlers' function ARNs, and the ARNs of machines this one starts executions of.
    expect(new Set(placeholders)).toEqual(new Set([...machineHandlers(spec).map((h) => h.substitution), ...Object.keys(spec.machineSubstitutions ?? {})]));
    expect(() => checkSubstitutions(spec)).not.toThrow();
  });

  it.each(MACHINES.map((m) => [m.id, m] as const))('%s: passes asl-validator once substituted, and every Task invokes a function', (_id, spec) => {
    const subs = {
      ...Object.fromEntries(machineHandlers(spec).map((h) => [h.substitution, `arn:aws:lambda:ca-central-1:111111111111:function:dsr-${h.id}`])),
      ...Object.fromEntries(Object.entries(spec.machineSubstitutions ?? {}).map(([k, m]) => [k, `arn:aws:states:ca-central-1:111111111111:stateMachine:dsr-${m}`])),
    };
    const { definition } = loadDefinition(machineFile(spec), subs);
    const result = aslValidator(definition);
    expect(result.isValid ? '' : result.errorsText('\n')).toBe('');
    for (const { name, state } of collectStates(definition)) {
      if (state.Type !== 'Task') continue;
      expect([name, state.Resource]).toEqual([name, 'arn:aws:states:::lambda:invoke']);
    }
  });

  it('fails synth on a placeholder without a handler, naming it', () => {
    const spec = { ...MACHINES[0], file: 'test/infra/fixtures/unknown-placeholder.asl.json' };
    expect(() => checkSubstitutions(spec)).toThrow(/no substitution for placeholder\(s\) \$\{NotAHandlerFunctionArn\}/);
  });
});
