import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/engine/index.js';
import { deletedTwice, deletes, random, runChild as runEngineChild, type ChildResult } from '../support/child.js';
import { CLEAN, compareCopy, ledgerLinks, targetSnapshot } from '../support/compare.js';
import { BACKENDS, createFixture, seedTargetUsers, type Db, type Fixture } from '../support/crm-fixture.js';
import { recordFigures, SCALE } from './figures.js';

/**
 * Crash and resume in the link pass and in undo: each command runs in a child process
 * (test/support/engine-child.ts) killed with SIGKILL right before or right after a chosen write, then
 * runs again; source, target and ledger are then compared exactly (test/support/compare.ts).
 */

function runChild(fixture: Fixture, projectPath: string, command: string, env: Record<string, string>, args: string[] = []): Promise<ChildResult> {
  return runEngineChild(projectPath, fixture.dir, command, env, args);
}

/**
 * Companies whose parent points forward (written in the link pass), to itself (link pass), backward, and in
 * two-company cycles; contacts, deals with two contacts each, notes on contacts, deals and companies.
 */
async function seedLinked(db: Db, companies: number, contactsPerCompany: number): Promise<void> {
  const t = '2026-01-01T00:00:00.000Z';
  await db.run(`INSERT INTO owners (id, email, first_name, last_name, updated_at) VALUES (1, 'ann@acme.test', 'Ann', 'Owner', ?), (2, 'bob@acme.test', 'Bob', 'Owner', ?)`, [t, t]);
  for (let company = 1; company <= companies; company++) {
    await db.run(`INSERT INTO companies (id, name, domain, owner_id, updated_at) VALUES (?, ?, ?, ?, ?)`, [company, `Company ${company}`, `c${company}.test`, 1 + (company % 2), t]);
  }
  for (let company = 1; company <= companies; company++) {
    const parent = company % 4 === 1 ? (company < companies ? company + 1 : null) : company % 4 === 2 ? company - 1 : company % 4 === 3 ? company : company - 2;
    if (parent) await db.run(`UPDATE companies SET parent_company_id = ? WHERE id = ?`, [parent, company]);
  }
  let contact = 0;
  for (let company = 1; company <= companies; company++) {
    for (let index = 0; index < contactsPerCompany; index++) {
      contact += 1;
      await db.run(`INSERT INTO contacts (id, first_name, last_name, email, job_title, company_id, owner_id, updated_at) VALUES (?, ?, 'Person', ?, ?, ?, ?, ?)`, [
        contact,
        `P${contact}`,
        `p${contact}@c${company}.test`,
        contact % 3 === 0 ? 'Buyer' : null,
        company,
        1 + (contact % 2),
        t,
      ]);
    }
    await db.run(`INSERT INTO deals (id, name, amount, stage, company_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)`, [company, `Deal ${company}`, 100 + company, company % 3 === 0 ? 'Closed Won' : 'Open', company, t]);
    await db.run(`INSERT INTO deal_contacts (deal_id, contact_id) VALUES (?, ?)`, [company, contact]);
    if (contactsPerCompany > 1) await db.run(`INSERT INTO deal_contacts (deal_id, contact_id) VALUES (?, ?)`, [company, contact - 1]);
    const on = company % 3;
    await db.run(`INSERT INTO notes (id, body, contact_id, deal_id, company_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)`, [company, `Note ${company}`, on === 0 ? contact : null, on === 1 ? company : null, on === 2 ? company : null, t]);
  }
}

/** Records the target held before Ferry: a company and a contact that are matched, with empty fields Ferry fills in. */
async function seedExisting(db: Db): Promise<void> {
  const t = '2025-12-01T00:00:00.000Z';
  await db.run(`INSERT INTO companies (name, domain, created_at, updated_at) VALUES ('Company 1', 'c1.test', ?, ?)`, [t, t]);
  await db.run(`INSERT INTO contacts (firstname, email, created_at, updated_at) VALUES ('P1', 'p1@c1.test', ?, ?)`, [t, t]);
}

for (const backend of BACKENDS) {
  describe(`crash and resume in the link pass and in undo on ${backend}`, () => {
    let fixture: Fixture | undefined;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    async function prepare(companies: number): Promise<{ projectPath: string; before: Awaited<ReturnType<typeof targetSnapshot>> }> {
      fixture = await createFixture(backend);
      await seedLinked(fixture.source, companies, 2);
      await seedTargetUsers(fixture.target);
      await seedExisting(fixture.target);
      const projectPath = join(fixture.dir, 'project.json');
      writeFileSync(projectPath, JSON.stringify({ ...fixture.project, options: { ...fixture.project.options, pageSize: 7 } }));
      return { projectPath, before: await targetSnapshot(fixture.target) };
    }

    it('a full migration killed in the link pass (before and after each reference write) resumes to an exact copy, and undo then restores the target exactly', async () => {
      const companies = 24 * SCALE;
      const { projectPath, before } = await prepare(companies);
      // Half the companies have a parent written in the link pass: with batches of 4, that pass makes
      // several calls. Each attempt is killed right before, or right after, the Nth of them, N = 1, 2, ...
      // until an attempt gets through. (A resumed link pass goes on after the last batch it committed.)
      let kills = 0;
      let runId = 0;
      for (let n = 1; n <= 100 && !runId; n++) {
        for (const when of ['before', 'after']) {
          const result = await runChild(fixture!, projectPath, 'migrate', { FERRY_TEST_KILL_AT: `link:${n}:${when}`, FERRY_TEST_BATCH_SIZE: '4' });
          if (result.signal === 'SIGKILL') {
            kills += 1;
            continue;
          }
          expect(result.stderr).toBe('');
          expect(result.code).toBe(0);
          const run = JSON.parse(result.stdout) as RunResult;
          expect(run).toMatchObject({ status: 'completed', resumed: true });
          expect(run.counts.companies).toMatchObject({ created: companies - 1, matched: 1, failed: 0 });
          runId = run.runId;
          break;
        }
      }
      expect(runId).toBeGreaterThan(0);
      expect(kills).toBeGreaterThanOrEqual(4);
      const comparison = await compareCopy(fixture!);
      expect(comparison).toMatchObject(CLEAN);
      recordFigures(`crash in link pass ${backend}`, { killPoints: kills, recordsChecked: comparison.records, lost: comparison.missing.length, duplicated: comparison.duplicated.length });
      // A resumed link pass goes on after the last batch it committed: only the batch in flight at each kill
      // can be in the journal twice (its entry is written before its call), never a whole page again.
      const session = await fixture!.open();
      try {
        const linkWrites: string[] = [];
        for await (const entries of session.ledger.iterateJournal(runId, 'companies')) {
          for (const entry of entries) if (entry.action === 'link') linkWrites.push(entry.sourceId);
        }
        const parents = new Set(linkWrites).size;
        expect(parents).toBeGreaterThan(0);
        expect(linkWrites.length - parents).toBeLessThanOrEqual(kills * 4);
        const left: unknown[] = [];
        for await (const rows of session.ledger.iterateDeferredReferences(runId, 'companies')) left.push(...rows);
        expect(left).toEqual([]);
      } finally {
        await session.close();
      }
      // Nothing left for a delta, and the link pass left no reference behind.
      const delta = await runChild(fixture!, projectPath, 'delta', {});
      for (const objectCounts of Object.values((JSON.parse(delta.stdout) as RunResult).counts)) expect(objectCounts).toMatchObject({ created: 0, updated: 0, failed: 0 });
      const undoDelta = await runChild(fixture!, projectPath, 'undo', {}, [String((JSON.parse(delta.stdout) as RunResult).runId)]);
      expect(undoDelta.code).toBe(0);
      // The journal holds the batches in flight at the kills twice: undo still restores exactly.
      const undo = await runChild(fixture!, projectPath, 'undo', { FERRY_TEST_BATCH_SIZE: '4' }, [String(runId)]);
      expect(undo.stderr).toBe('');
      expect(JSON.parse(undo.stdout)).toMatchObject({ status: 'completed' });
      expect(await targetSnapshot(fixture!.target)).toEqual(before);
    }, 600_000);

    // Found by this test: undo refused to resume ("already undone by run M") although run M never finished.
    it('an undo killed after it marked the run undone, before it finished, can be completed and the run migrated again', async () => {
      const { projectPath, before } = await prepare(8);
      const full = await runChild(fixture!, projectPath, 'migrate', {});
      const runId = (JSON.parse(full.stdout) as RunResult).runId;
      const killed = await runChild(fixture!, projectPath, 'undo', { FERRY_TEST_KILL_LEDGER: 'updateRun.undoneByRunId:1' }, [String(runId)]);
      expect(killed.signal).toBe('SIGKILL');
      expect(await targetSnapshot(fixture!.target)).toEqual(before);
      recordFigures(`crash at the end of undo ${backend}`, { killPoints: 1 });
      // Running the same command again finishes the undo (or says it is done); either way the ledger is usable.
      const again = await runChild(fixture!, projectPath, 'undo', {}, [String(runId)]);
      const migrate = await runChild(fixture!, projectPath, 'migrate', {});
      expect({ undo: again.stderr, migrate: migrate.stderr }).toEqual({ undo: '', migrate: '' });
      expect(await compareCopy(fixture!)).toMatchObject(CLEAN);
    }, 600_000);

    it('an undo killed during its restores and deletes (before and after each call) resumes to the target as it was before the run, deleting nothing twice', async () => {
      const companies = 40 * SCALE;
      const { projectPath, before } = await prepare(companies);
      const full = await runChild(fixture!, projectPath, 'migrate', {});
      expect(full.code).toBe(0);
      const runId = (JSON.parse(full.stdout) as RunResult).runId;
      expect(await compareCopy(fixture!)).toMatchObject(CLEAN);
      const log = join(fixture!.dir, 'writes.jsonl');
      const next = random(backend === 'sqlite' ? 41 : 42);
      let kills = 0;
      let finished: RunResult | undefined;
      for (let attempt = 0; attempt < 60 * SCALE && !finished; attempt++) {
        // Restores (update) come last, after the children are deleted: aim at them once deletes are mostly done.
        const op = attempt % 3 === 2 ? 'update' : 'delete';
        const point = `${op}:${1 + Math.floor(next() * (op === 'delete' ? 6 : 2))}:${next() < 0.5 ? 'before' : 'after'}`;
        const result = await runChild(fixture!, projectPath, 'undo', { FERRY_TEST_KILL_AT: point, FERRY_TEST_BATCH_SIZE: '5', FERRY_TEST_WRITE_LOG: log }, [String(runId)]);
        if (result.signal === 'SIGKILL') {
          kills += 1;
          continue;
        }
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        finished = JSON.parse(result.stdout) as RunResult;
      }
      expect(finished).toMatchObject({ status: 'completed', resumed: true });
      expect(kills).toBeGreaterThanOrEqual(4);
      expect(deletedTwice(log)).toEqual([]);
      const after = await targetSnapshot(fixture!.target);
      expect(after).toEqual(before);
      // The ledger is as before the run: only the matched links (and the owners') remain.
      expect((await ledgerLinks(fixture!)).filter((line) => !line.endsWith('(linked, matched)'))).toEqual([]);
      const records = Object.values(after).reduce((sum, rows) => sum + rows.length, 0);
      recordFigures(`crash in undo ${backend}`, { killPoints: kills, recordsChecked: companies * 5 + records, lost: 0, duplicated: 0 });
      expect(deletes(log)).toBeGreaterThan(0);
      // The same migration can run again and gives an exact copy (no link left to a deleted record).
      const again = await runChild(fixture!, projectPath, 'migrate', {});
      expect(again.stderr).toBe('');
      expect(JSON.parse(again.stdout)).toMatchObject({ status: 'completed' });
      expect(await compareCopy(fixture!)).toMatchObject(CLEAN);
    }, 600_000);
  });
}

