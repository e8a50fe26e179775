import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startPipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import { writeSampleSqlite } from '../../src/sample/index.js';
import { createPostgresDatabase } from '../../test/support/databases.js';
import type { BenchOptions, ScenarioResult } from './scenarios.js';
import { contactsFor, SEED } from './scenarios.js';

/**
 * `--scenarios workers`: one queued migration (sample SQLite -> the Pipedrive emulator, which answers every
 * request after `latencyMs`, as a vendor across the network does) written by 1, 2 and 4 `ferry worker`
 * processes; records/s and the speed-up against one worker. On a 2-core machine the workers' gain comes from
 * waiting on the network side by side, which is what a real vendor costs; the rate limit is set out of the
 * way (the shared pacing would hold all of them to it). Each count gets a fresh emulator and database.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = join(ROOT, 'src/cli/entry.ts');

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function workers(options: BenchOptions & { workersSize: number; latencyMs: number; workerCounts: number[] }): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  let single: number | undefined;
  for (const count of options.workerCounts) {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-workers-'));
    const database = await createPostgresDatabase('ferry_bench_workers');
    const pipedrive = await startPipedriveEmulator({ port: 0, burstLimit: { requests: 1_000_000, intervalMs: 2000 }, dailyBudget: 100_000_000 });
    pipedrive.faults.latency(options.latencyMs);
    const children: ChildProcess[] = [];
    try {
      const contacts = contactsFor(options.workersSize);
      await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: contacts });
      const db = new Database(join(dir, 'source.db'), { readonly: true });
      for (const row of db.prepare('SELECT email FROM owners').all() as { email: string }[]) pipedrive.store.addUser({ name: row.email, email: row.email });
      db.close();
      const config = join(dir, 'ferry.yaml');
      writeFileSync(
        config,
        [
          'version: 1',
          'source: { connector: sql, dialect: sqlite, path: source.db }',
          `target: { connector: pipedrive, apiToken: "\${PIPEDRIVE_TOKEN}", baseUrl: "${pipedrive.url}", burstLimit: 10000 }`,
          `state: "${database.url}"`,
          'sourceTimeZone: UTC',
          'options:',
          `  pageSize: ${Math.min(options.pageSize, 100)}`,
          '',
        ].join('\n'),
      );
      const env = { PATH: process.env.PATH, PIPEDRIVE_TOKEN: pipedrive.token };
      const mapped = await cli(['--config', config, 'map'], env);
      if (mapped.code !== 0) throw new Error(`ferry map failed: ${mapped.stdout}${mapped.stderr}`);
      for (let index = 0; index < count; index++) {
        children.push(spawn(process.execPath, ['--import', 'tsx', ENTRY, '--config', config, 'worker'], { cwd: ROOT, env, stdio: process.env.FERRY_BENCH_WORKER_LOG ? 'inherit' : 'ignore' }));
      }
      const partSize = Math.max(20, Math.ceil(options.workersSize / 16));
      options.log(`workers: ${count} worker(s), ~${options.workersSize} records, ${options.latencyMs} ms per request, parts of ${partSize}`);
      const before = pipedrive.stats.requests;
      const started = performance.now();
      const run = await cli(['--config', config, 'migrate', '--queue', '--part-size', String(partSize), '--json'], env);
      const seconds = (performance.now() - started) / 1000;
      const json = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { status?: string; totals?: { read: number; created: number; failed: number } };
      if (!json.totals) throw new Error(`the queued run failed: ${run.stdout.slice(-2000)}${run.stderr.slice(-2000)}`);
      const records = json.totals.read;
      const recordsPerSecond = Math.round(records / seconds);
      single ??= recordsPerSecond;
      results.push({
        scenario: `workers-${count}`,
        size: options.workersSize,
        records,
        seconds: Math.round(seconds * 100) / 100,
        recordsPerSecond,
        peakRssMb: 0,
        ratio: Math.round((recordsPerSecond / single) * 1000) / 1000,
        ratioOf: 'one worker (speed-up)',
        details: {
          status: json.status,
          workers: count,
          latencyMs: options.latencyMs,
          partSize,
          requests: pipedrive.stats.requests - before,
          status429: pipedrive.stats.status429,
          created: json.totals.created,
          failed: json.totals.failed,
          note: 'seconds from queueing to the summary (plan, parts, finish; workers start before); peak RSS not measured (several processes)',
        },
        targets: [],
      });
    } finally {
      // Stopped as an operator would (one SIGTERM), which ends a worker within its graceful timeout (30 s for
      // the job it runs, then its pools; test/workers/worker-stop.test.ts). The SIGKILL after 40 s is only a
      // safety net so a bench never hangs: it was seen needed once, before `ferry worker` bounded every step
      // of its stop and exited even when something still held the process (it says so on stderr).
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(
        children.map(
          (child) =>
            new Promise((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
              const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
              child.once('close', () => {
                clearTimeout(timer);
                resolve(undefined);
              });
            }),
        ),
      );
      await pipedrive.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}
