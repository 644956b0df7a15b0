/**
 * The handlers' runtime: core's, with the connectors wired in. The one place the layers meet:
 * handlers → core → the connectors' contract, and core never imports a connector module.
 */
import { connectorFor } from '../connectors';
import { getRuntime as coreRuntime, type Runtime } from '../core/runtime';

export type { Runtime };

export function getRuntime(): Runtime {
  return coreRuntime(connectorFor);
}
