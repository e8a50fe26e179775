import { SalesforceHttpError, RecordFailure, httpError } from './errors.js';
import { makeId } from './ids.js';
import { execute, fieldValue, parseSoql, type Query } from './soql.js';
import type { Data, SalesforceStore, SfRecord } from './store.js';
import { sfDateTime } from './values.js';

/**
 * Bulk API 2.0 (https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/), ingest and
 * query jobs with CSV in and out. Job states move deterministically: each GET of a job's info after
 * UploadComplete moves it one step, UploadComplete -> InProgress -> JobComplete, and the records are processed
 * (ingest) or selected (query) at the step to JobComplete. `stepsPerPoll` 0 keeps jobs where they are until a
 * test calls `advance`.
 */
const DELIMITERS: Record<string, string> = { COMMA: ',', PIPE: '|', SEMICOLON: ';', TAB: '\t', CARET: '^', BACKQUOTE: '`' };
const OPERATIONS = ['insert', 'update', 'upsert', 'delete', 'hardDelete'];

export function parseCsv(text: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let index = 0;
  let any = false;
  while (index < text.length) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        cell += '"';
        index += 2;
        continue;
      }
      if (char === '"') quoted = false;
      else cell += char;
      index++;
      continue;
    }
    if (char === '"' && cell === '') {
      quoted = true;
      any = true;
    } else if (char === delimiter) {
      row.push(cell);
      cell = '';
      any = true;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[index + 1] === '\n') index++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      any = false;
    } else {
      cell += char;
      any = true;
    }
    index++;
  }
  if (quoted) throw httpError(400, 'ClientInputError', 'Unterminated quoted field in the CSV data');
  if (any || cell !== '') {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

export function csvCell(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

export function toCsv(rows: string[][], delimiter = ',', lineEnding = '\n'): string {
  return rows.map((row) => row.map(csvCell).join(delimiter)).join(lineEnding) + (rows.length > 0 ? lineEnding : '');
}

type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

interface IngestRow {
  header: string[];
  values: string[];
}

interface JobBase {
  id: string;
  object: string;
  state: JobState;
  createdById: string;
  createdDate: number;
  systemModstamp: number;
  apiVersion: string;
  lineEnding: 'LF' | 'CRLF';
  columnDelimiter: string;
  processed: number;
}

interface IngestJob extends JobBase {
  kind: 'ingest';
  operation: string;
  externalIdFieldName?: string;
  rows: IngestRow[];
  successful: string[][];
  failed: string[][];
  unprocessed: IngestRow[];
  failures: number;
}

interface QueryJob extends JobBase {
  kind: 'query';
  operation: 'query' | 'queryAll';
  query: string;
  parsed: Query;
  results?: string[][];
}

export class BulkJobs {
  private readonly jobs = new Map<string, IngestJob | QueryJob>();
  private sequence = 1;

  constructor(
    private readonly store: SalesforceStore,
    private readonly clock: () => number,
    private readonly stepsPerPoll = 1,
  ) {}

  private common(body: Record<string, unknown>) {
    const lineEnding = (body.lineEnding as string | undefined) ?? 'LF';
    const columnDelimiter = (body.columnDelimiter as string | undefined) ?? 'COMMA';
    if (lineEnding !== 'LF' && lineEnding !== 'CRLF') throw httpError(400, 'INVALIDJOB', `InvalidJob : Invalid lineEnding: ${lineEnding}`);
    if (!(columnDelimiter in DELIMITERS)) throw httpError(400, 'INVALIDJOB', `InvalidJob : Invalid columnDelimiter: ${columnDelimiter}`);
    if (body.contentType !== undefined && body.contentType !== 'CSV') throw httpError(400, 'INVALIDJOB', `InvalidJob : Invalid contentType: ${String(body.contentType)}`);
    return { lineEnding: lineEnding as 'LF' | 'CRLF', columnDelimiter };
  }

  createIngest(body: unknown, userId: string, version: string): Record<string, unknown> {
    const input = (body ?? {}) as Record<string, unknown>;
    const operation = String(input.operation ?? '');
    if (!OPERATIONS.includes(operation)) throw httpError(400, 'INVALIDJOB', `InvalidJob : Invalid operation: ${operation}`);
    let object;
    try {
      object = this.store.requireObject(String(input.object ?? ''));
    } catch {
      throw httpError(400, 'INVALIDJOB', `InvalidJob : Unable to find object: ${String(input.object ?? '')}`);
    }
    const externalIdFieldName = input.externalIdFieldName === undefined ? undefined : String(input.externalIdFieldName);
    if (operation === 'upsert' && (!externalIdFieldName || !this.store.externalIdField(object, externalIdFieldName))) throw httpError(400, 'INVALIDJOB', `InvalidJob : External ID was blank or not an External ID field for ${object.name}: ${externalIdFieldName ?? ''}`);
    const now = this.clock();
    const job: IngestJob = { kind: 'ingest', id: makeId('750', this.sequence++), object: object.name, operation, externalIdFieldName, state: 'Open', createdById: userId, createdDate: now, systemModstamp: now, apiVersion: version, ...this.common(input), rows: [], successful: [], failed: [], unprocessed: [], processed: 0, failures: 0 };
    this.jobs.set(job.id, job);
    return this.info(job);
  }

  createQuery(body: unknown, userId: string, version: string): Record<string, unknown> {
    const input = (body ?? {}) as Record<string, unknown>;
    const operation = input.operation ?? 'query';
    if (operation !== 'query' && operation !== 'queryAll') throw httpError(400, 'INVALIDJOB', `InvalidJob : Invalid operation: ${String(operation)}`);
    const text = String(input.query ?? '');
    const parsed = parseSoql(text, this.store.schema);
    if (parsed.count) throw httpError(400, 'INVALIDJOB', 'InvalidJob : COUNT() is not supported by Bulk API 2.0 query jobs');
    const now = this.clock();
    const job: QueryJob = { kind: 'query', id: makeId('750', this.sequence++), object: parsed.object.name, operation, query: text, parsed, state: 'UploadComplete', createdById: userId, createdDate: now, systemModstamp: now, apiVersion: version, ...this.common(input), processed: 0 };
    this.jobs.set(job.id, job);
    return this.info(job);
  }

  job(kind: 'ingest' | 'query', id: string): IngestJob | QueryJob {
    const job = this.jobs.get(id) ?? [...this.jobs.values()].find((each) => each.id.slice(0, 15) === id);
    if (!job || job.kind !== kind) throw httpError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return job;
  }

  list(kind: 'ingest' | 'query'): Record<string, unknown> {
    return { done: true, records: [...this.jobs.values()].filter((job) => job.kind === kind).map((job) => this.info(job)), nextRecordsUrl: null };
  }

  upload(id: string, csv: string): void {
    const job = this.job('ingest', id) as IngestJob;
    if (job.state !== 'Open') throw httpError(409, 'INVALIDJOBSTATE', `Job's state ${job.state} does not allow uploading data`);
    const rows = parseCsv(csv, DELIMITERS[job.columnDelimiter]);
    const [header, ...values] = rows;
    if (!header || header.every((cell) => cell === '')) throw httpError(400, 'ClientInputError', 'No content to process');
    for (const each of values) {
      if (each.length === 1 && each[0] === '') continue;
      if (each.length !== header.length) throw httpError(400, 'ClientInputError', `Incorrect number of columns in a row: ${each.length}, expected ${header.length}`);
      job.rows.push({ header, values: each });
    }
    job.systemModstamp = this.clock();
  }

  setState(kind: 'ingest' | 'query', id: string, body: unknown): Record<string, unknown> {
    const job = this.job(kind, id);
    const state = (body as { state?: unknown } | undefined)?.state;
    if (state === 'UploadComplete' && job.kind === 'ingest' && job.state === 'Open') job.state = 'UploadComplete';
    else if (state === 'Aborted' && job.state !== 'JobComplete' && job.state !== 'Failed' && job.state !== 'Aborted') {
      job.state = 'Aborted';
      if (job.kind === 'ingest') job.unprocessed = [...job.rows];
    } else throw httpError(400, 'INVALIDSTATUS', `Invalid state transition from ${job.state} to ${String(state)}`);
    job.systemModstamp = this.clock();
    return this.info(job);
  }

  delete(kind: 'ingest' | 'query', id: string): void {
    const job = this.job(kind, id);
    if (job.state === 'Open' || job.state === 'InProgress') throw httpError(400, 'INVALIDSTATUS', `Job in state ${job.state} can't be deleted`);
    this.jobs.delete(job.id);
  }

  /** One poll: the job info, after moving the job `stepsPerPoll` states on. */
  poll(kind: 'ingest' | 'query', id: string): Record<string, unknown> {
    const job = this.job(kind, id);
    for (let step = 0; step < this.stepsPerPoll; step++) this.step(job);
    return this.info(job);
  }

  /** Moves every unfinished job to JobComplete (tests that hold jobs with `stepsPerPoll: 0`). */
  advance(): void {
    for (const job of this.jobs.values()) while (job.state === 'UploadComplete' || job.state === 'InProgress') this.step(job);
  }

  private step(job: IngestJob | QueryJob): void {
    if (job.state === 'UploadComplete') job.state = 'InProgress';
    else if (job.state === 'InProgress') {
      if (job.kind === 'ingest') this.process(job);
      else this.select(job);
      job.state = 'JobComplete';
    } else return;
    job.systemModstamp = this.clock();
  }

  private process(job: IngestJob): void {
    const object = this.store.requireObject(job.object);
    for (const row of job.rows) {
      const data: Data = {};
      row.header.forEach((column, index) => {
        const value = row.values[index] ?? '';
        // An empty cell leaves the field alone; #N/A sets it to null (Bulk API 2.0, "Prepare CSV Files").
        if (value === '') return;
        data[column] = value === '#N/A' ? null : value;
      });
      const id = typeof data.Id === 'string' ? data.Id : '';
      try {
        let result: { record: SfRecord; created: boolean };
        if (job.operation === 'insert') result = { record: this.store.create(object.name, data, job.createdById), created: true };
        else if (job.operation === 'update') {
          if (!id) throw new RecordFailure('MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
          result = { record: this.store.update(id, data, job.createdById, object), created: false };
        } else if (job.operation === 'upsert') result = upsertOne(this.store, object.name, job.externalIdFieldName!, data, job.createdById);
        else {
          if (!id) throw new RecordFailure('MISSING_ARGUMENT', 'Id not specified in a delete call', ['Id']);
          const record = this.store.delete(id, object);
          if (job.operation === 'hardDelete') this.store.table(object).purge(record.row.id);
          result = { record, created: false };
        }
        job.successful.push([result.record.id, String(result.created), ...row.values]);
      } catch (error) {
        if (!(error instanceof RecordFailure)) throw error;
        job.failures++;
        job.failed.push([id, `${error.statusCode}:${error.message}:${error.fields.join(',')} --`, ...row.values]);
      }
      job.processed++;
    }
  }

  private select(job: QueryJob): void {
    const records = execute(this.store, job.parsed, { includeDeleted: job.operation === 'queryAll', now: this.clock() });
    const header = job.parsed.fields.map((field) => [...field.refs.map((ref) => ref.relationshipName), field.leafName].join('.'));
    const body = records.map((record) =>
      job.parsed.fields.map((field) => {
        const value = fieldValue(this.store, record, field);
        if (value === null || value === undefined) return '';
        // Bulk CSV writes datetimes with Z (the REST JSON answers use +0000).
        return field.leaf.type === 'datetime' ? sfDateTime(value as number).replace('+0000', 'Z') : String(value);
      }),
    );
    job.results = [header, ...body];
    job.processed = records.length;
  }

  results(kind: 'ingest', id: string, which: 'successfulResults' | 'failedResults' | 'unprocessedrecords'): string {
    const job = this.job(kind, id) as IngestJob;
    const header = job.rows[0]?.header ?? [];
    const delimiter = DELIMITERS[job.columnDelimiter];
    const ending = job.lineEnding === 'CRLF' ? '\r\n' : '\n';
    if (which === 'successfulResults') return toCsv([['sf__Id', 'sf__Created', ...header], ...job.successful], delimiter, ending);
    if (which === 'failedResults') return toCsv([['sf__Id', 'sf__Error', ...header], ...job.failed], delimiter, ending);
    return toCsv([header, ...job.unprocessed.map((row) => row.values)], delimiter, ending);
  }

  /** A page of a query job's results: the CSV, the next locator (`null` on the last page) and the row count. */
  queryResults(id: string, locator: string | null, maxRecords: number | undefined): { csv: string; locator: string; count: number } {
    const job = this.job('query', id) as QueryJob;
    if (job.state !== 'JobComplete' || !job.results) throw httpError(400, 'INVALIDJOBSTATE', `Job is in state ${job.state}; results are available once it is JobComplete`);
    const start = locator ? Number(Buffer.from(locator, 'base64').toString('utf8')) : 0;
    if (!Number.isInteger(start) || start < 0) throw httpError(400, 'INVALID_LOCATOR', `Invalid locator: ${locator}`);
    const [header, ...rows] = job.results;
    const end = maxRecords === undefined ? rows.length : Math.min(rows.length, start + maxRecords);
    const page = rows.slice(start, end);
    const next = end < rows.length ? Buffer.from(String(end)).toString('base64').replace(/=+$/, '') : 'null';
    return { csv: toCsv([header!, ...page], DELIMITERS[job.columnDelimiter], job.lineEnding === 'CRLF' ? '\r\n' : '\n'), locator: next, count: page.length };
  }

  info(job: IngestJob | QueryJob): Record<string, unknown> {
    const base: Record<string, unknown> = {
      id: job.id,
      operation: job.operation,
      object: job.object,
      createdById: job.createdById,
      createdDate: sfDateTime(job.createdDate),
      systemModstamp: sfDateTime(job.systemModstamp),
      state: job.state,
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: Number(job.apiVersion),
      jobType: job.kind === 'ingest' ? 'V2Ingest' : 'V2Query',
      lineEnding: job.lineEnding,
      columnDelimiter: job.columnDelimiter,
      numberRecordsProcessed: job.processed,
      retries: 0,
      totalProcessingTime: 0,
    };
    if (job.kind === 'ingest') {
      if (job.externalIdFieldName) base.externalIdFieldName = job.externalIdFieldName;
      if (job.state === 'Open') base.contentUrl = `services/data/v${job.apiVersion}/jobs/ingest/${job.id}/batches`;
      base.numberRecordsFailed = job.failures;
      base.apiActiveProcessingTime = 0;
      base.apexProcessingTime = 0;
    } else base.query = job.query;
    return base;
  }
}

/** Upsert of one record on an external-id field: create (201), update (200) or several matches (300). */
export function upsertOne(store: SalesforceStore, objectName: string, fieldName: string, data: Data, userId: string, valueFromUrl?: string): { record: SfRecord; created: boolean } {
  const object = store.requireObject(objectName);
  const definition = store.externalIdField(object, fieldName);
  if (!definition) throw new RecordFailure('INVALID_FIELD', `Field name provided, ${fieldName} is not an External ID or indexed field for ${object.name}`, [fieldName]);
  const key = Object.keys(data).find((name) => name.toLowerCase() === definition.name.toLowerCase());
  const value = valueFromUrl ?? (key ? data[key] : undefined);
  if (value === undefined || value === null || value === '') throw new RecordFailure('MISSING_ARGUMENT', `${definition.name} not specified`, [definition.name]);
  const matches = definition.name === 'Id' ? [store.find(String(value))].filter((each): each is SfRecord => each !== undefined && !each.row.deleted) : store.matchExternal(object, definition, value);
  if (matches.length > 1) throw new MultipleMatches(definition.name, matches);
  const rest = { ...data };
  if (key) delete rest[key];
  if (matches.length === 1) return { record: store.update(matches[0]!.id, rest, userId, object), created: false };
  if (definition.name === 'Id') throw new RecordFailure('NOT_FOUND', 'Provided external ID field does not exist or is not accessible: Id', ['Id']);
  return { record: store.create(object.name, { ...rest, [definition.name]: value }, userId), created: true };
}

/** Several records carry the external id: HTTP 300 for a single upsert, DUPLICATE_EXTERNAL_ID in a collection. */
export class MultipleMatches extends RecordFailure {
  constructor(
    field: string,
    readonly matches: SfRecord[],
  ) {
    super('DUPLICATE_EXTERNAL_ID', `${field}: more than one record found for external id field: [${matches.map((each) => each.id).join(', ')}]`, []);
  }
}

export { SalesforceHttpError };
