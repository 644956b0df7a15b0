/**
 * The layering rule in eslint.config.mjs (handlers → core → the connectors' contract): run the
 * project's own ESLint, as `npm run lint` does, on probe sources placed under functions/core and
 * functions/aws, and check which imports it refuses. Also: the real tree obeys it.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const eslintBin = path.join(root, 'node_modules', '.bin', 'eslint');

interface Message {
  readonly ruleId: string | null;
  readonly line: number;
}

/** Lints `source` as if it were `file`; the lines the layering rule reports. */
function refusedLines(file: string, source: string): number[] {
  let out: string;
  try {
    out = execFileSync(eslintBin, ['--format', 'json', '--stdin', '--stdin-filename', file], { cwd: root, input: source, encoding: 'utf8' });
  } catch (err) {
    // ESLint exits 1 when it reports errors; the report is still on stdout.
    out = (err as { stdout: string }).stdout;
  }
  const [result] = JSON.parse(out) as Array<{ messages: Message[] }>;
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.line);
}

describe('layering lint rule', () => {
  it('refuses connector modules and handlers in core, and allows the contract and functions/aws', () => {
    const source = [
      "import { connectorFor } from '../connectors';",
      "import { findItems } from '../connectors/dynamodb';",
      "import type { Identity } from '../connectors/types';",
      "import { batchPutItems } from '../aws/dynamodb-batch';",
      "import { getRuntime } from '../handlers/runtime';",
      "export * from '../connectors/s3-objects';",
      "import { Ledger } from './ledger';",
      "import { startEngine } from '../../local/engine';",
      "export const used = [connectorFor, findItems, batchPutItems, getRuntime, Ledger, startEngine];",
      'export type Used = Identity;',
      '',
    ].join('\n');
    expect(refusedLines('functions/core/probe.ts', source)).toEqual([1, 2, 5, 6, 8]);
  }, 60_000);

  it('applies in core subfolders too', () => {
    const source = "import { s3RecordsConnector } from '../../connectors/s3-records';\nimport type { Identity } from '../../connectors/types';\nexport const used: [typeof s3RecordsConnector, Identity?] = [s3RecordsConnector];\n";
    expect(refusedLines('functions/core/bundle/probe.ts', source)).toEqual([1]);
  }, 60_000);

  it('keeps functions/aws below the connectors, contract included', () => {
    const source = "import type { Identity } from '../connectors/types';\nimport { DsrError } from '../core/errors';\nexport const used: [Identity?, typeof DsrError?] = [];\n";
    expect(refusedLines('functions/aws/probe.ts', source)).toEqual([1]);
  }, 60_000);

  it('finds nothing to refuse in the real functions/core and functions/aws', () => {
    let out: string;
    try {
      out = execFileSync(eslintBin, ['--format', 'json', 'functions/core', 'functions/aws'], { cwd: root, encoding: 'utf8' });
    } catch (err) {
      out = (err as { stdout: string }).stdout;
    }
    const results = JSON.parse(out) as Array<{ filePath: string; messages: Message[] }>;
    expect(results.length).toBeGreaterThan(30);
    const refused = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${path.relative(root, r.filePath)}:${m.line}`));
    expect(refused).toEqual([]);
  }, 120_000);
});
