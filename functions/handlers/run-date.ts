/** The date a scheduled run (the sweep, a log pass, an enforcement run) decides as of. */
import { InvalidInputError } from '../core/errors';

/**
 * The date asked for, or the clock's. Deciding "in the future" would erase what may still be
 * kept, so a date more than a minute ahead of the clock is refused, except where the operator
 * allows it (the local engine sets DSR_ALLOW_SWEEP_IN_FUTURE). `run` names it in the error.
 */
export function runDate(clockNow: Date, requested: string | undefined, run: 'sweep' | 'pass' | 'enforcement'): Date {
  const now = requested ? new Date(requested) : clockNow;
  if (now.getTime() > clockNow.getTime() + 60_000 && process.env.DSR_ALLOW_SWEEP_IN_FUTURE !== 'true') {
    throw new InvalidInputError(`the ${run} date is in the future; only a local engine allows that`);
  }
  return now;
}
