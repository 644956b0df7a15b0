/** The connector for each store kind. */
import type { Store } from '../core/datamap';
import { dynamodbConnector } from './dynamodb';
import { s3ObjectsConnector } from './s3-objects';
import { s3RecordsConnector } from './s3-records';
import type { Connector } from './types';

export function connectorFor(store: Store): Connector {
  switch (store.kind) {
    case 'dynamodb':
      return dynamodbConnector as Connector;
    case 's3-objects':
      return s3ObjectsConnector as Connector;
    case 's3-records':
      return s3RecordsConnector as Connector;
  }
}
