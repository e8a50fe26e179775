import { appendFile, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readAll, type CrmRecord } from '../../core/connector.js';
import { FerryError } from '../../core/errors.js';
import { findField, findObject } from '../../core/schema.js';
import { createCsvConnector, type CsvConnector } from './index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-csv-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function connector(settings: Record<string, unknown> = {}, options: { joinIndexMaxBytes?: number; timeZone?: string; locale?: string } = {}): CsvConnector {
  return createCsvConnector({ connector: 'csv', path: '.', ...settings }, { baseDir: dir, ...options });
}

async function all(csv: CsvConnector, object: string, limit = 1000): Promise<CrmRecord[]> {
  const records: CrmRecord[] = [];
  for await (const record of readAll(csv, object, { limit })) records.push(record);
  return records;
}

describe('CSV detection', () => {
  it('reads a UTF-8 file with some windows-1252 cells (mixed encodings) without garbling either', async () => {
    const utf8 = Buffer.from('id,name,city\n1,José Müller,Zürich\n2,李雷,Bern\n', 'utf8');
    const latin = iconv.encode('3,Renée Côté,Genève\n', 'win1252');
    const mixedCell = Buffer.concat([Buffer.from('4,Zoë ', 'utf8'), iconv.encode('Noël', 'win1252'), Buffer.from(',Köln\n', 'utf8')]);
    await writeFile(join(dir, 'people.csv'), Buffer.concat([utf8, latin, mixedCell]));
    const csv = connector();
    expect((await all(csv, 'people')).map((record) => [record.fields.name, record.fields.city])).toEqual([
      ['José Müller', 'Zürich'],
      ['李雷', 'Bern'],
      ['Renée Côté', 'Genève'],
      ['Zoë Noël', 'Köln'],
    ]);
    expect(csv.takeRowErrors()).toEqual([]);
  });

  it('detects ; and tab delimiters from the header line', async () => {
    await writeFile(join(dir, 'contacts.csv'), 'id;name;city\n1;"Smith, Jane";Paris\n2;Bob;Lyon\n');
    await writeFile(join(dir, 'companies.tsv'), 'id\tname\n1\tAcme; Inc\n');
    const csv = connector();
    const contacts = await all(csv, 'contacts');
    expect(contacts.map((record) => record.fields.name)).toEqual(['Smith, Jane', 'Bob']);
    const companies = await all(csv, 'companies');
    expect(companies[0]!.fields.name).toBe('Acme; Inc');
    expect(csv.takeRowErrors()).toEqual([]);
  });

  it('reads a windows-1252 file and UTF-16 files with a BOM', async () => {
    await writeFile(join(dir, 'latin.csv'), iconv.encode('id,name\n1,José Müller\n2,Café “Noir” – 5 €\n', 'win1252'));
    await writeFile(join(dir, 'wide.csv'), iconv.encode('\ufeffid,name\r\n1,Zoë 李雷\r\n2,👩‍💻 Ana\r\n', 'utf16le'));
    await writeFile(join(dir, 'big.csv'), iconv.encode('\ufeffid;name\n1;محمد\n', 'utf16be'));
    await writeFile(join(dir, 'utf.csv'), '\ufeffid,name\n1,José\n');
    const csv = connector();
    expect((await all(csv, 'latin')).map((record) => record.fields.name)).toEqual(['José Müller', 'Café “Noir” – 5 €']);
    expect((await all(csv, 'wide')).map((record) => [record.id, record.fields.name])).toEqual([
      ['1', 'Zoë 李雷'],
      ['2', '👩‍💻 Ana'],
    ]);
    expect((await all(csv, 'big')).map((record) => record.fields.name)).toEqual(['محمد']);
    const utf = await all(csv, 'utf');
    expect(utf[0]!.fields).toEqual({ id: '1', name: 'José' });
  });

  it('honours a configured encoding and delimiter', async () => {
    await writeFile(join(dir, 'people.csv'), iconv.encode('id|name\n1|Renée\n', 'win1252'));
    const csv = connector({ encoding: 'windows-1252', delimiter: '|' });
    expect((await all(csv, 'people'))[0]!.fields.name).toBe('Renée');
  });

  it('infers field types from the first rows, and configured types win', async () => {
    await writeFile(
      join(dir, 'contacts.csv'),
      [
        'id,name,age,score,active,birthday,seen_at,email,phone,website,bio,zip,updated_at,created',
        `1,Ann,31,1.5,true,1990-02-03,2024-01-01 10:00:00,ann@example.com,+1 (555) 010-0000,https://ann.example.com,"${'x'.repeat(300)}",01234,2024-01-01T00:00:00Z,2023-01-01`,
        '2,Bob,,2,no,,2024-02-01T10:00:00+01:00,not-an-email,555-0101 22,www.bob.example,short,99999,2024-01-02T00:00:00Z,2023-01-02',
      ].join('\n'),
    );
    const csv = connector({ objects: { contacts: { fields: { zip: { type: 'string' }, age: { type: 'number' } } } } });
    const schema = await csv.describe();
    const contacts = findObject(schema, 'contacts')!;
    const types = Object.fromEntries(contacts.fields.map((field) => [field.name, field.type]));
    expect(types).toEqual({
      id: 'string',
      name: 'string',
      age: 'number',
      score: 'number',
      active: 'boolean',
      birthday: 'date',
      seen_at: 'datetime',
      email: 'email',
      phone: 'phone',
      website: 'url',
      bio: 'text',
      zip: 'string',
      updated_at: 'datetime',
      created: 'datetime',
    });
    expect(contacts.modifiedField).toBe('updated_at');
    expect(contacts.createdField).toBe('created');
    const [ann, bob] = await all(csv, 'contacts');
    expect(ann!.fields).toMatchObject({ age: 31, score: 1.5, active: true, birthday: '1990-02-03', seen_at: '2024-01-01T10:00:00.000Z', zip: '01234' });
    expect(ann!.updatedAt).toBe('2024-01-01T00:00:00.000Z');
    expect(ann!.fields.created).toBe('2023-01-01T00:00:00.000Z');
    expect(bob!.fields).toMatchObject({ age: null, active: false, birthday: null, seen_at: '2024-02-01T09:00:00.000Z', email: 'not-an-email' });
  });

  it('reads naive date-times in the configured time zone, dates unshifted', async () => {
    await writeFile(join(dir, 'events.csv'), 'id,starts_at,day,updated_at\n1,2024-07-01 09:30:00,2024-07-01,2024-07-01 12:00\n');
    const csv = connector({}, { timeZone: 'Europe/Berlin' });
    const [event] = await all(csv, 'events');
    expect(event!.fields).toMatchObject({ starts_at: '2024-07-01T07:30:00.000Z', day: '2024-07-01' });
    expect(event!.updatedAt).toBe('2024-07-01T10:00:00.000Z');
  });
});

describe('CSV parsing', () => {
  it('handles CRLF, quoted newlines, "" escaping, a BOM and a trailing empty line', async () => {
    await writeFile(
      join(dir, 'notes.csv'),
      '\ufeffid,body,author\r\n1,"line one\r\nline two",Ann\r\n2,"She said ""hi"", then left",Bob\r\n3,"multi\nline\n\nparagraphs",\r\n\r\n',
    );
    const csv = connector();
    const notes = await all(csv, 'notes');
    expect(notes.map((note) => note.fields)).toEqual([
      { id: '1', body: 'line one\r\nline two', author: 'Ann' },
      { id: '2', body: 'She said "hi", then left', author: 'Bob' },
      { id: '3', body: 'multi\nline\n\nparagraphs', author: null },
    ]);
    expect(csv.takeRowErrors()).toEqual([]);
  });

  it('skips bad rows, reports their line, column and value, and reads the rest', async () => {
    await writeFile(
      join(dir, 'deals.csv'),
      [
        'id,name,amount', // 1
        '1,Alpha,100', // 2
        '2,"Beta\nsecond line",200', // 3-4
        '3,Gamma', // 5: too few columns
        '4,"Delta"x,400', // 6: broken quoting
        '5,Epsilon,lots', // 7: not a number
        '6,Zeta,600', // 8
        ',NoId,700', // 9: no id
        '7,"Eta,700', // 10: quote never closed
        '8,Theta,800', // 11
        '',
      ].join('\n'),
    );
    const csv = connector({ objects: { deals: { fields: { amount: { type: 'integer' } } } } });
    const deals = await all(csv, 'deals', 2);
    expect(deals.map((deal) => [deal.id, deal.fields.amount])).toEqual([
      ['1', 100],
      ['2', 200],
      ['6', 600],
      ['8', 800],
    ]);
    const errors = csv.takeRowErrors();
    expect(errors.map((error) => [error.line, error.column, error.value])).toEqual([
      [5, undefined, undefined],
      [6, undefined, undefined],
      [7, 'amount', 'lots'],
      [9, 'id', ''],
      [10, undefined, undefined],
    ]);
    expect(errors.every((error) => error.object === 'deals' && error.message.length > 0)).toBe(true);
    expect(errors[0]!.message).toMatch(/Expected 3 columns, found 2/);
    expect(errors[1]!.message).toMatch(/quot/i);
    expect(errors[4]!.message).toMatch(/Quote not closed/);
    // Reported once, and drained by takeRowErrors.
    await all(csv, 'deals');
    expect(csv.takeRowErrors()).toEqual([]);
  });
});

describe('CSV reading', () => {
  async function writeContacts(count: number): Promise<void> {
    const lines = ['id,name,updated_at'];
    for (let i = 1; i <= count; i++) {
      const day = String(1 + (i % 28)).padStart(2, '0');
      lines.push(`${i},"Name ${i}${i % 5 === 0 ? '\nwith a second line' : ''}",2024-03-${day}T10:00:00Z`);
    }
    await writeFile(join(dir, 'contacts.csv'), `${lines.join('\r\n')}\r\n`);
  }

  it('pages with byte-offset cursors and returns every row exactly once', async () => {
    await writeContacts(53);
    const csv = connector();
    const ids: string[] = [];
    const sizes: number[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await csv.read('contacts', { limit: 10, after });
      sizes.push(page.records.length);
      ids.push(...page.records.map((record) => record.id));
      expect(csv.openStreams).toBe(0);
      if (!page.next) break;
      expect(page.next).toMatch(/^\d+:\d+$/);
      after = page.next;
    }
    expect(sizes).toEqual([10, 10, 10, 10, 10, 3]);
    expect(ids).toEqual(Array.from({ length: 53 }, (_, i) => String(i + 1)));
    expect(csv.capabilities()).toMatchObject({ orderedByModified: false, modifiedSince: true, writable: false, externalId: false, createFields: false });
  });

  it('rejects a cursor that does not fit the file', async () => {
    await writeContacts(3);
    const csv = connector();
    await expect(csv.read('contacts', { after: '999999:3' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(csv.read('contacts', { after: 'nonsense' })).rejects.toBeInstanceOf(FerryError);
  });

  it('filters by modifiedSince, inclusively', async () => {
    await writeContacts(56);
    const csv = connector();
    const records: CrmRecord[] = [];
    for await (const record of readAll(csv, 'contacts', { limit: 4, modifiedSince: '2024-03-27T10:00:00.000Z' })) records.push(record);
    // Days 27 and 28: i % 28 in {26, 27}.
    expect(records.map((record) => record.id)).toEqual(['26', '27', '54', '55']);
    expect(records.every((record) => record.updatedAt! >= '2024-03-27T10:00:00.000Z')).toBe(true);
  });

  it('returns only the asked fields plus id and modified field', async () => {
    await writeContacts(2);
    const csv = connector();
    const page = await csv.read('contacts', { fields: ['id'] });
    expect(page.records[0]!.fields).toEqual({ id: '1', updated_at: '2024-03-02T10:00:00.000Z' });
  });

  it('reads by ids in one pass, in the order asked, leaving out unknown ids', async () => {
    await writeContacts(40);
    const csv = connector();
    const records = await csv.readByIds('contacts', ['30', '2', 'nope', '15']);
    expect(records.map((record) => record.id)).toEqual(['30', '2', '15']);
    expect(records[2]!.fields.name).toBe('Name 15\nwith a second line');
    expect(csv.openStreams).toBe(0);
  });

  it('is read-only', async () => {
    await writeContacts(1);
    const csv = connector();
    await expect(csv.create('contacts', [{ ref: '1', fields: {} }])).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/read-only/) });
    await expect(csv.update('contacts', [])).rejects.toMatchObject({ code: 'USAGE' });
    await expect(csv.delete('contacts', ['1'])).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('reports unknown objects, missing folders and invalid settings', async () => {
    await writeContacts(1);
    await expect(connector().read('nothing')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(createCsvConnector({ path: 'missing' }, { baseDir: dir }).check()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(() => createCsvConnector({ path: '.', delimiter: ':' }, { baseDir: dir })).toThrow(/delimiter/);
    expect(() => createCsvConnector({ path: '.' }, { baseDir: dir, timeZone: 'Mars/Olympus' })).toThrow(/sourceTimeZone: unknown time zone/);
    await expect(connector({ objects: { contacts: { id: 'contact_no' } } }).describe()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await connector().check();
  });
});

describe('CSV references', () => {
  beforeEach(async () => {
    await writeFile(join(dir, 'owners.csv'), 'id,email\n1,a@example.com\n2,b@example.com\n');
    await writeFile(join(dir, 'companies.csv'), 'id,name,parent_company_id,owner_id\n10,Acme,,1\n11,Acme EU,10,2\n');
    await writeFile(join(dir, 'contacts.csv'), 'id,name,company_id,owner_id\n100,Ann,10,1\n101,Bob,11,\n102,Cid,,2\n');
    await writeFile(join(dir, 'deals.csv'), 'id,name,company_id,watcher_ids\n1000,Big,10,101;100\n1001,Small,11,\n1002,None,,102\n');
    await writeFile(join(dir, 'deal_contacts.csv'), 'deal_id,contact_id\n1000,102\n1000,100\n1001,101\n1000,101\n');
  });

  it('detects reference columns by convention and by configuration', async () => {
    const csv = connector({ objects: { deals: { references: { watcher_ids: 'contacts' } } } });
    const schema = await csv.describe();
    expect(schema.objects.map((object) => object.name).sort()).toEqual(['companies', 'contacts', 'deals', 'owners']);
    const companies = findObject(schema, 'companies')!;
    expect(findField(companies, 'parent_company_id')).toMatchObject({ type: 'reference', reference: { object: 'companies' } });
    expect(findField(companies, 'owner_id')).toMatchObject({ type: 'reference', reference: { object: 'owners' } });
    const contacts = findObject(schema, 'contacts')!;
    expect(findField(contacts, 'company_id')).toMatchObject({ type: 'reference', reference: { object: 'companies' } });
    const deals = findObject(schema, 'deals')!;
    expect(findField(deals, 'watcher_ids')).toMatchObject({ type: 'reference-list', reference: { object: 'contacts' } });
    expect(findField(deals, 'contacts')).toMatchObject({ type: 'reference-list', reference: { object: 'contacts' } });

    const records = await all(csv, 'companies');
    expect(records.map((record) => record.fields.parent_company_id)).toEqual([null, '10']);
    expect((await all(csv, 'contacts')).map((record) => record.fields.owner_id)).toEqual(['1', null, '2']);
  });

  it.each([
    ['indexed in memory', undefined],
    ['streamed per page', 0],
  ])('exposes a join file as a sorted reference-list on the first side (%s)', async (_label, joinIndexMaxBytes) => {
    const csv = connector({ objects: { deals: { references: { watcher_ids: 'contacts' } } } }, { joinIndexMaxBytes });
    const deals = await all(csv, 'deals', 2);
    expect(deals.map((deal) => [deal.id, deal.fields.contacts, deal.fields.watcher_ids])).toEqual([
      ['1000', ['100', '101', '102'], ['100', '101']],
      ['1001', ['101'], null],
      ['1002', null, ['102']],
    ]);
    const byId = await csv.readByIds('deals', ['1001']);
    expect(byId[0]!.fields.contacts).toEqual(['101']);
    expect(csv.openStreams).toBe(0);
  });
});

describe('CSV streaming', () => {
  it.each([
    ['utf-8', (text: string) => Buffer.from(text, 'utf8')],
    ['utf-16le', (text: string) => iconv.encode(`\ufeff${text}`, 'utf16le')],
    ['utf-16be', (text: string) => iconv.encode(`\ufeff${text}`, 'utf16be')],
    ['windows-1252', (text: string) => iconv.encode(text, 'win1252')],
  ])('keeps quoted CRLF, escapes and characters intact across read chunks and pages (%s)', async (_encoding, encode) => {
    const expected: string[] = [];
    let text = 'id,body,n\r\n';
    for (let i = 1; i <= 3000; i++) {
      const body = `Café "${i}"\r\nline ${'é'.repeat(i % 13)},${i % 7 === 0 ? '\r\n' : ''}end`;
      expected.push(body);
      text += `${i},"${body.replaceAll('"', '""')}",${i}\r\n`;
    }
    await writeFile(join(dir, 'rows.csv'), encode(text));
    const csv = connector();
    const records = await all(csv, 'rows', 137);
    expect(records.map((record) => record.fields.body)).toEqual(expected);
    expect(records.map((record) => record.fields.n)).toEqual(expected.map((_, i) => i + 1));
    expect(csv.takeRowErrors()).toEqual([]);
  });

  it('reads a large file page by page, never holding more than a page', async () => {
    const rows = 200_000;
    const file = join(dir, 'contacts.csv');
    const out = createWriteStream(file);
    out.write('id,first_name,email,company_id,updated_at\n');
    for (let i = 1; i <= rows; i++) {
      const ok = out.write(`${i},Name ${i},person${i}@example.com,${i % 1000},2025-01-01T00:00:${String(i % 60).padStart(2, '0')}Z\n`);
      if (!ok) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const csv = connector();
    let after: string | undefined;
    let seen = 0;
    let pages = 0;
    let lastId = 0;
    for (;;) {
      const page = await csv.read('contacts', { limit: 1000, after });
      pages += 1;
      expect(page.records.length).toBeLessThanOrEqual(1000);
      expect(csv.openStreams).toBe(0);
      for (const record of page.records) {
        expect(Number(record.id)).toBe(lastId + 1);
        lastId += 1;
      }
      seen += page.records.length;
      if (!page.next) break;
      after = page.next;
    }
    expect(seen).toBe(rows);
    expect(pages).toBe(200);
    // A cursor from the middle of the file resumes there without reading from the top.
    const page = await csv.read('contacts', { limit: 100, after: after! });
    expect(page.records[0]!.id).toBe(String(rows - 999));
    expect(page.records).toHaveLength(100);
  }, 120_000);
});

describe('CSV clock (now: the high-water mark of a run on an export)', () => {
  const at = (iso: string) => new Date(iso);

  it('is the newest modified value of any object, read as records are read, and ignores rows a read skips', async () => {
    await writeFile(join(dir, 'companies.csv'), 'id,name,updated_at\n1,Acme,2026-02-01T08:00:00Z\n2,Globex,\n');
    // Naive date-times are in the configured zone; a broken row and an invalid date are passed over.
    await writeFile(
      join(dir, 'contacts.csv'),
      [
        'contact_no,name,last_changed',
        '1,Jane,2026-03-01 12:00:00',
        '2,John,2026-02-15T00:00:00Z',
        '3,Bad,not a date',
        '4,Too,many,2027-01-01T00:00:00Z',
        '5,"Broken,2027-06-01T00:00:00Z',
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'deal_contacts.csv'), 'deal_id,contact_id\n1,1\n');
    await writeFile(join(dir, 'deals.csv'), 'id,name\n1,Big\n');
    // A file without a modified column does not count, however new it is.
    await utimes(join(dir, 'deals.csv'), at('2030-01-01T00:00:00Z'), at('2030-01-01T00:00:00Z'));
    const csv = connector({ objects: { contacts: { id: 'contact_no', updatedAt: 'last_changed' } } }, { timeZone: 'Europe/Berlin' });
    expect(await csv.now()).toBe('2026-03-01T11:00:00.000Z');
    expect(csv.openStreams).toBe(0);
    // now() reports nothing: the rows it passed over are reported by the read that skips them.
    expect(csv.takeRowErrors()).toEqual([]);
  });

  it('scans the files once while they stay the same, and again when one changes', async () => {
    await writeFile(join(dir, 'contacts.csv'), 'id,name,updated_at\n1,Jane,2026-03-01T12:00:00Z\n');
    const csv = connector();
    await csv.describe();
    // Every pass over a file goes through rows(): count the passes now() makes.
    const rows = vi.spyOn(csv as unknown as { rows: (...args: unknown[]) => unknown }, 'rows');
    expect(await csv.now()).toBe('2026-03-01T12:00:00.000Z');
    expect(rows).toHaveBeenCalledTimes(1);
    expect(await csv.now()).toBe('2026-03-01T12:00:00.000Z');
    expect(rows).toHaveBeenCalledTimes(1);
    await appendFile(join(dir, 'contacts.csv'), '2,John,2026-03-02T09:30:00Z\n');
    expect(await csv.now()).toBe('2026-03-02T09:30:00.000Z');
    expect(rows).toHaveBeenCalledTimes(2);
  });

  it('without any modified column, is the newest modification time of the export files (join files included)', async () => {
    await writeFile(join(dir, 'contacts.csv'), 'id,name\n1,Jane\n');
    await writeFile(join(dir, 'deals.csv'), 'id,name\n1,Big\n');
    await writeFile(join(dir, 'deal_contacts.csv'), 'deal_id,contact_id\n1,1\n');
    await utimes(join(dir, 'contacts.csv'), at('2026-01-10T10:00:00Z'), at('2026-01-10T10:00:00Z'));
    await utimes(join(dir, 'deals.csv'), at('2026-01-10T09:00:00Z'), at('2026-01-10T09:00:00Z'));
    await utimes(join(dir, 'deal_contacts.csv'), at('2026-01-10T11:30:00Z'), at('2026-01-10T11:30:00Z'));
    expect(await connector().now()).toBe('2026-01-10T11:30:00.000Z');
  });

  it('falls back to the files when the modified column holds no value, and knows nothing of an empty folder', async () => {
    await writeFile(join(dir, 'contacts.csv'), 'id,name,updated_at\n1,Jane,\n');
    await utimes(join(dir, 'contacts.csv'), at('2026-01-10T10:00:00Z'), at('2026-01-10T10:00:00Z'));
    expect(await connector().now()).toBe('2026-01-10T10:00:00.000Z');
    await rm(join(dir, 'contacts.csv'));
    expect(await connector().now()).toBeUndefined();
  });

  it('is never later than the local clock: a modified value in the future does not shut later windows', async () => {
    await writeFile(join(dir, 'contacts.csv'), 'id,name,updated_at\n1,Jane,2026-03-01T12:00:00Z\n2,Typo,2999-01-01T00:00:00Z\n');
    const clock = await connector().now();
    expect(clock).toBeDefined();
    expect(clock! < '2999-01-01T00:00:00.000Z').toBe(true);
    expect(clock! >= '2026-03-01T12:00:00.000Z').toBe(true);
  });
});
