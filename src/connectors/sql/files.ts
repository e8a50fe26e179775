import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CrmRecord } from '../../core/connector.js';
import { FerryError } from '../../core/errors.js';
import type { ConnectorFiles, FileUpload, SourceFile, StoredFile } from '../../core/files.js';
import type { SqlConnectionSettings, SqlFilesTable } from './config.js';
import { Parameters, type SqlDialect, type SqlSession } from './dialect.js';

/** BLOB content is read this much at a time (one query per piece): a file never sits in memory whole. */
const READ_CHUNK = 1024 * 1024;
/**
 * BLOB content is appended this much at a time. Each append rewrites the value in SQLite, so pieces are
 * larger than reads; a database files table with `path` (files on disk) is the better choice for big files.
 */
const WRITE_CHUNK = 4 * 1024 * 1024;
const DEFAULT_STAMP_COLUMN = 'ferry_stamp';
const ID_BATCH = 500;

/**
 * Files tables of a SQL database (`files:` in the connection settings, docs/attachments.md): rows of
 * (record id, name, content) where content is a BLOB column or a file on disk. As a target, an upload is
 * one transaction (row and content together), so a row is never found half written; files on disk are
 * written under a temporary name and renamed before their row is inserted.
 */
export class SqlFiles implements ConnectorFiles {
  private readonly stampColumns = new Map<string, Promise<string>>();

  constructor(
    private readonly settings: SqlConnectionSettings,
    private readonly dialect: SqlDialect,
  ) {}

  readable(object: string): boolean {
    return this.settings.files?.[object] !== undefined;
  }

  writable(object: string): boolean {
    return this.settings.files?.[object] !== undefined && !this.settings.readOnly;
  }

  private table(object: string): SqlFilesTable {
    const files = this.settings.files?.[object];
    if (!files) throw new FerryError('CONFIG_INVALID', `The SQL connection has no files table for ${object} (files.${object} in its settings)`, { object });
    return files;
  }

  private q(name: string): string {
    return this.dialect.quoteIdentifier(name);
  }

  private lengthExpression(column: string): string {
    return this.dialect.name === 'postgres' ? `octet_length(${column})` : `length(${column})`;
  }

  async list(object: string, records: CrmRecord[]): Promise<Map<string, SourceFile[]>> {
    const files = this.table(object);
    const out = new Map<string, SourceFile[]>();
    const id = files.id ?? 'id';
    const columns = [`${this.q(id)} AS id`, `${this.q(files.record)} AS record`, `${this.q(files.name)} AS name`];
    if (files.contentType) columns.push(`${this.q(files.contentType)} AS content_type`);
    if (files.sha256) columns.push(`${this.q(files.sha256)} AS sha256`);
    if (files.size) columns.push(`${this.q(files.size)} AS size`);
    else if (files.content) columns.push(`${this.lengthExpression(this.q(files.content))} AS size`);
    if (files.path) columns.push(`${this.q(files.path)} AS path`);
    const ids = records.map((record) => record.id);
    for (let start = 0; start < ids.length; start += ID_BATCH) {
      const params = new Parameters(this.dialect);
      const list = params.list(ids.slice(start, start + ID_BATCH));
      const { rows } = await this.dialect.query(
        `SELECT ${columns.join(', ')} FROM ${this.dialect.tableName(files.table)} WHERE ${this.q(files.record)} IN (${list}) ORDER BY ${this.q(id)}`,
        params.values,
      );
      for (const row of rows) {
        let size = row.size === null || row.size === undefined ? null : Number(row.size);
        if (size === null && files.path && typeof row.path === 'string') size = (await stat(this.diskPath(files, row.path)).catch(() => undefined))?.size ?? null;
        const file: SourceFile = { id: String(row.id), name: String(row.name ?? ''), size, contentType: typeof row.content_type === 'string' ? row.content_type : null };
        if (typeof row.sha256 === 'string' && row.sha256) file.sha256 = row.sha256;
        const recordId = String(row.record);
        const entry = out.get(recordId) ?? [];
        entry.push(file);
        out.set(recordId, entry);
      }
    }
    return out;
  }

  private diskPath(files: SqlFilesTable, path: string): string {
    return isAbsolute(path) ? path : resolve(files.folder!, path);
  }

  async open(object: string, _recordId: string, file: SourceFile): Promise<Readable> {
    const files = this.table(object);
    const id = files.id ?? 'id';
    if (files.path) {
      const params = new Parameters(this.dialect);
      const where = params.add(file.id);
      const { rows } = await this.dialect.query(`SELECT ${this.q(files.path)} AS path FROM ${this.dialect.tableName(files.table)} WHERE ${this.q(id)} = ${where}`, params.values);
      const path = rows[0]?.path;
      if (typeof path !== 'string') throw new FerryError('FILE_FAILED', `${files.table} ${file.id}: the row is gone or has no ${files.path}`);
      return createReadStream(this.diskPath(files, path));
    }
    const content = this.q(files.content!);
    const table = this.dialect.tableName(files.table);
    const slice =
      this.dialect.name === 'postgres'
        ? (from: string, count: string) => `substring(${content} from ${from}::int for ${count}::int)`
        : (from: string, count: string) => `substr(${content}, ${from}, ${count})`;
    const dialect = this.dialect;
    const idColumn = this.q(id);
    async function* pieces(): AsyncGenerator<Buffer> {
      for (let offset = 0; ; offset += READ_CHUNK) {
        const params = new Parameters(dialect);
        const from = params.add(offset + 1);
        const count = params.add(READ_CHUNK);
        const { rows } = await dialect.query(`SELECT ${slice(from, count)} AS piece FROM ${table} WHERE ${idColumn} = ${params.add(file.id)}`, params.values);
        if (rows.length === 0) throw new FerryError('FILE_FAILED', `${files.table} ${file.id}: the row is gone`);
        const piece = rows[0]!.piece;
        const buffer = piece === null || piece === undefined ? Buffer.alloc(0) : Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
        if (buffer.length > 0) yield buffer;
        if (buffer.length < READ_CHUNK) return;
      }
    }
    return Readable.from(pieces(), { objectMode: false });
  }

  /** The stamp column of a target files table, added when the table has none (like the external-id column). */
  private stampColumn(files: SqlFilesTable): Promise<string> {
    let column = this.stampColumns.get(files.table);
    if (!column) {
      column = (async () => {
        const name = files.stamp ?? DEFAULT_STAMP_COLUMN;
        const table = (await this.dialect.introspect()).find((entry) => entry.name === files.table);
        if (!table) throw new FerryError('CONFIG_INVALID', `The files table ${files.table} does not exist in the target database`, { table: files.table });
        if (!table.columns.some((entry) => entry.name === name)) {
          await this.dialect.query(`ALTER TABLE ${this.dialect.tableName(files.table)} ADD COLUMN ${this.q(name)} ${this.dialect.externalIdColumnType}`);
        }
        return name;
      })();
      column.catch(() => this.stampColumns.delete(files.table));
      this.stampColumns.set(files.table, column);
    }
    return column;
  }

  async upload(object: string, file: FileUpload): Promise<string> {
    const files = this.table(object);
    const stampColumn = await this.stampColumn(files);
    const table = this.dialect.tableName(files.table);
    const id = files.id ?? 'id';
    let diskPath: string | undefined;
    let stored: string | undefined;
    let size = 0;
    const hash = createHash('sha256');
    if (files.path) {
      // `<folder>/<stamp>/<name>`: unique per source file, so two records' files of one name never collide.
      stored = join(file.stamp, safeFileName(file.name));
      diskPath = resolve(files.folder!, stored);
      await mkdir(dirname(diskPath), { recursive: true });
      const partial = `${diskPath}.partial`;
      const content = await file.open();
      content.on('data', (chunk: Buffer) => {
        size += chunk.length;
        hash.update(chunk);
      });
      await pipeline(content, createWriteStream(partial));
      await rename(partial, diskPath);
    }
    const insert = async (session: SqlSession): Promise<string> => {
      const columns = [files.record, files.name, stampColumn];
      const values: unknown[] = [file.targetRecordId, file.name, file.stamp];
      if (files.contentType) {
        columns.push(files.contentType);
        values.push(file.contentType);
      }
      if (files.path) {
        columns.push(files.path);
        values.push(relative(files.folder!, diskPath!) || stored);
      } else {
        columns.push(files.content!);
        values.push(Buffer.alloc(0));
      }
      const params = new Parameters(this.dialect);
      const text = `INSERT INTO ${table} (${columns.map((column) => this.q(column)).join(', ')}) VALUES (${params.list(values)})`;
      const result = await session.query(this.dialect.supportsReturning ? `${text} RETURNING ${this.q(id)}` : text, params.values);
      const newId = this.dialect.supportsReturning ? result.rows[0]?.[id] : result.insertId;
      if (newId === undefined || newId === null) throw new FerryError('FILE_FAILED', `The database did not report the id of the new ${files.table} row`);
      if (files.content) {
        const append =
          this.dialect.name === 'sqlite'
            ? (column: string, value: string) => `CAST(${column} || ${value} AS BLOB)`
            : this.dialect.name === 'postgres'
              ? (column: string, value: string) => `${column} || ${value}`
              : (column: string, value: string) => `CONCAT(${column}, ${value})`;
        const content = await file.open();
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        const flush = async () => {
          if (pendingBytes === 0) return;
          const piece = Buffer.concat(pending, pendingBytes);
          pending = [];
          pendingBytes = 0;
          const p = new Parameters(this.dialect);
          const column = this.q(files.content!);
          await session.query(`UPDATE ${table} SET ${column} = ${append(column, p.add(piece))} WHERE ${this.q(id)} = ${p.add(newId)}`, p.values);
        };
        for await (const chunk of content as AsyncIterable<Buffer>) {
          size += chunk.length;
          hash.update(chunk);
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= WRITE_CHUNK) await flush();
        }
        await flush();
      }
      const extra: [string, unknown][] = [];
      if (files.size) extra.push([files.size, size]);
      if (files.sha256) extra.push([files.sha256, hash.digest('hex')]);
      if (extra.length > 0) {
        const p = new Parameters(this.dialect);
        const sets = extra.map(([column, value]) => `${this.q(column)} = ${p.add(value)}`).join(', ');
        await session.query(`UPDATE ${table} SET ${sets} WHERE ${this.q(id)} = ${p.add(newId)}`, p.values);
      }
      return String(newId);
    };
    try {
      return await this.dialect.transaction(insert);
    } catch (error) {
      if (diskPath) await rm(diskPath, { force: true });
      throw error instanceof FerryError ? error : new FerryError('FILE_FAILED', this.dialect.classifyError(error).message);
    }
  }

  async findUploaded(object: string, file: Pick<FileUpload, 'name' | 'stamp' | 'targetRecordId'>): Promise<string | undefined> {
    const files = this.table(object);
    const stampColumn = await this.stampColumn(files);
    const params = new Parameters(this.dialect);
    const where = params.add(file.stamp);
    const { rows } = await this.dialect.query(`SELECT ${this.q(files.id ?? 'id')} AS id FROM ${this.dialect.tableName(files.table)} WHERE ${this.q(stampColumn)} = ${where}`, params.values);
    return rows[0] ? String(rows[0].id) : undefined;
  }

  async attach(): Promise<void> {
    // The file's row names its record: the upload attached it.
  }

  async detach(): Promise<void> {
    // Deleting the row (delete) takes it off its record.
  }

  async delete(object: string, fileIds: string[]): Promise<void> {
    const files = this.table(object);
    const table = this.dialect.tableName(files.table);
    const id = this.q(files.id ?? 'id');
    for (let start = 0; start < fileIds.length; start += ID_BATCH) {
      const part = fileIds.slice(start, start + ID_BATCH);
      if (files.path) {
        const params = new Parameters(this.dialect);
        const { rows } = await this.dialect.query(`SELECT ${this.q(files.path)} AS path FROM ${table} WHERE ${id} IN (${params.list(part)})`, params.values);
        for (const row of rows) if (typeof row.path === 'string') await rm(this.diskPath(files, row.path), { force: true });
      }
      const params = new Parameters(this.dialect);
      await this.dialect.query(`DELETE FROM ${table} WHERE ${id} IN (${params.list(part)})`, params.values);
    }
  }

  /**
   * The rows of these files: attached when the row's record column names the record; the size is the
   * content's own length (a BLOB) or the file on disk (a row whose file is gone counts as gone), not the
   * size column, so content changed in place shows; the SHA-256 is the sha256 column's, when there is one.
   */
  async inspect(object: string, wanted: { fileId: string; recordId: string }[]): Promise<Map<string, StoredFile>> {
    const files = this.table(object);
    const table = this.dialect.tableName(files.table);
    const id = files.id ?? 'id';
    const columns = [`${this.q(id)} AS id`, `${this.q(files.record)} AS record`];
    if (files.content) columns.push(`${this.lengthExpression(this.q(files.content))} AS size`);
    if (files.path) columns.push(`${this.q(files.path)} AS path`);
    if (files.sha256) columns.push(`${this.q(files.sha256)} AS sha256`);
    const recordOf = new Map(wanted.map((file) => [file.fileId, file.recordId]));
    const ids = [...recordOf.keys()];
    const out = new Map<string, StoredFile>();
    for (let start = 0; start < ids.length; start += ID_BATCH) {
      const params = new Parameters(this.dialect);
      const { rows } = await this.dialect.query(`SELECT ${columns.join(', ')} FROM ${table} WHERE ${this.q(id)} IN (${params.list(ids.slice(start, start + ID_BATCH))})`, params.values);
      for (const row of rows) {
        const fileId = String(row.id);
        let size = row.size === null || row.size === undefined ? null : Number(row.size);
        if (files.path) {
          const onDisk = typeof row.path === 'string' ? await stat(this.diskPath(files, row.path)).catch(() => undefined) : undefined;
          if (!onDisk) continue;
          size = onDisk.size;
        }
        const stored: StoredFile = { attached: String(row.record) === recordOf.get(fileId), size };
        if (typeof row.sha256 === 'string' && row.sha256) stored.sha256 = row.sha256;
        out.set(fileId, stored);
      }
    }
    return out;
  }
}

/** A file name safe as one path segment (no folders, no `..`). */
function safeFileName(name: string): string {
  const cleaned = [...name].map((char) => (char === '/' || char === '\\' || char.charCodeAt(0) === 0 ? '_' : char)).join('').replace(/^\.+$/, '_');
  return cleaned === '' ? 'file' : cleaned;
}
