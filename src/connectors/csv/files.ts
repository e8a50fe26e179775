import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { CrmRecord } from '../../core/connector.js';
import { FerryError } from '../../core/errors.js';
import type { ConnectorFiles, SourceFile, StoredFile } from '../../core/files.js';
import type { CsvAttachmentsConfig } from './config.js';

/**
 * The attachments folder of a CSV export (`objects.<name>.attachments` in the connection settings,
 * docs/attachments.md): either a column of the object's file that lists each record's file names
 * (separated by `separator`, relative to the folder), or one folder per record id holding its files.
 * Source only, like the CSV connector; files are opened from disk as streams.
 */
export class CsvFiles implements ConnectorFiles {
  constructor(
    private readonly attachments: ReadonlyMap<string, CsvAttachmentsConfig & { resolvedFolder: string }>,
  ) {}

  readable(object: string): boolean {
    return this.attachments.has(object);
  }

  writable(): boolean {
    return false;
  }

  async list(object: string, records: CrmRecord[]): Promise<Map<string, SourceFile[]>> {
    const config = this.attachments.get(object);
    const out = new Map<string, SourceFile[]>();
    if (!config) return out;
    for (const record of records) {
      const names = config.column ? cellNames(record.fields[config.column], config.separator ?? ';') : await folderNames(config.resolvedFolder, record.id);
      const files: SourceFile[] = [];
      for (const name of names) {
        const id = config.column ? name : join(record.id, name);
        const path = inside(config.resolvedFolder, id);
        const size = path ? ((await stat(path).catch(() => undefined))?.size ?? null) : null;
        files.push({ id: id.split(sep).join('/'), name: name.split(/[\\/]/).pop() ?? name, size, contentType: null });
      }
      if (files.length > 0) out.set(record.id, files);
    }
    return out;
  }

  async open(object: string, recordId: string, file: SourceFile): Promise<Readable> {
    const config = this.attachments.get(object);
    const path = config ? inside(config.resolvedFolder, file.id) : undefined;
    if (!path) throw new FerryError('FILE_FAILED', `${object} ${recordId}: "${file.id}" is outside the attachments folder`);
    const found = await stat(path).catch(() => undefined);
    if (!found?.isFile()) throw new FerryError('FILE_FAILED', `${object} ${recordId}: no file "${file.id}" in the attachments folder ${config!.resolvedFolder}`);
    return createReadStream(path);
  }

  upload(): Promise<string> {
    return Promise.reject(new FerryError('CONFIG_INVALID', 'The CSV connector is a source only: it stores no files'));
  }

  findUploaded(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  async attach(): Promise<void> {}

  async detach(): Promise<void> {}

  async delete(): Promise<void> {}

  /** A source only: it stores nothing, so it has nothing to verify. */
  inspect(): Promise<Map<string, StoredFile>> {
    return Promise.resolve(new Map());
  }
}

/** The file names a cell lists (`a.pdf; b.png`), trimmed, empty ones left out. */
function cellNames(value: unknown, separator: string): string[] {
  if (value === null || value === undefined) return [];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(separator);
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

/** The files of `<folder>/<record id>/`, in name order (none when there is no such folder). */
async function folderNames(folder: string, recordId: string): Promise<string[]> {
  const directory = inside(folder, recordId);
  if (!directory) return [];
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
}

/** The absolute path of `name` under `folder`, or undefined when it would leave the folder (`../x`, `/etc/x`). */
function inside(folder: string, name: string): string | undefined {
  if (isAbsolute(name)) return undefined;
  const path = resolve(folder, name);
  const rel = relative(folder, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? undefined : path;
}
