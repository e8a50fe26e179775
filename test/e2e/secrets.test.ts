import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoTargetPostgres, writeSampleSqlite } from '../../src/sample/index.js';
import { createPostgresDatabase, type TempDatabase } from '../support/databases.js';

/**
 * Secrets never appear in what Ferry prints or writes: a whole migration through the CLI with passwords in
 * the target and ledger URLs (PostgreSQL here trusts local connections, so any password is accepted), then
 * a scan of stdout, stderr, every file in the project folder and every row of the ledger and of the job
 * queue (a delta run by `ferry worker`).
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRY = join(ROOT, 'src', 'cli', 'entry.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SECRET = 'Sup3r-Secret-Pa55word';

function withPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = SECRET;
  return parsed.toString();
}

describe('secrets', () => {
  let dir: string;
  let target: TempDatabase;
  let ledger: TempDatabase;
  const printed: string[] = [];
  let env: NodeJS.ProcessEnv;

  function ferry(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((done) => {
      execFile(process.execPath, ['--import', TSX, ENTRY, ...args], { cwd: dir, env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        printed.push(stdout, stderr);
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-secrets-'));
    target = await createPostgresDatabase('ferry_secret_target');
    ledger = await createPostgresDatabase('ferry_secret_state');
    await writeSampleSqlite(join(dir, 'source.db'), { seed: 5, size: 120 });
    await createDemoTargetPostgres(target.url, { seed: 5, size: 120 });
    env = { ...process.env, NO_COLOR: '1', FERRY_TARGET_URL: withPassword(target.url), FERRY_STATE_URL: withPassword(ledger.url) };
    writeFileSync(
      join(dir, 'ferry.yaml'),
      [
        'version: 1',
        'source: { connector: sql, dialect: sqlite, path: ./source.db }',
        'target:',
        '  connector: sql',
        '  dialect: postgres',
        '  url: ${FERRY_TARGET_URL}',
        'state: ${FERRY_STATE_URL}',
        'objects: {}',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await target.drop();
    await ledger.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appear nowhere in output, files or the ledger after map, check, migrate, delta, reports, verify and errors', async () => {
    expect((await ferry('map')).code).toBe(0);
    expect([0, 2]).toContain((await ferry('check')).code);
    const migrate = await ferry('migrate', '--json');
    expect([0, 3]).toContain(migrate.code);
    expect([0, 3]).toContain((await ferry('delta', '--create-new', '--update-changed')).code);
    // A run queued to a worker (pg-boss in the ledger's database): the worker reads the secrets from its own
    // environment; the queue's tables are scanned with the ledger's below.
    const worker = spawn(process.execPath, ['--import', TSX, ENTRY, 'worker'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const workerExited = new Promise<void>((done) => worker.on('close', () => done()));
    let workerOutput = '';
    worker.stdout.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
    const queued = await ferry('delta', '--create-new', '--update-changed', '--queue', '--json');
    worker.kill('SIGTERM');
    await workerExited;
    printed.push(workerOutput);
    expect([0, 3], queued.stdout + queued.stderr + workerOutput).toContain(queued.code);
    expect(workerOutput).toContain('job ');
    await ferry('runs');
    await ferry('jobs');
    await ferry('report', '1', '--format', 'html', '--output', 'report.html');
    await ferry('report', '1', '--format', 'csv', '--output', 'report.csv');
    await ferry('report', '1', '--format', 'json', '--output', 'report.json');
    await ferry('verify', '--json');
    // Errors: an unreachable database and a wrong database name, with the password in the URL.
    const unreachable = new URL(withPassword(target.url));
    unreachable.port = '1';
    const down = await ferry('check', '--state', withPassword(ledger.url)).then(async () => {
      env = { ...env, FERRY_TARGET_URL: unreachable.toString() };
      return ferry('migrate', '--json');
    });
    expect(down.code).toBe(1);
    expect(down.stdout).toContain('CONNECTION_FAILED');
    const missing = new URL(withPassword(target.url));
    missing.pathname = '/no_such_database_here';
    env = { ...env, FERRY_TARGET_URL: missing.toString() };
    expect((await ferry('migrate')).code).toBe(1);

    const everything: string[] = [...printed];
    const walk = (folder: string) => {
      for (const name of readdirSync(folder)) {
        const path = join(folder, name);
        if (statSync(path).isDirectory()) walk(path);
        else everything.push(readFileSync(path).toString('latin1'));
      }
    };
    walk(dir);
    const client = new pg.Client({ connectionString: ledger.url });
    await client.connect();
    try {
      // The ledger's tables (public), the queue's (pg-boss, schema ferry_queue) and the workers' (ferry_workers).
      const tables = await client.query<{ table_schema: string; table_name: string }>(
        `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
      );
      expect(tables.rows.length).toBeGreaterThan(5);
      expect(tables.rows.some((table) => table.table_schema === 'ferry_queue' && table.table_name === 'job')).toBe(true);
      // The workers' own tables too: part leases and the shared rate-limit buckets (src/workers).
      expect(tables.rows.filter((table) => table.table_schema === 'ferry_workers').map((table) => table.table_name).sort()).toEqual(['part_leases', 'rate_buckets']);
      for (const { table_schema, table_name } of tables.rows) {
        const rows = await client.query(`SELECT row_to_json(t)::text AS row FROM "${table_schema}"."${table_name}" t`);
        for (const row of rows.rows as { row: string }[]) everything.push(row.row);
      }
    } finally {
      await client.end();
    }
    expect(everything.join('\n').length).toBeGreaterThan(10_000);
    const leaks = everything.filter((text) => text.includes(SECRET) || text.includes(encodeURIComponent(SECRET)));
    expect(leaks.map((text) => text.slice(Math.max(0, text.indexOf(SECRET) - 200), text.indexOf(SECRET) + 50))).toEqual([]);
    // The project file still names the variables, never their values.
    expect(readFileSync(join(dir, 'ferry.yaml'), 'utf8')).toContain('${FERRY_TARGET_URL}');
  });
});
