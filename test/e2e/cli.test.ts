import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The real CLI as a user runs it: a child process from source (`node --import tsx src/cli/entry.ts`), no
 * build step, in a temporary folder, under a time zone far from UTC (nothing may depend on it).
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRY = join(ROOT, 'src', 'cli', 'entry.ts');
// Absolute, so the child finds tsx whatever its working directory.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function ferry(cwd: string, ...args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', TSX, ENTRY, ...args],
      { cwd, env: { ...process.env, TZ: 'Pacific/Kiritimati', NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** stdout must be exactly one JSON object. */
function json<T = Record<string, unknown>>(result: Result): T {
  const lines = result.stdout.split('\n').filter((line) => line.trim() !== '');
  expect(lines, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toHaveLength(1);
  return JSON.parse(lines[0]!) as T;
}

interface Totals {
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  conflicts: number;
  deleted: number;
}

interface DemoJson {
  command: string;
  story: boolean;
  folder: string;
  steps: {
    delta: { runId: number; totals: Totals; conflicts: { total: number } };
    full: { runId: number; totals: Totals };
    runs: Record<string, number>;
    reports: Record<string, string>;
  };
}

describe('ferry CLI end to end (demo story, then the commands it suggests)', () => {
  let dir: string;
  let demo: DemoJson;
  let folder: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-'));
    const result = await ferry(dir, 'demo', '--json');
    expect(result.code, result.stderr).toBe(0);
    demo = json<DemoJson>(result);
    folder = demo.folder;
  }, 180_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('ferry demo --json tells the whole story: the delta creates, updates and settles conflicts', () => {
    expect(demo).toMatchObject({ command: 'demo', story: true });
    expect(folder).toBe(join(dir, 'ferry-demo'));
    expect(demo.steps.full.totals.created).toBeGreaterThan(0);
    expect(demo.steps.delta.totals.created).toBeGreaterThan(0);
    expect(demo.steps.delta.totals.updated).toBeGreaterThan(0);
    expect(demo.steps.delta.totals.conflicts).toBeGreaterThan(0);
    expect(demo.steps.delta.conflicts.total).toBeGreaterThan(0);
    expect(demo.steps.delta.totals.deleted).toBe(0);
    for (const file of ['ferry.yaml', 'source.db', 'target.db', 'report-delta.html']) expect(existsSync(join(folder, file)), file).toBe(true);
  });

  it('ferry runs --json lists the story runs', async () => {
    const result = await ferry(folder, 'runs', '--json');
    expect(result.code).toBe(0);
    const { runs } = json<{ runs: { id: number; kind: string }[] }>(result);
    expect(runs.map((run) => run.kind)).toEqual(['match', 'demo', 'full', 'delta']);
    expect(runs.map((run) => run.id)).toContain(demo.steps.runs.delta);
  });

  it('ferry report <run> --format html --output writes a page with the counts', async () => {
    const runId = demo.steps.runs.delta!;
    const result = await ferry(folder, 'report', String(runId), '--format', 'html', '--output', 'r.html');
    expect(result.code, result.stderr).toBe(0);
    const html = readFileSync(join(folder, 'r.html'), 'utf8');
    expect(html).toContain(`Ferry run ${runId}`);
    expect(html).toContain(`<td class="n">${demo.steps.delta.totals.created.toLocaleString('en-US')}</td>`);
    expect(html).toContain(`<td class="n">${demo.steps.delta.totals.updated.toLocaleString('en-US')}</td>`);
  });

  it('a delta right after the story writes nothing', async () => {
    const result = await ferry(folder, 'delta', '--create-new', '--update-changed', '--json');
    const delta = json<{ command: string; status: string; totals: Totals }>(result);
    expect(delta.command).toBe('delta');
    expect(delta.totals.created).toBe(0);
    expect(delta.totals.updated).toBe(0);
    expect(delta.totals.deleted).toBe(0);
    // Records that failed in earlier runs are tried again and fail again: that is exit 3, not an error.
    expect(result.code).toBe(delta.status === 'completed' ? 0 : 3);
  });

  it('ferry verify --json finds nothing missing or broken, and names exactly the records that failed', async () => {
    const result = await ferry(folder, 'verify', '--json');
    const verify = json<{
      command: string;
      ok: boolean;
      objects: Record<string, { missing: number; mismatched: number; brokenReferences: number; notMigrated: number }>;
      issues: { object: string; kind: string; reason?: string }[];
    }>(result);
    expect(verify.command).toBe('verify');
    const breakdown: Record<string, number> = {};
    for (const issue of verify.issues) {
      const key = `${issue.object} ${issue.kind}${issue.reason ? ` (${issue.reason})` : ''}`;
      breakdown[key] = (breakdown[key] ?? 0) + 1;
    }
    for (const [object, summary] of Object.entries(verify.objects)) {
      expect({ object, missing: summary.missing, mismatched: summary.mismatched, brokenReferences: summary.brokenReferences }, JSON.stringify(breakdown)).toEqual({
        object,
        missing: 0,
        mismatched: 0,
        brokenReferences: 0,
      });
    }
    // The demo data holds records that cannot be migrated as they are (invalid e-mails, ambiguous matches):
    // verify lists them, which makes it exit 3 like any run with failed records.
    const notMigrated = Object.values(verify.objects).reduce((sum, summary) => sum + summary.notMigrated, 0);
    expect(notMigrated).toBeGreaterThan(0);
    expect(verify.issues.filter((issue) => issue.kind === 'not-migrated')).toHaveLength(notMigrated);
    expect(verify.ok).toBe(false);
    expect(result.code).toBe(3);
  });
});
