import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from './model';

interface PathState {
  tail: Promise<void>;
  queued: Promise<void> | null;
  users: number;
}

/**
 * Writes small JSON metadata files so that a killed process leaves either the old or the new
 * file, never a torn one (temp file in the same filesystem + rename). Writes to one path are
 * serialised, and a write that is still queued is shared by later callers: each write snapshots
 * the live in-memory state when it runs, so the last one to finish always holds the newest state.
 */
export class MetadataWriter {
  private readonly paths = new Map<string, PathState>();
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly tmpDir: string) {}

  /** `produce` returns the file's text, or null to delete the file. */
  write(path: string, produce: () => string | null): Promise<void> {
    let st = this.paths.get(path);
    if (!st) {
      st = { tail: Promise.resolve(), queued: null, users: 0 };
      this.paths.set(path, st);
    }
    if (st.queued) return st.queued;
    const state = st;
    state.users += 1;
    const run = state.tail.then(async () => {
      state.queued = null;
      const content = produce();
      if (content === null) await rm(path, { force: true });
      else await this.atomicWrite(path, content);
    });
    state.queued = run;
    state.tail = run.catch(() => undefined);
    const tracked = run.finally(() => {
      state.users -= 1;
      if (state.users === 0 && this.paths.get(path) === state) this.paths.delete(path);
      this.inflight.delete(tracked);
    });
    tracked.catch(() => undefined);
    this.inflight.add(tracked);
    return run;
  }

  async atomicWrite(path: string, content: string): Promise<void> {
    const tmp = join(this.tmpDir, `meta-${newId(8)}.json`);
    try {
      await writeFile(tmp, content);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }
}
