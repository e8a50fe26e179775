import type { RecordError } from '../../core/connector.js';
import type { FieldValue } from '../../core/schema.js';
import { vendorErrorMessage, vendorRecordError, type ErrorDeclarations, type ErrorDetail, type VendorErrorFacts } from '../kit/index.js';
import type { HubspotError } from './transport.js';

/**
 * HubSpot error bodies -> Ferry record errors, as declarations for the connector kit (src/connectors/kit/errors.ts).
 * The fields of an error are all optional ("should all be treated as optional in any error parsing"); the
 * property name sits in `context.propertyName`, in `errors[].context`, or inside the message's JSON
 * (`Property values were not valid: [{..."name":"email"}]`).
 * https://developers.hubspot.com/docs/api-reference/error-handling
 */
export const HUBSPOT_ERRORS: ErrorDeclarations = {
  vendor: 'HubSpot',
  detailCodes: {
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
  },
  rules: [
    { code: 'NOT_FOUND', categories: ['OBJECT_NOT_FOUND'], statuses: [404] },
    { code: 'UNIQUE_VIOLATION', categories: ['CONFLICT'], statuses: [409], message: /already (exists|has that value)|unique/i },
    { code: 'UNKNOWN_FIELD', message: /^(?=[\s\S]*(?:does not exist|doesn't exist))(?=[\s\S]*propert)/i },
    { code: 'INVALID_VALUE', categories: ['VALIDATION_ERROR'], statuses: [400] },
  ],
  fallback: 'WRITE_FAILED',
  recordCodes: ['NOT_FOUND'],
};

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/** Where an embedded JSON list starts in a message (`Property values were not valid: [{...}]`), or -1. */
const embeddedStart = (message: string): number => message.indexOf('[{');

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

/** A HubSpot error body (and the answer's HTTP status) as the kit's facts. */
export function hubspotErrorFacts(error: HubspotError, status?: number): VendorErrorFacts {
  const details: ErrorDetail[] = [];
  for (const entry of error.errors ?? []) {
    const context = typeof entry.context === 'object' && entry.context !== null ? entry.context : {};
    // `in` names the field or parameter the error is about (HubSpot's documented error example: `"in": "name"`).
    const field = strings((context as Record<string, unknown>).propertyName)[0] ?? (entry.in && entry.in !== 'body' ? entry.in : undefined);
    details.push({ code: entry.code, field, message: entry.message });
  }
  const raw = String(error.message ?? '');
  for (const entry of embeddedList(raw) ?? []) details.push({ code: entry.error, field: entry.name, message: entry.message });
  const trimmed = raw.trim();
  const context = error.context ?? {};
  const categories = [String(error.category ?? '')];
  // A body whose own `status` says 404 is about a record that does not exist.
  if (String(error.status) === '404') categories.push('OBJECT_NOT_FOUND');
  return {
    status,
    categories,
    message: raw,
    lead: embeddedList(trimmed) ? trimmed.slice(0, embeddedStart(trimmed)) : trimmed,
    label: error.category ?? (status !== undefined ? `HTTP ${status}` : undefined),
    details,
    field: strings(context.propertyName)[0] ?? strings(context.propertyNames)[0] ?? strings(context.property)[0],
    text: `${error.message ?? ''} ${JSON.stringify(error.errors ?? [])}`,
  };
}

/**
 * A HubSpot error body as one sentence a person can read: HubSpot's own message without the JSON it embeds,
 * then each detail as `property: message (CODE)`, e.g. `HubSpot rejected the record (VALIDATION_ERROR):
 * Property values were not valid: email: Email address not-an-email is invalid (INVALID_EMAIL)`.
 */
export function readableMessage(error: HubspotError, status?: number): string {
  return vendorErrorMessage(HUBSPOT_ERRORS, hubspotErrorFacts(error, status));
}

export function toRecordError(error: HubspotError, status: number | undefined, written: Record<string, unknown>, fieldValues: Record<string, FieldValue>): RecordError {
  return vendorRecordError(HUBSPOT_ERRORS, hubspotErrorFacts(error, status), written, fieldValues);
}
