import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/index.js';
import { ferry } from '../cli/run-cli.js';
import { createPostgresDatabase, type TempDatabase } from '../support/databases.js';
import { writeSyncScene } from '../support/sync-scene.js';

/**
 * `ferry undo|retry|demo --queue`: one job each, run whole by a `ferry worker` process. A queued migration
 * undone through the queue leaves the target as it was; a queued retry re-attempts the failed records.
 */
const ENTRY = join(import.meta.dirname, '../../src/cli/entry.ts');
const TABLES = ['companies', 'contacts', 'deals', 'notes'] as const;

function startWorker(folder: string, state: string): { process: ChildProcess; output: () => string; exited: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--config', join(folder, 'ferry.yaml'), '--state', state, 'worker'], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { process: child, output: () => output, exited };
}

/**
 * Every row of the target's tables, in a stable order: "as before" means exactly this. The SQL connector's
 * external-id column (added by the first run, kept by undo: it is schema, not data) must be empty again;
 * updated_at is the target's own modified stamp, which the restoring write moves as any write does.
 */
function targetRows(folder: string): Record<string, unknown[]> {
  const db = new SqliteDatabase(join(folder, 'target.db'), { readonly: true });
  try {
    const rows = (table: string) =>
      (db.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as Record<string, unknown>[]).map(({ ferry_source_id: external, updated_at: _modified, ...row }) => {
        expect(external ?? null, `${table} ${String(row.id)} ferry_source_id`).toBeNull();
        return row;
      });
    return Object.fromEntries(TABLES.map((table) => [table, rows(table)]));
  } finally {
    db.close();
  }
}

describe('undo, retry and demo queued to workers', () => {
  let folder: string;
  let database: TempDatabase;
  let worker: ReturnType<typeof startWorker> | undefined;

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'ferry-whole-run-'));
    await writeSyncScene(folder, { seed: 18, size: 120 });
    database = await createPostgresDatabase('ferry_whole_run');
  });
  afterEach(async () => {
    if (worker && worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
    await worker?.exited;
    worker = undefined;
    await database.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('a queued migrate, a queued retry of it and a queued undo of it leave the target as before', async () => {
    const before = targetRows(folder);
    worker = startWorker(folder, database.url);
    const log = () => worker!.output();

    const migrate = await ferry(folder, ['--state', database.url, 'migrate', '--queue', '--json']);
    expect(migrate.code, migrate.stdout + migrate.stderr + log()).toBe(3);
    const migrated = migrate.json<{ runId: number; status: string; totals: { failed: number; created: number } }>();
    expect(migrated.status).toBe('completed_with_failures');
    expect(migrated.totals.created).toBeGreaterThan(0);
    expect(migrated.totals.failed).toBeGreaterThan(0);

    // Retry: the sample's bad rows fail again (their values are still bad), as they do in-process.
    const retry = await ferry(folder, ['--state', database.url, 'retry', String(migrated.runId), '--queue', '--json']);
    expect(retry.code, retry.stdout + retry.stderr + log()).toBe(3);
    const retried = retry.json<{ runId: number; kind: string; retriedRunId: number; queued: boolean; totals: { failed: number } }>();
    expect(retried).toMatchObject({ kind: 'retry', retriedRunId: migrated.runId, queued: true });
    expect(retried.totals.failed).toBe(migrated.totals.failed);

    // Undo newest first: the retry (waited for), then the migration, detached: the command returns at once
    // with the job and the worker runs it.
    const undoRetry = await ferry(folder, ['--state', database.url, 'undo', String(retried.runId), '--queue', '--json']);
    expect(undoRetry.code, undoRetry.stdout + undoRetry.stderr + log()).toBe(0);
    const undoneRetry = undoRetry.json<{ runId: number }>();
    expect(undoRetry.json()).toMatchObject({ command: 'undo', kind: 'undo', undoneRunId: retried.runId, queued: true });
    const undo = await ferry(folder, ['--state', database.url, 'undo', String(migrated.runId), '--queue', '--detach', '--json']);
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    const { jobId } = undo.json<{ jobId: string; undoneRunId: number }>();
    expect(undo.json()).toMatchObject({ command: 'undo', undoneRunId: migrated.runId, queued: true });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // Nothing secret in the payload: the command and its run.
      const job = await client.query<{ data: unknown }>('SELECT data FROM ferry_queue.job WHERE id = $1', [jobId]);
      expect(job.rows[0]!.data).toEqual({ command: 'undo', runId: migrated.runId, afterRunId: undoneRetry.runId });
    } finally {
      await client.end();
    }
    const ledger = await Ledger.open(database.url);
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const undone = (await ledger.listRuns()).find((run) => run.kind === 'undo' && run.parentRunId === migrated.runId);
        if (undone && undone.status !== 'running' && undone.status !== 'interrupted') {
          expect(undone.status, log()).toBe('completed');
          break;
        }
        if (Date.now() > deadline) throw new Error(`the queued undo did not finish; the worker said:\n${log()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await ledger.listRuns()).map((run) => run.kind)).toEqual(['full', 'retry', 'undo', 'undo']);
    } finally {
      await ledger.close();
    }
    expect(targetRows(folder)).toEqual(before);
    expect(log()).toContain(`: undo`);

    // A project's demo queues too (one job); the demo story (no project file) refuses --queue.
    const demo = await ferry(folder, ['--state', database.url, 'demo', '--queue', '--sample-size', '3', '--json']);
    expect(demo.json(), demo.stdout + demo.stderr + log()).toMatchObject({ command: 'demo', kind: 'demo', queued: true });
    const empty = mkdtempSync(join(tmpdir(), 'ferry-whole-run-story-'));
    try {
      const story = await ferry(empty, ['demo', '--queue', '--json']);
      expect(story.code).toBe(2);
      expect(story.stdout + story.stderr).toContain('drop --queue');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const partSize = await ferry(folder, ['--state', database.url, 'undo', '1', '--queue', '--part-size', '5', '--json']);
    expect(partSize.code).toBe(2);
  }, 120_000);
});
