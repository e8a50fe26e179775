/**
 * How a file writes numbers and numeric dates: by its locale (`source.objects.X.locale`, the connection's
 * `locale`, or the project's `sourceLocale`), or, for numbers only, by detection in a `;`-delimited file
 * (a German Excel re-save: `1.234,56`).
 *
 * Without a locale the reader keeps Ferry's plain form: `.` is the decimal mark and no grouping is accepted,
 * so `1,234` and `1.234,5` are not numbers (the column stays text) rather than being guessed at. Under a
 * locale, grouping must sit where the locale puts it (`1.234.567` for de-DE, never `1.23`), so `1.234`
 * under de-DE is 1234 and never silently 1.234.
 */

export interface NumberStyle {
  /** Where the style comes from, for messages: `de-DE`, or `detected decimal comma`. */
  source: string;
  decimal: string;
  /** Characters accepted between digit groups. */
  groups: string[];
  /** Digits in the last group (3) and in the groups before it (3; 2 for en-IN's 12,34,567). */
  primary: number;
  secondary: number;
  /**
   * Plain form (`.` decimal, no grouping), but refusing `1.234` / `12.345.678`: a `;`-delimited file whose
   * numbers could be either form. Such values stay text rather than being read as 1.234.
   */
  ambiguous?: boolean;
}

export type DateOrder = 'dmy' | 'mdy' | 'ymd';

export interface DateStyle {
  source: string;
  order: DateOrder;
}

const SPACES = [' ', '\u00a0', '\u202f'];
const APOSTROPHES = ["'", '\u2019'];

/** The number style of a locale (Intl's own separators, Latin digits). */
export function localeNumberStyle(locale: string): NumberStyle {
  const format = new Intl.NumberFormat(locale, { numberingSystem: 'latn', useGrouping: true });
  const parts = format.formatToParts(1234567.5);
  const decimal = parts.find((part) => part.type === 'decimal')?.value ?? '.';
  const group = parts.find((part) => part.type === 'group')?.value;
  const integers = parts.filter((part) => part.type === 'integer').map((part) => part.value);
  let groups: string[] = [];
  if (group !== undefined) {
    if (SPACES.includes(group)) groups = SPACES;
    else if (APOSTROPHES.includes(group)) groups = APOSTROPHES;
    else groups = [group];
  }
  const primary = integers.at(-1)?.length ?? 3;
  const secondary = integers.length > 2 ? integers.at(-2)!.length : primary;
  return { source: locale, decimal, groups, primary, secondary };
}

/** The style a detected decimal-comma file uses: `,` decimal, `.` grouping by thousands. */
export const DECIMAL_COMMA: NumberStyle = { source: 'detected decimal comma', decimal: ',', groups: ['.'], primary: 3, secondary: 3 };

/** A `;` file with `1.234`-like numbers and nothing to tell which form it uses. */
export const AMBIGUOUS_DOTS: NumberStyle = { source: 'no locale', decimal: '.', groups: [], primary: 3, secondary: 3, ambiguous: true };

const GROUPED_LOOKING = /^[+-]?\d{1,3}(\.\d{3})+$/;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const compiled = new WeakMap<NumberStyle, RegExp>();

function numberPattern(style: NumberStyle): RegExp {
  let pattern = compiled.get(style);
  if (!pattern) {
    const group = style.groups.length > 0 ? `[${style.groups.map(escape).join('')}]` : undefined;
    const grouped = group ? `|\\d{1,${style.secondary}}(?:${group}\\d{${style.secondary}})*${group}\\d{${style.primary}}` : '';
    pattern = new RegExp(`^([+-]?)(\\d+${grouped})?(?:${escape(style.decimal)}(\\d+))?$`);
    compiled.set(style, pattern);
  }
  return pattern;
}

/** Trimmed, with the Unicode minus sign (sv-SE, fi-FI write `−5`) as `-`. */
function unminus(value: string): string {
  return value.trim().replace(/^\u2212/, '-');
}

/** `1.234,56` under de-DE -> 1234.56; undefined when the text is not a number written in that style. */
export function parseStyledNumber(value: string, style: NumberStyle): number | undefined {
  if (style.ambiguous && GROUPED_LOOKING.test(unminus(value))) return undefined;
  const match = numberPattern(style).exec(unminus(value));
  if (!match || (match[2] === undefined && match[3] === undefined)) return undefined;
  const digits = (match[2] ?? '0').replace(/\D/g, '');
  const number = Number(`${match[1]}${digits}${match[3] !== undefined ? `.${match[3]}` : ''}`);
  return Number.isFinite(number) ? number : undefined;
}

/** An integer written in the style (grouping allowed, no decimals, no leading zero: zip codes stay text). */
export function parseStyledInteger(value: string, style: NumberStyle): number | undefined {
  if (style.ambiguous && GROUPED_LOOKING.test(unminus(value))) return undefined;
  const match = numberPattern(style).exec(unminus(value));
  if (!match || match[2] === undefined || match[3] !== undefined) return undefined;
  const digits = match[2].replace(/\D/g, '');
  if (digits.length > 1 && digits.startsWith('0')) return undefined;
  const number = Number(`${match[1]}${digits}`);
  return Number.isSafeInteger(number) ? number : undefined;
}

/** How the style reads, for error messages. */
export function describeNumberStyle(style: NumberStyle): string {
  if (style.ambiguous) {
    return 'this ";" file gives no sign whether "." is a decimal mark or groups thousands: set the file\'s locale (e.g. de-DE) or sourceLocale';
  }
  const name = (char: string) => (char === ' ' ? 'a space' : `"${char}"`);
  const groups = style.groups.length > 0 ? `${name(style.groups[0]!)} groups digits, ` : '';
  return `read as ${style.source}: ${groups}${name(style.decimal)} is the decimal mark`;
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
