/**
 * Time formats: the REST API writes datetimes as `2024-03-17T14:05:00.000+0000` (always UTC from the emulator)
 * and dates as `2024-03-17`; it reads any ISO 8601 datetime with an offset or `Z`.
 * Source: REST API Developer Guide, "Valid Date and DateTime Formats"
 * (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_valid_date_formats.htm).
 */
export function sfDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Epoch ms of an ISO 8601 datetime with `Z` or an offset (`+0000` or `+00:00`), or undefined. */
export function parseDateTime(text: string): number | undefined {
  const match = DATETIME.exec(text);
  if (!match) return undefined;
  const offset = match[8] === 'Z' ? 'Z' : `${match[8]!.slice(0, 3)}:${match[8]!.slice(-2)}`;
  const ms = Date.parse(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}${(match[7] ?? '.000').padEnd(4, '0')}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}

export function isDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** Start of the UTC day of `ms`, plus `days` days. */
export function dayStart(ms: number, days = 0): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + days);
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
