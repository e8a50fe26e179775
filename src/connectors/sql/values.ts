import type { FieldValue } from '../../core/schema.js';
import { parseDate, parseInstant } from '../../core/time.js';
import type { DialectName } from './dialect.js';
import type { FieldModel } from './model.js';
import { fromStoredInstant, isCanonicalInstant, toStoredInstant } from './timestamps.js';

/** Converts a column value read from the database to the value conventions (schema.ts). */
export function fromColumnValue(field: FieldModel, raw: unknown, zone: string): FieldValue {
  if (raw === null || raw === undefined) return null;
  switch (field.kind) {
    case 'integer':
    case 'number': {
      if (typeof raw === 'number') return Number.isFinite(raw) ? raw : null;
      // SQLite keeps any text in a numeric column: text that is not a plain number is passed on as written
      // (never turned into null or 0), so the mapping converts it ("1,234.56") or fails the record with it.
      const text = String(raw);
      if (text.trim() === '') return null;
      const number = Number(text);
      return Number.isFinite(number) ? number : text;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'number' || typeof raw === 'bigint') return Number(raw) !== 0;
      return /^(t|true|1|y|yes)$/i.test(String(raw).trim());
    case 'date': {
      // Text that is not a date (SQLite keeps anything) is passed on as written, for the mapping to report.
      const text = raw instanceof Date ? raw.toISOString() : String(raw);
      if (text.trim() === '') return null;
      return parseDate(text, zone) ?? text;
    }
    case 'datetime':
      return fromStoredInstant(raw, field.storage!);
    case 'json':
      return typeof raw === 'string' ? raw : JSON.stringify(raw);
    case 'reference':
      return String(raw);
    case 'string':
      if (Buffer.isBuffer(raw)) return raw.toString('utf8');
      if (typeof raw === 'object') return JSON.stringify(raw);
      return String(raw);
  }
}

export type Converted = { ok: true; value: unknown } | { ok: false; message: string };

const INTEGER_TEXT = /^-?\d+$/;

/** An integer or id for binding: numbers while exact, then BigInt (SQLite) or the digit string. */
export function integerParameter(value: string | number, dialect: DialectName): unknown {
  if (typeof value === 'number') return value;
  const number = Number(value);
  if (Number.isSafeInteger(number)) return number;
  return dialect === 'sqlite' ? BigInt(value) : value;
}

/** An id string converted to the id column's type, or undefined when it cannot be one (then it exists nowhere). */
export function idParameter(id: string, integer: boolean, dialect: DialectName): unknown {
  if (!integer) return id;
  return INTEGER_TEXT.test(id.trim()) ? integerParameter(id.trim(), dialect) : undefined;
}

function describe(value: FieldValue): string {
  return Array.isArray(value) ? 'a list' : typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 59)}…` : value) : String(value);
}

function notA(field: FieldModel, value: FieldValue, what: string): Converted {
  return { ok: false, message: `${field.name}: ${describe(value)} is not ${what}` };
}

/**
 * Converts a value in the conventions to what the column takes, checking what the database may not
 * (SQLite stores 'abc' in an INTEGER column; MySQL may truncate), so a bad value fails with its field.
 */
export function toColumnValue(
  field: FieldModel,
  value: FieldValue,
  dialect: DialectName,
  booleanParameter: (value: boolean) => unknown,
): Converted {
  if (value === null) return { ok: true, value: null };
  switch (field.kind) {
    case 'string': {
      if (Array.isArray(value)) return notA(field, value, 'text');
      const text = String(value);
      if (dialect === 'postgres' && text.includes('\u0000')) {
        return { ok: false, message: `${field.name}: ${describe(value)} contains a NUL byte (\\u0000), which PostgreSQL cannot store (not removed: fix it in the source)` };
      }
      if (field.options && !field.options.includes(text)) {
        return { ok: false, message: `${field.name}: ${describe(value)} is not one of ${field.options.join(', ')}` };
      }
      // Characters (code points): a text no longer in UTF-16 units than the limit fits without counting.
      if (field.maxLength !== undefined && text.length > field.maxLength && [...text].length > field.maxLength) {
        return { ok: false, message: `${field.name}: value is longer than ${field.maxLength} characters` };
      }
      return { ok: true, value: text };
    }
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return { ok: true, value };
      if (typeof value === 'string' && INTEGER_TEXT.test(value.trim())) return { ok: true, value: integerParameter(value.trim(), dialect) };
      return notA(field, value, 'an integer');
    case 'number': {
      if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value };
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return { ok: true, value: Number(value) };
      return notA(field, value, 'a number');
    }
    case 'boolean':
      if (typeof value === 'boolean') return { ok: true, value: booleanParameter(value) };
      if (value === 1 || value === 0) return { ok: true, value: booleanParameter(value === 1) };
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) {
        return { ok: true, value: booleanParameter(value.trim().toLowerCase() === 'true') };
      }
      return notA(field, value, 'a boolean');
    case 'date': {
      const date = typeof value === 'string' ? parseDate(value) : undefined;
      return date ? { ok: true, value: date } : notA(field, value, 'a date (YYYY-MM-DD)');
    }
    case 'datetime': {
      const instant =
        typeof value === 'string' && isCanonicalInstant(value) ? value : typeof value === 'string' || typeof value === 'number' ? parseInstant(value) : undefined;
      return instant ? { ok: true, value: toStoredInstant(instant, field.storage!) } : notA(field, value, 'a date-time (ISO 8601)');
    }
    case 'json':
      if (typeof value === 'string') {
        try {
          JSON.parse(value);
          return { ok: true, value };
        } catch {
          return notA(field, value, 'JSON');
        }
      }
      return { ok: true, value: JSON.stringify(value) };
    case 'reference': {
      if (typeof value !== 'string' && typeof value !== 'number') return notA(field, value, 'a record id');
      if (!field.integerColumn) return { ok: true, value: String(value) };
      const id = idParameter(String(value), true, dialect);
      return id === undefined ? notA(field, value, 'a record id (an integer)') : { ok: true, value: id };
    }
  }
}
