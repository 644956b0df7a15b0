/**
 * The connector for each store kind: the registry the handler layer hands to core
 * (functions/handlers/runtime.ts); core itself knows only the contract in ./types.
 */
import type { DynamoDbStore, Store } from '../core/datamap';
import { dynamodbConnector } from './dynamodb';
import { setAttribute } from './dynamodb-attributes';
import { createDynamoDbOwnerLookup } from './dynamodb-owners';
import { s3ObjectsConnector } from './s3-objects';
import { s3RecordsConnector } from './s3-records';
import type { Connector, ConnectorRegistry } from './types';

/** DynamoDB stores are the ones that yield identifiers: their connector also answers identity resolution. */
const dynamodb: Connector<DynamoDbStore> = {
  kind: 'dynamodb',
  discover: (store, identity, ctx) => dynamodbConnector.discover(store, identity, ctx),
  apply: (store, identity, actions, ctx) => dynamodbConnector.apply(store, identity, actions, ctx),
  export: (store, identity, findings, ctx) => dynamodbConnector.export(store, identity, findings, ctx),
  findOwnerRecords: createDynamoDbOwnerLookup(),
  setAttribute,
};

export const connectorFor: ConnectorRegistry = (store: Store): Connector => {
  switch (store.kind) {
    case 'dynamodb':
      return dynamodb as Connector;
    case 's3-objects':
      return s3ObjectsConnector as Connector;
    case 's3-records':
      return s3RecordsConnector as Connector;
  }
};
