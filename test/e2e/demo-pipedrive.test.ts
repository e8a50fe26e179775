import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** `ferry demo --source pipedrive`: the story with the Pipedrive emulator as the legacy CRM, through the real CLI. */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRY = join(ROOT, 'src', 'cli', 'entry.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ENV: NodeJS.ProcessEnv = { ...process.env, TZ: 'Pacific/Kiritimati', NO_COLOR: '1' };
delete ENV.FERRY_DEMO_PIPEDRIVE_TOKEN;

interface Totals { created: number; updated: number; conflicts: number; failed: number; deleted: number; matched: number }
type Counts = Record<string, Totals>;

describe('ferry demo --source pipedrive', () => {
  let dir: string;
  let code: number;
  let out = '';
  let demo: {
    source: string;
    folder: string;
    steps: Record<string, { totals?: Totals; counts?: Counts } & Record<string, unknown>> & {
      changes: { created: Record<string, number>; changed: Record<string, number>; deleted?: Record<string, number>; conflictingEdits: number };
      tokens: { spent: number; requests: number };
      verify: { objects: Record<string, { missing: number; brokenReferences: number; notMigrated: number; mismatched: number }> };
    };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-demo-pipedrive-'));
    await new Promise<void>((done) => {
      execFile(process.execPath, ['--import', TSX, ENTRY, 'demo', '--source', 'pipedrive', '--size', '100', '--json'], { cwd: dir, env: ENV, timeout: 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
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

  it('runs every step, and the delta carries the edits made in Pipedrive (new and changed) with the conflicts', () => {
    expect(code, out).toBe(0);
    expect(demo.source).toBe('pipedrive');
    for (const step of ['scene', 'map', 'match', 'demo', 'full', 'changes', 'delta', 'verify', 'tokens']) expect(demo.steps, step).toHaveProperty(step);
    expect(demo.steps.full!.totals!.created).toBeGreaterThan(0);
    const delta = demo.steps.delta!.counts!;
    expect(delta.persons!.created).toBe(demo.steps.changes.created.persons);
    expect(delta.organizations!.created).toBe(demo.steps.changes.created.organizations);
    expect(delta.persons!.updated).toBe(demo.steps.changes.changed.persons);
    expect(delta.organizations!.updated).toBe(demo.steps.changes.changed.organizations);
    expect(delta.persons!.conflicts).toBe(demo.steps.changes.conflictingEdits);
    expect(demo.steps.delta!.totals!.deleted).toBe(0);
    // A person and a deal deleted in Pipedrive: reported by the delta with their target ids, deleted nowhere.
    expect(demo.steps.changes.deleted).toEqual({ persons: 1, deals: 1 });
    const deletions = (demo.steps.delta!.messages as string[]).filter((text) => text.includes('deleted in the source since the last run: 1 — not propagated'));
    expect(deletions.map((text) => text.split(':')[0])).toEqual(['persons', 'deals']);
    expect(demo.steps.tokens.spent).toBeGreaterThan(0);
  });

  it('the proposed stage map covers Pipedrive\'s stage ids, so nothing fails and verify is clean', () => {
    expect(code).toBe(0);
    expect(demo.steps.full!.totals!.failed).toBe(0);
    expect(demo.steps.delta!.totals!.failed).toBe(0);
    for (const [object, summary] of Object.entries(demo.steps.verify.objects)) {
      expect({ object, missing: summary.missing, broken: summary.brokenReferences, mismatched: summary.mismatched, notMigrated: summary.notMigrated }).toEqual({ object, missing: 0, broken: 0, mismatched: 0, notMigrated: 0 });
    }
    const yaml = readFileSync(join(demo.folder, 'ferry.yaml'), 'utf8');
    // Stage ids 1-5 of the default pipeline, each to a stage of the new CRM; won and lost from the status.
    for (const id of ['1', '2', '3', '4', '5']) expect(yaml).toMatch(new RegExp(`"${id}": (appointmentscheduled|qualifiedtobuy|presentationscheduled|contractsent)`));
    expect(yaml).toContain('won: closedwon');
  });

  it('the match step links the users, organizations and persons the new CRM already holds', () => {
    const match = demo.steps.match!.counts!;
    expect({ users: match.users!.matched, organizations: match.organizations!.matched, persons: match.persons!.matched }).toEqual({ users: 3, organizations: 3, persons: 6 });
    // Linked, not duplicated: the full run updates them.
    expect(demo.steps.full!.counts!.persons!.updated).toBeGreaterThanOrEqual(6);
  });

  it('ferry.yaml names the emulator and the token variable, and no written file holds the token', () => {
    const text = readFileSync(join(demo.folder, 'ferry.yaml'), 'utf8');
    expect(text).toContain('connector: pipedrive');
    expect(text).toContain(`baseUrl: ${String(demo.steps.scene!.pipedrive)}`);
    expect(text).toContain('apiToken: ${FERRY_DEMO_PIPEDRIVE_TOKEN}');
    for (const file of readdirSync(demo.folder, { recursive: true, withFileTypes: true })) {
      if (file.isFile()) expect(readFileSync(join(file.parentPath, file.name)).includes('ferry-demo-pipedrive-token'), file.name).toBe(false);
    }
  });
});

function runDemo(cwd: string, args: string[], env: NodeJS.ProcessEnv = ENV): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', TSX, ENTRY, 'demo', ...args], { cwd, env, timeout: 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('ferry demo --source pipedrive --target hubspot, and --keep', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-demo-pipedrive-hubspot-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Pipedrive into HubSpot, both emulators in-process: matches, no failures, the delta carries the edits', async () => {
    const result = await runDemo(dir, ['--source', 'pipedrive', '--target', 'hubspot', '--size', '60', '--dir', 'to-hubspot', '--json']);
    const lines = result.stdout.split('\n').filter((line) => line.startsWith('{'));
    expect(lines, `${result.stdout}\n${result.stderr}`).toHaveLength(1);
    const demo = JSON.parse(lines[0]!) as {
      source: string;
      target: string;
      pipedrive: { kept: boolean };
      emulator: { kept: boolean };
      next: string[];
      steps: Record<string, { totals: Totals; counts: Counts }> & { changes: { created: Record<string, number> } };
    };
    expect(result.code).toBe(0);
    expect(demo).toMatchObject({ source: 'pipedrive', target: 'hubspot', pipedrive: { kept: false }, emulator: { kept: false } });
    expect(demo.steps.match!.totals.matched).toBeGreaterThan(0);
    expect(demo.steps.full!.totals.failed).toBe(0);
    expect(demo.steps.full!.totals.created).toBeGreaterThan(0);
    expect(demo.steps.delta!.totals.failed).toBe(0);
    expect(demo.steps.delta!.counts.persons!.created).toBe(demo.steps.changes.created.persons);
    expect(demo.steps.delta!.totals.conflicts).toBeGreaterThan(0);
    // Both emulators stopped with the story: nothing suggests commands that need them.
    expect(demo.next.join('\n')).not.toContain('ferry delta');
  }, 150_000);

  it('--keep keeps the Pipedrive emulator running until Ctrl-C, so delta works against it', async () => {
    const child = spawn(process.execPath, ['--import', TSX, ENTRY, 'demo', '--source', 'pipedrive', '--keep', '--size', '60', '--dir', 'kept'], { cwd: dir, env: ENV });
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
      expect(stdout).toContain('export FERRY_DEMO_PIPEDRIVE_TOKEN=ferry-demo-pipedrive-token');
      expect(stdout).toContain('npx ferry delta --create-new --update-changed --dry-run');
      const delta = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
        execFile(process.execPath, ['--import', TSX, ENTRY, 'delta', '--create-new', '--update-changed', '--dry-run', '--json'], { cwd: join(dir, 'kept'), env: { ...ENV, FERRY_DEMO_PIPEDRIVE_TOKEN: 'ferry-demo-pipedrive-token' }, timeout: 60_000 }, (error, out, err) =>
          done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: out, stderr: err }),
        );
      });
      expect(delta.stderr).not.toMatch(/AUTH_FAILED|ECONNREFUSED|CONNECTION_FAILED/);
      const parsed = JSON.parse(delta.stdout) as { command: string; totals: Totals };
      expect(parsed.command).toBe('delta');
      expect(parsed.totals.created).toBe(0);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 150_000);
});
