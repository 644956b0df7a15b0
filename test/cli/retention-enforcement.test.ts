/**
 * `dsr retention lifecycle` and the inputs of `dsr retention enforce|report`, without an
 * engine: the lifecycle rules come from the data map and schedule alone, and a bad date is
 * refused before anything is started. Enforcement itself runs against the local engine in
 * test/pipeline/retention-enforcement.test.ts.
 */
import { main } from '../../cli/main';

async function dsr(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'dsr', ...args], { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

describe('dsr retention', () => {
  it('lifecycle prints the reference data map\'s log rules, and as JSON the PutBucketLifecycleConfiguration input', async () => {
    const text = await dsr('retention', 'lifecycle');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/voip-logs {2}dsr-expire-sip-logs {2}prefix "sip\/" {2}expire after 372 days/);
    const json = await dsr('retention', 'lifecycle', '--json');
    const config = JSON.parse(json.out) as Record<string, { Bucket: string; LifecycleConfiguration: { Rules: Array<{ ID: string }> } }>;
    expect(Object.keys(config)).toEqual(['voip-logs']);
    expect(config['voip-logs'].LifecycleConfiguration.Rules.map((r) => r.ID)).toEqual([
      'dsr-expire-sip-logs',
      'dsr-expire-noncurrent-sip-logs',
      'dsr-expire-app-logs',
      'dsr-expire-noncurrent-app-logs',
      'dsr-expired-delete-markers',
    ]);
  });

  it.each([['enforce'], ['report']])('%s refuses a --now that is not a date, naming the option (exit 2)', async (sub) => {
    const r = await dsr('retention', sub, '--now', 'next tuesday');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--now: not a date/);
  });
});
