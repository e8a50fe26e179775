import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nowIso } from '../../src/core/time.js';
import { applySourceChanges } from '../../src/sample/index.js';
import { ferry } from '../cli/run-cli.js';
import { createPostgresDatabase, type TempDatabase } from '../support/databases.js';
import { writeSyncScene } from '../support/sync-scene.js';

/**
 * `ferry sync --queue`: the schedule stays in the sync's process, each cycle is a queued delta a
 * `ferry worker` process runs; the cut-over after it verifies clean.
 */
const ENTRY = join(import.meta.dirname, '../../src/cli/entry.ts');

describe('ferry sync --queue', () => {
  let folder: string;
  let database: TempDatabase;
  let worker: { process: ChildProcess; output: () => string; exited: Promise<void> } | undefined;

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'ferry-sync-queue-'));
    await writeSyncScene(folder, { seed: 11, size: 40 });
    database = await createPostgresDatabase('ferry_sync_queue');
  });
  afterEach(async () => {
    if (worker && worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
    await worker?.exited;
    worker = undefined;
    await database.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('runs its cycle as a queued delta on a worker, then cuts over with a clean verify', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--config', join(folder, 'ferry.yaml'), '--state', database.url, 'worker'], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker = { process: child, output: () => output, exited: new Promise((resolve) => child.on('close', () => resolve())) };

    const migrate = await ferry(folder, ['--state', database.url, 'migrate', '--queue', '--json']);
    expect(migrate.code, migrate.stdout + migrate.stderr + output).toBe(0);
    await applySourceChanges(join(folder, 'source.db'), { seed: 3, newRecords: { contacts: 3, companies: 1 }, changedRecords: { contacts: 4 }, at: nowIso() });
    // --every 1h with --until a minute from now: one cycle (the tick now), then the sync stops.
    const until = new Date(Date.now() + 60_000).toISOString();
    const sync = await ferry(folder, ['--state', database.url, 'sync', '--queue', '--every', '1h', '--until', until, '--json']);
    expect(sync.code, sync.stdout + sync.stderr + output).toBe(0);
    const summary = sync.json<{ cycles: number; queued: boolean; reason: string; last: { runId: number; status: string; totals: { created: number; updated: number; failed: number } } }>();
    expect(summary).toMatchObject({ cycles: 1, queued: true, reason: 'until', last: { runId: 2, status: 'completed', totals: { created: 4, updated: 4, failed: 0 } } });
    // The worker ran the cycle's delta (planned and written there, not in the sync's process).
    expect(output).toMatch(/job [0-9a-f-]+: delta \(plan\)/);
    expect(output).toContain('run 2 finish: run 2 completed');

    await applySourceChanges(join(folder, 'source.db'), { seed: 4, newRecords: { contacts: 2 }, changedRecords: { contacts: 2 }, at: nowIso() });
    const cutover = await ferry(folder, ['--state', database.url, 'cutover', '--json']);
    expect(cutover.json(), cutover.stdout + cutover.stderr).toMatchObject({ command: 'cutover', ok: true, lastCycle: { runId: 2 }, final: { runId: 3, status: 'completed' }, verify: { ok: true } });
    expect(cutover.code).toBe(0);
    // Without a PostgreSQL ledger there are no workers to carry the cycles.
    const sqlite = await ferry(folder, ['sync', '--queue', '--every', '1h', '--json']);
    expect(sqlite.code).toBe(2);
    expect(sqlite.stdout + sqlite.stderr).toContain('needs the ledger on PostgreSQL');
  }, 120_000);
});
