import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ferry } from '../cli/run-cli.js';
import { createPostgresDatabase, type TempDatabase } from '../support/databases.js';
import { writeSyncScene } from '../support/sync-scene.js';

/**
 * One SIGTERM ends a `ferry worker` process (exit 0), idle or in the middle of a job: nothing it opened
 * (the queue, the lease and pacing pools, the cancel watch, a lease's heartbeat) keeps it alive. The bound
 * is a liveness bound (far above the graceful timeout), not a timing measurement.
 */
const ENTRY = join(import.meta.dirname, '../../src/cli/entry.ts');
const LIVENESS_MS = 60_000;

interface Worker {
  process: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(folder: string, state: string, preload: string[] = []): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload.flatMap((file) => ['--import', file]), ENTRY, '--config', join(folder, 'ferry.yaml'), '--state', state, 'worker'], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { process: child, output: () => output, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, log: () => string, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the worker said:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves with how the process ended, or with 'alive' when it is still there after the bound. */
async function endsWithin(worker: Worker, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'alive'> {
  let timer: NodeJS.Timeout | undefined;
  const alive = new Promise<'alive'>((resolve) => (timer = setTimeout(() => resolve('alive'), ms)));
  try {
    return await Promise.race([worker.exited, alive]);
  } finally {
    clearTimeout(timer);
  }
}

describe('ferry worker stops on one SIGTERM', () => {
  let folder: string;
  let database: TempDatabase;
  const workers: Worker[] = [];

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'ferry-worker-stop-'));
    await writeSyncScene(folder, { seed: 17, size: 120 });
    // Pages of 2: the run lasts long enough to be stopped in the middle of a job.
    const yaml = readFileSync(join(folder, 'ferry.yaml'), 'utf8').replace(/^ {2}pageSize: \d+\n/m, '');
    writeFileSync(join(folder, 'ferry.yaml'), /^options:/m.test(yaml) ? yaml.replace(/^options:\n/m, 'options:\n  pageSize: 2\n') : `${yaml}\noptions:\n  pageSize: 2\n`);
    database = await createPostgresDatabase('ferry_worker_stop');
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) {
      if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
      await worker.exited;
    }
    await database.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('an idle worker exits 0', async () => {
    const worker = startWorker(folder, database.url);
    workers.push(worker);
    await until('the worker to wait for runs', async () => (worker.output().includes('is waiting for runs') ? true : undefined), worker.output);
    worker.process.kill('SIGTERM');
    const ended = await endsWithin(worker, LIVENESS_MS);
    expect(ended, worker.output()).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain('stopping after the current page');
    // Ended by its own handles closing, not by the last resort.
    expect(worker.output()).not.toContain('still held open');
  }, 90_000);

  it('a worker whose process something else holds open (a leaked interval) still exits 0 and names what held it', async () => {
    // A handle none of the worker's own: the stop's last resort ends the process anyway.
    const leak = join(folder, 'leak.mjs');
    writeFileSync(leak, 'setInterval(() => undefined, 1000);\n');
    const worker = startWorker(folder, database.url, [pathToFileURL(leak).href]);
    workers.push(worker);
    await until('the worker to wait for runs', async () => (worker.output().includes('is waiting for runs') ? true : undefined), worker.output);
    worker.process.kill('SIGTERM');
    const ended = await endsWithin(worker, LIVENESS_MS);
    expect(ended, worker.output()).toEqual({ code: 0, signal: null });
    expect(worker.output()).toMatch(/still held open after stopping \(.*Timeout.*\); exiting\./);
  }, 90_000);

  it('a worker in the middle of a part exits 0; the part goes back to the queue and another worker finishes the run', async () => {
    const worker = startWorker(folder, database.url);
    workers.push(worker);
    const queued = await ferry(folder, ['--state', database.url, 'migrate', '--queue', '--detach', '--json']);
    expect(queued.code, queued.stdout + queued.stderr).toBe(0);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // A part being written (its lease held), not merely the plan.
      await until(
        'a part to be under way',
        async () => {
          const leases = await client.query('SELECT part FROM ferry_workers.part_leases').catch(() => ({ rows: [] }));
          return leases.rows.length > 0 ? true : undefined;
        },
        worker.output,
      );
      worker.process.kill('SIGTERM');
      const ended = await endsWithin(worker, LIVENESS_MS);
      expect(ended, worker.output()).toEqual({ code: 0, signal: null });
      expect(worker.output()).not.toContain('still held open');

      // Nothing lost: a second worker takes the part again and the run ends.
      const second = startWorker(folder, database.url);
      workers.push(second);
      const status = await until(
        'the run to finish on the second worker',
        async () => {
          const runs = await client.query<{ status: string }>(`SELECT status FROM runs WHERE kind = 'full'`);
          const status = runs.rows[0]?.status;
          return status === 'completed' || status === 'completed_with_failures' ? status : undefined;
        },
        second.output,
        60_000,
      );
      expect(status).toBe('completed_with_failures');
      second.process.kill('SIGTERM');
      expect(await endsWithin(second, LIVENESS_MS), second.output()).toEqual({ code: 0, signal: null });
    } finally {
      await client.end();
    }
  }, 180_000);
});
