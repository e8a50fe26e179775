/**
 * How a file writes numbers and numeric dates: by its locale (`source.objects.X.locale`, the connection's
 * `locale`, or the project's `sourceLocale`), or, for numbers only, by detection in a `;`-delimited file
 * (a German Excel re-save: `1.234,56`).
 *
 * Without a locale the reader keeps Ferry's plain form: `.` is the decimal mark and no grouping is accepted,
 * so `1,234` and `1.234,5` are not numbers (the column stays text) rather than being guessed at. Numbers
 * under a locale or a detected style are read by the one locale number reader, core/locale-number.ts
 * (the transform layer uses the same); this file detects a file's number form and reads numeric dates.
 */
import { GROUPED_LOOKING } from '../../core/locale-number.js';
import type { DateOrder } from '../../core/schema.js';

export type { DateOrder };

export interface DateStyle {
  source: string;
  order: DateOrder;
}

// ---- detection -----------------------------------------------------------------------------------------

const COMMA_FORM = /^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$/;
const COMMA_DECIMAL = /\d,\d/;
const DOT_FORM = /^[+-]?\d*\.\d+$/;

/**
 * How a `;`-delimited file without a locale writes its numbers, from the sampled values of its columns:
 * - `comma`: some column's values all fit `1.234,56` form with at least one decimal comma, and no column's
 *   values are unambiguous dot decimals (`12.5`, `0.25`: a `.` not followed by exactly three digits);
 * - `dot`: some column holds unambiguous dot decimals;
 * - `ambiguous`: neither, but some column holds `1.234`-like values, which read as 1.234 or as 1234;
 * - `plain`: nothing to decide (integers, ids and dates such as `31.12.2024` fit both forms).
 */
export function detectNumberForm(columns: string[][]): 'comma' | 'dot' | 'ambiguous' | 'plain' {
  let comma = false;
  let grouped = false;
  for (const values of columns) {
    if (values.length === 0) continue;
    if (values.every((value) => DOT_FORM.test(value) || /^[+-]?\d+$/.test(value)) && values.some((value) => DOT_FORM.test(value) && !COMMA_FORM.test(value))) {
      return 'dot';
    }
    if (values.every((value) => COMMA_FORM.test(value))) {
      if (values.some((value) => COMMA_DECIMAL.test(value))) comma = true;
      else if (values.some((value) => GROUPED_LOOKING.test(value))) grouped = true;
    }
  }
  return comma ? 'comma' : grouped ? 'ambiguous' : 'plain';
}

/** Whether a `;`-delimited file writes decimal commas unambiguously (detectNumberForm says `comma`). */
export function detectDecimalComma(columns: string[][]): boolean {
  return detectNumberForm(columns) === 'comma';
}

// ---- dates ---------------------------------------------------------------------------------------------

/** The order in which a locale writes a numeric date (de-DE 31.12.2024: dmy; en-US 12/31/2024: mdy). */
export function localeDateStyle(locale: string): DateStyle {
  const parts = new Intl.DateTimeFormat(locale, { numberingSystem: 'latn', year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    new Date(Date.UTC(2024, 11, 31, 12)),
  );
  const order = parts
    .filter((part) => part.type === 'day' || part.type === 'month' || part.type === 'year')
    .map((part) => part.type[0])
    .join('');
  return { source: locale, order: order === 'mdy' || order === 'ymd' ? order : 'dmy' };
}

/** How the style reads, for error messages: `read as de-DE: day.month.year or ISO`. */
export function describeDateStyle(style: DateStyle): string {
  const names = { d: 'day', m: 'month', y: 'year' } as const;
  return `read as ${style.source}: ${[...style.order].map((part) => names[part as keyof typeof names]).join('.')} or ISO`;
}

const DAY_OR_MONTH_FIRST = /^(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?:(?:,\s*|\s+|T)(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/;
const YEAR_FIRST = /^(\d{4})([./-])(\d{1,2})\2(\d{1,2})(?:(?:,\s*|\s+|T)(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/;

const pad = (value: number) => String(value).padStart(2, '0');

/**
 * A numeric date or date-time written in the locale's order (`31.12.2024`, `31.12.2024 14:05`,
 * `12/31/2024 2:05 PM`), as the ISO form core/time.ts reads (`2024-12-31`, `2024-12-31 14:05:00`);
 * undefined when the text is not one (ISO text is left to core/time.ts as it is). A four-digit year is
 * required: `01/02/03` is ambiguous in every locale.
 */
export function localeDateToIso(value: string, style: DateStyle): string | undefined {
  const text = value.trim();
  let year: number;
  let month: number;
  let day: number;
  let time: (string | undefined)[];
  if (style.order === 'ymd') {
    const match = YEAR_FIRST.exec(text);
    if (!match) return undefined;
    [year, month, day] = [Number(match[1]), Number(match[3]), Number(match[4])];
    time = match.slice(5);
  } else {
    const match = DAY_OR_MONTH_FIRST.exec(text);
    if (!match) return undefined;
    const [first, second] = [Number(match[1]), Number(match[3])];
    [day, month] = style.order === 'dmy' ? [first, second] : [second, first];
    year = Number(match[4]);
    time = match.slice(5);
  }
  const check = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  const date = `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}`;
  const [hourText, minute, second, meridiem] = time;
  if (hourText === undefined) return date;
  let hour = Number(hourText);
  if (meridiem) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (meridiem.toLowerCase() === 'pm' ? 12 : 0);
  }
  if (hour > 23 || Number(minute) > 59 || Number(second ?? 0) > 59) return undefined;
  return `${date} ${pad(hour)}:${minute}:${second ?? '00'}`;
}
