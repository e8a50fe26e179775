import type { RecordError } from '../../core/connector.js';
import type { ErrorCode } from '../../core/errors.js';
import type { FieldValue } from '../../core/schema.js';
import type { HubspotError } from './transport.js';

/**
 * HubSpot error bodies -> Ferry record errors. The fields of an error are all optional ("should all be
 * treated as optional in any error parsing"); the property name sits in `context.propertyName`, in
 * `errors[].context`, or inside the message's JSON (`Property values were not valid: [{..."name":"email"}]`).
 * https://developers.hubspot.com/docs/api-reference/error-handling
 */

const CODE_BY_HUBSPOT: Record<string, ErrorCode> = {
  INVALID_EMAIL: 'INVALID_VALUE',
  INVALID_OPTION: 'INVALID_VALUE',
  INVALID_INTEGER: 'INVALID_VALUE',
  INVALID_LONG: 'INVALID_VALUE',
  INVALID_DECIMAL: 'INVALID_VALUE',
  INVALID_DATE: 'INVALID_VALUE',
  INVALID_DATETIME: 'INVALID_VALUE',
  INVALID_BOOLEAN: 'INVALID_VALUE',
  INVALID_PROPERTY_VALUE: 'INVALID_VALUE',
  INVALID_DATE_NOT_MIDNIGHT: 'INVALID_VALUE',
  READ_ONLY_VALUE: 'INVALID_VALUE',
  PROPERTY_DOESNT_EXIST: 'UNKNOWN_FIELD',
  REQUIRED_FIELD: 'REQUIRED_MISSING',
  MISSING_REQUIRED_PROPERTY: 'REQUIRED_MISSING',
  OBJECT_ALREADY_EXISTS: 'UNIQUE_VIOLATION',
  CONFLICT: 'UNIQUE_VIOLATION',
  UNIQUE_VALUE: 'UNIQUE_VIOLATION',
  DUPLICATE_VALUE: 'UNIQUE_VIOLATION',
};

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

interface Detail {
  code?: string;
  name?: string;
  message?: string;
}

/** Where an embedded JSON list starts in a message (`Property values were not valid: [{...}]`), or -1. */
const embeddedStart = (message: string): number => message.indexOf('[{');

/** Embedded details: `errors[]` entries and the JSON list some messages carry. */
function details(error: HubspotError): Detail[] {
  const found: Detail[] = [];
  for (const entry of error.errors ?? []) {
    const context = typeof entry.context === 'object' && entry.context !== null ? entry.context : {};
    // `in` names the field or parameter the error is about (HubSpot's documented error example: `"in": "name"`).
    const name = strings((context as Record<string, unknown>).propertyName)[0] ?? (entry.in && entry.in !== 'body' ? entry.in : undefined);
    found.push({ code: entry.code, name, message: entry.message });
  }
  for (const entry of embeddedList(error.message ?? '') ?? []) found.push({ code: entry.error, name: entry.name, message: entry.message });
  return found;
}

/** The JSON list a message embeds (`Property values were not valid: [{...}]`), or undefined when it has none. */
function embeddedList(message: string): { error?: string; name?: string; message?: string }[] | undefined {
  const start = embeddedStart(message);
  if (start < 0) return undefined;
  try {
    const list: unknown = JSON.parse(message.slice(start, message.lastIndexOf('}]') + 2));
    return Array.isArray(list) ? (list as { error?: string; name?: string; message?: string }[]) : undefined;
  } catch {
    return undefined; // not JSON after all
  }
}

/** A Ferry error code for a HubSpot error (category + detail codes + HTTP status). */
export function errorCode(error: HubspotError, status?: number): ErrorCode {
  for (const detail of details(error)) {
    const mapped = detail.code ? CODE_BY_HUBSPOT[detail.code.toUpperCase()] : undefined;
    if (mapped) return mapped;
  }
  const category = String(error.category ?? '').toUpperCase();
  const message = String(error.message ?? '');
  if (category === 'OBJECT_NOT_FOUND' || status === 404 || String(error.status) === '404') return 'NOT_FOUND';
  if (category === 'CONFLICT' || status === 409 || /already (exists|has that value)|unique/i.test(message)) return 'UNIQUE_VIOLATION';
  if (/does not exist|doesn't exist/i.test(message) && /propert/i.test(message)) return 'UNKNOWN_FIELD';
  if (category === 'VALIDATION_ERROR' || status === 400) return 'INVALID_VALUE';
  return 'WRITE_FAILED';
}

/** The property an error is about, when it says (or when one of the written properties is named in it). */
export function errorField(error: HubspotError, written: Record<string, unknown>): string | undefined {
  const context = error.context ?? {};
  const named = strings(context.propertyName)[0] ?? strings(context.propertyNames)[0] ?? strings(context.property)[0];
  if (named) return named;
  for (const detail of details(error)) if (detail.name) return detail.name;
  const text = `${error.message ?? ''} ${JSON.stringify(error.errors ?? [])}`;
  const names = Object.keys(written).sort((a, b) => b.length - a.length);
  return names.find((name) => new RegExp(`(^|[^a-z0-9_])${name}([^a-z0-9_]|$)`, 'i').test(text));
}

/**
 * A HubSpot error body as one sentence a person can read: HubSpot's own message without the JSON it embeds,
 * then each detail as `property: message (CODE)`, e.g. `HubSpot rejected the record (VALIDATION_ERROR):
 * Property values were not valid: email: Email address not-an-email is invalid (INVALID_EMAIL)`. Before, the
 * message was shown as HubSpot sent it, JSON list included.
 */
export function readableMessage(error: HubspotError, status?: number): string {
  const raw = String(error.message ?? '').trim();
  const list = details(error);
  const lead = (embeddedList(raw) ? raw.slice(0, embeddedStart(raw)) : raw).trim().replace(/[:\s]+$/, '');
  const parts = list
    .filter((detail) => detail.message || detail.code)
    .map((detail) => `${detail.name ? `${detail.name}: ` : ''}${detail.message ?? detail.code}${detail.code && detail.message && !detail.message.includes(detail.code) ? ` (${detail.code})` : ''}`);
  // A detail that only repeats the lead adds nothing.
  const extra = [...new Set(parts)].filter((part) => part !== lead);
  const category = error.category ?? (status !== undefined ? `HTTP ${status}` : undefined);
  const head = `HubSpot rejected the record${category ? ` (${category})` : ''}`;
  const body = [lead, extra.join('; ')].filter(Boolean).join(': ');
  return body ? `${head}: ${body}` : head;
}

export function toRecordError(error: HubspotError, status: number | undefined, written: Record<string, unknown>, fieldValues: Record<string, FieldValue>): RecordError {
  const code = errorCode(error, status);
  const result: RecordError = { code, message: readableMessage(error, status) };
  const field = code === 'NOT_FOUND' ? undefined : errorField(error, written);
  if (field !== undefined) {
    result.field = field;
    result.value = fieldValues[field] ?? null;
  }
  return result;
}
