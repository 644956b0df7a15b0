/**
 * What a handler needs, built once per container: configuration, SDK clients (endpoints come
 * from the standard AWS_ENDPOINT_URL_* variables, so the same code runs locally), the clock,
 * the anonymizer and a logger that is only ever given ids, counts and hashes.
 *
 * "Container" as functions/core/lambda-container.ts says: on AWS the process; locally each
 * function's own, with its role's credentials. The clients get those credentials as a static
 * object, one set of clients per container: a credentials *function* shared by principals would
 * be memoized and coalesced by the SDK, and concurrent calls of two functions would mix.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import fs from 'node:fs';
import type { ConnectorContext, ConnectorRegistry } from '../connectors/types';
import { createAnonymizer, type Anonymizer } from './anonymize';
import { fileClock, systemClock, type Clock } from './clock';
import { loadConfig, type DsrConfig } from './config';
import { ConfigError } from './errors';
import { currentContainer } from './lambda-container';
import { Ledger } from './ledger';
import { Workspace } from './workspace';

export interface Runtime {
  readonly config: DsrConfig;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly ledger: Ledger;
  readonly workspace: Workspace;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The connector of each store, given by the caller: core never imports a connector. */
  readonly connectors: ConnectorRegistry;
  connectorContext(): ConnectorContext;
}

interface ContainerClients {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  logger: Logger;
  anonymizer?: Anonymizer;
}

/** By container id; `''` is the one container of a Lambda process. */
const byContainer = new Map<string, ContainerClients>();

function containerClients(): ContainerClients {
  const container = currentContainer();
  // A local engine started after another one in the same process (a test comparing two data
  // maps) has other endpoints and key: its containers are new ones, as on AWS per deployment.
  const id = `${container?.id ?? ''}|${process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''}|${process.env.AWS_ENDPOINT_URL_S3 ?? ''}|${process.env.DSR_HMAC_KEY_FILE ?? ''}`;
  let clients = byContainer.get(id);
  if (!clients) {
    const credentials = container?.credentials ? { accessKeyId: container.credentials.accessKeyId, secretAccessKey: container.credentials.secretAccessKey } : undefined;
    clients = {
      dynamodb: new DynamoDBClient(credentials ? { credentials } : {}),
      // Path style: the local S3 endpoint has no virtual-host DNS; harmless on AWS.
      s3: new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3), ...(credentials ? { credentials } : {}) }),
      logger: new Logger({ serviceName: 'subject-rights-orchestrator' }),
    };
    byContainer.set(id, clients);
  }
  return clients;
}

/** `connectors`: the registry the handler layer hands in (functions/handlers/runtime.ts). */
export function getRuntime(connectors: ConnectorRegistry): Runtime {
  const config = loadConfig();
  const clients = containerClients();
  const clock = process.env.DSR_CLOCK_FILE ? fileClock(process.env.DSR_CLOCK_FILE) : systemClock;
  const { dynamodb, s3, logger } = clients;
  const runtime: Runtime = {
    config,
    dynamodb,
    s3,
    ledger: new Ledger(dynamodb, config.settings.ledgerTable),
    workspace: new Workspace(s3, config.settings.workBucket),
    clock,
    logger,
    connectors,
    connectorContext: () => ({
      dynamodb,
      s3,
      now: clock.now(),
      anonymizer: anonymizer(clients),
      log: (event, fields) => logger.info(event, { ...fields }),
    }),
  };
  return runtime;
}

let providedKey: string | undefined;

/**
 * Hands over an anonymization key fetched before the first invocation. On AWS the key is a
 * Secrets Manager secret (DSR_HMAC_SECRET_ARN) that infra/lambda/hmac-key.ts reads during
 * init; locally it comes from DSR_HMAC_KEY_FILE or DSR_HMAC_KEY as before.
 */
export function provideHmacKey(key: string): void {
  providedKey = key;
  for (const clients of byContainer.values()) clients.anonymizer = undefined;
}

function anonymizer(clients: ContainerClients): Anonymizer {
  if (clients.anonymizer) return clients.anonymizer;
  const file = process.env.DSR_HMAC_KEY_FILE;
  const key = providedKey ?? (file ? fs.readFileSync(file, 'utf8').trim() : process.env.DSR_HMAC_KEY);
  if (!key) throw new ConfigError('no anonymization key: set DSR_HMAC_KEY_FILE or DSR_HMAC_KEY (on AWS: DSR_HMAC_SECRET_ARN)');
  const created = createAnonymizer(key);
  clients.anonymizer = created;
  return created;
}
