/**
 * The run page's parts view in Chromium (ledger on PostgreSQL): a queued run's parts, the worker holding
 * each lease and each part's counts, refreshed while the run runs. The ledger is set up as workers leave it
 * (the plan's parts, a part's checkpointed counts, a lease row), then changed under the page: deterministic,
 * no worker process needed (test/workers/progress.test.ts runs real ones).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { emptyCounts } from '../../src/core/progress.js';
import { Ledger } from '../../src/ledger/index.js';
import { writeSampleSqlite } from '../../src/sample/index.js';
import { createWorkerTables, WORKERS_SCHEMA } from '../../src/workers/queue.js';
import { createPostgresDatabase, type TempDatabase } from '../support/databases.js';
import { describeInChromium } from './browser-gate.js';
import { goToStep, journeyStep, openWizard, textMatching, waitFor, type Harness } from './browser-helpers.js';

describeInChromium('wizard: the parts of a queued run in Chromium', () => {
  let h: Harness;
  let database: TempDatabase;
  let ledger: Ledger;
  const step = journeyStep(() => h, 'parts-');

  beforeAll(async () => {
    h = await openWizard();
    database = await createPostgresDatabase('ferry_wizard_parts');
    ledger = await Ledger.open(database.url);
    await createWorkerTables(database.url);
  }, 180_000);
  afterAll(async () => {
    await ledger?.close();
    await database?.drop();
    await h?.close();
  });

  step('shows each part with its state, worker and counts, and follows them while the run runs', async () => {
    const projectDir = h.projectPath.replace(/\/ferry\.yaml$/, '');
    await writeSampleSqlite(join(projectDir, 'source.db'), { seed: 3, size: 12 });
    await writeFile(
      h.projectPath,
      ['version: 1', 'source: { connector: sql, dialect: sqlite, path: source.db }', 'target: { connector: sql, dialect: sqlite, path: target.db }', `state: "${database.url}"`, ''].join('\n'),
    );
    // A run as a worker's plan stage leaves it: two parts, the second after the first; the first under way.
    const run = await ledger.createRun({ kind: 'full', options: { queued: true } });
    const parts = [
      { key: 'companies', object: 'companies', after: [] },
      { key: 'contacts', object: 'contacts', after: ['companies'] },
    ];
    await ledger.putUnit({ runId: run.id, phase: 'parts', object: '*', seq: 0, cursor: JSON.stringify(parts), nextCursor: JSON.stringify({}), done: true, counts: {} });
    const counts = (read: number) => ({ ...emptyCounts(), read, created: read });
    await ledger.putUnit({ runId: run.id, phase: 'part:companies', object: 'companies', seq: 0, cursor: null, nextCursor: null, done: true, counts: counts(20) });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(`INSERT INTO ${WORKERS_SCHEMA}.part_leases (run_key, part, holder, heartbeat_at) VALUES ($1, 'companies', 'worker-host-a:4242', now())`, [String(run.id)]);

      await goToStep(h.page, 'Reports', /Reports/);
      await h.page.getByRole('button', { name: `Show run ${run.id}` }).click();
      const panel = h.page.getByTestId('run-parts');
      await textMatching(panel, /0 of 2 done, 1 being written now/);
      const row = (key: string) => panel.locator(`tr[data-part="${key}"]`);
      expect(await row('companies').getAttribute('data-state')).toBe('running');
      await textMatching(row('companies'), /Running\s*worker-host-a, process 4242.*20\s*20/);
      await textMatching(row('contacts'), /Waiting.*after companies/);
      // The table shares the wizard's table head.
      expect(await panel.locator('thead th').allInnerTexts()).toEqual(['Part', 'State', 'Worker', 'Last heartbeat', 'Read', 'Created', 'Updated', 'Failed', 'Notes']);

      // The worker records another page: the page follows without a reload.
      await ledger.putUnit({ runId: run.id, phase: 'part:companies', object: 'companies', seq: 0, cursor: null, nextCursor: null, done: true, counts: counts(35) });
      await textMatching(row('companies'), /35\s*35/);
      // The part is done (its lease released), the next one starts on another worker.
      await ledger.putUnit({ runId: run.id, phase: 'part-done', object: 'companies', seq: 0, cursor: JSON.stringify({ by: 'worker-host-a:4242' }), nextCursor: null, done: true, counts: {} });
      await client.query(`DELETE FROM ${WORKERS_SCHEMA}.part_leases WHERE part = 'companies'`);
      await client.query(`INSERT INTO ${WORKERS_SCHEMA}.part_leases (run_key, part, holder, heartbeat_at) VALUES ($1, 'contacts', 'worker-host-b:77', now())`, [String(run.id)]);
      await textMatching(panel, /1 of 2 done, 1 being written now/);
      await waitFor(() => row('contacts').getAttribute('data-state'), (state) => state === 'running', 'the contacts part running');
      await textMatching(row('contacts'), /worker-host-b, process 77/);
      await textMatching(row('companies'), /Done\s*worker-host-a, process 4242/);
    } finally {
      await client.end();
    }
    expect(h.problems).toEqual([]);
  });
});
