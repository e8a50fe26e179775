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

/** Embedded details: `errors[]` entries and the JSON list some messages carry. */
function details(error: HubspotError): Detail[] {
  const found: Detail[] = [];
  for (const entry of error.errors ?? []) {
    const context = typeof entry.context === 'object' && entry.context !== null ? entry.context : {};
    found.push({ code: entry.code, name: strings((context as Record<string, unknown>).propertyName)[0], message: entry.message });
  }
  const message = error.message ?? '';
  const start = message.indexOf('[{');
  if (start >= 0) {
    try {
      const list = JSON.parse(message.slice(start, message.lastIndexOf('}]') + 2)) as { error?: string; name?: string; message?: string }[];
      for (const entry of list) found.push({ code: entry.error, name: entry.name, message: entry.message });
    } catch {
      // not JSON after all
    }
  }
  return found;
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

export function toRecordError(error: HubspotError, status: number | undefined, written: Record<string, unknown>, fieldValues: Record<string, FieldValue>): RecordError {
  const code = errorCode(error, status);
  const message = error.message ?? (error.errors ?? []).map((entry) => entry.message).join('; ') ?? 'HubSpot rejected the record';
  const result: RecordError = { code, message: message || `HubSpot rejected the record (${error.category ?? status ?? 'error'})` };
  const field = code === 'NOT_FOUND' ? undefined : errorField(error, written);
  if (field !== undefined) {
    result.field = field;
    result.value = fieldValues[field] ?? null;
  }
  return result;
}
