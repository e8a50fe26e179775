import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, CrmRecord, WriteResult } from '../core/connector.js';
import type { ErrorCode } from '../core/errors.js';
import { FIELD_TYPES, findObject, type FieldValue, type ObjectSchema } from '../core/schema.js';

/**
 * The behaviour every connector promises the engine, as one vitest suite. A connector's test file calls
 * `describeConnectorContract('name', setup)` once per backend; `setup` gives a fresh, writable object.
 *
 * Only the connector under test is exercised through the Connector interface; `modifyOutside` is the
 * one back door (a person editing in the CRM), used to place records at known modified times.
 */
export interface ContractFixture {
  connector: Connector;
  /** A writable object with a modified field. */
  object: string;
  /** Valid fields of a new record; different seeds give different values for unique fields. */
  makeFields(seed: number): Record<string, FieldValue>;
  /** One writable field and a new valid value for it (used by the update test). */
  updateField(seed: number): { field: string; value: FieldValue };
  /**
   * Records that must fail alone in a batch, built next to a valid record `valid` that is written first in
   * the same batch (so a unique-value conflict with it can be expressed). Each names the field and code.
   */
  badRecords(valid: Record<string, FieldValue>): { fields: Record<string, FieldValue>; field: string; code: ErrorCode }[];
  /** An id that no record has. */
  missingId: string;
  /** A second object with a reference field to `object`, for reference round-trips. */
  child?: { object: string; referenceField: string; makeFields(seed: number, parentId: string): Record<string, FieldValue> };
  /**
   * Changes records bypassing the connector, as a person editing in the CRM would, so their modified time
   * becomes `modifiedAt` (ISO UTC with ms).
   */
  modifyOutside(object: string, ids: string[], modifiedAt: string): Promise<void>;
  /** A read-only connection to the same data, when the connector has that mode. */
  readOnlyConnector?(): Promise<Connector>;
  teardown(): Promise<void>;
}

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function okIds(results: WriteResult[]): string[] {
  return results.map((result, index) => {
    if (!result.ok) throw new Error(`write ${index} failed: ${result.error.code} ${result.error.message}`);
    return result.id;
  });
}

async function readEverything(connector: Connector, object: string, options: { modifiedSince?: string; limit: number }): Promise<{ records: CrmRecord[]; pages: number }> {
  const records: CrmRecord[] = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await connector.read(object, { ...options, after });
    pages += 1;
    expect(page.records.length).toBeLessThanOrEqual(options.limit);
    records.push(...page.records);
    if (!page.next) return { records, pages };
    after = page.next;
    if (pages > 10_000) throw new Error('paging does not end');
  }
}

function occurrences(records: CrmRecord[], id: string): number {
  return records.filter((record) => record.id === id).length;
}

/** Checks a value against the value conventions of its declared type. */
function expectConvention(schema: ObjectSchema, name: string, value: FieldValue): void {
  const field = schema.fields.find((candidate) => candidate.name === name);
  if (!field || value === null) return;
  switch (field.type) {
    case 'datetime':
      expect(value, name).toMatch(ISO_UTC_MS);
      break;
    case 'date':
      expect(value, name).toMatch(DATE_ONLY);
      break;
    case 'integer':
    case 'number':
      expect(typeof value, name).toBe('number');
      break;
    case 'boolean':
      expect(typeof value, name).toBe('boolean');
      break;
    case 'reference':
      expect(typeof value, name).toBe('string');
      break;
    case 'reference-list':
      expect(Array.isArray(value), name).toBe(true);
      expect([...(value as string[])].sort(), name).toEqual(value);
      break;
    default:
      expect(typeof value, name).toBe('string');
  }
}

export function describeConnectorContract(name: string, setup: () => Promise<ContractFixture>): void {
  describe(`connector contract: ${name}`, () => {
    let fixture: ContractFixture;
    let connector: Connector;
    let schema: ObjectSchema;
    let seed = 0;
    const nextSeed = (): number => (seed += 1);

    async function createRecords(count: number): Promise<string[]> {
      const inputs = Array.from({ length: count }, () => {
        const current = nextSeed();
        return { ref: `ref-${current}`, fields: fixture.makeFields(current) };
      });
      return okIds(await connector.create(fixture.object, inputs));
    }

    beforeAll(async () => {
      fixture = await setup();
      connector = fixture.connector;
      await connector.check();
      const description = await connector.describe();
      const object = findObject(description, fixture.object);
      if (!object) throw new Error(`describe() does not list ${fixture.object}`);
      schema = object;
    });

    afterAll(async () => {
      await fixture?.connector.close();
      await fixture?.teardown();
    });

    it('describe lists the object with typed fields and its modified field', () => {
      expect(schema.fields.length).toBeGreaterThan(0);
      for (const field of schema.fields) expect(FIELD_TYPES).toContain(field.type);
      for (const fieldName of Object.keys(fixture.makeFields(0))) {
        expect(schema.fields.map((field) => field.name)).toContain(fieldName);
      }
      expect(schema.modifiedField).toBeDefined();
      expect(schema.fields.find((field) => field.name === schema.modifiedField)?.type).toBe('datetime');
    });

    it('create returns one result per input, in input order, with ids', async () => {
      const inputs = [1, 2, 3].map(() => {
        const current = nextSeed();
        return { ref: `ref-${current}`, fields: fixture.makeFields(current) };
      });
      const results = await connector.create(fixture.object, inputs);
      expect(results).toHaveLength(3);
      const ids = okIds(results);
      expect(new Set(ids).size).toBe(3);
      const records = await connector.readByIds(fixture.object, ids);
      for (const [index, id] of ids.entries()) {
        const record = records.find((candidate) => candidate.id === id);
        expect(record, `record ${index}`).toBeDefined();
        for (const [field, value] of Object.entries(inputs[index]!.fields)) expect(record!.fields[field], field).toEqual(value);
      }
    });

    it('readByIds returns what was written, in the value conventions, and leaves out missing ids', async () => {
      const current = nextSeed();
      const fields = fixture.makeFields(current);
      const [id] = okIds(await connector.create(fixture.object, [{ ref: 'one', fields }]));
      const records = await connector.readByIds(fixture.object, [id!, fixture.missingId]);
      expect(records.map((record) => record.id)).toEqual([id]);
      const record = records[0]!;
      expect(typeof record.id).toBe('string');
      expect(record.updatedAt).toMatch(ISO_UTC_MS);
      for (const [field, value] of Object.entries(fields)) expect(record.fields[field], field).toEqual(value);
      for (const [field, value] of Object.entries(record.fields)) expectConvention(schema, field, value);
    });

    it('a reference round-trips as the referenced record id string', async (context) => {
      if (!fixture.child) return context.skip();
      const [parentId] = await createRecords(1);
      const child = fixture.child;
      const [childId] = okIds(await connector.create(child.object, [{ ref: 'child', fields: child.makeFields(nextSeed(), parentId!) }]));
      const [record] = await connector.readByIds(child.object, [childId!]);
      expect(record?.fields[child.referenceField]).toBe(parentId);
    });

    it('paging with a small limit returns every record exactly once', async () => {
      const ids = await createRecords(7);
      const { records, pages } = await readEverything(connector, fixture.object, { limit: 3 });
      expect(pages).toBeGreaterThan(2);
      for (const id of ids) expect(occurrences(records, id), id).toBe(1);
      expect(new Set(records.map((record) => record.id)).size).toBe(records.length);
      if (connector.capabilities().orderedByModified) {
        const times = records.map((record) => (record.updatedAt === null ? -Infinity : Date.parse(record.updatedAt)));
        for (let index = 1; index < times.length; index += 1) expect(times[index]!).toBeGreaterThanOrEqual(times[index - 1]!);
      }
    });

    it('modifiedSince is an inclusive bound', async () => {
      const [early, exact, late] = await createRecords(3);
      await fixture.modifyOutside(fixture.object, [early!], '2092-01-01T00:00:00.000Z');
      await fixture.modifyOutside(fixture.object, [exact!], '2092-01-01T00:00:01.000Z');
      await fixture.modifyOutside(fixture.object, [late!], '2092-01-01T00:00:02.000Z');
      const [exactRecord] = await connector.readByIds(fixture.object, [exact!]);
      expect(exactRecord?.updatedAt).toBe('2092-01-01T00:00:01.000Z');
      const { records } = await readEverything(connector, fixture.object, { modifiedSince: exactRecord!.updatedAt!, limit: 100 });
      const ids = records.map((record) => record.id);
      expect(ids).toContain(exact);
      expect(ids).toContain(late);
      expect(ids).not.toContain(early);
      for (const record of records) expect(Date.parse(record.updatedAt!)).toBeGreaterThanOrEqual(Date.parse('2092-01-01T00:00:01.000Z'));
    });

    it('a page boundary inside a run of identical modified times loses and repeats nothing', async () => {
      const ids = await createRecords(8);
      await fixture.modifyOutside(fixture.object, ids, '2091-06-01T12:00:00.000Z');
      const { records, pages } = await readEverything(connector, fixture.object, { modifiedSince: '2091-06-01T12:00:00.000Z', limit: 3 });
      expect(pages).toBeGreaterThanOrEqual(3);
      for (const id of ids) expect(occurrences(records, id), id).toBe(1);
      const tied = records.filter((record) => record.updatedAt === '2091-06-01T12:00:00.000Z');
      expect(tied.map((record) => record.id).sort()).toEqual([...ids].sort());
    });

    it('a record modified while paging is not lost and appears again later', async () => {
      const ids = await createRecords(6);
      for (const [index, id] of ids.entries()) {
        await fixture.modifyOutside(fixture.object, [id], new Date(Date.parse('2093-01-01T00:00:00.000Z') + index * 1000).toISOString());
      }
      const since = '2093-01-01T00:00:00.000Z';
      const first = await connector.read(fixture.object, { modifiedSince: since, limit: 2 });
      expect(first.records.map((record) => record.id)).toEqual(ids.slice(0, 2));
      // Someone edits an already-read record: it moves behind the cursor.
      await fixture.modifyOutside(fixture.object, [ids[0]!], '2093-01-01T01:00:00.000Z');
      const seen = [...first.records];
      let after = first.next;
      while (after) {
        const page = await connector.read(fixture.object, { modifiedSince: since, limit: 2, after });
        seen.push(...page.records);
        after = page.next;
      }
      for (const id of ids.slice(1)) expect(occurrences(seen, id), id).toBe(1);
      expect(occurrences(seen, ids[0]!)).toBe(2);
      expect(seen[seen.length - 1]?.id).toBe(ids[0]);
      expect(seen[seen.length - 1]?.updatedAt).toBe('2093-01-01T01:00:00.000Z');
    });

    it('anyOrder: every record at least once, also one modified while paging, and the modified bound holds', async () => {
      const ids = await createRecords(6);
      for (const [index, id] of ids.entries()) {
        await fixture.modifyOutside(fixture.object, [id], new Date(Date.parse('2094-01-01T00:00:00.000Z') + index * 1000).toISOString());
      }
      const since = '2094-01-01T00:00:00.000Z';
      const first = await connector.read(fixture.object, { modifiedSince: since, limit: 2, anyOrder: true });
      await fixture.modifyOutside(fixture.object, [first.records[0]!.id], '2094-01-01T01:00:00.000Z');
      const seen = [...first.records];
      let after = first.next;
      while (after) {
        const page = await connector.read(fixture.object, { modifiedSince: since, limit: 2, after, anyOrder: true });
        seen.push(...page.records);
        after = page.next;
      }
      for (const id of ids) expect(occurrences(seen, id), id).toBeGreaterThanOrEqual(1);
      for (const record of seen) expect(Date.parse(record.updatedAt!)).toBeGreaterThanOrEqual(Date.parse(since));
    });

    it('update changes only the given fields', async () => {
      const [id] = await createRecords(1);
      const [before] = await connector.readByIds(fixture.object, [id!]);
      const change = fixture.updateField(nextSeed());
      const results = await connector.update(fixture.object, [{ id: id!, fields: { [change.field]: change.value } }]);
      expect(results).toEqual([{ ok: true, id }]);
      const [after] = await connector.readByIds(fixture.object, [id!]);
      expect(after!.fields[change.field]).toEqual(change.value);
      expect(Date.parse(after!.updatedAt!)).toBeGreaterThanOrEqual(Date.parse(before!.updatedAt!));
      const untouched = schema.fields.filter((field) => field.name !== change.field && field.name !== schema.modifiedField && !field.readOnly);
      for (const field of untouched) expect(after!.fields[field.name], field.name).toEqual(before!.fields[field.name]);
    });

    it('a bad record in a batch fails alone, naming code, field and value', async () => {
      const valid = fixture.makeFields(nextSeed());
      for (const bad of fixture.badRecords(valid)) {
        const other = fixture.makeFields(nextSeed());
        const results = await connector.create(fixture.object, [
          { ref: 'valid', fields: valid },
          { ref: 'bad', fields: bad.fields },
          { ref: 'other', fields: other },
        ]);
        expect(results, bad.code).toHaveLength(3);
        expect(results[0]?.ok, `${bad.code}: first record`).toBe(true);
        expect(results[2]?.ok, `${bad.code}: last record`).toBe(true);
        const failed = results[1]!;
        expect(failed.ok, bad.code).toBe(false);
        if (failed.ok) continue;
        expect(failed.error.code).toBe(bad.code);
        expect(failed.error.field).toBe(bad.field);
        expect(failed.error.value).toEqual(bad.fields[bad.field] ?? null);
        expect(failed.error.message).toBeTruthy();
        const written = await connector.readByIds(fixture.object, [results[0]!.ok ? results[0]!.id : '', results[2]!.ok ? results[2]!.id : '']);
        expect(written).toHaveLength(2);
        // The valid record is deleted again so the next bad record can conflict with it afresh.
        okIds(await connector.delete(fixture.object, written.map((record) => record.id)));
      }
    });

    it('update and delete of a missing id give NOT_FOUND, alone', async () => {
      const [id] = await createRecords(1);
      const change = fixture.updateField(nextSeed());
      const updates = await connector.update(fixture.object, [
        { id: fixture.missingId, fields: { [change.field]: change.value } },
        { id: id!, fields: { [change.field]: change.value } },
      ]);
      expect(updates[0]).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      expect(updates[1]).toEqual({ ok: true, id });
      const deletes = await connector.delete(fixture.object, [fixture.missingId]);
      expect(deletes[0]).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    });

    it('delete removes the records', async () => {
      const ids = await createRecords(2);
      const results = await connector.delete(fixture.object, ids);
      expect(results).toEqual(ids.map((id) => ({ ok: true, id })));
      expect(await connector.readByIds(fixture.object, ids)).toEqual([]);
    });

    it('external ids round-trip: stamped on create, found by findByExternalIds', async (context) => {
      if (!connector.capabilities().externalId || !connector.ensureExternalId || !connector.findByExternalIds) return context.skip();
      const field = await connector.ensureExternalId(fixture.object);
      expect(field).toBeTruthy();
      const stamp = `contract-${Date.now().toString(36)}`;
      const inputs = [1, 2].map((index) => ({ ref: `r${index}`, externalId: `${stamp}-${index}`, fields: fixture.makeFields(nextSeed()) }));
      const ids = okIds(await connector.create(fixture.object, inputs));
      const found = await connector.findByExternalIds(fixture.object, [`${stamp}-1`, `${stamp}-2`, `${stamp}-missing`]);
      expect(found.get(`${stamp}-1`)).toBe(ids[0]);
      expect(found.get(`${stamp}-2`)).toBe(ids[1]);
      expect(found.has(`${stamp}-missing`)).toBe(false);
      // Calling it again is harmless and gives the same field.
      expect(await connector.ensureExternalId(fixture.object)).toBe(field);
    });

    it('a read-only connector refuses writes', async (context) => {
      if (!fixture.readOnlyConnector) return context.skip();
      const readOnly = await fixture.readOnlyConnector();
      try {
        expect(readOnly.capabilities().writable).toBe(false);
        const [id] = await createRecords(1);
        const [before] = await readOnly.readByIds(fixture.object, [id!]);
        expect(before?.id).toBe(id);
        const change = fixture.updateField(nextSeed());
        const attempts = [
          () => readOnly.create(fixture.object, [{ ref: 'x', fields: fixture.makeFields(nextSeed()) }]),
          () => readOnly.update(fixture.object, [{ id: id!, fields: { [change.field]: change.value } }]),
          () => readOnly.delete(fixture.object, [id!]),
        ];
        for (const attempt of attempts) {
          const outcome = await attempt().then(
            (results) => results.every((result) => !result.ok),
            () => true,
          );
          expect(outcome).toBe(true);
        }
        const [after] = await connector.readByIds(fixture.object, [id!]);
        expect(after).toEqual(before);
      } finally {
        await readOnly.close();
      }
    });
  });
}
