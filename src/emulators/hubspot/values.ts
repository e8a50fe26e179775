import { parseInstant } from '../../core/time.js';
import type { PropertyProblem } from './errors.js';
import type { PropertyDefinition } from './schema.js';

/**
 * Property values travel as strings. Internally date and datetime values are kept as epoch-millisecond strings
 * (what HubSpot accepts on write); reads format them (see `formatValue`).
 * https://developers.hubspot.com/docs/faq/how-should-timestamps-be-formatted-for-hubspots-apis
 */

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DAY = 86_400_000;

export interface ValueContext {
  ownerIds: ReadonlySet<string>;
  /** Stage ids valid for the record's pipeline (deals only). */
  stageIds?: ReadonlySet<string>;
  pipelineIds?: ReadonlySet<string>;
}

export type NormalisedValue = { value: string } | { problem: PropertyProblem };

function problem(name: string, code: string, message: string): NormalisedValue {
  return { problem: { name, code, message } };
}

/** Epoch ms from an epoch-ms string/number or an ISO date/date-time; undefined when neither. */
export function toEpochMillis(raw: string): number | undefined {
  const text = raw.trim();
  if (/^-?\d+$/.test(text)) return Number(text);
  const iso = parseInstant(text);
  return iso === undefined ? undefined : Date.parse(iso);
}

/**
 * Checks and normalises one value for `definition`. The empty string clears a property
 * ("Properties values can be cleared by passing an empty string":
 * https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/update-contact).
 */
export function normaliseValue(definition: PropertyDefinition, raw: unknown, context: ValueContext): NormalisedValue {
  const name = definition.name;
  if (raw === null || raw === undefined) return { value: '' };
  if (typeof raw === 'object') return problem(name, 'INVALID_VALUE', `${JSON.stringify(raw)} is not a valid value for ${name}`);
  const text = String(raw);
  if (text === '') return { value: '' };
  switch (definition.type) {
    case 'number': {
      const trimmed = text.trim();
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) || !Number.isFinite(Number(trimmed))) {
        return problem(name, 'INVALID_DECIMAL', `${text} was not a valid number.`);
      }
      return { value: trimmed };
    }
    case 'bool': {
      const lowered = text.trim().toLowerCase();
      if (lowered !== 'true' && lowered !== 'false') return problem(name, 'INVALID_BOOLEAN', `${text} was not a valid boolean.`);
      return { value: lowered };
    }
    case 'datetime': {
      const millis = toEpochMillis(text);
      if (millis === undefined || Number.isNaN(millis)) return problem(name, 'INVALID_DATETIME', `${text} was not a valid date-time.`);
      return { value: String(millis) };
    }
    case 'date': {
      const millis = toEpochMillis(text);
      if (millis === undefined || Number.isNaN(millis)) return problem(name, 'INVALID_DATE', `${text} was not a valid date.`);
      // "Date properties ... must be set to midnight UTC ... If you try to set a value that is not midnight UTC,
      // you will receive an error." https://developers.hubspot.com/docs/faq/how-should-timestamps-be-formatted-for-hubspots-apis
      if (millis % DAY !== 0) {
        const at = new Date(millis);
        return problem(name, 'INVALID_DATE', `${text} is at ${at.getUTCHours()}:${at.getUTCMinutes()}:${at.getUTCSeconds()}.${at.getUTCMilliseconds()} UTC, not midnight!`);
      }
      return { value: String(millis) };
    }
    case 'enumeration':
      return normaliseEnumeration(definition, text, context);
    default: {
      if (name === 'email') {
        // HubSpot stores contact e-mail addresses lower-cased and rejects malformed ones with INVALID_EMAIL.
        const email = text.trim().toLowerCase();
        if (!EMAIL.test(email)) return problem(name, 'INVALID_EMAIL', `Email address ${text} is invalid`);
        return { value: email };
      }
      return { value: text };
    }
  }
}

function normaliseEnumeration(definition: PropertyDefinition, text: string, context: ValueContext): NormalisedValue {
  const name = definition.name;
  let allowed: string[];
  if (name === 'hubspot_owner_id') allowed = [...context.ownerIds];
  else if (name === 'dealstage' && context.stageIds) allowed = [...context.stageIds];
  else if (name === 'pipeline' && context.pipelineIds) allowed = [...context.pipelineIds];
  else allowed = definition.options.map((option) => option.value);
  // Multiple checkboxes take several values separated by semicolons:
  // https://developers.hubspot.com/docs/api/crm/properties (checkbox fieldType)
  const values = definition.fieldType === 'checkbox' ? text.split(';').filter((value) => value !== '') : [text];
  for (const value of values) {
    if (!allowed.includes(value)) {
      return problem(name, 'INVALID_OPTION', `${value} was not one of the allowed options: [${allowed.join(', ')}]`);
    }
  }
  return { value: values.join(';') };
}

/** The value as a read returns it: datetime as ISO 8601 UTC with ms, date as YYYY-MM-DD, the rest as stored. */
export function formatValue(definition: PropertyDefinition | undefined, stored: string): string {
  if (!definition || stored === '') return stored;
  if (definition.type === 'datetime') return new Date(Number(stored)).toISOString();
  if (definition.type === 'date') return new Date(Number(stored)).toISOString().slice(0, 10);
  return stored;
}
