import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { addCounts, emptyCounts, type Counts } from '../../src/core/progress.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import { Ledger, type Run } from '../../src/ledger/index.js';
import { writeSampleSqlite } from '../../src/sample/index.js';
import type { PartsProgress } from '../../src/workers/progress.js';
import { ferry } from '../cli/run-cli.js';
import { createPostgresDatabase, type TempDatabase } from '../support/databases.js';

/**
 * Live progress of a queued run (issue 16): a part's counts are in the ledger with each page it records,
 * `ferry runs` names its worker and shows them, the waiting command renders them, and a part taken over
 * after its worker was SIGKILLed counts every record once. Deterministic: the Pipedrive emulator holds the
 * 6th organization create (a hold fault) until the test is done with it, so the companies part is stopped
 * after its first page of 5, whatever the machine's speed.
 */
const ENTRY = join(import.meta.dirname, '../../src/cli/entry.ts');
const PAGE = 5;

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, log: () => string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function sumCounts(...records: Record<string, Partial<Counts>>[]): Record<string, Counts> {
  const total: Record<string, Counts> = {};
  for (const record of records) for (const [object, counts] of Object.entries(record)) addCounts((total[object] ??= emptyCounts()), counts);
  return total;
}

describe('live progress of a queued run', () => {
  let dir: string | undefined;
  let pipedrive: PipedriveEmulator | undefined;
  let database: TempDatabase | undefined;
  let ledger: Ledger | undefined;
  const children: Child[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
    pipedrive?.faults.clear();
    await pipedrive?.close();
    await ledger?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows each part’s counts and worker while it runs; a SIGKILLed worker’s part is taken over and counted once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-queued-progress-'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: 11, size: 24 });
    pipedrive = await startPipedriveEmulator({ port: 0 });
    const source = new SqliteDatabase(join(dir, 'source.db'), { readonly: true });
    for (const row of source.prepare('SELECT email FROM owners').all() as { email: string }[]) pipedrive.store.addUser({ name: row.email, email: row.email });
    const contacts = (source.prepare('SELECT COUNT(*) AS n FROM contacts').get() as { n: number }).n;
    source.close();
    expect(contacts).toBeGreaterThan(PAGE * 2);
    database = await createPostgresDatabase('ferry_queued_progress');
    ledger = await Ledger.open(database.url);
    const env = { PATH: process.env.PATH, PIPEDRIVE_TOKEN: pipedrive.token };
    writeFileSync(
      join(dir, 'ferry.yaml'),
      [
        'version: 1',
        'source: { connector: sql, dialect: sqlite, path: source.db }',
        `target: { connector: pipedrive, apiToken: "\${PIPEDRIVE_TOKEN}", baseUrl: "${pipedrive.url}" }`,
        `state: "${database.url}"`,
        'sourceTimeZone: UTC',
        'options:',
        `  pageSize: ${PAGE}`,
        '',
      ].join('\n'),
    );
    const mapped = await ferry(dir, ['map', '--json'], env);
    expect(mapped.code, mapped.stdout + mapped.stderr).toBe(0);

    const folder = dir;
    const startWorker = (): Child => {
      const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--config', join(folder, 'ferry.yaml'), 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const started: Child = { process: child, output: () => output, exited: new Promise((resolve) => child.on('close', () => resolve())) };
      children.push(started);
      return started;
    };
    // The contacts part (persons) writes its first page of 5, then its next creates are held (a page's
    // creates may go out side by side: all of them wait).
    const gate = pipedrive.faults.hold({ method: 'POST', path: '/api/v2/persons', skip: PAGE });
    const first = startWorker();

    // The waiting command, in this process, its output read as it goes.
    let waited = '';
    const io: CliIo = {
      stdout: { write: (text: string) => (waited += text), isTTY: false },
      stderr: { write: (text: string) => (waited += text), isTTY: false },
      stdin: Readable.from([]),
      cwd: dir,
      env,
    };
    const waiting = main(['node', 'ferry', 'migrate', '--queue', '--unit-timeout', '2'], io);
    const log = () => `${waited}\n--- POSTs: ${pipedrive!.log.filter((entry) => entry.method === "POST").map((entry) => `${entry.path} ${entry.status}`).join(", ")}\n--- workers:\n${children.map((child) => child.output()).join('\n---\n')}`;

    await until('the 6th person create to be held', () => (pipedrive!.faults.held(gate) >= 1 ? true : undefined), log);
    const run = await until('the queued run', async () => (await ledger!.listRuns()).find((candidate: Run) => candidate.kind === 'full'), log);
    expect(run.status).toBe('running');

    // Mid-run, from another process's view: the part, its worker and its first page's counts.
    const runs = await ferry(dir, ['runs', String(run.id), '--json'], env);
    expect(runs.code, runs.stdout + runs.stderr).toBe(0);
    const live = runs.json<{ parts: PartsProgress[] }>().parts[0]!;
    const part = live.parts.find((candidate) => candidate.object === 'contacts')!;
    expect(part).toMatchObject({ state: 'running', worker: { id: `${hostname()}:${first.process.pid}`, host: hostname(), pid: first.process.pid, stale: false } });
    expect(Date.parse(part.worker!.heartbeatAt!)).not.toBeNaN();
    expect(part.counts.contacts).toMatchObject({ read: PAGE, created: PAGE });
    // Parts that refer to contacts wait for it (deals, notes); the companies are done.
    expect(live.done).toContain('companies');
    expect(live.parts.filter((candidate) => candidate.object === 'notes').every((candidate) => candidate.state === 'waiting' && candidate.after.includes(part.key))).toBe(true);
    const text = await ferry(dir, ['runs'], env);
    expect(text.stdout).toMatch(new RegExp(`${part.key}\\s+running\\s+${hostname()} pid ${first.process.pid}\\s+\\S+ \\S+Z\\s+${PAGE}\\s+${PAGE}`));
    // The waiting command shows the same counts through its progress view, before the run ends.
    await until('the waiting command to show the part’s counts', () => (waited.includes(`writing ${part.key} on ${hostname()}:${first.process.pid} (${PAGE} read)`) ? true : undefined), log);

    // The worker dies with its creates held; another takes the part over once the lease is stale (10 s), and
    // its first create is held too: only then are they all let go. The dead worker's are never carried out
    // (their client is gone, seconds ago); the new worker's go on.
    const heldByFirst = pipedrive.faults.held(gate);
    first.process.kill('SIGKILL');
    await first.exited;
    const second = startWorker();
    await until('the second worker’s first create to be held', () => (pipedrive!.faults.held(gate) > heldByFirst ? true : undefined), log);
    pipedrive.faults.release(gate);
    const code = await waiting;
    expect(code, log()).toBe(3);
    // Started, or resumed when the plan stage outlived its 2 s lease on a loaded machine and was tried again.
    expect(waited).toMatch(/Run \d+ \(full\) started\.|Resuming unfinished run \d+ \(full\)/);
    expect(waited).toContain('  contacts: ');

    const finished = (await ledger.getRun(run.id))!;
    expect(finished.status).toBe('completed_with_failures');
    const after = await ferry(dir, ['runs', String(run.id), '--json'], env);
    const final = after.json<{ parts: PartsProgress[] }>().parts[0]!;
    expect(final.parts.every((candidate) => candidate.state === 'done')).toBe(true);
    const taken = final.parts.find((candidate) => candidate.key === part.key)!;
    expect(taken.worker?.id).toBe(`${hostname()}:${second.process.pid}`);
    expect(taken.attempts).toBeGreaterThanOrEqual(2);
    // Counted once: every contact read once, though the first page was written by the dead worker; the
    // target holds as many persons as the ledger links created, and the part and the run say so.
    const persons = pipedrive.store.table('persons').liveRows().length;
    expect(await ledger.countLinks('contacts', ['created'])).toBe(persons);
    expect(taken.counts.contacts).toMatchObject({ read: contacts, created: persons });
    expect(finished.counts.contacts).toMatchObject({ read: contacts, created: persons });
    expect(pipedrive.log.filter((entry) => entry.fault === 'held, client gone')).toHaveLength(heldByFirst);
    // The parts' reads add up to the run's, object by object (the finish stage reads nothing new: what it
    // reads again is `reread`), and the parts view's running total is the run's own at the end.
    const partsSum = sumCounts(...final.parts.map((candidate) => candidate.counts));
    for (const object of Object.keys(finished.counts)) expect(partsSum[object]?.read ?? 0, object).toBe(finished.counts[object]!.read);
    for (const [object, counts] of Object.entries(final.counts)) expect(counts.read, object).toBe(finished.counts[object]!.read);
  }, 120_000);
});
