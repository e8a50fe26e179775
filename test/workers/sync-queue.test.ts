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

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

/** A long-running `ferry` process (worker, sync) whose output the test reads as it comes. */
function start(folder: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--config', join(folder, 'ferry.yaml'), ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { process: child, output: () => output, exited: new Promise((resolve) => child.on('close', () => resolve())) };
}

/** Polls until `ready` holds (never a fixed sleep): the processes run at the machine's pace. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('ferry sync --queue', () => {
  let folder: string;
  let database: TempDatabase;
  let worker: { process: ChildProcess; output: () => string; exited: Promise<void> } | undefined;
  const others: Child[] = [];

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'ferry-sync-queue-'));
    await writeSyncScene(folder, { seed: 11, size: 40 });
    database = await createPostgresDatabase('ferry_sync_queue');
  });
  afterEach(async () => {
    for (const child of [...others.splice(0), ...(worker ? [worker] : [])]) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
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

  it("a worker takes the schedule over when the sync's process is gone, and hands it on when it stops; cut-over ends it", async () => {
    // The stale time only matters across hosts; here the keeper's pid tells at once that it is gone.
    const env = { FERRY_SYNC_STALE_MS: '2000' };
    const first = start(folder, ['--state', database.url, 'worker'], env);
    others.push(first);
    const migrate = await ferry(folder, ['--state', database.url, 'migrate', '--queue', '--json']);
    expect(migrate.code, migrate.stdout + migrate.stderr + first.output()).toBe(0);

    const keeper = start(folder, ['--state', database.url, 'sync', '--queue', '--every', '2s'], env);
    others.push(keeper);
    await until('the first cycle of the sync', () => (/Cycle 1 \(run \d+\)/.test(keeper.output()) ? true : undefined));
    keeper.process.kill('SIGKILL');
    await keeper.exited;
    const status = async () => (await ferry(folder, ['--state', database.url, 'sync', '--status', '--json'])).json<{ status: { id: number; state: string; holder: string; cycles: number; queue: unknown } }>().status;
    const killedAt = await status();
    expect(killedAt).toMatchObject({ state: 'running', queue: expect.any(Object) });

    // Changes made once the sync's process is gone arrive through the worker that took the schedule over.
    await applySourceChanges(join(folder, 'source.db'), { seed: 5, newRecords: { contacts: 2, companies: 1 }, changedRecords: { contacts: 3 }, at: nowIso() });
    await until('the worker to take the sync over', () => (first.output().includes(`took over the schedule of sync ${killedAt.id}`) ? true : undefined));
    const carried = await until('a cycle after the take-over that writes the changes', async () => {
      const runs = (await ferry(folder, ['--state', database.url, 'runs', '--json'])).json<{ runs: { id: number; kind: string; status: string; totals?: { created: number; updated: number }; counts?: Record<string, { created: number; updated: number }> }[] }>().runs;
      return runs.find((run) => run.kind === 'delta' && run.status === 'completed' && Object.values(run.counts ?? {}).some((count) => count.created + count.updated > 0) && run.id > 2);
    });
    expect(carried.id).toBeGreaterThan(2);
    // The run ends in the ledger a moment before its keeper records the cycle.
    const kept = await until('the cycle to be recorded by the new keeper', async () => {
      const now = await status();
      return now.cycles > killedAt.cycles ? now : undefined;
    });
    expect(kept.holder).toMatch(new RegExp(`:${first.process.pid}$`));

    // A worker that stops lets go of the sync (it is not stopped): the next worker takes it over.
    first.process.kill('SIGTERM');
    await first.exited;
    expect(first.output()).toContain(`let go of sync ${killedAt.id}`);
    expect((await status()).state).toBe('running');
    const second = start(folder, ['--state', database.url, 'worker'], env);
    others.push(second);
    await until('the second worker to take the sync over', () => (second.output().includes(`took over the schedule of sync ${killedAt.id}`) ? true : undefined));
    const cyclesBefore = (await status()).cycles;
    await until('a cycle on the second worker', async () => ((await status()).cycles > cyclesBefore ? true : undefined));

    const cutover = await ferry(folder, ['--state', database.url, 'cutover', '--json']);
    expect(cutover.code, cutover.stdout + cutover.stderr + second.output()).toBe(0);
    expect(cutover.json()).toMatchObject({ command: 'cutover', ok: true, stoppedSyncs: [killedAt.id], verify: { ok: true } });
    expect(await status()).toMatchObject({ state: 'stopped' });
    await until('the second worker to see the sync stopped', () => (second.output().includes(`sync ${killedAt.id} stopped (cutover)`) ? true : undefined));
  }, 240_000);

  it('a cycle queued by a keeper that died is waited for by the worker that takes over, never queued twice', async () => {
    const migrate = await ferry(folder, ['--state', database.url, 'migrate', '--json']);
    expect(migrate.code, migrate.stdout + migrate.stderr).toBe(0);
    await applySourceChanges(join(folder, 'source.db'), { seed: 6, newRecords: { contacts: 2 }, changedRecords: { contacts: 2 }, at: nowIso() });
    // No worker yet: the sync queues its first cycle and waits for it; then its process is killed.
    const keeper = start(folder, ['--state', database.url, 'sync', '--queue', '--every', '1h']);
    others.push(keeper);
    const jobId = await until('the first cycle to be queued', () => /Cycle queued as job ([0-9a-f-]+)/.exec(keeper.output())?.[1]);
    const status = async () =>
      (await ferry(folder, ['--state', database.url, 'sync', '--status', '--json'])).json<{ status: { id: number; cycles: number; queue: { cycle: { jobId: string } | null } | null; lastCycle: { runId: number; status: string } | null } }>().status;
    expect((await status()).queue?.cycle?.jobId).toBe(jobId);
    keeper.process.kill('SIGKILL');
    await keeper.exited;

    const child = start(folder, ['--state', database.url, 'worker']);
    others.push(child);
    const done = await until('the queued cycle to be recorded', async () => {
      const now = await status();
      return now.cycles >= 1 ? now : undefined;
    });
    expect(child.output()).toContain(`waiting for job ${jobId}, queued by the sync's previous keeper`);
    expect(done.lastCycle).toMatchObject({ status: 'completed' });
    expect(done.queue?.cycle ?? null).toBeNull();
    // One delta run: the one the dead keeper queued.
    const runs = (await ferry(folder, ['--state', database.url, 'runs', '--json'])).json<{ runs: { id: number; kind: string }[] }>().runs;
    expect(runs.filter((run) => run.kind === 'delta').map((run) => run.id)).toEqual([done.lastCycle!.runId]);
    const cutover = await ferry(folder, ['--state', database.url, 'cutover', '--json']);
    expect(cutover.code, cutover.stdout + cutover.stderr + child.output()).toBe(0);
    expect(cutover.json()).toMatchObject({ ok: true, verify: { ok: true } });
  }, 120_000);

  it('--detach leaves the schedule to the workers from the first tick', async () => {
    const migrate = await ferry(folder, ['--state', database.url, 'migrate', '--json']);
    expect(migrate.code, migrate.stdout + migrate.stderr).toBe(0);
    const detached = await ferry(folder, ['--state', database.url, 'sync', '--queue', '--detach', '--every', '1h', '--json']);
    expect(detached.code, detached.stdout + detached.stderr).toBe(0);
    expect(detached.json()).toMatchObject({ command: 'sync', queued: true, detached: true, sync: { state: 'running', cycles: 0 } });
    // Nobody keeps it yet, and it is not taken as gone: a second sync is refused.
    const second = await ferry(folder, ['--state', database.url, 'sync', '--queue', '--every', '1h', '--json']);
    expect(second.code).not.toBe(0);
    expect(second.stdout + second.stderr).toContain('kept by the workers; none has taken it over yet');
    const status = async () => (await ferry(folder, ['--state', database.url, 'sync', '--status', '--json'])).json<{ status: { state: string; stopReason: string | null; cycles: number; lastCycle: { status: string } | null } }>().status;
    expect(await status()).toMatchObject({ state: 'running', cycles: 0 });

    const child = start(folder, ['--state', database.url, 'worker']);
    others.push(child);
    const first = await until('the first cycle on the worker', async () => {
      const now = await status();
      return now.cycles >= 1 ? now : undefined;
    });
    expect(first.lastCycle).toMatchObject({ status: 'completed' });
    expect(child.output()).toMatch(/took over the schedule of sync \d+/);
    const cutover = await ferry(folder, ['--state', database.url, 'cutover', '--json']);
    expect(cutover.code, cutover.stdout + cutover.stderr + child.output()).toBe(0);
    expect(cutover.json()).toMatchObject({ command: 'cutover', ok: true, verify: { ok: true } });
    expect(await status()).toMatchObject({ state: 'stopped', stopReason: 'cutover' });
  }, 120_000);
});
