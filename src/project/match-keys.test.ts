import { describe, expect, it } from 'vitest';
import { normaliseKey } from './match-keys.js';
import type { MatchKeyKind } from './types.js';
import type { FieldValue } from '../core/schema.js';

const table: [MatchKeyKind, FieldValue | FieldValue[], string | undefined][] = [
  ['email', 'Jane@Example.COM ', 'jane@example.com'],
  ['email', 'not-an-email', undefined],
  ['email', '', undefined],
  ['email', '   ', undefined],
  ['email', null, undefined],
  ['email', 'Jane Doe <Jane@Example.com>', 'jane@example.com'],
  ['email', 'mailto:jane@example.com', 'jane@example.com'],
  ['email', 'jane@localhost', undefined],
  ['email', 'two words@example.com', undefined],
  ['domain', 'https://www.Example.com/about', 'example.com'],
  ['domain', 'http://shop.example.co.uk:8080/path?q=1#x', 'shop.example.co.uk'],
  ['domain', 'WWW.EXAMPLE.COM', 'example.com'],
  ['domain', 'example.com.', 'example.com'],
  ['domain', 'jane@Example.com', 'example.com'],
  ['domain', 'Jane Doe <jane@Example.com>', 'example.com'],
  ['domain', 'mailto:jane@example.com', 'example.com'],
  ['domain', 'example', undefined],
  ['domain', 'localhost:3000', undefined],
  ['domain', '', undefined],
  ['phone', '+1 (555) 010-9999', '+15550109999'],
  ['phone', '0044 20 7946 0958', '+442079460958'],
  ['phone', '(555) 010-9999', '5550109999'],
  ['phone', '555-010-9999 ext. 12', '5550109999'],
  ['phone', '+1 555 010 9999 x12', '+15550109999'],
  ['phone', '1234', undefined],
  ['phone', 'n/a', undefined],
  ['phone', 5550109999, '5550109999'],
  ['name', 'José  GARCÍA', 'josé garcía'],
  ['name', '  Acme\tInc. ', 'acme inc.'],
  ['name', 'Jose\u0301', 'josé'],
  ['name', 'ÅNGSTRÖM', 'ångström'],
  ['name', ['Jane', 'DOE'], 'jane doe'],
  ['name', ['Jane', null, ' Doe '], 'jane doe'],
  ['name', [null, ''], undefined],
  ['name', '', undefined],
  ['exact', '  ABC-1 ', 'ABC-1'],
  ['exact', 42, '42'],
  ['exact', '', undefined],
  ['exact', ['a', 'b'], 'a b'],
];

describe('normaliseKey', () => {
  it.each(table)('%s %j → %j', (kind, value, expected) => {
    expect(normaliseKey(kind, value)).toBe(expected);
  });

  it('treats keys that are not valid for their kind as no key', () => {
    expect(normaliseKey('email', 'n/a')).toBeUndefined();
    expect(normaliseKey('phone', '---')).toBeUndefined();
    expect(normaliseKey('domain', 'not a domain')).toBeUndefined();
  });
});
