import { readdir, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Capabilities, Connector, CreateInput, CrmRecord, ReadError, ReadOptions, ReadPage, UpdateInput, WriteResult } from '../../core/connector.js';
import { FerryError, describeValue } from '../../core/errors.js';
import type { FieldSchema, FieldType, FieldValue, ObjectSchema, SchemaDescription } from '../../core/schema.js';
import { nowIso, parseInstant } from '../../core/time.js';
import { CSV_DELIMITERS, csvConnectionSchema, localeSchema, type CsvConnectionConfig, type CsvConnectionInput, type CsvObjectConfig } from './config.js';
import { CsvFiles } from './files.js';
import {
  conventionReference,
  detectCreatedColumn,
  detectDelimiter,
  detectEncoding,
  detectListSeparator,
  detectModifiedColumn,
  firstLine,
  inferType,
  isListName,
  parseBoolean,
  readDate,
  readHead,
  readInstant,
  readInteger,
  readNumber,
  readableDateOrders,
  type ValueStyle,
} from './detect.js';
import { AMBIGUOUS_DOTS, DECIMAL_COMMA, describeNumberStyle, localeNumberStyle } from '../../core/locale-number.js';
import { describeDateStyle, detectDecimalComma, detectNumberForm, localeDateStyle, type DateOrder } from './locale.js';
import { applyPresets, type PresetHints } from './presets/index.js';
import { tokenize, type CsvEncoding, type RawRow } from './tokenizer.js';

/** A row the connector skipped: wrong number of cells, broken quoting, or a value of the wrong type. */
export interface CsvRowError {
  object: string;
  /** The file the row is in, as named in the folder (`Pipedrive people export.csv`). */
  file: string;
  /** 1-based line number in the file where the row starts. */
  line: number;
  column?: string;
  value?: string;
  message: string;
}

export interface CsvConnectorOptions {
  /** Folder that a relative `path` is resolved against (the project folder). */
  baseDir: string;
  /** Rows sampled from the top of each file to infer column types (default 1000). */
  sampleRows?: number;
  /** Join files up to this size are indexed in memory once; bigger ones are streamed once per page (default 8 MiB). */
  joinIndexMaxBytes?: number;
  /** A quoted cell running longer than this is treated as an unclosed quote (default 16 MiB). */
  maxRecordBytes?: number;
  /**
   * Zone of date-times written without one: the project's `sourceTimeZone` (default UTC). One setting for
   * every date and date-time column of every file, so `Add time` and `Expected close date` agree.
   */
  timeZone?: string;
  /** The project's `sourceLocale`: how numbers and numeric dates are written, unless a file or the connection says otherwise. */
  locale?: string;
  /** Where the settings sit in ferry.yaml (`source`), to name keys in errors. */
  configPath?: string;
}

interface Column {
  name: string;
  index: number;
  type: FieldType;
  reference?: string;
  listSeparator?: string;
  /** Rewrites an id cell to its canonical form (vendor presets: Salesforce 15 → 18 characters). */
  normalise?: (value: string) => string;
}

interface JoinField {
  /** Field name on the owning object (the other side's object name). */
  name: string;
  file: string;
  object: string;
  target: string;
  encoding: CsvEncoding;
  delimiter: string;
  ownerIndex: number;
  targetIndex: number;
  dataStart: number;
  size: number;
}

interface CsvObject {
  name: string;
  file: string;
  /** The file's name in the folder, for messages. */
  fileName: string;
  /** How its numbers, dates and date-times are read. */
  style: ValueStyle;
  encoding: CsvEncoding;
  delimiter: string;
  columns: Column[];
  idIndex: number;
  updatedIndex?: number;
  createdIndex?: number;
  /** A column named like a modified column whose values do not read as date-times (ObjectSchema.unreadModifiedField). */
  unreadModified?: { field: string; sample: string; readableAs: DateOrder[] };
  /** Byte offset and line of the first data row. */
  dataStart: number;
  dataLine: number;
  joins: JoinField[];
  /** Vendor export preset hints (presets/index.ts), shown in describe(). */
  preset?: PresetHints;
}

interface Analysis {
  objects: Map<string, CsvObject>;
}

const DEFAULT_PAGE = 1000;
/** `31.12.2024`, `12/31/2024 14:05`: a date whose order only a locale can tell. */
const NUMERIC_DATE = /^\d{1,2}[./-]\d{1,2}[./-]\d{4}\b/;

/** For a numeric date read without a locale: the setting that reads it. */
function numericDateHint(text: string): string {
  return NUMERIC_DATE.test(text) ? " (a numeric date such as 31.12.2024 is read only under a locale: set the file's locale, e.g. de-DE, or sourceLocale)" : '';
}
const MAX_PAGE = 10_000;
const FILE_EXTENSIONS = new Set(['.csv', '.tsv']);

/** Byte offset and line number of the next row, e.g. `1048576:20001`. */
function encodeCursor(offset: number, line: number): string {
  return `${offset}:${line}`;
}

function decodeCursor(cursor: string, object: CsvObject, size: number): { offset: number; line: number } {
  const match = /^(\d+):(\d+)$/.exec(cursor);
  const offset = match ? Number(match[1]) : NaN;
  const line = match ? Number(match[2]) : NaN;
  if (!match || offset < object.dataStart || offset > size || line < object.dataLine) {
    throw new FerryError('USAGE', `Invalid or stale cursor "${cursor}" for ${object.name} (the file may have changed)`, {
      object: object.name,
    });
  }
  return { offset, line };
}

class RowError extends Error {
  constructor(
    message: string,
    readonly column?: string,
    readonly value?: string,
  ) {
    super(message);
  }
}

export class CsvConnector implements Connector {
  readonly kind = 'csv';
  readonly config: CsvConnectionConfig;
  readonly folder: string;
  private readonly options: CsvConnectorOptions;
  private analysis?: Promise<Analysis>;
  private rowErrors: CsvRowError[] = [];
  private readonly reported = new Set<string>();
  private readonly joinIndexes = new Map<string, Promise<Map<string, string[]>>>();
  private streams = 0;
  /** The last `now()` answer, with the size and mtime of every export file it was computed from. */
  private clock?: { files: string; value: string | undefined };
  /** `source`: where the settings sit in ferry.yaml. */
  private readonly keyPath: string;

  constructor(config: CsvConnectionConfig, options: CsvConnectorOptions) {
    this.config = config;
    this.options = options;
    this.keyPath = options.configPath ?? 'source';
    this.folder = isAbsolute(config.path) ? config.path : resolve(options.baseDir, config.path);
    const attachments = new Map(
      Object.entries(config.objects)
        .filter(([, object]) => object.attachments !== undefined)
        .map(([name, object]) => {
          const folder = object.attachments!.folder;
          return [name, { ...object.attachments!, resolvedFolder: isAbsolute(folder) ? folder : resolve(options.baseDir, folder) }] as const;
        }),
    );
    if (attachments.size > 0) this.files = new CsvFiles(attachments);
  }

  /** Attachments folders (docs/attachments.md). */
  readonly files?: CsvFiles;

  capabilities(): Capabilities {
    return {
      modifiedSince: true,
      orderedByModified: false,
      writable: false,
      externalId: false,
      createFields: false,
      maxPageSize: MAX_PAGE,
      batchSize: { read: DEFAULT_PAGE, create: 1, update: 1, delete: 1 },
      lookbackMs: 0,
    };
  }

  /** File streams open right now (0 between calls: every read closes its stream). */
  get openStreams(): number {
    return this.streams;
  }

  /** Rows skipped since the last call (each bad row is reported once per connector). */
  takeRowErrors(): CsvRowError[] {
    const errors = this.rowErrors;
    this.rowErrors = [];
    return errors;
  }

  /** The Connector form of takeRowErrors: what the engine records as failed rows. */
  takeReadErrors(): ReadError[] {
    return this.takeRowErrors().map((error) => ({
      object: error.object,
      recordId: `line ${error.line}`,
      code: 'CSV_ROW_INVALID',
      message: `${error.file} line ${error.line}: ${error.message}`,
      ...(error.column !== undefined ? { field: error.column } : {}),
      ...(error.value !== undefined ? { value: error.value } : {}),
    }));
  }

  async check(): Promise<void> {
    let info;
    try {
      info = await stat(this.folder);
    } catch (error) {
      throw new FerryError('CONNECTION_FAILED', `CSV folder ${this.folder} cannot be read`, { path: this.folder }, { cause: error });
    }
    if (!info.isDirectory()) {
      throw new FerryError('CONNECTION_FAILED', `CSV path ${this.folder} is not a folder`, { path: this.folder });
    }
    await this.analyse();
  }

  async describe(): Promise<SchemaDescription> {
    const { objects } = await this.analyse();
    const described: ObjectSchema[] = [];
    for (const object of objects.values()) {
      const fields: FieldSchema[] = object.columns.map((column) => {
        const field: FieldSchema = { name: column.name, type: column.type };
        if (column.reference) field.reference = { object: column.reference };
        const hint = object.preset?.columns.get(column.name);
        if (hint?.label !== undefined) field.label = hint.label;
        if (hint?.meaning !== undefined) field.meaning = hint.meaning;
        if (column.index === object.idIndex) {
          field.unique = true;
          field.readOnly = true;
        }
        return field;
      });
      for (const join of object.joins) {
        fields.push({ name: join.name, type: 'reference-list', reference: { object: join.target } });
      }
      const schema: ObjectSchema = { name: object.name, fields };
      if (object.preset) schema.preset = { ...object.preset.preset };
      if (object.updatedIndex !== undefined) schema.modifiedField = object.columns[object.updatedIndex]!.name;
      if (object.unreadModified) schema.unreadModifiedField = { ...object.unreadModified, readableAs: [...object.unreadModified.readableAs] };
      if (object.createdIndex !== undefined) schema.createdField = object.columns[object.createdIndex]!.name;
      described.push(schema);
    }
    return { objects: described };
  }

  async read(objectName: string, options: ReadOptions = {}): Promise<ReadPage> {
    const object = await this.object(objectName);
    const size = (await stat(object.file)).size;
    const limit = Math.max(1, Math.min(options.limit ?? DEFAULT_PAGE, MAX_PAGE));
    const position = options.after ? decodeCursor(options.after, object, size) : { offset: object.dataStart, line: object.dataLine };
    const since = options.modifiedSince ? parseInstant(options.modifiedSince) : undefined;
    if (options.modifiedSince && !since) {
      throw new FerryError('USAGE', `modifiedSince ${describeValue(options.modifiedSince)} is not a date-time`);
    }
    const records: CrmRecord[] = [];
    let next: { offset: number; line: number } | undefined;
    if (position.offset < size) {
      for await (const row of this.rows(object, position.offset, position.line)) {
        const record = this.toRecord(object, row, options.fields);
        if (record && (!since || record.updatedAt === null || record.updatedAt >= since)) records.push(record);
        if (records.length >= limit) {
          if (row.end < size) next = { offset: row.end, line: row.nextLine };
          break;
        }
      }
    }
    await this.attachJoins(object, records, options.fields);
    const page: ReadPage = { records };
    if (next) page.next = encodeCursor(next.offset, next.line);
    return page;
  }

  async readByIds(objectName: string, ids: string[], fields?: string[]): Promise<CrmRecord[]> {
    const object = await this.object(objectName);
    const wanted = new Set(ids);
    const found = new Map<string, CrmRecord>();
    if (wanted.size > 0) {
      for await (const row of this.rows(object, object.dataStart, object.dataLine)) {
        const id = row.error ? undefined : cellId(object, row.cells[object.idIndex]);
        if (id === undefined || !wanted.has(id) || found.has(id)) continue;
        const record = this.toRecord(object, row, fields);
        if (record) found.set(id, record);
        if (found.size === wanted.size) break;
      }
    }
    const records = ids.flatMap((id) => {
      const record = found.get(id);
      found.delete(id);
      return record ? [record] : [];
    });
    await this.attachJoins(object, records, fields);
    return records;
  }

  async create(_object: string, _inputs: CreateInput[]): Promise<WriteResult[]> {
    throw readOnly();
  }

  async update(_object: string, _inputs: UpdateInput[]): Promise<WriteResult[]> {
    throw readOnly();
  }

  async delete(_object: string, _ids: string[]): Promise<WriteResult[]> {
    throw readOnly();
  }

  /**
   * The export's clock, used as a run's high-water mark: an export has no clock of its own, and the local
   * clock is later than the export, so records edited in the CRM after the export but before the run would
   * carry modified values older than the mark and never reach a later export's delta. It is the newest
   * modified value of any object that has a modified column (one streamed pass over the column per file);
   * when none has one (or none holds a value), the newest modification time of the export's files;
   * undefined for an empty folder (the engine then takes the local clock). Never later than the local clock:
   * a modified value in the future (a typo, a skewed CRM clock) would otherwise shut every later delta's
   * window. The answer is kept until a file's size or mtime changes, so the folder is scanned once per run.
   */
  async now(): Promise<string | undefined> {
    const { objects } = await this.analyse();
    const paths = [...new Set([...objects.values()].flatMap((object) => [object.file, ...object.joins.map((join) => join.file)]))].sort();
    const stats = await Promise.all(paths.map((path) => stat(path)));
    const files = paths.map((path, index) => `${path}\u0000${stats[index]!.size}\u0000${stats[index]!.mtimeMs}`).join('\n');
    if (this.clock?.files === files) return this.clock.value;
    let newest: string | undefined;
    for (const object of objects.values()) {
      const latest = await this.newestModified(object);
      if (latest !== undefined && (newest === undefined || latest > newest)) newest = latest;
    }
    if (newest === undefined && stats.length > 0) {
      newest = new Date(Math.max(...stats.map((info) => info.mtimeMs))).toISOString();
    }
    const local = nowIso();
    const value = newest !== undefined && newest > local ? local : newest;
    this.clock = { files, value };
    return value;
  }

  async close(): Promise<void> {
    this.joinIndexes.clear();
  }

  // -------------------------------------------------------------------------------------------------------

  private async object(name: string): Promise<CsvObject> {
    const { objects } = await this.analyse();
    const object = objects.get(name);
    if (!object) {
      throw new FerryError('USAGE', `Unknown CSV object "${name}" (files in ${this.folder}: ${[...objects.keys()].join(', ') || 'none'})`, {
        object: name,
      });
    }
    return object;
  }

  private rows(object: { file: string; encoding: CsvEncoding; delimiter: string }, start: number, line: number) {
    return tokenize(object.file, {
      encoding: object.encoding,
      delimiter: object.delimiter,
      start,
      line,
      maxRecordBytes: this.options.maxRecordBytes,
      onStream: (event) => {
        this.streams += event === 'open' ? 1 : -1;
      },
    });
  }

  /**
   * The newest modified value in an object's file, converted as a read converts it; rows a read would skip
   * (broken quoting, wrong number of cells, a value that is not a date-time) are passed over unreported.
   */
  private async newestModified(object: CsvObject): Promise<string | undefined> {
    if (object.updatedIndex === undefined) return undefined;
    const column = object.columns[object.updatedIndex]!;
    let newest: string | undefined;
    for await (const row of this.rows(object, object.dataStart, object.dataLine)) {
      if (row.error || row.cells.length !== object.columns.length) continue;
      let value: FieldValue;
      try {
        value = this.convert(column, row.cells[column.index]!, object.style);
      } catch (error) {
        if (error instanceof RowError) continue;
        throw error;
      }
      if (typeof value === 'string' && (newest === undefined || value > newest)) newest = value;
    }
    return newest;
  }

  private report(error: CsvRowError): void {
    const key = `${error.object}\u0000${error.line}\u0000${error.column ?? ''}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.rowErrors.push(error);
  }

  /** Converts a row, or reports it and returns undefined. */
  private toRecord(object: CsvObject, row: RawRow, only?: string[]): CrmRecord | undefined {
    if (row.error) {
      this.report({ object: object.name, file: object.fileName, line: row.line, message: row.error });
      return undefined;
    }
    if (row.cells.length !== object.columns.length) {
      this.report({
        object: object.name,
        file: object.fileName,
        line: row.line,
        message: `Expected ${object.columns.length} columns, found ${row.cells.length}`,
      });
      return undefined;
    }
    try {
      const id = cellId(object, row.cells[object.idIndex]) ?? '';
      const idColumn = object.columns[object.idIndex]!.name;
      if (id === '') throw new RowError(`The id column "${idColumn}" is empty`, idColumn, '');
      const keep = only ? new Set(only) : undefined;
      const fields: Record<string, FieldValue> = {};
      let updatedAt: string | null = null;
      for (const column of object.columns) {
        const isModified = column.index === object.updatedIndex;
        if (keep && !isModified && column.index !== object.idIndex && !keep.has(column.name)) continue;
        const value = this.convert(column, row.cells[column.index]!, object.style);
        if (isModified) updatedAt = value as string | null;
        fields[column.name] = value;
      }
      return { id, updatedAt, fields };
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      this.report({ object: object.name, file: object.fileName, line: row.line, column: error.column, value: error.value, message: error.message });
      return undefined;
    }
  }

  private convert(column: Column, cell: string, style: ValueStyle): FieldValue {
    const text = cell.trim();
    if (text === '') return null;
    const fail = (what: string, how = ''): never => {
      throw new RowError(`Column "${column.name}": ${describeValue(cell)} is not ${what}${how}`, column.name, cell);
    };
    const numbers = style.numbers ? ` (${describeNumberStyle(style.numbers)})` : '';
    const dates = style.dates ? ` (${describeDateStyle(style.dates)})` : '';
    if (column.normalise && column.type === 'string') return column.normalise(text); // a preset's id column
    switch (column.type) {
      case 'integer':
        return readInteger(text, style) ?? fail('an integer', numbers);
      case 'number':
        return readNumber(text, style) ?? fail('a number', numbers);
      case 'boolean':
        return parseBoolean(text) ?? fail('a boolean');
      case 'date':
        return readDate(text, style) ?? fail('a date', dates || numericDateHint(text));
      case 'datetime':
        return readInstant(text, style) ?? fail('a date-time', dates || numericDateHint(text));
      case 'reference':
        return column.normalise ? column.normalise(text) : text;
      case 'reference-list': {
        const ids = text
          .split(column.listSeparator ?? ';')
          .map((id) => (column.normalise ? column.normalise(id.trim()) : id.trim()))
          .filter((id) => id !== '');
        return ids.length === 0 ? null : [...new Set(ids)].sort();
      }
      case 'string':
      case 'email':
      case 'phone':
      case 'url':
      case 'enum':
      case 'text':
      case 'json':
        // Kept as written (padding included, as a SQL source would return it): matching and value maps normalise.
        return cell;
    }
  }

  // ---- join files ----------------------------------------------------------------------------------------

  private async attachJoins(object: CsvObject, records: CrmRecord[], only?: string[]): Promise<void> {
    if (records.length === 0) return;
    for (const join of object.joins) {
      if (only && !only.includes(join.name)) continue;
      const lists = await this.joinLists(join, new Set(records.map((record) => record.id)));
      for (const record of records) {
        const ids = lists.get(record.id);
        record.fields[join.name] = ids && ids.length > 0 ? [...new Set(ids)].sort() : null;
      }
    }
  }

  /**
   * Join ids for the given owners. A small join file (up to `joinIndexMaxBytes`) is indexed in memory once;
   * a big one is streamed once per page, keeping only the pairs of the page's records, so memory stays
   * bounded by the page whatever the file size (cost: one pass over the join file per page).
   */
  private async joinLists(join: JoinField, owners: Set<string>): Promise<Map<string, string[]>> {
    const small = join.size <= (this.options.joinIndexMaxBytes ?? 8 * 1024 * 1024);
    if (small) {
      let index = this.joinIndexes.get(join.file);
      if (!index) {
        index = this.scanJoin(join, undefined);
        this.joinIndexes.set(join.file, index);
      }
      return index;
    }
    return this.scanJoin(join, owners);
  }

  private async scanJoin(join: JoinField, owners: Set<string> | undefined): Promise<Map<string, string[]>> {
    const lists = new Map<string, string[]>();
    for await (const row of this.rows(join, join.dataStart, 2)) {
      if (row.error || row.cells.length !== 2) {
        this.report({
          object: basename(join.file, extname(join.file)),
          file: basename(join.file),
          line: row.line,
          message: row.error ?? `Expected 2 columns, found ${row.cells.length}`,
        });
        continue;
      }
      const owner = row.cells[join.ownerIndex]!.trim();
      const target = row.cells[join.targetIndex]!.trim();
      if (owner === '' || target === '' || (owners && !owners.has(owner))) continue;
      const list = lists.get(owner);
      if (list) list.push(target);
      else lists.set(owner, [target]);
    }
    return lists;
  }

  // ---- analysis ------------------------------------------------------------------------------------------

  private analyse(): Promise<Analysis> {
    this.analysis ??= this.runAnalysis().catch((error: unknown) => {
      this.analysis = undefined;
      throw error;
    });
    return this.analysis;
  }

  private async runAnalysis(): Promise<Analysis> {
    let entries: string[];
    try {
      entries = await readdir(this.folder);
    } catch (error) {
      throw new FerryError('CONNECTION_FAILED', `CSV folder ${this.folder} cannot be read`, { path: this.folder }, { cause: error });
    }
    // Object name -> file.
    const files = new Map<string, string>();
    const configured = new Set<string>();
    for (const [name, settings] of Object.entries(this.config.objects)) {
      const file = settings.file ?? `${name}.csv`;
      files.set(name, join(this.folder, file));
      configured.add(file);
    }
    for (const entry of entries.sort()) {
      if (!FILE_EXTENSIONS.has(extname(entry).toLowerCase()) || configured.has(entry)) continue;
      const name = basename(entry, extname(entry));
      if (!files.has(name)) files.set(name, join(this.folder, entry));
    }
    let names = [...files.keys()];

    const headers = new Map<string, HeaderInfo>();
    for (const [name, file] of files) {
      headers.set(name, await this.readHeader(name, file));
    }

    // Join files: exactly two columns, both references to other objects, no id column. Settings that only
    // say how to read the file (file, delimiter, encoding, locale) leave a file a join file.
    const joins: JoinField[] = [];
    for (const [name, info] of headers) {
      if (describesRecords(this.config.objects[name]) || info.header.cells.length !== 2) continue;
      const [first, second] = info.header.cells.map((cell) => conventionReference(cell, names.filter((other) => other !== name)));
      if (!first || !second || first.list || second.list) continue;
      joins.push({
        name: second.object,
        file: info.file,
        object: first.object,
        target: second.object,
        encoding: info.encoding,
        delimiter: info.delimiter,
        ownerIndex: 0,
        targetIndex: 1,
        dataStart: info.header.end,
        size: (await stat(info.file)).size,
      });
      headers.delete(name);
    }

    // ---- vendor export presets (src/connectors/csv/presets): names, ids, modified columns, references, types.
    const presets = applyPresets(headers, this.config.objects);
    names = [...presets.files.keys()];
    for (const [name, info] of presets.files) if (!files.has(name)) files.set(name, info.file);
    // ---- end of presets

    const objects = new Map<string, CsvObject>();
    for (const [name, info] of presets.files) {
      const settings: CsvObjectConfig = presets.settings.get(name) ?? this.config.objects[name] ?? { id: 'id' };
      const key = `${this.keyPath}.objects.${name}`;
      const columnNames = info.header.cells.map((cell) => cell.trim());
      const where = { object: name, path: info.file };
      const idIndex = columnNames.indexOf(settings.id);
      if (idIndex === -1) throw this.missingIdColumn(name, info, settings.id);
      const findColumn = (column: string | undefined, what: string, setting: string): number | undefined => {
        if (column === undefined) return undefined;
        const index = columnNames.indexOf(column);
        if (index === -1) {
          throw new FerryError('CONFIG_INVALID', `${info.fileName} has no ${what} column "${column}" (${key}.${setting}; columns: ${listColumns(columnNames)})`, where);
        }
        return index;
      };
      const sampled = columnNames.map((_, index) => info.sample.map((row) => row[index]?.trim() ?? '').filter((value) => value !== ''));
      const style = this.valueStyle(settings, info.delimiter, sampled);
      // A detected modified/created column must hold date-times (a `modified` column of yes/no is not one).
      const holdsDateTimes = (column: string) => sampled[columnNames.indexOf(column)]!.every((value) => readInstant(value, style) !== undefined);
      const hint = presets.hints.get(name);
      const presetColumn = (column: string | undefined) => (column !== undefined && holdsDateTimes(column) ? column : undefined);
      const updatedName = settings.updatedAt ?? presetColumn(hint?.modified) ?? detectModifiedColumn(columnNames, holdsDateTimes);
      const createdName = settings.createdAt ?? presetColumn(hint?.created) ?? detectCreatedColumn(columnNames, holdsDateTimes);
      const updatedIndex = findColumn(updatedName, 'updatedAt', 'updatedAt');
      const unreadModified = updatedName === undefined ? this.unreadModifiedColumn(columnNames, sampled, style, hint?.modified) : undefined;
      const createdIndex = findColumn(createdName, 'createdAt', 'createdAt');
      const references = new Map<string, { object: string; listSeparator?: string }>();
      for (const [column, reference] of Object.entries(settings.references ?? {})) {
        findColumn(column, 'reference', `references.${column}`);
        const entry = typeof reference === 'string' ? { object: reference } : reference;
        if (!files.has(entry.object)) {
          throw new FerryError('CONFIG_INVALID', `${key}.references.${column}: no object "${entry.object}" (objects: ${names.join(', ')})`, where);
        }
        references.set(column, entry);
      }
      for (const column of Object.keys(settings.fields ?? {})) findColumn(column, 'field', `fields.${column}`);

      const columns: Column[] = columnNames.map((column, index) => {
        const values = sampled[index]!;
        const override = settings.fields?.[column]?.type;
        const configuredReference = references.get(column);
        const convention = index === idIndex ? undefined : conventionReference(column, names);
        const reference = configuredReference?.object ?? convention?.object;
        // A reference cell is a list only where the user says so: the column's own listSeparator, the
        // object's listSeparator found in the column's cells, or a column named as a list (`*_ids`).
        // Never on spaces (`Anna Schmidt` is one value) and never guessed from `;` or `|` in the cells: a
        // name such as `Müller; Söhne GmbH` is one value too.
        let listSeparator = configuredReference?.listSeparator;
        if (listSeparator === undefined && settings.listSeparator !== undefined && values.some((value) => value.includes(settings.listSeparator!))) {
          listSeparator = settings.listSeparator;
        }
        if (listSeparator === undefined && reference && (convention?.list || isListName(column))) listSeparator = settings.listSeparator ?? detectListSeparator(values, info.delimiter);
        let type: FieldType;
        if (override) type = override;
        else if (index === idIndex) type = 'string';
        else if (index === updatedIndex || index === createdIndex) type = 'datetime';
        else if (reference) type = listSeparator !== undefined ? 'reference-list' : 'reference';
        else type = inferType(column, values, style);
        const result: Column = { name: column, index, type };
        if (reference && (type === 'reference' || type === 'reference-list')) result.reference = reference;
        if (type === 'reference-list') result.listSeparator = listSeparator ?? settings.listSeparator ?? detectListSeparator(values, info.delimiter);
        const normalise = presets.hints.get(name)?.normaliseId;
        if (normalise && (index === idIndex || result.reference !== undefined)) result.normalise = normalise;
        return result;
      });
      objects.set(name, {
        name,
        file: info.file,
        fileName: info.fileName,
        style,
        encoding: info.encoding,
        delimiter: info.delimiter,
        columns,
        idIndex,
        updatedIndex,
        createdIndex,
        dataStart: info.header.end,
        dataLine: info.header.nextLine,
        joins: [],
        ...(unreadModified ? { unreadModified } : {}),
        ...(presets.hints.has(name) ? { preset: presets.hints.get(name)! } : {}),
      });
    }
    for (const joinField of joins) {
      const owner = objects.get(joinField.object);
      if (!owner) continue;
      if (owner.columns.some((column) => column.name === joinField.name)) {
        joinField.name = basename(joinField.file, extname(joinField.file));
      }
      owner.joins.push(joinField);
    }
    return { objects };
  }

  /**
   * No modified column was taken: the column named like one (the preset's, else the first by the detection's
   * names) whose values do not read as date-times in the file's style, with the first value that does not
   * and the date orders that would read them all, so the NO_MODIFIED_FIELD warning can say how to fix it.
   */
  private unreadModifiedColumn(columnNames: string[], sampled: string[][], style: ValueStyle, presetColumn: string | undefined): CsvObject['unreadModified'] {
    const field = (presetColumn !== undefined && columnNames.includes(presetColumn) ? presetColumn : undefined) ?? detectModifiedColumn(columnNames);
    if (field === undefined) return undefined;
    const values = sampled[columnNames.indexOf(field)]!;
    const sample = values.find((value) => readInstant(value, style) === undefined);
    if (sample === undefined) return undefined;
    return { field, sample, readableAs: readableDateOrders(values, style.timeZone) };
  }

  /**
   * How a file's values are read. The zone is the project's one `sourceTimeZone`. The locale is the file's
   * own, else the connection's, else the project's `sourceLocale`; without any, a `;`-delimited file whose
   * numbers are unambiguously written with decimal commas (a German Excel re-save) is read as such, and one
   * whose `1.234`-like values could be either form keeps those as text.
   * Numeric dates in the locale's order (`31.12.2024`) are read only under a locale: detection never guesses
   * a date order.
   */
  private valueStyle(settings: CsvObjectConfig, delimiter: string, sampled: string[][]): ValueStyle {
    const style: ValueStyle = { timeZone: this.options.timeZone ?? 'UTC' };
    const locale = settings.locale ?? this.config.locale ?? this.options.locale;
    if (locale !== undefined) {
      style.numbers = localeNumberStyle(locale);
      style.dates = localeDateStyle(locale);
    } else if (delimiter === ';') {
      if (detectDecimalComma(sampled)) style.numbers = DECIMAL_COMMA;
      // `1.234` with nothing to tell 1.234 from 1234: such values stay text, never silently 1.234.
      else if (detectNumberForm(sampled) === 'ambiguous') style.numbers = AMBIGUOUS_DOTS;
    }
    return style;
  }

  /**
   * The id column is missing. Most often the delimiter is wrong (a German Excel re-save uses `;` while the
   * connection says `,`): then the header is one column, or another delimiter splits it into columns that
   * include the id. Say which delimiter, and the exact setting.
   */
  private missingIdColumn(name: string, info: HeaderInfo, id: string): FerryError {
    const key = `${this.keyPath}.objects.${name}`;
    const where = { object: name, path: info.file, value: id };
    const cells = info.header.cells.map((cell) => cell.trim());
    const show = (delimiter: string) => (delimiter === '\t' ? '"\\t"' : JSON.stringify(delimiter));
    const others = CSV_DELIMITERS.filter((candidate) => candidate !== info.delimiter)
      .map((candidate) => ({ candidate, cells: splitHeaderLine(info.line, candidate).map((cell) => cell.trim()) }))
      .filter((split) => split.cells.length > 1)
      .sort((a, b) => b.cells.length - a.cells.length);
    const fits = others.find((split) => split.cells.includes(id)) ?? (cells.length === 1 ? others[0] : undefined);
    if (fits) {
      const header =
        cells.length === 1
          ? `the header has 1 column ${JSON.stringify(shorten(cells[0]!))}`
          : `the header split by ${show(info.delimiter)} has ${cells.length} columns (${listColumns(cells)}) and none is "${id}"`;
      const idNote = fits.cells.includes(id) ? '' : ` (and set ${key}.id: "${id}" is not among its columns then either: ${listColumns(fits.cells)})`;
      return new FerryError(
        'CONFIG_INVALID',
        `${info.fileName}: ${header}; the file looks delimited by ${show(fits.candidate)} — set ${key}.delimiter: ${show(fits.candidate)}${idNote}`,
        where,
      );
    }
    return new FerryError(
      'CONFIG_INVALID',
      `${info.fileName} has no id column "${id}" (columns: ${listColumns(cells)}); set ${key}.id to the column holding the record id`,
      where,
    );
  }

  private async readHeader(name: string, file: string): Promise<HeaderInfo> {
    const fileName = relative(this.folder, file);
    let head: Buffer;
    try {
      head = await readHead(file);
    } catch (error) {
      throw new FerryError('CONNECTION_FAILED', `Cannot read ${file}`, { object: name, path: file }, { cause: error });
    }
    // The file's own settings first, then the connection's, then detection.
    const settings = this.config.objects[name];
    const encoding: CsvEncoding = settings?.encoding ?? this.config.encoding ?? detectEncoding(head);
    const line = firstLine(head, encoding);
    const delimiter = settings?.delimiter ?? this.config.delimiter ?? detectDelimiter(line);
    let header: RawRow | undefined;
    const sample: string[][] = [];
    const sampleRows = this.options.sampleRows ?? 1000;
    for await (const row of this.rows({ file, encoding, delimiter }, 0, 1)) {
      if (!header) {
        if (row.error) {
          throw new FerryError('CONFIG_INVALID', `${fileName}: the header line is not valid CSV (${row.error})`, { object: name, path: file });
        }
        header = row;
        continue;
      }
      if (row.error) continue;
      sample.push(row.cells);
      if (sample.length >= sampleRows) break;
    }
    if (!header) throw new FerryError('CONFIG_INVALID', `${fileName} is empty (no header line)`, { object: name, path: file });
    return { file, fileName, encoding, delimiter, line, header, sample };
  }
}

interface HeaderInfo {
  file: string;
  fileName: string;
  encoding: CsvEncoding;
  delimiter: string;
  /** The header line as text (for the wrong-delimiter hint). */
  line: string;
  header: RawRow;
  sample: string[][];
}

/** Whether an object's settings describe its records (then it is never taken for a join file). */
function describesRecords(settings: CsvObjectConfig | undefined): boolean {
  if (!settings) return false;
  return (
    settings.id !== 'id' ||
    settings.updatedAt !== undefined ||
    settings.createdAt !== undefined ||
    settings.references !== undefined ||
    settings.listSeparator !== undefined ||
    settings.fields !== undefined
  );
}

/** A header line split by a delimiter, quotes honoured (`""` inside quotes is one quote). */
export function splitHeaderLine(line: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!;
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        cell += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === delimiter) {
      cells.push(cell);
      cell = '';
    } else cell += char;
  }
  cells.push(cell);
  return cells;
}

function shorten(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

function listColumns(columns: string[], max = 8): string {
  const shown = columns.slice(0, max).map((column) => JSON.stringify(shorten(column, 40)));
  return columns.length > max ? `${shown.join(', ')}, ... ${columns.length - max} more` : shown.join(', ') || 'none';
}

/** The id in a cell: trimmed, and in the vendor's canonical form when a preset says how. */
function cellId(object: CsvObject, cell: string | undefined): string | undefined {
  if (cell === undefined) return undefined;
  const text = cell.trim();
  const normalise = object.columns[object.idIndex]?.normalise;
  return normalise && text !== '' ? normalise(text) : text;
}

function readOnly(): FerryError {
  return new FerryError('USAGE', 'The CSV connector is read-only: it can be a source, not a target.');
}

/**
 * Validates the connection settings (zod) and creates the connector. A `timeZone` key is refused with the
 * setting that replaced it: the project's top-level `sourceTimeZone`, one zone for the whole source.
 */
export function createCsvConnector(config: CsvConnectionInput | Record<string, unknown>, options: CsvConnectorOptions): CsvConnector {
  const path = options.configPath ?? 'source';
  const legacyZone = (config as Record<string, unknown>).timeZone;
  if (legacyZone !== undefined) {
    throw new FerryError(
      'CONFIG_INVALID',
      `${path}.timeZone: the CSV connection has no time zone of its own any more; remove it and set the top-level ` +
        `sourceTimeZone: ${typeof legacyZone === 'string' ? legacyZone : 'Europe/Berlin'} in ferry.yaml (one zone for every date-time of the source)`,
      { path: `${path}.timeZone`, value: legacyZone },
    );
  }
  if (options.timeZone !== undefined && !isTimeZone(options.timeZone)) {
    throw new FerryError('CONFIG_INVALID', `sourceTimeZone: unknown time zone ${JSON.stringify(options.timeZone)} (use an IANA name such as Europe/Berlin)`, {
      path: 'sourceTimeZone',
      value: options.timeZone,
    });
  }
  if (options.locale !== undefined && !localeSchema.safeParse(options.locale).success) {
    throw new FerryError('CONFIG_INVALID', `sourceLocale: unknown locale ${JSON.stringify(options.locale)} (use a BCP-47 tag such as de-DE or en-US)`, {
      path: 'sourceLocale',
      value: options.locale,
    });
  }
  const parsed = csvConnectionSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${[path, ...issue.path].join('.')}: ${issue.message}`).join('; ');
    throw new FerryError('CONFIG_INVALID', `Invalid CSV connection settings: ${issues}`);
  }
  return new CsvConnector(parsed.data, options);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
