import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Connector } from '../../core/connector.js';
import { createMysqlDatabase, createPostgresDatabase } from '../../../test/support/databases.js';
import { createSqlConnector, type SqlConnectionConfig } from './index.js';

/**
 * The files tables of the SQL connector (docs/attachments.md) on every dialect: BLOB content read and written
 * in pieces, files on disk, the stamp that finds an upload again, and delete. One suite for all three.
 */

type DialectName = 'sqlite' | 'postgres' | 'mysql';
const DIALECTS: DialectName[] = ['sqlite', 'postgres', 'mysql'];

/** 2.5 MiB of deterministic bytes: more than one read piece (1 MiB), so reassembly is checked. */
function content(seed: number, length = 2.5 * 1024 * 1024): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let index = 0; index < length; index++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[index] = x >>> 24;
  }
  return out;
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

interface Harness {
  config: SqlConnectionConfig;
  run(sql: string): Promise<void>;
  drop(): Promise<void>;
}

const BLOB: Record<DialectName, string> = { sqlite: 'BLOB', postgres: 'bytea', mysql: 'LONGBLOB' };
const SERIAL: Record<DialectName, string> = { sqlite: 'INTEGER PRIMARY KEY', postgres: 'serial PRIMARY KEY', mysql: 'INT AUTO_INCREMENT PRIMARY KEY' };

async function openHarness(dialect: DialectName, dir: string): Promise<Harness> {
  if (dialect === 'sqlite') {
    const path = join(dir, 'crm.db');
    const database = new Database(path);
    return { config: { dialect, path }, run: async (sql) => void database.exec(sql), drop: async () => void database.close() };
  }
  if (dialect === 'postgres') {
    const database = await createPostgresDatabase('ferry_files');
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    return {
      config: { dialect, url: database.url },
      run: async (sql) => void (await client.query(sql)),
      drop: async () => {
        await client.end();
        await database.drop();
      },
    };
  }
  const database = await createMysqlDatabase('ferry_files');
  const connection = await mysql.createConnection({ uri: database.url, multipleStatements: true });
  return {
    config: { dialect, url: database.url },
    run: async (sql) => void (await connection.query(sql)),
    drop: async () => {
      await connection.end();
      await database.drop();
    },
  };
}

for (const dialect of DIALECTS) {
  describe(`SQL files tables on ${dialect}`, () => {
    let harness: Harness | undefined;
    let connector: Connector | undefined;
    let dir: string;
    afterEach(async () => {
      await connector?.close();
      await harness?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function setUp(files: NonNullable<SqlConnectionConfig['files']>[string]): Promise<Connector> {
      dir = mkdtempSync(join(tmpdir(), 'ferry-sql-files-'));
      harness = await openHarness(dialect, dir);
      await harness.run(`CREATE TABLE notes (id ${SERIAL[dialect]}, body TEXT)`);
      await harness.run(`CREATE TABLE note_files (id ${SERIAL[dialect]}, note_id INT NOT NULL, name VARCHAR(200), mime VARCHAR(100), data ${BLOB[dialect]}, disk_path VARCHAR(300), sha VARCHAR(64), bytes INT)`);
      await harness.run(`INSERT INTO notes (id, body) VALUES (1, 'one'), (2, 'two')`);
      connector = createSqlConnector({ ...harness.config, files: { notes: files } }, { baseDir: dir });
      return connector;
    }

    it('BLOB content: an upload is stored in pieces, listed with its size and hash, read back byte for byte, found by its stamp, and deleted', async () => {
      const sql = await setUp({ table: 'note_files', record: 'note_id', name: 'name', contentType: 'mime', content: 'data', sha256: 'sha', size: 'bytes' });
      const files = sql.files!;
      expect(files.readable('notes')).toBe(true);
      expect(files.readable('companies')).toBe(false);
      // The files table is no object of its own.
      expect((await sql.describe()).objects.map((object) => object.name)).toEqual(['notes']);
      const data = content(dialect.length);
      const open = async () => Readable.from([data.subarray(0, 700_000), data.subarray(700_000)]);
      const id = await files.upload('notes', { name: 'scan.pdf', size: data.length, contentType: 'application/pdf', stamp: 'ferry-abc', targetRecordId: '2', open });
      expect(await files.findUploaded('notes', { name: 'scan.pdf', stamp: 'ferry-abc', targetRecordId: '2' })).toBe(id);
      expect(await files.findUploaded('notes', { name: 'scan.pdf', stamp: 'ferry-other', targetRecordId: '2' })).toBeUndefined();
      const listed = await files.list('notes', [
        { id: '1', updatedAt: null, fields: {} },
        { id: '2', updatedAt: null, fields: {} },
      ]);
      expect([...listed.keys()]).toEqual(['2']);
      expect(listed.get('2')).toEqual([{ id, name: 'scan.pdf', size: data.length, contentType: 'application/pdf', sha256: sha(data) }]);
      expect(sha(await drain(await files.open('notes', '2', listed.get('2')![0]!)))).toBe(sha(data));
      await files.delete('notes', [id]);
      expect((await files.list('notes', [{ id: '2', updatedAt: null, fields: {} }])).size).toBe(0);
    });

    it('files on disk: written under the stamp folder, read from the path column, removed with their row', async () => {
      const sql = await setUp({ table: 'note_files', record: 'note_id', name: 'name', path: 'disk_path', folder: 'attachments' });
      const files = sql.files!;
      const data = content(7, 300_000);
      const id = await files.upload('notes', { name: '../evil name.txt', size: null, contentType: null, stamp: 'ferry-s1', targetRecordId: '1', open: async () => Readable.from([data]) });
      const stored = join(dir, 'attachments', 'ferry-s1', '.._evil name.txt');
      expect(existsSync(stored)).toBe(true);
      // A source row written by someone else, with a relative path.
      writeFileSync(join(dir, 'attachments', 'other.bin'), Buffer.from('hello'));
      await harness!.run(`INSERT INTO note_files (note_id, name, disk_path) VALUES (1, 'other.bin', 'other.bin')`);
      const listed = (await files.list('notes', [{ id: '1', updatedAt: null, fields: {} }])).get('1')!;
      expect(listed.map((file) => [file.name, file.size])).toEqual([
        ['../evil name.txt', 300_000],
        ['other.bin', 5],
      ]);
      expect(sha(await drain(await files.open('notes', '1', listed[0]!)))).toBe(sha(data));
      expect((await drain(await files.open('notes', '1', listed[1]!))).toString()).toBe('hello');
      await files.delete('notes', [id]);
      expect(existsSync(stored)).toBe(false);
    });
  });
}

describe('SQL files settings', () => {
  it('refuses a files table with both or neither of content and path, and path without folder, naming the key', () => {
    const base = { dialect: 'sqlite', path: ':memory:' } as const;
    expect(() => createSqlConnector({ ...base, files: { notes: { table: 'f', record: 'r', name: 'n' } } })).toThrow(/files\.notes\.content: set exactly one of content/);
    expect(() => createSqlConnector({ ...base, files: { notes: { table: 'f', record: 'r', name: 'n', path: 'p' } } })).toThrow(/files\.notes\.folder: is required with path/);
  });
});
