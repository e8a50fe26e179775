import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MappingResponse } from '../../src/wizard/api.js';
import { startWizardServer } from '../../src/wizard/server/index.js';
import { ferry } from './run-cli.js';

/**
 * NO_MODIFIED_FIELD when a column is named like a modified column but its values do not read as date-times:
 * the warning names the column, shows a value and says how to make it readable, in `ferry map`,
 * `ferry check` and the wizard; following its advice makes the column the modified column.
 */
interface Problem {
  code: string;
  object: string;
  message: string;
}

const FILES: Record<string, string> = {
  // A German Excel re-save: day first, read only under a day-first locale.
  'notes.csv': 'id;Content;Update time\n1;Call back;17.03.2024 14:05\n2;Sent offer;01.04.2024 09:30\n',
  // US month first: 03/17 has no 17th month.
  'deals.csv': 'id,title,Last Modified Date\n1,Alpha,03/17/2024 2:05 PM\n2,Beta,04/01/2024 9:30 AM\n',
  // Either order reads every value: only the user knows which.
  'tasks.csv': 'id,subject,modified\n1,Call,03/04/2024 10:00\n2,Mail,05/06/2024 11:00\n',
  // A yes/no flag named `changed`: no date order reads it.
  'people.csv': 'id,name,changed,created_at\n1,Anna Schmidt,yes,2024-03-17 14:05:00\n2,Bo Berg,no,2024-03-18 09:00:00\n',
  // A modified column that reads: no warning.
  'companies.csv': 'id,name,updated_at\n1,Acme,2024-03-17 14:05:00\n',
};

const PROJECT = (extra = '') => `version: 1
source:
  connector: csv
  path: export
${extra}target:
  connector: sql
  dialect: sqlite
  path: target.db
sourceTimeZone: Europe/Berlin
objects:
  notes: { target: notes, match: null, fields: { Content: body } }
  deals: { target: deals, match: null, fields: { title: title } }
  tasks: { target: tasks, match: null, fields: { subject: subject } }
  people: { target: people, match: null, fields: { name: name } }
  companies: { target: companies, match: null, fields: { name: name } }
`;

const BASE = 'no modified column was found, so every delta reads all of its records. ';
const EXPECTED: Record<string, string> = {
  notes:
    BASE +
    'Column "Update time" is named like one, but its values do not read as date-times (e.g. "17.03.2024 14:05"). They read day first (31.12.2024): ' +
    'set sourceLocale: de-DE (or another locale writing dates that way) in ferry.yaml, or source.objects.notes.locale: de-DE for this file only. ' +
    'If another column holds each record\'s last-modified date-time, name it: source.objects.notes.updatedAt: <column>.',
  deals:
    BASE +
    'Column "Last Modified Date" is named like one, but its values do not read as date-times (e.g. "03/17/2024 2:05 PM"). They read month first (12/31/2024): ' +
    'set sourceLocale: en-US (or another locale writing dates that way) in ferry.yaml, or source.objects.deals.locale: en-US for this file only. ' +
    'If another column holds each record\'s last-modified date-time, name it: source.objects.deals.updatedAt: <column>.',
  tasks:
    BASE +
    'Column "modified" is named like one, but its values do not read as date-times (e.g. "03/04/2024 10:00"). They read day first or month first alike ' +
    '(03/04/2024 is 3 April or 4 March): set sourceLocale, or source.objects.tasks.locale for this file only, to the locale they were written in ' +
    '(de-DE: day first; en-US: month first). If another column holds each record\'s last-modified date-time, name it: source.objects.tasks.updatedAt: <column>.',
  people:
    BASE +
    'Column "changed" is named like one, but its values do not read as date-times (e.g. "yes"). If it holds each record\'s last-modified date-time, ' +
    'export it as ISO 8601 (2024-03-17 14:05:00) or as numeric dates with a four-digit year, all in one order. If another column holds each ' +
    'record\'s last-modified date-time, name it: source.objects.people.updatedAt: <column> (date-time columns: "created_at").',
};

describe('NO_MODIFIED_FIELD names a modified-looking column whose values do not read, with how to read them', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-modified-hint-'));
    mkdirSync(join(dir, 'export'));
    for (const [file, text] of Object.entries(FILES)) writeFileSync(join(dir, 'export', file), text);
    const db = new SqliteDatabase(join(dir, 'target.db'));
    db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE deals (id INTEGER PRIMARY KEY, title TEXT);
             CREATE TABLE tasks (id INTEGER PRIMARY KEY, subject TEXT); CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT);`);
    db.close();
    writeFileSync(join(dir, 'ferry.yaml'), PROJECT());
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ferry check --json gives each object its column, a value and the setting that reads it', async () => {
    const result = await ferry(dir, ['check', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const warnings = result.json<{ mapping: { warnings: Problem[] } }>().mapping.warnings.filter((warning) => warning.code === 'NO_MODIFIED_FIELD');
    expect(Object.fromEntries(warnings.map((warning) => [warning.object, warning.message]))).toEqual(EXPECTED);
  });

  it('ferry check and ferry map print the same warnings', async () => {
    const check = await ferry(dir, ['check']);
    const map = await ferry(dir, ['map']);
    for (const run of [check, map]) {
      expect(run.code, run.stderr).toBe(0);
      const text = run.stdout.replace(/\s+/g, ' ');
      for (const [object, message] of Object.entries(EXPECTED)) expect(text).toContain(`warning ${object}: ${message}`);
      expect(text).not.toContain('warning companies: no modified column');
    }
  });

  it('the wizard shows them on its Map step', async () => {
    const server = await startWizardServer({ projectPath: join(dir, 'ferry.yaml'), cwd: dir, env: { ...process.env }, port: 0, uiDir: join(dir, 'no-ui') });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/api/mapping`, { headers: { authorization: `Bearer ${server.issueSession()}` } });
      expect(response.status).toBe(200);
      const mapping = (await response.json()) as MappingResponse;
      const warnings = mapping.problems.warnings.filter((warning) => warning.code === 'NO_MODIFIED_FIELD');
      expect(Object.fromEntries(warnings.map((warning) => [warning.object, warning.message]))).toEqual(EXPECTED);
    } finally {
      await server.close();
    }
  });

  it('following the advice (sourceLocale de-DE, the US file its own locale) makes those columns the modified columns', async () => {
    const text = PROJECT('  objects:\n    deals: { id: id, locale: en-US }\n').replace('sourceTimeZone: Europe/Berlin', 'sourceTimeZone: Europe/Berlin\nsourceLocale: de-DE');
    writeFileSync(join(dir, 'ferry.yaml'), text);
    try {
      const result = await ferry(dir, ['check', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const warnings = result.json<{ mapping: { warnings: Problem[] } }>().mapping.warnings.filter((warning) => warning.code === 'NO_MODIFIED_FIELD');
      // tasks' 03/04/2024 reads day first under de-DE now; only the yes/no flag is left.
      expect(warnings.map((warning) => warning.object)).toEqual(['people']);
      for (const [object, column] of [['notes', 'Update time'], ['deals', 'Last Modified Date'], ['tasks', 'modified']] as const) {
        const fields = await ferry(dir, ['fields', 'source', object, '--json']);
        expect(fields.code, fields.stderr).toBe(0);
        const [view] = fields.json<{ objects: { fields: { name: string; type: string; role?: string }[] }[] }>().objects;
        expect(view!.fields.filter((field) => field.role === 'modified').map((field) => [field.name, field.type])).toEqual([[column, 'datetime']]);
      }
    } finally {
      writeFileSync(join(dir, 'ferry.yaml'), PROJECT());
    }
    expect(readFileSync(join(dir, 'ferry.yaml'), 'utf8')).toBe(PROJECT());
  });
});
