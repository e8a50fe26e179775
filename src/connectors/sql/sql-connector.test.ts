import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, CreateInput, WriteResult } from '../../core/connector.js';
import { readAll } from '../../core/connector.js';
import { FerryError } from '../../core/errors.js';
import { findField, findObject, type SchemaDescription } from '../../core/schema.js';
import { MYSQL_ADMIN_URL, POSTGRES_ADMIN_URL, randomName } from '../../../test/support/databases.js';
import { openSqlHarness, runStatements, type SqlDialectName, type SqlHarness } from '../../../test/support/sql-harness.js';
import type { SqlDialect } from './dialect.js';
import { createSqlConnector } from './index.js';

type DialectName = SqlDialectName;
type Harness = SqlHarness;
const openHarness = openSqlHarness;
const runAll = runStatements;

const CRM_SCHEMA: Record<DialectName, string> = {
  sqlite: `
    CREATE TABLE companies (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL, website TEXT, notes TEXT, employees INTEGER,
      revenue NUMERIC, public BOOLEAN, founded DATE, data JSON, tier TEXT CHECK (tier IN ('gold', 'silver')), created_at TEXT, updated_at TEXT);
    CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT UNIQUE, phone TEXT, company_id INTEGER REFERENCES companies(id), updated_at TEXT);
    CREATE TABLE deals (id INTEGER PRIMARY KEY, title TEXT NOT NULL, updated_at TEXT);
    CREATE TABLE deal_contacts (deal_id INTEGER NOT NULL REFERENCES deals(id), contact_id INTEGER NOT NULL REFERENCES contacts(id),
      created_at TEXT, PRIMARY KEY (deal_id, contact_id));
    CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT)`,
  postgres: `
    CREATE TYPE company_tier AS ENUM ('gold', 'silver');
    CREATE TABLE companies (id serial PRIMARY KEY, name varchar(80) NOT NULL, website text, notes text, employees integer,
      revenue numeric(14, 2), public boolean, founded date, data jsonb, tier company_tier, created_at timestamptz, updated_at timestamptz);
    CREATE TABLE contacts (id serial PRIMARY KEY, email text UNIQUE, phone text, company_id integer REFERENCES companies(id), updated_at timestamptz);
    CREATE TABLE deals (id bigserial PRIMARY KEY, title text NOT NULL, updated_at timestamptz);
    CREATE TABLE deal_contacts (id serial PRIMARY KEY, deal_id bigint NOT NULL REFERENCES deals(id), contact_id integer NOT NULL REFERENCES contacts(id),
      created_at timestamptz NOT NULL);
    CREATE TABLE tags (id integer PRIMARY KEY, label text)`,
  mysql: `
    CREATE TABLE companies (id int AUTO_INCREMENT PRIMARY KEY, name varchar(80) NOT NULL, website varchar(255), notes text, employees int,
      revenue decimal(14, 2), public tinyint(1), founded date, data json, tier enum('gold', 'silver'), created_at datetime(3), updated_at datetime(3));
    CREATE TABLE contacts (id int AUTO_INCREMENT PRIMARY KEY, email varchar(200) UNIQUE, phone varchar(40), company_id int, updated_at datetime(3),
      FOREIGN KEY (company_id) REFERENCES companies(id));
    CREATE TABLE deals (id bigint AUTO_INCREMENT PRIMARY KEY, title varchar(200) NOT NULL, updated_at datetime(3));
    CREATE TABLE deal_contacts (deal_id bigint NOT NULL, contact_id int NOT NULL, created_at datetime(3), PRIMARY KEY (deal_id, contact_id),
      FOREIGN KEY (deal_id) REFERENCES deals(id), FOREIGN KEY (contact_id) REFERENCES contacts(id));
    CREATE TABLE tags (id int PRIMARY KEY, label varchar(40))`,
};

const DIALECTS: DialectName[] = ['sqlite', 'postgres', 'mysql'];

for (const dialect of DIALECTS) {
  describe(`sql connector (${dialect})`, () => {
    let harness: Harness;
    let connector: Connector;
    let schema: SchemaDescription;

    beforeAll(async () => {
      harness = await openHarness(dialect);
      await runAll(harness, CRM_SCHEMA[dialect]);
      connector = createSqlConnector(harness.config);
      schema = await connector.describe();
    });

    afterAll(async () => {
      await connector?.close();
      await harness?.drop();
    });

    it('maps SQL types, names and constraints to field types', () => {
      const companies = findObject(schema, 'companies')!;
      const field = (name: string) => findField(companies, name);
      expect(field('id')).toMatchObject({ type: 'integer', readOnly: true, unique: true });
      expect(field('name')).toMatchObject({ type: 'string', required: true, maxLength: 80 });
      expect(field('website')?.type).toBe('url');
      expect(field('notes')?.type).toBe('text');
      expect(field('employees')?.type).toBe('integer');
      expect(field('revenue')?.type).toBe('number');
      expect(field('public')?.type).toBe('boolean');
      expect(field('founded')?.type).toBe('date');
      expect(field('data')?.type).toBe('json');
      expect(field('created_at')).toMatchObject({ type: 'datetime', readOnly: true });
      expect(companies.modifiedField).toBe('updated_at');
      expect(companies.createdField).toBe('created_at');
      expect(companies.count).toBe(0);
      const contacts = findObject(schema, 'contacts')!;
      expect(findField(contacts, 'email')).toMatchObject({ type: 'email', unique: true });
      expect(findField(contacts, 'phone')?.type).toBe('phone');
    });

    it('detects picklists: PostgreSQL enum types, MySQL ENUM, SQLite CHECK IN', () => {
      const tier = findField(findObject(schema, 'companies')!, 'tier');
      expect(tier?.type).toBe('enum');
      expect(tier?.options).toEqual([{ value: 'gold' }, { value: 'silver' }]);
    });

    it('maps foreign keys to references', () => {
      expect(findField(findObject(schema, 'contacts')!, 'company_id')).toMatchObject({ type: 'reference', reference: { object: 'companies' } });
    });

    it('turns a join table into a reference-list field on its first side, not an object', () => {
      expect(findObject(schema, 'deal_contacts')).toBeUndefined();
      expect(findField(findObject(schema, 'deals')!, 'contacts')).toMatchObject({ type: 'reference-list', reference: { object: 'contacts' } });
      expect(findField(findObject(schema, 'contacts')!, 'deals')).toBeUndefined();
    });

    it('writes a reference-list by replacing the join rows, and reads it sorted', async () => {
      const contactIds = (
        await connector.create(
          'contacts',
          [1, 2, 10].map((n) => ({ ref: `c${n}`, fields: { email: `c${n}@example.com` } })),
        )
      ).map((result) => (result.ok ? result.id : ''));
      const [created] = await connector.create('deals', [{ ref: 'd', fields: { title: 'Big deal', contacts: [contactIds[2]!, contactIds[0]!] } }]);
      expect(created?.ok).toBe(true);
      const dealId = created!.ok ? created!.id : '';
      let [deal] = await connector.readByIds('deals', [dealId]);
      expect(deal?.fields.contacts).toEqual([contactIds[2]!, contactIds[0]!].sort());
      expect(await connector.update('deals', [{ id: dealId, fields: { contacts: [contactIds[1]!] } }])).toEqual([{ ok: true, id: dealId }]);
      [deal] = await connector.readByIds('deals', [dealId]);
      expect(deal?.fields.contacts).toEqual([contactIds[1]!]);
      expect(await harness.rows('SELECT contact_id FROM deal_contacts')).toHaveLength(1);
      // A bad id in the list fails the record alone.
      const [bad] = await connector.update('deals', [{ id: dealId, fields: { contacts: ['not-a-number'] } }]);
      expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE', field: 'contacts' } });
      expect(await connector.delete('deals', [dealId])).toEqual([{ ok: true, id: dealId }]);
      expect(await harness.rows('SELECT contact_id FROM deal_contacts')).toHaveLength(0);
    });

    it('converts values to the conventions: booleans, numerics, dates, json, references', async () => {
      const [company] = await connector.create('companies', [
        {
          ref: 'acme',
          fields: { name: 'Acme', employees: 12, revenue: 1234.5, public: true, founded: '1999-12-31', data: '{"a":1}', tier: 'gold' },
        },
      ]);
      const companyId = company!.ok ? company!.id : '';
      const [contact] = await connector.create('contacts', [{ ref: 'x', fields: { email: 'x@acme.test', company_id: companyId } }]);
      const [record] = await connector.readByIds('companies', [companyId]);
      expect(record?.fields).toMatchObject({ name: 'Acme', employees: 12, revenue: 1234.5, public: true, founded: '1999-12-31', tier: 'gold' });
      expect(JSON.parse(record!.fields.data as string)).toEqual({ a: 1 });
      expect(record?.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(record?.fields.created_at).toBe(record?.updatedAt);
      const [contactRecord] = await connector.readByIds('contacts', [contact!.ok ? contact!.id : '']);
      expect(contactRecord?.fields.company_id).toBe(companyId);
      // A reference to a missing record is the database's to refuse.
      const [dangling] = await connector.create('contacts', [{ ref: 'y', fields: { email: 'y@acme.test', company_id: '99999' } }]);
      expect(dangling).toMatchObject({ ok: false, error: { code: 'REFERENCE_MISSING' } });
    });

    it('reads a table without a modified column in numeric id order and ignores modifiedSince', async () => {
      await harness.run("INSERT INTO tags (id, label) VALUES (10, 'ten'), (2, 'two'), (9, 'nine'), (100, 'hundred')");
      const description = await connector.describe();
      expect(findObject(description, 'tags')?.modifiedField).toBeUndefined();
      const records = [];
      for await (const record of readAll(connector, 'tags', { limit: 2, modifiedSince: '2999-01-01T00:00:00.000Z' })) records.push(record);
      expect(records.map((record) => record.id)).toEqual(['2', '9', '10', '100']);
      expect(records[0]?.updatedAt).toBeNull();
    });

    it('anyOrder reads in primary-key order, each row once even when it is modified meanwhile', async () => {
      const stamp = (second: number) => {
        const iso = new Date(Date.UTC(2095, 0, 1, 0, 0, second)).toISOString();
        return dialect === 'mysql' ? iso.replace('T', ' ').replace('Z', '') : iso;
      };
      // Modified times in the reverse of id order: a modified-order read would return them backwards.
      await harness.run(`INSERT INTO contacts (email, updated_at) VALUES ${[1, 2, 3, 4, 5].map((n) => `('any${n}@x.test', '${stamp(10 - n)}')`).join(', ')}`);
      const since = '2095-01-01T00:00:00.000Z';
      const first = await connector.read('contacts', { modifiedSince: since, limit: 2, anyOrder: true });
      expect(first.records.map((record) => record.fields.email)).toEqual(['any1@x.test', 'any2@x.test']);
      await harness.run(`UPDATE contacts SET updated_at = '${stamp(50)}' WHERE email = 'any1@x.test'`);
      const seen = [...first.records];
      for (let after = first.next; after; ) {
        const page = await connector.read('contacts', { modifiedSince: since, limit: 2, after, anyOrder: true });
        seen.push(...page.records);
        after = page.next;
      }
      expect(seen.map((record) => record.fields.email)).toEqual([1, 2, 3, 4, 5].map((n) => `any${n}@x.test`));
      const ids = seen.map((record) => Number(record.id));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    });

    it('sorts NULL modified times first and pages through them', async () => {
      await harness.run("INSERT INTO contacts (email, updated_at) VALUES ('n1@x.test', NULL), ('n2@x.test', NULL), ('n3@x.test', NULL)");
      const records = [];
      for await (const record of readAll(connector, 'contacts', { limit: 2 })) records.push(record);
      const nullIds = records.filter((record) => record.updatedAt === null).map((record) => record.id);
      expect(nullIds).toHaveLength(3);
      expect(records.slice(0, 3).every((record) => record.updatedAt === null)).toBe(true);
      expect(new Set(records.map((record) => record.id)).size).toBe(records.length);
    });

    it('findContaining finds text containing a value in any ASCII case, with % and _ taken literally', async () => {
      const emails = ['Jane.Doe@Example.COM', 'Bob Smith <BOB@find.test>', '100%_sure@find.test', '100xxsure@find.test', 'other@find.test'];
      await harness.run(`INSERT INTO contacts (email) VALUES ${emails.map((email) => `('${email}')`).join(', ')}`);
      const found = async (values: string[]) => (await connector.findContaining!('contacts', 'email', values, ['email'])).map((record) => record.fields.email);
      expect(await found(['jane.doe@example.com', 'bob@find.test'])).toEqual(['Jane.Doe@Example.COM', 'Bob Smith <BOB@find.test>']);
      expect(await found(['100%_sure@find.test'])).toEqual(['100%_sure@find.test']);
      expect(await found(['nobody@find.test'])).toEqual([]);
      const ids = (await connector.findContaining!('contacts', 'email', ['@find.test'])).map((record) => Number(record.id));
      expect(ids).toHaveLength(4);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      await expect(connector.findContaining!('contacts', 'company_id', ['1'])).rejects.toThrow(/not a text field/);
    });

    it('quotes hostile table and column names', async () => {
      const quote = dialect === 'mysql' ? '`' : '"';
      const q = (name: string) => `${quote}${name.split(quote).join(quote + quote)}${quote}`;
      const idType = dialect === 'postgres' ? 'serial' : dialect === 'mysql' ? 'int AUTO_INCREMENT' : 'INTEGER';
      const textType = dialect === 'mysql' ? 'varchar(100)' : 'text';
      await harness.run(`CREATE TABLE ${q('a"b')} (${q('id')} ${idType} PRIMARY KEY, ${q("c'd")} ${textType}, ${q('q?')} ${textType})`);
      await harness.run(`CREATE TABLE ${q('drop`table')} (${q('id')} ${idType} PRIMARY KEY, ${q('x`y')} ${textType}, ${q('updated_at')} ${textType})`);
      const hostile = createSqlConnector(harness.config);
      try {
        const description = await hostile.describe();
        expect(findField(findObject(description, 'a"b')!, "c'd")?.type).toBe('string');
        const [created] = await hostile.create('a"b', [{ ref: '1', fields: { "c'd": "it's; DROP TABLE x; --", 'q?': '?' } }]);
        expect(created?.ok).toBe(true);
        const id = created!.ok ? created!.id : '';
        expect((await hostile.readByIds('a"b', [id]))[0]?.fields).toMatchObject({ "c'd": "it's; DROP TABLE x; --", 'q?': '?' });
        expect(await hostile.update('a"b', [{ id, fields: { "c'd": 'x"y`z' } }])).toEqual([{ ok: true, id }]);
        expect((await hostile.read('a"b')).records[0]?.fields["c'd"]).toBe('x"y`z');
        const [other] = await hostile.create('drop`table', [{ ref: '2', fields: { 'x`y': 'v' } }]);
        expect(other?.ok).toBe(true);
        const page = await hostile.read('drop`table', { modifiedSince: '2000-01-01T00:00:00.000Z' });
        expect(page.records.map((record) => record.fields['x`y'])).toEqual(['v']);
        expect(await hostile.ensureExternalId!('drop`table')).toBe('ferry_source_id');
        expect(await hostile.delete('a"b', [id])).toEqual([{ ok: true, id }]);
      } finally {
        await hostile.close();
      }
    });

    it('adds the external-id column only when asked, read-only to the engine', async () => {
      expect(findObject(schema, 'companies')?.externalIdField).toBeUndefined();
      expect(await connector.ensureExternalId!('companies')).toBe('ferry_source_id');
      const companies = findObject(await connector.describe(), 'companies')!;
      expect(companies.externalIdField).toBe('ferry_source_id');
      expect(findField(companies, 'ferry_source_id')?.readOnly).toBe(true);
      const results = await connector.create('companies', [
        { ref: 'a', externalId: 'src-1', fields: { name: 'A' } },
        { ref: 'b', externalId: 'src-1', fields: { name: 'B' } },
      ]);
      expect(results[0]?.ok).toBe(true);
      // The unique index keeps a source record from being created twice.
      expect(results[1]).toMatchObject({ ok: false, error: { code: 'UNIQUE_VIOLATION' } });
      const found = await connector.findByExternalIds!('companies', ['src-1']);
      expect(found.get('src-1')).toBe(results[0]!.ok ? results[0]!.id : undefined);
    });

    it('creates a batch with external ids (multi-row INSERTs where RETURNING names the rows): each id is its record, a bad record fails alone', async () => {
      expect(await connector.ensureExternalId!('deals')).toBe('ferry_source_id');
      expect(await connector.ensureExternalId!('companies')).toBe('ferry_source_id');
      const contactIds = (await connector.create('contacts', [1, 2].map((n) => ({ ref: `m${n}`, externalId: `mc${n}`, fields: { email: `m${n}@example.com` } })))).map((result) =>
        result.ok ? result.id : '',
      );
      const deals: CreateInput[] = [
        { ref: 'd1', externalId: 'md1', fields: { title: 'One', contacts: [contactIds[0]!] } },
        { ref: 'd2', externalId: 'md2', fields: { title: 'Two', contacts: [contactIds[1]!, contactIds[0]!] } },
        { ref: 'd3', externalId: 'md3', fields: { title: 'Three' } },
      ];
      const created = await connector.create('deals', deals);
      expect(created.every((result) => result.ok)).toBe(true);
      const ids = created.map((result) => (result.ok ? result.id : ''));
      const read = new Map((await connector.readByIds('deals', ids)).map((record) => [record.id, record]));
      expect(ids.map((id) => read.get(id)?.fields.title)).toEqual(['One', 'Two', 'Three']);
      expect(ids.map((id) => read.get(id)?.fields.contacts)).toEqual([[contactIds[0]], [...contactIds].sort(), []]);
      const found = await connector.findByExternalIds!('deals', ['md1', 'md2', 'md3']);
      expect(['md1', 'md2', 'md3'].map((externalId) => found.get(externalId))).toEqual(ids);

      // One record of the batch collides with a row already there (its external id): the others are written,
      // with other column lists mixed in, and each keeps its own id.
      const [existing] = await connector.create('companies', [{ ref: 'x', externalId: 'mx-dup', fields: { name: 'Existing' } }]);
      expect(existing?.ok).toBe(true);
      const batch = await connector.create('companies', [
        { ref: 'a', externalId: 'mx1', fields: { name: 'Alpha' } },
        { ref: 'b', externalId: 'mx2', fields: { name: 'Beta', website: 'https://beta.example' } },
        { ref: 'c', externalId: 'mx-dup', fields: { name: 'Copy' } },
        { ref: 'd', externalId: 'mx3', fields: { name: 'Delta' } },
      ]);
      expect(batch.map((result) => result.ok)).toEqual([true, true, false, true]);
      expect(batch[2]).toMatchObject({ ok: false, error: { code: 'UNIQUE_VIOLATION' } });
      const companyIds = [batch[0], batch[1], batch[3]].map((result) => (result!.ok ? result!.id : ''));
      const companies = new Map((await connector.readByIds('companies', companyIds)).map((record) => [record.id, record]));
      expect(companyIds.map((id) => companies.get(id)?.fields.name)).toEqual(['Alpha', 'Beta', 'Delta']);
      expect(companies.get(companyIds[1]!)?.fields.website).toBe('https://beta.example');
      const byExternal = await connector.findByExternalIds!('companies', ['mx1', 'mx2', 'mx3', 'mx-dup']);
      expect(['mx1', 'mx2', 'mx3', 'mx-dup'].map((externalId) => byExternal.get(externalId))).toEqual([...companyIds, existing!.ok ? existing!.id : '']);
    });

    it('updates a batch in multi-row statements (SQLite, PostgreSQL): a bad value or a missing row fails that record alone, the rest is written', async () => {
      // The statements the connector sends in its transactions, to see which form a batch took.
      const sent: string[] = [];
      const dialectOf = connector as unknown as { dialect: SqlDialect };
      const transaction = dialectOf.dialect.transaction.bind(dialectOf.dialect);
      dialectOf.dialect.transaction = (work) =>
        transaction((session) => work({ query: (sql, params) => (sent.push(sql), session.query(sql, params)) }));
      try {
        const multiRow = () => sent.filter((sql) => /^UPDATE .* FROM \(VALUES /s.test(sql)).length;
        const one = (result: WriteResult | undefined) => (result?.ok ? result.id : '');
        const contacts = (await connector.create('contacts', [1, 2, 3, 4, 5].map((n) => ({ ref: `u${n}`, fields: { email: `u${n}@example.com`, phone: `${n}` } })))).map(one);
        const [company] = await connector.create('companies', [{ ref: 'uc', fields: { name: 'Before' } }]);
        const companyId = one(company);

        // Mixed column lists, every value type, one update of a row that exists no more.
        sent.length = 0;
        const missingId = '99999';
        const batch = await connector.update('contacts', [
          { id: contacts[0]!, fields: { email: 'u1-new@example.com' } },
          { id: contacts[1]!, fields: { email: 'u2-new@example.com', phone: null, company_id: companyId } },
          { id: missingId, fields: { email: 'ghost@example.com' } },
          { id: contacts[2]!, fields: { phone: '333' } },
        ]);
        expect(batch).toEqual([
          { ok: true, id: contacts[0] },
          { ok: true, id: contacts[1] },
          { ok: false, error: expect.objectContaining({ code: 'NOT_FOUND' }) },
          { ok: true, id: contacts[2] },
        ]);
        if (dialect !== 'mysql') expect(multiRow()).toBeGreaterThan(0);
        else expect(multiRow()).toBe(0);
        let read = new Map((await connector.readByIds('contacts', contacts)).map((record) => [record.id, record.fields]));
        expect([0, 1, 2, 3].map((index) => [read.get(contacts[index]!)?.email, read.get(contacts[index]!)?.phone])).toEqual([
          ['u1-new@example.com', '1'],
          ['u2-new@example.com', null],
          ['u3@example.com', '333'],
          ['u4@example.com', '4'],
        ]);
        expect(read.get(contacts[1]!)?.company_id).toBe(companyId);

        // A value the database refuses (an email another row has): that record fails, naming its field and value.
        const refused = await connector.update('contacts', [
          { id: contacts[3]!, fields: { email: 'u4-new@example.com' } },
          { id: contacts[4]!, fields: { email: 'u1-new@example.com' } },
          { id: contacts[2]!, fields: { email: 'u3-new@example.com' } },
        ]);
        expect(refused[0]).toEqual({ ok: true, id: contacts[3] });
        expect(refused[1]).toMatchObject({ ok: false, error: { code: 'UNIQUE_VIOLATION', field: 'email', value: 'u1-new@example.com' } });
        expect(refused[2]).toEqual({ ok: true, id: contacts[2] });
        read = new Map((await connector.readByIds('contacts', contacts)).map((record) => [record.id, record.fields]));
        expect(contacts.map((id) => read.get(id)?.email)).toEqual(['u1-new@example.com', 'u2-new@example.com', 'u3-new@example.com', 'u4-new@example.com', 'u5@example.com']);

        // Every value type through a VALUES list (PostgreSQL casts each to its column's type), read back as written.
        const companies = (
          await connector.create('companies', [1, 2, 3].map((n) => ({ ref: `t${n}`, fields: { name: `T${n}`, employees: n, public: false, tier: 'silver' } })))
        ).map(one);
        sent.length = 0;
        const typed = await connector.update('companies', [
          { id: companies[0]!, fields: { name: 'Typed', employees: 12, revenue: 1234.5, public: true, founded: '1999-12-31', data: '{"a":1}', tier: 'gold', website: null } },
          { id: companies[1]!, fields: { name: 'Typed 2', employees: '7', revenue: '0.25', public: 'false', founded: '2001-02-03', data: '[1,2]', tier: 'silver', website: 'https://two.example' } },
          { id: companies[2]!, fields: { name: 'Typed 3', employees: null, revenue: null, public: null, founded: null, data: null, tier: null, website: null } },
        ]);
        expect(typed.map((result) => result.ok)).toEqual([true, true, true]);
        // Three rows of one column list: a statement of two rows and one of one (row counts are powers of two).
        if (dialect !== 'mysql') expect(multiRow()).toBe(2);
        const records = new Map((await connector.readByIds('companies', companies)).map((record) => [record.id, record.fields]));
        expect(records.get(companies[0]!)).toMatchObject({ name: 'Typed', employees: 12, revenue: 1234.5, public: true, founded: '1999-12-31', tier: 'gold', website: null });
        expect(JSON.parse(records.get(companies[0]!)!.data as string)).toEqual({ a: 1 });
        expect(records.get(companies[1]!)).toMatchObject({ name: 'Typed 2', employees: 7, revenue: 0.25, public: false, founded: '2001-02-03', tier: 'silver', website: 'https://two.example' });
        expect(JSON.parse(records.get(companies[1]!)!.data as string)).toEqual([1, 2]);
        expect(records.get(companies[2]!)).toMatchObject({ name: 'Typed 3', employees: null, revenue: null, public: null, founded: null, data: null, tier: null });

        if (dialect === 'postgres') {
          // Types with modifiers: the VALUES list's casts carry none (a cast to char(1) or varchar(5) would cut
          // the value), so a batch stores what one update stores, and a value too long still fails alone.
          await harness.run('CREATE TABLE padded (id integer PRIMARY KEY, code char(3), short varchar(5), amount numeric(5, 2), updated_at timestamptz)');
          await harness.run('INSERT INTO padded (id) VALUES (1), (2), (3), (4)');
          await connector.describe();
          const row = { code: 'ab', short: 'abcde', amount: 1.239 };
          expect(await connector.update('padded', [{ id: '1', fields: row }])).toEqual([{ ok: true, id: '1' }]);
          sent.length = 0;
          const padded = await connector.update('padded', [
            { id: '2', fields: row },
            { id: '3', fields: row },
            { id: '4', fields: { ...row, code: 'abcd' } },
          ]);
          expect(padded.map((result) => result.ok)).toEqual([true, true, false]);
          expect(multiRow()).toBe(1);
          expect(padded[2]).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE' } });
          const stored = await harness.rows('SELECT id, code, short, amount::text AS amount FROM padded ORDER BY id');
          expect(stored).toEqual([
            { id: 1, code: 'ab ', short: 'abcde', amount: '1.24' },
            { id: 2, code: 'ab ', short: 'abcde', amount: '1.24' },
            { id: 3, code: 'ab ', short: 'abcde', amount: '1.24' },
            { id: 4, code: null, short: null, amount: null },
          ]);
        }

        // Reference lists of a batch: replaced for each record; a bad reference fails its record alone.
        const deals = (await connector.create('deals', [1, 2, 3].map((n) => ({ ref: `ud${n}`, fields: { title: `D${n}`, contacts: [contacts[0]!] } })))).map(one);
        const lists = await connector.update('deals', [
          { id: deals[0]!, fields: { contacts: [contacts[1]!, contacts[2]!] } },
          { id: deals[1]!, fields: { title: 'D2 new', contacts: ['99999'] } },
          { id: deals[2]!, fields: { contacts: [] } },
        ]);
        expect(lists[0]).toEqual({ ok: true, id: deals[0] });
        expect(lists[1]).toMatchObject({ ok: false, error: { code: 'REFERENCE_MISSING' } });
        expect(lists[2]).toEqual({ ok: true, id: deals[2] });
        const dealRecords = new Map((await connector.readByIds('deals', deals)).map((record) => [record.id, record.fields]));
        expect(deals.map((id) => [dealRecords.get(id)?.title, dealRecords.get(id)?.contacts])).toEqual([
          ['D1', [contacts[1], contacts[2]].sort()],
          ['D2', [contacts[0]]],
          ['D3', []],
        ]);
        await connector.delete('deals', deals);

        // Two updates of one row in a batch: written in their order, the last value stays.
        const twice = await connector.update('contacts', [
          { id: contacts[4]!, fields: { phone: 'first' } },
          { id: contacts[4]!, fields: { phone: 'second' } },
        ]);
        expect(twice).toEqual([
          { ok: true, id: contacts[4] },
          { ok: true, id: contacts[4] },
        ]);
        expect((await connector.readByIds('contacts', [contacts[4]!]))[0]?.fields.phone).toBe('second');
      } finally {
        dialectOf.dialect.transaction = transaction;
      }
    });

    it('never puts the password into connection errors', async () => {
      const secret = 'Sup3rS3cret-pw';
      const urls =
        dialect === 'postgres'
          ? [`postgres://nobody_${randomName('u')}:${secret}@127.0.0.1:5432/postgres`, `postgres://user:${secret}@127.0.0.1:1/db`]
          : dialect === 'mysql'
            ? [`mysql://root:${secret}@127.0.0.1:3306/test`, `mysql://user:${secret}@127.0.0.1:1/db`]
            : [];
      const expected = ['AUTH_FAILED', 'CONNECTION_FAILED'];
      for (const [index, url] of urls.entries()) {
        const broken = createSqlConnector({ dialect: dialect as 'postgres' | 'mysql', url });
        try {
          const error = await broken.check().then(
            () => undefined,
            (failure: unknown) => failure,
          );
          expect(error).toBeInstanceOf(FerryError);
          expect((error as FerryError).code).toBe(expected[index]);
          expect(JSON.stringify((error as FerryError).toJSON())).not.toContain(secret);
          expect((error as FerryError).message).not.toContain(secret);
          const readError = await broken.read('contacts').then(
            () => undefined,
            (failure: unknown) => failure,
          );
          expect(String((readError as Error).message)).not.toContain(secret);
        } finally {
          await broken.close();
        }
      }
      if (dialect === 'sqlite') {
        const missing = createSqlConnector({ dialect: 'sqlite', path: join(tmpdir(), `${randomName('missing')}.db`) });
        await expect(missing.check()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
        await missing.close();
      }
    });
  });
}

describe('timestamp storage in the database', () => {
  it('SQLite: naive text in a configured zone, ISO text and epoch milliseconds filter correctly', async () => {
    const harness = await openHarness('sqlite');
    try {
      await runAll(
        harness,
        `
        CREATE TABLE naive_rows (id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT);
        CREATE TABLE iso_rows (id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT);
        CREATE TABLE epoch_rows (id INTEGER PRIMARY KEY, name TEXT, updated_at INTEGER);
        CREATE INDEX naive_updated ON naive_rows (updated_at);
        INSERT INTO naive_rows (id, name, updated_at) VALUES (1, 'before', '2024-07-01 11:59:59'), (2, 'at', '2024-07-01 12:00:00'), (3, 'after', '2024-12-01 08:00:00');
        INSERT INTO iso_rows (id, name, updated_at) VALUES (1, 'before', '2024-07-01T15:59:59.999Z'), (2, 'at', '2024-07-01T16:00:00.000Z'), (3, 'after', '2024-12-01T13:00:00.000Z');
        INSERT INTO epoch_rows (id, name, updated_at) VALUES (1, 'before', 1719849599999), (2, 'at', 1719849600000), (3, 'after', 1733058000000)`,
      );
      const connector = createSqlConnector({ ...harness.config, timeZone: 'America/New_York' });
      try {
        for (const table of ['naive_rows', 'iso_rows', 'epoch_rows']) {
          const page = await connector.read(table, { modifiedSince: '2024-07-01T16:00:00.000Z' });
          expect(page.records.map((record) => record.fields.name), table).toEqual(['at', 'after']);
          expect(page.records.map((record) => record.updatedAt), table).toEqual(['2024-07-01T16:00:00.000Z', '2024-12-01T13:00:00.000Z']);
        }
        // The bound is compared with the column itself: the index on updated_at is used.
        const plan = await harness.rows("EXPLAIN QUERY PLAN SELECT id FROM naive_rows WHERE updated_at >= '2024-07-01 12:00:00'");
        expect(JSON.stringify(plan)).toContain('naive_updated');
        // Writes keep each column's format.
        for (const table of ['naive_rows', 'iso_rows', 'epoch_rows']) {
          const [result] = await connector.update(table, [{ id: '1', fields: { name: 'edited' } }]);
          expect(result?.ok, table).toBe(true);
        }
        const now = Date.parse((await connector.now!()) ?? '');
        const [naive] = await harness.rows('SELECT updated_at FROM naive_rows WHERE id = 1');
        const [iso] = await harness.rows('SELECT updated_at FROM iso_rows WHERE id = 1');
        const [epoch] = await harness.rows('SELECT updated_at FROM epoch_rows WHERE id = 1');
        expect(naive?.updated_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
        expect(iso?.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(typeof epoch?.updated_at).toBe('number');
        const [naiveRecord] = await connector.readByIds('naive_rows', ['1']);
        expect(Math.abs(Date.parse(naiveRecord!.updatedAt!) - now)).toBeLessThan(60_000);
        expect(Math.abs((epoch!.updated_at as number) - now)).toBeLessThan(60_000);
      } finally {
        await connector.close();
      }
    } finally {
      await harness.drop();
    }
  });

  it('PostgreSQL: timestamp without time zone in a configured zone, and timestamptz', async () => {
    const harness = await openHarness('postgres');
    try {
      await runAll(
        harness,
        `
        CREATE TABLE local_rows (id serial PRIMARY KEY, name text, updated_at timestamp);
        CREATE TABLE utc_rows (id serial PRIMARY KEY, name text, updated_at timestamptz);
        INSERT INTO local_rows (name, updated_at) VALUES ('before', '2024-07-01 17:59:59.999'), ('at', '2024-07-01 18:00:00'), ('after', '2024-07-01 18:00:00.000001');
        INSERT INTO utc_rows (name, updated_at) VALUES ('before', '2024-07-01 15:59:59.999+00'), ('at', '2024-07-01 16:00:00+00'), ('after', '2024-07-01 16:00:00.000001+00')`,
      );
      const connector = createSqlConnector({ ...harness.config, timeZone: 'Europe/Berlin' });
      // A second connector reads on from the first one's cursor, so the cursor itself is queried (the
      // first one would serve its next page from the rows it read ahead).
      const resumed = createSqlConnector({ ...harness.config, timeZone: 'Europe/Berlin' });
      try {
        for (const table of ['local_rows', 'utc_rows']) {
          const page = await connector.read(table, { modifiedSince: '2024-07-01T16:00:00.000Z', limit: 1 });
          expect(page.records.map((record) => record.fields.name), table).toEqual(['at']);
          // The cursor keeps the microseconds: the next page is the row 1 µs later, not a repeat.
          const next = await resumed.read(table, { modifiedSince: '2024-07-01T16:00:00.000Z', limit: 1, after: page.next });
          expect(next.records.map((record) => record.fields.name), table).toEqual(['after']);
          expect(next.next).toBeUndefined();
        }
      } finally {
        await connector.close();
        await resumed.close();
      }
    } finally {
      await harness.drop();
    }
  });

  it('MySQL: DATETIME in a configured zone and TIMESTAMP', async () => {
    const harness = await openHarness('mysql');
    try {
      await harness.run(`
        CREATE TABLE local_rows (id int AUTO_INCREMENT PRIMARY KEY, name varchar(20), updated_at datetime);
        CREATE TABLE utc_rows (id int AUTO_INCREMENT PRIMARY KEY, name varchar(20), updated_at timestamp(3) NULL);
        INSERT INTO local_rows (name, updated_at) VALUES ('before', '2024-07-01 17:59:59'), ('at', '2024-07-01 18:00:00'), ('after', '2024-12-01 14:00:00');
        SET time_zone = '+00:00';
        INSERT INTO utc_rows (name, updated_at) VALUES ('before', '2024-07-01 15:59:59.999'), ('at', '2024-07-01 16:00:00.000'), ('after', '2024-12-01 13:00:00.000')`);
      const connector = createSqlConnector({ ...harness.config, timeZone: 'Europe/Berlin' });
      try {
        for (const table of ['local_rows', 'utc_rows']) {
          const page = await connector.read(table, { modifiedSince: '2024-07-01T16:00:00.000Z' });
          expect(page.records.map((record) => record.fields.name), table).toEqual(['at', 'after']);
          expect(page.records.map((record) => record.updatedAt), table).toEqual(['2024-07-01T16:00:00.000Z', '2024-12-01T13:00:00.000Z']);
        }
      } finally {
        await connector.close();
      }
    } finally {
      await harness.drop();
    }
  });
});

describe('PostgreSQL CHECK constraints', () => {
  it('a CHECK (column IN (...)) on a text or varchar column is a picklist; other checks are not', async () => {
    const harness = await openHarness('postgres');
    const connector = createSqlConnector(harness.config);
    try {
      await runAll(
        harness,
        `
        CREATE TABLE deals (id serial PRIMARY KEY, stage text CHECK (stage IN ('open', 'won', 'it''s lost')),
          kind varchar(20) CHECK (kind IN ('new', 'renewal')), amount numeric CHECK (amount > 0),
          a text, b text, CHECK (a = 'x' OR b = 'y'), updated_at timestamptz)`,
      );
      const deals = findObject(await connector.describe(), 'deals')!;
      expect(findField(deals, 'stage')).toMatchObject({ type: 'enum', options: [{ value: 'open' }, { value: 'won' }, { value: "it's lost" }] });
      expect(findField(deals, 'kind')?.options).toEqual([{ value: 'new' }, { value: 'renewal' }]);
      expect(findField(deals, 'amount')?.options).toBeUndefined();
      expect(findField(deals, 'a')?.options).toBeUndefined();
    } finally {
      await connector.close();
      await harness.drop();
    }
  });
});

describe('a read-only PostgreSQL role', () => {
  it('is enough to describe and read; writes fail per record, no DDL', async () => {
    const harness = await openHarness('postgres');
    const role = randomName('ferry_reader');
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      await runAll(
        harness,
        `
        CREATE TYPE stage AS ENUM ('open', 'won');
        CREATE TABLE deals (id serial PRIMARY KEY, title text NOT NULL, stage stage, updated_at timestamptz);
        INSERT INTO deals (title, stage, updated_at) VALUES ('a', 'open', '2024-01-01T00:00:00Z'), ('b', 'won', '2024-02-01T00:00:00Z')`,
      );
      await admin.query(`CREATE ROLE "${role}" LOGIN`);
      await harness.run(`GRANT USAGE ON SCHEMA public TO "${role}"`);
      await harness.run(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${role}"`);
      const url = new URL(harness.url!);
      url.username = role;
      const reader = createSqlConnector({ dialect: 'postgres', url: url.toString(), readOnly: true });
      const writer = createSqlConnector({ dialect: 'postgres', url: url.toString() });
      try {
        await reader.check();
        const deals = findObject(await reader.describe(), 'deals')!;
        expect(findField(deals, 'stage')?.options).toEqual([{ value: 'open' }, { value: 'won' }]);
        expect(deals.count).toBe(2);
        const page = await reader.read('deals', { modifiedSince: '2024-01-15T00:00:00.000Z' });
        expect(page.records.map((record) => record.fields.title)).toEqual(['b']);
        expect(reader.capabilities().writable).toBe(false);
        expect(await reader.ensureExternalId!('deals')).toBeUndefined();
        await expect(reader.create('deals', [{ ref: 'x', fields: { title: 'c' } }])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
        const [denied] = await writer.create('deals', [{ ref: 'x', fields: { title: 'c' } }]);
        expect(denied).toMatchObject({ ok: false, error: { code: 'WRITE_FAILED' } });
        await expect(writer.ensureExternalId!('deals')).rejects.toMatchObject({ code: 'WRITE_FAILED' });
      } finally {
        await reader.close();
        await writer.close();
      }
    } finally {
      await harness.drop();
      await admin.query(`DROP ROLE IF EXISTS "${role}"`);
      await admin.end();
    }
  });
});

describe('a MySQL user with a password', () => {
  it('gets AUTH_FAILED for a wrong password, without the password in the message', async () => {
    const admin = await mysql.createConnection(MYSQL_ADMIN_URL);
    const user = randomName('ferry_u');
    try {
      await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'right-password'`);
      const url = new URL(MYSQL_ADMIN_URL);
      url.username = user;
      url.password = 'Wr0ng-Pa55';
      const connector = createSqlConnector({ dialect: 'mysql', url: url.toString() });
      try {
        const error = (await connector.check().catch((failure: unknown) => failure)) as FerryError;
        expect(error.code).toBe('AUTH_FAILED');
        expect(error.message).not.toContain('Wr0ng-Pa55');
      } finally {
        await connector.close();
      }
    } finally {
      await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await admin.end();
    }
  });
});
