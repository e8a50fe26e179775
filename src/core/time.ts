import { FerryError } from './errors.js';

/**
 * Instants are UTC ISO strings with milliseconds everywhere inside Ferry. Nothing here reads the
 * machine's time zone: naive date-times are read in an explicit zone (UTC unless configured).
 */
const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})$/i;
const NAIVE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isDateOnly(value: string): boolean {
  return DATE_ONLY.test(value);
}

/** Offset in minutes of `zone` at the given UTC instant, via Intl (no dependence on the process zone). */
function zoneOffsetMinutes(zone: string, utcMillis: number): number {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(utcMillis))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return Math.round((asUtc - Math.floor(utcMillis / 1000) * 1000) / 60000);
}

function fractionToMillis(fraction: string | undefined): number {
  if (!fraction) return 0;
  return Number(fraction.padEnd(3, '0').slice(0, 3));
}

/**
 * Parses an instant: ISO with zone, naive date-time (read in `zone`, default UTC), date only (midnight in
 * `zone`), epoch milliseconds (number or digit string of 12+ digits), or a Date. Returns ISO UTC with ms,
 * or undefined when the text is not an instant.
 */
export function parseInstant(value: unknown, zone = 'UTC'): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (typeof value === 'number') return Number.isFinite(value) ? new Date(value).toISOString() : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^-?\d{12,}$/.test(text)) return new Date(Number(text)).toISOString();
  const withZone = ISO_WITH_ZONE.exec(text);
  if (withZone) {
    const [, y, mo, d, h, mi, s, f, z] = withZone;
    let millis = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), fractionToMillis(f));
    if (z!.toUpperCase() !== 'Z') {
      const sign = z!.startsWith('-') ? -1 : 1;
      const digits = z!.slice(1).replace(':', '');
      millis -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60000;
    }
    return validDate(millis, Number(y), Number(mo), Number(d));
  }
  const naive = NAIVE.exec(text);
  if (naive) {
    const [, y, mo, d, h, mi, s, f] = naive;
    const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), fractionToMillis(f));
    if (zone === 'UTC') return validDate(wall, Number(y), Number(mo), Number(d));
    // Two passes settle the offset around DST changes.
    let offset = zoneOffsetMinutes(zone, wall);
    offset = zoneOffsetMinutes(zone, wall - offset * 60000);
    return validDate(wall - offset * 60000, Number(y), Number(mo), Number(d));
  }
  return undefined;
}

function validDate(millis: number, year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const date = new Date(millis);
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString();
}

/** Parses a date-only value (`YYYY-MM-DD`, or the date part of an instant in `zone`). */
export function parseDate(value: unknown, zone = 'UTC'): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'string' && DATE_ONLY.test(value.trim())) {
    const text = value.trim();
    const [y, m, d] = text.split('-').map(Number) as [number, number, number];
    const check = new Date(Date.UTC(y, m - 1, d));
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return undefined;
    return text;
  }
  const instant = parseInstant(value, 'UTC');
  if (!instant) return undefined;
  if (zone === 'UTC') return instant.slice(0, 10);
  const offset = zoneOffsetMinutes(zone, Date.parse(instant));
  return new Date(Date.parse(instant) + offset * 60000).toISOString().slice(0, 10);
}

export function requireInstant(value: unknown, what: string): string {
  const instant = parseInstant(value);
  if (!instant) throw new FerryError('INVALID_VALUE', `${what}: ${JSON.stringify(value)} is not a date-time`, { value });
  return instant;
}

export function subtractMillis(instant: string, millis: number): string {
  return new Date(Date.parse(instant) - millis).toISOString();
}

/** The local clock as ISO UTC. The one place the engine reads wall-clock time, so tests can pin it. */
export function nowIso(): string {
  return new Date().toISOString();
}
