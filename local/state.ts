/** Files the engine keeps in its data directory. */
import fs from 'node:fs';
import path from 'node:path';

export interface EngineState {
  readonly pid: number;
  readonly dynamodbPid?: number;
  readonly startedAt: string;
  readonly env: Record<string, string>;
}

export function engineFiles(dataDir: string) {
  return {
    state: path.join(dataDir, 'engine.json'),
    endpoints: path.join(dataDir, 'endpoints.env'),
    config: path.join(dataDir, 'config.json'),
    dataMap: path.join(dataDir, 'datamap.json'),
    hmacKey: path.join(dataDir, 'hmac.key'),
    clock: path.join(dataDir, 'clock.json'),
    log: path.join(dataDir, 'engine.log'),
  };
}

export function readEngineState(dataDir: string): EngineState | undefined {
  try {
    return JSON.parse(fs.readFileSync(engineFiles(dataDir).state, 'utf8')) as EngineState;
  } catch {
    return undefined;
  }
}

export function writeEngineState(dataDir: string, state: EngineState): void {
  const file = engineFiles(dataDir).state;
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}
