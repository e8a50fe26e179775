/**
 * Numbers written with a locale's separators (`1.234,56` in de-DE, `1 234,56` in fr-FR, `12,34,567.8` in
 * en-IN, `1’234.5` in de-CH, `١٬٢٣٤٫٥` in ar-EG). The one number reader for every place that reads text
 * as a number under a locale: the transform layer (text into a number field under `sourceLocale` or a
 * field's `locale:`) and the CSV connector (a file's `locale`, or a detected German Excel re-save).
 *
 * A style says how a number is written: its decimal mark, the characters accepted between digit groups,
 * its minus sign and digits. `localeNumberStyle(locale)` takes them from the platform's ICU data
 * (Intl.NumberFormat), so every locale Intl knows is read the way Intl writes it; a locale whose own
 * digits are not Latin (ar-EG, fa-IR, bn-BD) also reads the Latin form Intl writes for it
 * (`numberingSystem: 'latn'`: `1,234.5` in ar-EG), as spreadsheets export it.
 *
 * Without a locale Ferry keeps its plain form (`.` decimal, no grouping; see project/transform.ts and
 * connectors/csv/detect.ts). Under a style, grouping must sit where the locale puts it (`1.234.567` for
 * de-DE, never `1.23`), so `1.234` under de-DE is 1234 and never silently 1.234; anything else is
 * undefined, never a guess.
 */

export interface NumberStyle {
  /** Where the style comes from, for messages: `de-DE`, or `detected decimal comma`. */
  source: string;
  decimal: string;
  /** Characters accepted between digit groups (none: no grouping). */
  groups: string[];
  minus: string;
  /** The digits 0-9 (ASCII for most locales; Arabic-Indic for ar-EG, ...). ASCII digits are always read. */
  digits: string[];
  /** Groups of two before the last three (en-IN's 12,34,567) are accepted, besides groups of three. */
  twoDigitGroups: boolean;
  /**
   * Plain form (`.` decimal, no grouping), but refusing `1.234` / `12.345.678`: a `;`-delimited file whose
   * numbers could be either form. Such values stay text rather than being read as 1.234.
   */
  ambiguous?: boolean;
  /** The same locale written with Latin digits, tried when this style does not read the text. */
  latin?: NumberStyle;
}

const BIDI_MARKS = /[\u200e\u200f\u061c]/g;
const SPACES = [' ', '\u00a0', '\u202f', '\u2009'];
const APOSTROPHES = ["'", '\u2019'];
const ASCII_DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Whether Intl knows the locale (a valid BCP-47 tag it has data for). */
export function isSupportedLocale(locale: string): boolean {
  try {
    return Intl.NumberFormat.supportedLocalesOf([locale]).length > 0;
  } catch {
    return false;
  }
}

function styleFromIntl(locale: string, options: Intl.NumberFormatOptions): NumberStyle {
  const grouped = new Intl.NumberFormat(locale, options);
  const parts = grouped.formatToParts(-1234567.5);
  const plain = new Intl.NumberFormat(locale, { ...options, useGrouping: false });
  const group = parts.find((part) => part.type === 'group')?.value;
  let groups: string[] = [];
  if (group !== undefined) {
    // A space-like separator accepts any space (people type a plain one for fr-FR's narrow space), de-CH's `’` also `'`.
    if (SPACES.includes(group)) groups = SPACES;
    else if (APOSTROPHES.includes(group)) groups = APOSTROPHES;
    else groups = [group];
  }
  return {
    source: locale,
    decimal: parts.find((part) => part.type === 'decimal')?.value ?? '.',
    groups,
    minus: (parts.find((part) => part.type === 'minusSign')?.value ?? '-').replace(BIDI_MARKS, ''),
    digits: Array.from({ length: 10 }, (_, digit) => plain.format(digit)),
    twoDigitGroups: grouped
      .formatToParts(1234567890)
      .filter((part) => part.type === 'integer')
      .some((part, index, all) => index > 0 && index < all.length - 1 && part.value.length === 2),
  };
}

const styles = new Map<string, NumberStyle>();

/** The number style of a locale, as Intl writes it (cached per locale). */
export function localeNumberStyle(locale: string): NumberStyle {
  const cached = styles.get(locale);
  if (cached) return cached;
  const style = styleFromIntl(locale, {});
  if (style.digits[0] !== '0') style.latin = styleFromIntl(locale, { numberingSystem: 'latn' });
  styles.set(locale, style);
  return style;
}

/** The style a detected decimal-comma file uses: `,` decimal, `.` grouping by thousands. */
export const DECIMAL_COMMA: NumberStyle = {
  source: 'detected decimal comma',
  decimal: ',',
  groups: ['.'],
  minus: '-',
  digits: ASCII_DIGITS,
  twoDigitGroups: false,
};

/** A `;` file with `1.234`-like numbers and nothing to tell which form it uses. */
export const AMBIGUOUS_DOTS: NumberStyle = {
  source: 'no locale',
  decimal: '.',
  groups: [],
  minus: '-',
  digits: ASCII_DIGITS,
  twoDigitGroups: false,
  ambiguous: true,
};

/** `1.234` / `12.345.678`: dot-grouped thousands, or a dot decimal with three places. */
export const GROUPED_LOOKING = /^[+-]?\d{1,3}(\.\d{3})+$/;

interface NumberParts {
  negative: boolean;
  /** The integer digits, group separators removed (empty for `,5`). */
  whole: string;
  /** Digits after the decimal mark; undefined when there is no decimal mark. */
  fraction?: string;
}

/** Splits text written in the style into sign, integer digits and fraction; undefined when it is not one. */
function numberParts(text: string, style: NumberStyle): NumberParts | undefined {
  let value = text.replace(BIDI_MARKS, '').trim();
  if (style.digits[0] !== '0') {
    value = [...value]
      .map((char) => {
        const digit = style.digits.indexOf(char);
        return digit >= 0 ? String(digit) : char;
      })
      .join('');
  }
  if (style.ambiguous && GROUPED_LOOKING.test(value.replace(/^\u2212/, '-'))) return undefined;
  let negative = false;
  if (value.startsWith(style.minus) || value.startsWith('-') || value.startsWith('\u2212')) {
    negative = true;
    value = value.slice(value.startsWith(style.minus) ? style.minus.length : 1).trimStart();
  } else if (value.startsWith('+')) value = value.slice(1).trimStart();
  const decimalAt = value.indexOf(style.decimal);
  if (decimalAt >= 0 && value.indexOf(style.decimal, decimalAt + 1) >= 0) return undefined;
  const whole = decimalAt >= 0 ? value.slice(0, decimalAt) : value;
  const fraction = decimalAt >= 0 ? value.slice(decimalAt + style.decimal.length) : undefined;
  if (fraction !== undefined && !/^\d+$/.test(fraction)) return undefined;
  const groups: string[] = [];
  let current = '';
  for (const char of whole) {
    if (style.groups.includes(char)) {
      groups.push(current);
      current = '';
    } else if (char >= '0' && char <= '9') current += char;
    else return undefined;
  }
  groups.push(current);
  if (groups.length === 1) {
    if (groups[0] === '' && fraction === undefined) return undefined;
  } else {
    // 1.234.567 (threes) or 12,34,567 (twos, then the last three, as en-IN writes lakh and crore).
    const [first, ...rest] = groups;
    const last = rest[rest.length - 1]!;
    const middle = rest.slice(0, -1);
    const size = middle[0]?.length ?? 3;
    if (!/^\d{1,3}$/.test(first!) || last.length !== 3 || (size !== 3 && !(size === 2 && style.twoDigitGroups)) || middle.some((group) => group.length !== size)) {
      return undefined;
    }
    if (size === 2 && first!.length > 2) return undefined;
  }
  return { negative, whole: groups.join(''), fraction };
}

function partsIn(text: string, style: NumberStyle): NumberParts | undefined {
  return numberParts(text, style) ?? (style.latin && numberParts(text, style.latin));
}

/**
 * Reads a number written in a locale (`'de-DE'`) or a style: an optional sign, digits with the style's
 * grouping (groups of three, or, where the locale writes them so, two then three as in en-IN), and the
 * style's decimal mark. Anything else, including a misplaced group separator (`1.23,4` in de-DE), is
 * undefined, never a guess.
 */
export function parseLocaleNumber(text: string, locale: string | NumberStyle): number | undefined {
  const parts = partsIn(text, typeof locale === 'string' ? localeNumberStyle(locale) : locale);
  if (!parts) return undefined;
  const number = Number(`${parts.whole || '0'}.${parts.fraction ?? '0'}`);
  if (!Number.isFinite(number)) return undefined;
  return parts.negative ? -number : number;
}

/** An integer written in the style (grouping allowed, no decimals, no leading zero: zip codes stay text). */
export function parseLocaleInteger(text: string, locale: string | NumberStyle): number | undefined {
  const parts = partsIn(text, typeof locale === 'string' ? localeNumberStyle(locale) : locale);
  if (!parts || parts.whole === '' || parts.fraction !== undefined) return undefined;
  if (parts.whole.length > 1 && parts.whole.startsWith('0')) return undefined;
  const number = Number(parts.whole);
  if (!Number.isSafeInteger(number)) return undefined;
  return parts.negative ? -number : number;
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
