/** What the ExecutionManager lends a Distributed Map: child executions, IAM and S3 as the machine's role. */
import { randomUUID } from 'node:crypto';
import { accessDeniedMessage, allowAll, type Authorizer } from '../iam/types';
import type { AslMachine } from './definition';
import type { ChildHandle, MapRunHost } from './distributed-map';
import type { S3Access } from './item-reader';
import type { MapRuns } from './map-runs';
import { executionArn, type MachineEntry, type StoredExecution } from './model';

interface HostDeps {
  region: string;
  authorize?: Authorizer;
  s3Endpoint?: string;
  machineCredentials?: (machineName: string) => { accessKeyId: string; secretAccessKey: string };
  machineName: string;
  mapRuns: MapRuns;
  parent: StoredExecution;
  launch(entry: MachineEntry, arn: string, name: string, input: string, mapRunArn: string): { stored: StoredExecution; settled: Promise<void> };
  stop(arn: string): void;
  save(): void;
}

// One entry per Map Run (its processor object), so its children share one prepared machine.
const processorEntries = new WeakMap<AslMachine, MachineEntry>();

export function createMapRunHost(deps: HostDeps): MapRunHost {
  // A Map Run's children (`<machine>/<label>`) run with their parent machine's role.
  const credentials = deps.machineCredentials?.(deps.machineName.split('/')[0]) ?? { accessKeyId: 'local', secretAccessKey: 'local' };
  const authorize = deps.authorize ?? allowAll;
  const s3: S3Access | undefined = deps.s3Endpoint ? { endpoint: deps.s3Endpoint, region: deps.region, credentials } : undefined;
  return {
    region: deps.region,
    s3,
    mapRuns: {
      // Kept with the parent execution too, so they are persisted and restored with it.
      add: (run) => {
        const record = deps.mapRuns.add(run);
        (deps.parent.mapRuns ??= []).push(record);
        return record;
      },
    } as MapRuns,
    startChild: (processor, input, mapRunArn): ChildHandle => {
      let entry = processorEntries.get(processor.definition);
      if (!entry) {
        entry = { ...processor, text: JSON.stringify(processor.definition), creationDate: deps.parent.execution.startDate };
        processorEntries.set(processor.definition, entry);
      }
      const name = randomUUID();
      const live = deps.launch(entry, executionArn(processor.arn, name), name, input, mapRunArn);
      return { record: live.stored.execution, settled: live.settled };
    },
    stopChild: deps.stop,
    saveParent: deps.save,
    denied: (action, resource) => {
      const request = { action, resource };
      const decision = authorize(credentials.accessKeyId, request);
      return decision.allowed ? undefined : accessDeniedMessage(request, decision);
    },
  };
}
