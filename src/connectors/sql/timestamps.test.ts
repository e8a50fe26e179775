import { describe, expect, it } from 'vitest';
import { parseSqlConnectionConfig } from './config.js';
import { redactSecret } from './dialect.js';
import { parseInstant } from '../../core/time.js';
import { detectStorage, formatWallClock, fromStoredInstant, isCanonicalInstant, toStoredInstant, type TimestampStorage } from './timestamps.js';

describe('timestamp storage formats', () => {
  const newYork: TimestampStorage = { kind: 'naive-text', zone: 'America/New_York', separator: ' ', fractionDigits: 0 };

  it('writes and reads naive text as wall-clock time of the configured zone, across DST', () => {
    expect(toStoredInstant('2024-01-15T17:00:00.000Z', newYork)).toBe('2024-01-15 12:00:00');
    expect(toStoredInstant('2024-07-15T16:00:00.000Z', newYork)).toBe('2024-07-15 12:00:00');
    expect(fromStoredInstant('2024-01-15 12:00:00', newYork)).toBe('2024-01-15T17:00:00.000Z');
    expect(fromStoredInstant('2024-07-15 12:00:00', newYork)).toBe('2024-07-15T16:00:00.000Z');
  });

  it('truncates a bound to the stored precision (never rounds up past a row)', () => {
    expect(toStoredInstant('2024-01-15T17:00:00.999Z', newYork)).toBe('2024-01-15 12:00:00');
    expect(toStoredInstant('2024-01-15T17:00:00.999Z', { kind: 'epoch-s' })).toBe(1705338000);
    expect(toStoredInstant('2024-01-15T17:00:00.999Z', { kind: 'iso-text', fractionDigits: 0 })).toBe('2024-01-15T17:00:00Z');
  });

  it('pads ISO text to the stored fraction digits so text order stays time order', () => {
    const micro: TimestampStorage = { kind: 'iso-text', fractionDigits: 6 };
    const bound = toStoredInstant('2024-01-15T17:00:00.123Z', micro) as string;
    expect(bound).toBe('2024-01-15T17:00:00.123000Z');
    expect('2024-01-15T17:00:00.123456Z' >= bound).toBe(true);
  });

  it('reads epoch milliseconds and seconds, PostgreSQL offsets and native values', () => {
    expect(fromStoredInstant(1705338000123, { kind: 'epoch-ms' })).toBe('2024-01-15T17:00:00.123Z');
    expect(fromStoredInstant('1705338000', { kind: 'epoch-s' })).toBe('2024-01-15T17:00:00.000Z');
    expect(fromStoredInstant('2024-01-15 17:00:00.123456+00', { kind: 'native', zone: 'UTC', fractionDigits: 6 })).toBe('2024-01-15T17:00:00.123Z');
    expect(fromStoredInstant('2024-01-15 12:00:00', { kind: 'native', zone: 'America/New_York', fractionDigits: 0 })).toBe(
      '2024-01-15T17:00:00.000Z',
    );
    expect(fromStoredInstant(null, { kind: 'epoch-ms' })).toBeNull();
  });

  it('detects the storage of text and integer columns from samples', () => {
    const fallback: TimestampStorage = { kind: 'iso-text', fractionDigits: 3 };
    expect(detectStorage(['2024-01-01T10:00:00.000Z', '2024-01-02T10:00:00.000Z'], 'UTC', fallback)).toEqual({ kind: 'iso-text', fractionDigits: 3 });
    expect(detectStorage(['2024-01-01 10:00:00'], 'Europe/Berlin', fallback)).toEqual({
      kind: 'naive-text',
      zone: 'Europe/Berlin',
      separator: ' ',
      fractionDigits: 0,
    });
    expect(detectStorage([1705338000123], 'UTC', fallback)).toEqual({ kind: 'epoch-ms' });
    expect(detectStorage([1705338000], 'UTC', fallback)).toEqual({ kind: 'epoch-s' });
    expect(detectStorage([], 'UTC', fallback)).toBe(fallback);
  });
});

describe('SQL connection settings', () => {
  function messageOf(input: unknown): string {
    try {
      parseSqlConnectionConfig(input, { configPath: 'source' });
    } catch (error) {
      expect((error as { code?: string }).code).toBe('CONFIG_INVALID');
      return (error as Error).message;
    }
    throw new Error('settings were accepted');
  }

  it('names the bad key in the message', () => {
    expect(messageOf({ dialect: 'oracle' })).toContain('source.dialect: must be one of sqlite, postgres, mysql');
    expect(messageOf({ dialect: 'sqlite' })).toContain('source.path: is required for dialect sqlite');
    expect(messageOf({ dialect: 'postgres', url: 'mysql://x@h/db' })).toContain('source.url: must start with postgres://');
    expect(messageOf({ dialect: 'sqlite', path: 'a.db', timeZone: 'Mars/Olympus' })).toContain('source.timeZone:');
    expect(messageOf({ dialect: 'sqlite', path: 'a.db', tablez: {} })).toContain('source.tablez: unknown setting');
    expect(messageOf({ dialect: 'sqlite', path: 'a.db', objects: { deals: { externalId: 3 } } })).toContain('source.objects.deals.externalId');
  });

  it('never repeats the password of a bad URL', () => {
    expect(messageOf({ dialect: 'postgres', url: 'postgres//user:Sup3rS3cret@host/db' })).not.toContain('Sup3rS3cret');
    expect(messageOf({ dialect: 'mysql', url: 'postgres://user:Sup3rS3cret@host/db' })).not.toContain('Sup3rS3cret');
  });

  it('resolves a relative SQLite path against the project directory', () => {
    expect(parseSqlConnectionConfig({ connector: 'sql', dialect: 'sqlite', path: './crm.db' }, { baseDir: '/projects/acme' }).path).toBe(
      '/projects/acme/crm.db',
    );
    expect(parseSqlConnectionConfig({ dialect: 'sqlite', path: '/data/crm.db' }, { baseDir: '/projects/acme' }).path).toBe('/data/crm.db');
  });

  it('redacts passwords, raw and percent-encoded', () => {
    const url = 'postgres://ann:p%40ss%3Aword@db.example.com/crm';
    const text = `failed for ${url} using p@ss:word and p%40ss%3Aword`;
    const redacted = redactSecret(text, url);
    expect(redacted).not.toContain('p@ss:word');
    expect(redacted).not.toContain('p%40ss%3Aword');
    expect(redacted).toContain('ann');
  });
});

describe('the shortcuts for plain UTC text give what the general conversion gives', () => {
  const general = (iso: string, storage: TimestampStorage): string | number => {
    const millis = Date.parse(iso);
    if (storage.kind === 'iso-text') return `${formatWallClock(millis, 'UTC', 'T', storage.fractionDigits)}Z`;
    if (storage.kind === 'naive-text') return formatWallClock(millis, storage.zone, storage.separator, storage.fractionDigits);
    if (storage.kind === 'native') return formatWallClock(millis, storage.zone, ' ', Math.min(storage.fractionDigits, 3));
    throw new Error('not a text storage');
  };

  it('reads stored text as parseInstant does, real dates only', () => {
    const naive: TimestampStorage = { kind: 'naive-text', zone: 'UTC', separator: ' ', fractionDigits: 0 };
    for (const text of ['2025-02-12 06:06:42', '2024-02-29 23:59:59.123', '2023-02-29 10:00:00', '2024-04-31 10:00:00', '2024-13-01 10:00:00', '2024-01-01T24:00:00', '0999-01-01 00:00:00', '2024-01-01T10:00:00Z', ' 2024-01-01 10:00:00 ']) {
      expect(fromStoredInstant(text, naive), text).toBe(parseInstant(text.trim()) ?? null);
    }
    const berlin: TimestampStorage = { kind: 'naive-text', zone: 'Europe/Berlin', separator: ' ', fractionDigits: 0 };
    expect(fromStoredInstant('2024-07-01 18:00:00', berlin)).toBe('2024-07-01T16:00:00.000Z');
    expect(fromStoredInstant('2024-07-01T18:00:00.000Z', berlin)).toBe('2024-07-01T18:00:00.000Z');
  });

  it('writes an instant in each UTC text format as formatWallClock does', () => {
    const storages: TimestampStorage[] = [
      { kind: 'iso-text', fractionDigits: 0 },
      { kind: 'iso-text', fractionDigits: 3 },
      { kind: 'iso-text', fractionDigits: 6 },
      { kind: 'naive-text', zone: 'UTC', separator: ' ', fractionDigits: 0 },
      { kind: 'naive-text', zone: 'UTC', separator: 'T', fractionDigits: 2 },
      { kind: 'native', zone: 'UTC', fractionDigits: 6 },
      { kind: 'native', zone: 'America/New_York', fractionDigits: 3 },
    ];
    for (const storage of storages) {
      for (const iso of ['2024-03-01T10:00:00.987Z', '1899-12-31T23:59:59.000Z']) expect(toStoredInstant(iso, storage), JSON.stringify(storage)).toBe(general(iso, storage));
    }
  });

  it('knows an instant already in canonical form', () => {
    expect(isCanonicalInstant('2024-03-01T10:00:00.000Z')).toBe(true);
    expect(isCanonicalInstant('2024-02-30T10:00:00.000Z')).toBe(false);
    expect(isCanonicalInstant('2024-03-01 10:00:00')).toBe(false);
    expect(isCanonicalInstant('2024-03-01T10:00:00Z')).toBe(false);
  });
});
