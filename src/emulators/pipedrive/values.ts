import { invalid } from './errors.js';
import type { Kind, RefTarget } from './schema.js';
import type { CustomField } from './store.js';

/**
 * Value checks for writes. v2 is strict ("Booleans are strictly true/false; numeric fields do not convert
 * strings", https://pipedrive.readme.io/docs/pipedrive-api-v2-migration-guide), so a wrong JSON type is a 400
 * naming the field, never a silent conversion. Every check returns the value as stored.
 */
export interface ValueContext {
  exists(target: RefTarget, id: number): boolean;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;
const DURATION = /^(\d{2,}):([0-5]\d)(?::([0-5]\d))?$/;

export function isDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().slice(0, 10) === text;
}

/** RFC 3339 (`2026-03-01T12:00:00Z`, offsets allowed) or v1's `YYYY-MM-DD HH:MM:SS` (UTC) -> epoch ms. */
export function parseDateTime(text: string): number | undefined {
  const v1 = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(text);
  if (v1) return isDate(v1[1]!) ? Date.parse(`${v1[1]}T${v1[2]}Z`) : undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) return undefined;
  const millis = Date.parse(text);
  return Number.isNaN(millis) ? undefined : millis;
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function expectString(field: string, value: unknown, max?: number): string {
  if (typeof value !== 'string') throw invalid(field, `must be a string, got ${describe(value)}.`);
  if (max !== undefined && value.length > max) throw invalid(field, `must be at most ${max} characters long, got ${value.length}.`);
  return value;
}

function expectInt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(field, `must be an integer, got ${describe(value)}.`);
  return value;
}

function expectNumber(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, `must be a number, got ${describe(value)}.`);
  return value;
}

function expectRef(field: string, target: RefTarget, value: unknown, ctx: ValueContext): number {
  const id = expectInt(field, value);
  if (!ctx.exists(target, id)) throw invalid(field, `refers to ${target === 'users' ? 'user' : target.replace(/s$/, '').replace(/ie$/, 'y')} ${id}, which does not exist.`);
  return id;
}

function expectObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, `must be an object, got ${describe(value)}.`);
  return value as Record<string, unknown>;
}

const ADDRESS_PARTS = ['value', 'country', 'admin_area_level_1', 'admin_area_level_2', 'locality', 'sublocality', 'route', 'street_number', 'subpremise', 'postal_code'];

/** Address objects: `value` required, the other subfields optional (left-out ones become null). */
function address(field: string, value: unknown): Record<string, string | null> {
  const input = expectObject(field, value);
  const result: Record<string, string | null> = {};
  for (const part of ADDRESS_PARTS) {
    const given = input[part];
    result[part] = given === undefined || given === null ? null : expectString(`${field}.${part}`, given);
  }
  for (const key of Object.keys(input)) if (!ADDRESS_PARTS.includes(key) && key !== 'formatted_address') throw invalid(`${field}.${key}`, 'is not allowed.');
  if (result.value === null || result.value === '') throw invalid(`${field}.value`, 'is required.');
  return result;
}

/** E-mails and phones: `[{value, primary?, label?}]`; label defaults to `work`, the first item is primary when none is. */
function labelled(field: string, value: unknown): { value: string; primary: boolean; label: string }[] {
  if (!Array.isArray(value)) throw invalid(field, `must be an array, got ${describe(value)}.`);
  const items = value.map((item, index) => {
    const input = expectObject(`${field}[${index}]`, item);
    const primary = input.primary === undefined ? false : input.primary;
    if (typeof primary !== 'boolean') throw invalid(`${field}[${index}].primary`, `must be a boolean, got ${describe(primary)}.`);
    return {
      value: expectString(`${field}[${index}].value`, input.value),
      primary,
      label: input.label === undefined || input.label === null ? 'work' : expectString(`${field}[${index}].label`, input.label),
    };
  });
  const primaries = items.filter((item) => item.primary).length;
  if (primaries > 1) throw invalid(field, `can have only one primary item, got ${primaries}.`);
  if (primaries === 0 && items.length > 0) items[0]!.primary = true;
  return items;
}

export function checkStandard(kind: Kind, field: string, value: unknown, ctx: ValueContext): unknown {
  if (typeof kind === 'object') {
    if (value === null && 'ref' in kind) return null;
    if ('ref' in kind) return expectRef(field, kind.ref, value, ctx);
    const text = expectString(field, value);
    if (!kind.oneOf.includes(text)) throw invalid(field, `must be one of [${kind.oneOf.join(', ')}], got ${describe(value)}.`);
    return text;
  }
  if (value === null && (kind.startsWith('nullable') || ['date', 'time', 'duration', 'datetime', 'address'].includes(kind))) return null;
  switch (kind) {
    case 'string':
    case 'nullableString':
      return expectString(field, value);
    case 'int':
    case 'nullableInt':
      return expectInt(field, value);
    case 'number':
    case 'nullableNumber':
      return expectNumber(field, value);
    case 'bool':
      if (typeof value !== 'boolean') throw invalid(field, `must be a boolean, got ${describe(value)}.`);
      return value;
    case 'date': {
      const text = expectString(field, value);
      if (!isDate(text)) throw invalid(field, `must be a date in the format YYYY-MM-DD, got ${describe(value)}.`);
      return text;
    }
    case 'time': {
      const match = TIME.exec(expectString(field, value));
      if (!match) throw invalid(field, `must be a time in the format HH:MM or HH:MM:SS, got ${describe(value)}.`);
      return `${match[1]}:${match[2]}:${match[3] ?? '00'}`;
    }
    case 'duration': {
      const match = DURATION.exec(expectString(field, value));
      if (!match) throw invalid(field, `must be a duration in the format HH:MM, got ${describe(value)}.`);
      return `${match[1]}:${match[2]}:${match[3] ?? '00'}`;
    }
    case 'datetime': {
      const millis = parseDateTime(expectString(field, value));
      if (millis === undefined) throw invalid(field, `must be a date and time (RFC 3339 or YYYY-MM-DD HH:MM:SS), got ${describe(value)}.`);
      return millis;
    }
    case 'labelled':
      return labelled(field, value);
    case 'intArray':
      if (!Array.isArray(value)) throw invalid(field, `must be an array of integers, got ${describe(value)}.`);
      return value.map((item, index) => expectInt(`${field}[${index}]`, item));
    case 'address':
      return address(field, value);
    case 'visibleTo':
      if (![1, 3, 5, 7].includes(value as number)) throw invalid(field, `must be one of [1, 3, 5, 7], got ${describe(value)}.`);
      return value;
    case 'participants': {
      if (!Array.isArray(value)) throw invalid(field, `must be an array, got ${describe(value)}.`);
      const items = value.map((item, index) => {
        const input = expectObject(`${field}[${index}]`, item);
        const primary = input.primary ?? false;
        if (typeof primary !== 'boolean') throw invalid(`${field}[${index}].primary`, `must be a boolean, got ${describe(primary)}.`);
        return { person_id: expectRef(`${field}[${index}].person_id`, 'persons', input.person_id, ctx), primary };
      });
      if (items.filter((item) => item.primary).length > 1) throw invalid(field, 'can have only one primary participant.');
      if (items.length > 0 && !items.some((item) => item.primary)) items[0]!.primary = true;
      return items;
    }
    case 'prices': {
      if (!Array.isArray(value)) throw invalid(field, `must be an array, got ${describe(value)}.`);
      return value.map((item, index) => {
        const input = expectObject(`${field}[${index}]`, item);
        return {
          price: expectNumber(`${field}[${index}].price`, input.price ?? 0),
          currency: expectString(`${field}[${index}].currency`, input.currency),
          cost: expectNumber(`${field}[${index}].cost`, input.cost ?? 0),
          direct_cost: input.direct_cost === undefined || input.direct_cost === null ? null : expectNumber(`${field}[${index}].direct_cost`, input.direct_cost),
          notes: input.notes === undefined || input.notes === null ? null : expectString(`${field}[${index}].notes`, input.notes),
        };
      });
    }
  }
}

function timeObject(field: string, value: unknown, range: boolean): Record<string, unknown> {
  const input = expectObject(field, value);
  const check = (part: string) => {
    const match = TIME.exec(expectString(`${field}.${part}`, input[part]));
    if (!match) throw invalid(`${field}.${part}`, `must be a time in the format HH:MM:SS, got ${describe(input[part])}.`);
    return `${match[1]}:${match[2]}:${match[3] ?? '00'}`;
  };
  const result: Record<string, unknown> = { value: check('value') };
  if (range) result.until = check('until');
  result.timezone_name = input.timezone_name === undefined ? null : expectString(`${field}.timezone_name`, input.timezone_name);
  return result;
}

/**
 * v2 custom field values by type, as the migration guide lists them: text types a string (varchar up to 255
 * characters), double a number, monetary `{value, currency}`, enum an option id, set a non-empty array of
 * option ids (`null` clears; `[]` is refused), user/org/people an id, date `YYYY-MM-DD`, daterange
 * `{value, until}`, time `{value, timezone_name}`, timerange `{value, until, timezone_name}`, address an
 * address object. `null` clears any field.
 */
export function checkCustom(field: CustomField, value: unknown, ctx: ValueContext): unknown {
  const name = `custom_fields.${field.field_code}`;
  if (value === null) return null;
  const optionIds = new Set((field.options ?? []).map((option) => option.id));
  const option = (label: string, raw: unknown) => {
    const id = expectInt(label, raw);
    if (!optionIds.has(id)) throw invalid(label, `(${field.field_name}) must be one of the field's option ids [${[...optionIds].join(', ')}], got ${id}.`);
    return id;
  };
  switch (field.field_type) {
    case 'varchar':
    case 'varchar_auto':
    case 'phone':
      return expectString(name, value, 255);
    case 'text':
      return expectString(name, value, 65_535);
    case 'double':
      return expectNumber(name, value);
    case 'monetary': {
      const input = expectObject(name, value);
      return { value: expectNumber(`${name}.value`, input.value), currency: expectString(`${name}.currency`, input.currency) };
    }
    case 'enum':
      return option(name, value);
    case 'set':
      if (!Array.isArray(value) || value.length === 0) throw invalid(name, `(${field.field_name}) must be a non-empty array of option ids (null clears it), got ${describe(value)}.`);
      return [...new Set(value.map((item, index) => option(`${name}[${index}]`, item)))];
    case 'user':
      return expectRef(name, 'users', value, ctx);
    case 'org':
      return expectRef(name, 'organizations', value, ctx);
    case 'people':
      return expectRef(name, 'persons', value, ctx);
    case 'date': {
      const text = expectString(name, value);
      if (!isDate(text)) throw invalid(name, `must be a date in the format YYYY-MM-DD, got ${describe(value)}.`);
      return text;
    }
    case 'daterange': {
      const input = expectObject(name, value);
      for (const part of ['value', 'until']) {
        if (typeof input[part] !== 'string' || !isDate(input[part])) throw invalid(`${name}.${part}`, `must be a date in the format YYYY-MM-DD, got ${describe(input[part])}.`);
      }
      return { value: input.value, until: input.until };
    }
    case 'time':
      return timeObject(name, value, false);
    case 'timerange':
      return timeObject(name, value, true);
    case 'address':
      return address(name, value);
    default:
      return value;
  }
}
