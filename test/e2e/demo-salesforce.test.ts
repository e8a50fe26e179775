import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** `ferry demo --source salesforce`: the story with the Salesforce emulator as the legacy CRM, through the real CLI. */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRY = join(ROOT, 'src', 'cli', 'entry.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ENV: NodeJS.ProcessEnv = { ...process.env, TZ: 'Pacific/Kiritimati', NO_COLOR: '1' };
delete ENV.FERRY_DEMO_SALESFORCE_TOKEN;

interface Totals { created: number; updated: number; conflicts: number; failed: number; deleted: number }
type Counts = Record<string, Totals>;

describe('ferry demo --source salesforce', () => {
  let dir: string;
  let code: number;
  let out = '';
  let demo: {
    source: string;
    folder: string;
    next: string[];
    salesforce: { kept: boolean };
    steps: Record<string, { totals?: Totals; counts?: Counts } & Record<string, unknown>> & {
      changes: { created: Record<string, number>; changed: Record<string, number>; conflictingEdits: number };
      apiCalls: { spent: number; max: number };
      verify: { objects: Record<string, { missing: number; brokenReferences: number; notMigrated: number; mismatched: number }> };
    };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-demo-salesforce-'));
    await new Promise<void>((done) => {
      execFile(process.execPath, ['--import', TSX, ENTRY, 'demo', '--source', 'salesforce', '--size', '100', '--json'], { cwd: dir, env: ENV, timeout: 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
        code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        out = `${stdout}\n${stderr}`;
        done();
      });
    });
    const lines = out.split('\n').filter((line) => line.startsWith('{'));
    expect(lines, out).toHaveLength(1);
    demo = JSON.parse(lines[0]!) as typeof demo;
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every step, and the delta carries the edits made in Salesforce (new and changed) with the conflicts', () => {
    expect(code, out).toBe(0);
    expect(demo.source).toBe('salesforce');
    for (const step of ['scene', 'map', 'match', 'demo', 'full', 'changes', 'delta', 'verify', 'apiCalls']) expect(demo.steps, step).toHaveProperty(step);
    expect(demo.steps.full!.totals!.created).toBeGreaterThan(0);
    const delta = demo.steps.delta!.counts!;
    expect(delta.Contact!.created).toBe(demo.steps.changes.created.Contact);
    expect(delta.Account!.created).toBe(demo.steps.changes.created.Account);
    expect(delta.Contact!.updated).toBe(demo.steps.changes.changed.Contact);
    expect(delta.Account!.updated).toBe(demo.steps.changes.changed.Account);
    expect(delta.Contact!.conflicts).toBe(demo.steps.changes.conflictingEdits);
    expect(demo.steps.delta!.totals!.deleted).toBe(0);
    expect(demo.steps.apiCalls.spent).toBeGreaterThan(0);
    expect(demo.steps.apiCalls.spent).toBeLessThan(demo.steps.apiCalls.max);
    // Without --keep the emulator stopped with the story: nothing suggests commands that need it.
    expect(demo.salesforce.kept).toBe(false);
    expect(demo.next.join('\n')).not.toContain('ferry delta');
  });

  it('the proposed value maps cover the Salesforce default stages and task statuses: no record fails, verify is clean', () => {
    for (const [object, summary] of Object.entries(demo.steps.verify.objects)) {
      expect({ object, missing: summary.missing, broken: summary.brokenReferences, mismatched: summary.mismatched, notMigrated: summary.notMigrated }).toEqual({ object, missing: 0, broken: 0, mismatched: 0, notMigrated: 0 });
    }
    expect(demo.steps.full!.totals!.failed).toBe(0);
    expect(demo.steps.delta!.totals!.failed).toBe(0);
  });

  it('ferry.yaml names the emulator and the token variable, and no written file holds the token', () => {
    const text = readFileSync(join(demo.folder, 'ferry.yaml'), 'utf8');
    expect(text).toContain('connector: salesforce');
    expect(text).toContain(`instanceUrl: ${String(demo.steps.scene!.salesforce)}`);
    expect(text).toContain('accessToken: ${FERRY_DEMO_SALESFORCE_TOKEN}');
    for (const file of readdirSync(demo.folder, { recursive: true, withFileTypes: true })) {
      if (file.isFile()) expect(readFileSync(join(file.parentPath, file.name)).includes('ferry-demo-salesforce-token'), file.name).toBe(false);
    }
  });
});

function ferry(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', TSX, ENTRY, ...args], { cwd, env, timeout: 60_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('ferry demo --source salesforce --keep', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-demo-salesforce-keep-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the Salesforce emulator running until Ctrl-C, so delta, undo and check work against it', async () => {
    const child = spawn(process.execPath, ['--import', TSX, ENTRY, 'demo', '--source', 'salesforce', '--keep', '--size', '40', '--dir', 'kept'], { cwd: dir, env: ENV });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (exitCode) => done(exitCode)));
    try {
      await new Promise<void>((done, fail) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('Press Ctrl-C to stop it.')) done();
        });
        child.on('exit', () => fail(new Error(`demo exited early\n${stdout}\n${stderr}`)));
      });
      expect(stdout).toMatch(/The Salesforce emulator keeps running \(Salesforce at http:\/\/127\.0\.0\.1:\d+\)/);
      expect(stdout).toContain('export FERRY_DEMO_SALESFORCE_TOKEN=ferry-demo-salesforce-token');
      expect(stdout).toContain('npx ferry delta --create-new --update-changed --dry-run');
      expect(stdout).toMatch(/npx ferry undo \d+/);
      expect(stdout).toContain('npx ferry check');
      expect(stdout).not.toContain('no --keep');
      const env = { ...ENV, FERRY_DEMO_SALESFORCE_TOKEN: 'ferry-demo-salesforce-token' };
      const delta = await ferry(join(dir, 'kept'), ['delta', '--create-new', '--update-changed', '--dry-run', '--json'], env);
      expect(delta.stderr).not.toMatch(/AUTH_FAILED|ECONNREFUSED|CONNECTION_FAILED/);
      const parsed = JSON.parse(delta.stdout) as { command: string; totals: Totals };
      expect(parsed.command).toBe('delta');
      // The story's delta already carried every edit: nothing new since.
      expect(parsed.totals.created).toBe(0);
      expect(parsed.totals.failed).toBe(0);
      const undo = await ferry(join(dir, 'kept'), ['undo', /npx ferry undo (\d+)/.exec(stdout)![1]!, '--json'], env);
      expect(undo.code, `${undo.stdout}\n${undo.stderr}`).toBe(0);
      // The story's delta is undone in the target: what it created is deleted, what it updated is put back.
      const undone = JSON.parse(undo.stdout) as { command: string; undoneRunId: number; totals: Totals };
      expect(undone).toMatchObject({ command: 'undo', undoneRunId: Number(/npx ferry undo (\d+)/.exec(stdout)![1]) });
      expect(undone.totals.deleted).toBeGreaterThan(0);
      expect(undone.totals.updated).toBeGreaterThan(0);
      expect(undone.totals.failed).toBe(0);
      const check = await ferry(join(dir, 'kept'), ['check'], env);
      expect(check.code, `${check.stdout}\n${check.stderr}`).toBe(0);
      expect(check.stdout).toMatch(/salesforce/i);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 150_000);

  it('--keep without an emulated CRM is a usage error naming the three ways', async () => {
    const result = await ferry(dir, ['demo', '--keep', '--dir', 'nothing-kept'], ENV);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('`ferry demo --source salesforce`');
  });
});
