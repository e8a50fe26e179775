import type { FieldSchema, FieldType, FieldValue } from '../../core/schema.js';
import { parseDate, parseInstant } from '../../core/time.js';

/**
 * HubSpot property values are strings in both directions ("properties as strings"). Datetimes come as ISO
 * strings or epoch milliseconds; date properties are stored at UTC midnight and come as `YYYY-MM-DD` or
 * epoch ms. Writes use epoch milliseconds for both, which HubSpot documents for date and datetime
 * properties ("date properties must be set to midnight UTC").
 * https://developers.hubspot.com/docs/api/crm/properties
 */

/** A HubSpot property as the properties API describes it. */
export interface HubspotProperty {
  name: string;
  label?: string;
  type: string;
  fieldType?: string;
  options?: { label?: string; value: string; hidden?: boolean; displayOrder?: number }[];
  calculated?: boolean;
  hasUniqueValue?: boolean;
  hidden?: boolean;
  externalOptions?: boolean;
  referencedObjectType?: string;
  modificationMetadata?: { readOnlyValue?: boolean; readOnlyDefinition?: boolean; archivable?: boolean };
  groupName?: string;
}

const TEXT_FIELD_TYPES = new Set(['textarea', 'html', 'rich_text']);

/** Ferry's type for a HubSpot property. */
export function fieldType(property: HubspotProperty): FieldType {
  switch (property.type) {
    case 'number':
      return 'number';
    case 'bool':
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'phone_number':
      return 'phone';
    case 'enumeration':
      if (property.referencedObjectType === 'OWNER') return 'reference';
      if (property.fieldType === 'booleancheckbox') return 'boolean';
      // Multiple checkboxes hold several values joined with ';': kept as text, not one enum value.
      if (property.fieldType === 'checkbox') return 'string';
      return 'enum';
    case 'json':
    case 'object_coordinates':
      return 'string';
    default:
      if (property.fieldType === 'phonenumber') return 'phone';
      if (property.name === 'email' || property.fieldType === 'email') return 'email';
      if (property.name === 'website' || property.name === 'hs_linkedin_url') return 'url';
      if (property.fieldType && TEXT_FIELD_TYPES.has(property.fieldType)) return 'text';
      return 'string';
  }
}

export function toFieldSchema(property: HubspotProperty): FieldSchema {
  const type = fieldType(property);
  const field: FieldSchema = { name: property.name, type };
  if (property.label) field.label = property.label;
  if (property.hasUniqueValue) field.unique = true;
  if (property.calculated || property.modificationMetadata?.readOnlyValue) field.readOnly = true;
  if (type === 'enum') {
    field.options = (property.options ?? []).filter((option) => !option.hidden).map((option) => (option.label ? { value: option.value, label: option.label } : { value: option.value }));
  }
  if (type === 'reference' && property.referencedObjectType === 'OWNER') field.reference = { object: 'owners' };
  return field;
}

/** A HubSpot property string as a Ferry value. Unparseable values are kept as text rather than lost. */
export function fromHubspotValue(type: FieldType, raw: string | null | undefined): FieldValue {
  if (raw === null || raw === undefined || raw === '') return null;
  switch (type) {
    case 'number':
    case 'integer': {
      const number = Number(raw);
      return Number.isFinite(number) ? number : raw;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'datetime':
      return parseInstant(raw) ?? raw;
    case 'date':
      return parseDate(raw) ?? raw;
    default:
      return raw;
  }
}

export type Converted = { ok: true; value: string } | { ok: false; message: string };

/** A Ferry value as the string HubSpot accepts for a property of this type. `null` clears (''). */
export function toHubspotValue(type: FieldType, value: FieldValue): Converted {
  if (value === null) return { ok: true, value: '' };
  if (Array.isArray(value)) {
    // multi-select values are ';'-joined
    return { ok: true, value: value.join(';') };
  }
  switch (type) {
    case 'number':
    case 'integer': {
      const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      return Number.isFinite(number) ? { ok: true, value: String(number) } : { ok: false, message: `${JSON.stringify(value)} is not a number` };
    }
    case 'boolean':
      if (typeof value === 'boolean') return { ok: true, value: String(value) };
      if (value === 'true' || value === 'false') return { ok: true, value };
      return { ok: false, message: `${JSON.stringify(value)} is not true or false` };
    case 'datetime': {
      const instant = parseInstant(value);
      return instant ? { ok: true, value: String(Date.parse(instant)) } : { ok: false, message: `${JSON.stringify(value)} is not a date-time` };
    }
    case 'date': {
      const date = parseDate(value);
      return date ? { ok: true, value: String(Date.parse(`${date}T00:00:00.000Z`)) } : { ok: false, message: `${JSON.stringify(value)} is not a date` };
    }
    default:
      return { ok: true, value: String(value) };
  }
}
