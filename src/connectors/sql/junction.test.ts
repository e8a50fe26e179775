import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, CrmRecord, ReadOptions } from '../../core/connector.js';
import { findField, findObject, type SchemaDescription } from '../../core/schema.js';
import { openSqlHarness, runStatements, type SqlDialectName, type SqlHarness } from '../../../test/support/sql-harness.js';
import { createSqlConnector } from './index.js';
import { decodeJunctionId, encodeJunctionId } from './junction-id.js';

/** Key values that would break a naive `a|b` or `a:b` id: separators, escapes of separators, escapes of escapes, empty. */
const AWKWARD = ['a|b', '100%', 'x%7Cy', '%25', '|', '', 'plain', 'ünï cødé', '%', 'a:b,c'];

describe('junction ids', () => {
  it('round-trip any two values, and different pairs never share an id', () => {
    const ids = new Map<string, [string, string]>();
    for (const first of AWKWARD) {
      for (const second of AWKWARD) {
        const id = encodeJunctionId([first, second]);
        expect(decodeJunctionId(id)).toEqual([first, second]);
        expect(ids.get(id) ?? [first, second]).toEqual([first, second]);
        ids.set(id, [first, second]);
      }
    }
    expect(ids.size).toBe(AWKWARD.length ** 2);
    expect(encodeJunctionId(['12', '34'])).toBe('12|34');
    expect(encodeJunctionId(['a|b', 'c%'])).toBe('a%7Cb|c%25');
  });

  it('refuse texts no pair encodes to', () => {
    for (const text of ['12', 'a|b|c', 'a%7c|b', 'a%zz|b', '%|x', '%2|x']) expect(decodeJunctionId(text), text).toBeUndefined();
  });
});

const SCHEMA: Record<SqlDialectName, string> = {
  sqlite: `
    CREATE TABLE deals (id INTEGER PRIMARY KEY, title TEXT NOT NULL, updated_at TEXT);
    CREATE TABLE contacts (code VARCHAR(40) PRIMARY KEY, name TEXT);
    CREATE TABLE deal_contacts (deal_id INTEGER NOT NULL REFERENCES deals(id), contact_code VARCHAR(40) NOT NULL REFERENCES contacts(code),
      role VARCHAR(40), PRIMARY KEY (deal_id, contact_code));
    CREATE TABLE deal_watchers (deal_id INTEGER NOT NULL REFERENCES deals(id), contact_code VARCHAR(40) NOT NULL REFERENCES contacts(code),
      updated_at TEXT, PRIMARY KEY (deal_id, contact_code));
    CREATE TABLE loose_links (deal_id INTEGER REFERENCES deals(id), contact_code VARCHAR(40) REFERENCES contacts(code))`,
  postgres: `
    CREATE TABLE deals (id integer PRIMARY KEY, title text NOT NULL, updated_at timestamptz);
    CREATE TABLE contacts (code varchar(40) PRIMARY KEY, name text);
    CREATE TABLE deal_contacts (deal_id integer NOT NULL REFERENCES deals(id), contact_code varchar(40) NOT NULL REFERENCES contacts(code),
      role varchar(40), PRIMARY KEY (deal_id, contact_code));
    CREATE TABLE deal_watchers (deal_id integer NOT NULL REFERENCES deals(id), contact_code varchar(40) NOT NULL REFERENCES contacts(code),
      updated_at timestamptz, PRIMARY KEY (deal_id, contact_code));
    CREATE TABLE loose_links (deal_id integer REFERENCES deals(id), contact_code varchar(40) REFERENCES contacts(code))`,
  mysql: `
    CREATE TABLE deals (id int PRIMARY KEY, title varchar(200) NOT NULL, updated_at datetime(3));
    CREATE TABLE contacts (code varchar(40) PRIMARY KEY, name varchar(200));
    CREATE TABLE deal_contacts (deal_id int NOT NULL, contact_code varchar(40) NOT NULL, role varchar(40), PRIMARY KEY (deal_id, contact_code),
      FOREIGN KEY (deal_id) REFERENCES deals(id), FOREIGN KEY (contact_code) REFERENCES contacts(code));
    CREATE TABLE deal_watchers (deal_id int NOT NULL, contact_code varchar(40) NOT NULL, updated_at datetime(3), PRIMARY KEY (deal_id, contact_code),
      FOREIGN KEY (deal_id) REFERENCES deals(id), FOREIGN KEY (contact_code) REFERENCES contacts(code));
    CREATE TABLE loose_links (deal_id int, contact_code varchar(40),
      FOREIGN KEY (deal_id) REFERENCES deals(id), FOREIGN KEY (contact_code) REFERENCES contacts(code))`,
};

const DEALS = [2, 10, 33];

for (const dialect of ['sqlite', 'postgres', 'mysql'] as const) {
  describe(`junction objects (${dialect})`, () => {
    let harness: SqlHarness;
    /** Default settings: deal_contacts (it has a role) is an object, the pure join tables are reference lists. */
    let plain: Connector;
    /** `joinTables: { deal_watchers: { object: true }, loose_links: { object: true } }`. */
    let asked: Connector;
    let plainSchema: SchemaDescription;
    let askedSchema: SchemaDescription;

    beforeAll(async () => {
      harness = await openSqlHarness(dialect);
      await runStatements(harness, SCHEMA[dialect]);
      plain = createSqlConnector(harness.config);
      asked = createSqlConnector({ ...harness.config, joinTables: { deal_watchers: { object: true }, loose_links: { object: true } } });
      for (const id of DEALS) await harness.run(`INSERT INTO deals (id, title) VALUES (${id}, 'Deal ${id}')`);
      const created = await plain.create('contacts', AWKWARD.map((code) => ({ ref: code, fields: { code, name: `Contact ${code}` } })));
      expect(created.every((result) => result.ok)).toBe(true);
      plainSchema = await plain.describe();
      askedSchema = await asked.describe();
    });

    afterAll(async () => {
      await plain?.close();
      await asked?.close();
      await harness?.drop();
    });

    it('a table keyed by two foreign keys is a junction object: both keys required references, its other columns fields', () => {
      const object = findObject(plainSchema, 'deal_contacts')!;
      expect(object).toMatchObject({ junction: { fields: ['deal_id', 'contact_code'] } });
      expect(object.modifiedField).toBeUndefined();
      expect(findField(object, 'deal_id')).toMatchObject({ type: 'reference', reference: { object: 'deals' }, required: true });
      expect(findField(object, 'contact_code')).toMatchObject({ type: 'reference', reference: { object: 'contacts' }, required: true });
      expect(findField(object, 'deal_id')?.readOnly).toBeUndefined();
      expect(findField(object, 'role')?.type).toBe('string');
    });

    it('a pure join table stays a reference list, and is an object as well only when the settings ask', () => {
      expect(findObject(plainSchema, 'deal_watchers')).toBeUndefined();
      expect(findObject(plainSchema, 'loose_links')).toBeUndefined();
      for (const schema of [plainSchema, askedSchema]) {
        const deals = findObject(schema, 'deals')!;
        expect(findField(deals, 'contacts')).toMatchObject({ type: 'reference-list', reference: { object: 'contacts' } });
        expect(findField(deals, 'loose_links')).toMatchObject({ type: 'reference-list', reference: { object: 'contacts' } });
      }
      expect(findObject(askedSchema, 'deal_watchers')).toMatchObject({ junction: { fields: ['deal_id', 'contact_code'] }, modifiedField: 'updated_at' });
      expect(findObject(askedSchema, 'loose_links')).toMatchObject({ junction: { fields: ['deal_id', 'contact_code'] } });
    });

    it('`joinTables.<table>: false` makes a join table keyed by its two foreign keys a junction object instead of a list', async () => {
      const off = createSqlConnector({ ...harness.config, joinTables: { deal_watchers: false } });
      try {
        const schema = await off.describe();
        expect(findObject(schema, 'deal_watchers')).toMatchObject({ junction: { fields: ['deal_id', 'contact_code'] } });
        // Only the other join table (loose_links) is a list now, under the other side's name, which is free again.
        expect(findObject(schema, 'deals')!.fields.filter((field) => field.type === 'reference-list').map((field) => field.name)).toEqual(['contacts']);
        expect(findObject(plainSchema, 'deals')!.fields.filter((field) => field.type === 'reference-list').map((field) => field.name)).toEqual(['contacts', 'loose_links']);
      } finally {
        await off.close();
      }
    });

    it('as a target: creates return the id made from the two keys, which reads back the row, for any key values', async () => {
      const inputs = DEALS.flatMap((deal) => AWKWARD.map((code) => ({ ref: `${deal}/${code}`, fields: { deal_id: String(deal), contact_code: code, role: `role of ${code}` } })));
      const results = await plain.create('deal_contacts', inputs);
      expect(results).toEqual(inputs.map((input) => ({ ok: true, id: encodeJunctionId([String(input.fields.deal_id), String(input.fields.contact_code)]) })));
      const ids = results.map((result) => (result.ok ? result.id : ''));
      const read = await plain.readByIds('deal_contacts', [...ids].reverse());
      expect(read.map((record) => record.id)).toEqual([...ids].reverse());
      for (const [index, record] of read.entries()) {
        const input = inputs[inputs.length - 1 - index]!;
        expect(record.fields).toEqual({ deal_id: input.fields.deal_id, contact_code: input.fields.contact_code, role: input.fields.role });
        expect(record.updatedAt).toBeNull();
      }
      expect(await harness.rows('SELECT deal_id FROM deal_contacts')).toHaveLength(inputs.length);
      // Texts that are not ids of this object find nothing (no error): a different spelling of a key, another shape.
      expect(await plain.readByIds('deal_contacts', ['002|plain', '2', '2|plain|x', 'x|plain', '2|a%7cb'])).toEqual([]);
      // A second row for the same two records, and a row to a missing contact, are the database's to refuse: each fails alone.
      const [again, dangling] = await plain.create('deal_contacts', [
        { ref: 'again', fields: { deal_id: '2', contact_code: 'plain', role: 'twice' } },
        { ref: 'dangling', fields: { deal_id: '2', contact_code: 'nobody', role: 'x' } },
      ]);
      expect(again).toMatchObject({ ok: false, error: { code: 'UNIQUE_VIOLATION' } });
      expect(dangling).toMatchObject({ ok: false, error: { code: 'REFERENCE_MISSING' } });
      // A row needs both of its keys.
      const [half] = await plain.create('deal_contacts', [{ ref: 'half', fields: { deal_id: '2', role: 'x' } }]);
      expect(half).toMatchObject({ ok: false, error: { code: 'REQUIRED_MISSING', field: 'contact_code' } });
    });

    it('pages with a keyset over the two key columns: every row once, in key order, also in any order and by id range', async () => {
      const all = await collect(plain, 'deal_contacts', { limit: 4 });
      const ids = all.map((record) => record.id);
      expect(new Set(ids).size).toBe(DEALS.length * AWKWARD.length);
      expect(ids).toHaveLength(DEALS.length * AWKWARD.length);
      // Integer keys compare as integers: 2, 10, 33 (not 10, 2, 33).
      const dealOrder = all.map((record) => Number(record.fields.deal_id));
      expect(dealOrder).toEqual([...dealOrder].sort((a, b) => a - b));
      // The same order a page at a time as in one read, and the same for anyOrder reads.
      expect((await plain.read('deal_contacts', { limit: 1000 })).records.map((record) => record.id)).toEqual(ids);
      expect((await collect(plain, 'deal_contacts', { limit: 3, anyOrder: true, fields: [] })).map((record) => record.id)).toEqual(ids);
      // Bounds of a queued run's part are ids of the read: after (exclusive) and until (inclusive).
      const part = await collect(plain, 'deal_contacts', { limit: 2, anyOrder: true, idRange: { after: ids[7]!, until: ids[19]! } });
      expect(part.map((record) => record.id)).toEqual(ids.slice(8, 20));
    });

    it('an update writes the other columns; the keys may be sent again unchanged, never changed', async () => {
      const id = encodeJunctionId(['10', 'a|b']);
      expect(await plain.update('deal_contacts', [{ id, fields: { role: 'Decision Maker', deal_id: '10', contact_code: 'a|b' } }])).toEqual([{ ok: true, id }]);
      expect((await plain.readByIds('deal_contacts', [id]))[0]?.fields.role).toBe('Decision Maker');
      const [moved] = await plain.update('deal_contacts', [{ id, fields: { contact_code: 'plain' } }]);
      expect(moved).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE', field: 'contact_code', value: 'plain' } });
      expect(moved!.ok ? '' : moved!.error.message).toContain(id);
      expect(await plain.update('deal_contacts', [{ id: encodeJunctionId(['10', 'nobody']), fields: { role: 'x' } }])).toMatchObject([{ ok: false, error: { code: 'NOT_FOUND' } }]);
      const gone = encodeJunctionId(['33', '%25']);
      expect(await plain.delete('deal_contacts', [gone])).toEqual([{ ok: true, id: gone }]);
      expect(await plain.readByIds('deal_contacts', [gone])).toEqual([]);
      expect(await plain.delete('deal_contacts', [gone])).toMatchObject([{ ok: false, error: { code: 'NOT_FOUND' } }]);
    });

    it('a join table asked for as an object: modified window and keyset over (modified, keys), external ids, and the reference list still works', async () => {
      const column = await asked.ensureExternalId!('deal_watchers');
      expect(column).toBe('ferry_source_id');
      const schema = await asked.describe();
      // The external-id column keeps it a join table: the owner's reference list is still there.
      expect(findField(findObject(schema, 'deals')!, 'contacts')).toMatchObject({ type: 'reference-list' });
      expect(findObject(schema, 'deal_watchers')).toMatchObject({ externalIdField: 'ferry_source_id', junction: { fields: ['deal_id', 'contact_code'] } });
      const inputs = AWKWARD.map((code, index) => ({ ref: `w${index}`, externalId: `src-${index}`, fields: { deal_id: '2', contact_code: code } }));
      const results = await asked.create('deal_watchers', inputs);
      expect(results.every((result) => result.ok)).toBe(true);
      const found = await asked.findByExternalIds!('deal_watchers', ['src-0', 'src-3', 'nope']);
      expect(Object.fromEntries(found)).toEqual({ 'src-0': encodeJunctionId(['2', AWKWARD[0]!]), 'src-3': encodeJunctionId(['2', AWKWARD[3]!]) });
      // Rows created in one write share one modified time: pages of 3 through the tie read each row once.
      const watchers = await collect(asked, 'deal_watchers', { limit: 3, modifiedSince: '2000-01-01T00:00:00.000Z' });
      expect(watchers.map((record) => record.id).sort()).toEqual(results.map((result) => (result.ok ? result.id : '')).sort());
      expect(watchers.every((record) => record.updatedAt !== null)).toBe(true);
      expect(await collect(asked, 'deal_watchers', { modifiedSince: '2999-01-01T00:00:00.000Z' })).toEqual([]);
      // The owner's reference list reads the same rows.
      const [deal] = await asked.readByIds('deals', ['2'], ['contacts']);
      expect(deal?.fields.contacts).toEqual([...AWKWARD].sort());
    });

    it('a join table without a primary key: equal rows are one record, rows missing a key are none', async () => {
      await harness.run(`INSERT INTO loose_links (deal_id, contact_code) VALUES (2, 'plain'), (2, 'plain'), (10, 'plain'), (2, NULL), (NULL, 'plain')`);
      const records = await collect(asked, 'loose_links', { limit: 1 });
      expect(records.map((record) => record.id)).toEqual([encodeJunctionId(['2', 'plain']), encodeJunctionId(['10', 'plain'])]);
      expect((await asked.readByIds('loose_links', [encodeJunctionId(['2', 'plain'])])).map((record) => record.id)).toEqual([encodeJunctionId(['2', 'plain'])]);
    });
  });
}

/**
 * Every page of a read, each from a query of its own: a read of another object between two pages drops the
 * rows the connector read ahead, so every page after the first starts from its cursor (the keyset under test).
 */
async function collect(connector: Connector, object: string, options: ReadOptions): Promise<CrmRecord[]> {
  const records: CrmRecord[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await connector.read(object, { ...options, ...(after ? { after } : {}) });
    records.push(...page.records);
    if (!page.next) return records;
    after = page.next;
    await connector.read('deals', { limit: 1 });
  }
  throw new Error('the read did not end');
}
