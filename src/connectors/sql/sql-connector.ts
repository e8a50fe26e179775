import { createHash } from 'node:crypto';
import type {
  Capabilities,
  Connector,
  CreateInput,
  CrmRecord,
  ReadOptions,
  ReadPage,
  RecordError,
  UpdateInput,
  WriteResult,
} from '../../core/connector.js';
import { FerryError, isFerryError } from '../../core/errors.js';
import type { FieldValue, SchemaDescription } from '../../core/schema.js';
import { parseInstant } from '../../core/time.js';
import { parseSqlConnectionConfig, type SqlConnectionConfig, type SqlConnectionSettings, type SqlConnectorOptions } from './config.js';
import { Parameters, type Row, type SqlDialect, type SqlSession } from './dialect.js';
import { SqlFiles } from './files.js';
import { buildModel, EXTERNAL_ID_COLUMN, type FieldModel, type ObjectModel, type ReferenceListModel, type SqlModel } from './model.js';
import { MysqlDialect } from './mysql-dialect.js';
import { PostgresDialect } from './postgres-dialect.js';
import { SqliteDialect } from './sqlite-dialect.js';
import { fromStoredInstant, toStoredInstant } from './timestamps.js';
import { decodeJunctionId, encodeJunctionId } from './junction-id.js';
import { fromColumnValue, idParameter, toColumnValue } from './values.js';

const MAX_PAGE_SIZE = 5000;
const DEFAULT_PAGE_SIZE = 1000;
const BATCH_SIZE = 500;
/**
 * Rows one read query fetches; what the caller's page does not take is kept for its next page. Keyset
 * paging on a modified column without an index makes the database scan and sort the table for every
 * query, so pages of 500 cost a whole-table scan each (quadratic in the table's size); one query per
 * 10,000 rows divides that by 20, for a few megabytes of rows held. The rows held are bounded in cells
 * (rows x columns), so a read of a few columns (matching reads only the key fields) takes more rows per
 * query: 50,000 for an id, a modified stamp and one key.
 */
const READ_AHEAD_CELLS = 150_000;
const READ_AHEAD_ROWS = { min: 10_000, max: 50_000 };
/** Rows per `IN (...)` list: far below every dialect's parameter limit. */
const IN_CHUNK = 500;
/** Values per `findContaining` query: each is a LIKE over the whole table. */
const LIKE_CHUNK = 50;

/**
 * SQL keeps no replication lag, but rows are stamped by several app servers whose clocks drift and
 * whose transactions commit a little after the stamp was taken: a one-second lookback covers both.
 */
const LOOKBACK_MS = 1000;

const compareIds = (a: string, b: string, integer: boolean): number => (integer ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0);

interface Cursor {
  /** Raw stored modified value of the last row (null when it had none). */
  u?: string | number | null;
  /** Raw id of the last row. */
  i: string | number;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (typeof cursor === 'object' && cursor !== null && (typeof cursor.i === 'string' || typeof cursor.i === 'number')) return cursor;
  } catch {
    // reported below
  }
  throw new FerryError('USAGE', 'The read cursor is not one this SQL connector produced');
}

/** JSON-safe form of a raw column value kept in a cursor. */
function cursorValue(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}

type Job = (session: SqlSession) => Promise<WriteResult>;
/** A create that can go into a multi-row INSERT: its columns, values, external id and reference lists. */
interface BulkRow {
  columns: string[];
  values: unknown[];
  /** The value of the external-id column in `values`: what RETURNING names the row by. */
  externalId: string;
  lists: ColumnValues['lists'];
  /** The create's write time (for the join rows of reference lists). */
  stamp: string;
}
/** An update that can go into a multi-row UPDATE ... FROM (VALUES ...): its columns, values and row id. */
interface BulkSet {
  columns: string[];
  values: unknown[];
  /** The id column's value (the parameter the one-record UPDATE binds). */
  id: unknown;
  /** The record id as the caller gave it (what the result names). */
  recordId: string;
  lists: ColumnValues['lists'];
  /** The update's write time (for the join rows of reference lists). */
  stamp: string;
}
type Prepared = { ok: false; result: WriteResult } | { ok: true; job: Job; fields: Record<string, FieldValue>; bulk?: BulkRow; set?: BulkSet };
type Ready = Extract<Prepared, { ok: true }>;

/** Bound values per multi-row INSERT (PostgreSQL allows 65,535, the SQLite better-sqlite3 bundles 32,766). */
const VALUES_PER_INSERT = 30_000;
/** Rows per multi-row INSERT at most (a power of two, see insertRows). */
const MAX_ROWS_PER_INSERT = 256;

function failure(code: RecordError['code'], message: string, field?: string, value?: FieldValue): WriteResult {
  const error: RecordError = { code, message };
  if (field !== undefined) error.field = field;
  if (field !== undefined) error.value = value ?? null;
  return { ok: false, error };
}

/** Column values of one record to write, or the first problem found. */
interface ColumnValues {
  columns: string[];
  values: unknown[];
  lists: { list: ReferenceListModel; ids: unknown[] }[];
}

/** Rows a read query returned beyond the page it served, for the page that continues from `after`. */
interface ReadAhead {
  key: string;
  after: string;
  rows: Row[];
  offset: number;
  /** The query stopped at its limit: there may be rows after the kept ones. */
  more: boolean;
}

export class SqlConnector implements Connector {
  readonly kind = 'sql';
  private model: Promise<SqlModel> | undefined;
  private readAhead: ReadAhead | undefined;
  /** INSERT and UPDATE texts by object and column list: a batch repeats a handful of them. */
  private readonly statementTexts = new Map<string, string>();
  private lastStamp = 0;
  private readonly zone: string;
  /** Files tables (`files:` in the settings, docs/attachments.md). */
  readonly files?: SqlFiles;

  constructor(
    private readonly settings: SqlConnectionSettings,
    private readonly dialect: SqlDialect,
  ) {
    this.zone = settings.timeZone ?? 'UTC';
    if (settings.files && Object.keys(settings.files).length > 0) this.files = new SqlFiles(settings, dialect);
  }

  capabilities(): Capabilities {
    return {
      modifiedSince: true,
      orderedByModified: true,
      writable: !this.settings.readOnly,
      externalId: true,
      createFields: true,
      // Reference columns are foreign keys (that is how describe() finds them): the database refuses the delete.
      refusesDeletingReferenced: true,
      idRanges: true,
      maxPageSize: MAX_PAGE_SIZE,
      batchSize: { read: BATCH_SIZE, create: BATCH_SIZE, update: BATCH_SIZE, delete: BATCH_SIZE },
      lookbackMs: LOOKBACK_MS,
    };
  }

  async check(): Promise<void> {
    try {
      await this.dialect.query('SELECT 1 AS ok');
    } catch (error) {
      throw this.dialect.connectionError(error);
    }
  }

  async describe(): Promise<SchemaDescription> {
    const model = await this.loadModel(true);
    const objects = [];
    for (const object of model.objects.values()) {
      const { rows } = await this.dialect.query(`SELECT COUNT(*) AS n FROM ${this.dialect.tableName(object.table)}`);
      objects.push({ ...object.schema, count: Number(rows[0]?.n ?? 0) });
    }
    objects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { objects };
  }

  private loadModel(refresh = false): Promise<SqlModel> {
    if (!this.model || refresh) {
      const loading = buildModel(this.dialect, this.settings);
      this.model = loading;
      loading.catch(() => {
        if (this.model === loading) this.model = undefined;
      });
    }
    return this.model;
  }

  private async object(name: string): Promise<ObjectModel> {
    const model = await this.loadModel();
    const object = model.objects.get(name);
    if (!object) {
      const known = [...model.objects.keys()].sort().join(', ');
      throw new FerryError('SCHEMA_MISMATCH', `Unknown object "${name}" in the SQL database (objects: ${known || 'none'})`, { object: name });
    }
    return object;
  }

  private q(name: string): string {
    return this.dialect.quoteIdentifier(name);
  }

  // ------------------------------------------------------------------------- ids (one column, or a junction's two)

  /** The columns that make a record's id: the id column, or a junction object's two key columns. */
  private idColumns(object: ObjectModel): string[] {
    return object.key ? object.key.map((part) => part.column) : [object.idColumn];
  }

  /** The record id of a row (a junction object's: junction-id.ts). */
  private rowId(object: ObjectModel, row: Row): string {
    if (!object.key) return String(row[object.idColumn]);
    return encodeJunctionId([String(row[object.key[0].column]), String(row[object.key[1].column])]);
  }

  /** The id's column values as parameters, or undefined when the text cannot be an id of this object. */
  private idParameters(object: ObjectModel, id: string): unknown[] | undefined {
    if (!object.key) {
      const parameter = idParameter(id, object.idInteger, this.dialect.name);
      return parameter === undefined ? undefined : [parameter];
    }
    const parts = decodeJunctionId(id);
    if (!parts) return undefined;
    const values = parts.map((part, index) => idParameter(part, object.key![index]!.integer, this.dialect.name));
    return values.some((value) => value === undefined) ? undefined : values;
  }

  /** `id = value` over the id's columns. */
  private idEquals(object: ObjectModel, params: Parameters, values: readonly unknown[]): string {
    return this.idColumns(object)
      .map((column, index) => `${this.q(column)} = ${params.add(values[index])}`)
      .join(' AND ');
  }

  /** `id > value` (or `<=`) in id order (`idOrder`): the keyset over one column, or over a junction's two. */
  private idCompare(object: ObjectModel, params: Parameters, values: readonly unknown[], operator: '>' | '<='): string {
    const columns = this.idColumns(object).map((column) => this.q(column));
    if (columns.length === 1) return `${columns[0]} ${operator} ${params.add(values[0])}`;
    const strict = operator === '>' ? '>' : '<';
    return `(${columns[0]} ${strict} ${params.add(values[0])} OR (${columns[0]} = ${params.add(values[0])} AND ${columns[1]} ${operator} ${params.add(values[1])}))`;
  }

  private idOrder(object: ObjectModel): string {
    return this.idColumns(object)
      .map((column) => `${this.q(column)} ASC`)
      .join(', ');
  }

  // ---------------------------------------------------------------------------------------- reading

  private selection(object: ObjectModel, names: string[] | undefined): { fields: FieldModel[]; lists: ReferenceListModel[] } {
    if (!names) return { fields: [...object.fields.values()], lists: [...object.referenceLists.values()] };
    const wanted = new Set(names);
    for (const name of wanted) {
      if (!object.fields.has(name) && !object.referenceLists.has(name)) {
        throw new FerryError('UNKNOWN_FIELD', `${object.name} has no field "${name}"`, { object: object.name, field: name });
      }
    }
    for (const column of this.idColumns(object)) if (object.fields.has(column)) wanted.add(column);
    if (object.updated) wanted.add(object.updated.column);
    return {
      fields: [...object.fields.values()].filter((field) => wanted.has(field.name)),
      lists: [...object.referenceLists.values()].filter((list) => wanted.has(list.name)),
    };
  }

  private selectList(object: ObjectModel, fields: FieldModel[]): string {
    const columns = new Set([...this.idColumns(object), ...(object.updated ? [object.updated.column] : []), ...fields.map((field) => field.column)]);
    return [...columns].map((column) => this.q(column)).join(', ');
  }

  async read(objectName: string, options: ReadOptions = {}): Promise<ReadPage> {
    const object = await this.object(objectName);
    const limit = Math.max(1, Math.min(Math.floor(options.limit ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE));
    const selection = this.selection(object, options.fields);
    const key = JSON.stringify([objectName, options.fields ?? null, options.modifiedSince ?? null, options.anyOrder === true, options.idRange ?? null]);
    const kept = this.readAhead;
    this.readAhead = undefined;
    let rows: Row[];
    let offset = 0;
    let more: boolean;
    const fromKept = kept !== undefined && kept.key === key && options.after !== undefined && kept.after === options.after;
    if (fromKept) {
      ({ rows, offset, more } = kept);
    } else {
      const columns = 2 + selection.fields.length + selection.lists.length;
      const fetch = Math.max(limit, Math.min(READ_AHEAD_ROWS.max, Math.max(READ_AHEAD_ROWS.min, Math.floor(READ_AHEAD_CELLS / columns))));
      rows = await this.queryPage(object, selection, options, fetch + 1);
      more = rows.length > fetch;
      if (more) rows.length = fetch;
    }
    const page = rows.slice(offset, offset + limit);
    const records = await this.toRecords(object, page, selection);
    const last = page[page.length - 1];
    const rest = rows.length - offset - page.length;
    // The last page of one query ends the read; kept rows end with one more query, which finds what
    // changed meanwhile (a record edited after it was read moves behind the cursor and is read again).
    if (!last || (!fromKept && rest === 0 && !more)) return { records };
    const cursor: Cursor = { i: object.key ? this.rowId(object, last) : (cursorValue(last[object.idColumn]) ?? '') };
    if (object.updated && !options.anyOrder) cursor.u = cursorValue(last[object.updated.column]);
    const next = encodeCursor(cursor);
    if (rest > 0) this.readAhead = { key, after: next, rows, offset: offset + page.length, more };
    return { records, next };
  }

  /** One keyset query: rows after the cursor in (modified, id) order, at most `limit`. */
  private async queryPage(
    object: ObjectModel,
    selection: { fields: FieldModel[]; lists: ReferenceListModel[] },
    options: ReadOptions,
    limit: number,
  ): Promise<Row[]> {
    const params = new Parameters(this.dialect);
    const conditions: string[] = [];
    const cursor = options.after ? decodeCursor(options.after) : undefined;
    // The id's column values: a junction object's id is decoded into its two keys.
    const idValues = (id: string | number, what: string): unknown[] => {
      if (!object.key) return [idParameter(String(id), object.idInteger, this.dialect.name) ?? id];
      const values = this.idParameters(object, String(id));
      if (!values) throw new FerryError('USAGE', `${what} ${JSON.stringify(id)} is not an id of the junction object ${object.name}`);
      return values;
    };
    const cursorIds = cursor ? idValues(cursor.i, 'The read cursor holds') : undefined;
    const after = () => this.idCompare(object, params, cursorIds!, '>');
    let order: string;
    // A join table without a primary key may hold rows without a key: they link nothing and are no record.
    if (object.key && !object.keyUnique) for (const column of this.idColumns(object)) conditions.push(`${this.q(column)} IS NOT NULL`);
    // A part of a queued run (ReadOptions.idRange): bounds of the primary key, whatever the order.
    for (const [bound, operator] of [[options.idRange?.after, '>'], [options.idRange?.until, '<=']] as const) {
      if (bound === undefined) continue;
      conditions.push(this.idCompare(object, params, idValues(bound, 'The id range bound'), operator));
    }
    if (object.updated) {
      const updated = this.q(object.updated.column);
      if (options.modifiedSince) {
        const since = parseInstant(options.modifiedSince);
        if (!since) throw new FerryError('USAGE', `modifiedSince ${JSON.stringify(options.modifiedSince)} is not an ISO date-time`);
        // The bound is converted to the column's own format, so the column's index is used as is.
        conditions.push(`${updated} >= ${params.add(toStoredInstant(since, object.updated.storage))}`);
      }
      if (options.anyOrder) {
        // Every record once, in primary-key order (the modified bound above still applies).
        if (cursor) conditions.push(after());
      } else if (cursor) {
        if (cursor.u === null || cursor.u === undefined) {
          conditions.push(`((${updated} IS NULL AND ${after()}) OR ${updated} IS NOT NULL)`);
        } else {
          conditions.push(`${updated} >= ${params.add(cursor.u)}`);
          conditions.push(`(${updated} > ${params.add(cursor.u)} OR ${after()})`);
        }
      }
      order = options.anyOrder ? this.idOrder(object) : `${this.dialect.ascendingNullsFirst(updated)}, ${this.idOrder(object)}`;
    } else {
      // No modified column: ordered by id, modifiedSince ignored (modifiedField is undefined, so the engine full-scans).
      if (cursor) conditions.push(after());
      order = this.idOrder(object);
    }
    const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
    const sql = `SELECT ${this.selectList(object, selection.fields)} FROM ${this.dialect.tableName(object.table)}${where} ORDER BY ${order} LIMIT ${limit}`;
    const rows = (await this.dialect.query(sql, params.values)).rows;
    // Equal rows of a join table without a primary key are one link, read once (they are next to each other).
    if (object.key && !object.keyUnique) return rows.filter((row, index) => index === 0 || this.rowId(object, row) !== this.rowId(object, rows[index - 1]!));
    return rows;
  }

  async readByIds(objectName: string, ids: string[], fields?: string[]): Promise<CrmRecord[]> {
    const object = await this.object(objectName);
    const selection = this.selection(object, fields);
    const wanted = [...new Set(ids)]
      .map((id) => ({ id, parameters: this.idParameters(object, id) }))
      .filter((entry): entry is { id: string; parameters: unknown[] } => entry.parameters !== undefined);
    const found = new Map<string, CrmRecord>();
    for (const chunk of chunks(wanted, IN_CHUNK)) {
      const params = new Parameters(this.dialect);
      const where = object.key
        ? chunk.map((entry) => `(${this.idEquals(object, params, entry.parameters)})`).join(' OR ')
        : `${this.q(object.idColumn)} IN (${params.list(chunk.map((entry) => entry.parameters[0]))})`;
      const sql = `SELECT ${this.selectList(object, selection.fields)} FROM ${this.dialect.tableName(object.table)} WHERE ${where}`;
      const { rows } = await this.dialect.query(sql, params.values);
      for (const record of await this.toRecords(object, rows, selection)) found.set(record.id, record);
    }
    return ids.filter((id, index) => ids.indexOf(id) === index && found.has(String(id))).map((id) => found.get(id)!);
  }

  async findContaining(objectName: string, fieldName: string, values: string[], fields?: string[]): Promise<CrmRecord[]> {
    const object = await this.object(objectName);
    const field = object.fields.get(fieldName);
    if (!field || field.kind !== 'string') throw new FerryError('USAGE', `${objectName}.${fieldName} is not a text field that can be searched`);
    const selection = this.selection(object, fields);
    const found = new Map<string, CrmRecord>();
    // LIKE with '!' as the escape character: the same text in every dialect (MySQL reads '\' in literals).
    const pattern = (value: string) => `%${value.replace(/[!%_]/g, (char) => `!${char}`)}%`;
    for (const chunk of chunks([...new Set(values)], LIKE_CHUNK)) {
      const params = new Parameters(this.dialect);
      const column = `lower(${this.q(field.column)})`;
      const where = chunk.map((value) => `${column} LIKE ${params.add(pattern(value))} ESCAPE '!'`).join(' OR ');
      const sql = `SELECT ${this.selectList(object, selection.fields)} FROM ${this.dialect.tableName(object.table)} WHERE ${where}`;
      const { rows } = await this.dialect.query(sql, params.values);
      for (const record of await this.toRecords(object, rows, selection)) found.set(record.id, record);
    }
    // Sorted once here, across the chunks' queries.
    return [...found.values()].sort((a, b) => compareIds(a.id, b.id, object.idInteger));
  }

  private async toRecords(object: ObjectModel, rows: Row[], selection: { fields: FieldModel[]; lists: ReferenceListModel[] }): Promise<CrmRecord[]> {
    const records = rows.map((row): CrmRecord => {
      const fields: Record<string, FieldValue> = {};
      for (const field of selection.fields) fields[field.name] = fromColumnValue(field, row[field.column], this.zone);
      const updatedAt = object.updated ? fromStoredInstant(row[object.updated.column], object.updated.storage) : null;
      return { id: this.rowId(object, row), updatedAt, fields };
    });
    for (const list of selection.lists) {
      const values = await this.readReferenceList(list, rows.map((row) => row[object.idColumn]));
      for (const record of records) record.fields[list.name] = values.get(record.id) ?? [];
    }
    return records;
  }

  private async readReferenceList(list: ReferenceListModel, ownerIds: unknown[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    for (const chunk of chunks(ownerIds, IN_CHUNK)) {
      if (chunk.length === 0) continue;
      const params = new Parameters(this.dialect);
      const owner = this.q(list.ownerColumn);
      const other = this.q(list.otherColumn);
      const sql = `SELECT ${owner} AS o, ${other} AS t FROM ${this.dialect.tableName(list.joinTable)} WHERE ${owner} IN (${params.list(chunk)})`;
      for (const row of (await this.dialect.query(sql, params.values)).rows) {
        if (row.t === null || row.t === undefined) continue;
        const key = String(row.o);
        const ids = result.get(key) ?? [];
        ids.push(String(row.t));
        result.set(key, ids);
      }
    }
    for (const [key, ids] of result) result.set(key, [...new Set(ids)].sort());
    return result;
  }

  // ---------------------------------------------------------------------------------------- writing

  private assertWritable(): void {
    if (this.settings.readOnly) {
      throw new FerryError('CONFIG_INVALID', 'This SQL connection is read-only (readOnly: true): it cannot be written to');
    }
  }

  /** The write time: the database clock, never behind an earlier write of this connector. */
  private async stamp(): Promise<string> {
    const now = Math.max(await this.dialect.serverNow(), this.lastStamp);
    this.lastStamp = now;
    return new Date(now).toISOString();
  }

  /** Checks and converts a record's fields; reports the first bad one. */
  private columnValues(object: ObjectModel, fields: Record<string, FieldValue>, creating: boolean): ColumnValues | WriteResult {
    const result: ColumnValues = { columns: [], values: [], lists: [] };
    for (const [name, value] of Object.entries(fields)) {
      const list = object.referenceLists.get(name);
      if (list) {
        const items = value === null ? [] : Array.isArray(value) ? value : [value];
        const ids: unknown[] = [];
        for (const item of new Set(items.map(String))) {
          const parameter = idParameter(item, list.otherIdInteger, this.dialect.name);
          if (parameter === undefined) return failure('INVALID_VALUE', `${name}: ${JSON.stringify(item)} is not a ${list.otherObject} id`, name, value);
          ids.push(parameter);
        }
        result.lists.push({ list, ids });
        continue;
      }
      const field = object.fields.get(name);
      if (!field) return failure('UNKNOWN_FIELD', `${object.name} has no field "${name}"`, name, value);
      if (field.readOnly) return failure('INVALID_VALUE', `${name} is read-only`, name, value);
      if (value === null && field.required) return failure('REQUIRED_MISSING', `${name} is required`, name, value);
      const converted = toColumnValue(field, value, this.dialect.name, (flag) => this.dialect.booleanParameter(flag));
      if (!converted.ok) return failure('INVALID_VALUE', converted.message, name, value);
      result.columns.push(field.column);
      result.values.push(converted.value);
    }
    if (creating) {
      for (const field of object.fields.values()) {
        if (field.required && (fields[field.name] === undefined || fields[field.name] === null)) {
          return failure('REQUIRED_MISSING', `${field.name} is required`, field.name, null);
        }
      }
    }
    return result;
  }

  private async writeReferenceList(session: SqlSession, list: ReferenceListModel, ownerId: unknown, ids: unknown[], replace: boolean, stamp: string): Promise<void> {
    const table = this.dialect.tableName(list.joinTable);
    if (replace) {
      const params = new Parameters(this.dialect);
      await session.query(`DELETE FROM ${table} WHERE ${this.q(list.ownerColumn)} = ${params.add(ownerId)}`, params.values);
    }
    await this.insertJoinRows(session, list, this.joinRows(list, ownerId, ids, stamp));
  }

  /** A record's rows of a join table: owner, other, and the join table's stamp columns. */
  private joinRows(list: ReferenceListModel, ownerId: unknown, ids: unknown[], stamp: string): unknown[][] {
    return ids.map((id) => [ownerId, id, ...list.stampColumns.map((stampColumn) => toStoredInstant(stamp, stampColumn.storage))]);
  }

  /**
   * Join rows (of any number of owners) as multi-row INSERTs, at most 256 rows each and in powers of two (as
   * insertRows does, so a dialect that keeps prepared statements by their text keeps a few per join table).
   */
  private async insertJoinRows(session: SqlSession, list: ReferenceListModel, rows: unknown[][]): Promise<void> {
    const table = this.dialect.tableName(list.joinTable);
    const columns = [list.ownerColumn, list.otherColumn, ...list.stampColumns.map((stampColumn) => stampColumn.column)];
    for (let start = 0; start < rows.length; ) {
      let count = 1;
      while (count * 2 <= Math.min(MAX_ROWS_PER_INSERT, rows.length - start)) count *= 2;
      const params = new Parameters(this.dialect);
      const values = rows.slice(start, start + count).map((row) => `(${params.list(row)})`);
      start += count;
      await session.query(`INSERT INTO ${table} (${columns.map((column) => this.q(column)).join(', ')}) VALUES ${values.join(', ')}`, params.values);
    }
  }

  /**
   * Runs one job per record: first all in one transaction; when a statement fails, again with a
   * savepoint around each record, so a bad record fails alone and the others are written.
   */
  private async runJobs(object: ObjectModel, prepared: Prepared[]): Promise<WriteResult[]> {
    const results: (WriteResult | undefined)[] = prepared.map((entry) => (entry.ok ? undefined : entry.result));
    const pending = prepared.flatMap((entry, index) => (entry.ok ? [{ index, entry }] : []));
    if (pending.length === 0) return results as WriteResult[];
    try {
      const written = await this.dialect.transaction(async (session) => {
        const rows = pending.map(({ entry }) => entry.bulk);
        if (pending.length > 1 && rows.every((row): row is BulkRow => row !== undefined)) return this.insertRows(session, object, rows);
        const sets = pending.map(({ entry }) => entry.set);
        if (pending.length > 1 && sets.every((set): set is BulkSet => set !== undefined)) return this.updateRows(session, object, sets, pending.map(({ entry }) => entry));
        const out: WriteResult[] = [];
        for (const { entry } of pending) out.push(await entry.job(session));
        return out;
      });
      pending.forEach(({ index }, position) => (results[index] = written[position]));
      return results as WriteResult[];
    } catch (error) {
      if (isFerryError(error)) throw error; // connection problems: not the records' fault
    }
    await this.dialect.transaction(async (session) => {
      for (const { index, entry } of pending) {
        await session.query('SAVEPOINT ferry_record');
        try {
          results[index] = await entry.job(session);
          await session.query('RELEASE SAVEPOINT ferry_record');
        } catch (error) {
          if (isFerryError(error)) throw error;
          await session.query('ROLLBACK TO SAVEPOINT ferry_record');
          await session.query('RELEASE SAVEPOINT ferry_record');
          results[index] = this.recordError(object, error, entry.fields);
        }
      }
    });
    return results as WriteResult[];
  }

  private recordError(object: ObjectModel, error: unknown, fields: Record<string, FieldValue>): WriteResult {
    const classified = this.dialect.classifyError(error);
    const column = this.resolveColumn(object, classified.column) ?? this.columnOfConstraint(object, classified.constraint);
    const field = column !== undefined ? object.fields.get(column)?.name : undefined;
    return failure(classified.code, classified.message, field, field !== undefined ? fields[field] : undefined);
  }

  private resolveColumn(object: ObjectModel, column: string | undefined): string | undefined {
    if (column === undefined) return undefined;
    if (object.fields.has(column)) return column;
    const prefix = `${object.table}.`;
    if (column.startsWith(prefix) && object.fields.has(column.slice(prefix.length))) return column.slice(prefix.length);
    return undefined;
  }

  private columnOfConstraint(object: ObjectModel, constraint: string | undefined): string | undefined {
    if (!constraint) return undefined;
    const prefix = `${object.table}.`;
    const name = constraint.startsWith(prefix) ? constraint.slice(prefix.length) : constraint;
    const indexed = object.uniqueIndexes[name] ?? object.uniqueIndexes[constraint];
    if (indexed) return indexed;
    if (object.fields.has(name)) return name;
    // PostgreSQL's default constraint names: <table>_<column>_check / _key / _fkey.
    const generated = new RegExp(`^${escapeRegExp(object.table)}_(.+)_(check|key|fkey)$`).exec(name)?.[1];
    if (generated !== undefined && object.fields.has(generated)) return generated;
    // A CHECK constraint's name or expression: the longest column name it mentions.
    const mentioned = [...object.fields.keys()].filter((column) => new RegExp(`(^|[^\\w])${escapeRegExp(column)}([^\\w]|$)`).test(constraint));
    return mentioned.sort((a, b) => b.length - a.length)[0];
  }

  /**
   * Creates as multi-row INSERTs (rows with the same columns together), where the database returns the
   * new rows' ids with their external ids (RETURNING), so each id is matched to its record by its
   * external id, not by the order of the rows. One statement per few hundred records instead of one
   * each: on PostgreSQL a round trip per record was the run's bound. Any error throws, and runJobs writes
   * the records again one by one, each in its savepoint, so a bad record fails alone as before.
   */
  private async insertRows(session: SqlSession, object: ObjectModel, rows: BulkRow[]): Promise<WriteResult[]> {
    const table = this.dialect.tableName(object.table);
    const externalColumn = object.externalIdColumn!;
    const ids = new Map<string, unknown>();
    const groups = new Map<string, BulkRow[]>();
    for (const row of rows) {
      const key = row.columns.join('\u0000');
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    for (const group of groups.values()) {
      const columns = group[0]!.columns;
      const most = Math.max(1, Math.min(MAX_ROWS_PER_INSERT, Math.floor(VALUES_PER_INSERT / Math.max(1, columns.length))));
      for (let start = 0; start < group.length; ) {
        // Row counts that are powers of two: a dialect that keeps prepared statements by their text (SQLite)
        // keeps a few per column list, not one per batch size (each holds native memory: with one per size,
        // a 1M run's peak RSS grew by 40-50 MB).
        let rowsNow = 1;
        while (rowsNow * 2 <= Math.min(most, group.length - start)) rowsNow *= 2;
        const part = group.slice(start, start + rowsNow);
        start += rowsNow;
        const params = new Parameters(this.dialect);
        const values = part.map((row) => `(${params.list(row.values)})`).join(', ');
        const sql = `INSERT INTO ${table} (${columns.map((column) => this.q(column)).join(', ')}) VALUES ${values} RETURNING ${this.q(object.idColumn)} AS id, ${this.q(externalColumn)} AS x`;
        for (const returned of (await session.query(sql, params.values)).rows) ids.set(String(returned.x), returned.id);
      }
    }
    // Two rows with one external id (a column without its unique index) cannot be told apart: one by one.
    if (ids.size !== rows.length) throw new Error(`The new ${object.name} rows cannot be told apart by their external ids`);
    const out: WriteResult[] = [];
    // The new rows' reference lists: the join rows of the whole batch in a few multi-row INSERTs per join
    // table, not one per record (a PostgreSQL run spent a round trip per deal on deal_contacts).
    const joins = new Map<ReferenceListModel, unknown[][]>();
    for (const row of rows) {
      const id = ids.get(row.externalId);
      if (id === undefined || id === null) throw new Error(`The database did not return the id of the new ${object.name} record ${row.externalId}`);
      for (const { list, ids: listIds } of row.lists) {
        const bucket = joins.get(list) ?? [];
        bucket.push(...this.joinRows(list, id, listIds, row.stamp));
        joins.set(list, bucket);
      }
      out.push({ ok: true, id: String(id) });
    }
    for (const [list, joinRows] of joins) await this.insertJoinRows(session, list, joinRows);
    return out;
  }

  /**
   * Updates as multi-row statements: the records with the same column list together, as
   * `UPDATE t SET c = v.column2 ... FROM (VALUES (id, c ...), ...) AS v WHERE t.id = v.column1`, in row
   * counts that are powers of two (as insertRows). On PostgreSQL a round trip per record was what a delta
   * into it waited for. A statement that matches fewer rows than it carries (a record whose row is gone,
   * or two records naming one row) throws, as does any error, and runJobs writes the batch again one
   * record per savepoint, which reports each missing row and bad value on its record, exactly as before.
   * The reference lists of the batch are replaced after its rows: one DELETE per join table and a few
   * multi-row INSERTs. Only a batch whose every record can take part (see update) comes here; `entries`
   * are its one-record jobs, for a batch that names a row twice.
   */
  private async updateRows(session: SqlSession, object: ObjectModel, sets: BulkSet[], entries: Ready[]): Promise<WriteResult[]> {
    // Two updates of one row (by the text of its id) are written in their order, one by one, as before.
    if (new Set(sets.map((set) => String(set.id))).size !== sets.length) {
      const out: WriteResult[] = [];
      for (const entry of entries) out.push(await entry.job(session));
      return out;
    }
    const groups = new Map<string, BulkSet[]>();
    for (const set of sets) {
      const key = set.columns.join('\u0000');
      const group = groups.get(key);
      if (group) group.push(set);
      else groups.set(key, [set]);
    }
    for (const group of groups.values()) {
      const columns = group[0]!.columns;
      const most = Math.max(1, Math.min(MAX_ROWS_PER_INSERT, Math.floor(VALUES_PER_INSERT / (columns.length + 1))));
      for (let start = 0; start < group.length; ) {
        let rowsNow = 1;
        while (rowsNow * 2 <= Math.min(most, group.length - start)) rowsNow *= 2;
        const part = group.slice(start, start + rowsNow);
        start += rowsNow;
        const sql = this.statementText(object, 'update-rows', [String(rowsNow), ...columns], () => this.updateRowsText(object, columns, rowsNow));
        const parameters: unknown[] = [];
        for (const row of part) parameters.push(row.id, ...row.values);
        const result = await session.query(sql, parameters);
        if (result.affectedRows !== part.length) {
          throw new Error(`${object.name}: a multi-row UPDATE matched ${result.affectedRows} of its ${part.length} rows`);
        }
      }
    }
    // The reference lists: each join table's rows of the batch's owners deleted in one statement per few
    // hundred owners, the new rows inserted in multi-row INSERTs (as insertRows does for creates).
    const lists = new Map<ReferenceListModel, { owners: unknown[]; rows: unknown[][] }>();
    for (const set of sets) {
      for (const { list, ids } of set.lists) {
        const bucket = lists.get(list) ?? { owners: [], rows: [] };
        bucket.owners.push(set.id);
        bucket.rows.push(...this.joinRows(list, set.id, ids, set.stamp));
        lists.set(list, bucket);
      }
    }
    for (const [list, { owners, rows }] of lists) {
      for (const chunk of chunks(owners, IN_CHUNK)) {
        const params = new Parameters(this.dialect);
        await session.query(`DELETE FROM ${this.dialect.tableName(list.joinTable)} WHERE ${this.q(list.ownerColumn)} IN (${params.list(chunk)})`, params.values);
      }
      await this.insertJoinRows(session, list, rows);
    }
    return sets.map((set) => ({ ok: true, id: set.recordId }));
  }

  /** `UPDATE t SET c = ferry_v.column2, ... FROM (VALUES (id, c, ...) x rows) AS ferry_v WHERE t.id = ferry_v.column1`. */
  private updateRowsText(object: ObjectModel, columns: string[], rows: number): string {
    const table = this.dialect.tableName(object.table);
    const params = new Parameters(this.dialect);
    const all = [object.idColumn, ...columns];
    // The first row's casts type the VALUES list's columns (to the columns' own types, without modifiers, so
    // the assignment checks lengths as `SET c = $1` does); the other rows' parameters take those types.
    const first = all.map((column) => (this.dialect.valuesNeedCasts ? `${params.add(null)}::${object.fields.get(column)!.parameterType!}` : params.add(null)));
    const values = [`(${first.join(', ')})`];
    for (let row = 1; row < rows; row += 1) values.push(`(${all.map(() => params.add(null)).join(', ')})`);
    const assignments = columns.map((column, index) => `${this.q(column)} = ferry_v.column${index + 2}`).join(', ');
    // SQLite and PostgreSQL both name a VALUES table's columns column1, column2, ...
    return `UPDATE ${table} SET ${assignments} FROM (VALUES ${values.join(', ')}) AS ferry_v WHERE ${table}.${this.q(object.idColumn)} = ferry_v.column1`;
  }

  async create(objectName: string, inputs: CreateInput[]): Promise<WriteResult[]> {
    this.assertWritable();
    // Rows read ahead may be what this write changes: the next page reads afresh.
    this.readAhead = undefined;
    const object = await this.object(objectName);
    const stamp = await this.stamp();
    const table = this.dialect.tableName(object.table);
    const stamps = [object.created, object.updated].flatMap((column) => (column ? [{ column: column.column, value: toStoredInstant(stamp, column.storage) }] : []));
    const prepared = inputs.map((input): Prepared => {
      const values = this.columnValues(object, input.fields, true);
      if ('ok' in values) return { ok: false, result: values };
      const { columns, values: parameters } = values;
      for (const stampColumn of stamps) {
        if (!columns.includes(stampColumn.column)) {
          columns.push(stampColumn.column);
          parameters.push(stampColumn.value);
        }
      }
      if (input.externalId !== undefined && object.externalIdColumn && !columns.includes(object.externalIdColumn)) {
        columns.push(object.externalIdColumn);
        parameters.push(input.externalId);
      }
      const sql = this.statementText(object, 'insert', columns, () => {
        const params = new Parameters(this.dialect);
        const text =
          columns.length > 0
            ? `INSERT INTO ${table} (${columns.map((column) => this.q(column)).join(', ')}) VALUES (${params.list(parameters)})`
            : this.dialect.insertDefaultValues(table);
        // A junction row's id is its two keys, which the insert names: nothing to return.
        return this.dialect.supportsReturning && !object.key ? `${text} RETURNING ${this.q(object.idColumn)}` : text;
      });
      const job: Job = async (session) => {
        const result = await session.query(sql, parameters);
        if (object.key) {
          const [first, second] = object.key.map((part) => String(parameters[columns.indexOf(part.column)]));
          return { ok: true, id: encodeJunctionId([first!, second!]) };
        }
        let id: unknown;
        if (this.dialect.supportsReturning) id = result.rows[0]?.[object.idColumn];
        else if (columns.includes(object.idColumn)) id = parameters[columns.indexOf(object.idColumn)];
        else if (result.insertId !== undefined && Number(result.insertId) !== 0) id = result.insertId;
        else if (input.externalId !== undefined && object.externalIdColumn) {
          const lookup = new Parameters(this.dialect);
          const found = await session.query(
            `SELECT ${this.q(object.idColumn)} AS id FROM ${table} WHERE ${this.q(object.externalIdColumn)} = ${lookup.add(input.externalId)}`,
            lookup.values,
          );
          id = found.rows[0]?.id;
        }
        if (id === undefined || id === null) return failure('WRITE_FAILED', `The database did not report the id of the new ${object.name} record`);
        for (const { list, ids } of values.lists) await this.writeReferenceList(session, list, id, ids, false, stamp);
        return { ok: true, id: String(id) };
      };
      // Multi-row INSERTs need the new rows' ids back with something that names their record: the
      // external id (unique), returned by RETURNING (PostgreSQL, SQLite; not MySQL).
      const bulk =
        this.dialect.supportsReturning && !object.key && input.externalId !== undefined && object.externalIdColumn && columns.includes(object.externalIdColumn) && columns.length > 0
          ? { columns, values: parameters, externalId: String(parameters[columns.indexOf(object.externalIdColumn)]), lists: values.lists, stamp }
          : undefined;
      return { ok: true, job, fields: input.fields, ...(bulk ? { bulk } : {}) };
    });
    return this.runJobs(object, prepared);
  }

  async update(objectName: string, inputs: UpdateInput[]): Promise<WriteResult[]> {
    this.assertWritable();
    // Rows read ahead may be what this write changes: the next page reads afresh.
    this.readAhead = undefined;
    const object = await this.object(objectName);
    const stamp = await this.stamp();
    const table = this.dialect.tableName(object.table);
    const updatedStamp = object.updated ? toStoredInstant(stamp, object.updated.storage) : undefined;
    const prepared = inputs.map((input): Prepared => {
      const ids = this.idParameters(object, input.id);
      if (ids === undefined) return { ok: false, result: failure('NOT_FOUND', `${object.name} ${input.id} does not exist`) };
      const values = this.columnValues(object, input.fields, false);
      if ('ok' in values) return { ok: false, result: values };
      const { columns, values: parameters } = values;
      // A junction row's keys are its id: written again as they are, they change nothing; another value would
      // make it a link between other records (a new id), which an update cannot be.
      for (const [index, part] of (object.key ?? []).entries()) {
        const at = columns.indexOf(part.column);
        if (at < 0) continue;
        if (String(parameters[at]) !== String(ids[index])) {
          const field = object.fields.get(part.column)!.name;
          return {
            ok: false,
            result: failure('INVALID_VALUE', `${field}: ${object.name} ${input.id} links ${String(ids[index])}; its ${field} cannot change to ${String(input.fields[field])} (it is part of the record's id)`, field, input.fields[field]),
          };
        }
        columns.splice(at, 1);
        parameters.splice(at, 1);
      }
      if (object.updated && !columns.includes(object.updated.column)) {
        columns.push(object.updated.column);
        parameters.push(updatedStamp);
      }
      const sql = this.statementText(object, 'update', columns, () => {
        const params = new Parameters(this.dialect);
        const idColumn = this.q(object.idColumn);
        return columns.length > 0
          ? `UPDATE ${table} SET ${columns.map((column, index) => `${this.q(column)} = ${params.add(parameters[index])}`).join(', ')} WHERE ${this.idEquals(object, params, ids)}`
          : `SELECT ${idColumn} FROM ${table} WHERE ${this.idEquals(object, params, ids)}`;
      });
      const id = ids[0];
      const job: Job = async (session) => {
        const result = await session.query(sql, [...parameters, ...ids]);
        const found = columns.length > 0 ? result.affectedRows > 0 : result.rows.length > 0;
        if (!found) return failure('NOT_FOUND', `${object.name} ${input.id} does not exist`);
        for (const { list, ids } of values.lists) await this.writeReferenceList(session, list, id, ids, true, stamp);
        return { ok: true, id: input.id };
      };
      // Multi-row UPDATEs (updateRows) where the database has UPDATE ... FROM (VALUES ...) and, where its
      // VALUES lists need casts, every column's type is known. A junction row (two key columns) and an
      // update of no column (an existence check) keep their one statement.
      const set =
        this.dialect.supportsUpdateFrom &&
        !object.key &&
        columns.length > 0 &&
        (!this.dialect.valuesNeedCasts || [object.idColumn, ...columns].every((column) => object.fields.get(column)?.parameterType !== undefined))
          ? { columns, values: parameters, id, recordId: input.id, lists: values.lists, stamp }
          : undefined;
      return { ok: true, job, fields: input.fields, ...(set ? { set } : {}) };
    });
    return this.runJobs(object, prepared);
  }

  /** The statement text for these columns, built once: its placeholders depend only on their number. */
  private statementText(object: ObjectModel, kind: 'insert' | 'update' | 'update-rows', columns: string[], build: () => string): string {
    const key = `${kind}\u0000${object.name}\u0000${columns.join('\u0000')}`;
    let text = this.statementTexts.get(key);
    if (text === undefined) {
      if (this.statementTexts.size >= 1000) this.statementTexts.clear();
      text = build();
      this.statementTexts.set(key, text);
    }
    return text;
  }

  async delete(objectName: string, ids: string[]): Promise<WriteResult[]> {
    this.assertWritable();
    // Rows read ahead may be what this write changes: the next page reads afresh.
    this.readAhead = undefined;
    const object = await this.object(objectName);
    const model = await this.loadModel();
    const table = this.dialect.tableName(object.table);
    // Join rows that point at the record go with it, as a CRM drops a deleted record's associations.
    const joinColumns = model.joinTables.flatMap((join) =>
      join.sides.filter((side) => side.object === object.name).map((side) => ({ table: join.table, column: side.column })),
    );
    const prepared = ids.map((rawId): Prepared => {
      const values = this.idParameters(object, rawId);
      if (values === undefined) return { ok: false, result: failure('NOT_FOUND', `${object.name} ${rawId} does not exist`) };
      const job: Job = async (session) => {
        for (const join of joinColumns) {
          const params = new Parameters(this.dialect);
          await session.query(`DELETE FROM ${this.dialect.tableName(join.table)} WHERE ${this.q(join.column)} = ${params.add(values[0])}`, params.values);
        }
        const params = new Parameters(this.dialect);
        const result = await session.query(`DELETE FROM ${table} WHERE ${this.idEquals(object, params, values)}`, params.values);
        if (result.affectedRows === 0) return failure('NOT_FOUND', `${object.name} ${rawId} does not exist`);
        return { ok: true, id: rawId };
      };
      return { ok: true, job, fields: {} };
    });
    return this.runJobs(object, prepared);
  }

  // ----------------------------------------------------------------------------------- external ids

  async ensureExternalId(objectName: string): Promise<string | undefined> {
    const object = await this.object(objectName);
    if (object.externalIdDisabled) return undefined;
    if (object.externalIdColumn) return object.externalIdColumn;
    if (this.settings.readOnly) return undefined;
    const table = this.dialect.tableName(object.table);
    const column = this.q(EXTERNAL_ID_COLUMN);
    const hash = createHash('sha256').update(object.table).digest('hex').slice(0, 12);
    try {
      // One transaction, so a process killed between the two statements does not leave the column without
      // its unique index (SQLite and PostgreSQL roll DDL back; MySQL commits each statement on its own).
      await this.dialect.transaction(async (session) => {
        await session.query(`ALTER TABLE ${table} ADD COLUMN ${column} ${this.dialect.externalIdColumnType} NULL`);
        await session.query(`CREATE UNIQUE INDEX ${this.q(`ferry_source_id_${hash}`)} ON ${table} (${column})`);
      });
    } catch (error) {
      // Another process may have added it meanwhile: the reloaded model tells.
      const reloaded = (await this.loadModel(true)).objects.get(objectName);
      if (reloaded?.externalIdColumn) return reloaded.externalIdColumn;
      throw new FerryError('WRITE_FAILED', `Cannot add the external-id column ${EXTERNAL_ID_COLUMN} to ${object.table}: ${this.dialect.classifyError(error).message}`, {
        object: objectName,
      });
    }
    return (await this.loadModel(true)).objects.get(objectName)?.externalIdColumn;
  }

  async findByExternalIds(objectName: string, externalIds: string[]): Promise<Map<string, string>> {
    const object = await this.object(objectName);
    const found = new Map<string, string>();
    if (!object.externalIdColumn) return found;
    const column = this.q(object.externalIdColumn);
    for (const chunk of chunks([...new Set(externalIds)], IN_CHUNK)) {
      const params = new Parameters(this.dialect);
      if (object.key) {
        const keys = this.idColumns(object).map((name) => this.q(name));
        const sql = `SELECT ${column} AS ferry_external_id, ${keys.join(', ')} FROM ${this.dialect.tableName(object.table)} WHERE ${column} IN (${params.list(chunk)})`;
        for (const row of (await this.dialect.query(sql, params.values)).rows) found.set(String(row.ferry_external_id), this.rowId(object, row));
        continue;
      }
      const sql = `SELECT ${column} AS e, ${this.q(object.idColumn)} AS i FROM ${this.dialect.tableName(object.table)} WHERE ${column} IN (${params.list(chunk)})`;
      for (const row of (await this.dialect.query(sql, params.values)).rows) found.set(String(row.e), String(row.i));
    }
    return found;
  }

  async now(): Promise<string> {
    return new Date(await this.dialect.serverNow()).toISOString();
  }

  async close(): Promise<void> {
    await this.dialect.close();
  }
}

function createDialect(settings: SqlConnectionSettings): SqlDialect {
  switch (settings.dialect) {
    case 'sqlite':
      return new SqliteDialect({ path: settings.path!, readOnly: settings.readOnly ?? false });
    case 'postgres':
      return new PostgresDialect({ url: settings.url!, schema: settings.schema ?? 'public' });
    case 'mysql':
      return new MysqlDialect({ url: settings.url! });
  }
}

/**
 * The SQL connector for SQLite, PostgreSQL and MySQL/MariaDB, as source and target.
 * Throws CONFIG_INVALID (naming the bad keys) when the settings do not validate; connects lazily.
 *
 * @example
 * const connector = createSqlConnector({ dialect: 'sqlite', path: './crm.db' }, { baseDir: projectDir });
 * await connector.check();
 * const page = await connector.read('contacts', { modifiedSince: '2024-03-01T00:00:00.000Z', limit: 500 });
 */
export function createSqlConnector(config: SqlConnectionConfig, options: SqlConnectorOptions = {}): Connector {
  const settings = parseSqlConnectionConfig(config, options);
  return new SqlConnector(settings, createDialect(settings));
}
