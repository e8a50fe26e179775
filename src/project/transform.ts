import { createHash } from 'node:crypto';
import type { RecordError } from '../core/connector.js';
import { describeValue } from '../core/errors.js';
import type { FieldSchema, FieldType, FieldValue, ObjectSchema } from '../core/schema.js';
import { parseLocaleNumber } from '../core/locale-number.js';
import { parseDate, parseInstant } from '../core/time.js';
import { normaliseDomain } from './match-keys.js';
import type { DurationUnit, FieldMapping, FieldTransform, ObjectMapping } from './types.js';

export interface MapContext {
  sourceSchema: ObjectSchema;
  targetSchema: ObjectSchema;
  /** Zone for source date-times that carry none (ProjectFile.sourceTimeZone). */
  sourceTimeZone: string;
  /** Locale of numbers written as text (ProjectFile.sourceLocale); a field's `locale` overrides it. */
  sourceLocale?: string | undefined;
}

export interface MappedRecord {
  /** Every mapped target field that converted cleanly (null for empty). Failed fields are left out. */
  values: Record<string, FieldValue>;
  errors: RecordError[];
  /**
   * Values that did not convert but were written anyway by the field's `onInvalid: empty | keep`: the
   * record is written, and the engine records these as warnings (severity `warning` in the ledger's
   * failures, shown in reports and --json) naming the record, field and value.
   */
  warnings: RecordError[];
}

/** A conversion problem inside one field; turned into a RecordError naming the record and target field. */
class ValueProblem {
  constructor(
    readonly code: RecordError['code'],
    readonly reason: string,
    readonly value: FieldValue,
  ) {}
}

/**
 * Applies an object mapping to one source record: every field mapping's transform, then conversion to the
 * TARGET field's type (schema.ts value conventions). References are passed through as SOURCE ids; the
 * engine translates them through the ledger. A bad value never throws: it becomes an error for its field.
 */
export function mapRecord(
  mapping: ObjectMapping,
  record: { id: string; fields: Record<string, FieldValue> },
  context: MapContext,
): MappedRecord {
  const values: Record<string, FieldValue> = {};
  const errors: RecordError[] = [];
  const warnings: RecordError[] = [];
  const targets = targetFieldsOf(mapping, context.targetSchema);
  for (let position = 0; position < mapping.fields.length; position++) {
    const field = mapping.fields[position]!;
    const targetField = targets[position];
    if (!targetField) {
      errors.push(fieldError(mapping, record.id, field, 'UNKNOWN_FIELD', `target field "${field.target}" does not exist on ${mapping.target}`, null));
      continue;
    }
    try {
      // The common case (one source field copied as is) without building an input list.
      const transformed =
        field.transform.kind === 'copy' && field.source.length === 1
          ? (record.fields[field.source[0]!] ?? null)
          : applyTransform(field, field.source.map((name) => record.fields[name] ?? null), context);
      values[field.target] = convertValue(transformed, targetField, context.sourceTimeZone, field.locale ?? context.sourceLocale);
    } catch (error) {
      if (!(error instanceof ValueProblem)) throw error;
      const onInvalid = field.onInvalid ?? 'fail';
      if (onInvalid === 'fail') {
        errors.push(fieldError(mapping, record.id, field, error.code, error.reason, error.value));
      } else if (onInvalid === 'empty') {
        values[field.target] = null;
        warnings.push(fieldError(mapping, record.id, field, error.code, `${error.reason}; written empty (onInvalid: empty)`, error.value));
      } else {
        values[field.target] = error.value;
        warnings.push(fieldError(mapping, record.id, field, error.code, `${error.reason}; written as it is (onInvalid: keep)`, error.value));
      }
    }
  }
  return { values, errors, warnings };
}

/** Target field schema of each field mapping, looked up once per mapping and schema rather than per record. */
const targetFieldCache = new WeakMap<ObjectMapping, { schema: ObjectSchema; fields: (FieldSchema | undefined)[] }>();

function targetFieldsOf(mapping: ObjectMapping, schema: ObjectSchema): (FieldSchema | undefined)[] {
  const cached = targetFieldCache.get(mapping);
  if (cached && cached.schema === schema && cached.fields.length === mapping.fields.length) return cached.fields;
  const byName = new Map<string, FieldSchema>();
  for (const field of schema.fields) if (!byName.has(field.name)) byName.set(field.name, field);
  const fields = mapping.fields.map((field) => byName.get(field.target));
  targetFieldCache.set(mapping, { schema, fields });
  return fields;
}

function fieldError(mapping: ObjectMapping, recordId: string, field: FieldMapping, code: RecordError['code'], reason: string, value: FieldValue): RecordError {
  return { code, field: field.target, value, message: `${mapping.source} ${recordId}: ${mapping.target}.${field.target}: ${reason}` };
}

function isEmpty(value: FieldValue | undefined): boolean {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

function asText(value: FieldValue): string {
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** The one input of a transform that takes one value; several source fields are joined with a space. */
function singleInput(inputs: FieldValue[]): FieldValue {
  if (inputs.length <= 1) return inputs[0] ?? null;
  return joinValues(inputs, ' ');
}

function applyTransform(field: FieldMapping, inputs: FieldValue[], context: MapContext): FieldValue {
  const transform: FieldTransform = field.transform;
  const single = (): FieldValue => singleInput(inputs);
  switch (transform.kind) {
    case 'copy':
      return single();
    case 'constant':
      return transform.value;
    case 'join':
      return joinValues(inputs, transform.separator);
    case 'split':
      return splitValue(single(), transform.separator, transform.part);
    case 'lowercase':
      return eachText(single(), (text) => text.toLowerCase());
    case 'trim':
      return eachText(single(), (text) => text.trim());
    case 'map':
      return inputs.length > 1 ? mapFirstFound(inputs, transform) : mapValue(single(), transform);
    case 'domain':
      return domainValue(single());
    case 'duration':
      return durationValue(single(), transform.from, transform.to);
    case 'date': {
      const value = single();
      if (isEmpty(value)) return null;
      const date = toDate(value, transform.zone ?? context.sourceTimeZone);
      if (date === undefined) throw new ValueProblem('INVALID_VALUE', `${describeValue(value)} is not a date`, value);
      return date;
    }
    case 'datetime': {
      const value = single();
      if (isEmpty(value)) return null;
      const instant = typeof value === 'string' || typeof value === 'number' ? parseInstant(value, transform.zone ?? context.sourceTimeZone) : undefined;
      if (instant === undefined) throw new ValueProblem('INVALID_VALUE', `${describeValue(value)} is not a date-time`, value);
      return instant;
    }
  }
}

function joinValues(inputs: FieldValue[], separator: string): FieldValue {
  const parts = inputs.filter((value) => !isEmpty(value)).map((value) => asText(value!).trim()).filter((text) => text !== '');
  return parts.length > 0 ? parts.join(separator) : null;
}

function splitValue(value: FieldValue, separator: string, part: 'first' | 'rest' | number): FieldValue {
  if (isEmpty(value)) return null;
  const text = asText(value).trim();
  const whitespace = separator.trim() === '';
  const parts = whitespace ? text.split(/\s+/) : text.split(separator).map((piece) => piece.trim());
  let result: string | undefined;
  if (part === 'first') result = parts[0];
  else if (part === 'rest') result = parts.slice(1).join(whitespace ? ' ' : separator);
  else result = parts[part];
  return result === undefined || result === '' ? null : result;
}

function eachText(value: FieldValue, change: (text: string) => string): FieldValue {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map(change);
  if (typeof value !== 'string') return value;
  return change(value);
}

function mapValue(value: FieldValue, transform: Extract<FieldTransform, { kind: 'map' }>): FieldValue {
  if (Array.isArray(value)) {
    const mapped = value.map((item) => mapValue(item, transform));
    return mapped.filter((item): item is string => typeof item === 'string' && item !== '');
  }
  const key = value === null ? '' : String(value);
  if (Object.hasOwn(transform.values, key)) return transform.values[key] ?? null;
  const trimmed = key.trim();
  if (Object.hasOwn(transform.values, trimmed)) return transform.values[trimmed] ?? null;
  if (trimmed === '') return null;
  switch (transform.unmapped) {
    case 'keep':
      return value;
    case 'default':
      return transform.default ?? null;
    case 'fail':
      throw new ValueProblem('VALUE_NOT_MAPPED', `value ${describeValue(value)} is not in the value map`, value);
  }
}

/**
 * A value map over several source fields: each field's value is looked up in order and the first one in the
 * map wins (`[Deal - Status, Deal - Stage]`: won/lost from the status, else the stage). `unmapped` applies
 * when none is found: keep writes the first non-empty value.
 */
function mapFirstFound(inputs: FieldValue[], transform: Extract<FieldTransform, { kind: 'map' }>): FieldValue {
  const candidates: string[] = [];
  for (const input of inputs) {
    for (const item of Array.isArray(input) ? input : [input]) {
      if (isEmpty(item)) continue;
      const key = String(item);
      if (Object.hasOwn(transform.values, key)) return transform.values[key] ?? null;
      const trimmed = key.trim();
      if (Object.hasOwn(transform.values, trimmed)) return transform.values[trimmed] ?? null;
      if (trimmed !== '') candidates.push(key);
    }
  }
  if (candidates.length === 0) return null;
  switch (transform.unmapped) {
    case 'keep':
      return candidates[0]!;
    case 'default':
      return transform.default ?? null;
    case 'fail': {
      const value = candidates.length === 1 ? candidates[0]! : candidates;
      throw new ValueProblem('VALUE_NOT_MAPPED', `none of the values ${candidates.map((item) => describeValue(item)).join(', ')} is in the value map`, value);
    }
  }
}

const MILLISECONDS_PER: Record<DurationUnit, number> = { milliseconds: 1, seconds: 1000, minutes: 60_000, hours: 3_600_000 };
const CLOCK = /^(\d+):([0-5]\d)(?::([0-5]\d))?$/;

/** transform: duration. A number in `from`, or a clock text (`H:MM`, `M:SS`, `H:MM:SS`), to a number in `to`. */
function durationValue(value: FieldValue, from: DurationUnit, to: DurationUnit): FieldValue {
  if (isEmpty(value)) return null;
  if (Array.isArray(value) || typeof value === 'boolean') throw new ValueProblem('INVALID_VALUE', `${describeValue(value)} is not a duration`, value);
  const text = String(value).trim();
  let millis: number;
  const clock = CLOCK.exec(text);
  // `A:B` is hours:minutes (Pipedrive's 00:30) unless the unit is seconds or finer: then minutes:seconds
  // (Zoho's call duration 05:30). `A:B:C` is always hours:minutes:seconds.
  const minutesSeconds = clock !== null && clock[3] === undefined && (from === 'seconds' || from === 'milliseconds');
  if (clock && minutesSeconds) millis = (Number(clock[1]) * 60 + Number(clock[2])) * 1000;
  else if (clock) millis = (Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3] ?? 0)) * 1000;
  else if (typeof value === 'number' || /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) millis = Number(text) * MILLISECONDS_PER[from];
  else throw new ValueProblem('INVALID_VALUE', `${describeValue(value)} is not a duration in ${from} (a number, or H:MM / H:MM:SS)`, value);
  if (millis < 0) throw new ValueProblem('INVALID_VALUE', `${describeValue(value)} is a negative duration`, value);
  const result = millis / MILLISECONDS_PER[to];
  return to === 'milliseconds' ? Math.round(result) : result;
}

/** transform: domain. A list (several e-mail addresses) gives its distinct domains. */
function domainValue(value: FieldValue): FieldValue {
  if (isEmpty(value)) return null;
  const hostOf = (item: FieldValue): string => {
    const host = typeof item === 'string' ? normaliseDomain(item) : undefined;
    if (host === undefined) throw new ValueProblem('INVALID_VALUE', `${describeValue(item)} is not a URL, e-mail address or host name`, item);
    return host;
  };
  if (Array.isArray(value)) return [...new Set(value.filter((item) => item.trim() !== '').map(hostOf))];
  return hostOf(value);
}

const NAIVE_DATETIME = /^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?$/;

/**
 * The date of a value. A naive date-time is already wall-clock time in the source's zone, so its date part is
 * taken as is; an instant takes its date in `zone`.
 */
function toDate(value: FieldValue, zone: string): string | undefined {
  if (typeof value === 'string') {
    const naive = NAIVE_DATETIME.exec(value.trim());
    if (naive) return parseDate(naive[1], 'UTC');
    return parseDate(value, zone);
  }
  if (typeof value === 'number') return parseDate(value, zone);
  return undefined;
}

const EMAIL = /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/;
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** 1,234,567 or 1,234.5: comma grouping that cannot be read as a decimal comma. */
const GROUPED_NUMBER = /^[+-]?\d{1,3}(?:(?:,\d{3}){2,}(?:\.\d+)?|,\d{3}\.\d+)$/;

/**
 * Reads a number from text. Without a locale, forms that could mean two things (`1,234`, `1.234,5`) are
 * refused. With one (sourceLocale or a field's `locale:`), the locale's form is read (`1.234,56` under
 * de-DE); text that is not valid in the locale but is a plain number (`1234.5`, `1e3`, no grouping) is
 * still read as one, so machine-written values in the same source keep working; other locales' grouping
 * (`1,234.5` under de-DE) is refused.
 */
export function parseNumber(text: string, locale?: string): number | undefined {
  const trimmed = text.trim();
  if (locale !== undefined) {
    const localised = parseLocaleNumber(trimmed, locale);
    if (localised !== undefined) return localised;
    return PLAIN_NUMBER.test(trimmed) ? Number(trimmed) : undefined;
  }
  if (PLAIN_NUMBER.test(trimmed)) return Number(trimmed);
  if (GROUPED_NUMBER.test(trimmed)) return Number(trimmed.replace(/,/g, ''));
  return undefined;
}

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1', 'on', 't']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0', 'off', 'f']);

export function parseBoolean(value: FieldValue): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

function invalid(value: FieldValue, reason: string): never {
  throw new ValueProblem('INVALID_VALUE', `${describeValue(value)} ${reason}`, value);
}

/** Converts a transformed value to the target field's type, following the value conventions in schema.ts. */
export function convertValue(value: FieldValue, field: FieldSchema, sourceTimeZone = 'UTC', locale?: string): FieldValue {
  if (isEmpty(value)) return null;
  const v = value!;
  switch (field.type) {
    case 'string':
    case 'text':
    case 'phone':
    case 'url': {
      const text = asText(v);
      // Characters (code points), as databases count them: an emoji is one, not two UTF-16 units. A text
      // no longer in UTF-16 units than the limit fits without counting.
      if (field.maxLength !== undefined && text.length > field.maxLength) {
        const length = [...text].length;
        if (length > field.maxLength) invalid(v, `is ${length} characters long, longer than the target's maximum of ${field.maxLength} (not truncated)`);
      }
      return text;
    }
    case 'email': {
      if (Array.isArray(v)) invalid(v, 'is a list, not one e-mail address');
      const text = String(v).trim();
      if (!EMAIL.test(text)) invalid(v, 'is not a valid e-mail address');
      if (field.maxLength !== undefined && [...text].length > field.maxLength) {
        invalid(v, `is longer than the target's maximum of ${field.maxLength} characters`);
      }
      return text;
    }
    case 'number':
    case 'integer': {
      let number: number | undefined;
      if (typeof v === 'number') number = v;
      else if (typeof v === 'string') number = parseNumber(v, locale);
      if (number === undefined || !Number.isFinite(number)) {
        if (locale) invalid(v, `is not a number in ${locale}`);
        // Digits with separators (1.234,5 / 1,234): a locale would read them; say which setting that is.
        if (typeof v === 'string' && /\d/.test(v) && /^[\s\d.,'’+\-\u00a0\u202f]+$/.test(v)) {
          invalid(v, 'is not a number in an unambiguous format: set sourceLocale (or locale: on the field), e.g. de-DE to read 1.234,56');
        }
        invalid(v, 'is not a number (or its format is ambiguous)');
      }
      if (field.type === 'integer' && !Number.isInteger(number)) invalid(v, 'is not a whole number');
      return number;
    }
    case 'boolean': {
      const flag = parseBoolean(v);
      if (flag === undefined) invalid(v, 'is not a yes/no value');
      return flag;
    }
    case 'date': {
      const date = typeof v === 'string' || typeof v === 'number' ? toDate(v, 'UTC') : undefined;
      if (date === undefined) invalid(v, 'is not a date');
      return date;
    }
    case 'datetime': {
      if (typeof v === 'string' && isCanonicalInstant(v)) return v;
      const instant = typeof v === 'string' || typeof v === 'number' ? parseInstant(v, sourceTimeZone) : undefined;
      if (instant === undefined) invalid(v, 'is not a date-time');
      return instant;
    }
    case 'enum': {
      if (Array.isArray(v) || typeof v === 'boolean') invalid(v, 'is not a single option');
      const text = String(v);
      const options = field.options;
      if (!options || options.length === 0) return text;
      if (options.some((option) => option.value === text)) return text;
      const byLabel = options.filter((option) => option.label === text);
      if (byLabel.length === 1) return byLabel[0]!.value;
      return invalid(v, `is not an option of the target field (options: ${options.map((option) => option.value).join(', ')})`);
    }
    case 'reference': {
      if (Array.isArray(v)) {
        if (v.length === 1) return v[0]!;
        invalid(v, 'is a list, but the target field holds one reference');
      }
      if (typeof v === 'boolean') invalid(v, 'is not a record id');
      return String(v);
    }
    case 'reference-list': {
      const ids = Array.isArray(v) ? v : [String(v)];
      return [...new Set(ids.map(String).filter((id) => id !== ''))].sort();
    }
    case 'json':
      return v;
  }
}

const CANONICAL_INSTANT = /^([1-9]\d{3})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether text is already an instant as Ferry writes them (`2024-03-01T10:00:00.000Z`, a real date and
 * time): parseInstant would return it unchanged, so connectors' values skip the parse.
 */
export function isCanonicalInstant(text: string): boolean {
  const match = CANONICAL_INSTANT.exec(text);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
  if (day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)) return false;
  return Number(match[4]) < 24 && Number(match[5]) < 60 && Number(match[6]) < 60;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = canonical(item);
    }
    return out;
  }
  if (typeof value === 'number' && Object.is(value, -0)) return 0;
  return value;
}

/** Stable hash of mapped values: sha256 of canonical JSON (sorted keys), first 32 hex characters. */
export function fingerprint(values: Record<string, FieldValue>): string {
  return createHash('sha256').update(JSON.stringify(canonical(values))).digest('hex').slice(0, 32);
}

const ZONED_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

function asNumber(value: FieldValue): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return parseNumber(value);
  return undefined;
}

function asSet(value: FieldValue): string[] {
  if (value === null) return [];
  const items = Array.isArray(value) ? value : [String(value)];
  return [...new Set(items.map(String))].sort();
}

/**
 * Whether two values mean the same (used for conflicts, fill-empty and verify): empty values (null, '', [])
 * are equal, numbers equal numeric strings, date-times are compared as instants, lists as sets, e-mails
 * without regard to case or surrounding spaces.
 */
export function valuesEqual(a: FieldValue | undefined, b: FieldValue | undefined, type?: FieldType): boolean {
  const left = a ?? null;
  const right = b ?? null;
  if (isEmpty(left) && isEmpty(right)) return true;
  if (isEmpty(left) || isEmpty(right)) return false;
  switch (type) {
    case 'number':
    case 'integer': {
      const x = asNumber(left);
      const y = asNumber(right);
      return x !== undefined && y !== undefined ? x === y : left === right;
    }
    case 'datetime': {
      if (typeof left === 'string' && typeof right === 'string' && isCanonicalInstant(left) && isCanonicalInstant(right)) return left === right;
      const x = parseInstant(left);
      const y = parseInstant(right);
      return x !== undefined && y !== undefined ? x === y : left === right;
    }
    case 'date': {
      const x = parseDate(left);
      const y = parseDate(right);
      return x !== undefined && y !== undefined ? x === y : left === right;
    }
    case 'boolean': {
      const x = parseBoolean(left);
      const y = parseBoolean(right);
      return x !== undefined && y !== undefined ? x === y : left === right;
    }
    case 'reference-list':
      return asSet(left).join('\u0000') === asSet(right).join('\u0000');
    case 'email':
      // Targets store e-mails their own way (HubSpot lower-cases them); the address is the same.
      if (typeof left === 'string' && typeof right === 'string') return left.trim().toLowerCase() === right.trim().toLowerCase();
      return String(left) === String(right);
    case undefined:
      break;
    default:
      if (Array.isArray(left) || Array.isArray(right)) return asSet(left).join('\u0000') === asSet(right).join('\u0000');
      return String(left) === String(right);
  }
  // No type: infer from the values.
  if (Array.isArray(left) || Array.isArray(right)) return asSet(left).join('\u0000') === asSet(right).join('\u0000');
  if (typeof left === 'number' || typeof right === 'number') {
    const x = asNumber(left);
    const y = asNumber(right);
    return x !== undefined && y !== undefined && x === y;
  }
  if (typeof left === 'string' && typeof right === 'string' && ZONED_INSTANT.test(left) && ZONED_INSTANT.test(right)) {
    return parseInstant(left) === parseInstant(right);
  }
  return left === right;
}
