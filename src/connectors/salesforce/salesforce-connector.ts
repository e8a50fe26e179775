import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import type { Capabilities, Connector, CreateInput, ExternalIdPlan, CrmRecord, DeletionQuery, ReadOptions, ReadPage, RecordError, RequestUsage, SourceDeletion, UpdateInput, WriteResult } from '../../core/connector.js';
import { forEachConcurrently } from '../../core/concurrency.js';
import { FerryError, describeValue, type ErrorCode } from '../../core/errors.js';
import { realClock, type Clock } from '../../core/http.js';
import { ID15, ID18, salesforceId18 } from '../../core/salesforce-id.js';
import { variantLabel, type FieldValue, type SchemaDescription } from '../../core/schema.js';
import { nowIso, parseInstant } from '../../core/time.js';
import { ApiClient, decodeCursor, encodeCursor, isWindowCursor, readWindow, windowStart, type BudgetUsage, type RequestBudget, type WindowCursor, type WindowSource } from '../kit/index.js';
import { parseSalesforceConnectionConfig, type SalesforceConnectionConfig, type SalesforceConnectorOptions, type SalesforceSettings } from './config.js';
import { SalesforceExternalIds } from './external-ids.js';
import { SalesforceModel, type FieldDef, type ObjectModel } from './model.js';
import { SalesforceSession, createSalesforceBudget, createSalesforceClient, type SalesforceTransportOptions } from './transport.js';

/** sObject Collections take up to 200 records a request (REST API Developer Guide, "sObject Collections"). */
export const COLLECTION_SIZE = 200;
/** A SOQL batch is up to 2,000 records; one is kept for the window's look-ahead. */
const MAX_PAGE = 1999;
const DEFAULT_PAGE = 500;
/** SystemModstamp is stored and filtered to the second. */
const UNIT_MS = 1000;
/** Select lists longer than this (URL-encoded) are read in two steps (the GET URL limit is 16,384 bytes). */
const MAX_SELECT_URL = 12_000;
/** Values of an IN (...) list per query when looking up external ids (keeps the GET URL far below 16 KB). */
const IN_CHUNK = 100;
/** Per-record errors Salesforce gives for a record it could not lock: sent again, they succeed. */
const RETRY_CODES = new Set(['UNABLE_TO_LOCK_ROW']);

type Row = Record<string, unknown> & { Id: string; attributes?: unknown };

interface QueryAnswer {
  totalSize: number;
  done: boolean;
  records: Row[];
  nextRecordsUrl?: string;
}

interface SfError {
  statusCode?: string;
  errorCode?: string;
  message: string;
  fields?: string[];
}

interface ItemResult {
  id?: string | null;
  success: boolean;
  errors: SfError[];
  created?: boolean;
}

/** A Bulk API 2.0 query job's results: the job, the locator of the chunk being read (null: the first) and the offset in it. */
interface BulkCursor {
  j: string;
  l: string | null;
  o: number;
}

type ReadCursor = { w: WindowCursor } | { b: BulkCursor };

function isReadCursor(value: unknown): value is ReadCursor {
  if (typeof value !== 'object' || value === null) return false;
  if ('w' in value) return isWindowCursor((value as { w: unknown }).w);
  const bulk = (value as { b?: Partial<BulkCursor> }).b;
  return typeof bulk === 'object' && bulk !== null && typeof bulk.j === 'string' && (bulk.l === null || typeof bulk.l === 'string') && typeof bulk.o === 'number';
}

/** Records handed to create/update at most (one Bulk API 2.0 ingest job; collections of 200 below the threshold). */
const BULK_WRITE_BATCH = 10_000;

/** Records of a Bulk API 2.0 results request: up to this many per call. */
const BULK_CHUNK = 50_000;

async function* bytes(chunk: Uint8Array): AsyncIterable<Uint8Array> {
  yield chunk;
}

/** `2024-03-17T14:05:00.000+0000` -> `2024-03-17T14:05:00.000Z`. */
export function instantOf(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** A SOQL datetime literal (whole seconds, UTC). */
function soqlTime(ms: number): string {
  return new Date(Math.floor(ms / UNIT_MS) * UNIT_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A SOQL string literal: quotes and backslashes escaped. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

function isId(value: string): boolean {
  return ID15.test(value) || ID18.test(value);
}

/** Salesforce's record error codes -> Ferry's. */
const CODES: Record<string, ErrorCode> = {
  REQUIRED_FIELD_MISSING: 'REQUIRED_MISSING',
  INVALID_EMAIL_ADDRESS: 'INVALID_VALUE',
  STRING_TOO_LONG: 'INVALID_VALUE',
  INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: 'INVALID_VALUE',
  INVALID_TYPE_ON_FIELD_IN_RECORD: 'INVALID_VALUE',
  NUMBER_OUTSIDE_VALID_RANGE: 'INVALID_VALUE',
  MALFORMED_ID: 'INVALID_VALUE',
  FIELD_INTEGRITY_EXCEPTION: 'INVALID_VALUE',
  INVALID_FIELD_FOR_INSERT_UPDATE: 'INVALID_VALUE',
  FIELD_FILTER_VALIDATION_EXCEPTION: 'INVALID_VALUE',
  DUPLICATE_VALUE: 'UNIQUE_VIOLATION',
  DUPLICATES_DETECTED: 'UNIQUE_VIOLATION',
  DUPLICATE_EXTERNAL_ID: 'AMBIGUOUS_MATCH',
  FIELD_CUSTOM_VALIDATION_EXCEPTION: 'VALIDATION',
  INVALID_CROSS_REFERENCE_KEY: 'REFERENCE_MISSING',
  INVALID_FIELD: 'UNKNOWN_FIELD',
  ENTITY_IS_DELETED: 'NOT_FOUND',
  NOT_FOUND: 'NOT_FOUND',
};

export class SalesforceConnector implements Connector {
  readonly kind = 'salesforce';
  readonly model: SalesforceModel;
  readonly session: SalesforceSession;
  readonly budget: RequestBudget;
  private api: Promise<ApiClient> | undefined;
  private readonly clock: Clock;
  /** The last chunk of Bulk query results fetched (read() hands it out a page at a time). */
  private bulkChunk: { key: string; rows: Row[]; next: string | null } | undefined;
  /** Bulk API 2.0 query jobs this connection created (for tests and the bench). */
  readonly bulkJobs: string[] = [];
  private readonly externalIds: SalesforceExternalIds;

  constructor(
    private readonly settings: SalesforceSettings,
    private readonly options: SalesforceTransportOptions = {},
  ) {
    this.clock = options.clock ?? realClock;
    this.session = new SalesforceSession(settings, options);
    this.budget = createSalesforceBudget(settings);
    this.model = new SalesforceModel(() => this.client(), settings);
    this.externalIds = new SalesforceExternalIds({ settings, model: this.model, client: () => this.client(), path: (rest) => this.path(rest), query: (soql) => this.query(soql), soqlString, ...(options.configPath !== undefined ? { configPath: options.configPath } : {}) });
  }

  /** The REST client, made once the instance URL is known (from the settings or the token answer). */
  client(): Promise<ApiClient> {
    this.api ??= (async () => {
      const instanceUrl = this.settings.instanceUrl ?? (await this.session.get()).instanceUrl;
      return createSalesforceClient(this.settings, this.session, instanceUrl, this.budget, this.options);
    })().catch((error: unknown) => {
      this.api = undefined;
      throw error;
    });
    return this.api;
  }

  private path(rest: string): string {
    return `/services/data/v${this.settings.apiVersion}${rest}`;
  }

  capabilities(): Capabilities {
    return {
      modifiedSince: true,
      orderedByModified: true,
      writable: !this.settings.readOnly,
      externalId: true,
      createFields: false,
      maxPageSize: MAX_PAGE,
      // Up to a Bulk API 2.0 ingest job's worth a call; below bulkWriteThreshold records it is collections of 200.
      batchSize: { read: 2000, create: BULK_WRITE_BATCH, update: BULK_WRITE_BATCH, delete: COLLECTION_SIZE },
      // The engine gathers source pages up to the ingest threshold, so a large run's writes become Bulk jobs
      // at any page size (a smaller rest, and a small run, go through collections).
      writeGroup: this.settings.bulkWriteThreshold,
      // SystemModstamp is whole seconds and set when a transaction starts: a long transaction commits
      // records stamped before a delta's high-water mark. A minute covers that and clock skew.
      lookbackMs: 60_000,
      // One collection request writes up to 200 records.
      writeCost: { unit: 'API calls', create: 1 / COLLECTION_SIZE, update: 1 / COLLECTION_SIZE, delete: 1 / COLLECTION_SIZE },
    };
  }

  /** API calls this connection spent, and what is left of the org's allocation as Salesforce last said. */
  usage(): RequestUsage & BudgetUsage {
    return this.budget.usage();
  }

  async check(): Promise<void> {
    await this.limits();
  }

  /** `/limits`: the org's DailyApiRequests (Max, Remaining), which also feeds the budget. */
  async limits(): Promise<{ max: number; remaining: number } | undefined> {
    const client = await this.client();
    const answer = await client.get<{ DailyApiRequests?: { Max: number; Remaining: number } }>(this.path('/limits'));
    const daily = answer.body.DailyApiRequests;
    if (!daily) return undefined;
    this.budget.observe(daily.Remaining, daily.Max);
    return { max: daily.Max, remaining: daily.Remaining };
  }

  async describe(): Promise<SchemaDescription> {
    const objects = [];
    for (const name of await this.model.objectNames()) objects.push((await this.model.object(name)).schema);
    return { objects };
  }

  async now(): Promise<string> {
    await this.limits();
    const server = (await this.client()).serverNow();
    return server === undefined ? nowIso() : new Date(server).toISOString();
  }

  async close(): Promise<void> {
    // fetch keeps no connection state that needs closing
  }

  // ------------------------------------------------------------------------------------------ reading

  /** Runs a SOQL query and follows nextRecordsUrl until `max` records (or the end). */
  async query(soql: string, max = Number.POSITIVE_INFINITY, resource: 'query' | 'queryAll' = 'query'): Promise<Row[]> {
    const client = await this.client();
    let answer = (await client.get<QueryAnswer>(this.path(`/${resource}`), { query: { q: soql } })).body;
    const rows = [...answer.records];
    while (!answer.done && answer.nextRecordsUrl && rows.length < max) {
      answer = (await client.get<QueryAnswer>(answer.nextRecordsUrl)).body;
      rows.push(...answer.records);
    }
    return rows.slice(0, max);
  }

  private selectList(model: ObjectModel, fields: string[] | undefined): string[] {
    if (!fields) return model.selectable;
    const api = new Set(['Id', 'SystemModstamp']);
    for (const name of fields) {
      const def = model.fields.get(name);
      if (!def) throw new FerryError('UNKNOWN_FIELD', `Salesforce ${model.name} has no field "${name}"`, { object: model.name, field: name });
      if (def.kind !== 'blob') api.add(def.api);
    }
    return [...api];
  }

  private windowSource(model: ObjectModel, select: string[]): WindowSource<Row> {
    // A GET URL over about 16 KB is refused: an object read with hundreds of fields is queried for ids and
    // times, and its fields retrieved by POST (`/composite/sobjects/{Object}`, 2,000 ids a call): two calls a
    // page instead of one. The window keeps the times of the query (a record changed in between is read
    // again by the next delta, its SystemModstamp being later).
    const wide = encodeURIComponent(select.join(', ')).length > MAX_SELECT_URL;
    const from = `SELECT ${wide ? 'Id, SystemModstamp' : select.join(', ')} FROM ${model.name}`;
    const fill = async (rows: Row[]): Promise<Row[]> => {
      if (!wide || rows.length === 0) return rows;
      const full = new Map((await this.retrieve(model, rows.map((row) => row.Id), select)).map((row) => [row.Id, row]));
      return rows.flatMap((row) => {
        const found = full.get(row.Id);
        return found ? [{ ...found, SystemModstamp: row.SystemModstamp }] : [];
      });
    };
    return {
      time: (row) => Date.parse(instantOf(row.SystemModstamp) ?? '1970-01-01T00:00:00.000Z'),
      range: async (since, exclusive, limit) => {
        const where = since > 0 || exclusive ? ` WHERE SystemModstamp ${exclusive ? '>' : '>='} ${soqlTime(since)}` : '';
        return fill(await this.query(`${from}${where} ORDER BY SystemModstamp ASC, Id ASC LIMIT ${limit}`, limit));
      },
      tie: async (at, after, limit) => {
        const rows = await this.query(`${from} WHERE SystemModstamp = ${soqlTime(at)}${after ? ` AND Id > ${soqlString(after)}` : ''} ORDER BY Id ASC LIMIT ${limit}`, limit);
        return { rows: await fill(rows), ...(rows.length === limit ? { after: rows[rows.length - 1]!.Id } : {}) };
      },
    };
  }

  /** Records by id with these fields (`POST /composite/sobjects/{Object}`, up to 2,000 ids a call); missing ids left out. */
  private async retrieve(model: ObjectModel, ids: string[], select: string[]): Promise<Row[]> {
    const client = await this.client();
    const rows: Row[] = [];
    for (let index = 0; index < ids.length; index += 2000) {
      const answer = await client.request<(Row | null)[]>('POST', this.path(`/composite/sobjects/${model.name}`), { body: { ids: ids.slice(index, index + 2000), fields: select } });
      for (const row of answer.body) if (row) rows.push(row);
    }
    return rows;
  }

  async read(objectName: string, options: ReadOptions = {}): Promise<ReadPage> {
    const model = await this.model.object(objectName);
    const limit = Math.max(1, Math.min(Math.floor(options.limit ?? DEFAULT_PAGE), MAX_PAGE));
    let cursor: WindowCursor;
    if (options.after) {
      const decoded = decodeCursor(options.after, 'Salesforce', isReadCursor);
      if ('b' in decoded) return this.readBulk(model, decoded.b, limit, options.fields);
      cursor = decoded.w;
    } else {
      const since = options.modifiedSince === undefined ? undefined : parseInstant(options.modifiedSince);
      if (options.modifiedSince !== undefined && !since) throw new FerryError('USAGE', `modifiedSince ${JSON.stringify(options.modifiedSince)} is not an ISO date-time`);
      const from = since ? Date.parse(since) : 0;
      if (options.anyOrder) {
        const job = await this.startBulkQuery(model, from, options.fields);
        if (job) return this.readBulk(model, { j: job, l: null, o: 0 }, limit, options.fields);
      }
      cursor = windowStart(from);
    }
    const page = await readWindow(this.windowSource(model, this.selectList(model, options.fields)), cursor, limit);
    await this.readBlobs(model, page.rows, options.fields);
    const records = page.rows.map((row) => this.toRecord(model, row, options.fields));
    return page.next ? { records, next: encodeCursor({ w: page.next }) } : { records };
  }

  private whereSince(from: number): string {
    return from > 0 ? ` WHERE SystemModstamp >= ${soqlTime(from)}` : '';
  }

  /**
   * A Bulk API 2.0 query job for a read in any order, when the object has at least `bulkReadThreshold` records
   * to read (one `count()` query decides); undefined below it. Bulk queries take no ORDER BY (it would turn off
   * Salesforce's chunking), so only reads that need every record once, in any order, use them.
   */
  private async startBulkQuery(model: ObjectModel, from: number, fields: string[] | undefined): Promise<string | undefined> {
    const client = await this.client();
    const count = (await client.get<QueryAnswer>(this.path('/query'), { query: { q: `SELECT count() FROM ${model.name}${this.whereSince(from)}` } })).body.totalSize;
    if (count < this.settings.bulkReadThreshold) return undefined;
    const soql = `SELECT ${this.selectList(model, fields).join(', ')} FROM ${model.name}${this.whereSince(from)}`;
    const job = (await client.request<{ id: string }>('POST', this.path('/jobs/query'), { body: { operation: 'query', query: soql, contentType: 'CSV', columnDelimiter: 'COMMA', lineEnding: 'LF' } })).body;
    this.bulkJobs.push(job.id);
    return job.id;
  }

  private async waitForBulkJob(kind: 'query' | 'ingest', id: string): Promise<Record<string, unknown>> {
    const client = await this.client();
    let wait = this.settings.bulkPollMs;
    for (;;) {
      const info = (await client.get<Record<string, unknown>>(this.path(`/jobs/${kind}/${id}`))).body;
      if (info.state === 'JobComplete') return info;
      if (info.state === 'Failed' || info.state === 'Aborted') {
        throw new FerryError('TRANSIENT', `Salesforce Bulk API 2.0 ${kind} job ${id} ended ${String(info.state)}${info.errorMessage ? `: ${String(info.errorMessage)}` : ''}; running the command again starts a new job`, { job: id });
      }
      await this.clock.sleep(wait);
      wait = Math.min(10_000, wait * 2);
    }
  }

  /** One page of a Bulk query job's results, from the chunk cached since the previous page (or fetched). */
  private async readBulk(model: ObjectModel, cursor: BulkCursor, limit: number, fields: string[] | undefined): Promise<ReadPage> {
    const key = `${cursor.j}|${cursor.l ?? ''}`;
    if (this.bulkChunk?.key !== key) {
      await this.waitForBulkJob('query', cursor.j);
      const client = await this.client();
      const answer = await client.get<string>(this.path(`/jobs/query/${cursor.j}/results`), { query: { maxRecords: BULK_CHUNK, locator: cursor.l ?? undefined } });
      const text = typeof answer.body === 'string' ? answer.body : '';
      const table = parseCsv(text, { relax_column_count: false, skip_empty_lines: true }) as string[][];
      const [header = [], ...lines] = table;
      const rows = lines.map((line) => {
        const row: Record<string, unknown> = {};
        // Bulk CSV has no null: an empty cell is an empty field.
        header.forEach((column, index) => (row[column] = line[index] === '' || line[index] === undefined ? null : line[index]));
        return row as Row;
      });
      const locator = answer.headers.get('sforce-locator');
      this.bulkChunk = { key, rows, next: locator && locator !== 'null' ? locator : null };
    }
    const chunk = this.bulkChunk;
    const page = chunk.rows.slice(cursor.o, cursor.o + limit);
    await this.readBlobs(model, page, fields);
    const records = page.map((row) => this.toRecord(model, row, fields));
    const offset = cursor.o + page.length;
    if (offset < chunk.rows.length) return { records, next: encodeCursor({ b: { ...cursor, o: offset } }) };
    if (chunk.next) return { records, next: encodeCursor({ b: { j: cursor.j, l: chunk.next, o: 0 } }) };
    return { records };
  }

  /**
   * Records deleted since `since` (ISO) that are still in the recycle bin (Salesforce keeps them 15 days):
   * `queryAll` with `IsDeleted = true`, by SystemModstamp, which a delete stamps. For reporting source
   * deletions (`readDeletions`, the engine's hook); a delta never deletes.
   */
  async readDeleted(objectName: string, since?: string): Promise<{ id: string; deletedAt: string | null }[]> {
    const model = await this.model.object(objectName);
    const from = since === undefined ? 0 : Date.parse(parseInstant(since) ?? '');
    if (Number.isNaN(from)) throw new FerryError('USAGE', `since ${JSON.stringify(since)} is not an ISO date-time`);
    const rows = await this.query(`SELECT Id, SystemModstamp FROM ${model.name} WHERE IsDeleted = true${from > 0 ? ` AND SystemModstamp >= ${soqlTime(from)}` : ''} ORDER BY SystemModstamp ASC, Id ASC`, Number.POSITIVE_INFINITY, 'queryAll');
    return rows.map((row) => ({ id: salesforceId18(row.Id), deletedAt: instantOf(row.SystemModstamp) }));
  }

  /**
   * Deletions for a delta to report (never to propagate): the recycle bin through `queryAll`, which keeps a
   * deleted record about 15 days. Users are deactivated, never deleted; record types are not in the bin.
   */
  async readDeletions(objectName: string, query: DeletionQuery): Promise<SourceDeletion[] | undefined> {
    const model = await this.model.object(objectName);
    if (model.name === 'User' || model.name === 'RecordType') return undefined;
    return this.readDeleted(objectName, query.since);
  }

  async readByIds(objectName: string, ids: string[], fields?: string[]): Promise<CrmRecord[]> {
    const model = await this.model.object(objectName);
    const wanted = [...new Set(ids.filter(isId).map(salesforceId18))].filter((id) => id.startsWith(model.keyPrefix));
    const found = new Map<string, Row>();
    for (const row of await this.retrieve(model, wanted, this.selectList(model, fields))) found.set(salesforceId18(row.Id), row);
    await this.readBlobs(model, [...found.values()], fields);
    const order = new Map(ids.map((id, index) => [isId(id) ? salesforceId18(id) : id, index]));
    return [...found.values()].sort((a, b) => (order.get(a.Id) ?? 0) - (order.get(b.Id) ?? 0)).map((row) => this.toRecord(model, row, fields));
  }

  /** Text held in blob fields (a ContentNote's Content), one GET of the blob a record, into the rows. */
  private async readBlobs(model: ObjectModel, rows: Row[], fields: string[] | undefined): Promise<void> {
    const blobs = [...model.fields.values()].filter((def) => def.kind === 'blob' && (!fields || fields.includes(def.name)));
    if (blobs.length === 0 || rows.length === 0) return;
    const client = await this.client();
    await forEachConcurrently(rows, 4, async (row) => {
      for (const def of blobs) {
        const answer = await client.get<unknown>(this.path(`/sobjects/${model.name}/${row.Id}/${def.api}`), { accept: [404] });
        row[def.api] = answer.status === 404 ? null : typeof answer.body === 'string' ? answer.body : answer.body === undefined ? null : JSON.stringify(answer.body);
      }
    });
  }

  private toRecord(model: ObjectModel, row: Row, fields: string[] | undefined): CrmRecord {
    const values: Record<string, FieldValue> = {};
    const selected = fields ? [...fields, ...(fields.includes('SystemModstamp') ? [] : ['SystemModstamp'])].map((name) => model.fields.get(name)!).filter(Boolean) : [...model.fields.values()];
    for (const def of selected) values[def.name] = this.fromApi(def, row[def.api]);
    return { id: salesforceId18(row.Id), updatedAt: instantOf(row.SystemModstamp), fields: values };
  }

  private fromApi(def: FieldDef, raw: unknown): FieldValue {
    if (raw === undefined || raw === null) return def.kind === 'boolean' ? false : null;
    switch (def.kind) {
      case 'number':
      case 'integer':
        return typeof raw === 'number' ? raw : Number.isFinite(Number(raw)) ? Number(raw) : null;
      case 'boolean':
        return raw === true || raw === 'true';
      case 'date':
        return typeof raw === 'string' ? raw.slice(0, 10) : null;
      case 'datetime':
        return instantOf(raw);
      case 'polyref': {
        const id = String(raw);
        return id.startsWith(def.target!.keyPrefix) ? salesforceId18(id) : null;
      }
      case 'ref':
        return salesforceId18(String(raw));
      default:
        return typeof raw === 'string' ? raw : String(raw);
    }
  }

  /**
   * Records whose text field contains one of `values`: SOQL `LIKE '%value%'`, which compares case-insensitively
   * (SOQL reference, "Comparison Operators"), 50 values a query, `%`, `_` and `\` escaped. A superset of the
   * records whose lower-cased field contains the value, as the interface allows; in id order.
   */
  async findContaining(objectName: string, fieldName: string, values: string[], fields?: string[]): Promise<CrmRecord[]> {
    const model = await this.model.object(objectName);
    const def = model.fields.get(fieldName);
    if (!def || def.kind !== 'text') throw new FerryError('UNKNOWN_FIELD', `Salesforce ${model.name} has no text field "${fieldName}" to search`, { object: model.name, field: fieldName });
    const select = this.selectList(model, fields ? [...new Set([...fields, fieldName])] : undefined);
    const found = new Map<string, Row>();
    const wanted = [...new Set(values.filter((value) => value !== ''))];
    for (let index = 0; index < wanted.length; index += 50) {
      // Quotes and backslashes escaped as in any literal, then the LIKE wildcards of the value itself.
      const likes = wanted.slice(index, index + 50).map((value) => `${def.api} LIKE '%${soqlString(value).slice(1, -1).replace(/[%_]/g, (char) => `\\${char}`)}%'`);
      for (const row of await this.query(`SELECT ${select.join(', ')} FROM ${model.name} WHERE ${likes.join(' OR ')} ORDER BY Id`)) found.set(row.Id, row);
    }
    return [...found.values()].sort((a, b) => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0)).map((row) => this.toRecord(model, row, fields));
  }

  // ------------------------------------------------------------------------------------------ writing

  private assertWritable(model: ObjectModel): void {
    if (this.settings.readOnly) throw new FerryError('USAGE', 'This Salesforce connection is read-only (readOnly: true in its settings)', { object: model.name });
  }

  /** A record's fields as the Salesforce body, or the record's failure (naming field and value). */
  private prepare(model: ObjectModel, fields: Record<string, FieldValue>, creating: boolean, recordId?: string): { body: Record<string, unknown> } | { error: RecordError } {
    const body: Record<string, unknown> = {};
    const fail = (code: ErrorCode, name: string, value: FieldValue, message: string) => ({ error: { code, message, field: name, value } });
    for (const [name, value] of Object.entries(fields)) {
      const def = model.fields.get(name);
      if (!def) return fail('UNKNOWN_FIELD', name, value, `Salesforce ${model.name} has no field "${name}"`);
      if (creating ? !def.createable : !def.updateable) {
        if (!creating && def.createable) return fail('INVALID_VALUE', name, value, `${name} cannot be changed once a ${model.name} exists (Salesforce: createable, not updateable)`);
        return fail('INVALID_VALUE', name, value, `${name} is read-only in Salesforce`);
      }
      const converted = this.toApi(def, value);
      if (typeof converted === 'object' && converted !== null && 'problem' in converted) return fail('INVALID_VALUE', name, value, `${name}: ${describeValue(value)} ${converted.problem}`);
      // Several parts of one polymorphic field: the first that names a record wins.
      if (def.kind === 'polyref' && body[def.api] !== undefined && body[def.api] !== null) continue;
      body[def.api] = converted;
    }
    const refused = this.outsideRecordType(model, body, creating, recordId);
    if (refused) return { error: refused };
    return { body };
  }

  /**
   * A restricted picklist value the record's record type does not make available (Salesforce would refuse it
   * with INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST): the record type is the body's RecordTypeId, or on a create
   * without one the default record type. An update that does not write RecordTypeId is left to Salesforce
   * (the record's record type is not known without reading it).
   */
  private outsideRecordType(model: ObjectModel, body: Record<string, unknown>, creating: boolean, recordId?: string): RecordError | undefined {
    const variants = model.schema.variants;
    if (!variants) return undefined;
    const given = body[variants.field];
    const recordType = typeof given === 'string' && isId(given) ? salesforceId18(given) : creating && (given === undefined || given === null) ? variants.default : undefined;
    if (!recordType) return undefined;
    for (const def of model.fields.values()) {
      if (def.kind !== 'enum' || !def.schema.variantOptions) continue;
      const value = body[def.api];
      const allowed = def.schema.variantOptions[recordType];
      if (typeof value !== 'string' || !allowed || allowed.includes(value)) continue;
      const which = `${given === undefined || given === null ? 'the default ' : ''}record type ${variantLabel(model.schema, recordType)}`;
      return {
        code: 'INVALID_VALUE',
        message: `Salesforce ${model.name}${recordId ? ` ${recordId}` : ''}: ${def.name} ${describeValue(value)} is not available for ${which} (its values: ${allowed.join(', ')}); map it to one of those, or give the record another record type`,
        field: def.name,
        value,
      };
    }
    return undefined;
  }

  private toApi(def: FieldDef, value: FieldValue): unknown {
    if (value === null || (value === '' && def.kind !== 'text')) return null;
    if (Array.isArray(value)) {
      if (def.kind === 'text' && def.schema.type === 'string') return value.join(';');
      return { problem: 'is a list, not one value' };
    }
    switch (def.kind) {
      case 'number':
      case 'integer': {
        const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
        if (!Number.isFinite(number)) return { problem: 'is not a number' };
        if (def.kind === 'integer' && !Number.isInteger(number)) return { problem: 'is not a whole number' };
        return number;
      }
      case 'boolean':
        if (typeof value === 'boolean') return value;
        if (value === 'true' || value === 'false') return value === 'true';
        return { problem: 'is not true or false' };
      case 'date': {
        const text = String(value);
        if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
        const instant = parseInstant(text);
        return instant ? instant.slice(0, 10) : { problem: 'is not a date (YYYY-MM-DD)' };
      }
      case 'datetime': {
        const instant = parseInstant(String(value));
        return instant ?? { problem: 'is not an ISO date-time' };
      }
      case 'blob':
        return Buffer.from(String(value), 'utf8').toString('base64');
      case 'ref':
      case 'polyref': {
        const text = String(value);
        if (!isId(text)) return { problem: 'is not a Salesforce record id' };
        if (def.target && !text.startsWith(def.target.keyPrefix)) return { problem: `is not a ${def.target.object} id (key prefix ${def.target.keyPrefix})` };
        return salesforceId18(text);
      }
      default:
        return typeof value === 'string' ? value : String(value);
    }
  }

  /** A Salesforce per-record error as the record's RecordError, with Ferry's code and the field and value it is about. */
  recordError(model: ObjectModel, fields: Record<string, FieldValue>, errors: SfError[], writing: 'create' | 'update' | 'delete'): RecordError {
    const first = errors[0] ?? { message: 'Salesforce refused the record without saying why' };
    const sfCode = first.statusCode ?? first.errorCode ?? 'UNKNOWN';
    let code: ErrorCode = CODES[sfCode] ?? 'WRITE_FAILED';
    const message = errors.map((error) => `${error.statusCode ?? error.errorCode ?? 'ERROR'}: ${error.message}${error.fields && error.fields.length > 0 ? ` (${error.fields.join(', ')})` : ''}`).join('; ');
    let api = first.fields?.[0];
    if (!api) api = /duplicate value found: (\w+) duplicates/.exec(first.message)?.[1] ?? /Required fields are missing: \[(\w+)/.exec(first.message)?.[1];
    // An update or delete whose record is gone (or whose id is of another object).
    if (writing !== 'create' && (sfCode === 'ENTITY_IS_DELETED' || ((sfCode === 'INVALID_CROSS_REFERENCE_KEY' || sfCode === 'MALFORMED_ID') && (!api || api === 'Id')))) {
      return { code: 'NOT_FOUND', message: `Salesforce ${model.name}: the record does not exist (${message})` };
    }
    if (sfCode === 'INVALID_CROSS_REFERENCE_KEY' && !api) code = 'REFERENCE_MISSING';
    const result: RecordError = { code, message: `Salesforce ${model.name}: ${message}` };
    if (api) {
      const candidates = [...model.fields.values()].filter((def) => def.api.toLowerCase() === api!.toLowerCase());
      const def = candidates.find((each) => each.name in fields) ?? candidates.find((each) => each.kind !== 'polyref') ?? candidates[0];
      const name = def?.name ?? api;
      result.field = name;
      result.value = fields[name] ?? null;
    }
    return result;
  }

  /**
   * Sends `items` in collections of 200, `writeConcurrency` at a time; each result is attributed to its item
   * by its position in the request (Salesforce answers in request order). Records Salesforce could not lock
   * are sent again.
   */
  private async collections<T>(items: T[], send: (chunk: T[]) => Promise<ItemResult[]>, toResult: (item: T, result: ItemResult) => WriteResult): Promise<WriteResult[]> {
    const results = new Array<WriteResult>(items.length);
    const chunks: number[][] = [];
    for (let index = 0; index < items.length; index += COLLECTION_SIZE) chunks.push(Array.from({ length: Math.min(COLLECTION_SIZE, items.length - index) }, (_, offset) => index + offset));
    await forEachConcurrently(chunks, this.settings.writeConcurrency, async (chunk) => {
      let pending = chunk;
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        const answer = await send(pending.map((index) => items[index]!));
        if (answer.length !== pending.length) throw new FerryError('INTERNAL', `Salesforce answered ${answer.length} results for a collection of ${pending.length} records`);
        const again: number[] = [];
        answer.forEach((result, position) => {
          const index = pending[position]!;
          const code = result.errors[0]?.statusCode ?? result.errors[0]?.errorCode;
          if (!result.success && code && RETRY_CODES.has(code) && attempt < this.settings.maxRetries) again.push(index);
          else results[index] = toResult(items[index]!, result);
        });
        pending = again;
        if (pending.length > 0) await this.clock.sleep(200 * 2 ** attempt);
      }
    });
    return results;
  }

  async create(objectName: string, inputs: CreateInput[]): Promise<WriteResult[]> {
    const model = await this.model.object(objectName);
    this.assertWritable(model);
    const client = await this.client();
    const results = new Array<WriteResult>(inputs.length);
    const stamped: { index: number; body: Record<string, unknown> }[] = [];
    const plain: { index: number; body: Record<string, unknown> }[] = [];
    inputs.forEach((input, index) => {
      const prepared = this.prepare(model, input.fields, true);
      if ('error' in prepared) {
        results[index] = { ok: false, error: prepared.error };
        return;
      }
      const body = { attributes: { type: model.name }, ...prepared.body };
      if (input.externalId !== undefined && model.externalId) stamped.push({ index, body: { ...body, [model.externalId]: input.externalId } });
      else plain.push({ index, body });
    });
    const toResult = (item: { index: number }, result: ItemResult): WriteResult =>
      result.success && result.id ? { ok: true, id: salesforceId18(result.id) } : { ok: false, error: this.recordError(model, inputs[item.index]!.fields, result.errors, 'create') };
    const unique = (keys: string[]) => new Set(keys.map((key) => key.toLowerCase())).size === keys.length;
    if (stamped.length >= this.settings.bulkWriteThreshold && unique(stamped.map((item) => String(item.body[model.externalId!])))) {
      const written = await this.ingest(model, 'upsert', model.externalId!, stamped.map((item) => ({ key: String(item.body[model.externalId!]), body: item.body, fields: inputs[item.index]!.fields })), 'create');
      stamped.forEach((item, position) => (results[item.index] = written[position]!));
      stamped.length = 0;
    }
    if (stamped.length > 0) {
      // Upsert on the external-id field: sent again after a lost answer, it finds the record it created
      // instead of creating a second one, so these requests are retried like reads.
      const written = await this.collections(
        stamped,
        async (chunk) => (await client.request<ItemResult[]>('PATCH', this.path(`/composite/sobjects/${model.name}/${model.externalId!}`), { body: { allOrNone: false, records: chunk.map((item) => item.body) } })).body,
        toResult,
      );
      stamped.forEach((item, position) => (results[item.index] = written[position]!));
    }
    if (plain.length > 0) {
      // Without an external id a create cannot be found again: sent once, a lost answer stops the run (the
      // engine's pending creates say which records to check).
      const written = await this.collections(plain, async (chunk) => (await client.requestOnce<ItemResult[]>('POST', this.path('/composite/sobjects'), { body: { allOrNone: false, records: chunk.map((item) => item.body) } })).body, toResult);
      plain.forEach((item, position) => (results[item.index] = written[position]!));
    }
    return results;
  }

  async update(objectName: string, inputs: UpdateInput[]): Promise<WriteResult[]> {
    const model = await this.model.object(objectName);
    this.assertWritable(model);
    const client = await this.client();
    const results = new Array<WriteResult>(inputs.length);
    const send: { index: number; id: string; body: Record<string, unknown> }[] = [];
    inputs.forEach((input, index) => {
      if (!isId(input.id) || !salesforceId18(input.id).startsWith(model.keyPrefix)) {
        results[index] = { ok: false, error: { code: 'NOT_FOUND', message: `Salesforce ${model.name} ${input.id} does not exist (not a ${model.name} id)` } };
        return;
      }
      const prepared = this.prepare(model, input.fields, false, salesforceId18(input.id));
      if ('error' in prepared) results[index] = { ok: false, error: prepared.error };
      else send.push({ index, id: salesforceId18(input.id), body: { attributes: { type: model.name }, id: salesforceId18(input.id), ...prepared.body } });
    });
    const written =
      send.length >= this.settings.bulkWriteThreshold && new Set(send.map((item) => item.id)).size === send.length
        ? await this.ingest(model, 'update', 'Id', send.map((item) => { const { id: _id, ...body } = item.body; return { key: item.id, body: { Id: item.id, ...body }, fields: inputs[item.index]!.fields }; }), 'update')
        : await this.collections(
            send,
            async (chunk) => (await client.request<ItemResult[]>('PATCH', this.path('/composite/sobjects'), { body: { allOrNone: false, records: chunk.map((item) => item.body) } })).body,
            (item, result) => (result.success ? { ok: true, id: item.id } : { ok: false, error: this.recordError(model, inputs[item.index]!.fields, result.errors, 'update') }),
          );
    send.forEach((item, position) => (results[item.index] = written[position]!));
    return results;
  }

  async delete(objectName: string, ids: string[]): Promise<WriteResult[]> {
    const model = await this.model.object(objectName);
    this.assertWritable(model);
    const client = await this.client();
    const results = new Array<WriteResult>(ids.length);
    const send: { index: number; id: string }[] = [];
    ids.forEach((id, index) => {
      if (!isId(id) || !salesforceId18(id).startsWith(model.keyPrefix)) results[index] = { ok: false, error: { code: 'NOT_FOUND', message: `Salesforce ${model.name} ${id} does not exist (not a ${model.name} id)` } };
      else send.push({ index, id: salesforceId18(id) });
    });
    const written = await this.collections(
      send,
      async (chunk) => (await client.request<ItemResult[]>('DELETE', this.path('/composite/sobjects'), { query: { ids: chunk.map((item) => item.id).join(','), allOrNone: 'false' } })).body,
      (item, result) => (result.success ? { ok: true, id: item.id } : { ok: false, error: this.recordError(model, {}, result.errors, 'delete') }),
    );
    send.forEach((item, position) => (results[item.index] = written[position]!));
    return results;
  }

  // ------------------------------------------------------------------------------------------ Bulk API 2.0 ingest

  /**
   * Writes `items` as one Bulk API 2.0 ingest job (`upsert` on the external id, or `update` by Id) and returns
   * one result per item, attributed by the key column (the external id or the Id), never by position: the
   * job's result files need not keep the upload's order. An empty cell leaves a field alone, `#N/A` clears it
   * (Bulk API 2.0, "Prepare CSV Files"). Records the job did not process fail with WRITE_FAILED.
   */
  private async ingest(model: ObjectModel, operation: 'upsert' | 'update', keyColumn: string, items: { key: string; body: Record<string, unknown>; fields: Record<string, FieldValue> }[], writing: 'create' | 'update'): Promise<WriteResult[]> {
    const client = await this.client();
    const columns = [...new Set(items.flatMap((item) => Object.keys(item.body)))].filter((column) => column !== 'attributes');
    const cell = (value: unknown): string => (value === null ? '#N/A' : value === undefined ? '' : Array.isArray(value) ? value.join(';') : String(value));
    const csv = stringifyCsv([columns, ...items.map((item) => columns.map((column) => cell(item.body[column])))], { record_delimiter: 'unix' });
    const job = (await client.request<{ id: string }>('POST', this.path('/jobs/ingest'), { body: { object: model.name, operation, ...(operation === 'upsert' ? { externalIdFieldName: keyColumn } : {}), contentType: 'CSV', columnDelimiter: 'COMMA', lineEnding: 'LF' } })).body;
    this.bulkJobs.push(job.id);
    await client.request('PUT', this.path(`/jobs/ingest/${job.id}/batches`), { upload: { contentType: 'text/csv', open: async () => bytes(Buffer.from(csv, 'utf8')) } });
    await client.request('PATCH', this.path(`/jobs/ingest/${job.id}`), { body: { state: 'UploadComplete' } });
    await this.waitForBulkJob('ingest', job.id);
    const table = async (which: string): Promise<Record<string, string>[]> => {
      const answer = await client.get<string>(this.path(`/jobs/ingest/${job.id}/${which}`));
      return parseCsv(typeof answer.body === 'string' ? answer.body : '', { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    };
    const byKey = new Map(items.map((item, index) => [item.key.toLowerCase(), index]));
    const results = new Array<WriteResult>(items.length);
    for (const row of await table('successfulResults')) {
      const index = byKey.get(String(row[keyColumn] ?? '').toLowerCase());
      if (index !== undefined) results[index] = { ok: true, id: salesforceId18(row.sf__Id!) };
    }
    for (const row of await table('failedResults')) {
      const index = byKey.get(String(row[keyColumn] ?? '').toLowerCase());
      if (index === undefined) continue;
      // `CODE:message:Field1,Field2 --`
      const text = String(row.sf__Error ?? '').replace(/\s*--\s*$/, '');
      const code = text.slice(0, Math.max(0, text.indexOf(':')));
      const fields = /:([A-Za-z0-9_,]*)$/.exec(text)?.[1] ?? '';
      const message = text.slice(code.length + 1, text.length - fields.length - 1);
      results[index] = { ok: false, error: this.recordError(model, items[index]!.fields, [{ statusCode: code || 'UNKNOWN', message, fields: fields ? fields.split(',') : [] }], writing) };
    }
    return results.map((result) => result ?? { ok: false, error: { code: 'WRITE_FAILED', message: `Salesforce Bulk API 2.0 job ${job.id} did not process the record; run again to send it again` } });
  }

  // ------------------------------------------------------------------------------------------ external ids

  /**
   * The External ID field holding the source id (`externalIdField`, default Ferry_Source_Id__c). When it is
   * missing, it is created (Tooling API, then Read and Edit for `permissionSet`) if `createExternalIdFields` is
   * set or the caller asks (`create`: `ferry external-ids`); otherwise an admin adds it as described in
   * docs/connectors/salesforce.md, and until then creates are sent once and not stamped.
   */
  async ensureExternalId(objectName: string, options: { create?: boolean } = {}): Promise<string | undefined> {
    return this.externalIds.ensure(objectName, options.create === true);
  }

  /** What ensureExternalId(object, { create: true }) would do: the field exists, would be created, or cannot be. */
  async planExternalId(objectName: string): Promise<ExternalIdPlan> {
    return this.externalIds.plan(objectName);
  }

  async findByExternalIds(objectName: string, externalIds: string[]): Promise<Map<string, string>> {
    const model = await this.model.object(objectName);
    const found = new Map<string, string>();
    if (!model.externalId) return found;
    const wanted = [...new Set(externalIds)];
    for (let index = 0; index < wanted.length; index += IN_CHUNK) {
      const chunk = wanted.slice(index, index + IN_CHUNK);
      const rows = await this.query(`SELECT Id, ${model.externalId} FROM ${model.name} WHERE ${model.externalId} IN (${chunk.map(soqlString).join(', ')}) ORDER BY Id`);
      for (const row of rows) {
        const value = row[model.externalId];
        if (typeof value === 'string' && !found.has(value)) found.set(value, salesforceId18(row.Id));
      }
    }
    return found;
  }
}

/** Validates the settings and builds the connector. */
export function createSalesforceConnector(config: SalesforceConnectionConfig | Record<string, unknown>, options: SalesforceConnectorOptions & SalesforceTransportOptions = {}): SalesforceConnector {
  return new SalesforceConnector(parseSalesforceConnectionConfig(config, options), options);
}
