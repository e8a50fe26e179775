import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AMBIGUOUS_DOTS,
  DECIMAL_COMMA,
  describeNumberStyle,
  isSupportedLocale,
  localeNumberStyle,
  parseLocaleInteger,
  parseLocaleNumber,
} from './locale-number.js';

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

  it('reads what Intl writes with Latin digits, also in locales whose own digits are not Latin (property)', () => {
    // A spreadsheet exports ar-EG or fa-IR numbers with Latin digits as often as with the locale's own.
    const locales = ['de-DE', 'fr-FR', 'de-CH', 'en-US', 'en-IN', 'nl-NL', 'pt-BR', 'sv-SE', 'ar-EG', 'fa-IR'];
    fc.assert(
      fc.property(fc.constantFrom(...locales), fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 4 }), (locale, units, decimals) => {
        const value = units / 10 ** decimals;
        const written = new Intl.NumberFormat(locale, { numberingSystem: 'latn', minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(value);
        expect(parseLocaleNumber(written, localeNumberStyle(locale)), `${locale}: ${written}`).toBeCloseTo(value, 6);
        expect(parseLocaleNumber(written, locale)).toBe(parseLocaleNumber(written, localeNumberStyle(locale)));
        if (decimals === 0) expect(parseLocaleInteger(written, localeNumberStyle(locale))).toBe(units === 0 ? 0 : units);
      }),
      { seed: 12, numRuns: 500 },
    );
  });

  it('reads integers with grouping, but not decimals, leading zeros (zip codes stay text) or unsafe integers', () => {
    const german = localeNumberStyle('de-DE');
    expect(parseLocaleInteger('1.234.567', german)).toBe(1234567);
    expect(parseLocaleInteger('-12', german)).toBe(-12);
    expect(parseLocaleInteger('0', german)).toBe(0);
    expect(parseLocaleInteger('01234', german)).toBeUndefined();
    expect(parseLocaleInteger('1,5', german)).toBeUndefined();
    expect(parseLocaleInteger(',5', german)).toBeUndefined();
    expect(parseLocaleInteger('12.34', german)).toBeUndefined();
    expect(parseLocaleInteger('9007199254740993', german)).toBeUndefined();
    expect([parseLocaleNumber('1.234', german), parseLocaleNumber('1.23', german), parseLocaleNumber('1234,5', german), parseLocaleNumber('12.34.567', german)]).toEqual([
      1234,
      undefined,
      1234.5,
      undefined,
    ]);
  });

  it('reads a detected decimal-comma file, and refuses 1.234 where a file gives no sign which form it uses', () => {
    expect(parseLocaleNumber('1.234,56', DECIMAL_COMMA)).toBe(1234.56);
    expect(parseLocaleNumber('-0,5', DECIMAL_COMMA)).toBe(-0.5);
    expect(parseLocaleNumber('1,234.5', DECIMAL_COMMA)).toBeUndefined();
    expect(parseLocaleNumber('1234.5', AMBIGUOUS_DOTS)).toBe(1234.5);
    expect(parseLocaleNumber('-7', AMBIGUOUS_DOTS)).toBe(-7);
    for (const text of ['1.234', '-1.234', '\u22121.234', '12.345.678', '1,234']) expect(parseLocaleNumber(text, AMBIGUOUS_DOTS), text).toBeUndefined();
    expect(parseLocaleInteger('12', AMBIGUOUS_DOTS)).toBe(12);
    expect(parseLocaleInteger('1.234', AMBIGUOUS_DOTS)).toBeUndefined();
  });

  it('says how a style reads, for error messages', () => {
    expect(describeNumberStyle(localeNumberStyle('de-DE'))).toBe('read as de-DE: "." groups digits, "," is the decimal mark');
    expect(describeNumberStyle(localeNumberStyle('fr-FR'))).toBe('read as fr-FR: a space groups digits, "," is the decimal mark');
    expect(describeNumberStyle(DECIMAL_COMMA)).toBe('read as detected decimal comma: "." groups digits, "," is the decimal mark');
    expect(describeNumberStyle(AMBIGUOUS_DOTS)).toContain('set the file\'s locale');
  });
});
