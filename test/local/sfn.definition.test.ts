import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectStates, DefinitionError, loadDefinition, startSfnServer } from '../../local/sfn';

const FLOW = join(__dirname, '..', 'fixtures', 'asl', 'dsr-flow.asl.json');
const SUBS = {
  ValidateFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dsr-validate',
  EraseFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dsr-erase',
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sfn-definition-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function aslFile(name: string, definition: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof definition === 'string' ? definition : JSON.stringify(definition));
  return path;
}

describe('loadDefinition', () => {
  it('substitutes every placeholder, nested Map states included', () => {
    const { definition, text } = loadDefinition(FLOW, SUBS);
    expect(text).not.toContain('${');
    expect((definition.States.ValidateRequest.Parameters as { FunctionName: string }).FunctionName).toBe(SUBS.ValidateFunctionArn);
    const erase = collectStates(definition).find((s) => s.name === 'EraseStore');
    expect((erase?.state.Parameters as { FunctionName: string }).FunctionName).toBe(SUBS.EraseFunctionArn);
  });

  it('fails on a placeholder without a substitution, naming it and the file', () => {
    const call = () => loadDefinition(FLOW, { ValidateFunctionArn: SUBS.ValidateFunctionArn });
    expect(call).toThrow(DefinitionError);
    expect(call).toThrow(/dsr-flow\.asl\.json: no substitution for placeholder\(s\) \$\{EraseFunctionArn\}/);
  });

  it('fails on a substitution the file never uses', () => {
    expect(() => loadDefinition(FLOW, { ...SUBS, ExportFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:x' })).toThrow(
      /substitution\(s\) never used: ExportFunctionArn/,
    );
  });

  it('reports missing and unused substitutions together', () => {
    expect(() => loadDefinition(FLOW, { ValidateFunctionArn: SUBS.ValidateFunctionArn, EraseFnArn: 'typo' })).toThrow(
      /\$\{EraseFunctionArn\}.*never used: EraseFnArn/,
    );
  });

  it("keeps Fn::Sub's ${!Literal} escape as literal text, not a placeholder", () => {
    const path = aslFile('escape.asl.json', { StartAt: 'P', States: { P: { Type: 'Pass', Result: { note: '${!NotAPlaceholder}', arn: '${Arn}' }, End: true } } });
    const { definition } = loadDefinition(path, { Arn: 'x' });
    expect(definition.States.P.Result).toEqual({ note: '${NotAPlaceholder}', arn: 'x' });
  });

  it('fails clearly when a substitution breaks the JSON', () => {
    const path = aslFile('quote.asl.json', { StartAt: 'P', States: { P: { Type: 'Pass', Result: '${Value}', End: true } } });
    expect(() => loadDefinition(path, { Value: 'say "hi"' })).toThrow(/quote\.asl\.json: not valid JSON after substitution/);
  });

  it('refuses a state name used twice across nesting levels', () => {
    const inner = { StartAt: 'Same', States: { Same: { Type: 'Pass', End: true } } };
    const path = aslFile('dup.asl.json', { StartAt: 'Same', States: { Same: { Type: 'Map', ItemProcessor: inner, End: true } } });
    expect(() => loadDefinition(path, {})).toThrow(/state name 'Same' is used more than once/);
  });
});

describe('startSfnServer refuses what it cannot run', () => {
  const start = (definitionPath: string, substitutions: Record<string, string>) =>
    startSfnServer({ stateMachines: [{ name: 'm', definitionPath, substitutions }], lambdas: {} });

  it('a definition with a missing substitution', async () => {
    await expect(start(FLOW, {})).rejects.toThrow(/no substitution for placeholder/);
  });

  it('a service integration other than Lambda, and the callback pattern', async () => {
    const sns = aslFile('sns.asl.json', { StartAt: 'Notify', States: { Notify: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', Parameters: { Message: 'x', TopicArn: 'arn:aws:sns:us-east-1:000000000000:t' }, End: true } } });
    await expect(start(sns, {})).rejects.toThrow(/Task 'Notify' uses resource 'arn:aws:states:::sns:publish'/);
    const token = aslFile('token.asl.json', { StartAt: 'Ask', States: { Ask: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Parameters: { FunctionName: 'f', 'Payload.$': '$$.Task.Token' }, End: true } } });
    await expect(start(token, {})).rejects.toThrow(/Task 'Ask' uses resource 'arn:aws:states:::lambda:invoke.waitForTaskToken'/);
  });

  it('an ASL document the library rejects', async () => {
    const bad = aslFile('bad.asl.json', { StartAt: 'Missing', States: { P: { Type: 'Pass', End: true } } });
    await expect(start(bad, {})).rejects.toThrow(/bad\.asl\.json: State machine definition is invalid/);
  });
});
