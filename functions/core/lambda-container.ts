/**
 * Which Lambda "container" the running code is in. On AWS each function is its own process
 * with its own role, and nothing sets this: there is one container and the SDK's default
 * credential chain. The local engine runs every handler in one process, concurrently, so it
 * runs each invocation inside its function's container (AsyncLocalStorage), with that
 * function's own credentials; functions/core/runtime.ts keeps one set of SDK clients per
 * container, so no call is ever signed as another function's role.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface LambdaContainer {
  /** The function (handler id of functions/handlers/registry.ts). */
  readonly id: string;
  /** Static credentials of the function's role: an object, never a provider function (see runtime.ts). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

const containers = new AsyncLocalStorage<LambdaContainer>();

/** Runs `fn` (and everything it awaits) inside `container`. */
export function runInContainer<T>(container: LambdaContainer, fn: () => T): T {
  return containers.run(container, fn);
}

/** The container of the code running now; undefined on AWS (one function per process). */
export function currentContainer(): LambdaContainer | undefined {
  return containers.getStore();
}
