/**
 * Numbers written with a locale's separators (`1.234,56` in de-DE, `1 234,56` in fr-FR, `12,34,567.8` in
 * en-IN, `1’234.5` in de-CH). The separators, minus sign and digits come from the platform's ICU data
 * (Intl.NumberFormat), so every locale Intl knows is read the way Intl writes it. Used by the transform
 * layer (text into a number field under `sourceLocale` or a field's `locale:`) and available to
 * connectors that read locale-formatted files.
 */

interface LocaleNumberFormat {
  group: string;
  decimal: string;
  minus: string;
  /** The locale's digits 0-9 (ASCII for most locales; Arabic-Indic for ar-EG, ...). */
  digits: string[];
  /** Groups of two before the last three (en-IN's 12,34,567), besides groups of three. */
  twoDigitGroups: boolean;
}

const formats = new Map<string, LocaleNumberFormat>();
const BIDI_MARKS = /[\u200e\u200f\u061c]/g;
const SPACES = new Set([' ', '\u00a0', '\u202f', '\u2009']);
const APOSTROPHES = new Set(["'", '\u2019']);

/** Whether Intl knows the locale (a valid BCP-47 tag it has data for). */
export function isSupportedLocale(locale: string): boolean {
  try {
    return Intl.NumberFormat.supportedLocalesOf([locale]).length > 0;
  } catch {
    return false;
  }
}

export function localeNumberFormat(locale: string): LocaleNumberFormat {
  const cached = formats.get(locale);
  if (cached) return cached;
  const parts = new Intl.NumberFormat(locale).formatToParts(-1234567.5);
  const plain = new Intl.NumberFormat(locale, { useGrouping: false });
  const format: LocaleNumberFormat = {
    group: parts.find((part) => part.type === 'group')?.value ?? ',',
    decimal: parts.find((part) => part.type === 'decimal')?.value ?? '.',
    minus: (parts.find((part) => part.type === 'minusSign')?.value ?? '-').replace(BIDI_MARKS, ''),
    digits: Array.from({ length: 10 }, (_, digit) => plain.format(digit)),
    twoDigitGroups: new Intl.NumberFormat(locale).formatToParts(1234567890).filter((part) => part.type === 'integer').some((part, index, all) => index > 0 && index < all.length - 1 && part.value.length === 2),
  };
  formats.set(locale, format);
  return format;
}

/**
 * Reads a number written in `locale`: an optional sign, digits with the locale's grouping (groups of three,
 * or, where the locale writes them so, two then three as in en-IN; a space-like group separator accepts any space, de-CH's `’` also `'`),
 * and the locale's decimal separator. Anything else, including a misplaced group separator (`1.23,4` in
 * de-DE), is undefined, never a guess.
 */
export function parseLocaleNumber(text: string, locale: string): number | undefined {
  const format = localeNumberFormat(locale);
  let value = text.replace(BIDI_MARKS, '').trim();
  if (format.digits[0] !== '0') {
    value = [...value].map((char) => {
      const digit = format.digits.indexOf(char);
      return digit >= 0 ? String(digit) : char;
    }).join('');
  }
  let negative = false;
  if (value.startsWith(format.minus) || value.startsWith('-') || value.startsWith('\u2212')) {
    negative = true;
    value = value.slice(value.startsWith(format.minus) ? format.minus.length : 1).trimStart();
  } else if (value.startsWith('+')) value = value.slice(1).trimStart();
  const isGroup = (char: string): boolean =>
    char === format.group || (SPACES.has(format.group) && SPACES.has(char)) || (APOSTROPHES.has(format.group) && APOSTROPHES.has(char));
  const decimalAt = value.indexOf(format.decimal);
  if (decimalAt >= 0 && value.indexOf(format.decimal, decimalAt + 1) >= 0) return undefined;
  const whole = decimalAt >= 0 ? value.slice(0, decimalAt) : value;
  const fraction = decimalAt >= 0 ? value.slice(decimalAt + format.decimal.length) : '';
  if (decimalAt >= 0 && !/^\d+$/.test(fraction)) return undefined;
  const groups: string[] = [];
  let current = '';
  for (const char of whole) {
    if (isGroup(char)) {
      groups.push(current);
      current = '';
    } else if (char >= '0' && char <= '9') current += char;
    else return undefined;
  }
  groups.push(current);
  if (groups.length === 1) {
    if (groups[0] === '' && fraction === '') return undefined;
  } else {
    // 1.234.567 (threes) or 12,34,567 (twos, then the last three, as en-IN writes lakh and crore).
    const [first, ...rest] = groups;
    const last = rest[rest.length - 1]!;
    const middle = rest.slice(0, -1);
    const size = middle[0]?.length ?? 3;
    if (!/^\d{1,3}$/.test(first!) || last.length !== 3 || (size !== 3 && !(size === 2 && format.twoDigitGroups)) || middle.some((group) => group.length !== size)) return undefined;
    if (size === 2 && first!.length > 2) return undefined;
  }
  const number = Number(`${groups.join('') || '0'}.${fraction || '0'}`);
  if (!Number.isFinite(number)) return undefined;
  return negative ? -number : number;
}
