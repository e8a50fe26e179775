import { invalid } from './errors.js';
import { parseDateTime } from './values.js';

/**
 * v2 cursor paging and v1 offset paging.
 *
 * v2: `limit` (default 100, at most 500), `cursor` "the marker (an opaque string value) representing the first
 * item on the next page", `additional_data.next_cursor` (null on the last page). The emulator's cursor is
 * base64url JSON `{field, fieldValue, sortDirection, id}` of the next page's first item, the form Pipedrive's
 * own example cursor decodes to; paging is keyset paging on (sort value, id), so a record edited while a
 * client pages by update_time moves to a later page instead of shifting others.
 *
 * v1: `start` (default 0), `limit` (default 100, at most 500),
 * `additional_data.pagination {start, limit, more_items_in_collection, next_start}`.
 */
export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 100;

export type SortValue = number | string;

export interface CursorPosition {
  field: string;
  fieldValue: SortValue;
  sortDirection: 'asc' | 'desc';
  id: number;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(text: string, field: string, direction: 'asc' | 'desc'): CursorPosition {
  let position: CursorPosition;
  try {
    position = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as CursorPosition;
  } catch {
    throw invalid('cursor', 'is not a valid cursor.');
  }
  if (typeof position !== 'object' || position === null || typeof position.id !== 'number' || (typeof position.fieldValue !== 'number' && typeof position.fieldValue !== 'string')) {
    throw invalid('cursor', 'is not a valid cursor.');
  }
  if (position.field !== field || position.sortDirection !== direction) throw invalid('cursor', `was made for sort_by=${position.field}&sort_direction=${position.sortDirection}, not ${field} ${direction}.`);
  return position;
}

export function parseLimit(query: URLSearchParams): number {
  const text = query.get('limit');
  if (text === null || text === '') return DEFAULT_LIMIT;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1) throw invalid('limit', `must be a positive integer, got "${text}".`);
  if (limit > MAX_LIMIT) throw invalid('limit', `must be less than or equal to ${MAX_LIMIT}, got ${limit}.`);
  return limit;
}

export function parseStart(query: URLSearchParams): number {
  const text = query.get('start');
  if (text === null || text === '') return 0;
  const start = Number(text);
  if (!Number.isInteger(start) || start < 0) throw invalid('start', `must be a non-negative integer, got "${text}".`);
  return start;
}

/** RFC 3339 only (v2 list filters): `updated_since=2026-03-01T12:00:00Z`. Returns epoch seconds. */
export function parseRfc3339Param(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  const millis = text.includes('T') ? parseDateTime(text) : undefined;
  if (millis === undefined) throw invalid(name, `must be a date and time in RFC 3339 format (e.g. 2025-01-01T10:20:00Z), got "${text}".`);
  return Math.floor(millis / 1000);
}

export interface Sortable<T> {
  item: T;
  value: SortValue;
  id: number;
}

function compare(a: { value: SortValue; id: number }, b: { value: SortValue; id: number }): number {
  if (a.value < b.value) return -1;
  if (a.value > b.value) return 1;
  return a.id - b.id;
}

/** One v2 page of `items` sorted by (value, id) in `direction`, from `cursor` on. */
export function cursorPage<T>(items: Sortable<T>[], field: string, direction: 'asc' | 'desc', limit: number, cursorText: string | null): { page: T[]; nextCursor: string | null } {
  const sign = direction === 'asc' ? 1 : -1;
  const sorted = [...items].sort((a, b) => sign * compare(a, b));
  let from = 0;
  if (cursorText !== null && cursorText !== '') {
    const position = decodeCursor(cursorText, field, direction);
    const at = { value: position.fieldValue, id: position.id };
    from = sorted.findIndex((entry) => sign * compare(entry, at) >= 0);
    if (from < 0) from = sorted.length;
  }
  const slice = sorted.slice(from, from + limit + 1);
  const next = slice.length > limit ? slice[limit]! : undefined;
  return {
    page: slice.slice(0, limit).map((entry) => entry.item),
    nextCursor: next ? encodeCursor({ field, fieldValue: next.value, sortDirection: direction, id: next.id }) : null,
  };
}

export function offsetPage<T>(items: T[], start: number, limit: number): { page: T[]; pagination: Record<string, unknown> } {
  const page = items.slice(start, start + limit);
  const more = start + limit < items.length;
  const pagination: Record<string, unknown> = { start, limit, more_items_in_collection: more };
  if (more) pagination.next_start = start + limit;
  return { page, pagination };
}
