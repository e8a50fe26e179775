import { describe, expect, it } from 'vitest';
import type { FieldModel } from './model.js';
import { fromColumnValue, toColumnValue } from './values.js';

const field = (kind: FieldModel['kind']): FieldModel => ({ name: 'f', column: 'f', kind, integerColumn: false, required: false, readOnly: false, schema: { name: 'f', type: 'string' } });

describe('fromColumnValue', () => {
  it('passes text that is not a number or a date on as written, instead of turning it into null or 0', () => {
    // SQLite stores any text in NUMERIC and DATE columns; the mapping then converts it or fails the record.
    expect(fromColumnValue(field('number'), 'lots', 'UTC')).toBe('lots');
    expect(fromColumnValue(field('number'), '1,234.56', 'UTC')).toBe('1,234.56');
    expect(fromColumnValue(field('integer'), '  ', 'UTC')).toBeNull();
    expect(fromColumnValue(field('number'), '12.5', 'UTC')).toBe(12.5);
    expect(fromColumnValue(field('number'), 7, 'UTC')).toBe(7);
    expect(fromColumnValue(field('date'), '31/12/1999', 'UTC')).toBe('31/12/1999');
    expect(fromColumnValue(field('date'), '', 'UTC')).toBeNull();
    expect(fromColumnValue(field('date'), '1899-12-31', 'UTC')).toBe('1899-12-31');
  });
});

describe('toColumnValue', () => {
  it('refuses a NUL byte for PostgreSQL with the field named (PostgreSQL cannot store it), and keeps it for SQLite', () => {
    const text = { ...field('string'), name: 'body' };
    expect(toColumnValue(text, 'a\u0000b', 'postgres', Boolean)).toEqual({ ok: false, message: 'body: "a\\u0000b" contains a NUL byte (\\u0000), which PostgreSQL cannot store (not removed: fix it in the source)' });
    expect(toColumnValue(text, 'a\u0000b', 'sqlite', Boolean)).toEqual({ ok: true, value: 'a\u0000b' });
  });
});
