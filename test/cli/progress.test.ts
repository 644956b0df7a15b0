/**
 * How `--wait` paces its polling (cli/progress.ts): quick at first, so a short request is seen done
 * within a tenth of a second, then slower, so a long pass does not spend the account's
 * DescribeExecution and GetExecutionHistory quota. Pure arithmetic; the polling itself runs in
 * every `--wait` of the CLI tests against the local engine.
 */
import { pollDelayMs } from '../../cli/progress';

describe('pollDelayMs', () => {
  test('100 ms for the first 2 s, 250 ms up to 30 s, then once a second; never faster later than earlier', () => {
    expect([0, 1_999, 2_000, 29_999, 30_000, 3_600_000].map(pollDelayMs)).toEqual([100, 100, 250, 250, 1_000, 1_000]);
    let last = 0;
    for (let t = 0; t < 120_000; t += 137) {
      expect(pollDelayMs(t)).toBeGreaterThanOrEqual(last);
      last = pollDelayMs(t);
    }
  });

  test('a wait of ten minutes asks 702 times (20 + 112 + 570), where every 250 ms was 2,400', () => {
    let asks = 0;
    for (let t = 0; t < 600_000; t += pollDelayMs(t)) asks++;
    expect(asks).toBe(20 + 112 + 570);
  });
});
