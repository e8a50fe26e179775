import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEDGER_BACKENDS } from '../../test/support/databases.js';
import { Ledger, redactUrl, type FileLink, type Link } from './ledger.js';

const BACKENDS = LEDGER_BACKENDS;

const link = (sourceId: string, patch: Partial<Link> = {}): Link => ({
  object: 'contacts',
  sourceId,
  targetId: `t${sourceId}`,
  state: 'linked',
  origin: 'created',
  fingerprint: 'f',
  written: { email: 'a@b.co' },
  runId: 1,
  updatedRunId: null,
  leaderSourceId: null,
  ...patch,
});

for (const backend of BACKENDS) {
  describe(`ledger on ${backend.name}`, () => {
    let location: string;
    let cleanup: () => Promise<void>;
    let ledger: Ledger;

    beforeEach(async () => {
      ({ location, cleanup } = await backend.open());
      ledger = await Ledger.open(location);
    });
    afterEach(async () => {
      await ledger.close();
      await cleanup();
    });

    it('keeps file links per source file version: pending intent, then the target file; listed per run; deleted', async () => {
      const intent: FileLink = {
        object: 'notes',
        sourceRecordId: '7',
        sourceFileId: 'f1',
        version: 'size:10',
        name: 'a.pdf',
        stamp: 'ferry-1',
        targetRecordId: 't7',
        targetFileId: null,
        state: 'pending',
        bytes: 10,
        sha256: null,
        runId: 3,
      };
      await ledger.putFileLinks([intent, { ...intent, sourceFileId: 'f2', stamp: 'ferry-2', runId: 4 }]);
      await ledger.putFileLinks([{ ...intent, targetFileId: '900', state: 'uploaded', bytes: 3_000_000_000, sha256: 'ab' }]);
      // A changed file is another version of the same source file: a row of its own.
      await ledger.putFileLinks([{ ...intent, version: 'size:11', stamp: 'ferry-3' }]);
      const links = await ledger.getFileLinks('notes', ['7', '8']);
      expect(links.map((entry) => [entry.sourceFileId, entry.version, entry.state, entry.targetFileId]).sort()).toEqual([
        ['f1', 'size:10', 'uploaded', '900'],
        ['f1', 'size:11', 'pending', null],
        ['f2', 'size:10', 'pending', null],
      ]);
      expect(links.find((entry) => entry.state === 'uploaded')).toMatchObject({ bytes: 3_000_000_000, sha256: 'ab' });
      expect((await ledger.fileLinksOfRun(3, 'notes')).map((entry) => entry.stamp).sort()).toEqual(['ferry-1', 'ferry-3']);
      await ledger.deleteFileLinks(await ledger.fileLinksOfRun(3, 'notes'));
      expect((await ledger.getFileLinks('notes', ['7'])).map((entry) => entry.stamp)).toEqual(['ferry-2']);
    });

    it('pages through every file link of an object in key order, each once (verify)', async () => {
      const base: FileLink = { object: 'notes', sourceRecordId: '', sourceFileId: '', version: 'size:1', name: 'x', stamp: 's', targetRecordId: 't', targetFileId: '1', state: 'attached', bytes: 1, sha256: null, runId: 1 };
      const all: FileLink[] = [];
      for (const record of ['1', '10', '2']) for (const file of ['a', 'b']) for (const version of ['size:1', 'size:2']) all.push({ ...base, sourceRecordId: record, sourceFileId: file, version, stamp: `${record}${file}${version}` });
      await ledger.putFileLinks([...all, { ...base, object: 'calls', sourceRecordId: '1', sourceFileId: 'a', stamp: 'other' }]);
      const seen: string[] = [];
      let after: FileLink | undefined;
      for (;;) {
        const page = await ledger.fileLinksPage('notes', after, 5);
        if (page.length === 0) break;
        seen.push(...page.map((link) => link.stamp));
        after = page.at(-1);
      }
      expect(seen).toEqual(all.map((link) => link.stamp));
    });

    it('migrates once and opens again without losing data', async () => {
      const run = await ledger.createRun({ kind: 'full', creates: true, updates: true, highWaterMark: '2026-01-01T00:00:00.000Z' });
      await ledger.close();
      ledger = await Ledger.open(location);
      expect((await ledger.getRun(run.id))?.highWaterMark).toBe('2026-01-01T00:00:00.000Z');
    });

    it('stores, upserts and reads links by source and by target id', async () => {
      await ledger.putLinks([link('1'), link('2', { origin: 'matched' })]);
      await ledger.putLinks([link('1', { fingerprint: 'g', written: { email: 'x@y.co' } })]);
      const links = await ledger.getLinks('contacts', ['1', '2', '3']);
      expect(links.size).toBe(2);
      expect(links.get('1')).toMatchObject({ fingerprint: 'g', written: { email: 'x@y.co' } });
      expect((await ledger.linksByTarget('contacts', ['t2']))[0]?.sourceId).toBe('2');
      expect(await ledger.countLinks('contacts', ['matched'])).toBe(1);
      const pages: string[][] = [];
      for await (const page of ledger.iterateLinks('contacts', {}, 1)) pages.push(page.map((l) => l.sourceId));
      expect(pages).toEqual([['1'], ['2']]);
    });

    it('reads where linked records went, without what was written to them', async () => {
      await ledger.putLinks([link('1'), link('2', { state: 'pending', targetId: null })]);
      const targets = await ledger.getLinkTargets('contacts', ['1', '2', '3', '1']);
      expect([...targets.values()]).toEqual([
        { sourceId: '1', targetId: 't1', state: 'linked' },
        { sourceId: '2', targetId: null, state: 'pending' },
      ]);
    });

    it('writes a batch in the open transaction: all of it or nothing', async () => {
      await expect(
        ledger.transaction(async (store) => {
          await store.putLinks([link('7'), link('8')]);
          await store.addJournal([
            { runId: 1, object: 'contacts', sourceId: '7', targetObject: 'contacts', targetId: 't7', action: 'create', before: null, after: { a: 1 }, linkBefore: null },
          ]);
          await store.addFailures([{ runId: 1, object: 'contacts', sourceId: '9', code: 'INVALID_VALUE', field: null, value: null, message: 'bad' }]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await ledger.getLinks('contacts', ['7', '8'])).size).toBe(0);
      expect(await ledger.journalObjects(1)).toEqual([]);
      expect(await ledger.listFailures()).toEqual([]);
    });

    it("reads a page's links, match issues and its duplicates' leaders together, and link targets of several objects", async () => {
      await ledger.putLinks([link('1'), link('10'), link('11'), link('5', { object: 'companies', targetId: 'c5' }), link('6', { object: 'companies', targetId: null, state: 'pending' })]);
      await ledger.putMatchIssues([
        { object: 'contacts', sourceId: '3', kind: 'duplicate', key: 'a@b.co', candidates: ['10'], runId: 1 },
        { object: 'contacts', sourceId: '4', kind: 'duplicate', key: 'a@b.co', candidates: ['1'], runId: 1 },
        { object: 'contacts', sourceId: '12', kind: 'ambiguous', key: 'x@b.co', candidates: ['t1', 't2'], runId: 1 },
      ]);
      const page = await ledger.getPageLinks('contacts', ['1', '3', '4', '12', '2'], true);
      expect([...page.links.keys()].sort()).toEqual(['1', '10']);
      expect(page.links.get('10')).toEqual(link('10'));
      expect([...page.issues.keys()].sort()).toEqual(['12', '3', '4']);
      expect(page.issues.get('12')?.candidates).toEqual(['t1', 't2']);
      expect([...(await ledger.getPageLinks('contacts', ['1', '3'], false)).links.keys()]).toEqual(['1']);
      const targets = await ledger.getLinkTargetsOf([
        ['contacts', ['1', '2', '11']],
        ['companies', ['5', '6', '7']],
        ['owners', []],
      ]);
      expect([...targets.keys()]).toEqual(['contacts', 'companies', 'owners']);
      expect(Object.fromEntries(targets.get('contacts')!)).toEqual({ '1': { sourceId: '1', targetId: 't1', state: 'linked' }, '11': { sourceId: '11', targetId: 't11', state: 'linked' } });
      expect(Object.fromEntries(targets.get('companies')!)).toEqual({ '5': { sourceId: '5', targetId: 'c5', state: 'linked' }, '6': { sourceId: '6', targetId: null, state: 'pending' } });
      expect(targets.get('owners')!.size).toBe(0);
    });

    it('writes a writes-only transaction (one statement on PostgreSQL) all or nothing, failures recorded once, larger ones too', async () => {
      const run = await ledger.createRun({ kind: 'full' });
      const failure = (sourceId: string, value: string | null) => ({ runId: run.id, object: 'deals', sourceId, code: 'INVALID_VALUE', field: value === null ? null : 'amount', value, message: 'bad' });
      await ledger.addFailures([failure('1', '"x"')]);
      const intent = await ledger.addCreateIntent(run.id, 'contacts', ['7', '8']);
      await ledger.transaction(
        async (store) => {
          await store.putLinks([link('7'), link('8'), link('7', { targetId: 't77' })]);
          await store.addJournal([{ runId: run.id, object: 'contacts', sourceId: '7', targetObject: 'contacts', targetId: 't77', action: 'create', before: null, after: { a: 1 }, linkBefore: null }]);
          // One recorded before, one twice in the batch, one without field and value: each once.
          await store.addFailures([failure('1', '"x"'), failure('2', null), failure('2', null), failure('3', '"y"')]);
          await store.resolveFailures('deals', ['1', '1'], run.id + 1);
          await store.addDeferredReferences([{ runId: run.id, object: 'contacts', sourceId: '7', field: 'company_id', value: '5' }]);
          await store.deleteCreateIntents([intent]);
          await store.putUnit({ runId: run.id, phase: 'write', object: 'contacts', seq: 0, cursor: null, nextCursor: 'n', done: true, counts: {} });
          await store.updateRun(run.id, { counts: { contacts: { read: 2 } as never } });
        },
        { writesOnly: true },
      );
      expect((await ledger.getLink('contacts', '7'))?.targetId).toBe('t77');
      expect((await ledger.getLink('contacts', '8'))?.targetId).toBe('t8');
      expect(await ledger.journalObjects(run.id)).toEqual(['contacts']);
      expect((await ledger.listFailures({ object: 'deals' })).map((each) => [each.sourceId, each.value, each.resolvedByRunId])).toEqual([
        ['1', '"x"', run.id + 1],
        ['2', null, null],
        ['3', '"y"', null],
      ]);
      expect(await ledger.createIntents('contacts')).toEqual([]);
      expect((await ledger.getUnits(run.id, 'write', 'contacts')).map((unit) => unit.nextCursor)).toEqual(['n']);
      expect((await ledger.getRun(run.id))?.counts).toEqual({ contacts: { read: 2 } });
      const deferred: unknown[] = [];
      for await (const page of ledger.iterateDeferredReferences(run.id, 'contacts')) deferred.push(...page);
      expect(deferred).toEqual([{ runId: run.id, object: 'contacts', sourceId: '7', field: 'company_id', value: '5' }]);

      // A statement the database refuses (a journal entry without its target object): none of it is written.
      await expect(
        ledger.transaction(
          async (store) => {
            await store.putLinks([link('9')]);
            await store.addFailures([failure('4', null)]);
            await store.addJournal([{ runId: run.id, object: 'contacts', sourceId: '9', targetObject: null as unknown as string, targetId: 't9', action: 'create', before: null, after: null, linkBefore: null }]);
          },
          { writesOnly: true },
        ),
      ).rejects.toThrow();
      expect(await ledger.getLink('contacts', '9')).toBeUndefined();
      expect((await ledger.listFailures({ object: 'deals' })).map((each) => each.sourceId)).toEqual(['1', '2', '3']);

      // More bound values than one PostgreSQL statement takes (7 statements of 10,000): still all of it.
      const many = Array.from({ length: 7000 }, (_, index) => link(`m${index}`));
      await ledger.transaction(async (store) => store.putLinks(many), { writesOnly: true });
      expect(await ledger.countLinks('contacts')).toBe(7002);
    });

    if (backend.name.toLowerCase().includes('postgres')) {
      it('refuses a read inside a writes-only transaction (PostgreSQL collects its statements, so a read would get no answer)', async () => {
        await expect(ledger.transaction(async (store) => store.getLinks('contacts', ['1']), { writesOnly: true })).rejects.toThrow('writes-only transaction cannot read');
        await expect(ledger.transaction(async (store) => store.addCreateIntent(1, 'contacts', ['1']), { writesOnly: true })).rejects.toThrow('writes-only transaction cannot read');
        await expect(ledger.transaction(async (store) => store.getPageLinks('contacts', ['1'], true), { writesOnly: true })).rejects.toThrow('writes-only transaction cannot read');
      });
    }

    it('keeps one create intent per batch until the transaction that writes its links deletes it, and not when that transaction fails', async () => {
      const first = await ledger.addCreateIntent(1, 'contacts', ['1', '2', '3']);
      const second = await ledger.addCreateIntent(1, 'contacts', ['4']);
      await ledger.addCreateIntent(1, 'companies', ['1']);
      expect(await ledger.createIntents('contacts')).toEqual([
        { id: first, runId: 1, object: 'contacts', sourceIds: ['1', '2', '3'] },
        { id: second, runId: 1, object: 'contacts', sourceIds: ['4'] },
      ]);
      await expect(
        ledger.transaction(async (store) => {
          await store.putLinks([link('1'), link('2'), link('3')]);
          await store.deleteCreateIntents([first]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await ledger.createIntents('contacts')).map((intent) => intent.id)).toEqual([first, second]);
      await ledger.transaction(async (store) => {
        await store.putLinks([link('1'), link('2'), link('3')]);
        await store.deleteCreateIntents([first]);
      });
      expect((await ledger.createIntents('contacts')).map((intent) => intent.id)).toEqual([second]);
      expect((await ledger.getLinks('contacts', ['1', '2', '3'])).size).toBe(3);
      expect(await ledger.createIntents('companies')).toHaveLength(1);
    });

    it('tells whether an object has open failures of other runs', async () => {
      await ledger.addFailures([{ runId: 1, object: 'contacts', sourceId: '5', code: 'INVALID_VALUE', field: 'email', value: '"x"', message: 'bad' }]);
      expect(await ledger.hasOpenFailures('contacts', 2)).toBe(true);
      expect(await ledger.hasOpenFailures('contacts', 1)).toBe(false);
      expect(await ledger.hasOpenFailures('companies', 2)).toBe(false);
      await ledger.resolveFailures('contacts', ['5'], 2);
      expect(await ledger.hasOpenFailures('contacts', 2)).toBe(false);
    });

    it('records a failure a run has already recorded word for word once (a resumed run failing a record again), other failures of it each', async () => {
      const failure = (runId: number, patch: { code?: string; value?: string | null; field?: string | null } = {}) => ({ runId, object: 'deals', sourceId: '12', code: patch.code ?? 'VALUE_NOT_MAPPED', field: patch.field === undefined ? 'StageName' : patch.field, value: patch.value === undefined ? '"Exotic"' : patch.value, message: 'no mapping' });
      await ledger.addFailures([failure(1)]);
      await ledger.transaction(async (store) => {
        await store.addFailures([failure(1), failure(1, { value: '"Other"' }), failure(1, { field: null, value: null, code: 'REFERENCE_MISSING' })]);
      });
      await ledger.addFailures([failure(1, { field: null, value: null, code: 'REFERENCE_MISSING' }), failure(2)]);
      expect((await ledger.listFailures({ object: 'deals' })).map((each) => [each.runId, each.code, each.value])).toEqual([
        [1, 'VALUE_NOT_MAPPED', '"Exotic"'],
        [1, 'VALUE_NOT_MAPPED', '"Other"'],
        [1, 'REFERENCE_MISSING', null],
        [2, 'VALUE_NOT_MAPPED', '"Exotic"'],
      ]);
    });

    it('counts open failures as distinct records: once however many runs they failed in, never once settled, never warnings', async () => {
      const failure = (runId: number, sourceId: string, patch: { object?: string; code?: string; severity?: 'error' | 'warning' } = {}) => ({
        runId,
        object: patch.object ?? 'contacts',
        sourceId,
        code: patch.code ?? 'INVALID_VALUE',
        field: 'email',
        value: '"x"',
        message: 'bad',
        ...(patch.severity ? { severity: patch.severity } : {}),
      });
      // Contact 5 fails in runs 1 and 2 (twice in run 2, on two codes); contact 6 fails once and is then written by run 3.
      await ledger.addFailures([failure(1, '5'), failure(1, '6'), failure(2, '5'), failure(2, '5', { code: 'VALUE_NOT_MAPPED' })]);
      // Warnings are not failures: the record was written.
      await ledger.addFailures([failure(2, '7', { code: 'REFERENCE_MISSING', severity: 'warning' })]);
      await ledger.resolveFailures('contacts', ['6'], 3);
      expect(await ledger.countOpenFailures()).toBe(1);
      expect(await ledger.countOpenFailures('contacts')).toBe(1);
      expect(await ledger.countOpenFailures('companies')).toBe(0);
      expect(await ledger.openFailureCounts()).toEqual({ total: 1, byObject: { contacts: 1 } });
      expect(await ledger.openFailureCounts({ runId: 2 })).toEqual({ total: 1, byObject: { contacts: 1 } });
      expect(await ledger.openFailureCounts({ beforeRunId: 2 })).toEqual({ total: 1, byObject: { contacts: 1 } });
      expect(await ledger.openFailureCounts({ severity: 'warning' })).toEqual({ total: 1, byObject: { contacts: 1 } });
      // The same source id in another object is another record.
      await ledger.addFailures([failure(3, '5', { object: 'companies' })]);
      expect(await ledger.openFailureCounts()).toEqual({ total: 2, byObject: { companies: 1, contacts: 1 } });
      // A retry that writes contact 5 settles both of its runs' failures.
      await ledger.resolveFailures('contacts', ['5'], 4);
      expect(await ledger.openFailureCounts()).toEqual({ total: 1, byObject: { companies: 1 } });
    });

    it('finds the last window run per kind of change, ignoring dry runs, undone and failed runs', async () => {
      const full = await ledger.createRun({ kind: 'full', creates: true, updates: true, highWaterMark: '2026-01-01T00:00:00.000Z' });
      await ledger.updateRun(full.id, { status: 'completed' });
      const createOnly = await ledger.createRun({ kind: 'delta', creates: true, highWaterMark: '2026-02-01T00:00:00.000Z' });
      await ledger.updateRun(createOnly.id, { status: 'completed' });
      const dry = await ledger.createRun({ kind: 'delta', creates: true, updates: true, dryRun: true, highWaterMark: '2026-03-01T00:00:00.000Z' });
      await ledger.updateRun(dry.id, { status: 'completed' });
      const failed = await ledger.createRun({ kind: 'delta', updates: true, highWaterMark: '2026-04-01T00:00:00.000Z' });
      await ledger.updateRun(failed.id, { status: 'failed' });
      expect((await ledger.lastWindowRun('creates'))?.id).toBe(createOnly.id);
      expect((await ledger.lastWindowRun('updates'))?.id).toBe(full.id);
      await ledger.updateRun(createOnly.id, { undoneByRunId: 99 });
      expect((await ledger.lastWindowRun('creates'))?.id).toBe(full.id);
    });

    it('rolls back a transaction that throws', async () => {
      await expect(
        ledger.transaction(async (store) => {
          await store.putLinks([link('9')]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await ledger.getLink('contacts', '9')).toBeUndefined();
    });

    it('keeps failures, conflicts, journal and deferred references per run', async () => {
      await ledger.addFailures([{ runId: 1, object: 'contacts', sourceId: '5', code: 'INVALID_VALUE', field: 'email', value: '"x"', message: 'bad' }]);
      await ledger.resolveFailures('contacts', ['5'], 2);
      expect((await ledger.listFailures({ unresolved: true })).length).toBe(0);
      await ledger.addConflicts([
        { runId: 2, object: 'contacts', sourceId: '5', targetId: 't5', field: 'phone', sourceValue: '1', targetValue: '2', writtenValue: '0', resolution: 'source-wins' },
      ]);
      expect((await ledger.listConflicts(2))[0]).toMatchObject({ field: 'phone', sourceValue: '1', targetValue: '2', writtenValue: '0' });
      await ledger.addJournal([
        { runId: 2, object: 'contacts', sourceId: '5', targetObject: 'contacts', targetId: 't5', action: 'create', before: null, after: { a: 1 }, linkBefore: null },
        { runId: 2, object: 'contacts', sourceId: '6', targetObject: 'contacts', targetId: 't6', action: 'update', before: { a: 0 }, after: { a: 1 }, linkBefore: link('6') },
      ]);
      const entries = [];
      for await (const page of ledger.iterateJournal(2, 'contacts')) entries.push(...page);
      expect(entries.map((entry) => entry.sourceId)).toEqual(['6', '5']);
      expect(entries[0]?.linkBefore?.targetId).toBe('t6');
      await ledger.addDeferredReferences([{ runId: 2, object: 'companies', sourceId: '1', field: 'parent_id', value: '2' }]);
      const deferred = [];
      for await (const page of ledger.iterateDeferredReferences(2, 'companies')) deferred.push(...page);
      expect(deferred).toEqual([{ runId: 2, object: 'companies', sourceId: '1', field: 'parent_id', value: '2' }]);
    });

    it('refuses a second holder of the lock with a clear message, and frees it on release', async () => {
      const lock = await ledger.acquireLock('run `ferry migrate`');
      const second = await Ledger.open(location);
      try {
        // Before the holder has a run row, the message names its command.
        await expect(second.acquireLock('run the command')).rejects.toThrow(/in use by `ferry migrate` \(starting, no run yet\) \(process \d+ on /);
        await lock.heartbeat(7);
        await expect(second.acquireLock('run the command')).rejects.toMatchObject({ code: 'LEDGER_LOCKED' });
        await expect(second.acquireLock('run the command')).rejects.toThrow(/in use by run 7/);
        await lock.release();
        const again = await second.acquireLock('run the command');
        await again.release();
      } finally {
        await second.close();
      }
    });
  });
}

describe('ledger queries on SQLite', () => {
  it("find an object's pending creates and its open failures of a code through their partial indexes, and a page's links by key, never by scanning", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-ledger-'));
    const location = join(dir, 'state.db');
    const ledger = await Ledger.open(location);
    // The SQL the ledger really sends, caught where better-sqlite3 prepares it.
    const seen: string[] = [];
    const prepare = SqliteDatabase.prototype.prepare;
    SqliteDatabase.prototype.prepare = function (this: SqliteDatabase.Database, sql: string) {
      seen.push(sql);
      return prepare.call(this, sql);
    } as typeof prepare;
    try {
      await ledger.putLinks([link('1'), link('2', { state: 'pending', targetId: null })]);
      seen.length = 0;
      expect((await ledger.pendingLinks('contacts')).map((each) => each.sourceId)).toEqual(['2']);
      const pendingSql = seen.find((text) => /from "links"/.test(text));
      seen.length = 0;
      await ledger.listFailures({ object: 'contacts', code: 'REFERENCE_MISSING', exceptRunId: 2, unresolved: true });
      const failuresSql = seen.find((text) => /from "failures"/.test(text));
      const plan = (sql: string | undefined) => {
        const database = new SqliteDatabase(location, { readonly: true });
        try {
          const parameters = Array.from({ length: (sql!.match(/\?/g) ?? []).length }, () => 'x');
          return (database.prepare(`EXPLAIN QUERY PLAN ${sql!}`).all(...parameters) as { detail: string }[]).map((row) => row.detail).join('; ');
        } finally {
          database.close();
        }
      };
      expect(plan(pendingSql)).toMatch(/USING INDEX links_pending/);
      expect(plan(failuresSql)).toMatch(/USING INDEX failures_open/);
      // Links and match issues are read for a page of ids in one statement, each id a probe of the key.
      seen.length = 0;
      expect([...(await ledger.getLinks('contacts', ['1', '2', '1', '9'])).keys()].sort()).toEqual(['1', '2']);
      expect([...(await ledger.getLinkTargets('contacts', ['2', '9'])).keys()]).toEqual(['2']);
      const linkSql = seen.filter((text) => /from links where object = \? and source_id in/.test(text));
      expect(linkSql).toHaveLength(2);
      for (const sql of linkSql) expect(plan(sql)).toMatch(/SEARCH links USING INDEX sqlite_autoindex_links_1 \(object=\? AND source_id=\?\)/);
    } finally {
      SqliteDatabase.prototype.prepare = prepare;
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('redactUrl', () => {
  it('hides the password of a connection URL', () => {
    expect(redactUrl('postgres://ferry:s3cret@db.example:5432/state')).toBe('postgres://ferry:***@db.example:5432/state');
    expect(redactUrl('.ferry/state.db')).toBe('.ferry/state.db');
  });
});
