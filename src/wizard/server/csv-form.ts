/**
 * The wizard's CSV connection form, server side: which settings the CSV connector takes (asked of its own zod
 * schema, so keys the connector gains appear in the form without a change here), the `source` block of
 * ferry.yaml built from the form, and what the connector finds in the folder, file by file, with its errors
 * beside the file they are about.
 */
import { readdir } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import { csvConnectionSchema } from '../../connectors/csv/config.js';
import { conventionReference, detectCreatedColumn, detectDelimiter, detectEncoding, detectModifiedColumn, firstLine, readHead } from '../../connectors/csv/detect.js';
import type { CsvEncoding } from '../../connectors/csv/tokenizer.js';
import { FerryError } from '../../core/errors.js';
import type { SchemaDescription } from '../../core/schema.js';
import type { CsvFileView, CsvInspectResponse, CsvObjectSettings } from '../api.js';
import { HttpError } from './errors.js';

const FILE_EXTENSIONS = new Set(['.csv', '.tsv']);

/** A valid example value of each per-file key the form edits, to ask the connector's schema whether it takes the key. */
const OBJECT_PROBES: Record<keyof CsvObjectSettings, unknown> = {
  file: 'x.csv',
  id: 'id',
  updatedAt: 'updated',
  createdAt: 'created',
  references: { a: 'b' },
  listSeparator: ';',
  delimiter: ';',
  encoding: 'utf-8',
  locale: 'de-DE',
};
const CONNECTION_PROBES: Record<string, unknown> = { delimiter: ';', encoding: 'utf-8', locale: 'de-DE' };
/** Per-file keys that apply to the whole folder when the connector takes them only there. */
const LIFTABLE = new Set<keyof CsvObjectSettings>(['delimiter', 'encoding', 'locale']);

function accepts(config: Record<string, unknown>): boolean {
  return csvConnectionSchema.safeParse(config).success;
}

/** The per-file keys the CSV connector's schema takes. */
export function csvObjectKeys(): (keyof CsvObjectSettings)[] {
  return (Object.keys(OBJECT_PROBES) as (keyof CsvObjectSettings)[]).filter((key) => accepts({ path: '.', objects: { x: { [key]: OBJECT_PROBES[key] } } }));
}

/** The connection-level keys (besides path) the CSV connector's schema takes. */
export function csvConnectionKeys(): string[] {
  return Object.keys(CONNECTION_PROBES).filter((key) => accepts({ path: '.', [key]: CONNECTION_PROBES[key] }));
}

const STRING_KEYS: (keyof CsvObjectSettings)[] = ['file', 'id', 'updatedAt', 'createdAt', 'listSeparator', 'delimiter', 'encoding', 'locale'];

/** The form's per-file settings checked for shape (strings; references an object of strings), empty values dropped. */
export function cleanCsvObjects(input: unknown): Record<string, CsvObjectSettings> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new HttpError(400, 'USAGE', 'csvObjects must be an object of per-file settings.', { field: 'csvObjects' });
  const out: Record<string, CsvObjectSettings> = {};
  for (const [object, raw] of Object.entries(input as Record<string, unknown>)) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new HttpError(400, 'USAGE', `csvObjects.${object} must be an object.`, { object, field: 'csvObjects' });
    }
    const settings: CsvObjectSettings = {};
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
      if (key === 'references') {
        if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((item) => typeof item !== 'string')) {
          throw new HttpError(400, 'USAGE', `csvObjects.${object}.references must map column names to object names.`, { object, field: 'references' });
        }
        const references = Object.fromEntries(Object.entries(value as Record<string, string>).filter(([column, target]) => column.trim() !== '' && target.trim() !== ''));
        if (Object.keys(references).length > 0) settings.references = references;
        continue;
      }
      if (!(STRING_KEYS as string[]).includes(key)) {
        // Passed on as it is: the connector's schema says whether it takes it.
        (settings as Record<string, unknown>)[key] = value;
        continue;
      }
      if (typeof value !== 'string') throw new HttpError(400, 'USAGE', `csvObjects.${object}.${key} must be text, got ${JSON.stringify(value)}.`, { object, field: key, value });
      // Only the delimiter is kept as typed: a tab or a space is a meaningful value there.
      const text = key === 'delimiter' || key === 'listSeparator' ? value : value.trim();
      if (text !== '') (settings as Record<string, unknown>)[key] = text;
    }
    if (Object.keys(settings).length > 0) out[object] = settings;
  }
  return out;
}

/**
 * The CSV `source` block of ferry.yaml from the form: `path`, the other connection settings already there, and
 * `objects` from the form. A per-file delimiter, encoding or locale that this connector version takes only for
 * the whole folder is set there when every file that sets it agrees (and refused, naming the files, otherwise).
 * The result is checked with the connector's own schema; its complaints name the ferry.yaml key.
 */
export function buildCsvSource(existing: Record<string, unknown> | undefined, path: string, csvObjects: Record<string, CsvObjectSettings>): Record<string, unknown> {
  const raw: Record<string, unknown> = existing?.connector === 'csv' ? { ...existing } : { connector: 'csv' };
  raw.path = path;
  const objectKeys = new Set(csvObjectKeys());
  const objects: Record<string, Record<string, unknown>> = {};
  const lifted: Record<string, { value: string; objects: string[] }[]> = {};
  for (const [object, settings] of Object.entries(csvObjects)) {
    const entry: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(settings) as [keyof CsvObjectSettings, unknown][]) {
      if (objectKeys.has(key) || !LIFTABLE.has(key)) {
        entry[key] = value;
        continue;
      }
      const list = (lifted[key] ??= []);
      const same = list.find((item) => item.value === value);
      if (same) same.objects.push(object);
      else list.push({ value: String(value), objects: [object] });
    }
    if (Object.keys(entry).length > 0) objects[object] = entry;
  }
  for (const [key, values] of Object.entries(lifted)) {
    if (values.length > 1) {
      throw new HttpError(
        400,
        'CONFIG_INVALID',
        `The CSV connector takes one ${key} for the whole folder, but the files set different ones: ${values.map((item) => `${JSON.stringify(item.value)} (${item.objects.join(', ')})`).join(' and ')}.`,
        { field: key, objects: values.flatMap((item) => item.objects) },
      );
    }
    raw[key] = values[0]!.value;
  }
  // A folder-level key the form did not lift this time stays as it was in ferry.yaml.
  if (Object.keys(objects).length > 0) raw.objects = objects;
  else delete raw.objects;
  const parsed = csvConnectionSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: `source.${issue.path.map(String).join('.')}`, message: issue.message, ...(issue.path[0] === 'objects' && issue.path.length >= 2 ? { object: String(issue.path[1]), field: String(issue.path[2] ?? '') } : {}) }));
    throw new HttpError(400, 'CONFIG_INVALID', `The CSV settings are not valid: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, { problems: issues });
  }
  return raw;
}

/** A header line split at `delimiter` outside double quotes, quotes removed. */
export function splitHeader(line: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!;
    if (char === '"') {
      if (quoted && line[index + 1] === '"') {
        cell += '"';
        index++;
      } else quoted = !quoted;
    } else if (char === delimiter && !quoted) {
      cells.push(cell.trim());
      cell = '';
    } else cell += char;
  }
  cells.push(cell.trim());
  return cells;
}

const ENCODING_NAMES: Record<string, CsvEncoding> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  latin1: 'windows-1252',
  'iso-8859-1': 'windows-1252',
};

/**
 * A column that looks like the file's id when the connector's default (`id`) is not there: `ID`, `Record ID`
 * (HubSpot), `<Entity> - ID` (Pipedrive) for the file's own entity, `Id` (Salesforce), `<object>_id`.
 */
export function guessIdColumn(object: string, columns: string[]): string | undefined {
  const norm = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');
  const stem = norm(object) === 'people' ? 'person' : norm(object).replace(/(ies)$/, 'y').replace(/s$/, '');
  const exact = columns.find((column) => ['id', 'recordid'].includes(norm(column)));
  if (exact) return exact;
  const own = columns.find((column) => {
    const n = norm(column);
    return n === `${stem}id` || (n.endsWith('id') && stem.length > 2 && n.startsWith(stem) && n.length <= stem.length + 3);
  });
  if (own) return own;
  // Only the first column, and only when it is named like an id: a reference column elsewhere is not the id.
  const first = columns[0];
  return first !== undefined && /(^|[\s_-])id$/i.test(first) ? first : undefined;
}

interface ConnectorAnswer {
  schema?: SchemaDescription;
  error?: unknown;
}

/**
 * Each file of the folder with what the connector reads it with, the settings given, and its problems. The
 * connector itself (`connect`) is asked with the same settings: its error goes beside the file it names; when
 * it reads the folder, its schema gives the id, modified column and references it uses.
 */
export async function inspectCsvFolder(
  baseDir: string,
  raw: Record<string, unknown>,
  connect: (raw: Record<string, unknown>) => Promise<SchemaDescription>,
  errorView: (error: unknown) => { code: string; message: string; details?: Record<string, unknown> },
): Promise<CsvInspectResponse> {
  const path = String(raw.path ?? '');
  const folder = isAbsolute(path) ? path : resolve(baseDir, path);
  const configured = (raw.objects ?? {}) as Record<string, CsvObjectSettings>;
  const response: CsvInspectResponse = { folder, files: [], ok: false, objectKeys: csvObjectKeys(), connectionKeys: csvConnectionKeys() };
  let entries: string[];
  try {
    entries = (await readdir(folder)).filter((entry) => FILE_EXTENSIONS.has(extname(entry).toLowerCase())).sort();
  } catch (error) {
    response.error = errorView(new FerryError('CONNECTION_FAILED', `The CSV folder ${folder} cannot be read: check the Folder field (relative to the folder of ferry.yaml).`, { path: folder }, { cause: error }));
    return response;
  }
  if (entries.length === 0) {
    response.error = { code: 'CONFIG_INVALID', message: `The folder ${folder} holds no .csv or .tsv file.` };
    return response;
  }
  const objectOfFile = new Map<string, string>();
  for (const [object, settings] of Object.entries(configured)) objectOfFile.set(settings.file ?? `${object}.csv`, object);
  for (const entry of entries) if (!objectOfFile.has(entry)) objectOfFile.set(entry, basename(entry, extname(entry)));
  const names = [...new Set(objectOfFile.values())];

  let answer: ConnectorAnswer;
  try {
    answer = { schema: await connect(raw) };
  } catch (error) {
    answer = { error };
  }
  const connectorError = answer.error === undefined ? undefined : errorView(answer.error);
  let placed = false;

  for (const entry of entries) {
    const object = objectOfFile.get(entry)!;
    const settings = configured[object] ?? {};
    const file = join(folder, entry);
    const view: CsvFileView = { file: entry, object, columns: [], detected: { delimiter: ',', encoding: 'utf-8', references: {} }, settings, problems: [], warnings: [] };
    try {
      const head = await readHead(file);
      const wantedEncoding = settings.encoding ?? (typeof raw.encoding === 'string' ? raw.encoding : undefined);
      const encoding = (wantedEncoding && ENCODING_NAMES[wantedEncoding.toLowerCase()]) || detectEncoding(head);
      const line = firstLine(head, encoding);
      const wantedDelimiter = settings.delimiter ?? (typeof raw.delimiter === 'string' ? raw.delimiter : undefined);
      view.detected.encoding = detectEncoding(head);
      view.detected.delimiter = detectDelimiter(line);
      const columns = splitHeader(line, wantedDelimiter ?? view.detected.delimiter);
      view.columns = columns;
      const others = names.filter((name) => name !== object);
      const refs = columns.map((column) => conventionReference(column, others));
      if (columns.length === 2 && refs[0] && refs[1] && !refs[0].list && !refs[1].list && !configured[object]) {
        view.join = { object: refs[0].object, target: refs[1].object };
      }
      const id = columns.includes('id') ? 'id' : guessIdColumn(object, columns);
      if (id) view.detected.id = id;
      const updated = detectModifiedColumn(columns);
      if (updated) view.detected.updatedAt = updated;
      const created = detectCreatedColumn(columns);
      if (created) view.detected.createdAt = created;
      columns.forEach((column, index) => {
        if (column !== id && refs[index]) view.detected.references[column] = refs[index]!.object;
      });
      const described = answer.schema?.objects.find((candidate) => candidate.name === object);
      if (described) {
        const idField = described.fields.find((field) => field.unique && field.readOnly);
        if (idField) view.detected.id = idField.name;
        if (described.modifiedField) view.detected.updatedAt = described.modifiedField;
        else delete view.detected.updatedAt;
        view.detected.references = Object.fromEntries(
          described.fields.filter((field) => field.reference && columns.includes(field.name)).map((field) => [field.name, field.reference!.object]),
        );
        const preset = (described as { preset?: { vendor: string; object: string } }).preset;
        if (preset) view.detected.preset = preset;
      }
      if (!view.join) {
        const idColumn = settings.id ?? 'id';
        if (!columns.includes(idColumn)) {
          const delimiterHint =
            columns.length === 1 && line.length > 0
              ? ` The header was read as one single column: the delimiter is probably not "${wantedDelimiter ?? view.detected.delimiter}" (choose the delimiter of this file).`
              : '';
          view.problems.push({
            code: 'CSV_NO_ID_COLUMN',
            message: `${entry} has no id column "${idColumn}": choose the column that holds each record's id (ferry.yaml: source.objects.${object}.id).${delimiterHint}`,
            setting: delimiterHint ? 'delimiter' : 'id',
          });
        }
        for (const [key, label] of [
          ['updatedAt', 'modified'],
          ['createdAt', 'created'],
        ] as const) {
          const column = settings[key];
          if (column !== undefined && !columns.includes(column)) {
            view.problems.push({ code: 'CSV_NO_COLUMN', message: `${entry} has no ${label} column "${column}" (source.objects.${object}.${key}).`, setting: key });
          }
        }
        for (const [column, target] of Object.entries(settings.references ?? {})) {
          if (!columns.includes(column)) view.problems.push({ code: 'CSV_NO_COLUMN', message: `${entry} has no reference column "${column}".`, setting: 'references' });
          else if (!names.includes(target)) view.problems.push({ code: 'CSV_NO_OBJECT', message: `${entry}: column "${column}" refers to "${target}", which is no file of this folder.`, setting: 'references' });
        }
        if (!settings.updatedAt && !view.detected.updatedAt) {
          view.warnings.push(
            `No modified column found in ${entry}: a delta migration then reads every record of it. Choose the column holding the last-modified date-time, if there is one (source.objects.${object}.updatedAt).`,
          );
        }
      }
    } catch (error) {
      view.problems.push({ code: 'CSV_UNREADABLE', message: errorView(error).message });
    }
    const details = connectorError?.details ?? {};
    const about = details.object === object || (typeof details.path === 'string' && resolve(String(details.path)) === file);
    if (connectorError && about) {
      placed = true;
      if (!view.problems.some((problem) => problem.message.includes(connectorError.message) || (problem.code === 'CSV_NO_ID_COLUMN' && /no id column/.test(connectorError.message)))) {
        view.problems.push({ code: connectorError.code, message: connectorError.message, ...(/\bid column\b/.test(connectorError.message) ? { setting: 'id' as const } : {}) });
      }
    }
    response.files.push(view);
  }
  if (connectorError && !placed) response.error = connectorError;
  response.ok = answer.error === undefined && response.files.every((file) => file.problems.length === 0);
  return response;
}
