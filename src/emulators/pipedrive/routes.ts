import type { Row } from '../kit/index.js';
import { PipedriveHttpError, invalid, notFound } from './errors.js';
import { MAX_LIMIT, cursorPage, offsetPage, parseLimit, parseRfc3339Param, parseStart, type SortValue } from './paging.js';
import { ACTIVITY_TYPES, ENTITIES, entityByFieldsPath, type EntityName } from './schema.js';
import { v1Time, type PipedriveStore, type RecordData } from './store.js';
import { search, searchable } from './search.js';

export interface RouteContext {
  method: string;
  query: URLSearchParams;
  body: unknown;
  store: PipedriveStore;
  searchIndexDelayMs: number;
}

export interface RouteResult {
  status: number;
  body: unknown;
}

type Handler = (ctx: RouteContext, ...params: string[]) => RouteResult;

export interface Route {
  method: string;
  pattern: string;
  /** Tokens the request spends (`x-token-cost` of the operation in Pipedrive's OpenAPI files). */
  cost: number;
  /** Search endpoints also count against the search burst window (10 per 2 s). */
  search?: boolean;
  handler: Handler;
}

function ok(data: unknown, additional?: Record<string, unknown>): RouteResult {
  return { status: 200, body: additional ? { success: true, data, additional_data: additional } : { success: true, data } };
}

function idParam(text: string, name = 'id'): number {
  const id = Number(text);
  if (!Number.isInteger(id) || id < 1) throw invalid(name, `must be a positive integer, got "${text}".`);
  return id;
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value)) throw invalid(name, `must be an integer, got "${text}".`);
  return value;
}

function boolParam(query: URLSearchParams, name: string): boolean {
  const text = query.get(name);
  if (text === null || text === '') return false;
  if (text !== 'true' && text !== 'false') throw invalid(name, `must be a boolean, got "${text}".`);
  return text === 'true';
}

function listParam(query: URLSearchParams, name: string, max: number): string[] | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length > max) throw invalid(name, `can have at most ${max} items, got ${items.length}.`);
  return items;
}

function sortValue(row: Row<RecordData>, field: string): SortValue {
  switch (field) {
    case 'id':
      return row.id;
    case 'update_time':
      return Math.floor(row.updateTime / 1000);
    case 'add_time':
      return Math.floor(row.addTime / 1000);
    case 'order_nr':
      return Number(row.data.order_nr);
    default: {
      const value = row.data[field];
      return value === null || value === undefined ? '' : String(value);
    }
  }
}

/**
 * GET /api/v2/{entity}: filters, `updated_since` (inclusive) / `updated_until` (exclusive) compared with
 * update_time at the second it is answered with, `sort_by` / `sort_direction`, cursor paging. Deleted
 * records are left out (deals: unless `status=deleted`, which lists deals deleted in the last 30 days);
 * `/deals` lists deals that are not archived, `/deals/archived` only archived ones.
 */
function listRecords(entity: EntityName, archived?: boolean): Handler {
  const info = ENTITIES[entity];
  return (ctx) => {
    const { query, store } = ctx;
    if (query.get('filter_id')) throw new PipedriveHttpError(400, 'filter_id is not emulated: filters are saved in the Pipedrive UI.');
    const limit = parseLimit(query);
    const sortBy = query.get('sort_by') ?? 'id';
    if (!info.sortBy.includes(sortBy)) throw invalid('sort_by', `must be one of [${info.sortBy.join(', ')}], got "${sortBy}".`);
    const direction = query.get('sort_direction') ?? 'asc';
    if (direction !== 'asc' && direction !== 'desc') throw invalid('sort_direction', `must be one of [asc, desc], got "${direction}".`);
    const since = parseRfc3339Param(query, 'updated_since');
    if (!info.updatedUntil && query.get('updated_until')) throw invalid('updated_until', `is not allowed for ${entity}.`);
    const until = info.updatedUntil ? parseRfc3339Param(query, 'updated_until') : undefined;
    const ids = listParam(query, 'ids', 100)?.map((text) => idParam(text, 'ids'));
    const customKeys = listParam(query, 'custom_fields', 15);
    const optionLabels = boolParam(query, 'include_option_labels');
    const filters = new Map<string, number>();
    for (const name of info.filters) {
      if (name === 'status' || name === 'done') continue;
      const value = intParam(query, name);
      if (value !== undefined) filters.set(name, value);
    }
    let statuses = ['open', 'won', 'lost'];
    if (info.filters.includes('status')) {
      const given = listParam(query, 'status', 4);
      if (given) {
        for (const status of given) if (!['open', 'won', 'lost', 'deleted'].includes(status)) throw invalid('status', `must be one of [open, won, lost, deleted], got "${status}".`);
        statuses = given;
      }
    }
    let done: boolean | undefined;
    if (info.filters.includes('done') && query.get('done') !== null) {
      const text = query.get('done');
      if (!['true', 'false', '1', '0'].includes(text ?? '')) throw invalid('done', `must be a boolean, got "${text}".`);
      done = text === 'true' || text === '1';
    }
    const dealPersons = filters.has('deal_id') && entity === 'persons' ? personsOfDeal(store, filters.get('deal_id')!) : undefined;
    const rows = store
      .table(entity)
      .all()
      .filter((row) => {
        if (!store.visible(row)) return false;
        if (entity === 'deals') {
          const status = row.deleted ? 'deleted' : String(row.data.status);
          if (!statuses.includes(status)) return false;
          if (archived !== undefined && Boolean(row.data.is_archived) !== archived) return false;
        } else if (row.deleted) return false;
        if (ids && !ids.includes(row.id)) return false;
        const seconds = Math.floor(row.updateTime / 1000);
        if (since !== undefined && seconds < since) return false;
        if (until !== undefined && seconds >= until) return false;
        for (const [name, value] of filters) {
          if (name === 'deal_id' && dealPersons) {
            if (!dealPersons.has(row.id)) return false;
          } else if (name === 'person_id' && entity === 'activities') {
            if (!(row.data.participants as { person_id: number }[]).some((participant) => participant.person_id === value)) return false;
          } else if (row.data[name] !== value) return false;
        }
        if (done !== undefined && row.data.done !== done) return false;
        return true;
      });
    const { page, nextCursor } = cursorPage(
      rows.map((row) => ({ item: row, value: sortValue(row, sortBy), id: row.id })),
      sortBy,
      direction,
      limit,
      query.get('cursor'),
    );
    return ok(
      page.map((row) => store.toV2(entity, row, customKeys, optionLabels)),
      { next_cursor: nextCursor },
    );
  };
}

function personsOfDeal(store: PipedriveStore, dealId: number): Set<number> {
  const persons = new Set<number>();
  const deal = store.table('deals').get(dealId);
  if (deal && typeof deal.data.person_id === 'number') persons.add(deal.data.person_id);
  for (const participant of store.participants.liveRows()) if (participant.data.deal_id === dealId) persons.add(participant.data.person_id);
  return persons;
}

function getRecord(entity: EntityName): Handler {
  return (ctx, id) => {
    const row = ctx.store.find(entity, idParam(id!));
    if (!row) throw notFound();
    return ok(ctx.store.toV2(entity, row, listParam(ctx.query, 'custom_fields', 15), boolParam(ctx.query, 'include_option_labels')));
  };
}

/** Creates answer 200, except products' 201 (the response codes of the v2 OpenAPI operations). */
function createRecord(entity: EntityName): Handler {
  return (ctx) => ({ ...ok(ctx.store.toV2(entity, ctx.store.create(entity, ctx.body))), ...(entity === 'products' ? { status: 201 } : {}) });
}

/**
 * PATCH. An archived deal is not editable through the API (changelog "archived deals and leads will not be
 * editable", effective 15 July 2025) except to unarchive it (`is_archived: false`, with other changes or
 * not): a 400 otherwise (status and text: **assumption**). Edits "as a person in the UI" (`store.update`) go on.
 */
function updateRecord(entity: EntityName): Handler {
  return (ctx, id) => {
    const recordId = idParam(id!);
    if (entity === 'deals') {
      const row = ctx.store.find('deals', recordId);
      const unarchiving = typeof ctx.body === 'object' && ctx.body !== null && (ctx.body as { is_archived?: unknown }).is_archived === false;
      if (row && !row.deleted && row.data.is_archived === true && !unarchiving) throw new PipedriveHttpError(400, 'Archived deals can not be edited through the API: unarchive the deal first (is_archived: false).');
    }
    return ok(ctx.store.toV2(entity, ctx.store.update(entity, recordId, ctx.body)));
  };
}

function deleteRecord(entity: EntityName): Handler {
  return (ctx, id) => ok({ id: ctx.store.remove(entity, idParam(id!)).id });
}

function fieldEntity(path: string): EntityName {
  const info = entityByFieldsPath(path);
  if (!info) throw notFound();
  return info.name;
}

/** GET /api/v2/{entity}Fields: standard then custom fields, cursor paging by position. */
function listFields(path: string): Handler {
  return (ctx) => {
    const entity = fieldEntity(path);
    const limit = parseLimit(ctx.query);
    const fields = ctx.store.fields(entity);
    const { page, nextCursor } = cursorPage(
      fields.map((field, index) => ({ item: field, value: index, id: index })),
      'position',
      'asc',
      limit,
      ctx.query.get('cursor'),
    );
    return ok(page.map(publicField), { next_cursor: nextCursor });
  };
}

/** Address subfields with their names' prefixes, as the v2 OpenAPI `activityFields` example lists them. */
const ADDRESS_SUBFIELDS: [code: string, name: string][] = [
  ['value', 'Address value'],
  ['street_number', 'House number'],
  ['route', 'Street/road name'],
  ['subpremise', 'Apartment/suite'],
  ['locality', 'District'],
  ['admin_area_level_1', 'State/province'],
  ['admin_area_level_2', 'County'],
  ['country', 'Country'],
  ['postal_code', 'Postal code'],
  ['formatted_address', 'Formatted address'],
];

/**
 * `subfields` of complex types ("address, monetary, null for simple field types"): monetary `value` (double)
 * and `currency` (varchar), address its parts, named `<part> of <field>` (the v2 OpenAPI field examples).
 */
function subfields(type: string, name: string): { field_code: string; field_name: string; field_type: string }[] | null {
  if (type === 'monetary') return [{ field_code: 'value', field_name: `Amount of ${name}`, field_type: 'double' }, { field_code: 'currency', field_name: `Currency of ${name}`, field_type: 'varchar' }];
  if (type === 'address') return ADDRESS_SUBFIELDS.map(([code, part]) => ({ field_code: code, field_name: `${part} of ${name}`, field_type: 'varchar' }));
  return null;
}

function publicField(field: { field_code: string; field_name: string; field_type: string; options: unknown; is_custom_field: boolean; description?: string | null }): Record<string, unknown> {
  return { field_name: field.field_name, field_code: field.field_code, description: field.description ?? null, field_type: field.field_type, options: field.options, subfields: subfields(field.field_type, field.field_name), is_custom_field: field.is_custom_field, is_optional_response_field: false };
}

function getField(path: string): Handler {
  return (ctx, code) => {
    const field = ctx.store.fields(fieldEntity(path)).find((candidate) => candidate.field_code === code);
    if (!field) throw notFound('Field');
    return ok(publicField(field));
  };
}

function createField(path: string): Handler {
  return (ctx) => ok(publicField(ctx.store.addCustomField(fieldEntity(path), ctx.body)));
}

/**
 * GET /api/v1/{entity}Fields: the v1 form of the same definitions (numeric `id`, `key` = the 40-hex code for
 * custom fields, `name`, `edit_flag` for custom fields, `mandatory_flag`), with start/limit paging as in the
 * v1 OpenAPI example (`additional_data.pagination`).
 */
function listFieldsV1(path: string): Handler {
  return (ctx) => {
    const entity = fieldEntity(path);
    const required = new Set(ENTITIES[entity].required);
    const stamp = v1Time(0);
    const fields = ctx.store.fields(entity).map((field, index) => ({
      id: index + 1,
      key: field.field_code,
      name: field.field_name,
      order_nr: index + 1,
      field_type: field.field_type,
      add_time: stamp,
      update_time: stamp,
      last_updated_by_user_id: null,
      created_by_user_id: null,
      active_flag: true,
      edit_flag: field.is_custom_field,
      index_visible_flag: true,
      details_visible_flag: true,
      add_visible_flag: true,
      important_flag: false,
      bulk_edit_allowed: true,
      searchable_flag: false,
      filtering_allowed: true,
      sortable_flag: true,
      options: field.options,
      mandatory_flag: required.has(field.field_code),
    }));
    const { page, pagination } = offsetPage(fields, parseStart(ctx.query), parseLimit(ctx.query));
    return ok(page, { pagination });
  };
}

// ---- v1 -----------------------------------------------------------------------------------------------

/** v1 `sort`: "field ASC" or "field DESC" (one field; id, add_time, update_time, content). */
function v1Sort(query: URLSearchParams): { field: string; direction: 1 | -1 } {
  const text = query.get('sort');
  if (text === null || text.trim() === '') return { field: 'id', direction: 1 };
  const match = /^(id|add_time|update_time|content)(?:\s+(ASC|DESC))?$/i.exec(text.trim());
  if (!match) throw invalid('sort', `must be "<field> ASC|DESC" with field one of [id, add_time, update_time, content], got "${text}".`);
  return { field: match[1]!.toLowerCase(), direction: match[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
}

function v1Date(query: URLSearchParams, name: string): string | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw invalid(name, `must be a date in the format YYYY-MM-DD, got "${text}".`);
  return text;
}

/**
 * GET /api/v1/notes: filters, `updated_since` (inclusive, RFC 3339 like v2's: the v1 OpenAPI parameter is
 * `format: date-time`, "In RFC3339 format, e.g. 2025-01-01T10:20:00Z", although v1 answers times as
 * `YYYY-MM-DD HH:MM:SS`), `start_date`/`end_date` (dates) on add_time, `sort`, offset paging.
 */
const listNotes: Handler = (ctx) => {
  const { query, store } = ctx;
  const start = parseStart(query);
  const limit = parseLimit(query);
  const sort = v1Sort(query);
  const filters: [string, number | undefined][] = ['deal_id', 'person_id', 'org_id', 'user_id'].map((name) => [name, intParam(query, name)]);
  const pins: [string, string | null][] = ['pinned_to_deal_flag', 'pinned_to_person_flag', 'pinned_to_organization_flag'].map((name) => [name, query.get(name)]);
  for (const [name, value] of pins) if (value !== null && value !== '' && value !== '0' && value !== '1') throw invalid(name, `must be 0 or 1, got "${value}".`);
  const since = parseRfc3339Param(query, 'updated_since');
  const startDate = v1Date(query, 'start_date');
  const endDate = v1Date(query, 'end_date');
  const rows = store.notes.liveRows().filter((row) => {
    const data = row.data as unknown as Record<string, unknown>;
    for (const [name, value] of filters) if (value !== undefined && data[name] !== value) return false;
    for (const [name, value] of pins) {
      if (value === null || value === '') continue;
      if (data[name] !== (value === '1')) return false;
    }
    if (since !== undefined && Math.floor(row.updateTime / 1000) < since) return false;
    const day = v1Time(row.addTime).slice(0, 10);
    if (startDate !== undefined && day < startDate) return false;
    if (endDate !== undefined && day > endDate) return false;
    return true;
  });
  const key = (row: (typeof rows)[number]): SortValue => (sort.field === 'id' ? row.id : sort.field === 'add_time' ? Math.floor(row.addTime / 1000) : sort.field === 'update_time' ? Math.floor(row.updateTime / 1000) : row.data.content);
  rows.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return sort.direction * (x < y ? -1 : x > y ? 1 : a.id - b.id);
  });
  const { page, pagination } = offsetPage(rows, start, limit);
  return ok(
    page.map((row) => store.noteV1(row)),
    { pagination },
  );
};

function liveNote(store: PipedriveStore, text: string) {
  const row = store.notes.live(idParam(text));
  if (!row) throw notFound('Note');
  return row;
}

const listUsers: Handler = (ctx) => ok(ctx.store.users.all().map((row) => ctx.store.userV1(row)));

function getUser(me: boolean): Handler {
  return (ctx, id) => {
    const row = ctx.store.users.get(me ? ctx.store.currentUserId : idParam(id!));
    if (!row) throw notFound('User');
    const user = ctx.store.userV1(row);
    if (me) Object.assign(user, { company_id: ctx.store.companyId, company_name: 'Emulated Company', company_domain: ctx.store.companyDomain, company_country: 'US', language: { language_code: 'en', country_code: 'US' } });
    return ok(user);
  };
}

function dealOf(store: PipedriveStore, text: string): number {
  const id = idParam(text);
  if (!store.table('deals').live(id)) throw notFound('Deal');
  return id;
}

const listParticipants: Handler = (ctx, dealText) => {
  const dealId = dealOf(ctx.store, dealText!);
  const start = parseStart(ctx.query);
  const limit = parseLimit(ctx.query);
  const rows = ctx.store.participants.liveRows().filter((row) => row.data.deal_id === dealId);
  const { page, pagination } = offsetPage(rows, start, limit);
  return ok(
    page.map((row) => ctx.store.participantV1(row)),
    { pagination },
  );
};

const deleteParticipant: Handler = (ctx, dealText, participantText) => {
  const dealId = dealOf(ctx.store, dealText!);
  const participantId = idParam(participantText!, 'deal_participant_id');
  const row = ctx.store.participants.live(participantId);
  if (!row || row.data.deal_id !== dealId) throw notFound('Participant');
  ctx.store.participants.markDeleted(participantId);
  return ok({ id: participantId });
};

const listActivityTypes: Handler = () =>
  ok(ACTIVITY_TYPES.map((type, index) => ({ id: index + 1, order_nr: index + 1, name: type.name, key_string: type.key_string, icon_key: type.key_string, active_flag: true, color: null, is_custom_flag: false, add_time: '2020-01-01 00:00:00', update_time: null })));

// ---- the table ----------------------------------------------------------------------------------------

const V2 = '/api/v2';
const V1 = '/api/v1';

function recordRoutes(entity: EntityName, listCost: number): Route[] {
  const searchRoute: Route[] = searchable(entity)
    ? [
        {
          method: 'GET',
          pattern: `${V2}/${entity}/search`,
          cost: 20,
          search: true,
          handler: (ctx) => {
            const { items, nextCursor } = search(ctx.store, entity, ctx.query, ctx.searchIndexDelayMs);
            return ok({ items }, { next_cursor: nextCursor });
          },
        },
      ]
    : [];
  return [
    ...searchRoute,
    { method: 'GET', pattern: `${V2}/${entity}`, cost: listCost, handler: listRecords(entity, entity === 'deals' ? false : undefined) },
    { method: 'POST', pattern: `${V2}/${entity}`, cost: 5, handler: createRecord(entity) },
    { method: 'GET', pattern: `${V2}/${entity}/:id`, cost: 1, handler: getRecord(entity) },
    { method: 'PATCH', pattern: `${V2}/${entity}/:id`, cost: 5, handler: updateRecord(entity) },
    { method: 'DELETE', pattern: `${V2}/${entity}/:id`, cost: 3, handler: deleteRecord(entity) },
  ];
}

function fieldRoutes(path: string, custom: boolean): Route[] {
  const routes: Route[] = [
    { method: 'GET', pattern: `${V2}/${path}`, cost: 10, handler: listFields(path) },
    { method: 'GET', pattern: `${V2}/${path}/:code`, cost: 1, handler: getField(path) },
  ];
  if (custom) routes.push({ method: 'POST', pattern: `${V2}/${path}`, cost: 5, handler: createField(path) });
  return routes;
}

/** Every emulated endpoint with its token cost, checked against the OpenAPI files' `x-token-cost`. */
export const ROUTES: Route[] = [
  { method: 'GET', pattern: `${V2}/deals/archived`, cost: 20, handler: listRecords('deals', true) },
  ...recordRoutes('deals', 10),
  ...recordRoutes('persons', 10),
  ...recordRoutes('organizations', 10),
  ...recordRoutes('activities', 10),
  ...recordRoutes('products', 10),
  ...recordRoutes('pipelines', 5),
  ...recordRoutes('stages', 5),
  ...fieldRoutes('personFields', true),
  ...fieldRoutes('organizationFields', true),
  ...fieldRoutes('dealFields', true),
  ...fieldRoutes('productFields', true),
  ...fieldRoutes('activityFields', false),
  ...['personFields', 'organizationFields', 'dealFields', 'productFields'].map((path): Route => ({ method: 'GET', pattern: `${V1}/${path}`, cost: 20, handler: listFieldsV1(path) })),
  { method: 'GET', pattern: `${V1}/notes`, cost: 20, handler: listNotes },
  { method: 'POST', pattern: `${V1}/notes`, cost: 10, handler: (ctx) => ok(ctx.store.noteV1(ctx.store.writeNote(ctx.body))) },
  { method: 'GET', pattern: `${V1}/notes/:id`, cost: 2, handler: (ctx, id) => ok(ctx.store.noteV1(liveNote(ctx.store, id!))) },
  { method: 'PUT', pattern: `${V1}/notes/:id`, cost: 10, handler: (ctx, id) => ok(ctx.store.noteV1(ctx.store.writeNote(ctx.body, liveNote(ctx.store, id!).id))) },
  {
    method: 'DELETE',
    pattern: `${V1}/notes/:id`,
    cost: 6,
    handler: (ctx, id) => {
      ctx.store.notes.markDeleted(liveNote(ctx.store, id!).id);
      return ok(true);
    },
  },
  { method: 'GET', pattern: `${V1}/users`, cost: 20, handler: listUsers },
  { method: 'GET', pattern: `${V1}/users/me`, cost: 2, handler: getUser(true) },
  { method: 'GET', pattern: `${V1}/users/:id`, cost: 2, handler: getUser(false) },
  { method: 'GET', pattern: `${V1}/activityTypes`, cost: 20, handler: listActivityTypes },
  { method: 'GET', pattern: `${V1}/deals/:id/participants`, cost: 10, handler: listParticipants },
  { method: 'POST', pattern: `${V1}/deals/:id/participants`, cost: 10, handler: (ctx, id) => ok(ctx.store.participantV1(ctx.store.addParticipant(dealOf(ctx.store, id!), ctx.body))) },
  { method: 'DELETE', pattern: `${V1}/deals/:id/participants/:participant`, cost: 6, handler: deleteParticipant },
];

export { MAX_LIMIT };
