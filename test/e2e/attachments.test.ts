import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnector } from '../../src/connectors/registry.js';
import { ProgressStream, type ProgressEvent } from '../../src/core/progress.js';
import { Engine, type RunResult } from '../../src/engine/index.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { Ledger } from '../../src/ledger/index.js';
import type { VerifyResult } from '../../src/engine/types.js';
import { copyField, objectMapping } from '../../src/project/project-file.js';
import { serialiseProjectFile } from '../../src/project/serialise.js';
import { ferry } from '../cli/run-cli.js';
import type { ProjectFile } from '../../src/project/types.js';
import { random, runChild } from '../support/child.js';

/**
 * Files attached to notes move with them (docs/attachments.md), SQL -> HubSpot and HubSpot -> SQL, through
 * full, re-run, delta, undo and a crash between an upload and its ledger write. The emulator counts uploads,
 * so "never uploaded twice" is checked on the target, not on Ferry's own counters.
 */

const FAST = { burstLimit: 1000, searchPerSecond: 50 };
const LIMITS = { burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 };

/** Deterministic bytes (xorshift), so contents are checked exactly without random test data. */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761 || 1;
  for (let index = 0; index < length; index++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[index] = x & 0xff;
  }
  return out;
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Session {
  engine: Engine;
  events: ProgressEvent[];
  close(): Promise<void>;
}

async function open(dir: string, project: ProjectFile): Promise<Session> {
  const ledger = await Ledger.open(project.state!, { baseDir: dir });
  const source = createConnector(project.source, { baseDir: dir, role: 'source' });
  const target = createConnector(project.target, { baseDir: dir, role: 'target' });
  const progress = new ProgressStream();
  const events: ProgressEvent[] = [];
  progress.on((event) => events.push(event));
  const engine = new Engine({ project, source, target, ledger, progress });
  return {
    engine,
    events,
    close: async () => {
      await source.close();
      await target.close();
      await ledger.close();
    },
  };
}

async function run(dir: string, project: ProjectFile, work: (engine: Engine) => Promise<RunResult>): Promise<RunResult & { events: ProgressEvent[] }> {
  const session = await open(dir, project);
  try {
    return { ...(await work(session.engine)), events: session.events };
  } finally {
    await session.close();
  }
}

async function failures(dir: string, project: ProjectFile, runId: number) {
  const ledger = await Ledger.open(project.state!, { baseDir: dir });
  try {
    return await ledger.listFailures({ runId });
  } finally {
    await ledger.close();
  }
}

async function verify(dir: string, project: ProjectFile) {
  const session = await open(dir, project);
  try {
    return await session.engine.verify();
  } finally {
    await session.close();
  }
}

/** A HubSpot file's bytes, fetched the way a user's download would (signed URL). */
async function hubspotContent(hubspot: HubspotEmulator, fileId: string): Promise<Buffer> {
  const signed = await fetch(`${hubspot.url}/files/v3/files/${fileId}/signed-url`, { headers: { Authorization: `Bearer ${hubspot.token}` } });
  const { url } = (await signed.json()) as { url: string };
  return Buffer.from(await (await fetch(url)).arrayBuffer());
}

function liveNotes(hubspot: HubspotEmulator) {
  return [...hubspot.store.table('notes').values()].filter((record) => !record.archived);
}

function attachmentsOf(hubspot: HubspotEmulator, sourceId: string): string[] {
  const note = liveNotes(hubspot).find((record) => record.properties.get('ferry_source_id') === sourceId);
  return (note?.properties.get('hs_attachment_ids') ?? '').split(';').filter(Boolean);
}

describe('attachments: SQL -> HubSpot', () => {
  let dir: string;
  let hubspot: HubspotEmulator;
  let project: ProjectFile;
  let source: SqliteDatabase.Database;
  const files = {
    a: bytes(1, 150_000),
    b: bytes(2, 1234),
    big: bytes(3, 300_000),
    c: bytes(4, 70_000),
    added: bytes(5, 4096),
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-attach-'));
    hubspot = await startHubspotEmulator(LIMITS);
    source = new SqliteDatabase(join(dir, 'source.db'));
    source.exec(`
      CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, noted_at TEXT, updated_at TEXT);
      CREATE TABLE note_files (id INTEGER PRIMARY KEY, note_id INTEGER REFERENCES notes(id), file_name TEXT, mime TEXT, data BLOB);
    `);
    const insertNote = source.prepare('INSERT INTO notes (id, body, noted_at, updated_at) VALUES (?, ?, ?, ?)');
    for (const id of [1, 2, 3]) insertNote.run(id, `Note ${id}`, '2026-01-05T10:00:00.000Z', '2026-01-05T10:00:00.000Z');
    const insertFile = source.prepare('INSERT INTO note_files (id, note_id, file_name, mime, data) VALUES (?, ?, ?, ?, ?)');
    insertFile.run(10, 1, 'contract.pdf', 'application/pdf', files.a);
    insertFile.run(11, 1, 'notes.txt', 'text/plain', files.b);
    insertFile.run(12, 2, 'huge scan.tiff', 'image/tiff', files.big);
    insertFile.run(13, 2, 'photo.jpg', 'image/jpeg', files.c);
    project = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db', files: { notes: { table: 'note_files', record: 'note_id', name: 'file_name', contentType: 'mime', content: 'data' } } },
      target: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, ...FAST },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100, maxFileBytes: 200_000 },
      objects: [
        objectMapping({ source: 'notes', target: 'notes', fields: [copyField('body', 'hs_note_body'), { source: ['noted_at'], target: 'hs_timestamp', transform: { kind: 'datetime' } }] }),
      ],
    };
  });

  afterEach(async () => {
    source.close();
    await hubspot.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every file once, streams it intact, fails only the file that is too large, and a re-run uploads nothing', async () => {
    const full = await run(dir, project, (engine) => engine.migrate());
    expect(full.status).toBe('completed_with_failures');
    expect(full.counts.notes).toMatchObject({ created: 3, files: 3, fileBytes: files.a.length + files.b.length + files.c.length });
    expect(hubspot.files.uploads).toBe(3);
    const [a, b] = attachmentsOf(hubspot, '1');
    expect(attachmentsOf(hubspot, '1')).toHaveLength(2);
    expect(sha(await hubspotContent(hubspot, a!))).toBe(sha(files.a));
    expect(sha(await hubspotContent(hubspot, b!))).toBe(sha(files.b));
    expect(attachmentsOf(hubspot, '2')).toHaveLength(1);
    expect(sha(await hubspotContent(hubspot, attachmentsOf(hubspot, '2')[0]!))).toBe(sha(files.c));
    expect(attachmentsOf(hubspot, '3')).toEqual([]);
    // Users see the original names (each file in its own stamped folder).
    expect(hubspot.files.live().map((file) => `${file.name}.${file.extension}`).sort()).toEqual(['contract.pdf', 'notes.txt', 'photo.jpg']);
    const failed = await failures(dir, project, full.runId);
    expect(failed).toEqual([expect.objectContaining({ object: 'notes', sourceId: '2', code: 'FILE_TOO_LARGE', field: 'attachments', value: JSON.stringify('huge scan.tiff') })]);
    expect(failed[0]!.message).toContain('notes 2: file "huge scan.tiff"');
    expect(full.events.filter((event) => event.type === 'file-copied')).toHaveLength(3);

    // A dry run forecasts only what is not copied yet: the new file, not the three already there.
    source.prepare('INSERT INTO note_files (id, note_id, file_name, mime, data) VALUES (15, 3, ?, ?, ?)').run('later.txt', 'text/plain', files.added);
    const dry = await run(dir, project, (engine) => engine.migrate({ dryRun: true }));
    expect(dry.counts.notes).toMatchObject({ files: 1, fileBytes: files.added.length });
    expect(hubspot.files.uploads).toBe(3);
    source.prepare('DELETE FROM note_files WHERE id = 15').run();

    const again = await run(dir, project, (engine) => engine.migrate());
    expect(again.counts.notes).toMatchObject({ files: 0, fileBytes: 0 });
    expect(hubspot.files.uploads).toBe(3);
    expect(attachmentsOf(hubspot, '1')).toHaveLength(2);
  });

  it('a delta copies only new files, a retry copies a file once the limit allows it, and undo removes what each run uploaded', async () => {
    const full = await run(dir, project, (engine) => engine.migrate());
    expect(hubspot.files.uploads).toBe(3);
    // Later than the full run's high-water mark (the database's clock when it ran).
    source.prepare("UPDATE notes SET body = 'Note 1 (edited)', updated_at = '2100-01-01T00:00:00.000Z' WHERE id = 1").run();
    source.prepare('INSERT INTO note_files (id, note_id, file_name, mime, data) VALUES (14, 1, ?, ?, ?)').run('added.txt', 'text/plain', files.added);
    const delta = await run(dir, project, (engine) => engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.counts.notes).toMatchObject({ updated: 1, files: 1, fileBytes: files.added.length });
    expect(hubspot.files.uploads).toBe(4);
    expect(attachmentsOf(hubspot, '1')).toHaveLength(3);

    // The too-large file of the full run: allowed now, so its retry copies it (and only it).
    const bigger = { ...project, options: { ...project.options, maxFileBytes: 1_000_000 } };
    const retry = await run(dir, bigger, (engine) => engine.retry(full.runId));
    expect(retry.counts.notes).toMatchObject({ files: 1, fileBytes: files.big.length });
    expect(hubspot.files.uploads).toBe(5);
    expect(attachmentsOf(hubspot, '2')).toHaveLength(2);
    expect(await failures(dir, bigger, full.runId)).toEqual([expect.objectContaining({ code: 'FILE_TOO_LARGE', resolvedByRunId: retry.runId })]);

    await run(dir, bigger, (engine) => engine.undo(retry.runId));
    expect(attachmentsOf(hubspot, '2')).toHaveLength(1);
    await run(dir, bigger, (engine) => engine.undo(delta.runId));
    expect(attachmentsOf(hubspot, '1')).toHaveLength(2);
    expect(hubspot.files.live()).toHaveLength(3);
    const undo = await run(dir, bigger, (engine) => engine.undo(full.runId));
    expect(undo.counts.notes).toMatchObject({ files: 3 });
    expect(hubspot.files.live()).toEqual([]);
    expect(liveNotes(hubspot)).toEqual([]);
  });

  it('verify: clean after the run, then reports a file deleted in HubSpot, one taken off its note and one whose size changed', async () => {
    await run(dir, project, (engine) => engine.migrate());
    const clean = await verify(dir, project);
    // The file too large to copy is a failure of its record, not a copied file: three files checked.
    expect(clean.objects.notes).toMatchObject({ filesChecked: 3, filesMissing: 0, filesUnattached: 0, filesMismatched: 0 });
    expect(clean.issues.filter((issue) => issue.file)).toEqual([]);

    const [a, b] = attachmentsOf(hubspot, '1');
    const [c] = attachmentsOf(hubspot, '2');
    const auth = { Authorization: `Bearer ${hubspot.token}`, 'Content-Type': 'application/json' };
    // Deleted in the file manager (the note still lists it), and note 1 keeps only that deleted id.
    expect((await fetch(`${hubspot.url}/files/v3/files/${a}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    const note1 = liveNotes(hubspot).find((note) => note.properties.get('ferry_source_id') === '1')!;
    const patched = await fetch(`${hubspot.url}/crm/v3/objects/notes/${note1.id}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ properties: { hs_attachment_ids: a } }) });
    expect(patched.status).toBe(200);
    // A file replaced in the file manager (HubSpot's "replace file"; the emulator has no route for it, so its store is changed).
    hubspot.files.files.get(c!)!.size = 10;
    const found = await verify(dir, project);
    expect(found.ok).toBe(false);
    expect(found.objects.notes).toMatchObject({ filesChecked: 3, filesMissing: 1, filesUnattached: 1, filesMismatched: 1 });
    const fileIssues = found.issues.filter((issue) => issue.file).sort((x, y) => x.file!.localeCompare(y.file!));
    expect(fileIssues).toEqual([
      expect.objectContaining({ object: 'notes', sourceId: '1', targetId: note1.id, kind: 'file-missing', reason: 'deleted-in-target', file: 'contract.pdf', fileId: a }),
      expect.objectContaining({ object: 'notes', sourceId: '1', targetId: note1.id, kind: 'file-not-attached', reason: 'detached', file: 'notes.txt', fileId: b }),
      expect.objectContaining({ object: 'notes', sourceId: '2', kind: 'file-mismatch', reason: 'size-differs', file: 'photo.jpg', fileId: c, expected: files.c.length, actual: 10 }),
    ]);
  });

  it('a run killed between an upload and its ledger write re-uses the uploaded file when resumed', async () => {
    const projectPath = join(dir, 'project.json');
    writeFileSync(projectPath, JSON.stringify(project));
    const killed = await runChild(projectPath, dir, 'migrate', { FERRY_TEST_KILL_AT: 'upload:2' });
    expect(killed.signal).toBe('SIGKILL');
    expect(hubspot.files.uploads).toBe(2);
    const resumed = await runChild(projectPath, dir, 'migrate', {});
    expect(resumed.stderr).toBe('');
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'completed_with_failures', resumed: true });
    // Three files, three uploads: the one whose answer was lost was found by its stamp, not sent again.
    expect(hubspot.files.uploads).toBe(3);
    expect(hubspot.files.live()).toHaveLength(3);
    expect(attachmentsOf(hubspot, '1')).toHaveLength(2);
    expect(attachmentsOf(hubspot, '2')).toHaveLength(1);
    for (const id of attachmentsOf(hubspot, '1')) expect([sha(files.a), sha(files.b)]).toContain(sha(await hubspotContent(hubspot, id)));
  });
});

describe('attachments: killed again and again', () => {
  let dir: string;
  let hubspot: HubspotEmulator;
  afterEach(async () => {
    await hubspot.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SQL -> HubSpot killed at seeded moments (before or after an upload, after a ledger write) ends with every file uploaded once and attached', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-attach-'));
    hubspot = await startHubspotEmulator(LIMITS);
    const db = new SqliteDatabase(join(dir, 'source.db'));
    db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, noted_at TEXT, updated_at TEXT);
      CREATE TABLE note_files (id INTEGER PRIMARY KEY, note_id INTEGER, file_name TEXT, data BLOB)`);
    const contents = new Map<string, string>();
    for (let note = 1; note <= 4; note++) {
      db.prepare('INSERT INTO notes VALUES (?, ?, ?, ?)').run(note, `Note ${note}`, '2026-01-05T10:00:00.000Z', '2026-01-05T10:00:00.000Z');
      for (let file = 1; file <= note % 3 + 1; file++) {
        const data = bytes(note * 10 + file, 2000 + file);
        db.prepare('INSERT INTO note_files (note_id, file_name, data) VALUES (?, ?, ?)').run(note, `n${note}-f${file}.bin`, data);
        contents.set(`n${note}-f${file}`, sha(data));
      }
    }
    db.close();
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db', files: { notes: { table: 'note_files', record: 'note_id', name: 'file_name', content: 'data' } } },
      target: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, ...FAST },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 2 },
      objects: [objectMapping({ source: 'notes', target: 'notes', fields: [copyField('body', 'hs_note_body'), { source: ['noted_at'], target: 'hs_timestamp', transform: { kind: 'datetime' } }] })],
    };
    const projectPath = join(dir, 'project.json');
    writeFileSync(projectPath, JSON.stringify(project));
    const next = random(13);
    const points = (n: number) => [`upload:${n}:after`, `upload:${n}:before`, `ledger:putFileLinks:${n}`];
    let kills = 0;
    for (let attempt = 0; attempt < 8; attempt++) {
      const point = points(1 + Math.floor(next() * 3))[Math.floor(next() * 3)]!;
      const env: Record<string, string> = point.startsWith('ledger:') ? { FERRY_TEST_KILL_LEDGER: point.slice('ledger:'.length) } : { FERRY_TEST_KILL_AT: point };
      const result = await runChild(projectPath, dir, 'migrate', attempt < 5 ? env : {});
      if (result.signal === 'SIGKILL') {
        kills += 1;
        continue;
      }
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toMatchObject({ status: 'completed' });
      break;
    }
    expect(kills).toBeGreaterThan(2);
    expect(hubspot.files.uploads).toBe(contents.size);
    const attached = liveNotes(hubspot).flatMap((note) => (note.properties.get('hs_attachment_ids') ?? '').split(';').filter(Boolean));
    expect(attached.sort()).toEqual(hubspot.files.live().map((file) => file.id).sort());
    for (const file of hubspot.files.live()) expect(sha(await hubspotContent(hubspot, file.id))).toBe(contents.get(file.name));
  });
});

describe('attachments: HubSpot -> SQL', () => {
  let dir: string;
  let hubspot: HubspotEmulator;
  let project: ProjectFile;
  let target: SqliteDatabase.Database;
  const contents = [bytes(7, 90_000), bytes(8, 10), bytes(9, 5000)];

  async function upload(name: string, data: Buffer): Promise<string> {
    const form = new FormData();
    form.set('file', new Blob([data]), name);
    form.set('folderPath', '/crm-files');
    form.set('options', JSON.stringify({ access: 'PRIVATE' }));
    const response = await fetch(`${hubspot.url}/files/v3/files`, { method: 'POST', headers: { Authorization: `Bearer ${hubspot.token}` }, body: form });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-attach-'));
    hubspot = await startHubspotEmulator(LIMITS);
    const [first, second, third] = [await upload('deck.pdf', contents[0]!), await upload('a.txt', contents[1]!), await upload('logo.png', contents[2]!)];
    hubspot.store.createRecord('notes', { hs_note_body: 'Call summary', hs_timestamp: '2026-01-02T00:00:00.000Z', hs_attachment_ids: `${first};${second}` });
    hubspot.store.createRecord('notes', { hs_note_body: 'Logo', hs_timestamp: '2026-01-03T00:00:00.000Z', hs_attachment_ids: third });
    hubspot.store.createRecord('notes', { hs_note_body: 'No files', hs_timestamp: '2026-01-04T00:00:00.000Z' });
    target = new SqliteDatabase(join(dir, 'target.db'));
    target.exec(`
      CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, noted_at TEXT);
      CREATE TABLE note_files (id INTEGER PRIMARY KEY AUTOINCREMENT, note_id INTEGER NOT NULL REFERENCES notes(id), name TEXT, size INTEGER, sha256 TEXT, data BLOB);
    `);
    project = {
      version: 1,
      source: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, ...FAST },
      target: { connector: 'sql', dialect: 'sqlite', path: 'target.db', files: { notes: { table: 'note_files', record: 'note_id', name: 'name', content: 'data', size: 'size', sha256: 'sha256' } } },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [objectMapping({ source: 'notes', target: 'notes', fields: [copyField('hs_note_body', 'body'), copyField('hs_timestamp', 'noted_at')] })],
    };
  });

  afterEach(async () => {
    target.close();
    await hubspot.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = () => target.prepare('SELECT n.body, f.name, f.size, f.sha256, f.data FROM note_files f JOIN notes n ON n.id = f.note_id ORDER BY f.name').all() as { body: string; name: string; size: number; sha256: string; data: Buffer }[];

  it('full, re-run, delta and undo: each file lands once in the files table, byte for byte', async () => {
    const full = await run(dir, project, (engine) => engine.migrate());
    expect(full.status).toBe('completed');
    expect(full.counts.notes).toMatchObject({ created: 3, files: 3, fileBytes: 95_010 });
    const copied = rows();
    expect(copied.map((row) => [row.body, row.name, row.size])).toEqual([
      ['Call summary', 'a.txt', 10],
      ['Call summary', 'deck.pdf', 90_000],
      ['Logo', 'logo.png', 5000],
    ]);
    expect(copied.map((row) => sha(row.data))).toEqual([sha(contents[1]!), sha(contents[0]!), sha(contents[2]!)]);
    expect(copied.map((row) => row.sha256)).toEqual(copied.map((row) => sha(row.data)));

    const again = await run(dir, project, (engine) => engine.migrate());
    expect(again.counts.notes).toMatchObject({ files: 0 });
    expect(rows()).toHaveLength(3);

    // A new file on a note (its modified time moves): the delta copies that one only.
    const added = await upload('minutes.txt', bytes(10, 333));
    const note = [...hubspot.store.table('notes').values()].find((record) => record.properties.get('hs_note_body') === 'Logo')!;
    hubspot.store.updateRecord('notes', note.id, { hs_attachment_ids: `${note.properties.get('hs_attachment_ids')};${added}` });
    const delta = await run(dir, project, (engine) => engine.delta({ createNew: true, updateChanged: true }));
    expect(delta.counts.notes).toMatchObject({ files: 1, fileBytes: 333 });
    expect(rows()).toHaveLength(4);

    // The delta wrote no record (only a file): it still counts as a later run, so the full run's undo waits for it.
    await expect(run(dir, project, (engine) => engine.undo(full.runId))).rejects.toThrow(`Run(s) ${delta.runId} wrote to the target after run ${full.runId}`);
    await run(dir, project, (engine) => engine.undo(delta.runId));
    expect(rows().map((row) => row.name)).toEqual(['a.txt', 'deck.pdf', 'logo.png']);
    await run(dir, project, (engine) => engine.undo(full.runId));
    expect(rows()).toEqual([]);
    expect(target.prepare('SELECT COUNT(*) AS n FROM notes').get()).toEqual({ n: 0 });
  });

  it('a run killed between storing a file and its ledger write finds the row by its stamp: no duplicate row', async () => {
    const projectPath = join(dir, 'project.json');
    writeFileSync(projectPath, JSON.stringify(project));
    const killed = await runChild(projectPath, dir, 'migrate', { FERRY_TEST_KILL_AT: 'upload:1' });
    expect(killed.signal).toBe('SIGKILL');
    expect(rows()).toHaveLength(1);
    const resumed = await runChild(projectPath, dir, 'migrate', {});
    expect(resumed.stderr).toBe('');
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'completed', resumed: true });
    const copied = rows();
    expect(copied.map((row) => row.name)).toEqual(['a.txt', 'deck.pdf', 'logo.png']);
    expect(copied.map((row) => sha(row.data))).toEqual([sha(contents[1]!), sha(contents[0]!), sha(contents[2]!)]);
  });

  it('a file removed from the file manager fails alone, naming the note and the file', async () => {
    const gone = hubspot.files.live().find((file) => file.name === 'a')!;
    await hubspot.files.remove(gone.id);
    const full = await run(dir, project, (engine) => engine.migrate());
    expect(full.counts.notes).toMatchObject({ created: 3, files: 2, failed: 1 });
    const [failure] = await failures(dir, project, full.runId);
    expect(failure).toMatchObject({ code: 'FILE_FAILED', field: 'attachments', value: JSON.stringify(`file ${gone.id}`) });
    expect(rows().map((row) => row.name)).toEqual(['deck.pdf', 'logo.png']);
  });
});

describe('attachments: CSV -> SQL (files on disk)', () => {
  let dir: string;
  let target: SqliteDatabase.Database;
  afterEach(() => {
    target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function setUp(attachments: Record<string, unknown>): ProjectFile {
    dir = mkdtempSync(join(tmpdir(), 'ferry-attach-'));
    mkdirSync(join(dir, 'export'));
    writeFileSync(join(dir, 'export', 'notes.csv'), 'id,body,files,updated_at\n1,First,contract.pdf; scan.png,2026-01-01T00:00:00Z\n2,Second,,2026-01-01T00:00:00Z\n3,Third,missing.doc,2026-01-01T00:00:00Z\n');
    target = new SqliteDatabase(join(dir, 'target.db'));
    target.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT);
      CREATE TABLE note_files (id INTEGER PRIMARY KEY AUTOINCREMENT, note_id INTEGER NOT NULL REFERENCES notes(id), name TEXT, stored TEXT)`);
    return {
      version: 1,
      source: { connector: 'csv', path: 'export', objects: { notes: { attachments } } },
      target: { connector: 'sql', dialect: 'sqlite', path: 'target.db', files: { notes: { table: 'note_files', record: 'note_id', name: 'name', path: 'stored', folder: 'copied' } } },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [objectMapping({ source: 'notes', target: 'notes', fields: [copyField('body')] })],
    };
  }

  const copied = () =>
    (target.prepare('SELECT n.body, f.name, f.stored FROM note_files f JOIN notes n ON n.id = f.note_id ORDER BY f.name').all() as { body: string; name: string; stored: string }[]).map((row) => ({
      body: row.body,
      name: row.name,
      content: readFileSync(join(dir, 'copied', row.stored), 'utf8'),
    }));

  it('a column of file names: each named file copied, a missing one fails alone', async () => {
    const project = setUp({ folder: 'export/files', column: 'files' });
    mkdirSync(join(dir, 'export', 'files'));
    writeFileSync(join(dir, 'export', 'files', 'contract.pdf'), 'PDF!');
    writeFileSync(join(dir, 'export', 'files', 'scan.png'), 'PNG!');
    const full = await run(dir, project, (engine) => engine.migrate());
    expect(full.counts.notes).toMatchObject({ created: 3, files: 2, fileBytes: 8, failed: 1 });
    expect(copied()).toEqual([
      { body: 'First', name: 'contract.pdf', content: 'PDF!' },
      { body: 'First', name: 'scan.png', content: 'PNG!' },
    ]);
    expect(await failures(dir, project, full.runId)).toEqual([expect.objectContaining({ sourceId: '3', code: 'FILE_FAILED', value: JSON.stringify('missing.doc') })]);
    const again = await run(dir, project, (engine) => engine.migrate());
    expect(again.counts.notes).toMatchObject({ files: 0 });
    expect(copied()).toHaveLength(2);
  });

  it('a folder per record id: every file in it copied', async () => {
    const project = setUp({ folder: 'export/by-note' });
    mkdirSync(join(dir, 'export', 'by-note', '2'), { recursive: true });
    writeFileSync(join(dir, 'export', 'by-note', '2', 'minutes.txt'), 'hello');
    const full = await run(dir, project, (engine) => engine.migrate());
    expect(full.status).toBe('completed');
    expect(copied()).toEqual([{ body: 'Second', name: 'minutes.txt', content: 'hello' }]);
  });
});

describe('attachments: SQL -> SQL, checked by ferry verify', () => {
  let dir: string;
  let project: ProjectFile;
  let target: SqliteDatabase.Database;
  const contents = { a: bytes(21, 3000), b: bytes(22, 500), c: bytes(23, 800), d: bytes(24, 64) };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-attach-verify-'));
    const source = new SqliteDatabase(join(dir, 'source.db'));
    source.exec(`
      CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
      CREATE TABLE note_files (id INTEGER PRIMARY KEY, note_id INTEGER, file_name TEXT, data BLOB);
    `);
    for (const id of [1, 2, 3]) source.prepare('INSERT INTO notes (id, body) VALUES (?, ?)').run(id, `Note ${id}`);
    const insert = source.prepare('INSERT INTO note_files (id, note_id, file_name, data) VALUES (?, ?, ?, ?)');
    insert.run(10, 1, 'a.pdf', contents.a);
    insert.run(11, 1, 'b.txt', contents.b);
    insert.run(12, 2, 'c.png', contents.c);
    insert.run(13, 3, 'd.csv', contents.d);
    source.close();
    target = new SqliteDatabase(join(dir, 'target.db'));
    target.exec(`
      CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT);
      CREATE TABLE stored_files (id INTEGER PRIMARY KEY AUTOINCREMENT, note_id INTEGER NOT NULL, name TEXT, sha256 TEXT, data BLOB);
    `);
    project = {
      version: 1,
      source: { connector: 'sql', dialect: 'sqlite', path: 'source.db', files: { notes: { table: 'note_files', record: 'note_id', name: 'file_name', content: 'data' } } },
      target: { connector: 'sql', dialect: 'sqlite', path: 'target.db', files: { notes: { table: 'stored_files', record: 'note_id', name: 'name', content: 'data', sha256: 'sha256' } } },
      state: join(dir, 'state.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: 100 },
      objects: [objectMapping({ source: 'notes', target: 'notes', fields: [copyField('body', 'body')] })],
    };
    writeFileSync(join(dir, 'ferry.yaml'), serialiseProjectFile(project));
  });

  afterEach(() => {
    target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fileRow = (name: string) => target.prepare('SELECT id, note_id FROM stored_files WHERE name = ?').get(name) as { id: number; note_id: number };

  it('clean after the run; then a deleted row, a row moved to another record and changed contents are listed with record, file and reason', async () => {
    const full = await run(dir, project, (engine) => engine.migrate());
    expect(full.status).toBe('completed');
    expect(full.counts.notes).toMatchObject({ files: 4 });
    const clean = await ferry(dir, ['verify', '--json']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.json<VerifyResult>().objects.notes).toMatchObject({ filesChecked: 4, filesMissing: 0, filesUnattached: 0, filesMismatched: 0 });
    expect((await ferry(dir, ['verify'])).stdout).toMatch(/^notes +3 +0 +0 +0 +0 +0 +4 +0 +0 +0$/m);

    const a = fileRow('a.pdf');
    const b = fileRow('b.txt');
    const c = fileRow('c.png');
    const d = fileRow('d.csv');
    target.prepare('DELETE FROM stored_files WHERE id = ?').run(a.id);
    target.prepare('UPDATE stored_files SET note_id = ? WHERE id = ?').run(d.note_id, b.id);
    // Shorter content (the size shows it), and same-size content whose sha256 column the application updated.
    target.prepare('UPDATE stored_files SET data = ? WHERE id = ?').run(contents.c.subarray(0, 100), c.id);
    const changed = Buffer.from(contents.d).reverse();
    target.prepare('UPDATE stored_files SET data = ?, sha256 = ? WHERE id = ?').run(changed, sha(changed), d.id);

    const json = await ferry(dir, ['verify', '--json']);
    expect(json.code).toBe(3);
    const result = json.json<VerifyResult>();
    expect(result.ok).toBe(false);
    expect(result.objects.notes).toMatchObject({ checked: 3, missing: 0, filesChecked: 4, filesMissing: 1, filesUnattached: 1, filesMismatched: 2 });
    expect(result.issues.sort((x, y) => x.file!.localeCompare(y.file!))).toEqual([
      expect.objectContaining({ sourceId: '1', targetId: String(b.note_id), kind: 'file-missing', reason: 'deleted-in-target', file: 'a.pdf', fileId: String(a.id) }),
      expect.objectContaining({ sourceId: '1', targetId: String(b.note_id), kind: 'file-not-attached', reason: 'detached', file: 'b.txt', fileId: String(b.id) }),
      expect.objectContaining({ sourceId: '2', targetId: String(c.note_id), kind: 'file-mismatch', reason: 'size-differs', file: 'c.png', expected: 800, actual: 100 }),
      expect.objectContaining({ sourceId: '3', targetId: String(d.note_id), kind: 'file-mismatch', reason: 'sha256-differs', file: 'd.csv', expected: sha(contents.d), actual: sha(changed) }),
    ]);

    const text = await ferry(dir, ['verify']);
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(/^notes +3 +0 +0 +0 +0 +0 +4 +1 +1 +2$/m);
    expect(text.stdout).toContain(`notes 1 -> ${b.note_id}: file-missing "a.pdf" (file ${a.id}) (deleted-in-target)`);
    expect(text.stdout).toContain(`notes 1 -> ${b.note_id}: file-not-attached "b.txt" (file ${b.id}) (detached)`);
    expect(text.stdout).toContain(`file-mismatch "c.png" (file ${c.id}): expected 800, found 100 (size-differs)`);
    expect(text.stdout).toContain('Verify found 4 problems');
  });
});
