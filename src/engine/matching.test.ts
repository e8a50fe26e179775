import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseKey } from '../project/match-keys.js';
import { searchTerm } from './matching.js';

/**
 * The delta's refresh matching searches the target ("lower-cased field contains", the connector contract's
 * findContaining, which SQL does with lower(), ASCII only) instead of reading every target record. The
 * search must find every raw value whose key equals the candidate's: the term is a piece of it lower-cased.
 */
const asciiLower = (text: string) => text.replace(/[A-Z]/g, (char) => char.toLowerCase());

describe('search terms of match keys', () => {
  const word = fc.stringMatching(/^[!-~]{1,8}$/);
  const space = fc.constantFrom(' ', '  ', '\t', '\n', ' \t ');
  const spaced = fc.tuple(fc.array(word, { minLength: 1, maxLength: 5 }), fc.array(space, { minLength: 6, maxLength: 6 }), space, space).map(([words, gaps, lead, trail]) =>
    `${lead}${words.map((w, index) => `${w}${index < words.length - 1 ? gaps[index] : ''}`).join('')}${trail}`,
  );

  it('a name is found by its longest word in any raw spelling of it (case, spacing), seeded', () => {
    fc.assert(
      fc.property(spaced, spaced, (raw, other) => {
        const key = normaliseKey('name', raw)!;
        const term = searchTerm('name', key)!;
        expect(term.length).toBeGreaterThan(0);
        // The same name as typed in the target, cased and spaced otherwise.
        const typed = key.split(' ').map((w, index) => (index % 2 === 0 ? w.toUpperCase() : w)).join(other.includes('\t') ? '\t  ' : '   ');
        expect(normaliseKey('name', typed)).toBe(key);
        expect(asciiLower(typed)).toContain(term);
        expect(asciiLower(raw)).toContain(term);
      }),
      { seed: 20261208, numRuns: 500 },
    );
  });

  it('e-mails and domains are searched by their value; phones are never searched', () => {
    const email = normaliseKey('email', '  Jane Doe <JANE@Globex.Test> ')!;
    expect(searchTerm('email', email)).toBe('jane@globex.test');
    expect(asciiLower('  Jane Doe <JANE@Globex.Test> ')).toContain(searchTerm('email', email));
    const domain = normaliseKey('domain', 'https://www.Globex.test/about')!;
    expect(asciiLower('https://www.Globex.test/about')).toContain(searchTerm('domain', domain));
    expect(searchTerm('phone', normaliseKey('phone', '+1 (555) 010-0100')!)).toBeUndefined();
  });
});
