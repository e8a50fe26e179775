import { randomBytes } from 'node:crypto';
import type { Capabilities, Connector, CreateInput, CrmRecord, ReadOptions, ReadPage, RecordError, UpdateInput, WriteResult } from '../../core/connector.js';
import { forEachConcurrently } from '../../core/concurrency.js';
import { FerryError, isFerryError } from '../../core/errors.js';
import { isHttpError, type HttpResponse } from '../../core/http.js';
import type { FieldValue, SchemaDescription } from '../../core/schema.js';
import { nowIso, parseInstant } from '../../core/time.js';
import { decodeCursor, encodeCursor, failure, isWindowCursor, type ApiClient, type BudgetUsage, readWindow, windowStart, type WindowCursor, type WindowSource } from '../kit/index.js';
import { HubspotAssociations } from './associations.js';
import { parseHubspotConnectionConfig, type HubspotConnectionConfig, type HubspotConnectorOptions, type HubspotSettings } from './config.js';
import { HubspotFiles } from './files.js';
import { HubspotModel, type AssociationField, type ObjectModel } from './model.js';
import { HubspotPropertyManager } from './properties.js';
import { createHubspotClient, type HubspotBatchResponse, type HubspotError, type HubspotObject, type HubspotPage, type HubspotTransportOptions } from './transport.js';
import { fromHubspotValue, toHubspotValue } from './values.js';
import { toRecordError } from './write-errors.js';

/** Batch endpoints take at most 100 inputs. https://developers.hubspot.com/docs/api/crm/understanding-the-crm */
const BATCH = 100;
/** List endpoints return at most 100 per page; search at most 200 (one is kept for look-ahead). */
const MAX_PAGE = 100;
const DEFAULT_PAGE = 100;
/**
 * New and changed records reach the search index a few seconds after the write, so deltas look back a
 * little further than the last high-water mark.
 */
const LOOKBACK_MS = 10_000;
/** Above this the properties list goes into a POST batch/read instead of the list URL (414 otherwise). */
const MAX_QUERY_PROPERTIES_CHARS = 6000;

/**
 * Read cursor (opaque to the engine, base64url JSON, src/connectors/kit/cursor.ts):
 * - `{ p: 'l', a }`: full read through the list endpoint, `a` = HubSpot's `after`;
 * - a kit `WindowCursor` (src/connectors/kit/window.ts), for delta reads: `{ p: 'r', t, x }` records modified at
 *   or after (`x`: strictly after) epoch ms `t`; `{ p: 't', t, i }` inside a run of records sharing modified time
 *   `t`, after id `i`. These are the shapes HubSpot's own delta read wrote before it moved onto the kit, so
 *   cursors stored in ledgers stay readable.
 */
type Cursor = { p: 'l'; a: string } | WindowCursor;

function isCursor(value: unknown): value is Cursor {
  if (isWindowCursor(value)) return true;
  const cursor = value as { p?: unknown; a?: unknown } | null;
  return typeof cursor === 'object' && cursor !== null && cursor.p === 'l' && typeof cursor.a === 'string';
}

function decodeReadCursor(text: string): Cursor {
  return decodeCursor(text, 'HubSpot', isCursor);
}

/**
 * Batch writes of one call in flight at once. One at a time leaves the rate limit unused while each request
 * travels and HubSpot works (about 70% of the allowed requests/s against the emulator); the shared pacer
 * still keeps every request inside the burst window. Results are attributed per batch, never by timing.
 */
const WRITE_CONCURRENCY = 3;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}

/**
 * A unique-value conflict: HTTP 409 or category CONFLICT. Live HubSpot answers a duplicate unique value with
 * `{status, message: "... Existing ID: N", correlationId, category: "CONFLICT"}` and no `context`
 * (HubSpot/hubspot-api-nodejs#545, hubspot-api-python#51), and the wording for a custom unique property is
 * undocumented: nothing here reads the message or the context.
 */
function isConflict(error: HubspotError, status: number): boolean {
  return status === 409 || String(error.category ?? '').toUpperCase() === 'CONFLICT';
}

/** A per-input error whose cause is on HubSpot's side (it may have been written by an earlier attempt). */
function isTransientError(error: HubspotError): boolean {
  const category = String(error.category ?? '').toUpperCase();
  return category === 'INTERNAL_ERROR' || category === 'SERVICE_UNAVAILABLE';
}

interface PreparedWrite {
  index: number;
  properties: Record<string, string>;
  associations: { field: AssociationField; value: FieldValue }[];
  fields: Record<string, FieldValue>;
  /** The external id stamped by this create (CreateInput.externalId), not a field the mapping writes. */
  externalId?: string;
  /**
   * Associations sent inside batch/create (one request instead of one more per association type and page),
   * and the association fields they cover; writeAssociations skips those fields. Dropped (undefined) when
   * the create is sent again without them or when it is not known whether HubSpot applied them.
   */
  inline?: { to: { id: string }; types: { associationCategory: string; associationTypeId: number }[] }[];
  inlinedFields?: Set<string>;
}

/** An error about an inline association (the associated record does not exist, a bad type id). */
function isAssociationError(error: unknown): boolean {
  return /associat/i.test(JSON.stringify(error ?? ''));
}

interface Owner {
  id: string;
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  userId?: number | string | null;
  archived?: boolean;
  updatedAt?: string;
}

/** Up to this many owners, readByIds asks for each; beyond, it lists them. */
const OWNERS_ONE_BY_ONE = 3;

export class HubspotConnector implements Connector {
  readonly kind = 'hubspot';
  /** HubSpot's connection on the connector kit (transport.ts). */
  readonly client: ApiClient;
  private readonly model: HubspotModel;
  private readonly associations: HubspotAssociations;
  private readonly propertyManager: HubspotPropertyManager;
  /** Files API and hs_attachment_ids (docs/attachments.md). */
  readonly files: HubspotFiles;
  /** Unique per connector instance, so objectWriteTraceIds never repeat across runs. */
  private readonly tracePrefix = `ferry-${randomBytes(4).toString('hex')}`;
  private traceCounter = 0;

  constructor(
    private readonly settings: HubspotSettings,
    options: HubspotTransportOptions = {},
  ) {
    this.client = createHubspotClient(settings, options);
    this.model = new HubspotModel(this.client, settings);
    this.associations = new HubspotAssociations(this.client);
    this.propertyManager = new HubspotPropertyManager(this.client, settings.externalIdProperty);
    this.files = new HubspotFiles(this.client, settings);
  }

  capabilities(): Capabilities {
    return {
      modifiedSince: true,
      // Delta reads come in (modified, id) order; full reads use the list endpoint, which pages by id.
      orderedByModified: false,
      writable: !this.settings.readOnly,
      externalId: true,
      createFields: true,
      createsMissingOnWrite: this.settings.createMissingProperties === true,
      maxPageSize: MAX_PAGE,
      batchSize: { read: BATCH, create: BATCH, update: BATCH, delete: BATCH },
      lookbackMs: LOOKBACK_MS,
      requestsPerSecond: this.settings.burstLimit / 10,
      // A batch of up to 100 records per request (delete: the existence read and the archive). A floor: a
      // batch that is not full, association requests and conflict look-ups cost more.
      writeCost: { unit: 'requests', create: 1 / BATCH, update: 1 / BATCH, delete: 2 / BATCH },
    };
  }

  /** Requests this connection spent, and the account's daily limit and what is left of it (when HubSpot says). */
  usage(): BudgetUsage {
    return this.client.budget!.usage();
  }

  async check(): Promise<void> {
    try {
      await this.client.get('/crm/v3/objects/contacts', { query: { limit: 1, archived: false } });
    } catch (error) {
      // A connection the HTTP client could not make already says which setting to check.
      if (isFerryError(error) && error.code === 'CONNECTION_FAILED' && error.message.includes('cannot reach')) throw error;
      if (isFerryError(error) && (error.code === 'TRANSIENT' || error.code === 'CONNECTION_FAILED')) {
        throw new FerryError('CONNECTION_FAILED', `Cannot reach HubSpot at ${this.settings.baseUrl}: ${error.message}`, { baseUrl: this.settings.baseUrl }, { cause: error });
      }
      throw error;
    }
  }

  async describe(): Promise<SchemaDescription> {
    const objects = [];
    for (const name of await this.model.objectNames()) {
      objects.push((await this.model.object(name, true)).schema);
    }
    return { objects };
  }

  async now(): Promise<string> {
    await this.client.get('/crm/v3/objects/contacts', { query: { limit: 1 }, accept: [403, 404] });
    const server = this.client.serverNow();
    return server === undefined ? nowIso() : new Date(server).toISOString();
  }

  async close(): Promise<void> {
    // fetch keeps no connection state that needs closing
  }

  // ------------------------------------------------------------------------------------------ reading

  private selection(object: ObjectModel, fields: string[] | undefined): { properties: string[]; associations: AssociationField[] } {
    if (!fields) return { properties: [...object.properties.keys()], associations: [...object.associations.values()] };
    const properties = new Set<string>(['hs_object_id']);
    if (object.modifiedProperty) properties.add(object.modifiedProperty);
    const associations: AssociationField[] = [];
    for (const name of fields) {
      const association = object.associations.get(name);
      if (association) associations.push(association);
      else if (object.properties.has(name)) properties.add(name);
      else throw new FerryError('UNKNOWN_FIELD', `HubSpot ${object.name} has no property "${name}"`, { object: object.name, field: name });
    }
    return { properties: [...properties], associations };
  }

  async read(objectName: string, options: ReadOptions = {}): Promise<ReadPage> {
    const object = await this.model.object(objectName);
    if (object.owners) return this.readOwners(options);
    const limit = Math.max(1, Math.min(Math.floor(options.limit ?? DEFAULT_PAGE), MAX_PAGE));
    const selection = this.selection(object, options.fields);
    const cursor = options.after ? decodeReadCursor(options.after) : undefined;
    if (cursor?.p === 'l' || (!cursor && !options.modifiedSince) || !object.modifiedProperty) {
      return this.readList(object, selection, limit, cursor?.p === 'l' ? cursor.a : undefined);
    }
    let start: WindowCursor;
    if (cursor) start = cursor;
    else {
      const since = parseInstant(options.modifiedSince);
      if (!since) throw new FerryError('USAGE', `modifiedSince ${JSON.stringify(options.modifiedSince)} is not an ISO date-time`);
      start = windowStart(Date.parse(since));
    }
    return this.readDelta(object, selection, limit, start);
  }

  /** Full read: GET /crm/v3/objects/{type}?limit&after&properties (pages in id order). */
  private async readList(object: ObjectModel, selection: { properties: string[]; associations: AssociationField[] }, limit: number, after: string | undefined): Promise<ReadPage> {
    const inline = selection.properties.join(',').length <= MAX_QUERY_PROPERTIES_CHARS;
    const response = await this.client.get<HubspotPage<HubspotObject>>(`/crm/v3/objects/${object.type}`, {
      query: { limit, after, archived: false, properties: inline ? selection.properties : ['hs_object_id'] },
    });
    let rows = response.body.results ?? [];
    if (!inline && rows.length > 0) rows = await this.batchRead(object, rows.map((row) => row.id), selection.properties);
    const records = await this.toRecords(object, rows, selection);
    const next = response.body.paging?.next?.after;
    return next ? { records, next: encodeCursor({ p: 'l', a: next }) } : { records };
  }

  /**
   * Delta read through the search endpoint on the kit's window (readWindow, unitMs 1): every page is a NEW
   * search whose lower bound is the last modified time read, so no query ever pages past HubSpot's
   * 10,000-results cap, and a record modified during the read moves behind the bound and is read again. A run
   * of records sharing one modified time that fills a whole page is read by hs_object_id ranges (modified EQ t
   * AND hs_object_id GT last id), so even more than 10,000 records in one millisecond are read once each.
   * https://developers.hubspot.com/docs/api/crm/search (limit <= 200, 10,000 results per query)
   */
  private async readDelta(object: ObjectModel, selection: { properties: string[]; associations: AssociationField[] }, limit: number, cursor: WindowCursor): Promise<ReadPage> {
    const modified = object.modifiedProperty!;
    const properties = [...new Set([...selection.properties, modified, 'hs_object_id'])];
    const source: WindowSource<HubspotObject> = {
      time: (row) => this.modifiedMillis(object, row),
      range: (since, exclusive, max) => this.search(object, properties, max, [{ propertyName: modified, operator: exclusive ? 'GT' : 'GTE', value: String(since) }], modified),
      tie: async (at, after, max) => {
        const filters = [{ propertyName: modified, operator: 'EQ', value: String(at) }];
        if (after !== undefined) filters.push({ propertyName: 'hs_object_id', operator: 'GT', value: after });
        const rows = await this.search(object, properties, max + 1, filters, 'hs_object_id');
        return rows.length > max ? { rows: rows.slice(0, max), after: rows[max - 1]!.id } : { rows };
      },
    };
    const page = await readWindow(source, cursor, limit);
    const records = await this.toRecords(object, page.rows, selection);
    return page.next ? { records, next: encodeCursor(page.next) } : { records };
  }

  private async search(object: ObjectModel, properties: string[], limit: number, filters: { propertyName: string; operator: string; value: string }[], sortBy: string): Promise<HubspotObject[]> {
    const response = await this.client.post<HubspotPage<HubspotObject>>(`/crm/v3/objects/${object.type}/search`, {
      filterGroups: [{ filters }],
      sorts: [{ propertyName: sortBy, direction: 'ASCENDING' }],
      properties,
      limit,
    });
    return response.body.results ?? [];
  }

  private modifiedMillis(object: ObjectModel, row: HubspotObject): number {
    const raw = (object.modifiedProperty ? row.properties?.[object.modifiedProperty] : undefined) ?? row.updatedAt;
    const instant = parseInstant(raw ?? undefined);
    return instant ? Date.parse(instant) : 0;
  }

  private async readOwners(options: ReadOptions): Promise<ReadPage> {
    const cursor = options.after ? decodeReadCursor(options.after) : undefined;
    const limit = Math.max(1, Math.min(Math.floor(options.limit ?? DEFAULT_PAGE), MAX_PAGE));
    // https://developers.hubspot.com/docs/api/crm/owners
    const response = await this.client.get<HubspotPage<Owner>>('/crm/v3/owners', { query: { limit, after: cursor?.p === 'l' ? cursor.a : undefined, archived: false } });
    const records = (response.body.results ?? []).map((owner) => this.ownerRecord(owner));
    const next = response.body.paging?.next?.after;
    return next ? { records, next: encodeCursor({ p: 'l', a: next }) } : { records };
  }

  private ownerRecord(owner: Owner): CrmRecord {
    const updatedAt = parseInstant(owner.updatedAt ?? undefined) ?? null;
    return {
      id: String(owner.id),
      updatedAt,
      fields: {
        email: owner.email ?? null,
        firstName: owner.firstName ?? null,
        lastName: owner.lastName ?? null,
        userId: owner.userId === null || owner.userId === undefined ? null : String(owner.userId),
        archived: owner.archived ?? false,
        updatedAt,
      },
    };
  }

  async readByIds(objectName: string, ids: string[], fields?: string[]): Promise<CrmRecord[]> {
    const object = await this.model.object(objectName);
    const unique = [...new Set(ids)];
    if (object.owners) {
      const found: CrmRecord[] = [];
      // Owners have no batch read: a few are fetched one by one, more by listing the owners (100 a page)
      // until all were seen, so a run's matched owners cost a request per 100 owners, not one each.
      if (unique.length <= OWNERS_ONE_BY_ONE) {
        for (const id of unique) {
          const response = await this.client.get<Owner>(`/crm/v3/owners/${encodeURIComponent(id)}`, { accept: [400, 404] });
          if (response.status === 200) found.push(this.ownerRecord(response.body));
        }
        return found;
      }
      const wanted = new Set(unique);
      const byId = new Map<string, CrmRecord>();
      let after: string | undefined;
      do {
        const page = await this.readOwners({ limit: DEFAULT_PAGE, after });
        for (const record of page.records) if (wanted.has(record.id)) byId.set(record.id, record);
        after = page.next;
      } while (after && byId.size < wanted.size);
      return unique.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
    }
    const selection = this.selection(object, fields);
    const rows = await this.batchRead(object, unique, selection.properties);
    const records = await this.toRecords(object, rows, selection);
    const byId = new Map(records.map((record) => [record.id, record]));
    return unique.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
  }

  /** POST batch/read; ids that do not exist come back as errors in a 207 and are left out. */
  private async batchRead(object: ObjectModel, ids: string[], properties: string[], idProperty?: string): Promise<HubspotObject[]> {
    const rows: HubspotObject[] = [];
    for (const chunk of chunks(ids, BATCH)) {
      // BatchReadInputSimplePublicObjectId: `properties`, `propertiesWithHistory` and `inputs` are required,
      // `idProperty` names a unique property the ids are values of
      // (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/objects/batch/get-objects).
      const body: Record<string, unknown> = { properties, propertiesWithHistory: [], inputs: chunk.map((id) => ({ id })) };
      if (idProperty) body.idProperty = idProperty;
      const response = await this.client.post<HubspotBatchResponse>(`/crm/v3/objects/${object.type}/batch/read`, body, { accept: [207, 400, 404] });
      if (response.status === 400 && !(response.body?.results?.length ?? 0)) {
        // A 400 for a batch of ids that cannot exist (e.g. not numeric): nothing found.
        continue;
      }
      rows.push(...(response.body?.results ?? []).filter((row) => !row.archived));
    }
    return rows;
  }

  private async toRecords(object: ObjectModel, rows: HubspotObject[], selection: { properties: string[]; associations: AssociationField[] }): Promise<CrmRecord[]> {
    const records = rows.map((row): CrmRecord => {
      const fields: Record<string, FieldValue> = {};
      for (const name of selection.properties) {
        const field = object.properties.get(name);
        if (field) fields[name] = fromHubspotValue(field.type, row.properties?.[name]);
      }
      const millis = this.modifiedMillis(object, row);
      return { id: String(row.id), updatedAt: millis ? new Date(millis).toISOString() : null, fields };
    });
    if (records.length === 0 || selection.associations.length === 0) return records;
    const ids = records.map((record) => record.id);
    const byTarget = new Map<string, AssociationField[]>();
    for (const association of selection.associations) byTarget.set(association.toObject, [...(byTarget.get(association.toObject) ?? []), association]);
    for (const [toObject, fields] of byTarget) {
      const target = await this.model.object(toObject);
      const primaryTypeId = fields.some((field) => field.primary) ? await this.associations.primaryTypeId(object.type, target.type) : undefined;
      const associated = await this.associations.read(object.type, target.type, ids, primaryTypeId);
      for (const record of records) {
        const found = associated.get(record.id);
        for (const field of fields) {
          if (field.kind === 'reference-list') record.fields[field.name] = found?.ids ?? [];
          else record.fields[field.name] = found?.primary[0] ?? null;
        }
      }
    }
    return records;
  }

  // ------------------------------------------------------------------------------------------ writing

  private assertWritable(object: ObjectModel): void {
    if (this.settings.readOnly) throw new FerryError('CONFIG_INVALID', 'This HubSpot connection is read-only (readOnly: true): it cannot be written to');
    if (object.owners) throw new FerryError('SCHEMA_MISMATCH', 'HubSpot owners are read-only (they are the account\'s users); map them with links or match keys', { object: object.name });
  }

  /** Checks and converts one record's fields; a WriteResult when a field is wrong. */
  private prepare(object: ObjectModel, index: number, fields: Record<string, FieldValue>): PreparedWrite | WriteResult {
    const prepared: PreparedWrite = { index, properties: {}, associations: [], fields };
    for (const [name, value] of Object.entries(fields)) {
      const association = object.associations.get(name);
      if (association) {
        prepared.associations.push({ field: association, value });
        continue;
      }
      const field = object.properties.get(name);
      if (!field) {
        const refused = this.propertyManager.failures.get(`${object.name}.${name}`);
        return failure('UNKNOWN_FIELD', `HubSpot ${object.name} has no property "${name}"${refused ? ` (creating it failed: ${refused})` : ''}`, name, value);
      }
      if (field.readOnly && name !== this.settings.externalIdProperty) return failure('INVALID_VALUE', `${name} is read-only in HubSpot`, name, value);
      const converted = toHubspotValue(field.type, value);
      if (!converted.ok) return failure('INVALID_VALUE', `${name}: ${converted.message}`, name, value);
      prepared.properties[name] = converted.value;
    }
    return prepared;
  }

  /**
   * With `createMissingProperties`, creates the properties and enumeration options these records need
   * (see properties.ts) and returns the reloaded model; otherwise the model as it is.
   */
  private async withMissingProperties(object: ObjectModel, records: Record<string, FieldValue>[]): Promise<ObjectModel> {
    if (!this.settings.createMissingProperties || object.owners) return object;
    return (await this.propertyManager.ensure(object, records)) ? this.model.object(object.name, true) : object;
  }

  private nextTraceId(): string {
    this.traceCounter += 1;
    // Fixed width, so no trace id is a prefix of another one when searched for in an error text.
    return `${this.tracePrefix}-${String(this.traceCounter).padStart(9, '0')}`;
  }

  async create(objectName: string, inputs: CreateInput[]): Promise<WriteResult[]> {
    let object = await this.model.object(objectName);
    this.assertWritable(object);
    object = await this.withMissingProperties(object, inputs.map((input) => input.fields));
    const results: (WriteResult | undefined)[] = new Array<WriteResult | undefined>(inputs.length);
    const ready: PreparedWrite[] = [];
    for (const [index, input] of inputs.entries()) {
      const prepared = this.prepare(object, index, input.fields);
      if ('ok' in prepared) {
        results[index] = prepared;
        continue;
      }
      if (input.externalId !== undefined && object.properties.has(this.settings.externalIdProperty)) {
        prepared.properties[this.settings.externalIdProperty] = input.externalId;
        prepared.externalId = input.externalId;
      }
      ready.push(prepared);
    }
    await this.prepareInlineAssociations(object, ready);
    await forEachConcurrently(chunks(ready, BATCH), WRITE_CONCURRENCY, async (chunk) => {
      const outcome = await this.createBatch(object, chunk);
      for (const [index, result] of outcome) results[index] = result;
    });
    const created = ready.filter((entry) => results[entry.index]?.ok);
    await this.writeAssociations(object, created, results, true);
    return results.map((result) => result ?? failure('WRITE_FAILED', 'HubSpot returned no result for this record'));
  }

  /**
   * Association fields go into the create request itself when HubSpot names the type to use: the Primary
   * type for a single reference (e.g. primary_company), the unlabeled default type for reference lists.
   * On create there is nothing to remove, so "exactly this set" is just this set.
   * https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/batch/create-contacts
   */
  private async prepareInlineAssociations(object: ObjectModel, entries: PreparedWrite[]): Promise<void> {
    const types = new Map<string, { associationCategory: string; associationTypeId: number } | undefined>();
    for (const entry of entries) {
      for (const { field, value } of entry.associations) {
        if (!types.has(field.name)) {
          const target = await this.model.object(field.toObject);
          if (field.kind === 'reference') {
            const typeId = await this.associations.primaryTypeId(object.type, target.type);
            types.set(field.name, typeId === undefined ? undefined : { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId });
          } else {
            const type = await this.associations.defaultType(object.type, target.type);
            types.set(field.name, type ? { associationCategory: type.category, associationTypeId: type.typeId } : undefined);
          }
        }
        const type = types.get(field.name);
        if (!type) continue;
        const ids = [...new Set((Array.isArray(value) ? value : value === null || value === '' ? [] : [value]).map(String))];
        if (field.kind === 'reference' && ids.length > 1) continue;
        entry.inline ??= [];
        entry.inlinedFields ??= new Set();
        for (const id of ids) entry.inline.push({ to: { id }, types: [type] });
        entry.inlinedFields.add(field.name);
      }
    }
  }

  /** Sends a create again without its inline associations; writeAssociations then writes and reports them. */
  private withoutInline(entry: PreparedWrite): PreparedWrite {
    delete entry.inline;
    delete entry.inlinedFields;
    return entry;
  }

  /**
   * batch/create with a unique objectWriteTraceId per input, which makes HubSpot answer a partial failure
   * with 207 and name the failed inputs' trace ids. Anything that still cannot be attributed is sent
   * again one record at a time.
   * https://developers.hubspot.com/docs/api-reference/error-handling (Multi-status errors)
   */
  private async createBatch(object: ObjectModel, batch: PreparedWrite[]): Promise<Map<number, WriteResult>> {
    const outcome = new Map<number, WriteResult>();
    const traces = batch.map(() => this.nextTraceId());
    let response: HttpResponse<HubspotBatchResponse & HubspotError>;
    try {
      response = await this.client.post<HubspotBatchResponse & HubspotError>(
        `/crm/v3/objects/${object.type}/batch/create`,
        {
          inputs: batch.map((entry, index) => ({
            properties: entry.properties,
            ...(entry.inline && entry.inline.length > 0 ? { associations: entry.inline } : {}),
            objectWriteTraceId: traces[index],
          })),
        },
        { accept: [207, 400, 409] },
      );
    } catch (error) {
      return this.recoverLostCreates(object, batch, error);
    }
    const body = response.body ?? {};
    const results = (body.results ?? []) as (HubspotObject & { objectWriteTraceId?: string })[];
    const errors = response.status >= 400 ? [body as HubspotError] : (body.errors ?? []);
    const unattributed: PreparedWrite[] = [];
    // Errors first: each names its input's trace id somewhere in its body. Every conflict (409 / CONFLICT:
    // which property collided is not said) is looked up by the external id the input stamped (a retried
    // create whose first answer was lost is found there), together, in one batch/read per 100, not one
    // request per record.
    // Transient per-input failures (207 INTERNAL_ERROR) are looked up too: an earlier attempt of this
    // request may have written the record before its answer was lost.
    const conflicts: { entry: PreparedWrite; error: RecordError; conflict: boolean }[] = [];
    const retryPlain: PreparedWrite[] = [];
    for (const error of errors) {
      const text = JSON.stringify(error);
      const hits = batch.filter((_entry, index) => text.includes(traces[index]!));
      if (hits.length === 1) {
        const entry = hits[0]!;
        if (entry.inline && isAssociationError(error)) {
          retryPlain.push(entry);
          continue;
        }
        const recordError = this.createError(entry, error, response.status);
        if (entry.externalId !== undefined && (isConflict(error, response.status) || isTransientError(error))) conflicts.push({ entry, error: recordError, conflict: isConflict(error, response.status) });
        else outcome.set(entry.index, { ok: false, error: recordError });
      }
    }
    // A whole-batch conflict (409 without per-input attribution: no trace ids came back): the records an earlier
    // attempt created are looked up together; the rest are sent again one by one below.
    if (batch.length > 1 && response.status === 409 && conflicts.length === 0 && outcome.size === 0) {
      const stamped = batch.filter((entry) => entry.externalId !== undefined);
      const found = stamped.length > 0 ? await this.findByExternalIds(object.name, stamped.map((entry) => entry.externalId!)) : new Map<string, string>();
      for (const entry of stamped) {
        const id = found.get(entry.externalId!);
        if (!id) continue;
        this.withoutInline(entry);
        outcome.set(entry.index, { ok: true, id });
      }
    }
    if (conflicts.length > 0) {
      const found = await this.findByExternalIds(object.name, conflicts.map(({ entry }) => entry.externalId!));
      const unexplained: { entry: PreparedWrite; error: RecordError }[] = [];
      for (const { entry, error, conflict } of conflicts) {
        const id = found.get(entry.externalId!);
        // An earlier attempt created it; whether its inline associations were applied is not known.
        if (id) {
          this.withoutInline(entry);
          outcome.set(entry.index, { ok: true, id });
        } else if (conflict) unexplained.push({ entry, error });
        else outcome.set(entry.index, { ok: false, error });
      }
      for (const [index, error] of await this.explainConflicts(object, unexplained)) outcome.set(index, { ok: false, error });
    }
    for (const entry of retryPlain) {
      for (const [index, result] of await this.createBatch(object, [this.withoutInline(entry)])) outcome.set(index, result);
    }
    const byTrace = new Map(results.filter((row) => row.objectWriteTraceId).map((row) => [row.objectWriteTraceId!, row]));
    const untraced = results.filter((row) => !row.objectWriteTraceId);
    for (const [index, entry] of batch.entries()) {
      if (outcome.has(entry.index)) continue;
      const row = byTrace.get(traces[index]!);
      if (row) outcome.set(entry.index, { ok: true, id: String(row.id) });
    }
    // Results without a trace id are matched by the external id each create stamped: HubSpot does not
    // promise that batch results come back in input order, so position is never used.
    const byExternalId = new Map(
      untraced
        .map((row) => [row.properties?.[this.settings.externalIdProperty], row] as const)
        .filter((pair): pair is readonly [string, HubspotObject & { objectWriteTraceId?: string }] => typeof pair[0] === 'string' && pair[0] !== ''),
    );
    for (const entry of batch) {
      if (outcome.has(entry.index) || entry.externalId === undefined) continue;
      const row = byExternalId.get(entry.externalId);
      if (row) outcome.set(entry.index, { ok: true, id: String(row.id) });
    }
    unattributed.push(...batch.filter((entry) => !outcome.has(entry.index)));
    if (unattributed.length === 0) return outcome;
    if (batch.length === 1) {
      const only = batch[0]!;
      if (only.inline && response.status >= 400 && response.status < 500 && isAssociationError(errors[0])) {
        for (const [index, result] of await this.createBatch(object, [this.withoutInline(only)])) outcome.set(index, result);
        return outcome;
      }
      outcome.set(only.index, await this.createFailure(object, only, errors[0] ?? { message: `HubSpot answered ${response.status}` }, response.status));
      return outcome;
    }
    // Some records of this batch may have been created (a 207 without usable trace ids): only the
    // unattributed ones are retried alone; with an external id stamped, a retry finds an earlier create.
    for (const entry of unattributed) {
      const single = await this.createBatch(object, [entry]);
      for (const [index, result] of single) outcome.set(index, result);
    }
    return outcome;
  }

  private createError(entry: PreparedWrite, error: HubspotError, status: number): RecordError {
    const values: Record<string, FieldValue> = { ...entry.fields };
    if (entry.externalId !== undefined) values[this.settings.externalIdProperty] = entry.externalId;
    return toRecordError(error, status, entry.properties, values);
  }

  /**
   * batch/create failed after the transport's retries (5xx, network error, timeout). When an attempt before
   * the last one was carried out and only its answer was lost (e.g. a dropped connection, then a 503 on the
   * retry), the records exist: they are looked up by the external id each one stamped and reported created.
   * When none is found the error stands (the run stops, resumable); records of the batch that are not found
   * while others are fail with WRITE_FAILED.
   */
  private async recoverLostCreates(object: ObjectModel, batch: PreparedWrite[], error: unknown): Promise<Map<number, WriteResult>> {
    const transient = isFerryError(error) && (error.code === 'TRANSIENT' || error.code === 'CONNECTION_FAILED');
    const externalIds = batch.flatMap((entry) => (entry.externalId === undefined ? [] : [entry.externalId]));
    if (!transient || externalIds.length === 0) throw error;
    let found: Map<string, string>;
    try {
      found = await this.findByExternalIds(object.name, externalIds);
    } catch {
      throw error;
    }
    if (found.size === 0) throw error;
    const outcome = new Map<number, WriteResult>();
    for (const entry of batch) {
      const id = entry.externalId === undefined ? undefined : found.get(entry.externalId);
      if (id) this.withoutInline(entry);
      outcome.set(
        entry.index,
        id
          ? { ok: true, id }
          : failure('WRITE_FAILED', `HubSpot did not confirm this create (${error.message}) and no record with ${this.settings.externalIdProperty} ${JSON.stringify(entry.externalId ?? null)} exists: it was not created`),
      );
    }
    return outcome;
  }

  /**
   * A failed single create. After a conflict or a failure on HubSpot's side, a create that stamped the external
   * id is looked up by it (batch read with idProperty): when an earlier attempt got through, the record exists
   * and is reported created. A conflict that is not ours is explained by the unique property it hit.
   */
  private async createFailure(object: ObjectModel, entry: PreparedWrite, error: HubspotError, status: number): Promise<WriteResult> {
    const recordError = this.createError(entry, error, status);
    const conflict = isConflict(error, status);
    if (entry.externalId !== undefined && (conflict || status >= 500 || isTransientError(error))) {
      const found = await this.findByExternalIds(object.name, [entry.externalId]);
      const id = found.get(entry.externalId);
      if (id) {
        this.withoutInline(entry);
        return { ok: true, id };
      }
    }
    if (conflict) return { ok: false, error: (await this.explainConflicts(object, [{ entry, error: recordError }])).get(entry.index) ?? recordError };
    return { ok: false, error: recordError };
  }

  /**
   * Which unique value a conflicting create collides with, found by looking the written unique values up
   * (batch read with idProperty, one request per property and 100 values), not by reading HubSpot's wording.
   * Contacts' e-mail counts as unique (HubSpot keeps one contact per e-mail and reads contacts by it).
   * A record whose collision is not found keeps HubSpot's error as it was.
   */
  private async explainConflicts(object: ObjectModel, conflicts: { entry: PreparedWrite; error: RecordError }[]): Promise<Map<number, RecordError>> {
    const explained = new Map<number, RecordError>();
    const unique = (name: string): boolean =>
      name !== this.settings.externalIdProperty && (object.properties.get(name)?.unique === true || (object.name === 'contacts' && name === 'email'));
    const byProperty = new Map<string, Set<string>>();
    for (const { entry } of conflicts) {
      for (const [name, value] of Object.entries(entry.properties)) {
        if (value === '' || !unique(name)) continue;
        byProperty.set(name, (byProperty.get(name) ?? new Set()).add(value));
      }
    }
    const owners = new Map<string, Map<string, string>>();
    for (const [name, values] of byProperty) {
      const rows = await this.batchRead(object, [...values], [name], name);
      owners.set(name, new Map(rows.flatMap((row) => (row.properties?.[name] ? [[row.properties[name]!.toLowerCase(), String(row.id)] as const] : []))));
    }
    for (const { entry, error } of conflicts) {
      for (const [name, value] of Object.entries(entry.properties)) {
        const holder = owners.get(name)?.get(value.toLowerCase());
        if (holder === undefined) continue;
        explained.set(entry.index, {
          code: 'UNIQUE_VIOLATION',
          field: name,
          value: entry.fields[name] ?? value,
          message: `${name} ${JSON.stringify(value)} already belongs to HubSpot ${object.name} ${holder} (${name} is unique in HubSpot): ${error.message}`,
        });
        break;
      }
    }
    return explained;
  }

  async update(objectName: string, inputs: UpdateInput[]): Promise<WriteResult[]> {
    let object = await this.model.object(objectName);
    this.assertWritable(object);
    object = await this.withMissingProperties(object, inputs.map((input) => input.fields));
    const results: (WriteResult | undefined)[] = new Array<WriteResult | undefined>(inputs.length);
    const ready: (PreparedWrite & { id: string })[] = [];
    for (const [index, input] of inputs.entries()) {
      const prepared = this.prepare(object, index, input.fields);
      if ('ok' in prepared) results[index] = prepared;
      else ready.push({ ...prepared, id: input.id });
    }
    const withProperties = ready.filter((entry) => Object.keys(entry.properties).length > 0);
    await forEachConcurrently(chunks(withProperties, BATCH), WRITE_CONCURRENCY, async (chunk) => {
      for (const [index, result] of await this.updateBatch(object, chunk)) results[index] = result;
    });
    // Association-only updates: the record must exist.
    const associationOnly = ready.filter((entry) => Object.keys(entry.properties).length === 0);
    if (associationOnly.length > 0) {
      const existing = new Set((await this.batchRead(object, associationOnly.map((entry) => entry.id), ['hs_object_id'])).map((row) => String(row.id)));
      for (const entry of associationOnly) {
        results[entry.index] = existing.has(entry.id) ? { ok: true, id: entry.id } : failure('NOT_FOUND', `HubSpot ${object.name} ${entry.id} does not exist`);
      }
    }
    const updated = ready.filter((entry) => results[entry.index]?.ok);
    await this.writeAssociations(object, updated, results, false);
    return results.map((result) => result ?? failure('WRITE_FAILED', 'HubSpot returned no result for this record'));
  }

  private async updateBatch(object: ObjectModel, batch: (PreparedWrite & { id: string })[]): Promise<Map<number, WriteResult>> {
    const outcome = new Map<number, WriteResult>();
    const response = await this.client.post<HubspotBatchResponse & HubspotError>(
      `/crm/v3/objects/${object.type}/batch/update`,
      { inputs: batch.map((entry) => ({ id: entry.id, properties: entry.properties })) },
      { accept: [207, 400, 404, 409] },
    );
    const body = response.body ?? {};
    const errors = response.status >= 400 ? [body as HubspotError] : (body.errors ?? []);
    const succeeded = new Set((body.results ?? []).map((row) => String(row.id)));
    for (const entry of batch) if (succeeded.has(entry.id)) outcome.set(entry.index, { ok: true, id: entry.id });
    for (const error of errors) {
      const ids = [...(Array.isArray(error.context?.ids) ? (error.context.ids as unknown[]) : []), ...(Array.isArray(error.context?.id) ? (error.context.id as unknown[]) : [])].map(String);
      const hits = batch.filter((entry) => !outcome.has(entry.index) && ids.includes(entry.id));
      for (const entry of hits) outcome.set(entry.index, { ok: false, error: toRecordError(error, response.status, entry.properties, entry.fields) });
    }
    const rest = batch.filter((entry) => !outcome.has(entry.index));
    if (rest.length === 0) return outcome;
    if (batch.length === 1) {
      const entry = batch[0]!;
      outcome.set(entry.index, { ok: false, error: toRecordError(errors[0] ?? { message: `HubSpot answered ${response.status}` }, response.status, entry.properties, entry.fields) });
      return outcome;
    }
    for (const entry of rest) for (const [index, result] of await this.updateBatch(object, [entry])) outcome.set(index, result);
    return outcome;
  }

  /**
   * Writes association fields after the records: reference-lists become exactly the given set (missing
   * links created, others removed on update), `primary_company` gets the Primary label. A record whose
   * links fail is reported failed with REFERENCE_MISSING; a record created in this call is archived
   * again then, so a failed create leaves nothing behind.
   */
  private async writeAssociations(object: ObjectModel, written: PreparedWrite[], results: (WriteResult | undefined)[], creating: boolean): Promise<void> {
    const idOf = (entry: PreparedWrite): string => (results[entry.index] as { ok: true; id: string }).id;
    const withLinks = written.filter((entry) => entry.associations.some(({ field }) => !entry.inlinedFields?.has(field.name)));
    if (withLinks.length === 0) return;
    const failures = new Map<number, RecordError>();
    const byField = new Map<string, { field: AssociationField; entries: { entry: PreparedWrite; value: FieldValue }[] }>();
    for (const entry of withLinks) {
      for (const { field, value } of entry.associations) {
        if (entry.inlinedFields?.has(field.name)) continue;
        const group = byField.get(field.name) ?? { field, entries: [] };
        group.entries.push({ entry, value });
        byField.set(field.name, group);
      }
    }
    for (const { field, entries } of byField.values()) {
      const target = await this.model.object(field.toObject);
      const noteFailure = (from: string, to: string, error: HubspotError, value: FieldValue): void => {
        const entry = entries.find((candidate) => idOf(candidate.entry) === from)?.entry;
        if (!entry || failures.has(entry.index)) return;
        failures.set(entry.index, { code: 'REFERENCE_MISSING', message: `${field.name}: cannot link ${field.toObject} ${to}: ${error.message ?? 'HubSpot refused the association'}`, field: field.name, value });
      };
      if (field.kind === 'reference') {
        const typeId = await this.associations.primaryTypeId(object.type, target.type);
        if (!creating) {
          // A single reference is the record's primary association: the one it had goes when it is cleared
          // or moved (an undo that restores "no company", a company no longer in the target), or it would stay.
          const current = await this.associations.read(object.type, target.type, entries.map((item) => idOf(item.entry)), typeId);
          const stale = entries.flatMap((item) =>
            (current.get(idOf(item.entry))?.primary ?? []).filter((to) => to !== String(item.value ?? '')).map((to) => ({ from: idOf(item.entry), to })),
          );
          if (stale.length > 0) {
            for (const [key, error] of await this.associations.archive(object.type, target.type, stale)) {
              const [from, to] = key.split('/') as [string, string];
              noteFailure(from, to, error, null);
            }
          }
        }
        const pairs = entries.filter((item) => item.value !== null && item.value !== '').map((item) => ({ from: idOf(item.entry), to: String(item.value) }));
        if (pairs.length === 0) continue;
        const failed = typeId === undefined ? await this.associations.associate(object.type, target.type, pairs) : await this.associations.associateTyped(object.type, target.type, typeId, pairs);
        for (const [key, error] of failed) {
          const [from, to] = key.split('/') as [string, string];
          noteFailure(from, to, error, to);
        }
        continue;
      }
      const wanted = new Map(entries.map((item) => [idOf(item.entry), { value: item.value, ids: [...new Set((Array.isArray(item.value) ? item.value : item.value === null ? [] : [item.value]).map(String))] }]));
      const current = creating ? new Map<string, { ids: string[] }>() : await this.associations.read(object.type, target.type, [...wanted.keys()]);
      const add: { from: string; to: string }[] = [];
      const remove: { from: string; to: string }[] = [];
      for (const [from, { ids }] of wanted) {
        const existing = current.get(from)?.ids ?? [];
        for (const to of ids) if (!existing.includes(to)) add.push({ from, to });
        for (const to of existing) if (!ids.includes(to)) remove.push({ from, to });
      }
      if (add.length > 0) {
        for (const [key, error] of await this.associations.associate(object.type, target.type, add)) {
          const [from, to] = key.split('/') as [string, string];
          noteFailure(from, to, error, wanted.get(from)?.value ?? null);
        }
      }
      if (remove.length > 0) {
        for (const [key, error] of await this.associations.archive(object.type, target.type, remove)) {
          const [from, to] = key.split('/') as [string, string];
          noteFailure(from, to, error, wanted.get(from)?.value ?? null);
        }
      }
    }
    if (failures.size === 0) return;
    const rollback: string[] = [];
    for (const [index, error] of failures) {
      const result = results[index];
      if (creating && result?.ok) rollback.push(result.id);
      results[index] = { ok: false, error };
    }
    if (rollback.length > 0) await this.archive(object, rollback);
  }

  async delete(objectName: string, ids: string[]): Promise<WriteResult[]> {
    const object = await this.model.object(objectName);
    this.assertWritable(object);
    // batch/archive answers 204 whether or not an id exists, so existence is read first.
    const existing = new Set((await this.batchRead(object, [...new Set(ids)], ['hs_object_id'])).map((row) => String(row.id)));
    await this.archive(object, [...existing]);
    return ids.map((id) => (existing.has(id) ? { ok: true, id } : failure('NOT_FOUND', `HubSpot ${object.name} ${id} does not exist`)));
  }

  private async archive(object: ObjectModel, ids: string[]): Promise<void> {
    for (const chunk of chunks(ids, BATCH)) {
      await this.client.post(`/crm/v3/objects/${object.type}/batch/archive`, { inputs: chunk.map((id) => ({ id })) });
    }
  }

  // ------------------------------------------------------------------------------------------ external ids

  async ensureExternalId(objectName: string): Promise<string | undefined> {
    let object = await this.model.object(objectName);
    if (object.owners) return undefined;
    const name = this.settings.externalIdProperty;
    if (object.properties.has(name)) return name;
    if (this.settings.readOnly) return undefined;
    // A unique-value text property; https://developers.hubspot.com/docs/api/crm/properties (hasUniqueValue)
    const groups = await this.client.get<HubspotPage<{ name: string }>>(`/crm/v3/properties/${object.type}/groups`, { accept: [404] });
    const groupNames = (groups.status === 200 ? (groups.body.results ?? []) : []).map((group) => group.name);
    const groupName = groupNames.find((group) => group.endsWith('information')) ?? groupNames[0] ?? `${object.name.replace(/s$/, '')}information`;
    try {
      await this.client.post(`/crm/v3/properties/${object.type}`, {
        name,
        label: 'Ferry source id',
        description: 'Id of the source record this record was migrated from (set by Ferry; used to find records again after an interrupted run).',
        type: 'string',
        fieldType: 'text',
        groupName,
        hasUniqueValue: true,
      }, { accept: [409] });
    } catch (error) {
      if (isHttpError(error) && error.status === 400) return undefined;
      throw error;
    }
    object = await this.model.object(objectName, true);
    return object.properties.has(name) ? name : undefined;
  }

  async findByExternalIds(objectName: string, externalIds: string[]): Promise<Map<string, string>> {
    const object = await this.model.object(objectName);
    const name = this.settings.externalIdProperty;
    const found = new Map<string, string>();
    if (!object.properties.has(name) || externalIds.length === 0) return found;
    const rows = await this.batchRead(object, [...new Set(externalIds)], [name], name);
    for (const row of rows) {
      const value = row.properties?.[name];
      if (value) found.set(value, String(row.id));
    }
    return found;
  }
}

/** Validates the settings and builds the connector. */
export function createHubspotConnector(config: HubspotConnectionConfig | Record<string, unknown>, options: HubspotConnectorOptions & HubspotTransportOptions = {}): HubspotConnector {
  const settings = parseHubspotConnectionConfig(config, options);
  return new HubspotConnector(settings, options);
}
