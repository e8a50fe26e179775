import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MappingResponse, SamplesResponse } from '../../src/wizard/api.js';
import { startWizardServer } from '../../src/wizard/server/index.js';

/**
 * Issue 12 through the real CLI (a child process, under a machine zone far from both UTC and the project's):
 * the project's sourceTimeZone reaches the CSV connector, so `Add time`, `Update time` and
 * `Expected close date` are read in the one zone; the retired `source.timeZone` is refused with its
 * replacement; an object without a modified column is warned about by `map` and `check`.
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRY = join(ROOT, 'src', 'cli', 'entry.ts');
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
      { cwd, env: { ...process.env, TZ: 'Pacific/Kiritimati', NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

function json<T>(result: Result): T {
  const lines = result.stdout.split('\n').filter((line) => line.trim() !== '');
  expect(lines, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toHaveLength(1);
  return JSON.parse(lines[0]!) as T;
}

interface Problem {
  code: string;
  object: string;
  message: string;
}

const PROJECT = (zone: string, extra = '') => `version: 1
source:
  connector: csv
  path: export
${extra}target:
  connector: sql
  dialect: sqlite
  path: target.db
sourceTimeZone: ${zone}
objects:
  deals:
    target: deals
    match: null
    fields:
      Deal - Title: title
      Expected close date: close_date
      Add time: added_in_crm
      Update time: edited_in_crm
  notes:
    target: notes
    match: null
    fields:
      Content: body
      Note - Add time: added_in_crm
`;

describe.each([
  // America/New_York: west of UTC, DST starts 2024-03-10 02:00 local.
  ['America/New_York', ['2024-03-10T06:30:00.000Z', '2024-03-10T07:30:00.000Z', '2025-01-01T04:30:00.000Z']],
  // Pacific/Auckland: east of UTC, far enough that the evening of 31 December is still 31 December in UTC only by hours.
  ['Pacific/Auckland', ['2024-03-09T12:30:00.000Z', '2024-03-09T14:30:00.000Z', '2024-12-31T10:30:00.000Z']],
])('a CSV export read in sourceTimeZone %s, through the CLI', (zone, [added, updated, noteAdded]) => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-csv-zone-'));
    mkdirSync(join(dir, 'export'));
    writeFileSync(join(dir, 'export', 'deals.csv'), 'id,Deal - Title,Expected close date,Add time,Update time\n1,Alpha,2024-03-10,2024-03-10 01:30:00,2024-03-10 03:30:00\n');
    writeFileSync(join(dir, 'export', 'notes.csv'), 'id,Content,Note - Add time\n7,Call back,2024-12-31 23:30:00\n');
    const db = new SqliteDatabase(join(dir, 'target.db'));
    db.exec(`CREATE TABLE deals (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT, close_date DATE, added_in_crm TEXT, edited_in_crm TEXT);
             CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, added_in_crm TEXT);`);
    db.close();
    writeFileSync(join(dir, 'ferry.yaml'), PROJECT(zone));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('check warns that notes has no modified column, with the setting and its date-time columns', async () => {
    const result = await ferry(dir, 'check', '--json');
    expect(result.code, result.stderr).toBe(0);
    const check = json<{ mapping: { errors: Problem[]; warnings: Problem[] } }>(result);
    expect(check.mapping.errors).toEqual([]);
    const noModified = check.mapping.warnings.filter((warning) => warning.code === 'NO_MODIFIED_FIELD');
    expect(noModified).toEqual([
      {
        code: 'NO_MODIFIED_FIELD',
        object: 'notes',
        message:
          'no modified column was found, so every delta reads all of its records. Set source.objects.notes.updatedAt: <column> to the column holding ' +
          'each record\'s last-modified date-time (date-time columns: "Note - Add time").',
      },
    ]);
    const text = await ferry(dir, 'check');
    expect(text.stdout).toContain('warning notes: no modified column was found');
    expect(text.stdout).toContain('[NO_MODIFIED_FIELD]');
  });

  it('map shows the warning too', async () => {
    const result = await ferry(dir, 'map');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/warning notes: no modified column was found, so every delta reads all of its records\. Set source\.objects\.notes\.updatedAt: <column>/);
    expect(result.stdout).not.toMatch(/warning deals: no modified column/);
  });

  it('the wizard reads the export in the same zone and shows the warning on its Map step', async () => {
    const server = await startWizardServer({ projectPath: join(dir, 'ferry.yaml'), cwd: dir, env: { ...process.env }, port: 0, uiDir: join(dir, 'no-ui') });
    try {
      const session = server.issueSession();
      const get = async <T>(path: string): Promise<T> => {
        const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { authorization: `Bearer ${session}` } });
        expect(response.status, path).toBe(200);
        return (await response.json()) as T;
      };
      const mapping = await get<MappingResponse>('/api/mapping');
      expect(mapping.problems.warnings.filter((warning) => warning.code === 'NO_MODIFIED_FIELD').map((warning) => warning.object)).toEqual(['notes']);
      const samples = await get<SamplesResponse>(`/api/samples?side=source&object=deals&field=${encodeURIComponent('Add time')}`);
      expect(samples.values).toEqual([added]);
    } finally {
      await server.close();
    }
  });

  it('migrate writes Add time, Update time and Expected close date as read in the project zone', async () => {
    const result = await ferry(dir, 'migrate', '--json');
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const db = new SqliteDatabase(join(dir, 'target.db'), { readonly: true });
    try {
      const instant = (text: string) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`).toISOString();
      const deal = db.prepare('SELECT title, close_date, added_in_crm, edited_in_crm FROM deals').get() as Record<string, string>;
      expect(deal.title).toBe('Alpha');
      expect(deal.close_date).toBe('2024-03-10');
      expect([instant(deal.added_in_crm!), instant(deal.edited_in_crm!)]).toEqual([added, updated]);
      const note = db.prepare('SELECT body, added_in_crm FROM notes').get() as Record<string, string>;
      expect(instant(note.added_in_crm!)).toBe(noteAdded);
    } finally {
      db.close();
    }
  });
});

describe('the CSV connection\'s retired timeZone key', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-csv-zone-'));
    mkdirSync(join(dir, 'export'));
    writeFileSync(join(dir, 'export', 'deals.csv'), 'id,Deal - Title\n1,Alpha\n');
    new SqliteDatabase(join(dir, 'target.db')).exec('CREATE TABLE deals (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT)');
    writeFileSync(join(dir, 'ferry.yaml'), PROJECT('UTC', '  timeZone: Europe/Berlin\n').replace(/ {2}notes:[\s\S]*$/, ''));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused by check with CONFIG_INVALID, naming source.timeZone and the top-level sourceTimeZone', async () => {
    const result = await ferry(dir, 'check');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('source.timeZone: the CSV connection has no time zone of its own any more; remove it and set the top-level sourceTimeZone: Europe/Berlin');
    const asJson = await ferry(dir, 'check', '--json');
    expect(asJson.stdout + asJson.stderr).toContain('CONFIG_INVALID');
  });
});
