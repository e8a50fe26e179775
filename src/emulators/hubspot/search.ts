import { badRequest } from './errors.js';
import type { PropertyDefinition } from './schema.js';
import type { HubspotStore, PublicRecord, StoredRecord } from './store.js';
import { toEpochMillis } from './values.js';

/**
 * POST /crm/v3/objects/{type}/search.
 * https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm
 * Limits: at most 200 results per page, 5 filter groups, 10 filters per group and 25 filters in all
 * (https://developers.hubspot.com/changelog/breaking-change-expanded-filtering-capabilities-and-error-messaging-in-hubspots-search-api),
 * and at most 10,000 results per query: paging past that is a 400
 * (https://docs.aws.amazon.com/glue/latest/dg/hubspot-connector-limitations.html quoting HubSpot's limits).
 */
export const SEARCH_MAX_LIMIT = 200;
export const SEARCH_RESULT_CAP = 10_000;
const OPERATORS = ['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN'];

interface Filter {
  propertyName: string;
  operator: string;
  value?: unknown;
  highValue?: unknown;
  values?: unknown[];
}

interface SearchRequest {
  filterGroups?: { filters?: Filter[] }[];
  sorts?: (string | { propertyName: string; direction?: string })[];
  query?: string;
  properties?: string[];
  limit?: number;
  after?: string | number;
}

export interface SearchResponse {
  total: number;
  results: PublicRecord[];
  paging?: { next: { after: string } };
}

type View = { properties: Map<string, string>; updatedAt: number; archived: boolean };

function comparable(definition: PropertyDefinition, raw: string): number | string {
  if (definition.type === 'number' || definition.type === 'date' || definition.type === 'datetime') {
    const millis = definition.type === 'number' ? Number(raw) : toEpochMillis(raw);
    return millis === undefined || Number.isNaN(millis) ? raw.toLowerCase() : millis;
  }
  return raw.toLowerCase();
}

function compare(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function tokens(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}@._-]+/u).filter(Boolean);
}

function tokenMatches(value: string, pattern: string): boolean {
  const wanted = pattern.toLowerCase();
  if (wanted.includes('*')) {
    const regex = new RegExp(`^${wanted.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return regex.test(value.toLowerCase()) || tokens(value).some((token) => regex.test(token));
  }
  return value.toLowerCase() === wanted || tokens(value).includes(wanted);
}

function matches(filter: Filter, definition: PropertyDefinition, stored: string | undefined): boolean {
  const operator = filter.operator;
  if (operator === 'HAS_PROPERTY') return stored !== undefined && stored !== '';
  if (operator === 'NOT_HAS_PROPERTY') return stored === undefined || stored === '';
  if (stored === undefined || stored === '') return operator === 'NEQ' || operator === 'NOT_IN' || operator === 'NOT_CONTAINS_TOKEN';
  const actual = comparable(definition, stored);
  const value = filter.value === undefined ? undefined : comparable(definition, String(filter.value));
  switch (operator) {
    case 'EQ':
      return value !== undefined && compare(actual, value) === 0;
    case 'NEQ':
      return value === undefined || compare(actual, value) !== 0;
    case 'LT':
      return value !== undefined && compare(actual, value) < 0;
    case 'LTE':
      return value !== undefined && compare(actual, value) <= 0;
    case 'GT':
      return value !== undefined && compare(actual, value) > 0;
    case 'GTE':
      return value !== undefined && compare(actual, value) >= 0;
    case 'BETWEEN': {
      const high = filter.highValue === undefined ? undefined : comparable(definition, String(filter.highValue));
      return value !== undefined && high !== undefined && compare(actual, value) >= 0 && compare(actual, high) <= 0;
    }
    case 'IN':
    case 'NOT_IN': {
      const candidates = (filter.values ?? []).map((candidate) => comparable(definition, String(candidate)));
      const found = definition.fieldType === 'checkbox'
        ? stored.split(';').some((part) => candidates.some((candidate) => compare(comparable(definition, part), candidate) === 0))
        : candidates.some((candidate) => compare(actual, candidate) === 0);
      return operator === 'IN' ? found : !found;
    }
    case 'CONTAINS_TOKEN':
      return tokenMatches(stored, String(filter.value ?? ''));
    case 'NOT_CONTAINS_TOKEN':
      return !tokenMatches(stored, String(filter.value ?? ''));
    default:
      return false;
  }
}

/**
 * The value a filter or sort on `name` compares. Live HubSpot: a contacts search filtered on
 * `hs_lastmodifieddate` silently misses records, `lastmodifieddate` works for contacts
 * (https://community.hubspot.com/t5/APIs-Integrations/CRM-V3-API-Search-issue-with-Contacts-when-using-Filters/m-p/324617,
 * https://github.com/amp-labs/connectors/pull/45). HubSpot does not say which records it misses; the emulator
 * picks a deterministic rule: for contacts, the search index holds `hs_lastmodifieddate` as it was when the
 * contact was created (its `createdate`), so updates never move it there. A filter on it finds new contacts
 * and misses every updated one. What a search returns, and every other read, shows the true value.
 */
function indexedValue(objectType: string, view: View, name: string): string | undefined {
  if (objectType === 'contacts' && name === 'hs_lastmodifieddate') return view.properties.get('createdate');
  return view.properties.get(name);
}

/** What search sees of a record now: the current state, or the state before the last write while indexing lags. */
function searchView(record: StoredRecord, now: number): View | undefined {
  if (now >= record.searchableAt) return { properties: record.properties, updatedAt: record.updatedAt, archived: record.archived };
  return record.indexed;
}

export function runSearch(store: HubspotStore, objectType: string, body: unknown): SearchResponse {
  const request = (body ?? {}) as SearchRequest;
  const limit = request.limit === undefined ? 10 : Number(request.limit);
  if (!Number.isInteger(limit) || limit < 0 || limit > SEARCH_MAX_LIMIT) {
    throw badRequest(`limit must be between 0 and ${SEARCH_MAX_LIMIT}, got ${String(request.limit)}`);
  }
  const offset = request.after === undefined || request.after === '' ? 0 : Number(request.after);
  if (!Number.isInteger(offset) || offset < 0) throw badRequest(`Invalid after value: ${String(request.after)}`);
  if (offset >= SEARCH_RESULT_CAP) {
    // HubSpot answers a page past the 10,000th result with HTTP 400 (exact wording unverified).
    throw badRequest(`The search endpoint returns at most ${SEARCH_RESULT_CAP} results for a query; after=${offset} is past that limit.`, {
      context: { after: [String(offset)] },
    });
  }
  const groups = request.filterGroups ?? [];
  const filterCount = groups.reduce((sum, group) => sum + (group.filters?.length ?? 0), 0);
  if (groups.length > 5 || groups.some((group) => (group.filters?.length ?? 0) > 10) || filterCount > 25) {
    throw badRequest('Too many filters: at most 5 filterGroups, 10 filters per group and 25 filters in total are allowed.');
  }
  const definitions = store.properties(objectType);
  for (const group of groups) {
    for (const filter of group.filters ?? []) {
      if (!OPERATORS.includes(filter.operator)) throw badRequest(`Unknown operator ${String(filter.operator)} for property ${filter.propertyName}`);
      const definition = definitions.get(filter.propertyName);
      if (!definition) throw badRequest(`There was a problem with the request: property ${filter.propertyName} does not exist`, { context: { propertyName: [filter.propertyName] } });
    }
  }
  const sorts = (request.sorts ?? []).map((sort) =>
    typeof sort === 'string'
      ? { propertyName: sort.replace(/^-/, ''), descending: sort.startsWith('-') }
      : { propertyName: sort.propertyName, descending: String(sort.direction ?? 'ASCENDING').toUpperCase() === 'DESCENDING' },
  );
  // Only one sort rule is honoured by HubSpot's search ("you can only sort by one property"); the rest are ignored.
  const sort = sorts[0];
  if (sort && !definitions.get(sort.propertyName)) throw badRequest(`Cannot sort by unknown property ${sort.propertyName}`);

  const now = store.clock();
  const matched: { record: StoredRecord; view: View }[] = [];
  for (const record of store.table(objectType).values()) {
    const view = searchView(record, now);
    if (!view || view.archived) continue;
    if (request.query && !queryMatches(objectType, view, request.query)) continue;
    const passes = groups.length === 0 || groups.some((group) => (group.filters ?? []).every((filter) => matches(filter, definitions.get(filter.propertyName)!, indexedValue(objectType, view, filter.propertyName))));
    if (passes) matched.push({ record, view });
  }
  // Ties (e.g. many records with the same hs_lastmodifieddate) are broken by record id ascending, so a query's
  // order is stable from page to page. HubSpot does not document its tie order (assumption; see the docs page).
  const sortDefinition = sort ? definitions.get(sort.propertyName)! : undefined;
  matched.sort((a, b) => {
    if (sort && sortDefinition) {
      const left = indexedValue(objectType, a.view, sort.propertyName);
      const right = indexedValue(objectType, b.view, sort.propertyName);
      if (left !== right) {
        if (left === undefined) return 1; // records without a value sort last
        if (right === undefined) return -1;
        const order = compare(comparable(sortDefinition, left), comparable(sortDefinition, right));
        if (order !== 0) return sort.descending ? -order : order;
      }
    }
    return Number(a.record.id) - Number(b.record.id);
  });
  const end = Math.min(offset + limit, matched.length, SEARCH_RESULT_CAP);
  const page = matched.slice(offset, end);
  const response: SearchResponse = {
    total: matched.length,
    results: page.map(({ record, view }) => store.toPublic(record, request.properties, { view })),
  };
  if (end < matched.length && limit > 0) response.paging = { next: { after: String(end) } };
  return response;
}

/** Free-text `query`: matches default searchable text properties by token prefix. */
function queryMatches(objectType: string, view: View, query: string): boolean {
  const fields: Record<string, string[]> = {
    contacts: ['firstname', 'lastname', 'email', 'phone', 'company'],
    companies: ['name', 'domain', 'website', 'phone'],
    deals: ['dealname'],
  };
  const wanted = query.toLowerCase();
  return (fields[objectType] ?? []).some((name) => {
    const value = view.properties.get(name);
    return value !== undefined && (value.toLowerCase().startsWith(wanted) || tokens(value).some((token) => token.startsWith(wanted)));
  });
}
