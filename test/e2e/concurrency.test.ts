import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/engine/index.js';
import type { ProjectFile } from '../../src/project/types.js';
import { recordFigures } from '../reliability/figures.js';
import { startChild, runChild, type ChildResult, type RunningChild } from '../support/child.js';
import { CLEAN, compareCopy } from '../support/compare.js';
import { BACKENDS, createSeededFixture, type Fixture } from '../support/crm-fixture.js';

/**
 * Concurrency: two processes on one ledger (SQLite file and PostgreSQL), and a delta while the source keeps
 * changing. Every meeting point is made exactly (a child process holds at a chosen write and says so over
 * IPC; source changes are injected right before a chosen page read), never raced with sleeps.
 */

const parse = (result: ChildResult): RunResult & { error?: { code: string; message: string } } => JSON.parse(result.stdout) as RunResult & { error?: { code: string; message: string } };

/** Whether a started child first holds (it runs and owns the ledger) or ends (refused). */
async function outcome(child: RunningChild): Promise<'held' | 'ended'> {
  return Promise.race([child.held.then(() => 'held' as const), child.done.then(() => 'ended' as const)]);
}

for (const backend of BACKENDS) {
  describe(`two processes on one ${backend} ledger`, () => {
    let fixture: Fixture | undefined;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    async function prepare(): Promise<string> {
      fixture = await createSeededFixture(backend);
      const projectPath = join(fixture.dir, 'project.json');
      writeFileSync(projectPath, JSON.stringify(fixture.project));
      return projectPath;
    }

    it('a second run started while the first one writes is refused with LEDGER_LOCKED naming the first run, and changes nothing', async () => {
      const projectPath = await prepare();
      const runIds: number[] = [];
      // A full migration, then a delta (a contact added after it), each held at its first create while a
      // second process starts the same command.
      for (const command of ['migrate', 'delta']) {
        if (command === 'delta') await fixture!.source.run(`INSERT INTO contacts (id, first_name, email, updated_at) VALUES (30, 'Later', 'later@x.test', '2099-01-01T00:00:00.000Z')`);
        const first = startChild(projectPath, fixture!.dir, command, { FERRY_TEST_HOLD_AT: 'create:1' });
        const held = await first.held;
        expect(held.runId).toBeGreaterThan(0);
        try {
          const second = await runChild(projectPath, fixture!.dir, command);
          expect(second.code).toBe(1);
          const { error } = parse(second);
          expect(error?.code).toBe('LEDGER_LOCKED');
          expect(error?.message).toContain(`in use by run ${held.runId} (process ${first.process.pid} on `);
          expect(error?.message).toContain('Only one run at a time can use a ledger');
          recordFigures(`second ${command} refused ${backend}`, { runsRefused: 1 });
        } finally {
          first.release();
        }
        const done = await first.done;
        expect(done.stderr).toBe('');
        expect(parse(done)).toMatchObject({ runId: held.runId, status: 'completed', resumed: false });
        runIds.push(held.runId!);
      }
      // The refused commands left no run behind and the copy is exact.
      const session = await fixture!.open();
      try {
        expect((await session.ledger.listRuns()).map((run) => run.id)).toEqual(runIds);
      } finally {
        await session.close();
      }
      expect(await compareCopy(fixture!)).toMatchObject(CLEAN);
    });

    it('two runs started at the same moment on a new ledger: exactly one runs, the other is refused with LEDGER_LOCKED', async () => {
      const projectPath = await prepare();
      const children = [0, 1].map(() => startChild(projectPath, fixture!.dir, 'migrate', { FERRY_TEST_HOLD_AT: 'create:1' }));
      const outcomes = await Promise.all(children.map(outcome));
      expect([...outcomes].sort()).toEqual(['ended', 'held']);
      const winner = children[outcomes.indexOf('held')]!;
      const loser = children[outcomes.indexOf('ended')]!;
      const refused = await loser.done;
      expect(refused.code).toBe(1);
      const { error } = parse(refused);
      expect(error?.code).toBe('LEDGER_LOCKED');
      // The run id is named once the winner has created its run; a refusal in the instant between taking
      // the ledger and creating the run names its command instead.
      expect(error?.message).toMatch(new RegExp(`in use by (run ${(await winner.held).runId}|\`ferry (migrate|delta)\` \\(starting, no run yet\\)) \\(process ${winner.process.pid} on `));
      recordFigures(`simultaneous runs ${backend}`, { runsRefused: 1 });
      winner.release();
      const done = await winner.done;
      expect(done.stderr).toBe('');
      expect(parse(done)).toMatchObject({ status: 'completed' });
      expect(await compareCopy(fixture!)).toMatchObject(CLEAN);
    });

    it('a run killed while it holds the ledger does not lock it out: the next run takes over and resumes', async () => {
      const projectPath = await prepare();
      const first = startChild(projectPath, fixture!.dir, 'migrate', { FERRY_TEST_HOLD_AT: 'create:2' });
      const held = await first.held;
      first.process.kill('SIGKILL');
      expect((await first.done).signal).toBe('SIGKILL');
      const next = await runChild(projectPath, fixture!.dir, 'migrate');
      expect(next.stderr).toBe('');
      expect(parse(next)).toMatchObject({ runId: held.runId, status: 'completed', resumed: true });
      expect(await compareCopy(fixture!)).toMatchObject(CLEAN);
      recordFigures(`kill while holding the ledger ${backend}`, { killPoints: 1 });
    });
  });
}

for (const backend of BACKENDS) {
  describe(`a delta while the source keeps changing on ${backend}`, () => {
    let fixture: Fixture | undefined;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('changes made during a delta at and around its high-water mark are all brought by the following delta: nothing missed, nothing duplicated', async () => {
      fixture = await createSeededFixture(backend);
      const source = fixture.source;
      // The source's clock at the start of each run (its high-water mark), fixed so every instant below is exact.
      const H = ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z'];
      const plus = (instant: string, ms: number) => new Date(Date.parse(instant) + ms).toISOString();
      const LOOKBACK = 1000;
      const project: ProjectFile = { ...fixture.project, options: { ...fixture.project.options, pageSize: 3, lookbackMs: LOOKBACK } };
      const run = async (index: number, work: 'migrate' | 'delta', beforeSourceRead?: (object: string, options: { after?: string; fields?: string[] }) => Promise<void>) => {
        const session = await fixture!.open(project, { sourceNow: () => H[index]!, ...(beforeSourceRead ? { beforeSourceRead } : {}) });
        try {
          return work === 'migrate' ? await session.engine.migrate() : await session.engine.delta({ createNew: true, updateChanged: true });
        } finally {
          await session.close();
        }
      };

      const full = await run(0, 'migrate');
      expect(full.status).toBe('completed');
      // Ordinary work between the full migration and the delta: three contacts edited, two added.
      for (const id of [1, 2, 3]) await source.run(`UPDATE contacts SET job_title = ?, updated_at = ? WHERE id = ?`, [`Edited ${id}`, plus(H[0]!, 60_000), id]);
      for (const id of [10, 11]) await source.run(`INSERT INTO contacts (id, first_name, last_name, email, updated_at) VALUES (?, 'New', ?, ?, ?)`, [id, `N${id}`, `n${id}@x.test`, plus(H[0]!, 120_000)]);

      // While the delta reads its second page of contacts (companies are done), another user changes the
      // source: companies stamped exactly at the next delta's lower bound (H1 - lookback), 1 ms before the
      // high-water mark, at it, and a new company after it; contacts ahead of the delta's cursor, one of them
      // pointing at that new company; a contact the delta already read, changed again.
      const injected = { companies: 4, contacts: 3 };
      let injectedAt: string | undefined;
      const H1 = H[1]!;
      const delta = await run(1, 'delta', async (object, options) => {
        if (injectedAt || object !== 'contacts' || !options.after || options.fields) return;
        injectedAt = `${object} after ${options.after}`;
        await source.run(`UPDATE companies SET name = 'At the lower bound', updated_at = ? WHERE id = 1`, [plus(H1, -LOOKBACK)]);
        await source.run(`UPDATE companies SET name = 'Just before the mark', updated_at = ? WHERE id = 2`, [plus(H1, -1)]);
        await source.run(`UPDATE companies SET name = 'At the mark', updated_at = ? WHERE id = 3`, [H1]);
        await source.run(`INSERT INTO companies (id, name, domain, updated_at) VALUES (10, 'Created during the delta', 'during.test', ?)`, [plus(H1, 1)]);
        await source.run(`INSERT INTO contacts (id, first_name, email, company_id, updated_at) VALUES (20, 'During', 'during@during.test', 10, ?)`, [plus(H1, 2)]);
        await source.run(`INSERT INTO contacts (id, first_name, email, updated_at) VALUES (21, 'During', 'during21@x.test', ?)`, [plus(H1, -1)]);
        await source.run(`UPDATE contacts SET job_title = 'Edited again', updated_at = ? WHERE id = 1`, [plus(H1, 5)]);
      });
      expect(injectedAt).toBeDefined();
      expect(delta.counts.contacts).toMatchObject({ created: 4, failed: 0 });
      // The delta did not see the companies changed behind it: the copy is behind by exactly those.
      const behind = await compareCopy(fixture);
      expect(behind.missing).toEqual(['companies 10']);
      expect(behind.wrongValues.map((line) => line.split(':')[0])).toEqual(['companies 1.name', 'companies 2.name', 'companies 3.name']);
      expect(behind.duplicated).toEqual([]);

      const following = await run(2, 'delta');
      expect(following.counts.companies).toMatchObject({ created: 1, updated: 3, failed: 0 });
      expect(following.counts.contacts).toMatchObject({ created: 0, failed: 0 });
      const comparison = await compareCopy(fixture);
      expect(comparison).toMatchObject(CLEAN);
      const last = await run(3, 'delta');
      for (const counts of Object.values(last.counts)) expect(counts).toMatchObject({ created: 0, updated: 0, failed: 0 });
      recordFigures(`delta while the source changes ${backend}`, { recordsChecked: comparison.records, lost: comparison.missing.length, duplicated: comparison.duplicated.length, sourceChanges: injected.companies + injected.contacts });
    });
  });
}
