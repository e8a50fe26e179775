import type { FieldValue } from '../../core/schema.js';
import { parseInstant } from '../../core/time.js';

/**
 * Pipedrive values to Ferry's conventions (src/core/schema.ts) and back. v2 is strict about JSON types
 * ("numeric fields do not convert strings", https://pipedrive.readme.io/docs/pipedrive-api-v2-migration-guide),
 * so every write value is converted here and a value that cannot be is refused before any request, naming
 * the field and the value.
 */
export type Conversion = { ok: true; value: unknown } | { ok: false; message: string };

export const ok = (value: unknown): Conversion => ({ ok: true, value });
export const bad = (message: string): Conversion => ({ ok: false, message });

/** v2 `2026-03-01T12:00:00Z` or v1 `2026-03-01 12:00:00` (UTC) -> ISO with ms; null when empty. */
export function instantFrom(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw === '') return null;
  const text = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(raw) ? `${raw.replace(' ', 'T')}Z` : raw;
  return parseInstant(text) ?? null;
}

/** ISO -> v2 RFC 3339 to the second. */
export function rfc3339(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

/** ISO -> v1 `YYYY-MM-DD HH:MM:SS` (UTC). */
export function v1Time(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

export function toInstant(value: FieldValue, format: 'v2' | 'v1'): Conversion {
  if (value === null) return ok(null);
  const instant = parseInstant(value);
  if (!instant) return bad(`is not a date-time`);
  return ok(format === 'v2' ? rfc3339(instant) : v1Time(instant));
}

export function toId(value: FieldValue): Conversion {
  if (value === null || value === '') return ok(null);
  const id = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) return bad('is not a Pipedrive record id (a positive integer)');
  return ok(id);
}

export function idFrom(raw: unknown): string | null {
  if (typeof raw === 'number') return String(raw);
  if (typeof raw === 'object' && raw !== null && typeof (raw as { value?: unknown }).value === 'number') return String((raw as { value: number }).value);
  return typeof raw === 'string' && raw !== '' ? raw : null;
}

export function toNumber(value: FieldValue, integer: boolean): Conversion {
  if (value === null || value === '') return ok(null);
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(number)) return bad('is not a number');
  if (integer && !Number.isInteger(number)) return bad('is not a whole number');
  return ok(number);
}

export function toBoolean(value: FieldValue): Conversion {
  if (typeof value === 'boolean') return ok(value);
  if (value === 'true' || value === 1 || value === '1') return ok(true);
  if (value === 'false' || value === 0 || value === '0') return ok(false);
  return bad('is not true or false');
}

export function toText(value: FieldValue, max?: number): Conversion {
  if (value === null) return ok(null);
  if (Array.isArray(value)) return bad('is a list, not text');
  const text = String(value);
  if (max !== undefined && text.length > max) return bad(`is longer than ${max} characters`);
  return ok(text);
}

export function toDate(value: FieldValue): Conversion {
  if (value === null || value === '') return ok(null);
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return bad('is not a date (YYYY-MM-DD)');
  return ok(value.slice(0, 10));
}

export function toTime(value: FieldValue): Conversion {
  if (value === null || value === '') return ok(null);
  if (typeof value !== 'string' || !/^\d{2}:\d{2}(:\d{2})?$/.test(value)) return bad('is not a time (HH:MM or HH:MM:SS)');
  return ok(value);
}

export interface Labelled {
  value: string;
  primary: boolean;
  label: string;
}

/** `[{value, primary, label}]` as sent and answered; the JSON text form Ferry shows. */
export function labelledFrom(raw: unknown): Labelled[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter((item): item is Labelled => typeof item === 'object' && item !== null && typeof (item as Labelled).value === 'string');
}

export function parseLabelled(value: FieldValue): Conversion {
  if (value === null || value === '') return ok([]);
  if (typeof value !== 'string') return bad('must be JSON text: [{"value": "...", "label": "work", "primary": true}]');
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return bad('is not JSON: [{"value": "...", "label": "work", "primary": true}]');
  }
  if (!Array.isArray(parsed)) return bad('must be a JSON list');
  const items: Labelled[] = [];
  for (const item of parsed) {
    if (typeof item !== 'object' || item === null || typeof (item as { value?: unknown }).value !== 'string') return bad('has an item without a text "value"');
    const entry = item as { value: string; primary?: unknown; label?: unknown };
    items.push({ value: entry.value, primary: entry.primary === true, label: typeof entry.label === 'string' ? entry.label : 'work' });
  }
  if (items.filter((item) => item.primary).length > 1) return bad('has more than one primary item');
  return ok(items);
}

/** The list with its primary item's value replaced (or a new primary item when there is none). */
export function withPrimary(items: Labelled[], value: string | null): Labelled[] {
  const rest = items.filter((item) => !item.primary);
  if (value === null || value === '') return rest.map((item, index) => ({ ...item, primary: index === 0 }));
  const current = items.find((item) => item.primary);
  return [{ value, primary: true, label: current?.label ?? 'work' }, ...rest.filter((item) => item.value !== value)];
}

export function primaryOf(items: Labelled[]): string | null {
  return (items.find((item) => item.primary) ?? items[0])?.value ?? null;
}

/** Multi-option (`set`) values: option ids joined with `;` in id order (like HubSpot's multi-checkboxes). */
export function setFrom(raw: unknown): string | null {
  if (!Array.isArray(raw) || raw.length === 0) return null;
  return raw
    .map(Number)
    .sort((a, b) => a - b)
    .join(';');
}

export function toSet(value: FieldValue, options: Set<string>): Conversion {
  if (value === null || value === '' || (Array.isArray(value) && value.length === 0)) return ok(null);
  const parts = (Array.isArray(value) ? value : String(value).split(';')).map((part) => String(part).trim()).filter(Boolean);
  for (const part of parts) if (!options.has(part)) return bad(`has ${JSON.stringify(part)}, which is not one of the option ids [${[...options].join(', ')}]`);
  return ok([...new Set(parts.map(Number))]);
}

export function toOption(value: FieldValue, options: Set<string>, numeric: boolean): Conversion {
  if (value === null || value === '') return ok(null);
  const text = String(value);
  if (options.size > 0 && !options.has(text)) return bad(`is not one of the options [${[...options].join(', ')}]`);
  return ok(numeric ? Number(text) : text);
}
