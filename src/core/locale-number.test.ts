import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSupportedLocale, parseLocaleNumber } from './locale-number.js';

/** Locales with every separator style ICU has: . and , swapped, spaces, apostrophes, lakh grouping, non-Latin digits. */
const LOCALES = ['en-US', 'de-DE', 'fr-FR', 'fr-CH', 'de-CH', 'es-ES', 'it-IT', 'nl-NL', 'pt-BR', 'sv-SE', 'fi-FI', 'nb-NO', 'pl-PL', 'cs-CZ', 'ru-RU', 'en-IN', 'hi-IN', 'ja-JP', 'ar-EG', 'fa-IR', 'bn-BD'];

describe('parseLocaleNumber', () => {
  it('reads back what Intl.NumberFormat writes, in every locale, grouped or not', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LOCALES),
        fc.integer({ min: -(10 ** 13), max: 10 ** 13 }),
        fc.integer({ min: 0, max: 6 }),
        fc.boolean(),
        (locale, units, scale, grouping) => {
          const number = units / 10 ** scale;
          const text = new Intl.NumberFormat(locale, { maximumFractionDigits: scale, useGrouping: grouping }).format(number);
          expect(parseLocaleNumber(text, locale), `${locale}: ${JSON.stringify(text)}`).toBe(number === 0 ? 0 : number);
        },
      ),
      { seed: 12, numRuns: 2000 },
    );
  });

  it('reads the forms people type: plain spaces for a narrow space, an apostrophe, a leading + or −', () => {
    expect(parseLocaleNumber('1.234,56', 'de-DE')).toBe(1234.56);
    expect(parseLocaleNumber('1234,56', 'de-DE')).toBe(1234.56);
    expect(parseLocaleNumber('1.234', 'de-DE')).toBe(1234);
    expect(parseLocaleNumber(' -0,5 ', 'de-DE')).toBe(-0.5);
    expect(parseLocaleNumber('1 234 567,8', 'fr-FR')).toBe(1234567.8);
    expect(parseLocaleNumber('1\u00a0234,8', 'fr-FR')).toBe(1234.8);
    expect(parseLocaleNumber("1'234.5", 'de-CH')).toBe(1234.5);
    expect(parseLocaleNumber('12,34,567.5', 'en-IN')).toBe(1234567.5);
    expect(parseLocaleNumber('1,234,567.5', 'en-US')).toBe(1234567.5);
    expect(parseLocaleNumber('\u22121 234,5', 'sv-SE')).toBe(-1234.5);
    expect(parseLocaleNumber('+7', 'en-US')).toBe(7);
  });

  it('refuses what the locale does not write, instead of guessing', () => {
    for (const [text, locale] of [
      ['1.23,4', 'de-DE'],
      ['1,234.5', 'de-DE'],
      ['1.2345', 'de-DE'],
      ['12.34.567', 'de-DE'],
      ['1,2', 'en-US'],
      ['1,23,456', 'en-US'],
      ['123,45,678', 'en-IN'],
      ['1,5,', 'de-DE'],
      ['', 'de-DE'],
      ['-', 'de-DE'],
      ['12abc', 'de-DE'],
      ['1e5', 'de-DE'],
      ['1,,5', 'de-DE'],
      ['1.234,5,6', 'de-DE'],
    ] as const) {
      expect(parseLocaleNumber(text, locale), `${locale}: ${text}`).toBeUndefined();
    }
  });

  it('knows which locales Intl has data for', () => {
    expect(isSupportedLocale('de-DE')).toBe(true);
    expect(isSupportedLocale('not a locale')).toBe(false);
    expect(isSupportedLocale('zz-ZZ')).toBe(false);
  });
});
