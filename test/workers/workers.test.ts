import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, type Run } from '../../src/ledger/index.js';
import { ferry } from '../cli/run-cli.js';
import { createPostgresDatabase, type TempDatabase } from '../support/databases.js';
import { writeSyncScene } from '../support/sync-scene.js';

/**
 * Queued runs carried by `ferry worker` processes on the machine's PostgreSQL (ledger and queue in one
 * throw-away database), SQLite -> SQLite sample migration: a worker killed mid-run loses nothing.
 */
const ENTRY = join(import.meta.dirname, '../../src/cli/entry.ts');
const TABLES = ['companies', 'contacts', 'deals', 'notes'] as const;

interface Worker {
  process: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

function startWorker(folder: string, state: string): Worker {
  // From the repository (where `--import tsx` resolves); the project file is named instead.
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

/** Worker output, for the message of a wait that timed out. */
let workerLog = (): string => '';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the workers said:\n${workerLog()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function targetCount(folder: string, table: string): number {
  const db = new SqliteDatabase(join(folder, 'target.db'), { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Small pages: many checkpoints, so the kill lands mid-object. */
function setPageSize(folder: string, size = 20): void {
  const yaml = readFileSync(join(folder, 'ferry.yaml'), 'utf8').replace(/^ {2}pageSize: \d+\n/m, '');
  writeFileSync(join(folder, 'ferry.yaml'), /^options:/m.test(yaml) ? yaml.replace(/^options:\n/m, `options:\n  pageSize: ${size}\n`) : `${yaml}\noptions:\n  pageSize: ${size}\n`);
}

/** What verify found, without target ids (the two copies' targets number their records apart). */
function findings(result: { issues?: { object: string; sourceId: string; kind: string; field?: string }[] }): string[] {
  return (result.issues ?? []).map((issue) => `${issue.object}:${issue.sourceId}:${issue.kind}:${issue.field ?? ''}`).sort();
}

describe('ferry worker on PostgreSQL', () => {
  let folder: string;
  let database: TempDatabase;
  let ledger: Ledger;
  const workers: Worker[] = [];
  workerLog = () => workers.map((worker) => worker.output()).join('\n---\n');

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'ferry-workers-'));
    await writeSyncScene(folder, { seed: 16, size: 300 });
    setPageSize(folder);
    database = await createPostgresDatabase('ferry_workers');
    ledger = await Ledger.open(database.url);
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) {
      if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
      await worker.exited;
    }
    await ledger.close();
    await database.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  const firstRun = async (): Promise<Run | undefined> => (await ledger.listRuns()).find((run) => run.kind === 'full');

  it('three workers write a run in parts side by side; one SIGKILLed mid-part: the run ends an exact copy (no duplicate, nothing lost)', async () => {
    const before = Object.fromEntries(TABLES.map((table) => [table, targetCount(folder, table)]));
    workers.push(startWorker(folder, database.url), startWorker(folder, database.url), startWorker(folder, database.url));

    const queued = await ferry(folder, ['--state', database.url, 'migrate', '--queue', '--detach', '--unit-timeout', '2', '--part-size', '60', '--json']);
    expect(queued.code, queued.stdout + queued.stderr).toBe(0);
    const { jobId, queued: isQueued } = queued.json<{ jobId: string; queued: boolean }>();
    expect(isQueued).toBe(true);
    // Nothing secret in what the queue holds: the job is the command and its flags.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const job = await client.query<{ data: Record<string, unknown> }>(`SELECT data FROM ferry_queue.job WHERE id = $1`, [jobId]);
      expect(job.rows[0]!.data).toEqual({ command: 'migrate', noMatch: false, afterRunId: 0, partSize: 60, unitTimeout: 2 });
    } finally {
      await client.end();
    }

    // Which workers hold which part, seen while the run goes on: two at once is the run written side by side.
    const holdersAtOnce: number[] = [];
    const leases = async () => (await sql<{ part: string; holder: string }>`select part, holder from ferry_workers.part_leases`.execute(ledger.kysely)).rows;
    // Kill the worker writing a part of the contacts once that part has written a page.
    const holder = await until('a contacts part to be under way', async () => {
      const run = await firstRun();
      if (!run || run.status !== 'running') return undefined;
      const rows = await leases();
      holdersAtOnce.push(new Set(rows.map((row) => row.holder)).size);
      const contacts = rows.find((row) => row.part.startsWith('contacts'));
      if (!contacts) return undefined;
      const pages = await sql<{ n: number }>`select count(*)::int as n from units where phase like ${`write%`} and object = 'contacts'`.execute(ledger.kysely);
      return pages.rows[0]!.n > 0 ? contacts.holder : undefined;
    });
    const pid = Number(holder.split(':')[1]);
    const victim = workers.find((worker) => worker.process.pid === pid);
    expect(victim, `lease holder ${holder}`).toBeDefined();
    victim!.process.kill('SIGKILL');
    await victim!.exited;
    const killedAt = (await firstRun())!;
    expect(killedAt.status).toBe('running');

    const finished = await until('the run to finish on another worker', async () => {
      const run = await firstRun();
      holdersAtOnce.push(new Set((await leases()).map((row) => row.holder)).size);
      return run && run.status !== 'running' && run.status !== 'interrupted' ? run : undefined;
    });
    expect(Math.max(...holdersAtOnce)).toBeGreaterThanOrEqual(2);
    // Dependency order: no contact, deal or note was created before the last company (they refer to companies).
    const order = await sql<{ object: string; first: number; last: number }>`
      select object, min(id)::int as first, max(id)::int as last from journal where action = 'create' group by object`.execute(ledger.kysely);
    const span = Object.fromEntries(order.rows.map((row) => [row.object, row]));
    for (const child of ['contacts', 'deals']) if (span[child] && span.companies) expect(span[child].first, child).toBeGreaterThan(span.companies.last);
    expect(finished.id).toBe(killedAt.id);
    expect(finished.status, workers.map((worker) => worker.output()).join('\n')).toBe('completed_with_failures');
    expect((await ledger.listRuns()).filter((run) => run.kind === 'full')).toHaveLength(1);
    // A surviving worker says it ran it (after the run's row, so wait for its line).
    const survivors = () => workers.filter((worker) => worker !== victim).map((worker) => worker.output()).join('\n');
    await until('a surviving worker to report the run', async () => (survivors().includes(`run ${finished.id} completed_with_failures`) ? true : undefined), 10_000);

    // Exact copy: the same as the run uninterrupted in-process (same target counts, same verify findings:
    // the sample's bad rows), each source record created at most once, each target table grown by exactly
    // the records the ledger says were created in it.
    const reference = mkdtempSync(join(tmpdir(), 'ferry-workers-ref-'));
    try {
      await writeSyncScene(reference, { seed: 16, size: 300 });
      setPageSize(reference);
      const inProcess = await ferry(reference, ['migrate', '--json']);
      expect(inProcess.json<{ status: string }>().status).toBe(finished.status);
      for (const table of TABLES) expect(targetCount(folder, table), table).toBe(targetCount(reference, table));
      const verify = await ferry(folder, ['--state', database.url, 'verify', '--json']);
      const verifyReference = await ferry(reference, ['verify', '--json']);
      expect(findings(verify.json())).toEqual(findings(verifyReference.json()));
    } finally {
      rmSync(reference, { recursive: true, force: true });
    }
    const creates = await sql<{ object: string; source_id: string; n: number }>`
      select object, source_id, count(*) as n from journal where action = 'create' group by object, source_id having count(*) > 1`.execute(ledger.kysely);
    expect(creates.rows).toEqual([]);
    for (const table of TABLES) {
      expect(targetCount(folder, table) - before[table]!, table).toBe(await ledger.countLinks(table, ['created']));
    }

    // A queued delta, waited for by the command: it shows the run's summary and exits 0.
    const delta = await ferry(folder, ['--state', database.url, 'delta', '--create-new', '--update-changed', '--queue', '--json']);
    expect(delta.code, delta.stdout + delta.stderr).toBe(0);
    expect(delta.json()).toMatchObject({ command: 'delta', queued: true });
    expect((await ledger.listRuns()).map((run) => run.kind)).toEqual(['full', 'delta']);
  }, 120_000);

  it('a queued run paused from another process (ferry jobs cancel) stays resumable; ferry runs and ferry jobs name the worker of each part', async () => {
    const before = Object.fromEntries(TABLES.map((table) => [table, targetCount(folder, table)]));
    // Pages of 2: the run lasts long enough for the commands below to reach it while it runs.
    setPageSize(folder, 2);
    const worker = startWorker(folder, database.url);
    workers.push(worker);
    const queued = await ferry(folder, ['--state', database.url, 'migrate', '--queue', '--detach', '--json']);
    const { jobId } = queued.json<{ jobId: string }>();
    await until('a part to be under way', async () => {
      const run = await firstRun();
      const leases = await sql<{ holder: string }>`select holder from ferry_workers.part_leases`.execute(ledger.kysely).catch(() => ({ rows: [] }));
      return run?.status === 'running' && leases.rows.length > 0 ? run : undefined;
    });
    // Which worker writes which part, from another process: `ferry runs` and `ferry jobs`.
    // (Polled: between two parts, for a moment, no part is being written.)
    type Listed = { id: string; state: string; worker?: string; part?: { key: string; group: string } };
    const seen = await until('ferry runs and ferry jobs to show a part being written', async () => {
      const runs = await ferry(folder, ['--state', database.url, 'runs', '--json']);
      const writing = runs.json<{ parts: { writing: { part: string; worker: string }[] }[] }>().parts[0]?.writing ?? [];
      if (writing.length === 0) return undefined;
      const jobs = await ferry(folder, ['--state', database.url, 'jobs', '--json']);
      const listed = jobs.json<{ jobs: Listed[] }>().jobs;
      return listed.some((job) => job.state === 'active' && job.worker === writing[0]!.worker) ? { writing, listed } : undefined;
    });
    expect(seen.writing[0]!.worker).toMatch(new RegExp(`:${worker.process.pid}$`));
    expect(seen.listed).toContainEqual(expect.objectContaining({ id: jobId, state: 'completed' }));
    expect(seen.listed).toContainEqual(expect.objectContaining({ state: 'active', worker: seen.writing[0]!.worker, part: expect.objectContaining({ group: jobId }) }));

    const cancel = await ferry(folder, ['--state', database.url, 'jobs', 'cancel', jobId, '--json']);
    expect(cancel.json()).toMatchObject({ jobId, wasRunning: true });
    const paused = await until('the run to pause', async () => {
      const run = await firstRun();
      return run?.status === 'interrupted' ? run : undefined;
    });
    expect(paused.error).toContain('RUN_PAUSED');
    const again = await ferry(folder, ['--state', database.url, 'jobs', 'cancel', jobId, '--json']);
    expect(again.code).toBe(2);

    // Queued again: the same run resumes and finishes; nothing created twice.
    const resumed = await ferry(folder, ['--state', database.url, 'migrate', '--queue', '--json']);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3);
    expect(resumed.json()).toMatchObject({ command: 'migrate', runId: paused.id, status: 'completed_with_failures', resumed: true, queued: true });
    expect((await ledger.listRuns()).map((run) => run.id)).toEqual([paused.id]);
    const creates = await sql<{ n: number }>`
      select count(*) as n from journal where action = 'create' group by object, source_id having count(*) > 1`.execute(ledger.kysely);
    expect(creates.rows).toEqual([]);
    for (const table of TABLES) {
      expect(targetCount(folder, table) - before[table]!, table).toBe(await ledger.countLinks(table, ['created']));
    }
  }, 60_000);

  it('refuses --queue with a SQLite ledger and flags that cannot be queued', async () => {
    const sqlite = await ferry(folder, ['migrate', '--queue', '--json']);
    expect(sqlite.code).toBe(2);
    expect(sqlite.stdout + sqlite.stderr).toContain('needs the ledger on PostgreSQL');
    const rerun = await ferry(folder, ['--state', database.url, 'migrate', '--queue', '--rerun', '--yes', '--json']);
    expect(rerun.code).toBe(2);
    expect(rerun.stdout + rerun.stderr).toContain('--rerun cannot be queued');
    const detach = await ferry(folder, ['--state', database.url, 'migrate', '--detach', '--json']);
    expect(detach.code).toBe(2);
    expect(detach.stdout + detach.stderr).toContain('go with --queue');
  });
});
