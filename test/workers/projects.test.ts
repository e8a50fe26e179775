import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ferry } from '../cli/run-cli.js';
import { createPostgresDatabase, type TempDatabase } from '../support/databases.js';
import { writeSyncScene } from '../support/sync-scene.js';

/**
 * Two projects in one PostgreSQL database (`?project=` in the ledger URL), each with its own worker: their
 * ledgers are separate schemas, their runs separate queues. Pausing one project's run (ferry jobs cancel)
 * leaves the other's run going to its end, and neither project sees the other's runs or jobs.
 */
const ENTRY = join(import.meta.dirname, '../../src/cli/entry.ts');

async function until<T>(what: string, probe: () => Promise<T | undefined>, log: () => string, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the workers said:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('several projects in one database', () => {
  const folders: string[] = [];
  const children: ChildProcess[] = [];
  let database: TempDatabase | undefined;
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const closed = new Promise((resolve) => child.once('close', resolve));
        child.kill('SIGKILL');
        await closed;
      }
    }
    await database?.drop();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it('two projects side by side: one paused, the other finishes; neither sees the other', async () => {
    database = await createPostgresDatabase('ferry_projects');
    const url = (project: string) => `${database!.url}?project=${project}`;
    let output = '';
    const scene = async (seed: number, pageSize: number) => {
      const folder = mkdtempSync(join(tmpdir(), 'ferry-projects-'));
      folders.push(folder);
      await writeSyncScene(folder, { seed, size: 120 });
      const yaml = readFileSync(join(folder, 'ferry.yaml'), 'utf8').replace(/^ {2}pageSize: \d+\n/m, '');
      writeFileSync(join(folder, 'ferry.yaml'), /^options:/m.test(yaml) ? yaml.replace(/^options:\n/m, `options:\n  pageSize: ${pageSize}\n`) : `${yaml}\noptions:\n  pageSize: ${pageSize}\n`);
      return folder;
    };
    const alpha = await scene(21, 20);
    // Pages of 2: beta's run is still going when it is paused.
    const beta = await scene(22, 2);
    for (const [folder, project] of [[alpha, 'alpha'], [beta, 'beta']] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--config', join(folder, 'ferry.yaml'), '--state', url(project), 'worker'], {
        env: { PATH: process.env.PATH },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      children.push(child);
    }
    const queuedBeta = await ferry(beta, ['--state', url('beta'), 'migrate', '--queue', '--detach', '--json']);
    expect(queuedBeta.code, queuedBeta.stdout + queuedBeta.stderr).toBe(0);
    const betaJob = queuedBeta.json<{ jobId: string }>().jobId;
    const runsOf = async (folder: string, project: string) =>
      (await ferry(folder, ['--state', url(project), 'runs', '--json'])).json<{ runs: { id: number; status: string }[] }>().runs;
    await until('beta to be under way', async () => ((await runsOf(beta, 'beta'))[0]?.status === 'running' ? true : undefined), () => output);

    // Alpha's run, waited for, while beta's goes on; beta is paused before alpha ends.
    const alphaRun = ferry(alpha, ['--state', url('alpha'), 'migrate', '--queue', '--json']);
    const cancel = await ferry(beta, ['--state', url('beta'), 'jobs', 'cancel', betaJob, '--json']);
    expect(cancel.code, cancel.stdout + cancel.stderr).toBe(0);
    const alphaDone = await alphaRun;
    expect(alphaDone.code, alphaDone.stdout + alphaDone.stderr + output).toBe(3);
    expect(alphaDone.json()).toMatchObject({ queued: true, status: 'completed_with_failures', runId: 1 });
    const betaRuns = await until('beta to pause', async () => {
      const runs = await runsOf(beta, 'beta');
      return runs[0]?.status === 'interrupted' ? runs : undefined;
    }, () => output);
    expect(betaRuns).toHaveLength(1);
    // Each project sees its own runs and jobs only.
    expect((await runsOf(alpha, 'alpha')).map((run) => run.status)).toEqual(['completed_with_failures']);
    const alphaJobs = (await ferry(alpha, ['--state', url('alpha'), 'jobs', '--json'])).json<{ jobs: { id: string }[] }>().jobs;
    expect(alphaJobs.map((job) => job.id)).not.toContain(betaJob);
    const betaJobs = (await ferry(beta, ['--state', url('beta'), 'jobs', '--json'])).json<{ jobs: { id: string; part?: unknown }[] }>().jobs;
    expect(betaJobs.filter((job) => !job.part).map((job) => job.id)).toEqual([betaJob]);
    // Their ledgers are separate schemas of the one database; its public schema holds no ledger.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const runs = await client.query<{ table_schema: string }>(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'runs' ORDER BY table_schema`);
      expect(runs.rows.map((row) => row.table_schema)).toEqual(['ferry_project_alpha', 'ferry_project_beta']);
    } finally {
      await client.end();
    }

    // Beta queued again: its run resumes and ends; alpha's is untouched.
    const resumed = await ferry(beta, ['--state', url('beta'), 'migrate', '--queue', '--json']);
    expect(resumed.code, resumed.stdout + resumed.stderr + output).toBe(3);
    expect(resumed.json()).toMatchObject({ runId: betaRuns[0]!.id, resumed: true, status: 'completed_with_failures' });
    expect((await runsOf(alpha, 'alpha')).map((run) => run.id)).toEqual([1]);
  }, 120_000);
});
