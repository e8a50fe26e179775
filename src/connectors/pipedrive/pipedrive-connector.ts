import type { Capabilities, Connector, CreateInput, CrmRecord, DeletionQuery, ReadOptions, ReadPage, RecordError, SourceDeletion, UpdateInput, WriteResult } from '../../core/connector.js';
import { FerryError, describeValue, isFerryError, type ErrorCode } from '../../core/errors.js';
import type { Clock } from '../../core/http.js';
import type { FieldValue, SchemaDescription } from '../../core/schema.js';
import { nowIso, parseInstant } from '../../core/time.js';
import {
  collect,
  createIdempotent,
  cursorPages,
  decodeCursor,
  encodeCursor,
  failure,
  findExternalIds,
  isWindowCursor,
  offsetPages,
  readWindow,
  toRecordError,
  windowStart,
  writeEach,
  type ApiClient,
  type BudgetUsage,
  type ErrorAttribution,
  type WindowCursor,
  type WindowSource,
} from '../kit/index.js';
import { parsePipedriveConnectionConfig, type PipedriveConnectionConfig, type PipedriveConnectorOptions, type PipedriveSettings } from './config.js';
import { PipedriveModel, listV2, type FieldDef, type ObjectModel } from './model.js';
import { createPipedriveClient, type PipedriveTransportOptions } from './transport.js';
import {
  bad,
  idFrom,
  instantFrom,
  labelledFrom,
  ok,
  parseLabelled,
  primaryOf,
  rfc3339,
  setFrom,
  toBoolean,
  toDate,
  toId,
  toInstant,
  toNumber,
  toOption,
  toSet,
  toText,
  toTime,
  v1Time,
  withPrimary,
  type Conversion,
  type Labelled,
} from './values.js';

/** v2 lists answer at most 500 per page; one is kept for the window's look-ahead. */
const MAX_PAGE = 499;
const DEFAULT_PAGE = 100;
/** v2 `ids` takes at most 100 ids. */
const IDS_PER_REQUEST = 100;
/** Pipedrive answers and filters update times to the second. */
const UNIT_MS = 1000;
/** Lost creates are looked for among records updated since this long before the create was sent. */
const LOST_CREATE_LOOKBACK_MS = 120_000;

type Row = Record<string, unknown> & { id: number; custom_fields?: Record<string, unknown> };

interface V2Answer<T> {
  data?: T;
  additional_data?: { next_cursor?: string | null; pagination?: { more_items_in_collection?: boolean; next_start?: number } };
}

function rowTime(model: ObjectModel, row: Row): number {
  const instant = instantFrom(model.api === 'users' ? row.modified : row.update_time);
  return instant ? Date.parse(instant) : 0;
}

interface ReadCursor {
  w: WindowCursor;
}

function isReadCursor(value: unknown): value is ReadCursor {
  return typeof value === 'object' && value !== null && isWindowCursor((value as ReadCursor).w);
}

/** A write's request body, or the record's failure. */
interface Prepared {
  body: Record<string, unknown>;
  participants?: string[];
}

/** The Ferry field a refused write is about, from the quoted name Pipedrive's message starts with. */
function attributeError(model: ObjectModel, fields: Record<string, FieldValue>): (error: FerryError) => ErrorAttribution {
  return (error) => {
    const quoted = /"([^"]+)"/.exec(error.message)?.[1];
    const code: ErrorCode | undefined = /is required/.test(error.message)
      ? 'REQUIRED_MISSING'
      : /refers to|does not exist/.test(error.message)
        ? 'REFERENCE_MISSING'
        : /is not allowed/.test(error.message)
          ? 'UNKNOWN_FIELD'
          : error.code === 'VALIDATION'
            ? 'INVALID_VALUE'
            : undefined;
    if (!quoted) return { code: error.code === 'VALIDATION' ? 'VALIDATION' : code };
    const custom = /^custom_fields\.([0-9a-z_]+)(?:\.(\w+))?/i.exec(quoted);
    let field: string | undefined;
    if (custom) field = custom[2] === 'currency' || custom[2] === 'until' ? `${custom[1]}_${custom[2]}` : custom[1];
    else {
      const key = quoted.split(/[.[]/)[0]!;
      const candidates = [...model.fields.values()].filter((def) => !def.custom && def.key === key);
      field = candidates.find((def) => def.name in fields)?.name ?? candidates[0]?.name ?? key;
    }
    return { field, code };
  };
}

/**
 * Text compared by a lost create's look-up: what Pipedrive's sanitising of note HTML (scripts and event
 * handlers removed, markup rewritten) cannot change. Tags and `<script>` / `<style>` blocks are dropped and
 * whitespace collapsed, so a note is recognised as its own twin after Pipedrive cleaned it.
 */
function comparableText(value: string): string {
  return value
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export class PipedriveConnector implements Connector {
  readonly kind = 'pipedrive';
  readonly client: ApiClient;
  readonly model: PipedriveModel;
  private readonly clock: Clock | undefined;
  /**
   * Records of objects without an external-id field (notes, activities) that this connection created, by
   * `object:id`, with when: a lost create's look-up never takes one of them for its own twin (an identical
   * note written just before for another source record). Entries older than the look-up window are dropped.
   */
  private readonly claimed = new Map<string, number>();
  /** Creates without an external id now being sent, by object and body (see oneTwinAtATime). */
  private readonly twinsInFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly settings: PipedriveSettings,
    options: PipedriveTransportOptions = {},
  ) {
    this.clock = options.clock;
    this.client = createPipedriveClient(settings, options);
    this.model = new PipedriveModel(this.client, settings);
  }

  capabilities(): Capabilities {
    return {
      modifiedSince: true,
      orderedByModified: true,
      writable: !this.settings.readOnly,
      externalId: true,
      createFields: true,
      maxPageSize: MAX_PAGE,
      // One record per request: a batch is written `writeConcurrency` requests at a time.
      batchSize: { read: IDS_PER_REQUEST, create: 50, update: 50, delete: 50 },
      // Update times are whole seconds: look back past the second a delta's high-water mark falls in.
      lookbackMs: 2000,
      requestsPerSecond: this.settings.burstLimit / 2,
      // v2 POST / PATCH 5 tokens, DELETE 3 (notes cost more, deal participants a request each: a floor).
      writeCost: { unit: 'tokens', create: 5, update: 5, delete: 3 },
    };
  }

  /** Tokens this connection spent, and what is left of the company's day (when known; `byRoute` per endpoint). */
  usage(): BudgetUsage {
    return this.client.budget!.usage();
  }

  async check(): Promise<void> {
    try {
      await this.client.get('/api/v1/users/me');
    } catch (error) {
      if (isFerryError(error) && error.code === 'TRANSIENT') {
        throw new FerryError('CONNECTION_FAILED', `Cannot reach Pipedrive at ${this.settings.baseUrl}: ${error.message}`, { baseUrl: this.settings.baseUrl }, { cause: error });
      }
      throw error;
    }
  }

  async describe(): Promise<SchemaDescription> {
    const objects = [];
    for (const name of this.model.objectNames()) objects.push((await this.model.object(name, true)).schema);
    return { objects };
  }

  async now(): Promise<string> {
    await this.client.get('/api/v1/users/me');
    const server = this.client.serverNow();
    return server === undefined ? nowIso() : new Date(server).toISOString();
  }

  async close(): Promise<void> {
    // fetch keeps no connection state that needs closing
  }

  // ------------------------------------------------------------------------------------------ reading

  private listPath(model: ObjectModel): string {
    if (model.api === 'notes') return '/api/v1/notes';
    return model.name === 'archived_deals' ? '/api/v2/deals/archived' : `/api/v2/${model.path}`;
  }

  /** One page of rows updated from `since` (epoch ms, whole seconds), by update time then id. */
  private async listFrom(model: ObjectModel, since: number, limit: number, cursor: string | undefined): Promise<{ rows: Row[]; next?: string }> {
    if (model.api === 'notes') {
      // v1 answers `YYYY-MM-DD HH:MM:SS`, but its updated_since is RFC 3339 (the v1 OpenAPI parameter).
      const start = cursor === undefined ? 0 : Number(cursor);
      const response = await this.client.get<V2Answer<Row[]>>('/api/v1/notes', {
        query: { updated_since: since > 0 ? rfc3339(new Date(since).toISOString()) : undefined, sort: 'update_time ASC', start, limit },
      });
      const pagination = response.body.additional_data?.pagination;
      const rows = response.body.data ?? [];
      this.assertFiltered(model, rows, since);
      return { rows, ...(pagination?.more_items_in_collection ? { next: String(pagination.next_start ?? start + rows.length) } : {}) };
    }
    if (model.api === 'users' || model.name === 'pipelines' || model.name === 'stages') {
      // Small lists without a documented update-time filter: read whole (users in one answer, pipelines and
      // stages 500 per 5 tokens) and windowed here.
      const all = model.api === 'users' ? ((await this.client.get<V2Answer<Row[]>>('/api/v1/users')).body.data ?? []) : await listV2<Row>(this.client, `/api/v2/${model.path}`);
      // A soft-deleted pipeline or stage (`is_deleted`, should a list answer one) is not read.
      const rows = all.filter((row) => row.is_deleted !== true && rowTime(model, row) >= since).sort((a, b) => rowTime(model, a) - rowTime(model, b) || a.id - b.id);
      const start = cursor === undefined ? 0 : Number(cursor);
      return { rows: rows.slice(start, start + limit), ...(start + limit < rows.length ? { next: String(start + limit) } : {}) };
    }
    const response = await this.client.get<V2Answer<Row[]>>(this.listPath(model), {
      query: { updated_since: since > 0 ? rfc3339(new Date(since).toISOString()) : undefined, sort_by: 'update_time', sort_direction: 'asc', limit, cursor },
    });
    const next = response.body.additional_data?.next_cursor;
    const rows = response.body.data ?? [];
    this.assertFiltered(model, rows, since);
    return { rows, ...(next ? { next } : {}) };
  }

  /** A server that ignored updated_since would make the window read the same page forever: stop loudly. */
  private assertFiltered(model: ObjectModel, rows: Row[], since: number): void {
    const early = since > 0 ? rows.find((row) => rowTime(model, row) < since) : undefined;
    if (early) {
      throw new FerryError('INTERNAL', `Pipedrive ${this.listPath(model)} answered ${model.name} ${early.id} updated at ${String(early.update_time)}, before updated_since ${rfc3339(new Date(since).toISOString())}: the filter was not applied, so the read stops rather than loop or lose records`, { object: model.name, path: this.listPath(model) });
    }
  }

  private windowSource(model: ObjectModel): WindowSource<Row> {
    return {
      time: (row) => rowTime(model, row),
      range: async (since, exclusive, limit) => {
        const second = Math.floor(since / UNIT_MS) * UNIT_MS + (exclusive ? UNIT_MS : 0);
        return (await this.listFrom(model, second, limit, undefined)).rows;
      },
      tie: async (at, after, limit) => {
        const page = await this.listFrom(model, at, limit, after);
        const rows = page.rows.filter((row) => rowTime(model, row) === at);
        return { rows, ...(page.next && rows.length === page.rows.length ? { after: page.next } : {}) };
      },
    };
  }

  async read(objectName: string, options: ReadOptions = {}): Promise<ReadPage> {
    const model = await this.model.object(objectName);
    const limit = Math.max(1, Math.min(Math.floor(options.limit ?? DEFAULT_PAGE), MAX_PAGE));
    let cursor: WindowCursor;
    if (options.after) cursor = decodeCursor(options.after, 'Pipedrive', isReadCursor).w;
    else {
      const since = options.modifiedSince === undefined ? undefined : parseInstant(options.modifiedSince);
      if (options.modifiedSince !== undefined && !since) throw new FerryError('USAGE', `modifiedSince ${JSON.stringify(options.modifiedSince)} is not an ISO date-time`);
      cursor = windowStart(since ? Date.parse(since) : 0);
    }
    const page = await readWindow(this.windowSource(model), cursor, limit);
    const records = await this.toRecords(model, page.rows, options.fields);
    return page.next ? { records, next: encodeCursor({ w: page.next }) } : { records };
  }

  async readByIds(objectName: string, ids: string[], fields?: string[]): Promise<CrmRecord[]> {
    const model = await this.model.object(objectName);
    const wanted = [...new Set(ids)].filter((id) => /^\d+$/.test(id));
    const rows = new Map<string, Row>();
    if (model.api === 'notes') {
      await writeEach(wanted, this.settings.writeConcurrency, async (id) => {
        const response = await this.client.get<V2Answer<Row>>(`/api/v1/notes/${id}`, { accept: [404, 410] });
        if (response.status === 200 && response.body.data && response.body.data.active_flag !== false) rows.set(id, response.body.data);
        return { ok: true, id };
      });
    } else if (model.api === 'users') {
      for (const row of (await this.client.get<V2Answer<Row[]>>('/api/v1/users')).body.data ?? []) rows.set(String(row.id), row);
    } else {
      const paths = model.name === 'deals' ? ['/api/v2/deals', '/api/v2/deals/archived'] : [this.listPath(model)];
      for (const path of paths) {
        const missing = wanted.filter((id) => !rows.has(id));
        for (let index = 0; index < missing.length; index += IDS_PER_REQUEST) {
          const chunk = missing.slice(index, index + IDS_PER_REQUEST);
          const response = await this.client.get<V2Answer<Row[]>>(path, { query: { ids: chunk.join(','), limit: IDS_PER_REQUEST } });
          for (const row of response.body.data ?? []) if (!row.is_deleted) rows.set(String(row.id), row);
        }
      }
    }
    const found = wanted.filter((id) => rows.has(id)).map((id) => rows.get(id)!);
    return this.toRecords(model, found, fields);
  }

  /**
   * Deletions a delta reports. Deals (and archived deals): the tombstones Pipedrive keeps for 30 days,
   * `GET /api/v2/deals?status=deleted` from `since`, deleted at their update time. Persons, organizations,
   * activities and products have no list of deleted records: the known ids are listed (`ids`, 100 per 10
   * tokens) and each one missing is read by id (1 token), which answers `is_deleted: true` for 30 days and
   * 404 once purged (deleted at an unknown time); not with `checkDeletedById: false`. Notes, users, pipelines and
   * stages: not seen (undefined).
   */
  async readDeletions(objectName: string, query: DeletionQuery): Promise<SourceDeletion[] | undefined> {
    const model = await this.model.object(objectName);
    if (model.api !== 'v2' || model.name === 'pipelines' || model.name === 'stages') return undefined;
    const since = parseInstant(query.since);
    if (!since) throw new FerryError('USAGE', `readDeletions since ${JSON.stringify(query.since)} is not an ISO date-time`);
    const deletedAt = (row: Row): string | null => {
      const time = rowTime(model, row);
      return time ? new Date(time).toISOString() : null;
    };
    if (model.path === 'deals') {
      const second = Math.floor(Date.parse(since) / UNIT_MS) * UNIT_MS;
      const rows = await listV2<Row>(this.client, this.listPath(model), { status: 'deleted', updated_since: rfc3339(new Date(second).toISOString()), sort_by: 'update_time', custom_fields: model.externalId?.key });
      return rows.filter((row) => row.is_deleted === true).map((row) => ({ id: String(row.id), deletedAt: deletedAt(row) }));
    }
    if (!this.settings.checkDeletedById) return undefined;
    const out: SourceDeletion[] = [];
    for await (const page of query.known()) {
      const ids = [...new Set(page)].filter((id) => /^\d+$/.test(id));
      for (let index = 0; index < ids.length; index += IDS_PER_REQUEST) {
        const chunk = ids.slice(index, index + IDS_PER_REQUEST);
        const response = await this.client.get<V2Answer<Row[]>>(this.listPath(model), { query: { ids: chunk.join(','), limit: IDS_PER_REQUEST, custom_fields: model.externalId?.key } });
        const live = new Set((response.body.data ?? []).filter((row) => !row.is_deleted).map((row) => String(row.id)));
        for (const id of chunk.filter((candidate) => !live.has(candidate))) {
          const row = await this.getRow(model, id);
          if (!row) out.push({ id, deletedAt: null });
          else if (row.is_deleted === true) out.push({ id, deletedAt: deletedAt(row) });
        }
      }
    }
    return out;
  }

  private async toRecords(model: ObjectModel, rows: Row[], fields: string[] | undefined): Promise<CrmRecord[]> {
    let selected: FieldDef[];
    if (fields) {
      selected = [];
      for (const name of fields) {
        const def = model.fields.get(name);
        if (!def) throw new FerryError('UNKNOWN_FIELD', `Pipedrive ${model.name} has no field "${name}"`, { object: model.name, field: name });
        selected.push(def);
      }
      const modified = model.fields.get(model.schema.modifiedField!);
      if (modified && !selected.includes(modified)) selected.push(modified);
    } else {
      selected = [...model.fields.values()];
    }
    const participants = selected.some((def) => def.kind === 'dealParticipants') ? await this.dealParticipants(rows.map((row) => row.id)) : new Map<number, string[]>();
    return rows.map((row) => {
      const values: Record<string, FieldValue> = {};
      for (const def of selected) values[def.name] = def.kind === 'dealParticipants' ? (participants.get(row.id) ?? []) : this.fromRow(def, row);
      const time = rowTime(model, row);
      return { id: String(row.id), updatedAt: time ? new Date(time).toISOString() : null, fields: values };
    });
  }

  private fromRow(def: FieldDef, row: Row): FieldValue {
    const raw = def.custom ? row.custom_fields?.[def.key] : row[def.key];
    if (raw === undefined || raw === null) return def.kind === 'participants' ? [] : null;
    switch (def.kind) {
      case 'number':
      case 'integer':
        return typeof raw === 'number' ? raw : Number.isFinite(Number(raw)) ? Number(raw) : null;
      case 'boolean':
        return raw === true || raw === 1 || raw === '1';
      case 'date':
        return typeof raw === 'string' ? raw.slice(0, 10) : null;
      case 'datetime':
        return instantFrom(raw);
      case 'ref':
      case 'optionId':
        return idFrom(raw);
      case 'set':
        return setFrom(raw);
      case 'email':
      case 'phone':
        return primaryOf(labelledFrom(raw));
      case 'labelled': {
        const items = labelledFrom(raw);
        return items.length === 0 ? null : JSON.stringify(items.map(({ value, label, primary }) => ({ value, label, primary })));
      }
      case 'address':
        return typeof raw === 'object' ? ((raw as { value?: string | null }).value ?? null) : String(raw);
      case 'participants':
        return (Array.isArray(raw) ? raw : [])
          .map((item) => String((item as { person_id: number }).person_id))
          .sort((a, b) => Number(a) - Number(b));
      case 'primaryParticipant': {
        const list = Array.isArray(raw) ? (raw as { person_id: number; primary?: boolean }[]) : [];
        const primary = list.find((item) => item.primary) ?? list[0];
        return primary ? String(primary.person_id) : null;
      }
      case 'json':
        return Array.isArray(raw) && raw.length === 0 ? null : JSON.stringify(raw);
      case 'monetaryValue':
        return typeof raw === 'object' ? ((raw as { value?: number }).value ?? null) : null;
      case 'monetaryCurrency':
        return typeof raw === 'object' ? ((raw as { currency?: string }).currency ?? null) : null;
      case 'rangeStart':
        return typeof raw === 'object' ? ((raw as { value?: string }).value ?? null) : String(raw);
      case 'rangeEnd':
        return typeof raw === 'object' ? ((raw as { until?: string }).until ?? null) : null;
      default:
        return typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
    }
  }

  /** Person ids of each deal's participants (v1, offset-paged, one list per deal). */
  private async dealParticipants(dealIds: number[]): Promise<Map<number, string[]>> {
    const result = new Map<number, string[]>();
    await writeEach(dealIds, this.settings.writeConcurrency, async (dealId) => {
      const rows = await collect(
        offsetPages(async (start) => {
          const response = await this.client.get<V2Answer<{ id: number; person_id: { value: number } | number }[]>>(`/api/v1/deals/${dealId}/participants`, { query: { start, limit: 500 } });
          const pagination = response.body.additional_data?.pagination;
          return { items: response.body.data ?? [], more: pagination?.more_items_in_collection === true, nextStart: pagination?.next_start };
        }),
      );
      result.set(dealId, rows.map((row) => idFrom(row.person_id)!).sort((a, b) => Number(a) - Number(b)));
      return { ok: true, id: String(dealId) };
    });
    return result;
  }

  private async participantRows(dealId: string): Promise<{ id: number; person: string }[]> {
    const response = await this.client.get<V2Answer<{ id: number; person_id: { value: number } | number }[]>>(`/api/v1/deals/${dealId}/participants`, { query: { limit: 500 } });
    return (response.body.data ?? []).map((row) => ({ id: row.id, person: idFrom(row.person_id)! }));
  }

  // ------------------------------------------------------------------------------------------ writing

  private assertWritable(model: ObjectModel): void {
    if (this.settings.readOnly) throw new FerryError('CONFIG_INVALID', 'This Pipedrive connection is read-only (readOnly: true): it cannot be written to');
    if (!model.writable) throw new FerryError('SCHEMA_MISMATCH', `Pipedrive ${model.name} cannot be written by Ferry (${model.name === 'users' ? 'users are the company\'s seats: match owners by e-mail' : 'archived deals are written as deals with is_archived'})`, { object: model.name });
  }

  private convert(def: FieldDef, value: FieldValue): Conversion {
    switch (def.kind) {
      case 'string':
      case 'url':
        return toText(value, def.schema.maxLength);
      case 'text':
        return toText(value);
      case 'number':
      case 'monetaryValue':
        return toNumber(value, false);
      case 'integer':
        return toNumber(value, true);
      case 'boolean':
        return toBoolean(value);
      case 'date':
        return toDate(value);
      case 'time':
        return toTime(value);
      case 'datetime':
        return toInstant(value, 'v2');
      case 'ref':
        return toId(value);
      case 'option':
        return toOption(value, new Set((def.schema.options ?? []).map((option) => option.value)), false);
      case 'optionId':
        return toOption(value, new Set((def.schema.options ?? []).map((option) => option.value)), true);
      case 'set':
        return toSet(value, new Set((def.schema.options ?? []).map((option) => option.value)));
      case 'address': {
        const text = toText(value);
        return text.ok && text.value !== null && text.value !== '' ? ok({ value: text.value }) : ok(null);
      }
      case 'json': {
        if (value === null || value === '') return ok([]);
        try {
          return ok(JSON.parse(String(value)));
        } catch {
          return bad('is not JSON');
        }
      }
      case 'monetaryCurrency':
        return toText(value);
      case 'rangeStart':
      case 'rangeEnd':
        return def.subtype === 'date' ? toDate(value) : toTime(value);
      default:
        return ok(value);
    }
  }

  /**
   * A record's fields as a Pipedrive request body. Paired values travel together: a labelled list and its
   * primary item (`emails`/`email`), a monetary custom field and its currency, a range and its end, an
   * activity's participants and its primary person. `current` reads the record (updates that change one half).
   */
  private async prepare(model: ObjectModel, fields: Record<string, FieldValue>, current: () => Promise<Row | undefined>): Promise<Prepared | WriteResult> {
    const body: Record<string, unknown> = {};
    const custom: Record<string, unknown> = {};
    const prepared: Prepared = { body };
    const pairs = new Map<string, Record<string, unknown>>();
    const labelled = new Map<string, { list?: Labelled[]; primary?: { name: string; value: string | null } }>();
    let participants: { list?: string[]; primary?: string | null } | undefined;
    for (const [name, value] of Object.entries(fields)) {
      const def = model.fields.get(name);
      if (!def) return failure('UNKNOWN_FIELD', `Pipedrive ${model.name} has no field "${name}"`, name, value);
      if (def.schema.readOnly) return failure('INVALID_VALUE', `${name} is read-only in Pipedrive`, name, value);
      if (def.kind === 'dealParticipants') {
        const ids = (Array.isArray(value) ? value : value === null || value === '' ? [] : [value]).map(String);
        if (ids.some((id) => !/^\d+$/.test(id))) return failure('INVALID_VALUE', `${name}: ${describeValue(value)} is not a list of Pipedrive person ids`, name, value);
        prepared.participants = ids;
        continue;
      }
      if (def.kind === 'participants' || def.kind === 'primaryParticipant') {
        participants ??= {};
        const ids = (Array.isArray(value) ? value : value === null || value === '' ? [] : [value]).map(String);
        if (ids.some((id) => !/^\d+$/.test(id))) return failure('INVALID_VALUE', `${name}: ${describeValue(value)} is not a Pipedrive person id`, name, value);
        if (def.kind === 'participants') participants.list = ids;
        else participants.primary = ids[0] ?? null;
        continue;
      }
      if (def.kind === 'email' || def.kind === 'phone' || def.kind === 'labelled') {
        const key = def.key;
        const entry = labelled.get(key) ?? {};
        if (def.kind === 'labelled') {
          const parsed = parseLabelled(value);
          if (!parsed.ok) return failure('INVALID_VALUE', `${name}: ${describeValue(value)} ${parsed.message}`, name, value);
          entry.list = parsed.value as Labelled[];
        } else {
          if (Array.isArray(value)) return failure('INVALID_VALUE', `${name}: ${describeValue(value)} is a list, not one value`, name, value);
          entry.primary = { name, value: value === null ? null : String(value) };
        }
        labelled.set(key, entry);
        continue;
      }
      const converted = this.convert(def, value);
      if (!converted.ok) return failure('INVALID_VALUE', `${name}: ${describeValue(value)} ${converted.message}`, name, value);
      if (['monetaryValue', 'monetaryCurrency', 'rangeStart', 'rangeEnd'].includes(def.kind) && !(def.kind === 'rangeStart' && def.subtype === 'time' && !model.fields.has(`${def.key}_until`))) {
        const pair = pairs.get(def.key) ?? {};
        pair[def.kind === 'monetaryValue' || def.kind === 'rangeStart' ? 'value' : def.kind === 'monetaryCurrency' ? 'currency' : 'until'] = converted.value;
        pairs.set(def.key, pair);
        continue;
      }
      if (def.kind === 'rangeStart') {
        custom[def.key] = converted.value === null ? null : { value: converted.value };
        continue;
      }
      if (model.api === 'notes') {
        body[def.key] = def.kind === 'boolean' ? (converted.value ? 1 : 0) : def.kind === 'datetime' && value !== null ? v1Time(parseInstant(value)!) : converted.value;
        continue;
      }
      if (def.custom) custom[def.key] = converted.value;
      else body[def.key] = converted.value;
    }
    let row: Row | undefined;
    const readCurrent = async (): Promise<Row | undefined> => (row ??= await current());
    for (const [key, entry] of labelled) {
      let list = entry.list;
      if (list === undefined) list = labelledFrom((await readCurrent())?.[key]);
      if (entry.primary) list = withPrimary(list, entry.primary.value);
      body[key] = list;
    }
    for (const [code, pair] of pairs) {
      const monetary = 'currency' in pair || model.fields.get(code)?.kind === 'monetaryValue';
      if (pair.value === null) {
        custom[code] = null;
        continue;
      }
      const existing = (await (Object.keys(pair).length < 2 ? readCurrent() : Promise.resolve(undefined)))?.custom_fields?.[code] as Record<string, unknown> | null | undefined;
      const merged: Record<string, unknown> = { ...(existing ?? {}), ...pair };
      if (monetary && merged.currency === undefined && typeof body.currency === 'string') merged.currency = body.currency;
      const missing = monetary ? (merged.value === undefined ? 'value' : merged.currency === undefined || merged.currency === null ? 'currency' : undefined) : merged.value === undefined ? 'value' : merged.until === undefined ? 'until' : undefined;
      if (missing) {
        const name = missing === 'value' ? code : `${code}_${missing}`;
        return failure('REQUIRED_MISSING', `${name} is needed with ${monetary ? 'a monetary value' : 'a range'}: Pipedrive stores ${monetary ? '{value, currency}' : '{value, until}'} together`, name, fields[name] ?? null);
      }
      custom[code] = merged;
    }
    if (participants) {
      let list = participants.list;
      if (list === undefined) list = ((await readCurrent())?.participants as { person_id: number }[] | undefined)?.map((item) => String(item.person_id)) ?? [];
      const primary = participants.primary !== undefined ? participants.primary : ((await readCurrent())?.participants as { person_id: number; primary: boolean }[] | undefined)?.find((item) => item.primary)?.person_id;
      const ordered = primary === null || primary === undefined ? list : [String(primary), ...list.filter((id) => id !== String(primary))];
      body.participants = ordered.map((id, index) => ({ person_id: Number(id), primary: index === 0 }));
    }
    if (Object.keys(custom).length > 0) body.custom_fields = custom;
    return prepared;
  }

  private recordPath(model: ObjectModel, id: string): string {
    return model.api === 'notes' ? `/api/v1/notes/${id}` : `/api/v2/${model.path}/${id}`;
  }

  private async getRow(model: ObjectModel, id: string): Promise<Row | undefined> {
    const response = await this.client.get<V2Answer<Row>>(this.recordPath(model, id), { accept: [404, 410] });
    return response.status === 200 ? response.body.data : undefined;
  }

  private recordError(model: ObjectModel, fields: Record<string, FieldValue>, error: FerryError): RecordError {
    return toRecordError(error, fields, attributeError(model, fields));
  }

  async create(objectName: string, inputs: CreateInput[]): Promise<WriteResult[]> {
    const model = await this.model.object(objectName);
    this.assertWritable(model);
    const path = model.api === 'notes' ? '/api/v1/notes' : `/api/v2/${model.path}`;
    return writeEach(
      inputs,
      this.settings.writeConcurrency,
      async (input) => {
        const prepared = await this.prepare(model, input.fields, async () => undefined);
        if ('ok' in prepared) return prepared;
        const stamp = input.externalId !== undefined && model.externalId ? { code: model.externalId.key, value: input.externalId } : undefined;
        if (stamp) prepared.body.custom_fields = { ...((prepared.body.custom_fields as object | undefined) ?? {}), [stamp.code]: stamp.value };
        const send = async (): Promise<string> => {
          const sentAt = (this.client.serverNow() ?? Date.now()) - LOST_CREATE_LOOKBACK_MS;
          return createIdempotent({
            send: async () => String((await this.client.requestOnce<V2Answer<Row>>('POST', path, { body: prepared.body })).body.data!.id),
            lookup: () => (stamp ? this.findStamped(model, stamp.code, stamp.value, sentAt) : this.findRecentTwin(model, prepared.body, sentAt)),
            retries: this.settings.maxRetries,
            ...(this.clock ? { clock: this.clock } : {}),
          });
        };
        const id = stamp ? await send() : await this.oneTwinAtATime(model, prepared.body, send);
        if (prepared.participants) {
          const failed = await this.writeParticipants(id, prepared.participants, true);
          if (failed) return { ok: false, error: failed };
        }
        return { ok: true, id };
      },
      (error, input) => this.recordError(model, input.fields, error),
    );
  }

  /** The record created since `since` whose external-id custom field holds `value` (a create whose answer was lost). */
  private async findStamped(model: ObjectModel, code: string, value: string, since: number): Promise<string | undefined> {
    const rows = await listV2<Row>(this.client, this.listPath(model), { updated_since: rfc3339(new Date(since).toISOString()), sort_by: 'update_time', custom_fields: code });
    return rows.find((row) => row.custom_fields?.[code] === value)?.id.toString();
  }

  /**
   * Objects without custom fields (activities, notes) cannot carry an external id: a create whose answer was
   * lost is found as the record created since `since` with every sent plain value equal.
   */
  /**
   * Creates of identical bodies (two source notes with the same text on the same deal) one after the other,
   * each claiming its record: a lost answer's look-up then never takes the twin another create is about to
   * claim, so neither record is lost nor sent twice.
   */
  private async oneTwinAtATime(model: ObjectModel, body: Record<string, unknown>, send: () => Promise<string>): Promise<string> {
    const key = `${model.name}:${JSON.stringify(body)}`;
    const previous = this.twinsInFlight.get(key) ?? Promise.resolve();
    let release!: () => void;
    const gate = new Promise<void>((done) => (release = done));
    const mine = previous.then(() => gate);
    this.twinsInFlight.set(key, mine);
    await previous;
    try {
      const id = await send();
      this.claim(model, id);
      return id;
    } finally {
      release();
      if (this.twinsInFlight.get(key) === mine) this.twinsInFlight.delete(key);
    }
  }

  private claim(model: ObjectModel, id: string): void {
    const now = this.client.serverNow() ?? Date.now();
    this.claimed.set(`${model.name}:${id}`, now);
    if (this.claimed.size > 10_000) {
      for (const [key, at] of this.claimed) if (now - at > 2 * LOST_CREATE_LOOKBACK_MS) this.claimed.delete(key);
    }
  }

  private async findRecentTwin(model: ObjectModel, body: Record<string, unknown>, since: number): Promise<string | undefined> {
    const plain = Object.entries(body).filter(([, value]) => value === null || typeof value !== 'object');
    const rows: Row[] = [];
    let cursor: string | undefined;
    const from = Math.floor(since / UNIT_MS) * UNIT_MS;
    do {
      const page = await this.listFrom(model, from, 500, cursor);
      rows.push(...page.rows);
      cursor = page.next;
    } while (cursor);
    const same = (row: Row): boolean =>
      plain.every(([key, value]) => {
        const actual = row[key];
        if (typeof value === 'number' && typeof actual === 'boolean') return actual === (value === 1);
        if (key === 'add_time' || key.endsWith('_time')) return true;
        return actual === value || (typeof value === 'string' && typeof actual === 'string' && comparableText(actual) === comparableText(value));
      });
    // The earliest twin not already another create's (an identical note sent twice on purpose is two notes).
    const twin = rows.filter((row) => same(row) && !this.claimed.has(`${model.name}:${row.id}`)).sort((a, b) => a.id - b.id)[0];
    return twin?.id.toString();
  }

  /** Makes a deal's participants exactly `personIds`; a failure becomes the record's error. */
  private async writeParticipants(dealId: string, personIds: string[], creating: boolean): Promise<RecordError | undefined> {
    try {
      const current = creating ? [] : await this.participantRows(dealId);
      for (const person of personIds) {
        if (current.some((row) => row.person === person)) continue;
        await this.client.request('POST', `/api/v1/deals/${dealId}/participants`, { body: { person_id: Number(person) } });
      }
      for (const row of current) if (!personIds.includes(row.person)) await this.client.request('DELETE', `/api/v1/deals/${dealId}/participants/${row.id}`);
      return undefined;
    } catch (error) {
      if (!isFerryError(error) || !['VALIDATION', 'NOT_FOUND', 'INVALID_VALUE'].includes(error.code)) throw error;
      return { code: 'REFERENCE_MISSING', message: `participants: ${error.message}`, field: 'participants', value: personIds };
    }
  }

  async update(objectName: string, inputs: UpdateInput[]): Promise<WriteResult[]> {
    const model = await this.model.object(objectName);
    this.assertWritable(model);
    return writeEach(
      inputs,
      this.settings.writeConcurrency,
      async (input) => {
        if (!/^\d+$/.test(input.id)) return failure('NOT_FOUND', `Pipedrive ${model.name} ${input.id} does not exist`);
        const prepared = await this.prepare(model, input.fields, () => this.getRow(model, input.id));
        if ('ok' in prepared) return prepared;
        if (Object.keys(prepared.body).length > 0) {
          await this.client.request(model.api === 'notes' ? 'PUT' : 'PATCH', this.recordPath(model, input.id), { body: prepared.body });
        } else if (!(await this.getRow(model, input.id))) {
          return failure('NOT_FOUND', `Pipedrive ${model.name} ${input.id} does not exist`);
        }
        if (prepared.participants) {
          const failed = await this.writeParticipants(input.id, prepared.participants, false);
          if (failed) return { ok: false, error: failed };
        }
        return { ok: true, id: input.id };
      },
      (error, input) => (error.code === 'NOT_FOUND' ? { code: 'NOT_FOUND', message: `Pipedrive ${model.name} ${input.id} does not exist` } : this.recordError(model, input.fields, error)),
    );
  }

  async delete(objectName: string, ids: string[]): Promise<WriteResult[]> {
    const model = await this.model.object(objectName);
    this.assertWritable(model);
    return writeEach(
      ids,
      this.settings.writeConcurrency,
      async (id) => {
        if (!/^\d+$/.test(id)) return failure('NOT_FOUND', `Pipedrive ${model.name} ${id} does not exist`);
        await this.client.request('DELETE', this.recordPath(model, id));
        return { ok: true, id };
      },
      (error, id) => ({ code: error.code === 'NOT_FOUND' ? 'NOT_FOUND' : error.code, message: error.code === 'NOT_FOUND' ? `Pipedrive ${model.name} ${id} does not exist` : error.message }),
    );
  }

  // ------------------------------------------------------------------------------------------ external ids

  /**
   * The custom field holding the source id (`externalIdField`, default "Ferry source id"), created as a text
   * field when missing. Activities, notes, pipelines and stages have no custom fields: undefined.
   */
  async ensureExternalId(objectName: string): Promise<string | undefined> {
    let model = await this.model.object(objectName);
    if (model.externalId) return model.externalId.name;
    if (!model.fieldsPath || !model.writable) return undefined;
    await this.client.request('POST', `/api/v2/${model.fieldsPath}`, { body: { field_name: this.settings.externalIdField, field_type: 'varchar' } });
    model = await this.model.object(objectName, true);
    return model.externalId?.name;
  }

  /**
   * Pipedrive lists cannot filter on a custom field (its search endpoints can, but answer fuzzy matches and
   * have their own limit): the object is listed with only the external-id field among its custom fields, 500
   * records per 10 tokens, until every id asked for is found.
   */
  async findByExternalIds(objectName: string, externalIds: string[]): Promise<Map<string, string>> {
    const model = await this.model.object(objectName);
    const code = model.externalId?.key;
    if (!code || externalIds.length === 0) return new Map();
    const pages = cursorPages(async (cursor) => {
      const response = await this.client.get<V2Answer<Row[]>>(this.listPath(model), { query: { limit: 500, cursor, custom_fields: code } });
      return { items: response.body.data ?? [], next: response.body.additional_data?.next_cursor };
    });
    return findExternalIds(pages, externalIds, (row) => (typeof row.custom_fields?.[code] === 'string' ? (row.custom_fields[code] as string) : undefined), (row) => String(row.id));
  }
}

/** Validates the settings and builds the connector. */
export function createPipedriveConnector(config: PipedriveConnectionConfig | Record<string, unknown>, options: PipedriveConnectorOptions & PipedriveTransportOptions = {}): PipedriveConnector {
  return new PipedriveConnector(parsePipedriveConnectionConfig(config, options), options);
}
