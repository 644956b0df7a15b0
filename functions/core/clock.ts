/**
 * The one place that reads the date. Retention decisions, verification freshness and the
 * sweep all take a Clock, so a test (or `dsr sweep --now` locally) can move time.
 */
import fs from 'node:fs';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * The local engine's clock: the date in `file` when it exists (`{"now": "2027-12-01T00:00:00Z"}`),
 * the system clock otherwise. Read on every call so a test can move time under a running engine.
 * Never used on AWS, where handlers get the system clock.
 */
export function fileClock(file: string): Clock {
  return {
    now() {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        return new Date();
      }
      const at = new Date((JSON.parse(text) as { now?: string }).now ?? '');
      if (Number.isNaN(at.getTime())) throw new TypeError(`${file} does not hold a valid {"now": ISO date}`);
      return at;
    },
  };
}
