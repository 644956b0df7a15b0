/**
 * JSON Schemas (draft 2020-12) for the JSON files of a bundle. A store's records have no fixed
 * shape (the operator's data map names stores, not columns), so the schema of the records is
 * inferred from the records themselves: every field with the types it was seen with, required
 * when every record has it. The envelope around the records is fixed.
 */
export type JsonSchema = { [keyword: string]: unknown };

export const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

/** What was seen at one place of the values: types, object properties, array items. Feed it with `add`, one value at a time. */
export class Shape {
  readonly types = new Set<JsonType>();
  objects = 0;
  readonly properties = new Map<string, { shape: Shape; count: number }>();
  items?: Shape;

  add(value: unknown): void {
    if (value === null || value === undefined) this.types.add('null');
    else if (Array.isArray(value)) {
      this.types.add('array');
      this.items ??= new Shape();
      for (const item of value) this.items.add(item);
    } else if (typeof value === 'object') {
      this.types.add('object');
      this.objects++;
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        let p = this.properties.get(key);
        if (!p) this.properties.set(key, (p = { shape: new Shape(), count: 0 }));
        p.count++;
        p.shape.add(v);
      }
    } else if (typeof value === 'number') this.types.add(Number.isInteger(value) ? 'integer' : 'number');
    else if (typeof value === 'boolean') this.types.add('boolean');
    else this.types.add('string');
  }

  schema(): JsonSchema {
    // An integer is a number: where both were seen, "number" covers them.
    const types = [...this.types].filter((t) => !(t === 'integer' && this.types.has('number')));
    if (types.length === 0) return {};
    const out: JsonSchema = { type: types.length === 1 ? types[0] : types.sort() };
    if (this.types.has('object')) {
      const names = [...this.properties.keys()].sort();
      out.properties = Object.fromEntries(names.map((k) => [k, this.properties.get(k)!.shape.schema()]));
      out.required = names.filter((k) => this.properties.get(k)!.count === this.objects);
      out.additionalProperties = false;
    }
    if (this.types.has('array')) out.items = this.items?.schema() ?? {};
    return out;
  }
}

/** A schema every one of `values` satisfies, and that describes nothing they do not have. */
export function inferSchema(values: Iterable<unknown>): JsonSchema {
  const shape = new Shape();
  for (const v of values) shape.add(v);
  return shape.schema();
}

const FILE_ENTRY: JsonSchema = {
  type: 'object',
  required: ['name', 'path', 'size', 'sha256'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', description: 'The file name as the operator stored it.' },
    path: { type: 'string', description: 'Where the file is in this bundle, relative to this JSON file.' },
    size: { type: 'integer', minimum: 0 },
    contentType: { type: ['string', 'null'] },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
};

const MISSING_ENTRY: JsonSchema = {
  type: 'object',
  required: ['ref', 'reason'],
  additionalProperties: false,
  properties: {
    ref: { type: 'string', description: 'A reference to the item (a prefix of its finding id); no personal value.' },
    reason: { type: 'string', description: 'Why it is not in the bundle, e.g. version-gone (deleted after it was found).' },
  },
};

/** The schema of one store's JSON file; `records` is the schema of a record's data (see inferSchema / Shape). */
export function storeFileSchema(args: { store: string; file: string; records: JsonSchema }): JsonSchema {
  return {
    $schema: SCHEMA_DIALECT,
    $id: args.file.replace(/\.json$/, '.schema.json'),
    title: `Records of the store "${args.store}"`,
    type: 'object',
    required: ['store', 'category', 'description', 'generatedAt', 'records', 'files', 'missing'],
    additionalProperties: false,
    properties: {
      store: { const: args.store },
      category: { type: 'string' },
      description: { type: ['string', 'null'] },
      generatedAt: { type: 'string' },
      records: {
        type: 'array',
        description: 'role "owner": your own record; role "third-party": someone else\'s record, reduced to what is about you.',
        items: {
          type: 'object',
          required: ['role', 'data'],
          additionalProperties: false,
          properties: { role: { enum: ['owner', 'third-party'] }, data: Object.keys(args.records).length > 0 ? args.records : { type: 'object' } },
        },
      },
      files: { type: 'array', items: FILE_ENTRY },
      missing: { type: 'array', items: MISSING_ENTRY },
    },
  };
}

/** The schema of `index.json` (the overview that index.html shows). */
export const OVERVIEW_SCHEMA: JsonSchema = {
  $schema: SCHEMA_DIALECT,
  $id: 'index.schema.json',
  title: 'Overview of a data-subject bundle or access report',
  type: 'object',
  required: ['requestId', 'type', 'generatedAt', 'planHash', 'empty', 'totals', 'stores', 'categories', 'failedStores'],
  properties: {
    requestId: { type: 'string' },
    type: { enum: ['access', 'portability'] },
    generatedAt: { type: 'string' },
    planHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    operator: { type: ['string', 'null'] },
    empty: { type: 'boolean', description: 'true when no store holds anything about you' },
    totals: {
      type: 'object',
      required: ['records', 'files', 'bytes', 'missing', 'stores'],
      properties: { records: { type: 'integer' }, files: { type: 'integer' }, bytes: { type: 'integer' }, missing: { type: 'integer' }, stores: { type: 'integer' } },
    },
    failedStores: { type: 'array', items: { type: 'string' } },
    categories: {
      type: 'array',
      items: {
        type: 'object',
        required: ['category', 'stores', 'records', 'files', 'keep', 'basis'],
        properties: {
          category: { type: 'string' },
          stores: { type: 'array', items: { type: 'string' } },
          records: { type: 'integer' },
          files: { type: 'integer' },
          keep: { type: ['string', 'null'] },
          basis: { type: 'string' },
          source: { type: ['string', 'null'] },
        },
      },
    },
    stores: {
      type: 'array',
      items: {
        type: 'object',
        required: ['store', 'category', 'kind', 'records', 'ownRecords', 'aboutYouInOthersRecords', 'files', 'bytes', 'missing', 'datesCovered', 'retention', 'decisions'],
        properties: {
          store: { type: 'string' },
          category: { type: 'string' },
          kind: { type: 'string' },
          description: { type: ['string', 'null'] },
          records: { type: 'integer', minimum: 0 },
          ownRecords: { type: 'integer', minimum: 0 },
          aboutYouInOthersRecords: { type: 'integer', minimum: 0 },
          files: { type: 'integer', minimum: 0 },
          bytes: { type: 'integer', minimum: 0 },
          missing: { type: 'array', items: MISSING_ENTRY },
          maskedValues: { type: 'integer', minimum: 0 },
          datesCovered: { oneOf: [{ type: 'null' }, { type: 'object', required: ['from', 'to'], properties: { from: { type: 'string' }, to: { type: 'string' } } }] },
          retention: {
            type: 'object',
            required: ['keep', 'basis'],
            properties: { keep: { type: ['string', 'null'] }, basis: { type: 'string' }, source: { type: ['string', 'null'] } },
          },
          decisions: { type: 'object', additionalProperties: { type: 'integer' } },
          paths: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  },
};
