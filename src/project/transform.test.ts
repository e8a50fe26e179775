import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FieldSchema, FieldValue, ObjectSchema } from '../core/schema.js';
import { convertValue, fingerprint, mapRecord, parseNumber, valuesEqual } from './transform.js';
import { objectMapping } from './project-file.js';
import type { FieldMapping, FieldTransform, ObjectMapping } from './types.js';

const sourceSchema: ObjectSchema = {
  name: 'deals',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'first', type: 'string' },
    { name: 'last', type: 'string' },
    { name: 'full', type: 'string' },
    { name: 'stage', type: 'string' },
    { name: 'when', type: 'datetime' },
    { name: 'naive', type: 'string' },
    { name: 'day', type: 'date' },
    { name: 'text', type: 'string' },
    { name: 'company_id', type: 'reference', reference: { object: 'companies' } },
    { name: 'contacts', type: 'reference-list', reference: { object: 'contacts' } },
  ],
};

const target = (fields: FieldSchema[]): ObjectSchema => ({ name: 'target_deals', fields });

function dealsMapping(fields: FieldMapping[]): ObjectMapping {
  return objectMapping({ source: 'deals', target: 'target_deals', fields });
}

/** Maps one source value through one transform into one target field. */
function run(
  transform: FieldTransform,
  targetField: Omit<FieldSchema, 'name'>,
  fields: Record<string, FieldValue>,
  source: string[] = Object.keys(fields),
  sourceTimeZone = 'UTC',
) {
  const mapping = dealsMapping([{ source, target: 'out', transform }]);
  return mapRecord(mapping, { id: 'rec-7', fields }, { sourceSchema, targetSchema: target([{ name: 'out', ...targetField }]), sourceTimeZone });
}

const copy: FieldTransform = { kind: 'copy' };

describe('transforms', () => {
  it('copy', () => {
    expect(run(copy, { type: 'string' }, { text: 'hello' })).toEqual({ values: { out: 'hello' }, errors: [], warnings: [] });
    expect(run(copy, { type: 'string' }, { text: null })).toEqual({ values: { out: null }, errors: [], warnings: [] });
    expect(run(copy, { type: 'string' }, {}, ['text'])).toEqual({ values: { out: null }, errors: [], warnings: [] });
  });

  it('join leaves out empty parts', () => {
    expect(run({ kind: 'join', separator: ' ' }, { type: 'string' }, { first: 'Jane', last: 'Doe' }).values.out).toBe('Jane Doe');
    expect(run({ kind: 'join', separator: ', ' }, { type: 'string' }, { first: 'Jane', last: null }).values.out).toBe('Jane');
    expect(run({ kind: 'join', separator: ' ' }, { type: 'string' }, { first: '', last: null }).values.out).toBeNull();
  });

  it('split', () => {
    const split = (part: 'first' | 'rest' | number, value: string, separator = ' ') =>
      run({ kind: 'split', separator, part }, { type: 'string' }, { full: value }).values.out;
    expect(split('first', 'Jane  van Doe')).toBe('Jane');
    expect(split('rest', 'Jane  van Doe')).toBe('van Doe');
    expect(split('rest', 'Jane')).toBeNull();
    expect(split(1, 'a;b;c', ';')).toBe('b');
    expect(split(5, 'a;b;c', ';')).toBeNull();
  });

  it('constant', () => {
    expect(run({ kind: 'constant', value: 'customer' }, { type: 'string' }, {}, []).values.out).toBe('customer');
    expect(run({ kind: 'constant', value: '42' }, { type: 'integer' }, {}, []).values.out).toBe(42);
  });

  it('map with fail, keep and default', () => {
    const values = { 'Closed Won': 'closedwon', 'closed won': 'closedwon' };
    const stage: FieldSchema = { name: 'out', type: 'enum', options: [{ value: 'closedwon' }, { value: 'closedlost' }] };
    const { name: _name, ...enumField } = stage;
    expect(run({ kind: 'map', values, unmapped: 'fail' }, enumField, { stage: 'Closed Won' })).toEqual({ values: { out: 'closedwon' }, errors: [], warnings: [] });
    expect(run({ kind: 'map', values, unmapped: 'fail' }, enumField, { stage: ' closed won ' }).values.out).toBe('closedwon');
    expect(run({ kind: 'map', values, unmapped: 'fail' }, enumField, { stage: null }).values.out).toBeNull();
    const failed = run({ kind: 'map', values, unmapped: 'fail' }, enumField, { stage: 'Lost' });
    expect(failed.values).toEqual({});
    expect(failed.errors).toEqual([{ code: 'VALUE_NOT_MAPPED', field: 'out', value: 'Lost', message: expect.stringContaining('rec-7') }]);
    expect(failed.errors[0]!.message).toContain('"Lost"');
    // keep: the value goes through, and must then be an option
    expect(run({ kind: 'map', values, unmapped: 'keep' }, enumField, { stage: 'closedlost' }).values.out).toBe('closedlost');
    const kept = run({ kind: 'map', values, unmapped: 'keep' }, enumField, { stage: 'Lost' });
    expect(kept.errors[0]).toMatchObject({ code: 'INVALID_VALUE', field: 'out', value: 'Lost' });
    expect(run({ kind: 'map', values, unmapped: 'default', default: 'closedlost' }, enumField, { stage: 'Lost' }).values.out).toBe('closedlost');
  });

  it('lowercase and trim', () => {
    expect(run({ kind: 'lowercase' }, { type: 'string' }, { text: 'ACME.com' }).values.out).toBe('acme.com');
    expect(run({ kind: 'trim' }, { type: 'string' }, { text: '  x  ' }).values.out).toBe('x');
  });

  it('date takes the date in the source time zone (or the transform zone)', () => {
    const instant = { when: '2024-03-01T23:30:00.000Z' };
    expect(run({ kind: 'date' }, { type: 'date' }, instant, ['when'], 'Europe/Berlin').values.out).toBe('2024-03-02');
    expect(run({ kind: 'date' }, { type: 'date' }, instant, ['when'], 'UTC').values.out).toBe('2024-03-01');
    expect(run({ kind: 'date', zone: 'America/New_York' }, { type: 'date' }, instant, ['when'], 'Europe/Berlin').values.out).toBe('2024-03-01');
    // A naive date-time is already wall-clock time of the source.
    expect(run({ kind: 'date' }, { type: 'date' }, { naive: '2024-03-01 23:30' }, ['naive'], 'Europe/Berlin').values.out).toBe('2024-03-01');
    expect(run({ kind: 'date' }, { type: 'date' }, { naive: 'soon' }).errors[0]).toMatchObject({ code: 'INVALID_VALUE', field: 'out' });
  });

  it('datetime reads naive values and dates in the source zone', () => {
    expect(run({ kind: 'datetime' }, { type: 'datetime' }, { naive: '2024-07-01 10:00' }, ['naive'], 'Europe/Berlin').values.out).toBe('2024-07-01T08:00:00.000Z');
    expect(run({ kind: 'datetime' }, { type: 'datetime' }, { day: '2024-01-15' }, ['day'], 'Europe/Berlin').values.out).toBe('2024-01-14T23:00:00.000Z');
    expect(run({ kind: 'datetime', zone: 'UTC' }, { type: 'datetime' }, { day: '2024-01-15' }, ['day'], 'Europe/Berlin').values.out).toBe('2024-01-15T00:00:00.000Z');
    expect(run({ kind: 'datetime' }, { type: 'datetime' }, { naive: 'tomorrow' }).errors[0]).toMatchObject({ code: 'INVALID_VALUE' });
  });
});

describe('conversion to the target type', () => {
  const convert = (value: FieldValue, field: Omit<FieldSchema, 'name'>, zone = 'UTC') => run(copy, field, { text: value }, ['text'], zone);

  it('numbers', () => {
    expect(convert('42', { type: 'number' }).values.out).toBe(42);
    expect(convert(' -1.5e3 ', { type: 'number' }).values.out).toBe(-1500);
    expect(convert('1,234,567.5', { type: 'number' }).values.out).toBe(1234567.5);
    expect(convert('1,234.5', { type: 'number' }).values.out).toBe(1234.5);
    for (const ambiguous of ['1.234,5', '1,234', '1,5', '12 000', '$12', 'abc']) {
      const result = convert(ambiguous, { type: 'number' });
      expect(result.errors[0], ambiguous).toMatchObject({ code: 'INVALID_VALUE', field: 'out', value: ambiguous });
      expect(result.values).toEqual({});
    }
    expect(convert('42.0', { type: 'integer' }).values.out).toBe(42);
    expect(convert('42.5', { type: 'integer' }).errors[0]).toMatchObject({ code: 'INVALID_VALUE' });
    expect(convert(true, { type: 'number' }).errors[0]).toMatchObject({ code: 'INVALID_VALUE' });
    expect(parseNumber('007')).toBe(7);
  });

  it('booleans', () => {
    for (const yes of ['true', 'Yes', 'y', '1', 'ON', 1, true]) expect(convert(yes, { type: 'boolean' }).values.out).toBe(true);
    for (const no of ['false', 'NO', 'n', '0', 'off', 0, false]) expect(convert(no, { type: 'boolean' }).values.out).toBe(false);
    expect(convert('maybe', { type: 'boolean' }).errors[0]).toMatchObject({ code: 'INVALID_VALUE', value: 'maybe' });
  });

  it('date-times become ISO UTC with milliseconds', () => {
    expect(convert('2024-03-01T10:00:00+01:00', { type: 'datetime' }).values.out).toBe('2024-03-01T09:00:00.000Z');
    expect(convert('2024-03-01 10:00:00', { type: 'datetime' }, 'America/New_York').values.out).toBe('2024-03-01T15:00:00.000Z');
    expect(convert(1709287200000, { type: 'datetime' }).values.out).toBe('2024-03-01T10:00:00.000Z');
    expect(convert('01/03/2024', { type: 'datetime' }).errors[0]).toMatchObject({ code: 'INVALID_VALUE' });
  });

  it('dates stay dates; an instant into a date field takes its UTC date without a date transform', () => {
    expect(convert('2024-03-01', { type: 'date' }).values.out).toBe('2024-03-01');
    expect(convert('2024-03-01T23:30:00.000Z', { type: 'date' }, 'Europe/Berlin').values.out).toBe('2024-03-01');
    expect(convert('2024-02-30', { type: 'date' }).errors[0]).toMatchObject({ code: 'INVALID_VALUE' });
  });

  it('text longer than maxLength is an error, never truncated', () => {
    expect(convert('abc', { type: 'string', maxLength: 3 }).values.out).toBe('abc');
    const result = convert('abcd', { type: 'string', maxLength: 3 });
    expect(result.values).toEqual({});
    expect(result.errors[0]).toMatchObject({ code: 'INVALID_VALUE', field: 'out', value: 'abcd' });
    expect(result.errors[0]!.message).toMatch(/rec-7.*maximum of 3/);
    expect(convert(42, { type: 'string' }).values.out).toBe('42');
  });

  it('maxLength counts characters (code points) as databases do, not UTF-16 units', () => {
    // Six emoji are 6 characters for VARCHAR(6) but 12 UTF-16 units: they fit.
    expect(convert('😀😀😀😀😀😀', { type: 'string', maxLength: 6 }).values.out).toBe('😀😀😀😀😀😀');
    expect(convert('😀😀😀😀😀😀😀', { type: 'string', maxLength: 6 }).errors[0]!.message).toContain('is 7 characters long');
    expect(convert('😀@x.test', { type: 'email', maxLength: 8 }).values.out).toBe('😀@x.test');
  });

  it('e-mail addresses are checked', () => {
    expect(convert(' jane@example.com ', { type: 'email' }).values.out).toBe('jane@example.com');
    expect(convert('jane(at)example.com', { type: 'email' }).errors[0]).toMatchObject({ code: 'INVALID_VALUE', field: 'out', value: 'jane(at)example.com' });
  });

  it('enum values must be options (a unique label is accepted as its value)', () => {
    const field = { type: 'enum' as const, options: [{ value: 'NOT_STARTED', label: 'Not started' }, { value: 'COMPLETED', label: 'Completed' }] };
    expect(convert('COMPLETED', field).values.out).toBe('COMPLETED');
    expect(convert('Not started', field).values.out).toBe('NOT_STARTED');
    expect(convert('done', field).errors[0]).toMatchObject({ code: 'INVALID_VALUE', value: 'done' });
  });

  it('empty is null', () => {
    for (const type of ['string', 'number', 'date', 'datetime', 'boolean', 'enum', 'reference'] as const) {
      expect(convert('', { type }).values.out, type).toBeNull();
    }
  });

  it('references pass through unchanged as source ids; reference lists are sorted', () => {
    const mapping = dealsMapping([
      { source: ['company_id'], target: 'company', transform: copy },
      { source: ['contacts'], target: 'people', transform: copy },
    ]);
    const result = mapRecord(mapping, { id: 'd1', fields: { company_id: 'c-9', contacts: ['p3', 'p1', 'p2', 'p1'] } }, {
      sourceSchema,
      targetSchema: target([
        { name: 'company', type: 'reference', reference: { object: 'companies' } },
        { name: 'people', type: 'reference-list', reference: { object: 'contacts' } },
      ]),
      sourceTimeZone: 'UTC',
    });
    expect(result).toEqual({ values: { company: 'c-9', people: ['p1', 'p2', 'p3'] }, errors: [], warnings: [] });
    expect(convertValue(12, { name: 'r', type: 'reference' })).toBe('12');
    expect(convertValue('p1', { name: 'r', type: 'reference-list' })).toEqual(['p1']);
  });

  it('one bad field does not stop the others; an unknown target field is reported', () => {
    const mapping = dealsMapping([
      { source: ['text'], target: 'amount', transform: copy },
      { source: ['first'], target: 'name', transform: copy },
      { source: ['last'], target: 'nope', transform: copy },
    ]);
    const result = mapRecord(mapping, { id: 'r1', fields: { text: 'lots', first: 'Jane', last: 'Doe' } }, {
      sourceSchema,
      targetSchema: target([{ name: 'amount', type: 'number' }, { name: 'name', type: 'string' }]),
      sourceTimeZone: 'UTC',
    });
    expect(result.values).toEqual({ name: 'Jane' });
    expect(result.errors.map((error) => [error.code, error.field])).toEqual([
      ['INVALID_VALUE', 'amount'],
      ['UNKNOWN_FIELD', 'nope'],
    ]);
    expect(result.errors[0]!.message).toBe('deals r1: target_deals.amount: "lots" is not a number (or its format is ambiguous)');
  });
});

describe('fingerprint', () => {
  it('is stable and independent of key order', () => {
    const a = fingerprint({ name: 'Acme', amount: 12, tags: ['a', 'b'], empty: null });
    const b = fingerprint({ empty: null, tags: ['a', 'b'], amount: 12, name: 'Acme' });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(fingerprint({ name: 'Acme', amount: 13, tags: ['a', 'b'], empty: null })).not.toBe(a);
    expect(fingerprint({ n: '12' })).not.toBe(fingerprint({ n: 12 }));
  });
});

describe('valuesEqual', () => {
  it.each([
    [12, '12', undefined, true],
    [12, '12.0', 'number', true],
    [12, '13', 'number', false],
    ['2024-03-01T10:00:00Z', '2024-03-01T11:00:00.000+01:00', 'datetime', true],
    ['2024-03-01T10:00:00Z', '2024-03-01T10:00:00.000Z', undefined, true],
    ['2024-03-01T10:00:00Z', '2024-03-01T10:00:01.000Z', 'datetime', false],
    [['b', 'a'], ['a', 'b', 'a'], 'reference-list', true],
    [['b', 'a'], ['a'], 'reference-list', false],
    [null, '', 'string', true],
    [null, [], 'reference-list', true],
    [null, 'x', 'string', false],
    ['Acme', 'acme', 'string', false],
    ['yes', true, 'boolean', true],
    ['2024-03-01', '2024-03-01', 'date', true],
  ] as [FieldValue, FieldValue, FieldSchema['type'] | undefined, boolean][])('%j vs %j (%s) → %s', (a, b, type, expected) => {
    expect(valuesEqual(a, b, type)).toBe(expected);
  });
});

describe('transform: domain', () => {
  const domain = (value: FieldValue) => run({ kind: 'domain' }, { type: 'string' }, { text: value });

  it('takes the host of a URL, an e-mail address or a host name', () => {
    for (const [input, host] of [
      ['https://www.Example.com:8443/path?q=1#top', 'example.com'],
      ['http://shop.example.co.uk/', 'shop.example.co.uk'],
      ['www.example.org', 'example.org'],
      ['Example.ORG', 'example.org'],
      ['jane.doe@Mail.Example.com', 'mail.example.com'],
      ['Jane Doe <jane@example.com>', 'example.com'],
      ['mailto:jane@example.com', 'example.com'],
      ['//cdn.example.net/x.js', 'cdn.example.net'],
      ['ftp://user:pw@files.example.com/a', 'files.example.com'],
      ['  example.com.  ', 'example.com'],
    ] as const) {
      expect(domain(input), input).toEqual({ values: { out: host }, errors: [], warnings: [] });
    }
    expect(domain(null).values.out).toBeNull();
    expect(domain('').values.out).toBeNull();
    expect(run({ kind: 'domain' }, { type: 'string' }, { text: ['a@x.io', 'b@y.io', 'c@x.io'] }).values.out).toBe('x.io, y.io');
  });

  it('a value with no host fails its record naming the field and value', () => {
    const result = domain('n/a');
    expect(result.values).toEqual({});
    expect(result.errors).toEqual([{ code: 'INVALID_VALUE', field: 'out', value: 'n/a', message: 'deals rec-7: target_deals.out: "n/a" is not a URL, e-mail address or host name' }]);
    expect(domain('localhost').errors[0]?.code).toBe('INVALID_VALUE');
  });

  it('gives the same host for every way of writing it (property)', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    const host = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom('com', 'io', 'de', 'co.uk')).map(([labels, tld]) => [...labels, tld].join('.'));
    const upper = (text: string, mask: number) => [...text].map((char, index) => ((mask >> index % 30) & 1 ? char.toUpperCase() : char)).join('');
    fc.assert(
      fc.property(
        host.filter((name) => !name.startsWith('www.')),
        fc.constantFrom('', 'http://', 'https://', '//'),
        fc.boolean(),
        fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        fc.constantFrom('', '/', '/a/b?c=d', '#x', '?q'),
        fc.option(fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}$/), { nil: undefined }),
        fc.integer({ min: 0, max: 2 ** 30 }),
        (name, scheme, www, port, path, user, mask) => {
          const written = user !== undefined && scheme === '' && port === undefined && path === ''
            ? `${user}@${www ? 'www.' : ''}${name}`
            : `${scheme}${www ? 'www.' : ''}${name}${port !== undefined ? `:${port}` : ''}${path}`;
          expect(domain(upper(written, mask)).values.out, written).toBe(name);
        },
      ),
      { seed: 7, numRuns: 1000 },
    );
  });
});

describe('transform: map over several source fields', () => {
  const enumField: Omit<FieldSchema, 'name'> = { type: 'enum', options: ['closedwon', 'closedlost', 'appointmentscheduled', 'contractsent'].map((value) => ({ value, label: value })) };
  const values = { won: 'closedwon', lost: 'closedlost', Qualified: 'appointmentscheduled', 'Contract sent': 'contractsent' };
  const stage = (status: FieldValue, stageValue: FieldValue, unmapped: 'fail' | 'keep' | 'default' = 'fail', fallback?: FieldValue) =>
    run({ kind: 'map', values, unmapped, ...(fallback !== undefined ? { default: fallback } : {}) }, unmapped === 'keep' ? { type: 'string' } : enumField, { first: status, last: stageValue }, ['first', 'last']);

  it('looks each field up in order; the first value found wins', () => {
    expect(stage('won', 'Qualified').values.out).toBe('closedwon');
    expect(stage('lost', 'Contract sent').values.out).toBe('closedlost');
    expect(stage('open', 'Qualified').values.out).toBe('appointmentscheduled');
    expect(stage(null, ' Contract sent ').values.out).toBe('contractsent');
    expect(stage(null, null).values.out).toBeNull();
  });

  it('unmapped applies when none is found', () => {
    const failed = stage('open', 'Negotiation');
    expect(failed.errors).toEqual([
      { code: 'VALUE_NOT_MAPPED', field: 'out', value: ['open', 'Negotiation'], message: 'deals rec-7: target_deals.out: none of the values "open", "Negotiation" is in the value map' },
    ]);
    expect(stage('open', 'Negotiation', 'keep').values.out).toBe('open');
    expect(stage('open', null, 'keep').values.out).toBe('open');
    expect(stage('open', 'Negotiation', 'default', 'closedlost').values.out).toBe('closedlost');
  });
});

describe('onInvalid', () => {
  const email = (onInvalid: 'fail' | 'empty' | 'keep' | undefined, value: FieldValue) => {
    const field: FieldMapping = { source: ['text'], target: 'out', transform: { kind: 'copy' }, ...(onInvalid ? { onInvalid } : {}) };
    const mapping = dealsMapping([field, { source: ['first'], target: 'name', transform: { kind: 'copy' } }]);
    return mapRecord(mapping, { id: 'rec-7', fields: { text: value, first: 'Jane' } }, { sourceSchema, targetSchema: target([{ name: 'out', type: 'email' }, { name: 'name', type: 'string' }]), sourceTimeZone: 'UTC' });
  };

  it('fail (the default) fails the record naming record, field and value', () => {
    for (const onInvalid of [undefined, 'fail'] as const) {
      const result = email(onInvalid, 'jane(at)example.com');
      expect(result.errors).toEqual([{ code: 'INVALID_VALUE', field: 'out', value: 'jane(at)example.com', message: 'deals rec-7: target_deals.out: "jane(at)example.com" is not a valid e-mail address' }]);
      expect(result.warnings).toEqual([]);
    }
  });

  it('empty writes the field empty, the rest of the record as is, and a warning naming record, field and value', () => {
    const result = email('empty', 'jane(at)example.com');
    expect(result.values).toEqual({ out: null, name: 'Jane' });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      { code: 'INVALID_VALUE', field: 'out', value: 'jane(at)example.com', message: 'deals rec-7: target_deals.out: "jane(at)example.com" is not a valid e-mail address; written empty (onInvalid: empty)' },
    ]);
    expect(email('empty', 'jane@example.com')).toEqual({ values: { out: 'jane@example.com', name: 'Jane' }, errors: [], warnings: [] });
  });

  it('keep writes the value as it is, with a warning', () => {
    const result = email('keep', 'jane(at)example.com');
    expect(result.values).toEqual({ out: 'jane(at)example.com', name: 'Jane' });
    expect(result.warnings[0]?.message).toMatch(/written as it is \(onInvalid: keep\)$/);
  });

  it('applies to unmapped values and bad domains as well', () => {
    const mapped = run({ kind: 'map', values: { a: 'x' }, unmapped: 'fail' }, { type: 'string' }, { stage: 'b' });
    expect(mapped.errors[0]?.code).toBe('VALUE_NOT_MAPPED');
    const mapping = dealsMapping([{ source: ['stage'], target: 'out', transform: { kind: 'domain' }, onInvalid: 'empty' }]);
    const result = mapRecord(mapping, { id: 'r', fields: { stage: 'n/a' } }, { sourceSchema, targetSchema: target([{ name: 'out', type: 'string' }]), sourceTimeZone: 'UTC' });
    expect(result).toMatchObject({ values: { out: null }, errors: [], warnings: [{ code: 'INVALID_VALUE', field: 'out', value: 'n/a' }] });
  });
});

describe('numbers with locale separators', () => {
  const amount = (value: FieldValue, context: { sourceLocale?: string; locale?: string } = {}, type: 'number' | 'integer' = 'number') => {
    const field: FieldMapping = { source: ['text'], target: 'out', transform: { kind: 'copy' }, ...(context.locale ? { locale: context.locale } : {}) };
    return mapRecord(dealsMapping([field]), { id: 'rec-7', fields: { text: value } }, {
      sourceSchema,
      targetSchema: target([{ name: 'out', type }]),
      sourceTimeZone: 'UTC',
      sourceLocale: context.sourceLocale,
    });
  };

  it('without a locale, ambiguous forms are refused with a hint to set one', () => {
    expect(amount('1.234,56').errors[0]?.message).toBe('deals rec-7: target_deals.out: "1.234,56" is not a number in an unambiguous format: set sourceLocale (or locale: on the field), e.g. de-DE to read 1.234,56');
    expect(amount('1234.5').values.out).toBe(1234.5);
  });

  it('sourceLocale reads them; a field-level locale overrides it', () => {
    expect(amount('1.234,56', { sourceLocale: 'de-DE' }).values.out).toBe(1234.56);
    expect(amount('1,234.56', { sourceLocale: 'de-DE', locale: 'en-US' }).values.out).toBe(1234.56);
    expect(amount('1 234,5', { locale: 'fr-FR' }).values.out).toBe(1234.5);
    expect(amount('1.234', { sourceLocale: 'de-DE' }, 'integer').values.out).toBe(1234);
    // A plain machine-written number still reads under a locale when the locale cannot read it.
    expect(amount('1234.5', { sourceLocale: 'de-DE' }).values.out).toBe(1234.5);
    expect(amount('1,234.5', { sourceLocale: 'de-DE' }).errors[0]?.message).toBe('deals rec-7: target_deals.out: "1,234.5" is not a number in de-DE');
    // Only text going into a number field: a string field keeps the text.
    const text = mapRecord(dealsMapping([{ source: ['text'], target: 'out', transform: { kind: 'copy' } }]), { id: 'r', fields: { text: '1.234,56' } }, { sourceSchema, targetSchema: target([{ name: 'out', type: 'string' }]), sourceTimeZone: 'UTC', sourceLocale: 'de-DE' });
    expect(text.values.out).toBe('1.234,56');
  });

  it('round-trips every number Intl writes in the locale (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('de-DE', 'fr-FR', 'de-CH', 'en-IN', 'es-ES', 'sv-SE', 'pt-BR', 'en-US'), fc.integer({ min: -(10 ** 12), max: 10 ** 12 }), fc.integer({ min: 0, max: 4 }), (locale, units, scale) => {
        const number = units / 10 ** scale;
        const text = new Intl.NumberFormat(locale, { maximumFractionDigits: scale }).format(number);
        expect(convertValue(text, { name: 'n', type: 'number' }, 'UTC', locale)).toBe(number === 0 ? 0 : number);
      }),
      { seed: 3, numRuns: 1000 },
    );
  });
});
