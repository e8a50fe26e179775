import { FerryError } from '../../core/errors.js';
import type { FieldSchema, FieldType, ObjectSchema } from '../../core/schema.js';
import type { SqlConnectionSettings } from './config.js';
import type { RawColumn, RawTable, SqlDialect } from './dialect.js';
import { detectStorage, type TimestampStorage } from './timestamps.js';

/** How a field's value is converted between the value conventions and the column. */
export type ValueKind = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'json' | 'reference';

export interface FieldModel {
  name: string;
  column: string;
  kind: ValueKind;
  /** The column holds integers (ids of references are converted to numbers). */
  integerColumn: boolean;
  storage?: TimestampStorage;
  maxLength?: number;
  options?: string[];
  /** The column's type for a cast of a parameter (RawColumn.parameterType; PostgreSQL only). */
  parameterType?: string;
  required: boolean;
  readOnly: boolean;
  schema: FieldSchema;
}

/** A many-to-many join table seen from its owner: a `reference-list` field. */
export interface ReferenceListModel {
  name: string;
  joinTable: string;
  ownerColumn: string;
  otherColumn: string;
  otherObject: string;
  otherIdInteger: boolean;
  /** Created/updated columns of the join table, set when rows are inserted. */
  stampColumns: { column: string; storage: TimestampStorage }[];
  schema: FieldSchema;
}

/** One column of a junction object's key (docs/connectors/sql.md, "Join tables as objects"). */
export interface KeyColumn {
  column: string;
  integer: boolean;
}

export interface TimestampColumn {
  column: string;
  storage: TimestampStorage;
}

export interface ObjectModel {
  name: string;
  table: string;
  idColumn: string;
  idInteger: boolean;
  /** The database makes the id (auto-increment, identity, default). */
  idGenerated: boolean;
  updated?: TimestampColumn;
  created?: TimestampColumn;
  externalIdColumn?: string;
  /** `externalId: false` in the settings. */
  externalIdDisabled: boolean;
  fields: Map<string, FieldModel>;
  referenceLists: Map<string, ReferenceListModel>;
  uniqueIndexes: Record<string, string>;
  /**
   * A junction object (a join table as an object): the two foreign-key columns that identify a row, in
   * column order. Its record id is made from their values (junction-id.ts); `idColumn` is the first of them.
   */
  key?: [KeyColumn, KeyColumn];
  /** The key is the table's primary key; otherwise (a join table without one) equal rows read as one record. */
  keyUnique?: boolean;
  schema: ObjectSchema;
}

export interface JoinTableModel {
  table: string;
  /** [column, referenced object] of both sides. */
  sides: [{ column: string; object: string }, { column: string; object: string }];
}

export interface SqlModel {
  objects: Map<string, ObjectModel>;
  joinTables: JoinTableModel[];
}

export const EXTERNAL_ID_COLUMN = 'ferry_source_id';

const UPDATED_NAMES = ['updated_at', 'updatedat', 'modified_at', 'modifiedat', 'last_modified', 'lastmodified', 'last_modified_at', 'updated_on', 'date_modified'];
const CREATED_NAMES = ['created_at', 'createdat', 'created_on', 'date_created', 'creation_date'];
const LONG_TEXT_NAMES = /^(notes?|body|content|description|comments?|details)$/i;

function findByName(columns: RawColumn[], names: string[]): RawColumn | undefined {
  for (const name of names) {
    const column = columns.find((candidate) => candidate.name.toLowerCase() === name && isTimestampCapable(candidate));
    if (column) return column;
  }
  return undefined;
}

function isTimestampCapable(column: RawColumn): boolean {
  return ['datetime-utc', 'datetime-naive', 'datetime-stored', 'string', 'integer', 'number'].includes(column.kind);
}

export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\-\s]+/g, ' ')
    .trim()
    .toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : name;
}

function fieldTypeOf(column: RawColumn): FieldType | undefined {
  switch (column.kind) {
    case 'string': {
      const name = column.name.toLowerCase();
      if (name.includes('email')) return 'email';
      if (name.includes('phone')) return 'phone';
      if (/url|website/.test(name)) return 'url';
      if (LONG_TEXT_NAMES.test(column.name) && column.maxLength === undefined) return 'text';
      return 'string';
    }
    case 'long-text':
      return 'text';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime-utc':
    case 'datetime-naive':
    case 'datetime-stored':
      return 'datetime';
    case 'json':
      return 'json';
    case 'enum':
      return 'enum';
    case 'unsupported':
      return undefined;
  }
}

function valueKindOf(type: FieldType): ValueKind {
  switch (type) {
    case 'integer':
    case 'number':
    case 'boolean':
    case 'date':
    case 'datetime':
    case 'json':
    case 'reference':
      return type;
    default:
      return 'string';
  }
}

/** Samples a column to find how it stores date-times (see timestamps.ts). */
async function storageOf(dialect: SqlDialect, table: string, column: RawColumn, zone: string): Promise<TimestampStorage> {
  if (column.kind === 'datetime-utc') return { kind: 'native', zone: 'UTC', fractionDigits: column.fractionDigits ?? 6 };
  if (column.kind === 'datetime-naive') return { kind: 'native', zone, fractionDigits: column.fractionDigits ?? 6 };
  const quoted = dialect.quoteIdentifier(column.name);
  const { rows } = await dialect.query(`SELECT ${quoted} AS v FROM ${dialect.tableName(table)} WHERE ${quoted} IS NOT NULL LIMIT 50`);
  let fallback: TimestampStorage;
  if (column.kind === 'integer' || column.kind === 'number') fallback = { kind: 'epoch-ms' };
  else if (/current_timestamp|datetime\(|now\(/i.test(column.defaultExpression ?? '')) {
    fallback = { kind: 'naive-text', zone, separator: ' ', fractionDigits: 0 };
  } else fallback = { kind: 'iso-text', fractionDigits: 3 };
  return detectStorage(
    rows.map((row) => row.v),
    zone,
    fallback,
  );
}

function isTimestampName(name: string): boolean {
  const lower = name.toLowerCase();
  return UPDATED_NAMES.includes(lower) || CREATED_NAMES.includes(lower);
}

interface JoinCandidate {
  table: RawTable;
  owner: { column: string; table: string };
  other: { column: string; table: string };
  field?: string;
}

/** A table whose columns are two foreign keys plus at most a generated id and timestamps. */
function joinCandidate(table: RawTable): JoinCandidate | undefined {
  const keys = [...table.foreignKeys].sort(
    (a, b) => table.columns.findIndex((column) => column.name === a.column) - table.columns.findIndex((column) => column.name === b.column),
  );
  if (keys.length !== 2 || keys[0]!.column === keys[1]!.column) return undefined;
  const keyColumns = new Set(keys.map((key) => key.column));
  for (const column of table.columns) {
    // The external-id column Ferry adds to a junction object it writes (ensureExternalId) keeps it a join table.
    if (keyColumns.has(column.name) || column.name === EXTERNAL_ID_COLUMN) continue;
    const surrogate = table.primaryKey.length === 1 && table.primaryKey[0] === column.name && (column.autoIncrement || column.hasDefault);
    const stamp = isTimestampName(column.name) && isTimestampCapable(column);
    if (!surrogate && !stamp) return undefined;
  }
  const [first, second] = keys as [(typeof keys)[0], (typeof keys)[0]];
  return {
    table,
    owner: { column: first.column, table: first.refTable },
    other: { column: second.column, table: second.refTable },
  };
}

/** The table's two single-column foreign keys, in column order, when it has exactly two on distinct columns. */
function twoKeys(table: RawTable): [string, string] | undefined {
  const columns = [...new Set(table.foreignKeys.map((key) => key.column))];
  if (columns.length !== 2 || table.foreignKeys.length !== 2) return undefined;
  const position = (name: string) => table.columns.findIndex((column) => column.name === name);
  const [first, second] = columns.sort((a, b) => position(a) - position(b)) as [string, string];
  return [first, second];
}

/**
 * The key of a junction object: the two foreign-key columns, when they are the table's primary key, or when
 * a join table (`pure`: nothing but the two keys, a generated id and timestamps) has no primary key at all.
 */
function junctionKey(table: RawTable, pure: boolean): { columns: [string, string]; unique: boolean } | undefined {
  const keys = twoKeys(table);
  if (!keys) return undefined;
  const primary = new Set(table.primaryKey);
  if (primary.size === 2 && keys.every((column) => primary.has(column))) return { columns: keys, unique: true };
  if (primary.size === 0 && pure) return { columns: keys, unique: false };
  return undefined;
}

/** Builds the objects (tables) and reference-list fields (join tables) from the database's catalog. */
export async function buildModel(dialect: SqlDialect, settings: SqlConnectionSettings): Promise<SqlModel> {
  // Files tables hold attachments (docs/attachments.md), not records of an object of their own.
  const filesTables = new Set(Object.values(settings.files ?? {}).map((files) => files.table));
  const tables = (await dialect.introspect()).filter((table) => !filesTables.has(table.name));
  const zone = settings.timeZone ?? 'UTC';
  const overrides = settings.objects ?? {};
  const byTable = new Map(tables.map((table) => [table.name, table]));

  // Object name of each table: overrides first, then the table's own name.
  const objectOfTable = new Map<string, string>();
  for (const [objectName, override] of Object.entries(overrides)) {
    const tableName = override.table ?? objectName;
    if (!byTable.has(tableName)) {
      throw new FerryError('SCHEMA_MISMATCH', `objects.${objectName}: table "${tableName}" does not exist`, { object: objectName });
    }
    objectOfTable.set(tableName, objectName);
  }

  // Join tables (never the ones named in `objects`).
  const joinSettings = settings.joinTables;
  const candidates: JoinCandidate[] = [];
  if (joinSettings !== false) {
    for (const table of tables) {
      if (objectOfTable.has(table.name)) continue;
      const override = joinSettings?.[table.name];
      if (override === false) continue;
      const candidate = joinCandidate(table);
      if (!candidate) continue;
      if (override?.owner) {
        const ownerTable = tables.find((t) => t.name === override.owner || objectOfTable.get(t.name) === override.owner)?.name;
        if (ownerTable === candidate.other.table && ownerTable !== candidate.owner.table) {
          [candidate.owner, candidate.other] = [candidate.other, candidate.owner];
        }
      }
      candidate.field = override?.field;
      candidates.push(candidate);
    }
  }
  const joinTableNames = new Set(candidates.map((candidate) => candidate.table.name));
  // A join table must link two objects, not another join table.
  const joins = candidates.filter((c) => !joinTableNames.has(c.owner.table) && !joinTableNames.has(c.other.table));
  for (const candidate of candidates) if (!joins.includes(candidate)) joinTableNames.delete(candidate.table.name);
  // Join tables asked for as objects as well (`joinTables.<table>.object: true`): reference list and object.
  const wantsObject = (name: string): boolean => {
    const override = joinSettings === false ? undefined : joinSettings?.[name];
    return override !== undefined && override !== false && override.object === true;
  };
  const alsoObjects = new Set(joins.filter((join) => wantsObject(join.table.name)).map((join) => join.table.name));
  // Tables that would make join tables but are not (detection off, `false`): their object may be a junction.
  const pureJoins = new Set(tables.filter((table) => joinCandidate(table) !== undefined).map((table) => table.name));

  for (const table of tables) if (!objectOfTable.has(table.name) && (!joinTableNames.has(table.name) || alsoObjects.has(table.name))) objectOfTable.set(table.name, table.name);

  const objects = new Map<string, ObjectModel>();
  for (const table of tables) {
    const objectName = objectOfTable.get(table.name);
    if (objectName === undefined || (joinTableNames.has(table.name) && !alsoObjects.has(table.name))) continue;
    const override = overrides[objectName] ?? {};
    const idColumnName = override.id ?? (table.primaryKey.length === 1 ? table.primaryKey[0] : undefined);
    // No single-column key: a table keyed by two foreign keys is a junction object, any other is not addressable.
    const junction = idColumnName === undefined ? junctionKey(table, pureJoins.has(table.name)) : undefined;
    const idColumn = table.columns.find((column) => column.name === (junction ? junction.columns[0] : idColumnName));
    if (!idColumn) {
      if (override.id) throw new FerryError('SCHEMA_MISMATCH', `objects.${objectName}.id: column "${override.id}" does not exist`);
      continue;
    }
    const keyColumns = new Set(junction?.columns ?? []);
    const column = (name: string | undefined, what: string): RawColumn | undefined => {
      if (name === undefined) return undefined;
      const found = table.columns.find((candidate) => candidate.name === name);
      if (!found) throw new FerryError('SCHEMA_MISMATCH', `objects.${objectName}.${what}: column "${name}" does not exist`);
      return found;
    };
    const updatedColumn = column(override.updatedAt, 'updatedAt') ?? findByName(table.columns, UPDATED_NAMES);
    const createdColumn = column(override.createdAt, 'createdAt') ?? findByName(table.columns, CREATED_NAMES);
    const externalIdColumn =
      override.externalId === false
        ? undefined
        : (column(override.externalId, 'externalId') ?? table.columns.find((candidate) => candidate.name === EXTERNAL_ID_COLUMN));

    const fields = new Map<string, FieldModel>();
    const storages = new Map<string, TimestampStorage>();
    for (const raw of table.columns) {
      const fieldOverride = override.fields?.[raw.name];
      const foreignKey = table.foreignKeys.find((key) => key.column === raw.name);
      const referencedObject = foreignKey ? objectOfTable.get(foreignKey.refTable) : undefined;
      const isStamp = raw === updatedColumn || raw === createdColumn;
      let type: FieldType | undefined = fieldTypeOf(raw);
      if (isStamp) type = 'datetime';
      if (referencedObject !== undefined && !joinTableNames.has(foreignKey!.refTable) && (raw !== idColumn || junction)) type = 'reference';
      if (fieldOverride?.options) type = 'enum';
      if (fieldOverride?.type && fieldOverride.type !== 'reference-list') type = fieldOverride.type;
      if (!type) continue;
      let storage: TimestampStorage | undefined;
      if (type === 'datetime') {
        storage = await storageOf(dialect, table.name, raw, zone);
        storages.set(raw.name, storage);
      }
      const isId = raw === idColumn && !junction;
      const readOnly = raw.autoIncrement || (isId && raw.hasDefault) || isStamp || raw === externalIdColumn;
      // A junction row links two records: both keys are needed to write one (a nullable key column too).
      const required = (!raw.nullable && !raw.hasDefault && !readOnly) || keyColumns.has(raw.name);
      const options = fieldOverride?.options ?? raw.enumValues;
      const maxLength = valueKindOf(type) === 'string' ? raw.maxLength : undefined;
      const schema: FieldSchema = { name: raw.name, label: humanize(raw.name), type };
      if (required) schema.required = true;
      if (table.uniqueColumns.includes(raw.name)) schema.unique = true;
      if (readOnly) schema.readOnly = true;
      if (maxLength !== undefined) schema.maxLength = maxLength;
      if (type === 'enum' && options) schema.options = options.map((value) => ({ value }));
      if (type === 'reference' && referencedObject !== undefined) schema.reference = { object: referencedObject };
      fields.set(raw.name, {
        name: raw.name,
        column: raw.name,
        kind: valueKindOf(type),
        integerColumn: raw.kind === 'integer',
        storage,
        maxLength,
        options: type === 'enum' ? options : undefined,
        ...(raw.parameterType !== undefined ? { parameterType: raw.parameterType } : {}),
        required,
        readOnly,
        schema,
      });
    }
    const key = junction?.columns.map((name): KeyColumn => ({ column: name, integer: table.columns.find((column) => column.name === name)!.kind === 'integer' })) as
      | [KeyColumn, KeyColumn]
      | undefined;
    objects.set(objectName, {
      name: objectName,
      table: table.name,
      idColumn: idColumn.name,
      idInteger: !junction && idColumn.kind === 'integer',
      idGenerated: !junction && (idColumn.autoIncrement || idColumn.hasDefault),
      ...(key ? { key, keyUnique: junction!.unique } : {}),
      updated: updatedColumn ? { column: updatedColumn.name, storage: storages.get(updatedColumn.name)! } : undefined,
      created: createdColumn ? { column: createdColumn.name, storage: storages.get(createdColumn.name)! } : undefined,
      externalIdColumn: externalIdColumn?.name,
      externalIdDisabled: override.externalId === false,
      fields,
      referenceLists: new Map(),
      uniqueIndexes: table.uniqueIndexes,
      schema: {
        name: objectName,
        label: humanize(objectName),
        fields: [],
        modifiedField: updatedColumn?.name,
        createdField: createdColumn?.name,
        externalIdField: externalIdColumn?.name,
        ...(junction ? { junction: { fields: [...junction.columns] as [string, string] } } : {}),
      },
    });
  }
  // A junction object links two objects: without both (a key to a table that is no object), it is none.
  for (const object of objects.values()) {
    if (object.key && !object.key.every((part) => object.fields.get(part.column)?.kind === 'reference' && objects.has(object.fields.get(part.column)!.schema.reference!.object))) {
      objects.delete(object.name);
    }
  }

  const joinTables: JoinTableModel[] = [];
  for (const join of joins) {
    const ownerObject = objects.get(objectOfTable.get(join.owner.table) ?? '');
    const otherObject = objects.get(objectOfTable.get(join.other.table) ?? '');
    if (!ownerObject || !otherObject) continue;
    joinTables.push({
      table: join.table.name,
      sides: [
        { column: join.owner.column, object: ownerObject.name },
        { column: join.other.column, object: otherObject.name },
      ],
    });
    // Naming rule: the other object's name; the join table's name for self-joins and name clashes.
    let name = join.field ?? (ownerObject === otherObject ? join.table.name : otherObject.name);
    if (!join.field && (ownerObject.fields.has(name) || ownerObject.referenceLists.has(name))) name = join.table.name;
    const stampColumns: { column: string; storage: TimestampStorage }[] = [];
    for (const raw of join.table.columns) {
      if (raw.name === join.owner.column || raw.name === join.other.column || !isTimestampName(raw.name)) continue;
      if (isSurrogateKey(join.table, raw)) continue;
      stampColumns.push({ column: raw.name, storage: await storageOf(dialect, join.table.name, raw, zone) });
    }
    ownerObject.referenceLists.set(name, {
      name,
      joinTable: join.table.name,
      ownerColumn: join.owner.column,
      otherColumn: join.other.column,
      otherObject: otherObject.name,
      otherIdInteger: otherObject.idInteger,
      stampColumns,
      schema: { name, label: humanize(name), type: 'reference-list', reference: { object: otherObject.name } },
    });
  }

  for (const object of objects.values()) {
    object.schema.fields = [...[...object.fields.values()].map((field) => field.schema), ...[...object.referenceLists.values()].map((list) => list.schema)];
  }
  return { objects, joinTables };
}

function isSurrogateKey(table: RawTable, column: RawColumn): boolean {
  return table.primaryKey.length === 1 && table.primaryKey[0] === column.name;
}
