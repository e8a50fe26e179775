import { parseInstant } from '../../core/time.js';

/**
 * How a date-time column stores its instants. Keyset paging and `modifiedSince` compare the column
 * against a bound converted to this format, so the column is never wrapped in a function and its index
 * stays usable.
 */
export type TimestampStorage =
  /** A native timestamp type. `zone` is UTC for zone-aware types (timestamptz, MySQL TIMESTAMP read in a UTC session). */
  | { kind: 'native'; zone: string; fractionDigits: number }
  /** Text such as `2024-03-01T10:00:00.000Z`. */
  | { kind: 'iso-text'; fractionDigits: number }
  /** Text such as `2024-03-01 10:00:00`, a wall-clock time in `zone`. */
  | { kind: 'naive-text'; zone: string; separator: ' ' | 'T'; fractionDigits: number }
  | { kind: 'epoch-ms' }
  | { kind: 'epoch-s' };

const formatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, format);
  }
  return format;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    zoneFormatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `zone` from UTC in milliseconds at the given instant (Intl only; the process zone is never read). */
function zoneOffsetMillis(zone: string, utcMillis: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const parts: Record<string, number> = {};
  for (const part of zoneFormatter(zone).formatToParts(new Date(utcMillis))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - Math.floor(utcMillis / 1000) * 1000;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** Wall-clock text of an instant in `zone`: `YYYY-MM-DD<sep>HH:MM:SS[.fff]`, fraction truncated (never rounded up). */
export function formatWallClock(utcMillis: number, zone: string, separator: ' ' | 'T', fractionDigits: number): string {
  const wall = new Date(utcMillis + zoneOffsetMillis(zone, utcMillis));
  const base =
    `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `${separator}${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}`;
  if (fractionDigits <= 0) return base;
  const fraction = pad(wall.getUTCMilliseconds(), 3).padEnd(fractionDigits, '0').slice(0, fractionDigits);
  return `${base}.${fraction}`;
}

const ISO_MILLIS = /^[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** `.fff` cut to `digits` (never rounded), from an ISO instant with milliseconds. */
function isoFraction(iso: string, digits: number): string {
  return digits <= 0 ? '' : `.${iso.slice(20, 23).padEnd(digits, '0').slice(0, digits)}`;
}

const isUtc = (zone: string): boolean => zone === 'UTC' || zone === 'Etc/UTC';

/** Converts an ISO instant to the column's storage format (used for written values and for comparison bounds). */
export function toStoredInstant(iso: string, storage: TimestampStorage): string | number {
  // UTC text formats are cut from the ISO text itself: what formatWallClock gives, without a Date.
  if (ISO_MILLIS.test(iso)) {
    if (storage.kind === 'iso-text') return `${iso.slice(0, 19)}${isoFraction(iso, storage.fractionDigits)}Z`;
    if (storage.kind === 'naive-text' && isUtc(storage.zone)) return `${iso.slice(0, 10)}${storage.separator}${iso.slice(11, 19)}${isoFraction(iso, storage.fractionDigits)}`;
    if (storage.kind === 'native' && isUtc(storage.zone)) return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${isoFraction(iso, Math.min(storage.fractionDigits, 3))}`;
  }
  const millis = Date.parse(iso);
  switch (storage.kind) {
    case 'native':
      return formatWallClock(millis, storage.zone, ' ', Math.min(storage.fractionDigits, 3));
    case 'iso-text':
      return `${formatWallClock(millis, 'UTC', 'T', storage.fractionDigits)}Z`;
    case 'naive-text':
      return formatWallClock(millis, storage.zone, storage.separator, storage.fractionDigits);
    case 'epoch-ms':
      return millis;
    case 'epoch-s':
      return Math.floor(millis / 1000);
  }
}

/** PostgreSQL prints offsets as `+00` or `+05:30`; parseInstant wants `+00:00`. */
function normaliseOffset(text: string): string {
  return text.replace(/([+-]\d{2})$/, '$1:00');
}

/** `YYYY-MM-DD HH:MM:SS[.fff]` or with `T`, years 1000-9999: the shapes text columns usually hold. */
const PLAIN_WALL_CLOCK = /^([1-9]\d{3})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?(Z?)$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The ISO instant of a UTC wall-clock text with a real date and time, written directly (no Date): what
 * parseInstant returns for it, at a fraction of the cost. Undefined for anything else.
 */
function plainUtcInstant(text: string): string | undefined {
  const match = PLAIN_WALL_CLOCK.exec(text);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1) return undefined;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)) return undefined;
  if (Number(match[4]) > 23 || Number(match[5]) > 59 || Number(match[6]) > 59) return undefined;
  return `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}.${match[7] ?? '000'}Z`;
}

/** Whether text is an ISO instant exactly as parseInstant writes it (so parsing it again changes nothing). */
export function isCanonicalInstant(text: string): boolean {
  return text.length === 24 && plainUtcInstant(text) === text;
}

/** Reads a stored instant back as ISO UTC with ms, or null. */
export function fromStoredInstant(raw: unknown, storage: TimestampStorage): string | null {
  if (raw === null || raw === undefined || raw === '') return null;
  if (typeof raw === 'string') {
    const zone = storage.kind === 'native' || storage.kind === 'naive-text' ? storage.zone : 'UTC';
    // Naive text is read in the column's zone; with `Z`, it is UTC whatever the zone.
    if (isUtc(zone) || raw.endsWith('Z')) {
      const instant = plainUtcInstant(raw);
      if (instant !== undefined) return instant;
    }
  }
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? null : raw.toISOString();
  if (typeof raw === 'bigint') raw = Number(raw);
  if (typeof raw === 'number' || (typeof raw === 'string' && /^-?\d+(\.\d+)?$/.test(raw))) {
    const number = Number(raw);
    if (!Number.isFinite(number)) return null;
    const millis = storage.kind === 'epoch-s' || (storage.kind !== 'epoch-ms' && Math.abs(number) < 1e11) ? number * 1000 : number;
    return new Date(Math.trunc(millis)).toISOString();
  }
  if (typeof raw !== 'string') return null;
  const text = normaliseOffset(raw.trim());
  if (/^[+-]?infinity$/i.test(text)) return null;
  const zone = storage.kind === 'native' || storage.kind === 'naive-text' ? storage.zone : 'UTC';
  return parseInstant(text, zone) ?? null;
}

const ISO_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d+))?Z$/;
const NAIVE_TEXT = /^\d{4}-\d{2}-\d{2}([ T])\d{2}:\d{2}:\d{2}(?:\.(\d+))?$/;

/**
 * Guesses the storage of a text or integer date-time column from sample values (the most common shape
 * wins). Empty columns fall back to `fallback`.
 */
export function detectStorage(samples: unknown[], zone: string, fallback: TimestampStorage): TimestampStorage {
  const votes = new Map<string, { count: number; storage: TimestampStorage }>();
  const vote = (key: string, storage: TimestampStorage): void => {
    const entry = votes.get(key);
    if (entry) entry.count += 1;
    else votes.set(key, { count: 1, storage });
  };
  for (const sample of samples) {
    if (typeof sample === 'number' || typeof sample === 'bigint' || (typeof sample === 'string' && /^-?\d+$/.test(sample))) {
      const number = Math.abs(Number(sample));
      if (number >= 1e11) vote('epoch-ms', { kind: 'epoch-ms' });
      else vote('epoch-s', { kind: 'epoch-s' });
      continue;
    }
    if (typeof sample !== 'string') continue;
    const iso = ISO_TEXT.exec(sample);
    if (iso) {
      const digits = iso[1]?.length ?? 0;
      vote(`iso-${digits}`, { kind: 'iso-text', fractionDigits: digits });
      continue;
    }
    const naive = NAIVE_TEXT.exec(sample);
    if (naive) {
      const separator = naive[1] === 'T' ? 'T' : ' ';
      const digits = naive[2]?.length ?? 0;
      vote(`naive-${separator}-${digits}`, { kind: 'naive-text', zone, separator, fractionDigits: digits });
    }
  }
  let best: { count: number; storage: TimestampStorage } | undefined;
  for (const entry of votes.values()) if (!best || entry.count > best.count) best = entry;
  return best?.storage ?? fallback;
}
