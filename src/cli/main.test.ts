import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import SqliteDatabase from 'better-sqlite3';
import { CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from '../core/errors.js';
import { emptyCounts } from '../core/progress.js';
import { Ledger } from '../ledger/index.js';
import { parseProjectFile } from '../project/project-file.js';
import { classifyError, exitCodeForRunStatus } from './exit-codes.js';
import type { CliIo } from './io.js';
import { main } from './main.js';
import { STARTER_PROJECT_FILE } from './starter.js';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as the one JSON object --json promises (throws when it is anything else). */
  json<T = Record<string, unknown>>(): T;
}

/** Runs the CLI in-process: captured output, no terminal, a chosen working directory. */
async function ferry(cwd: string, ...args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    stdin: Readable.from([]),
    cwd,
    env: { ...process.env },
  };
  const code = await main(['node', 'ferry', ...args], io);
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      const lines = stdout.split('\n').filter((line) => line.trim() !== '');
      if (lines.length !== 1) throw new Error(`expected exactly one JSON line on stdout, got ${lines.length}:\n${stdout}`);
      return JSON.parse(lines[0]!) as T;
    },
  };
}

type JsonError = { error: { code: string; message: string; details: Record<string, unknown> } };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('exit codes', () => {
  it('maps usage and configuration errors to 2 and fatal errors to 1', () => {
    for (const code of ['USAGE', 'CONFIG_MISSING', 'CONFIG_INVALID', 'MAPPING_INVALID'] as const) {
      expect(classifyError(new FerryError(code, 'x')).exitCode).toBe(2);
    }
    for (const code of ['AUTH_FAILED', 'CONNECTION_FAILED', 'LEDGER_LOCKED', 'RUN_NOT_FOUND', 'INTERNAL'] as const) {
      expect(classifyError(new FerryError(code, 'x')).exitCode).toBe(1);
    }
    expect(classifyError(new Error('boom'))).toMatchObject({ exitCode: 1, error: { code: 'INTERNAL' } });
    expect(classifyError(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toMatchObject({
      exitCode: 2,
      error: { code: 'USAGE', message: "unknown option '--x'" },
    });
    expect(classifyError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)')).exitCode).toBe(0);
  });

  it('maps run statuses: completed 0, completed_with_failures 3, anything unfinished 1', () => {
    expect(exitCodeForRunStatus('completed')).toBe(0);
    expect(exitCodeForRunStatus('completed_with_failures')).toBe(3);
    expect(exitCodeForRunStatus('failed')).toBe(1);
    expect(exitCodeForRunStatus('abandoned')).toBe(1);
  });
});

describe('argument parsing', () => {
  it.each([
    [['frobnicate']],
    [['migrate', '--bogus']],
    [['delta', '--create-new', '--on-conflict', 'newest-wins']],
    [['report', 'abc']],
    [['undo', '0']],
    [['retry']],
    [['report', '1', '--format', 'pdf']],
    [['sample-data', '--size', '-3']],
  ])('ferry %j is a usage error (exit 2)', async (args) => {
    const result = await ferry(dir, ...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Error: /);
  });

  it('a delta with neither --create-new nor --update-changed is a usage error naming both flags', async () => {
    const result = await ferry(dir, 'delta', '--json');
    expect(result.code).toBe(2);
    const { error } = result.json<JsonError>();
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('--create-new');
    expect(error.message).toContain('--update-changed');
  });

  it('--json turns usage errors into one JSON object on stdout', async () => {
    const result = await ferry(dir, '--json', 'migrate', '--bogus');
    expect(result.code).toBe(2);
    expect(result.json<JsonError>().error).toMatchObject({ code: 'USAGE', message: expect.stringContaining('--bogus') });
    expect(result.stderr).toBe('');
  });

  it('--help and --version exit 0', async () => {
    expect((await ferry(dir, '--help')).code).toBe(0);
    const version = await ferry(dir, '--version');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('a missing project file is a configuration error (exit 2) that says what to do', async () => {
    const result = await ferry(dir, 'match', '--json');
    expect(result.code).toBe(2);
    const { error } = result.json<JsonError>();
    expect(error.code).toBe('CONFIG_MISSING');
    expect(error.message).toContain('ferry init');
  });
});

describe('ferry init', () => {
  it('writes a commented starter that is a valid project file', async () => {
    const result = await ferry(dir, 'init', '--json');
    expect(result.code).toBe(0);
    expect(result.json()).toEqual({ command: 'init', path: join(dir, 'ferry.yaml') });
    const text = readFileSync(join(dir, 'ferry.yaml'), 'utf8');
    expect(text).toBe(STARTER_PROJECT_FILE);
    expect(text).toMatch(/^# /);
    expect(text).toContain('${SOURCE_DATABASE_URL}');
    const project = parseProjectFile(text, 'ferry.yaml', {});
    expect(project.source).toMatchObject({ connector: 'sql', dialect: 'sqlite', path: 'source.db' });
    expect(project.objects).toEqual([]);
  });

  it('refuses to overwrite an existing file without --force', async () => {
    writeFileSync(join(dir, 'ferry.yaml'), '# mine\n');
    const refused = await ferry(dir, 'init');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'ferry.yaml'), 'utf8')).toBe('# mine\n');
    const forced = await ferry(dir, 'init', '--force');
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, 'ferry.yaml'), 'utf8')).toBe(STARTER_PROJECT_FILE);
  });

  it('writes to --config when given', async () => {
    expect((await ferry(dir, '--config', 'sub/project.yaml', 'init')).code).toBe(0);
    expect(readFileSync(join(dir, 'sub', 'project.yaml'), 'utf8')).toBe(STARTER_PROJECT_FILE);
  });
});

describe('runs and report from a ledger (--state, no project file needed)', () => {
  const SCRIPT = '<script>alert(1)</script>';

  async function ledgerWithRun(): Promise<{ state: string; runId: number }> {
    const state = join(dir, 'state.db');
    const ledger = await Ledger.open(state);
    try {
      const run = await ledger.createRun({ kind: 'full', creates: true, updates: true });
      await ledger.addFailures([{ runId: run.id, object: 'notes', sourceId: 'n1', code: 'VALIDATION', field: 'body', value: SCRIPT, message: `rejected ${SCRIPT}` }]);
      await ledger.updateRun(run.id, {
        status: 'completed_with_failures',
        finishedAt: new Date().toISOString(),
        counts: { notes: { ...emptyCounts(), read: 2, created: 1, failed: 1 } },
      });
      return { state, runId: run.id };
    } finally {
      await ledger.close();
    }
  }

  it('ferry runs --json lists the runs with their counts', async () => {
    const { state, runId } = await ledgerWithRun();
    const result = await ferry(dir, 'runs', '--json', '--state', state);
    expect(result.code).toBe(0);
    const json = result.json<{ command: string; runs: { id: number; kind: string; status: string; totals: { created: number } }[] }>();
    expect(json.command).toBe('runs');
    expect(json.runs).toEqual([expect.objectContaining({ id: runId, kind: 'full', status: 'completed_with_failures', totals: expect.objectContaining({ created: 1, failed: 1 }) })]);
    const text = await ferry(dir, 'runs', '--state', state);
    expect(text.stdout).toMatch(/run\s+kind\s+status/);
  });

  it('ferry report --format html escapes values: a <script> in a failure never reaches the page', async () => {
    const { state, runId } = await ledgerWithRun();
    const result = await ferry(dir, 'report', String(runId), '--format', 'html', '--state', state);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('<!DOCTYPE html>');
    expect(result.stdout).not.toContain('<script');
    expect(result.stdout).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('ferry report --output picks the format from the extension and --json says where it went', async () => {
    const { state, runId } = await ledgerWithRun();
    const result = await ferry(dir, 'report', String(runId), '--output', 'out/r.csv', '--state', state, '--json');
    expect(result.code).toBe(0);
    expect(result.json()).toEqual({ command: 'report', runId, format: 'csv', output: join(dir, 'out', 'r.csv') });
    expect(readFileSync(join(dir, 'out', 'r.csv'), 'utf8')).toMatch(/^kind,run,object,sourceId/);
  });

  it('an unknown run is a fatal error (exit 1) with code RUN_NOT_FOUND', async () => {
    const { state } = await ledgerWithRun();
    const result = await ferry(dir, 'report', '42', '--state', state, '--json');
    expect(result.code).toBe(1);
    expect(result.json<JsonError>().error.code).toBe('RUN_NOT_FOUND');
  });
});

describe('a project on sample data, through the real engine', () => {
  const COUNT_KEYS = ['read', 'reread', 'created', 'updated', 'matched', 'unchanged', 'skipped', 'filtered', 'failed', 'conflicts', 'deleted', 'files', 'fileBytes'];

  beforeEach(async () => {
    expect((await ferry(dir, 'sample-data', '--size', '60', '--seed', '3', '--output', 'source.db', '--target-output', 'target.db', '--json')).code).toBe(0);
    expect((await ferry(dir, 'init')).code).toBe(0);
  });

  it('map, check, dry run, migrate, rerun guard, runs: one JSON object each and the documented exit codes', async () => {
    const map = await ferry(dir, 'map', '--json');
    expect(map.code).toBe(0);
    expect(map.json<{ objects: unknown[] }>().objects.length).toBeGreaterThan(0);
    // The user's comments in ferry.yaml survive `ferry map`.
    expect(readFileSync(join(dir, 'ferry.yaml'), 'utf8')).toContain('# Where the data comes from.');

    const check = await ferry(dir, 'check', '--json');
    expect(check.code).toBe(0);
    expect(check.json()).toMatchObject({ command: 'check', ok: true, source: { connector: 'sql' } });
    // Connection settings are never printed.
    expect(check.stdout).not.toContain('source.db');

    const dry = await ferry(dir, 'migrate', '--dry-run', '--json');
    expect([0, 3]).toContain(dry.code);
    const dryJson = dry.json<Record<string, unknown>>();
    expect(dryJson).toMatchObject({ command: 'migrate', dryRun: true, resumed: false });
    expect(dryJson.estimate).toBeDefined();

    const migrate = await ferry(dir, 'migrate', '--json');
    const json = migrate.json<{ command: string; runId: number; status: string; counts: Record<string, Record<string, number>>; messages: string[] }>();
    expect(json.command).toBe('migrate');
    expect(migrate.code).toBe(json.status === 'completed' ? 0 : 3);
    for (const counts of Object.values(json.counts)) expect(Object.keys(counts).sort()).toEqual([...COUNT_KEYS].sort());
    expect(Array.isArray(json.messages)).toBe(true);

    // --rerun deletes what was created: never without --yes (stdin is not a terminal here).
    const rerun = await ferry(dir, 'migrate', '--rerun', '--json');
    expect(rerun.code).toBe(2);
    expect(rerun.json<JsonError>().error).toMatchObject({ code: 'USAGE', message: expect.stringContaining('--yes') });
    expect(rerun.stderr).toContain('WARNING');

    const runs = await ferry(dir, 'runs', '--json');
    expect(runs.json<{ runs: { kind: string }[] }>().runs.map((run) => run.kind)).toEqual(['full', 'full']);

    const human = await ferry(dir, 'delta', '--create-new', '--update-changed');
    expect([0, 3]).toContain(human.code);
    expect(human.stdout).toMatch(/Run \d+ \(delta\)/);
    expect(human.stdout).toContain('ferry report');
  });

  it('delta --scan-all reads every record, says so once, and `ferry runs` shows it', async () => {
    expect((await ferry(dir, 'map', '--json')).code).toBe(0);
    expect([0, 3]).toContain((await ferry(dir, 'migrate', '--json')).code);
    const scan = await ferry(dir, 'delta', '--create-new', '--update-changed', '--scan-all', '--json');
    expect([0, 3]).toContain(scan.code);
    const json = scan.json<{ runId: number; totals: Record<string, number>; messages: string[] }>();
    // Nothing changed since the migration: every record is read, and none is written.
    expect(json.totals).toMatchObject({ created: 0, updated: 0 });
    expect(json.totals.read).toBeGreaterThan(0);
    expect(json.messages.filter((message) => message.includes('--scan-all'))).toHaveLength(1);
    expect(json.messages.some((message) => message.includes('cannot filter by modification time'))).toBe(false);
    const runs = await ferry(dir, 'runs');
    expect(runs.stdout).toContain('delta (create-new + update-changed, scan-all)');
  });

  it('open failures are one figure everywhere: the delta note, --json, the summary, the report and ferry runs, counting distinct records', async () => {
    expect((await ferry(dir, 'map', '--json')).code).toBe(0);
    const full = await ferry(dir, 'migrate', '--json');
    expect(full.code).toBe(3);
    // Every failed record is touched in the source (not fixed): the delta reads it again and it fails again,
    // a second failure row for the same record.
    const before = await Ledger.open(join(dir, '.ferry', 'state.db'));
    const failed = (await before.listFailures({ unresolved: true, severity: 'error' })).filter((failure) => /^\d+$/.test(failure.sourceId));
    await before.close();
    expect(failed.length).toBeGreaterThan(0);
    const source = new SqliteDatabase(join(dir, 'source.db'));
    try {
      for (const failure of failed) {
        const row = source.prepare(`SELECT updated_at FROM "${failure.object}" WHERE id = ?`).get(Number(failure.sourceId)) as { updated_at: string };
        const later = new Date(Date.now() + 60_000).toISOString();
        source.prepare(`UPDATE "${failure.object}" SET updated_at = ? WHERE id = ?`).run(row.updated_at.includes('T') ? later : later.replace('T', ' ').slice(0, 19), Number(failure.sourceId));
      }
    } finally {
      source.close();
    }
    const delta = await ferry(dir, 'delta', '--create-new', '--update-changed', '--json');
    type RunJson = {
      runId: number;
      messages: string[];
      failures: { total: number; byCode: Record<string, number> };
      warnings: { total: number; byCode: Record<string, number> };
      openFailures: { total: number; byObject: Record<string, number> };
      outstandingFailures: number;
    };
    const json = delta.json<RunJson>();

    const ledger = await Ledger.open(join(dir, '.ferry', 'state.db'));
    let distinct: number;
    let warned: number;
    try {
      const open = (await ledger.listFailures({ unresolved: true, severity: 'error' })).map((failure) => `${failure.object}/${failure.sourceId}`);
      distinct = new Set(open).size;
      // The old count (failure rows) would have said more.
      expect(open.length).toBeGreaterThan(distinct);
      warned = new Set((await ledger.listFailures({ runId: json.runId, severity: 'warning' })).map((failure) => `${failure.object}/${failure.sourceId}`)).size;
    } finally {
      await ledger.close();
    }
    expect(distinct).toBeGreaterThan(0);
    expect(json.openFailures.total).toBe(distinct);
    expect(Object.values(json.openFailures.byObject).reduce((sum, count) => sum + count, 0)).toBe(distinct);
    expect(json.outstandingFailures).toBeLessThanOrEqual(distinct);
    const notes = json.messages.filter((message) => message.includes('failed in this or earlier runs'));
    expect(notes).toEqual([`${distinct} record${distinct === 1 ? '' : 's'} failed in this or earlier runs and ${distinct === 1 ? 'is' : 'are'} not migrated: see \`ferry report\` and \`ferry retry <run>\`.`]);
    // Warnings are in --json too, per code, as distinct records.
    expect(json.warnings.total).toBe(warned);
    for (const count of Object.values(json.warnings.byCode)) expect(count).toBeLessThanOrEqual(warned);

    // The human summary says it once, with the same figure; `ferry runs` and `ferry report` agree.
    const human = await ferry(dir, 'delta', '--create-new', '--update-changed');
    expect(human.stdout.match(/failed in this or earlier runs/g)).toHaveLength(1);
    expect(human.stdout).toContain(`${distinct} record${distinct === 1 ? '' : 's'} failed in this or earlier runs`);
    const runs = await ferry(dir, 'runs', '--json');
    expect(runs.json<{ openFailures: { total: number } }>().openFailures.total).toBe(distinct);
    expect((await ferry(dir, 'runs')).stdout).toContain(`Open failures: ${distinct} record`);
    const report = await ferry(dir, 'report', String(json.runId), '--json');
    expect(report.json<{ report: { openFailures: { total: number } } }>().report.openFailures.total).toBe(distinct);
  });

  it('a mapping that does not fit the schemas stops the run with exit 2 and lists every problem', async () => {
    writeFileSync(
      join(dir, 'ferry.yaml'),
      readFileSync(join(dir, 'ferry.yaml'), 'utf8').replace(
        'objects: {}',
        'objects:\n  contacts:\n    target: contacts\n    fields:\n      no_such_field: email\n      first_name: no_such_target\n',
      ),
    );
    const result = await ferry(dir, 'migrate', '--json');
    expect(result.code).toBe(2);
    const { error } = result.json<JsonError>();
    expect(error.code).toBe('MAPPING_INVALID');
    expect(error.message).toContain('no_such_field');
    expect(error.message).toContain('no_such_target');
    const check = await ferry(dir, 'check');
    expect(check.code).toBe(2);
    expect(check.stdout).toContain('no_such_target');
  });
});
