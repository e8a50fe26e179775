import type { FaultInjector, KitResponse, TriggeredFaults } from '../kit/index.js';
import { findRoute } from '../kit/index.js';
import { BulkJobs, MultipleMatches, upsertOne } from './bulk.js';
import { describeLayoutOf, describeLayouts, describeObject, objectSummary } from './describe.js';
import { NOT_FOUND, RecordFailure, SalesforceHttpError, httpError, type RecordError } from './errors.js';
import { makeId } from './ids.js';
import { execute, parseSoql, renderRow } from './soql.js';
import type { Data, SalesforceStore, SfRecord } from './store.js';
import { createCustomField } from './tooling.js';
import { parseDateTime, sfDateTime } from './values.js';

export interface Principal {
  kind: 'user' | 'anonymous';
  userId: string;
}

export interface RouteContext {
  store: SalesforceStore;
  bulk: BulkJobs;
  cursors: QueryCursors;
  version: string;
  method: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  raw: string;
  principal: Principal;
  now: number;
  limits: () => { max: number; remaining: number };
  faults?: TriggeredFaults;
  injector?: FaultInjector;
}

type Handler = (ctx: RouteContext, ...params: string[]) => KitResponse;

export interface Route {
  method: string;
  pattern: string;
  handler: Handler;
  /** The body is not JSON (CSV uploads). */
  raw?: boolean;
}

/** sObject Collections take at most 200 records (REST API Developer Guide, "sObject Collections"). */
export const MAX_COLLECTION = 200;
export const DEFAULT_BATCH_SIZE = 2000;

/** Query cursors: the rendered records of a query, paged by `nextRecordsUrl` (`/query/01g...-2000`). */
export class QueryCursors {
  private readonly cursors = new Map<string, Record<string, unknown>[]>();
  private sequence = 1;

  open(records: Record<string, unknown>[]): string {
    const id = makeId('01g', this.sequence++);
    this.cursors.set(id, records);
    return id;
  }

  get(id: string): Record<string, unknown>[] | undefined {
    return this.cursors.get(id);
  }
}

const ok = (body: unknown, status = 200): KitResponse => ({ status, body });

function batchSize(headers: RouteContext['headers']): number {
  const header = headers['sforce-query-options'];
  const match = /batchSize\s*=\s*(\d+)/i.exec(typeof header === 'string' ? header : '');
  // Salesforce takes 200..2,000 and treats the size as a request, not a guarantee.
  return match ? Math.min(DEFAULT_BATCH_SIZE, Math.max(200, Number(match[1]))) : DEFAULT_BATCH_SIZE;
}

function page(ctx: RouteContext, cursor: string, records: Record<string, unknown>[], offset: number, size: number, kind: string): KitResponse {
  const end = Math.min(records.length, offset + size);
  const body: Record<string, unknown> = { totalSize: records.length, done: end >= records.length, records: records.slice(offset, end) };
  if (end < records.length) body.nextRecordsUrl = `/services/data/v${ctx.version}/${kind}/${cursor}-${end}`;
  return ok(body);
}

function runQuery(ctx: RouteContext, includeDeleted: boolean): KitResponse {
  const soql = ctx.query.get('q');
  if (soql === null || soql.trim() === '') throw httpError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
  const query = parseSoql(soql, ctx.store.schema);
  if (query.count) {
    const all = execute(ctx.store, { ...query, limit: query.limit, offset: query.offset }, { includeDeleted, now: ctx.now });
    return ok({ totalSize: all.length, done: true, records: [] });
  }
  const rows = execute(ctx.store, query, { includeDeleted, now: ctx.now }).map((record) => renderRow(ctx.store, record, query.fields, ctx.version));
  const cursor = ctx.cursors.open(rows);
  return page(ctx, cursor, rows, 0, batchSize(ctx.headers), includeDeleted ? 'queryAll' : 'query');
}

function queryMore(ctx: RouteContext, locator: string, kind: string): KitResponse {
  const match = /^(01g[a-zA-Z0-9]{15})-(\d+)$/.exec(locator);
  const rows = match ? ctx.cursors.get(match[1]!) : undefined;
  if (!match || !rows) throw httpError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
  return page(ctx, match[1]!, rows, Number(match[2]), batchSize(ctx.headers), kind);
}

function object(ctx: RouteContext, name: string) {
  const found = ctx.store.schema.object(name);
  if (!found) throw httpError(404, 'NOT_FOUND', 'The requested resource does not exist');
  return found;
}

function asData(body: unknown): Data {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw httpError(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of sObject from the request body: expected a JSON object');
  return body as Data;
}

function recordFields(ctx: RouteContext, record: SfRecord): KitResponse {
  const fields = ctx.query.get('fields');
  if (!fields) return ok(ctx.store.render(record, ctx.version));
  const definitions = fields.split(',').map((name) => {
    const definition = record.object.byName.get(name.trim().toLowerCase());
    if (!definition) throw httpError(400, 'INVALID_FIELD', `No such column '${name.trim()}' on sobject of type ${record.object.name}`);
    return definition;
  });
  return ok(ctx.store.render(record, ctx.version, definitions));
}

/** A write, with a RecordFailure answered as Salesforce's single-record error. */
function single<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof MultipleMatches) throw error;
    if (error instanceof RecordFailure) throw error.asHttp();
    throw error;
  }
}

function multipleChoices(ctx: RouteContext, matches: SfRecord[]): KitResponse {
  return { status: 300, body: matches.map((record) => `/services/data/v${ctx.version}/sobjects/${record.object.name}/${record.id}`) };
}

function allOrNone(ctx: RouteContext): boolean {
  const input = ctx.body as { allOrNone?: unknown } | undefined;
  return input?.allOrNone === true || ctx.query.get('allOrNone') === 'true';
}

interface ItemResult {
  id?: string | null;
  success: boolean;
  errors: RecordError[];
  created?: boolean;
}

const ROLLED_BACK: RecordError = { statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back because not all records were valid and the request was using AllOrNone header', fields: [] };

/**
 * Runs one write per item in request order. With allOrNone, the first failure undoes every write and every
 * other item answers ALL_OR_NONE_OPERATION_ROLLED_BACK. A partial-batch fault fails the drawn items with
 * UNABLE_TO_LOCK_ROW (a transient error a client retries) before they are written.
 */
function collection<T>(ctx: RouteContext, items: T[], write: (item: T) => ItemResult, idOf: (item: T) => string | undefined): ItemResult[] {
  if (items.length > MAX_COLLECTION) throw httpError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`);
  const fraction = ctx.faults?.partialBatchFraction;
  const locked = items.map(() => fraction !== undefined && ctx.injector !== undefined && ctx.injector.draw() < fraction);
  const results: ItemResult[] = [];
  const attempt = () =>
    items.forEach((item, index) => {
      const id = idOf(item);
      try {
        if (locked[index]) throw new RecordFailure('UNABLE_TO_LOCK_ROW', `unable to obtain exclusive access to this record or 1 records: ${id ?? ''}`.trim(), []);
        results.push(write(item));
      } catch (error) {
        if (!(error instanceof RecordFailure)) throw error;
        const failed: ItemResult = { success: false, errors: [error.asRecordError()] };
        results.push(id ? { id, ...failed } : failed);
        if (allOrNone(ctx)) throw new RolledBack(index);
      }
    });
  if (!allOrNone(ctx)) {
    attempt();
    return results;
  }
  try {
    ctx.store.transaction(attempt);
    return results;
  } catch (error) {
    if (!(error instanceof RolledBack)) throw error;
    return items.map((item, index) => {
      if (index === error.index) return results[index]!;
      const id = idOf(item);
      return id ? { id, success: false, errors: [ROLLED_BACK] } : { success: false, errors: [ROLLED_BACK] };
    });
  }
}

class RolledBack extends Error {
  constructor(readonly index: number) {
    super('rolled back');
  }
}

function collectionRecords(ctx: RouteContext): Data[] {
  const input = ctx.body as { records?: unknown } | undefined;
  if (!input || !Array.isArray(input.records)) throw httpError(400, 'JSON_PARSER_ERROR', 'The request body must be {"allOrNone": boolean, "records": [...]}');
  return input.records.map((record) => asData(record));
}

/** Field names are case-insensitive: jsforce sends `id` in collection updates. */
function idIn(record: Data): string | undefined {
  const key = Object.keys(record).find((name) => name.toLowerCase() === 'id');
  const value = key === undefined ? undefined : record[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function typeOf(record: Data): string {
  const type = (record.attributes as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string') throw new RecordFailure('INVALID_TYPE', 'Must send a concrete entity type.', []);
  return type;
}

function feedWindow(ctx: RouteContext, maxDays: number): [number, number] {
  const start = parseDateTime(ctx.query.get('start') ?? '');
  const end = parseDateTime(ctx.query.get('end') ?? '');
  if (start === undefined || end === undefined) throw httpError(400, 'MISSING_ARGUMENT', 'start and end are required ISO 8601 datetimes with a time zone');
  if (end <= start) throw httpError(400, 'INVALID_REPLICATION_DATE', 'EndDate must be after StartDate');
  if (start < ctx.now - maxDays * 86_400_000) throw httpError(400, 'INVALID_REPLICATION_DATE', `startDate cannot be more than ${maxDays} days ago`);
  // The feeds ignore the seconds of start and end (SOAP API getDeleted()/getUpdated(), which these resources follow).
  const toMinute = (ms: number) => Math.floor(ms / 60_000) * 60_000;
  return [toMinute(start), toMinute(Math.min(end, ctx.now))];
}

function minute(ms: number): string {
  return sfDateTime(Math.floor(ms / 60_000) * 60_000);
}

function csv(body: string, headers: Record<string, string> = {}): KitResponse {
  return { status: 200, body, headers: { 'Content-Type': 'text/csv', ...headers } };
}

const sobjectRoutes: Route[] = [
  { method: 'GET', pattern: '/sobjects', handler: (ctx) => ok({ encoding: 'UTF-8', maxBatchSize: MAX_COLLECTION, sobjects: [...ctx.store.schema.objects.values()].map((each) => objectSummary(each, ctx.version)) }) },
  {
    method: 'GET',
    pattern: '/limits',
    handler: (ctx) => {
      const api = ctx.limits();
      return ok({ DailyApiRequests: { Max: api.max, Remaining: api.remaining }, DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 }, DailyBulkV2QueryFileStorageMB: { Max: 976562, Remaining: 976562 }, DataStorageMB: { Max: 5, Remaining: 5 } });
    },
  },
  { method: 'GET', pattern: '/query', handler: (ctx) => runQuery(ctx, false) },
  { method: 'GET', pattern: '/query/:locator', handler: (ctx, locator) => queryMore(ctx, locator!, 'query') },
  { method: 'GET', pattern: '/queryAll', handler: (ctx) => runQuery(ctx, true) },
  { method: 'GET', pattern: '/queryAll/:locator', handler: (ctx, locator) => queryMore(ctx, locator!, 'queryAll') },
  {
    method: 'POST',
    pattern: '/composite/sobjects',
    handler: (ctx) => {
      const records = collectionRecords(ctx);
      return ok(collection(ctx, records, (record) => ({ id: ctx.store.create(typeOf(record), record, ctx.principal.userId).id, success: true, errors: [] }), () => undefined));
    },
  },
  {
    method: 'PATCH',
    pattern: '/composite/sobjects',
    handler: (ctx) => {
      const records = collectionRecords(ctx);
      return ok(
        collection(
          ctx,
          records,
          (record) => {
            const type = typeOf(record);
            const id = idIn(record);
            if (!id) throw new RecordFailure('MISSING_ARGUMENT', 'Id not specified in an update call', []);
            return { id: ctx.store.update(id, record, ctx.principal.userId, ctx.store.requireObject(type)).id, success: true, errors: [] };
          },
          idIn,
        ),
      );
    },
  },
  {
    method: 'DELETE',
    pattern: '/composite/sobjects',
    handler: (ctx) => {
      const ids = (ctx.query.get('ids') ?? '').split(',').filter((id) => id !== '');
      if (ids.length === 0) throw httpError(400, 'MISSING_ARGUMENT', 'ids parameter is required');
      return ok(collection(ctx, ids, (id) => ({ id: ctx.store.delete(id).id, success: true, errors: [] }), (id) => id));
    },
  },
  { method: 'GET', pattern: '/composite/sobjects/:object', handler: (ctx, name) => retrieveMany(ctx, name!, (ctx.query.get('ids') ?? '').split(','), ctx.query.get('fields')) },
  {
    method: 'POST',
    pattern: '/composite/sobjects/:object',
    handler: (ctx, name) => {
      const input = (ctx.body ?? {}) as { ids?: unknown; fields?: unknown };
      if (!Array.isArray(input.ids) || !Array.isArray(input.fields)) throw httpError(400, 'JSON_PARSER_ERROR', 'The request body must be {"ids": [...], "fields": [...]}');
      return retrieveMany(ctx, name!, input.ids.map(String), input.fields.map(String).join(','));
    },
  },
  {
    method: 'PATCH',
    pattern: '/composite/sobjects/:object/:field',
    handler: (ctx, name, fieldName) => {
      const target = object(ctx, name!);
      if (!ctx.store.externalIdField(target, fieldName!)) throw httpError(400, 'INVALID_FIELD', `Field name provided, ${fieldName} is not an External ID or indexed field for ${target.name}`);
      const records = collectionRecords(ctx);
      return ok(
        collection(
          ctx,
          records,
          (record) => {
            if (typeOf(record).toLowerCase() !== target.name.toLowerCase()) throw new RecordFailure('INVALID_TYPE', `The list can contain objects only of type ${target.name}`, []);
            const result = upsertOne(ctx.store, target.name, fieldName!, record, ctx.principal.userId);
            return { id: result.record.id, success: true, errors: [], created: result.created };
          },
          () => undefined,
        ),
      );
    },
  },
];

function retrieveMany(ctx: RouteContext, name: string, ids: string[], fields: string | null): KitResponse {
  const target = object(ctx, name);
  if (!fields) throw httpError(400, 'MISSING_ARGUMENT', 'fields parameter is required');
  if (ids.length > 2000) throw httpError(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 2000 records into this call');
  const definitions = fields.split(',').map((each) => {
    const definition = target.byName.get(each.trim().toLowerCase());
    if (!definition) throw httpError(400, 'INVALID_FIELD', `No such column '${each.trim()}' on sobject of type ${target.name}`);
    return definition;
  });
  return ok(
    ids.map((id) => {
      const record = ctx.store.find(id);
      return record && !record.row.deleted && record.object === target ? ctx.store.render(record, ctx.version, definitions) : null;
    }),
  );
}

const recordRoutes: Route[] = [
  { method: 'GET', pattern: '/sobjects/:object', handler: (ctx, name) => ok({ objectDescribe: objectSummary(object(ctx, name!), ctx.version), recentItems: [] }) },
  {
    method: 'POST',
    pattern: '/sobjects/:object',
    handler: (ctx, name) => {
      const target = object(ctx, name!);
      const record = single(() => ctx.store.create(target.name, asData(ctx.body), ctx.principal.userId));
      return ok({ id: record.id, success: true, errors: [] }, 201);
    },
  },
  { method: 'GET', pattern: '/sobjects/:object/describe', handler: (ctx, name) => ok(describeObject(ctx.store, object(ctx, name!), ctx.version)) },
  { method: 'GET', pattern: '/sobjects/:object/describe/layouts', handler: (ctx, name) => ok(describeLayouts(ctx.store, object(ctx, name!), ctx.version)) },
  {
    method: 'GET',
    pattern: '/sobjects/:object/describe/layouts/:recordTypeId',
    handler: (ctx, name, recordTypeId) => {
      const layout = describeLayoutOf(ctx.store, object(ctx, name!), recordTypeId!);
      if (!layout) throw httpError(404, 'NOT_FOUND', 'The requested resource does not exist');
      return ok(layout);
    },
  },
  {
    method: 'GET',
    pattern: '/sobjects/:object/deleted',
    handler: (ctx, name) => {
      const target = object(ctx, name!);
      const [start, end] = feedWindow(ctx, 15);
      const deletedRecords = ctx.store
        .records(target, true)
        .filter((record) => record.row.deleted && record.row.deleteTime! >= start && record.row.deleteTime! < end)
        .map((record) => ({ id: record.id, deletedDate: sfDateTime(Math.floor(record.row.deleteTime! / 1000) * 1000) }));
      return ok({ deletedRecords, earliestDateAvailable: minute(ctx.now - 15 * 86_400_000), latestDateCovered: minute(end) });
    },
  },
  {
    method: 'GET',
    pattern: '/sobjects/:object/updated',
    handler: (ctx, name) => {
      const target = object(ctx, name!);
      const [start, end] = feedWindow(ctx, 30);
      const ids = ctx.store
        .records(target)
        .filter((record) => record.row.updateTime >= start && record.row.updateTime < end)
        .map((record) => record.id);
      return ok({ ids, latestDateCovered: minute(end) });
    },
  },
  {
    method: 'GET',
    pattern: '/sobjects/:object/:id',
    handler: (ctx, name, id) => {
      const target = object(ctx, name!);
      const record = ctx.store.find(id!);
      if (!record || record.object !== target || record.row.deleted) {
        if (!record && !/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(id!)) throw httpError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${id}`);
        throw NOT_FOUND();
      }
      return recordFields(ctx, record);
    },
  },
  {
    method: 'PATCH',
    pattern: '/sobjects/:object/:id',
    handler: (ctx, name, id) => {
      const target = object(ctx, name!);
      single(() => ctx.store.update(id!, asData(ctx.body), ctx.principal.userId, target));
      return { status: 204 };
    },
  },
  {
    method: 'DELETE',
    pattern: '/sobjects/:object/:id',
    handler: (ctx, name, id) => {
      const target = object(ctx, name!);
      single(() => ctx.store.delete(id!, target));
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: '/sobjects/:object/:field/:value',
    handler: (ctx, name, fieldName, value) => {
      const target = object(ctx, name!);
      // `/sobjects/ContentNote/{id}/Content`: the body of a blob field.
      const owner = ctx.store.find(fieldName!);
      const blob = target.byName.get(value!.toLowerCase());
      if (owner && owner.object === target && !owner.row.deleted && blob?.type === 'base64') {
        const data = ctx.store.value(owner, blob.name);
        if (data === null) throw NOT_FOUND();
        return { status: 200, body: Buffer.from(String(data), 'base64').toString('utf8'), headers: { 'Content-Type': 'application/octetstream' } };
      }
      const definition = ctx.store.externalIdField(target, fieldName!);
      if (!definition) throw httpError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${fieldName}`);
      const matches = ctx.store.matchExternal(target, definition, value!);
      if (matches.length > 1) return multipleChoices(ctx, matches);
      if (matches.length === 0) throw NOT_FOUND();
      return recordFields(ctx, matches[0]!);
    },
  },
  {
    method: 'PATCH',
    pattern: '/sobjects/:object/:field/:value',
    handler: (ctx, name, fieldName, value) => {
      const target = object(ctx, name!);
      if (!ctx.store.externalIdField(target, fieldName!)) throw httpError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${fieldName}`);
      try {
        const result = single(() => upsertOne(ctx.store, target.name, fieldName!, asData(ctx.body), ctx.principal.userId, value));
        return ok({ id: result.record.id, success: true, errors: [], created: result.created }, result.created ? 201 : 200);
      } catch (error) {
        if (error instanceof MultipleMatches) return multipleChoices(ctx, error.matches);
        throw error;
      }
    },
  },
];

type Kind = 'ingest' | 'query';
const jobRoutes = (kind: Kind): Route[] => [
  { method: 'POST', pattern: `/jobs/${kind}`, handler: (ctx) => ok(kind === 'ingest' ? ctx.bulk.createIngest(ctx.body, ctx.principal.userId, ctx.version) : ctx.bulk.createQuery(ctx.body, ctx.principal.userId, ctx.version)) },
  { method: 'GET', pattern: `/jobs/${kind}`, handler: (ctx) => ok(ctx.bulk.list(kind)) },
  { method: 'GET', pattern: `/jobs/${kind}/:id`, handler: (ctx, id) => ok(ctx.bulk.poll(kind, id!)) },
  { method: 'PATCH', pattern: `/jobs/${kind}/:id`, handler: (ctx, id) => ok(ctx.bulk.setState(kind, id!, ctx.body)) },
  {
    method: 'DELETE',
    pattern: `/jobs/${kind}/:id`,
    handler: (ctx, id) => {
      ctx.bulk.delete(kind, id!);
      return { status: 204 };
    },
  },
];

const bulkRoutes: Route[] = [
  ...jobRoutes('ingest'),
  {
    method: 'PUT',
    pattern: '/jobs/ingest/:id/batches',
    raw: true,
    handler: (ctx, id) => {
      const type = String(ctx.headers['content-type'] ?? '');
      if (!type.toLowerCase().startsWith('text/csv')) throw httpError(400, 'INVALIDCONTENTTYPE', `Content-Type ${type || '(none)'} is not supported; upload job data as text/csv`);
      ctx.bulk.upload(id!, ctx.raw);
      return { status: 201 };
    },
  },
  { method: 'GET', pattern: '/jobs/ingest/:id/successfulResults', handler: (ctx, id) => csv(ctx.bulk.results('ingest', id!, 'successfulResults')) },
  { method: 'GET', pattern: '/jobs/ingest/:id/failedResults', handler: (ctx, id) => csv(ctx.bulk.results('ingest', id!, 'failedResults')) },
  { method: 'GET', pattern: '/jobs/ingest/:id/unprocessedrecords', handler: (ctx, id) => csv(ctx.bulk.results('ingest', id!, 'unprocessedrecords')) },
  ...jobRoutes('query'),
  {
    method: 'GET',
    pattern: '/jobs/query/:id/results',
    handler: (ctx, id) => {
      const max = ctx.query.get('maxRecords');
      const maxRecords = max === null ? undefined : Number(max);
      if (maxRecords !== undefined && (!Number.isInteger(maxRecords) || maxRecords < 1)) throw httpError(400, 'INVALIDPARAMETER', `maxRecords must be a positive integer, got ${max}`);
      const result = ctx.bulk.queryResults(id!, ctx.query.get('locator'), maxRecords);
      return csv(result.csv, { 'Sforce-Locator': result.locator, 'Sforce-NumberOfRecords': String(result.count) });
    },
  },
];

/** The Tooling API's CustomField create (tooling.ts). */
const toolingRoutes: Route[] = [{ method: 'POST', pattern: '/tooling/sobjects/CustomField', handler: (ctx) => createCustomField(ctx.store, ctx.body) }];

export const ROUTES: Route[] = [...sobjectRoutes, ...recordRoutes, ...bulkRoutes, ...toolingRoutes];

/** Dispatches a request under `/services/data/vNN.N` (`rest` is the path after the version). */
export function dispatch(ctx: RouteContext, rest: string): KitResponse {
  const found = findRoute(ROUTES, ctx.method, rest);
  if (found === 'not-found') throw NOT_FOUND();
  if (found === 'method-not-allowed') {
    const allowed = ROUTES.filter((route) => findRoute([route], route.method, rest) !== 'not-found').map((route) => route.method);
    throw new SalesforceHttpError(405, [{ message: `HTTP Method '${ctx.method}' not allowed. Allowed are ${allowed.join(',')}`, errorCode: 'METHOD_NOT_ALLOWED' }]);
  }
  return found.route.handler(ctx, ...found.params);
}

export function isRawRoute(method: string, rest: string): boolean {
  const found = findRoute(ROUTES, method, rest);
  return typeof found === 'object' && found.route.raw === true;
}
