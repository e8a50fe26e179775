import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import { writeSampleSqlite } from '../../src/sample/index.js';
import { ferry } from '../cli/run-cli.js';
import { createPostgresDatabase, type TempDatabase } from '../support/databases.js';

/**
 * Three `ferry worker` processes write one queued run into the Pipedrive emulator, whose burst window is
 * per token (the account): their pacers share the account's token bucket in PostgreSQL, so the emulator,
 * which counts every request it admits, never sees more than the limit in any window and never answers 429.
 */
const ENTRY = join(import.meta.dirname, '../../src/cli/entry.ts');
const LIMIT = { requests: 30, intervalMs: 2000 };

describe('pacing shared by workers through PostgreSQL', () => {
  let dir: string | undefined;
  let pipedrive: PipedriveEmulator | undefined;
  let database: TempDatabase | undefined;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const closed = new Promise((resolve) => child.once('close', resolve));
        child.kill('SIGKILL');
        await closed;
      }
    }
    await pipedrive?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('three workers into one Pipedrive account never exceed its burst window', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-shared-pacing-'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: 9, size: 24 });
    pipedrive = await startPipedriveEmulator({ port: 0, burstLimit: LIMIT });
    const db = new SqliteDatabase(join(dir, 'source.db'), { readonly: true });
    for (const row of db.prepare('SELECT email FROM owners').all() as { email: string }[]) pipedrive.store.addUser({ name: row.email, email: row.email });
    db.close();
    database = await createPostgresDatabase('ferry_pacing_e2e');
    const env = { PATH: process.env.PATH, PIPEDRIVE_TOKEN: pipedrive.token };
    // The token from each worker's environment; the connector paces to the account's published window.
    writeFileSync(
      join(dir, 'ferry.yaml'),
      [
        'version: 1',
        'source: { connector: sql, dialect: sqlite, path: source.db }',
        `target: { connector: pipedrive, apiToken: "\${PIPEDRIVE_TOKEN}", baseUrl: "${pipedrive.url}", burstLimit: ${LIMIT.requests} }`,
        `state: "${database.url}"`,
        'sourceTimeZone: UTC',
        'options:',
        '  pageSize: 5',
        '',
      ].join('\n'),
    );
    const mapped = await ferry(dir, ['map', '--json'], env);
    expect(mapped.code, mapped.stdout + mapped.stderr).toBe(0);
    let output = '';
    for (let index = 0; index < 3; index++) {
      const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--config', join(dir, 'ferry.yaml'), 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      children.push(child);
    }
    const run = await ferry(dir, ['migrate', '--queue', '--part-size', '10', '--json'], env);
    expect(run.code, run.stdout + run.stderr + output).toBe(3);
    expect(run.json()).toMatchObject({ queued: true, status: 'completed_with_failures' });

    // Parts ran on several workers (the log names the worker of each part).
    const partWorkers = new Set([...output.matchAll(/worker (\S+): run \d+ part \S+: started/g)].map((match) => match[1]));
    expect(partWorkers.size).toBeGreaterThanOrEqual(2);
    // The account's window as the emulator counted it: admitted requests in any window of its length.
    const admitted = pipedrive.log.filter((entry) => entry.status !== 429).map((entry) => entry.at).sort((a, b) => a - b);
    expect(admitted.length).toBeGreaterThan(LIMIT.requests * 2);
    let busiest = 0;
    for (const [index, start] of admitted.entries()) busiest = Math.max(busiest, admitted.slice(index).filter((at) => at < start + LIMIT.intervalMs).length);
    expect(busiest).toBeLessThanOrEqual(LIMIT.requests);
    expect(pipedrive.stats.status429).toBe(0);
  }, 120_000);
});
