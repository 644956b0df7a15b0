import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredExecution } from './model';

interface Pending {
  latest: StoredExecution;
  dirty: boolean;
  writing?: Promise<void>;
}

/**
 * One JSON file per execution under `<dataDir>/executions/<machine>/<execution>.json`.
 * Saves are coalesced: a burst of history events costs one write per in-flight round, and each
 * write goes to a temp file renamed over the old one, so a crash never leaves half a file.
 */
export class ExecutionStore {
  private readonly pending = new Map<string, Pending>();
  private failure: Error | undefined;

  constructor(private readonly dataDir?: string) {
    if (dataDir) mkdirSync(join(dataDir, 'executions'), { recursive: true });
  }

  get persistent(): boolean {
    return this.dataDir !== undefined;
  }

  loadAll(): StoredExecution[] {
    if (!this.dataDir) return [];
    const root = join(this.dataDir, 'executions');
    const found: StoredExecution[] = [];
    for (const machine of readdirSync(root, { withFileTypes: true })) {
      if (!machine.isDirectory()) continue;
      for (const file of readdirSync(join(root, machine.name))) {
        if (!file.endsWith('.json')) continue;
        const path = join(root, machine.name, file);
        try {
          found.push(JSON.parse(readFileSync(path, 'utf8')) as StoredExecution);
        } catch (err) {
          throw new Error(`local sfn: cannot read persisted execution ${path}: ${(err as Error).message}`, { cause: err });
        }
      }
    }
    return found;
  }

  save(stored: StoredExecution): void {
    if (!this.dataDir) return;
    const key = stored.execution.executionArn;
    const entry = this.pending.get(key) ?? { latest: stored, dirty: false };
    entry.latest = stored;
    entry.dirty = true;
    this.pending.set(key, entry);
    if (!entry.writing) entry.writing = this.drain(key, entry);
  }

  /** Resolves once every save requested so far is on disk; rejects if any write failed. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending.values()].map((entry) => entry.writing));
    if (this.failure) throw this.failure;
  }

  private async drain(key: string, entry: Pending): Promise<void> {
    try {
      while (entry.dirty) {
        entry.dirty = false;
        await this.write(entry.latest);
      }
    } catch (err) {
      this.failure ??= err as Error;
    } finally {
      entry.writing = undefined;
      if (!entry.dirty) this.pending.delete(key);
    }
  }

  private async write(stored: StoredExecution): Promise<void> {
    const { stateMachineArn, name } = stored.execution;
    const dir = join(this.dataDir as string, 'executions', encodeURIComponent(stateMachineArn.split(':')[6]));
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${encodeURIComponent(name)}.json`);
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, JSON.stringify(stored));
    await rename(temp, file);
  }
}
