/**
 * The CLI's date and deadline settings. On a local engine both are the engine's: its clock
 * file (tests and demos move it) and its configuration; on AWS the system clock, and the
 * deployment's configuration where DSR_CONFIG_FILE names it, else the default periods.
 */
import fs from 'node:fs';
import { fileClock, systemClock, type Clock } from '../functions/core/clock';
import { loadConfig } from '../functions/core/config';
import { deadlineSettings, type DeadlineSettings } from '../functions/core/deadline-settings';
import { DeadlineSettingsSchema } from '../functions/core/deadline-settings';
import { engineFiles } from '../local/state';
import type { Clients } from './context';

export function cliClock(c: Pick<Clients, 'deployment'>): Clock {
  return c.deployment.localDir ? fileClock(engineFiles(c.deployment.localDir).clock) : systemClock;
}

export function cliDeadlineSettings(c: Pick<Clients, 'deployment'>): DeadlineSettings {
  const file = c.deployment.localDir ? engineFiles(c.deployment.localDir).config : process.env.DSR_CONFIG_FILE;
  if (!file || !fs.existsSync(file)) return DeadlineSettingsSchema.parse({});
  return deadlineSettings(loadConfig(file).settings);
}
