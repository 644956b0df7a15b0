/**
 * What DynamoDB asks IAM for, per operation of its JSON API: `dynamodb:<Operation>` on the table
 * (or index) ARN, per table for the batch operations, per item's own action for transactions,
 * with the fine-grained access condition keys: dynamodb:LeadingKeys (the partition key values the
 * request touches), dynamodb:Attributes, dynamodb:Select and dynamodb:ReturnValues.
 */
import type { AuthzRequest } from './types';

/** The partition key attribute of a table and of each of its indexes. */
export interface TableKeys {
  readonly hash: string;
  readonly indexes: Readonly<Record<string, string>>;
}

/** Looks a table's key schema up (DescribeTable); undefined when the table does not exist. */
export type KeyLookup = (table: string) => Promise<TableKeys | undefined>;

export interface DynamoDbScope {
  readonly region: string;
  readonly accountId: string;
}

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;
type Body = Record<string, unknown>;
type Context = Record<string, string | string[]>;

/** A TableName may be a name or (since 2024) the table's ARN. */
export function tableArn(scope: DynamoDbScope, table: string): string {
  return table.startsWith('arn:') ? table : `arn:aws:dynamodb:${scope.region}:${scope.accountId}:table/${table}`;
}

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The value IAM compares: the scalar of an S, N or B attribute value. */
function scalar(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  for (const type of ['S', 'N', 'B']) if (typeof value[type] === 'string') return value[type] as string;
  return undefined;
}

function names(body: Body): Record<string, string> {
  return isObject(body.ExpressionAttributeNames) ? (body.ExpressionAttributeNames as Record<string, string>) : {};
}

/** Top-level attribute names of a ProjectionExpression ("#a, b.c, d[0]" → a, b, d). */
function projected(body: Body): string[] | undefined {
  if (Array.isArray(body.AttributesToGet)) return body.AttributesToGet.filter((a): a is string => typeof a === 'string');
  const expr = str(body.ProjectionExpression);
  if (expr === undefined) return undefined;
  const n = names(body);
  return expr.split(',').map((path) => {
    const top = path.trim().split(/[.[]/)[0];
    return n[top] ?? top;
  });
}

/** Attribute names an UpdateItem writes: AttributeUpdates keys, or the paths of its UpdateExpression. */
function updated(body: Body): string[] {
  if (isObject(body.AttributeUpdates)) return Object.keys(body.AttributeUpdates);
  const expr = str(body.UpdateExpression);
  if (expr === undefined) return [];
  const n = names(body);
  const out = new Set<string>();
  // Each action's target path starts a clause ("SET a = …, #b = …", "REMOVE c, d", "ADD e :v").
  for (const m of expr.matchAll(/(?:\b(?:SET|REMOVE|ADD|DELETE)\s+|,\s*)(#?[A-Za-z0-9_]+)(?=[\s.[=,]|$)/gi)) {
    out.add(n[m[1]] ?? m[1]);
  }
  return [...out];
}

/** The partition key value a KeyConditionExpression (or legacy KeyConditions) fixes with "=". */
function queriedKey(body: Body, hash: string): string | undefined {
  if (isObject(body.KeyConditions)) {
    const cond = (body.KeyConditions as Record<string, unknown>)[hash];
    if (isObject(cond) && cond.ComparisonOperator === 'EQ' && Array.isArray(cond.AttributeValueList)) return scalar(cond.AttributeValueList[0]);
    return undefined;
  }
  const expr = str(body.KeyConditionExpression);
  if (expr === undefined) return undefined;
  const n = names(body);
  const values = isObject(body.ExpressionAttributeValues) ? body.ExpressionAttributeValues : {};
  for (const part of expr.split(/\s+AND\s+/i)) {
    const m = /^\(*\s*(#?[\w.]+|:\w+)\s*=\s*(#?[\w.]+|:\w+)\s*\)*$/.exec(part.trim());
    if (!m) continue;
    const [left, right] = [m[1], m[2]];
    const [attr, placeholder] = left.startsWith(':') ? [right, left] : [left, right];
    if ((n[attr] ?? attr) === hash && placeholder.startsWith(':')) return scalar(values[placeholder]);
  }
  return undefined;
}

function leadingKeys(values: (string | undefined)[]): Context {
  const present = [...new Set(values.filter((v): v is string => v !== undefined))];
  return present.length > 0 ? { 'dynamodb:LeadingKeys': present } : {};
}

function optionKeys(body: Body, attributes: string[] | undefined): Context {
  const ctx: Context = {};
  if (attributes && attributes.length > 0) ctx['dynamodb:Attributes'] = [...new Set(attributes)];
  if (typeof body.Select === 'string') ctx['dynamodb:Select'] = body.Select;
  if (typeof body.ReturnValues === 'string') ctx['dynamodb:ReturnValues'] = body.ReturnValues;
  if (typeof body.ReturnConsumedCapacity === 'string') ctx['dynamodb:ReturnConsumedCapacity'] = body.ReturnConsumedCapacity;
  return ctx;
}

function request(action: string, resource: string, context: Context): AuthzRequest {
  return Object.keys(context).length > 0 ? { action, resource, context } : { action, resource };
}

const itemOf = (body: Body): Item => (isObject(body.Item) ? (body.Item as Item) : {});
const keyOf = (body: Body): Item => (isObject(body.Key) ? (body.Key as Item) : {});

/** One item operation (GetItem, PutItem, UpdateItem, DeleteItem, ConditionCheckItem) on its table. */
async function itemRequest(action: string, body: Body, scope: DynamoDbScope, keys: KeyLookup): Promise<AuthzRequest | undefined> {
  const table = str(body.TableName);
  if (table === undefined) return undefined;
  const schema = await keys(table);
  const source = action === 'dynamodb:PutItem' ? itemOf(body) : keyOf(body);
  const attributes =
    action === 'dynamodb:PutItem' ? Object.keys(itemOf(body)) : action === 'dynamodb:UpdateItem' ? [...Object.keys(keyOf(body)), ...updated(body)] : projected(body);
  return request(action, tableArn(scope, table), { ...leadingKeys([schema ? scalar(source[schema.hash]) : undefined]), ...optionKeys(body, attributes) });
}

async function queryOrScan(action: string, body: Body, scope: DynamoDbScope, keys: KeyLookup): Promise<AuthzRequest[]> {
  const table = str(body.TableName);
  if (table === undefined) return [request(action, '*', {})];
  const index = str(body.IndexName);
  const resource = index === undefined ? tableArn(scope, table) : `${tableArn(scope, table)}/index/${index}`;
  let lead: Context = {};
  if (action === 'dynamodb:Query') {
    const schema = await keys(table);
    const hash = schema && (index === undefined ? schema.hash : schema.indexes[index]);
    if (hash) lead = leadingKeys([queriedKey(body, hash)]);
  }
  return [request(action, resource, { ...lead, ...optionKeys(body, projected(body)) })];
}

async function batch(action: string, body: Body, scope: DynamoDbScope, keys: KeyLookup): Promise<AuthzRequest[]> {
  const items = isObject(body.RequestItems) ? body.RequestItems : {};
  const out: AuthzRequest[] = [];
  for (const [table, spec] of Object.entries(items)) {
    const schema = await keys(table);
    const touched: Item[] = [];
    let attributes: string[] | undefined;
    if (action === 'dynamodb:BatchGetItem' && isObject(spec)) {
      if (Array.isArray(spec.Keys)) touched.push(...(spec.Keys as Item[]));
      attributes = projected(spec);
    } else if (Array.isArray(spec)) {
      attributes = [];
      for (const write of spec as Body[]) {
        if (isObject(write.PutRequest)) {
          touched.push(itemOf(write.PutRequest));
          attributes.push(...Object.keys(itemOf(write.PutRequest)));
        } else if (isObject(write.DeleteRequest)) touched.push(keyOf(write.DeleteRequest));
      }
    }
    const lead = schema ? leadingKeys(touched.map((item) => (isObject(item) ? scalar(item[schema.hash]) : undefined))) : {};
    out.push(request(action, tableArn(scope, table), { ...lead, ...optionKeys({ ReturnConsumedCapacity: body.ReturnConsumedCapacity }, attributes) }));
  }
  return out;
}

const TRANSACT_WRITE: Record<string, string> = { Put: 'dynamodb:PutItem', Update: 'dynamodb:UpdateItem', Delete: 'dynamodb:DeleteItem', ConditionCheck: 'dynamodb:ConditionCheckItem' };

async function transaction(body: Body, scope: DynamoDbScope, keys: KeyLookup, actions: Record<string, string>): Promise<AuthzRequest[]> {
  const out: AuthzRequest[] = [];
  for (const entry of Array.isArray(body.TransactItems) ? (body.TransactItems as Body[]) : []) {
    for (const [kind, action] of Object.entries(actions)) {
      const item = entry?.[kind];
      if (!isObject(item)) continue;
      const r = await itemRequest(action, item, scope, keys);
      if (r) out.push(r);
    }
  }
  return out;
}

/** PartiQL: the statement's verb is the action (PartiQLSelect, …), its table the resource. */
function partiql(statement: string, scope: DynamoDbScope): AuthzRequest | undefined {
  const m = /^\s*(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]*?(?:\bFROM|\bINTO|^\s*UPDATE)\s+"?([\w.-]+)"?/i.exec(statement);
  if (!m) return undefined;
  const verb = m[1][0].toUpperCase() + m[1].slice(1).toLowerCase();
  return request(`dynamodb:PartiQL${verb}`, tableArn(scope, m[2]), {});
}

/** Operations authorized on the account's table wildcard, as their AccessDenied messages show it. */
const ACCOUNT_WIDE = new Set(['ListTables', 'DescribeLimits', 'DescribeEndpoints', 'ListBackups', 'ListGlobalTables', 'ListExports', 'ListImports']);

/** Every (action, resource, context) an operation needs, in the order AWS would report the first denial. */
export async function dynamoDbRequests(operation: string, body: Body, scope: DynamoDbScope, keys: KeyLookup): Promise<AuthzRequest[]> {
  const action = `dynamodb:${operation}`;
  switch (operation) {
    case 'GetItem':
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem': {
      const r = await itemRequest(action, body, scope, keys);
      return r ? [r] : [request(action, '*', {})];
    }
    case 'Query':
    case 'Scan':
      return queryOrScan(action, body, scope, keys);
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return batch(action, body, scope, keys);
    case 'TransactWriteItems':
      return transaction(body, scope, keys, TRANSACT_WRITE);
    case 'TransactGetItems':
      return transaction(body, scope, keys, { Get: 'dynamodb:GetItem' });
    case 'ExecuteStatement': {
      const r = partiql(str(body.Statement) ?? '', scope);
      return r ? [r] : [];
    }
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction': {
      const list = Array.isArray(body.Statements) ? body.Statements : Array.isArray(body.TransactStatements) ? body.TransactStatements : [];
      return list.map((s: unknown) => partiql(isObject(s) ? (str(s.Statement) ?? '') : '', scope)).filter((r): r is AuthzRequest => r !== undefined);
    }
    default:
      break;
  }
  if (ACCOUNT_WIDE.has(operation)) return [request(action, `arn:aws:dynamodb:${scope.region}:${scope.accountId}:table/*`, {})];
  const table = str(body.TableName);
  const resource = table !== undefined ? tableArn(scope, table) : (str(body.ResourceArn) ?? str(body.BackupArn) ?? '*');
  return [request(action, resource, {})];
}
