import { invalid } from './errors.js';
import { cursorPage, parseLimit } from './paging.js';
import type { EntityName } from './schema.js';
import type { PipedriveStore, RecordData } from './store.js';
import type { Row } from '../kit/index.js';

/**
 * v2 search: `GET /api/v2/{persons,organizations,deals,products}/search` (wrappers of /v1/itemSearch):
 * `term` (at least 2 characters, or 1 with `exact_match`), `fields` (which fields to search; custom fields of
 * the searchable types only: address, varchar, text, varchar_auto, double, monetary, phone), `exact_match`
 * (whole value, not case sensitive), entity filters, `limit` / `cursor`. Answers
 * `{data: {items: [{result_score, item}]}, additional_data: {next_cursor}}` (v2 OpenAPI examples).
 *
 * Matching here: a case-insensitive substring of a field value, or the whole value with `exact_match`;
 * results in id order; result_score 1 for an exact match of some field, else 0.5 (Pipedrive's relevance
 * scores are not reproduced). A new record becomes searchable `searchIndexDelayMs` after it was created
 * (Pipedrive's search index is not instantaneous; default 0).
 */
const SEARCH_FIELDS: Partial<Record<EntityName, string[]>> = {
  persons: ['custom_fields', 'email', 'notes', 'phone', 'name'],
  organizations: ['address', 'custom_fields', 'notes', 'name'],
  deals: ['custom_fields', 'notes', 'title'],
  products: ['code', 'custom_fields', 'name'],
};
const SEARCHABLE_CUSTOM = new Set(['address', 'varchar', 'text', 'varchar_auto', 'double', 'monetary', 'phone']);

export function searchable(entity: EntityName): boolean {
  return SEARCH_FIELDS[entity] !== undefined;
}

function customText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'object') return String((value as { value?: unknown }).value ?? '');
  return String(value);
}

/** The texts of `field` a search compares the term with. */
function texts(store: PipedriveStore, entity: EntityName, row: Row<RecordData>, field: string): string[] {
  const data = row.data;
  switch (field) {
    case 'name':
    case 'title':
    case 'code':
      return data[field] ? [String(data[field])] : [];
    case 'email':
      return (data.emails as { value: string }[]).map((item) => item.value);
    case 'phone':
      return (data.phones as { value: string }[]).map((item) => item.value);
    case 'address':
      return data.address ? [String((data.address as { value: string }).value)] : [];
    case 'notes':
      return store.notes
        .liveRows()
        .filter((note) => (entity === 'deals' ? note.data.deal_id : entity === 'persons' ? note.data.person_id : entity === 'organizations' ? note.data.org_id : null) === row.id)
        .map((note) => note.data.content);
    case 'custom_fields':
      return store
        .custom(entity)
        .filter((custom) => SEARCHABLE_CUSTOM.has(custom.field_type))
        .map((custom) => customText(data.custom[custom.field_code]))
        .filter((text): text is string => text !== undefined);
    default:
      return [];
  }
}

function searchItem(store: PipedriveStore, entity: EntityName, row: Row<RecordData>, matchedCustom: string[]): Record<string, unknown> {
  const data = row.data;
  const org = (id: unknown) => {
    const found = typeof id === 'number' ? store.table('organizations').get(id) : undefined;
    return found ? { id: found.id, name: found.data.name, address: (found.data.address as { value?: string } | null)?.value ?? null } : null;
  };
  const common = { visible_to: data.visible_to, owner: { id: data.owner_id }, custom_fields: matchedCustom, notes: [] };
  switch (entity) {
    case 'persons':
      return { id: row.id, type: 'person', name: data.name, phones: (data.phones as { value: string }[]).map((item) => item.value), emails: (data.emails as { value: string }[]).map((item) => item.value), ...common, organization: org(data.org_id) };
    case 'organizations':
      return { id: row.id, type: 'organization', name: data.name, address: (data.address as { value?: string } | null)?.value ?? null, ...common };
    case 'deals': {
      const stage = store.table('stages').get(Number(data.stage_id));
      const person = typeof data.person_id === 'number' ? store.table('persons').get(data.person_id) : undefined;
      return { id: row.id, type: 'deal', title: data.title, value: data.value, currency: data.currency, status: data.status, ...common, stage: stage ? { id: stage.id, name: stage.data.name } : null, person: person ? { id: person.id, name: person.data.name } : null, organization: org(data.org_id), is_archived: data.is_archived };
    }
    default:
      return { id: row.id, type: 'product', name: data.name, code: data.code, ...common };
  }
}

export function search(store: PipedriveStore, entity: EntityName, query: URLSearchParams, searchIndexDelayMs: number): { items: unknown[]; nextCursor: string | null } {
  const allowed = SEARCH_FIELDS[entity]!;
  const exactText = query.get('exact_match');
  if (exactText !== null && exactText !== 'true' && exactText !== 'false') throw invalid('exact_match', `must be a boolean, got "${exactText}".`);
  const exact = exactText === 'true';
  const term = (query.get('term') ?? '').trim();
  if (term.length < (exact ? 1 : 2)) throw invalid('term', `must be at least ${exact ? 1 : 2} characters long.`);
  const fieldsText = query.get('fields');
  const fields = fieldsText ? fieldsText.split(',').map((field) => field.trim()) : allowed;
  for (const field of fields) if (!allowed.includes(field)) throw invalid('fields', `must be a comma-separated list of [${allowed.join(', ')}], got "${field}".`);
  const limit = parseLimit(query);
  const filter = (name: string) => {
    const text = query.get(name);
    if (text === null || text === '') return undefined;
    const value = Number(text);
    if (!Number.isInteger(value)) throw invalid(name, `must be an integer, got "${text}".`);
    return value;
  };
  const orgFilter = filter('organization_id');
  const personFilter = entity === 'deals' ? filter('person_id') : undefined;
  const status = entity === 'deals' ? query.get('status') : null;
  if (status !== null && !['open', 'won', 'lost'].includes(status)) throw invalid('status', `must be one of [open, won, lost], got "${status}".`);
  const needle = term.toLowerCase();
  const now = store.clock();
  const hits: { item: unknown; value: number; id: number }[] = [];
  for (const row of store.table(entity).liveRows()) {
    if (now < row.addTime + searchIndexDelayMs) continue;
    if (orgFilter !== undefined && row.data.org_id !== orgFilter) continue;
    if (personFilter !== undefined && row.data.person_id !== personFilter) continue;
    if (status !== null && row.data.status !== status) continue;
    let score = 0;
    const matchedCustom: string[] = [];
    for (const field of fields) {
      for (const text of texts(store, entity, row, field)) {
        const lower = text.toLowerCase();
        const hit = exact ? lower === needle : lower.includes(needle);
        if (!hit) continue;
        score = Math.max(score, lower === needle ? 1 : 0.5);
        if (field === 'custom_fields') matchedCustom.push(text);
      }
    }
    if (score > 0) hits.push({ item: { result_score: score, item: searchItem(store, entity, row, matchedCustom) }, value: row.id, id: row.id });
  }
  const { page, nextCursor } = cursorPage(hits, 'id', 'asc', limit, query.get('cursor'));
  return { items: page, nextCursor };
}
