import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll, type CrmRecord } from '../../core/connector.js';
import { findField, findObject } from '../../core/schema.js';
import { createSourceConnector } from '../registry.js';
import { detectCreatedColumn, detectModifiedColumn } from './detect.js';
import { createCsvConnector, type CsvConnector } from './index.js';
import { detectDecimalComma, detectNumberForm, localeDateStyle, localeDateToIso } from './locale.js';

/** Issue 12, "Read the export as it is": the zone, references, per-file form, locales, modified columns. */

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-csv-read-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function connector(settings: Record<string, unknown> = {}, options: { timeZone?: string; locale?: string } = {}): CsvConnector {
  return createCsvConnector({ connector: 'csv', path: '.', ...settings }, { baseDir: dir, ...options });
}

async function all(csv: CsvConnector, object: string): Promise<CrmRecord[]> {
  const records: CrmRecord[] = [];
  for await (const record of readAll(csv, object, { limit: 100 })) records.push(record);
  return records;
}

/** The wall-clock time of an instant in a zone, as `YYYY-MM-DD HH:MM:SS` (Intl, not the process zone). */
function wallClock(instant: string, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(instant))
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

describe('sourceTimeZone reaches the CSV connector (one zone for every column)', () => {
  const NOTES = [
    'id,Note - Add time,Update time,Expected close date',
    // America/New_York: DST starts 2024-03-10 02:00 (EST -5 -> EDT -4), ends 2024-11-03 02:00.
    '1,2024-03-10 01:30:00,2024-03-10 03:30:00,2024-03-10',
    '2,2024-11-03 00:30:00,2024-12-31 23:30:00,2024-12-31',
    '',
  ].join('\n');

  it.each([
    ['UTC', ['2024-03-10T01:30:00.000Z', '2024-03-10T03:30:00.000Z'], ['2024-11-03T00:30:00.000Z', '2024-12-31T23:30:00.000Z']],
    ['America/New_York', ['2024-03-10T06:30:00.000Z', '2024-03-10T07:30:00.000Z'], ['2024-11-03T04:30:00.000Z', '2025-01-01T04:30:00.000Z']],
    ['Asia/Tokyo', ['2024-03-09T16:30:00.000Z', '2024-03-09T18:30:00.000Z'], ['2024-11-02T15:30:00.000Z', '2024-12-31T14:30:00.000Z']],
    // Pacific/Auckland: NZDT (+13) on every row's date here; the DST start is tested below.
    ['Pacific/Auckland', ['2024-03-09T12:30:00.000Z', '2024-03-09T14:30:00.000Z'], ['2024-11-02T11:30:00.000Z', '2024-12-31T10:30:00.000Z']],
  ])('reads Add time, Update time and Expected close date in %s', async (zone, first, second) => {
    await writeFile(join(dir, 'notes.csv'), NOTES);
    const csv = connector({}, { timeZone: zone });
    const schema = findObject(await csv.describe(), 'notes')!;
    expect(schema.modifiedField).toBe('Update time');
    expect(findField(schema, 'Expected close date')!.type).toBe('date');
    const [one, two] = await all(csv, 'notes');
    expect([one!.fields['Note - Add time'], one!.updatedAt]).toEqual(first);
    expect([two!.fields['Note - Add time'], two!.updatedAt]).toEqual(second);
    // Dates are calendar dates: never shifted, whatever the zone.
    expect([one!.fields['Expected close date'], two!.fields['Expected close date']]).toEqual(['2024-03-10', '2024-12-31']);
    // The export's clock (a run's high-water mark) reads the modified column in the same zone.
    expect(await csv.now()).toBe(second[1]);
  });

  it('reads across the Auckland DST start (02:00 NZST -> 03:00 NZDT on 2024-09-29)', async () => {
    await writeFile(join(dir, 'events.csv'), 'id,starts_at\n1,2024-09-29 01:30:00\n2,2024-09-29 03:30:00\n3,2024-09-28 23:59:59\n');
    const records = await all(connector({}, { timeZone: 'Pacific/Auckland' }), 'events');
    expect(records.map((record) => record.fields.starts_at)).toEqual(['2024-09-28T13:30:00.000Z', '2024-09-28T14:30:00.000Z', '2024-09-28T11:59:59.000Z']);
  });

  it('reads any wall-clock time back to the instant it was written from (property, zones on both sides of UTC)', async () => {
    const zones = ['America/New_York', 'America/Los_Angeles', 'Asia/Tokyo', 'Pacific/Auckland', 'Europe/Berlin', 'Asia/Kolkata'];
    const cases = fc.sample(
      fc.record({ zone: fc.constantFrom(...zones), millis: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2035, 0, 1) }) }),
      { numRuns: 300, seed: 12 },
    );
    let content = 'id,at\n';
    cases.forEach((entry, index) => {
      const instant = new Date(Math.floor(entry.millis / 1000) * 1000).toISOString();
      content += `${index},${wallClock(instant, entry.zone)}\n`;
    });
    for (const zone of zones) {
      await writeFile(join(dir, 'times.csv'), content);
      const records = await all(connector({}, { timeZone: zone }), 'times');
      records.forEach((record, index) => {
        const entry = cases[index]!;
        if (entry.zone !== zone) return;
        const written = new Date(Math.floor(entry.millis / 1000) * 1000).toISOString();
        const read = record.fields.at as string;
        // The same wall clock in the zone; the same instant unless the wall clock is the repeated hour of a DST end.
        expect(wallClock(read, zone)).toBe(wallClock(written, zone));
        if (read !== written) expect(Math.abs(Date.parse(read) - Date.parse(written))).toBe(3_600_000);
      });
    }
  });

  it('refuses the CSV connection\'s own timeZone, naming source.timeZone and sourceTimeZone', () => {
    expect(() => connector({ timeZone: 'Europe/Berlin' })).toThrow(
      /^source\.timeZone: the CSV connection has no time zone of its own any more; remove it and set the top-level sourceTimeZone: Europe\/Berlin/,
    );
    try {
      connector({ timeZone: 'Europe/Berlin' });
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', details: { path: 'source.timeZone' } });
    }
  });

  it('gets the project\'s sourceTimeZone and sourceLocale through createSourceConnector', async () => {
    await writeFile(join(dir, 'deals.csv'), 'id;amount;closed_at\n1;1.234,5;31.12.2024 23:30\n');
    const source = createSourceConnector(
      { source: { connector: 'csv', path: '.' }, sourceTimeZone: 'Asia/Tokyo', sourceLocale: 'de-DE' },
      { baseDir: dir },
    ) as CsvConnector;
    const [deal] = await all(source, 'deals');
    expect(deal!.fields).toMatchObject({ amount: 1234.5, closed_at: '2024-12-31T14:30:00.000Z' });
  });
});

describe('reference cells are split only where asked', () => {
  beforeEach(async () => {
    await writeFile(join(dir, 'organizations.csv'), 'id,name\nMüller; Söhne GmbH,Müller\nAcme,Acme\nBeta,Beta\n');
    await writeFile(join(dir, 'users.csv'), 'id,name\nAnna Schmidt,Anna\nBo Li,Bo\n');
  });

  it('keeps `Anna Schmidt` and `Müller; Söhne GmbH` one value without a listSeparator', async () => {
    await writeFile(join(dir, 'people.csv'), 'id,owner,organization\n1,Anna Schmidt,Müller; Söhne GmbH\n2,Bo Li,Acme\n');
    const csv = connector({ objects: { people: { references: { owner: 'users', organization: 'organizations' } } } });
    const people = findObject(await csv.describe(), 'people')!;
    expect(findField(people, 'owner')).toMatchObject({ type: 'reference', reference: { object: 'users' } });
    expect(findField(people, 'organization')).toMatchObject({ type: 'reference', reference: { object: 'organizations' } });
    expect((await all(csv, 'people')).map((record) => [record.fields.owner, record.fields.organization])).toEqual([
      ['Anna Schmidt', 'Müller; Söhne GmbH'],
      ['Bo Li', 'Acme'],
    ]);
  });

  it('splits by the object\'s listSeparator, by a column\'s own one, and columns named as a list', async () => {
    await writeFile(
      join(dir, 'deals.csv'),
      'id,organization,followers,watcher_ids,Viewer IDs\n1,Acme|Beta,Anna Schmidt / Bo Li,Anna Schmidt;Bo Li,Bo Li\n2,Beta,Bo Li,,Anna Schmidt|Bo Li\n',
    );
    const csv = connector({
      objects: {
        deals: {
          listSeparator: '|',
          references: { organization: 'organizations', followers: { object: 'users', listSeparator: ' / ' }, watcher_ids: 'users', 'Viewer IDs': 'users' },
        },
      },
    });
    const deals = findObject(await csv.describe(), 'deals')!;
    for (const name of ['organization', 'followers', 'watcher_ids', 'Viewer IDs']) expect(findField(deals, name)!.type).toBe('reference-list');
    expect((await all(csv, 'deals')).map((record) => [record.fields.organization, record.fields.followers, record.fields.watcher_ids, record.fields['Viewer IDs']])).toEqual([
      [['Acme', 'Beta'], ['Anna Schmidt', 'Bo Li'], ['Anna Schmidt;Bo Li'], ['Bo Li']],
      [['Beta'], ['Bo Li'], null, ['Anna Schmidt', 'Bo Li']],
    ]);
  });

  it('detects the separator of a `*_ids` column among ; | , but never a space', async () => {
    await writeFile(join(dir, 'teams.csv'), 'id,user_ids,backup_user_ids\n1,Anna Schmidt;Bo Li,Anna Schmidt\n');
    const csv = connector({ objects: { teams: { references: { user_ids: 'users', backup_user_ids: 'users' } } } });
    expect((await all(csv, 'teams'))[0]!.fields).toMatchObject({ user_ids: ['Anna Schmidt', 'Bo Li'], backup_user_ids: ['Anna Schmidt'] });
  });
});

describe('a delimiter and an encoding per file', () => {
  it('reads each file in its own form on top of the connection-wide one', async () => {
    await writeFile(join(dir, 'organizations.csv'), 'id,name\n1,"Acme, Inc"\n');
    await writeFile(join(dir, 'Pipedrive people export.csv'), iconv.encode('Person - ID;Person - Name\n7;Renée Müller\n', 'win1252'));
    const csv = connector({
      delimiter: ',',
      encoding: 'utf-8',
      objects: { people: { file: 'Pipedrive people export.csv', id: 'Person - ID', delimiter: ';', encoding: 'windows-1252' } },
    });
    expect((await all(csv, 'organizations'))[0]!.fields.name).toBe('Acme, Inc');
    expect((await all(csv, 'people'))[0]!.fields).toEqual({ 'Person - ID': '7', 'Person - Name': 'Renée Müller' });
  });

  it('says which delimiter a file looks delimited by when the id column is missing', async () => {
    await writeFile(join(dir, 'people.csv'), 'Person - ID;Person - Name;Person - Email - Work\n1;Anna;a@x.io\n');
    await expect(connector({ delimiter: ',', objects: { people: { id: 'Person - ID' } } }).describe()).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'people.csv: the header has 1 column "Person - ID;Person - Name;Person - Email - Work"; the file looks delimited by ";" — set source.objects.people.delimiter: ";"',
    });
    // A header that several delimiters split: the one that yields the id column wins.
    await writeFile(join(dir, 'people.csv'), 'Person - ID\tName, first\tName; last\n1\tAnna\tS\n');
    await expect(connector({ delimiter: ',', objects: { people: { id: 'Person - ID' } } }).describe()).rejects.toMatchObject({
      message: expect.stringMatching(/^people\.csv: the header split by "," has 2 columns .* and none is "Person - ID"; the file looks delimited by "\\t" — set source\.objects\.people\.delimiter: "\\t"$/),
    });
  });

  it('names the delimiter a header is really split by, whichever was configured (property)', async () => {
    const delimiters = [',', ';', '\t', '|'] as const;
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _-]{0,11}$/).map((text) => text.trim()).filter((text) => text.length > 0);
    const cases = fc.sample(
      fc.record({
        columns: fc.uniqueArray(name, { minLength: 2, maxLength: 6 }),
        real: fc.constantFrom(...delimiters),
        configured: fc.constantFrom(...delimiters),
        pick: fc.nat(),
      }).filter((entry) => entry.real !== entry.configured),
      { numRuns: 40, seed: 12 },
    );
    for (const { columns, real, configured, pick } of cases) {
      const id = columns[pick % columns.length]!;
      await writeFile(join(dir, 'people.csv'), `${columns.join(real)}\n${columns.map((_, index) => index).join(real)}\n`);
      const shown = real === '\t' ? '"\\t"' : `"${real}"`;
      await expect(connector({ delimiter: configured, objects: { people: { id } } }).describe()).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining(`the file looks delimited by ${shown} — set source.objects.people.delimiter: ${shown}`) as unknown,
      });
      // With the setting it names, the file reads.
      const [record] = await all(connector({ delimiter: configured, objects: { people: { id, delimiter: real } } }), 'people');
      expect(record!.id).toBe(String(columns.indexOf(id)));
    }
  });

  it('points a missing id column at source.objects.X.id, listing the columns', async () => {
    await writeFile(join(dir, 'people.csv'), 'Person - ID,Person - Name\n1,Anna\n');
    await expect(connector({ objects: { people: { id: 'ID' } } }).describe()).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'people.csv has no id column "ID" (columns: "Person - ID", "Person - Name"); set source.objects.people.id to the column holding the record id',
    });
  });

  it('names the real file in bad-row errors', async () => {
    await writeFile(join(dir, 'Pipedrive people export.csv'), 'id,name,age\n1,Anna,31\n2,Bo\n3,Cy,old\n');
    const csv = connector({ objects: { people: { file: 'Pipedrive people export.csv', fields: { age: { type: 'integer' } } } } });
    await all(csv, 'people');
    expect(csv.takeReadErrors().map((error) => error.message)).toEqual([
      'Pipedrive people export.csv line 3: Expected 3 columns, found 2',
      'Pipedrive people export.csv line 4: Column "age": "old" is not an integer',
    ]);
  });
});

describe('decimal commas and day-first dates', () => {
  const GERMAN = ['Deal - ID;Deal - Title;Deal - Value;Deal - Weight;Deal - Close date;Deal - Update time', '1;Alpha;1.234,56;1.234;31.12.2024;31.12.2024 14:05', '2;Beta;99,5;12;01.02.2025;01.02.2025 00:30', ''].join('\n');

  it('reads a German Excel re-save under a de-DE locale: 1.234 is 1234, never 1.234', async () => {
    await writeFile(join(dir, 'deals.csv'), GERMAN);
    const csv = connector({ objects: { deals: { id: 'Deal - ID', locale: 'de-DE' } } }, { timeZone: 'Europe/Berlin' });
    const deals = findObject(await csv.describe(), 'deals')!;
    expect(deals.fields.map((field) => field.type)).toEqual(['string', 'string', 'number', 'integer', 'date', 'datetime']);
    expect(deals.modifiedField).toBe('Deal - Update time');
    expect((await all(csv, 'deals')).map((record) => record.fields)).toEqual([
      { 'Deal - ID': '1', 'Deal - Title': 'Alpha', 'Deal - Value': 1234.56, 'Deal - Weight': 1234, 'Deal - Close date': '2024-12-31', 'Deal - Update time': '2024-12-31T13:05:00.000Z' },
      { 'Deal - ID': '2', 'Deal - Title': 'Beta', 'Deal - Value': 99.5, 'Deal - Weight': 12, 'Deal - Close date': '2025-02-01', 'Deal - Update time': '2025-01-31T23:30:00.000Z' },
    ]);
  });

  it('takes the project sourceLocale, and a file\'s locale over the connection\'s', async () => {
    await writeFile(join(dir, 'deals.csv'), GERMAN);
    await writeFile(join(dir, 'orders.csv'), 'id,total,placed\n1,"1,234.5",12/31/2024 2:05 PM\n');
    const csv = connector({ locale: 'en-US', objects: { deals: { id: 'Deal - ID', locale: 'de-DE' } } }, { locale: 'fr-FR' });
    expect((await all(csv, 'deals'))[0]!.fields['Deal - Value']).toBe(1234.56);
    expect((await all(csv, 'orders'))[0]!.fields).toMatchObject({ total: 1234.5, placed: '2024-12-31T14:05:00.000Z' });
    const project = connector({ objects: { deals: { id: 'Deal - ID' } } }, { locale: 'de-DE' });
    expect((await all(project, 'deals'))[0]!.fields['Deal - Close date']).toBe('2024-12-31');
  });

  it('detects decimal commas in a ; file when unambiguous, and reads dates there only under a locale', async () => {
    await writeFile(join(dir, 'deals.csv'), GERMAN);
    const csv = connector({ objects: { deals: { id: 'Deal - ID' } } });
    const deals = findObject(await csv.describe(), 'deals')!;
    expect(findField(deals, 'Deal - Value')!.type).toBe('number');
    const [alpha] = await all(csv, 'deals');
    expect(alpha!.fields).toMatchObject({ 'Deal - Value': 1234.56, 'Deal - Weight': 1234, 'Deal - Close date': '31.12.2024' });
    // No modified column without a locale: `31.12.2024 14:05` is not a date-time Ferry guesses at.
    expect(deals.modifiedField).toBeUndefined();
    const configured = connector({ objects: { deals: { id: 'Deal - ID', updatedAt: 'Deal - Update time' } } });
    await all(configured, 'deals');
    expect(configured.takeReadErrors()[0]!.message).toBe(
      'deals.csv line 2: Column "Deal - Update time": "31.12.2024 14:05" is not a date-time (a numeric date such as 31.12.2024 is read only under a locale: set the file\'s locale, e.g. de-DE, or sourceLocale)',
    );
  });

  it('does not detect decimal commas when a column holds dot decimals, or outside ; files', async () => {
    await writeFile(join(dir, 'mixed.csv'), 'id;price;rate\n1;3,5;12.5\n2;4;0.25\n');
    await writeFile(join(dir, 'comma.csv'), 'id,price\n1,"3,5"\n');
    const csv = connector();
    expect((await all(csv, 'mixed'))[0]!.fields).toEqual({ id: '1', price: '3,5', rate: 12.5 });
    expect((await all(csv, 'comma'))[0]!.fields).toEqual({ id: '1', price: '3,5' });
  });

  it('keeps 1.234-like numbers of a ; file as text when nothing tells 1.234 from 1234', async () => {
    await writeFile(join(dir, 'deals.csv'), 'id;value;count\n1;1.500;3\n2;750;4\n');
    const csv = connector();
    expect(findField(findObject(await csv.describe(), 'deals')!, 'value')!.type).toBe('string');
    expect((await all(csv, 'deals')).map((record) => [record.fields.value, record.fields.count])).toEqual([
      ['1.500', 3],
      ['750', 4],
    ]);
    const typed = connector({ objects: { deals: { fields: { value: { type: 'number' } } } } });
    await all(typed, 'deals');
    expect(typed.takeReadErrors().map((error) => error.message)).toEqual([
      'deals.csv line 2: Column "value": "1.500" is not a number (this ";" file gives no sign whether "." is a decimal mark or groups thousands: set the file\'s locale (e.g. de-DE) or sourceLocale)',
    ]);
    // Under a locale it is read, and a dot decimal elsewhere in the file settles it the other way.
    expect((await all(connector({}, { locale: 'de-DE' }), 'deals'))[0]!.fields.value).toBe(1500);
    await writeFile(join(dir, 'deals.csv'), 'id;value;rate\n1;1.500;0.25\n');
    expect((await all(connector(), 'deals'))[0]!.fields).toMatchObject({ value: 1.5, rate: 0.25 });
    expect([detectNumberForm([['1.500', '7']]), detectNumberForm([['12']]), detectNumberForm([['1.5'], ['1,5']]), detectNumberForm([['1,5'], ['1.500']])]).toEqual([
      'ambiguous',
      'plain',
      'dot',
      'comma',
    ]);
  });

  it('fails a value that does not fit the locale, saying how it was read', async () => {
    await writeFile(join(dir, 'deals.csv'), 'id;amount;day\n1;1.234,5;31.12.2024\n2;1.23;31.12.2024\n3;5;31.02.2024\n');
    const csv = connector({ objects: { deals: { locale: 'de-DE', fields: { amount: { type: 'number' }, day: { type: 'date' } } } } });
    await all(csv, 'deals');
    expect(csv.takeReadErrors().map((error) => error.message)).toEqual([
      'deals.csv line 3: Column "amount": "1.23" is not a number (read as de-DE: "." groups digits, "," is the decimal mark)',
      'deals.csv line 4: Column "day": "31.02.2024" is not a date (read as de-DE: day.month.year or ISO)',
    ]);
  });

  it('detects a decimal-comma file only when its numbers say so', () => {
    // The numbers themselves are read by core/locale-number.ts (its tests cover the styles and locales).
    expect(detectDecimalComma([['1.234'], ['12']])).toBe(false);
    expect(detectDecimalComma([['1.234,5', '7'], ['31.12.2024']])).toBe(true);
  });

  it('reads numeric dates in the locale\'s order only', () => {
    expect(localeDateStyle('de-DE').order).toBe('dmy');
    expect(localeDateStyle('en-US').order).toBe('mdy');
    expect(localeDateStyle('ja-JP').order).toBe('ymd');
    const de = localeDateStyle('de-DE');
    expect(localeDateToIso('31.12.2024', de)).toBe('2024-12-31');
    expect(localeDateToIso('1.2.2025 7:05', de)).toBe('2025-02-01 07:05:00');
    expect(localeDateToIso('31.12.2024, 14:05:09', de)).toBe('2024-12-31 14:05:09');
    expect(localeDateToIso('29.02.2023', de)).toBeUndefined();
    expect(localeDateToIso('31.12.24', de)).toBeUndefined();
    expect(localeDateToIso('31.12/2024', de)).toBeUndefined();
    expect(localeDateToIso('2024-12-31', de)).toBeUndefined();
    expect(localeDateToIso('12/31/2024 12:30 AM', localeDateStyle('en-US'))).toBe('2024-12-31 00:30:00');
    expect(localeDateToIso('2024/12/31', localeDateStyle('ja-JP'))).toBe('2024-12-31');
  });
});

describe('modified column detection', () => {
  it.each([
    ['changed_on'],
    ['modified'],
    ['last_modified'],
    ['update_time'],
    ['Update time'],
    ['Last Modified Date'],
    ['Modified Time'],
    ['lastModifiedDate'],
    ['updatedAt'],
    ['SystemModstamp'],
  ])('detects %s', (column) => {
    expect(detectModifiedColumn(['id', 'name', column, 'Last Activity Date'])).toBe(column);
  });

  it('does not take an activity date for a modification', () => {
    expect(detectModifiedColumn(['id', 'Last Activity Date', 'last_activity', 'Next activity date'])).toBeUndefined();
  });

  it('takes the file\'s own entity prefix (Pipedrive), never a related record\'s time', () => {
    expect(detectModifiedColumn(['Deal - ID', 'Deal - Title', 'Person - Update time', 'Deal - Update time'])).toBe('Deal - Update time');
    expect(detectModifiedColumn(['Deal - ID', 'Deal - Title', 'Deal - Value', 'Person - Update time'])).toBeUndefined();
    expect(detectCreatedColumn(['Note - ID', 'Note - Content', 'Note - Add time'])).toBe('Note - Add time');
  });

  it('refuses a column named like one that holds no date-times', async () => {
    await writeFile(join(dir, 'contacts.csv'), 'id,modified,changed_on\n1,yes,2024-05-01 10:00\n2,no,\n');
    const schema = findObject(await connector().describe(), 'contacts')!;
    expect(schema.modifiedField).toBe('changed_on');
    expect(findField(schema, 'modified')!.type).toBe('boolean');
  });
});
