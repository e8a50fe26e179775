import { open } from 'node:fs/promises';
import { isDateOnly, parseDate, parseInstant } from '../../core/time.js';
import { parseLocaleInteger, parseLocaleNumber, type NumberStyle } from '../../core/locale-number.js';
import { localeDateToIso, type DateOrder, type DateStyle } from './locale.js';
import type { FieldType } from '../../core/schema.js';
import { CSV_DELIMITERS } from './config.js';
import { decodeBytes, utf8SequenceAt, type CsvEncoding } from './tokenizer.js';

export const SNIFF_BYTES = 64 * 1024;

export async function readHead(path: string, bytes = SNIFF_BYTES): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** BOM first; then UTF-8 when the head decodes as valid UTF-8 (a cut last character is fine); else windows-1252. */
export function detectEncoding(head: Buffer): CsvEncoding {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  // UTF-8 as soon as the head holds one multi-byte UTF-8 sequence (a stray windows-1252 byte elsewhere is
  // read as such, cell by cell: see decodeBytes); windows-1252 when it holds bytes >= 0x80 but none of them
  // form UTF-8; plain ASCII is UTF-8.
  let multibyte = 0;
  let stray = 0;
  for (let index = 0; index < head.length; ) {
    if (head[index]! < 0x80) {
      index += 1;
      continue;
    }
    const length = utf8SequenceAt(head, index);
    if (length > 1) {
      multibyte += 1;
      index += length;
    } else if (index + 4 > head.length && length === 0 && head[index]! >= 0xc2) {
      break; // a sequence cut by the end of the head
    } else {
      stray += 1;
      index += 1;
    }
  }
  return multibyte > 0 || stray === 0 ? 'utf-8' : 'windows-1252';
}

/** The header line's most frequent candidate outside quotes (`,` when none appears). */
export function detectDelimiter(headerLine: string): string {
  const counts = new Map<string, number>();
  let inQuotes = false;
  for (const char of headerLine) {
    if (char === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (CSV_DELIMITERS as readonly string[]).includes(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  let best = ',';
  let bestCount = 0;
  for (const delimiter of CSV_DELIMITERS) {
    const count = counts.get(delimiter) ?? 0;
    if (count > bestCount) {
      best = delimiter;
      bestCount = count;
    }
  }
  return best;
}

/** The first line of the decoded head (the header is assumed to hold no quoted newline). */
export function firstLine(head: Buffer, encoding: CsvEncoding): string {
  const text = decodeBytes(head, encoding).replace(/^\uFEFF/, '');
  const end = text.search(/\r|\n/);
  return end === -1 ? text : text.slice(0, end);
}

// ---------------------------------------------------------------------------------------------------------
// Type inference

const INTEGER = /^[+-]?(0|[1-9]\d{0,14})$/;
const NUMBER = /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/;
const BOOLEANS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, y: true, n: false };
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;
const URL_PATTERN = /^(https?:\/\/|www\.)\S+$/i;
const PHONE = /^\+?[\d\s().\-/]+(\s*(x|ext\.?)\s*\d+)?$/i;
const LONG_TEXT = 255;

export function parseBoolean(value: string): boolean | undefined {
  const key = value.trim().toLowerCase();
  if (key === '1') return true;
  if (key === '0') return false;
  return BOOLEANS[key];
}

export function parseInteger(value: string): number | undefined {
  const text = value.trim();
  if (!INTEGER.test(text)) return undefined;
  const number = Number(text);
  return Number.isSafeInteger(number) ? number : undefined;
}

export function parseNumber(value: string): number | undefined {
  const text = value.trim();
  if (!NUMBER.test(text)) return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

function digitCount(value: string): number {
  let count = 0;
  for (const char of value) if (char >= '0' && char <= '9') count += 1;
  return count;
}

/** How an object's values are read: the zone of naive date-times, and its locale's number and date forms. */
export interface ValueStyle {
  timeZone: string;
  /** Locale or detected number form; Ferry's plain form (`1234.56`, no grouping) when absent. */
  numbers?: NumberStyle;
  /** Locale's numeric date order (`31.12.2024`); ISO only when absent. */
  dates?: DateStyle;
}

export function readInteger(value: string, style: ValueStyle): number | undefined {
  return style.numbers ? parseLocaleInteger(value, style.numbers) : parseInteger(value);
}

export function readNumber(value: string, style: ValueStyle): number | undefined {
  return style.numbers ? parseLocaleNumber(value, style.numbers) : parseNumber(value);
}

function isoText(value: string, style: ValueStyle): string {
  return (style.dates && localeDateToIso(value, style.dates)) ?? value.trim();
}

export function readDate(value: string, style: ValueStyle): string | undefined {
  return parseDate(isoText(value, style), style.timeZone);
}

export function readInstant(value: string, style: ValueStyle): string | undefined {
  return parseInstant(isoText(value, style), style.timeZone);
}

/**
 * The numeric date orders under which every value reads as a date-time (`17.03.2024 14:05`: day first only;
 * `03/04/2024`: day or month first), for saying which locale would read a column that does not read now.
 */
export function readableDateOrders(values: string[], timeZone: string): DateOrder[] {
  const orders: DateOrder[] = ['dmy', 'mdy', 'ymd'];
  return orders.filter((order) => values.length > 0 && values.every((value) => readInstant(value, { timeZone, dates: { source: order, order } }) !== undefined));
}

function isDateOnlyValue(value: string, style: ValueStyle): boolean {
  return isDateOnly(isoText(value, style));
}

/**
 * Infers a column's type from sampled non-empty values. Typed conversions (integer, number, boolean, date,
 * datetime) need every sampled value to convert, since a value that does not convert later makes its row
 * invalid; semantic string types (email, phone, url) need most values to fit, because exports are messy.
 */
export function inferType(column: string, values: string[], style: ValueStyle): FieldType {
  const name = column.toLowerCase();
  if (values.length === 0) {
    if (/e-?mail/.test(name)) return 'email';
    if (/phone|mobile|fax/.test(name)) return 'phone';
    return 'string';
  }
  const every = (test: (value: string) => boolean) => values.every(test);
  const share = (test: (value: string) => boolean) => values.filter(test).length / values.length;

  if (values.some((value) => value.length > LONG_TEXT || value.includes('\n'))) return 'text';
  // Leading zeros (zip codes, account numbers) are kept as text.
  if (every((value) => readInteger(value, style) !== undefined)) return 'integer';
  if (every((value) => readNumber(value, style) !== undefined)) return 'number';
  if (every((value) => value.trim().toLowerCase() in BOOLEANS)) return 'boolean';
  if (every((value) => isDateOnlyValue(value, style) && readDate(value, style) !== undefined)) return 'date';
  if (every((value) => readInstant(value, style) !== undefined)) return 'datetime';
  const emailShare = share((value) => EMAIL.test(value.trim()));
  if (emailShare >= 0.8 || (/e-?mail/.test(name) && emailShare >= 0.3)) return 'email';
  if (share((value) => URL_PATTERN.test(value.trim())) >= 0.8) return 'url';
  const phoneLike = (value: string) => PHONE.test(value.trim()) && digitCount(value) >= 6;
  if (/phone|mobile|fax|tel/.test(name) ? share(phoneLike) >= 0.5 : every(phoneLike) && every((value) => /[\s()+-]/.test(value))) {
    return 'phone';
  }
  return 'string';
}

/**
 * Names of a last-modified column, most specific first, compared without case, spaces, `-` or `_`
 * (`Last Modified Date`, `lastModifiedDate`, `last_modified_date` are one name). `last_activity_date` is
 * not among them: an activity (a call logged) is not a change of the record's fields.
 */
const MODIFIED_NAMES = [
  'updated_at',
  'modified_at',
  'last_modified_at',
  'last_modified_date',
  'last_modified_time',
  'last_modified',
  'hs_lastmodifieddate',
  'modified_date',
  'modified_time',
  'date_modified',
  'modification_date',
  'modification_time',
  'update_time',
  'updated_time',
  'updated_on',
  'modified_on',
  'changed_at',
  'changed_on',
  'last_changed',
  'last_updated',
  'last_updated_at',
  'last_update',
  'updated',
  'modified',
  'changed',
  'systemmodstamp',
];
const CREATED_NAMES = [
  'created_at',
  'created_date',
  'created_time',
  'created_on',
  'createdate',
  'create_date',
  'create_time',
  'creation_date',
  'creation_time',
  'date_created',
  'add_time',
  'added_at',
  'added_on',
  'date_added',
  'created',
];

/** `Update time`, `updatedAt`, `update_time` -> `updatetime`. */
function nameKey(name: string): string {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}

/** A vendor's entity prefix: Pipedrive writes `Deal - Update time`, `Person - Email - Work`. */
const ENTITY_PREFIX = /^(.+?)\s+-\s+(.+)$/;

/** The prefix most columns carry (the file's own entity, `Deal` in a deals export), if any. */
function dominantPrefix(columns: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const column of columns) {
    const prefix = ENTITY_PREFIX.exec(column.trim())?.[1]?.toLowerCase();
    if (prefix) counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const [prefix, count] of counts) if (best === undefined || count > counts.get(best)!) best = prefix;
  return best;
}

/**
 * The first column named like one of the candidates (in the candidates' order), as is or after the file's
 * own entity prefix (`Deal - Update time` in a file of `Deal - ...` columns, never `Person - Update time`
 * there: that is another record's time). `accept` can refuse a column (one that holds no date-times).
 */
export function detectColumn(columns: string[], candidates: string[], accept: (column: string) => boolean = () => true): string | undefined {
  const dominant = dominantPrefix(columns);
  const keyed = columns.map((column) => {
    const split = ENTITY_PREFIX.exec(column.trim());
    return { column, key: nameKey(column), rest: split && split[1]!.toLowerCase() === dominant ? nameKey(split[2]!) : undefined };
  });
  for (const candidate of candidates.map(nameKey)) {
    const found = keyed.find((entry) => entry.key === candidate && accept(entry.column)) ?? keyed.find((entry) => entry.rest === candidate && accept(entry.column));
    if (found) return found.column;
  }
  return undefined;
}

export const detectModifiedColumn = (columns: string[], accept?: (column: string) => boolean) => detectColumn(columns, MODIFIED_NAMES, accept);
export const detectCreatedColumn = (columns: string[], accept?: (column: string) => boolean) => detectColumn(columns, CREATED_NAMES, accept);

export function pluralize(word: string): string {
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

/**
 * Reference by naming convention: `<singular>_id` (or `<singular>Id`) where `<plural>` (or the singular) is
 * an object; `parent_company_id` also tries its last word. `<singular>_ids` is a reference-list.
 */
export function conventionReference(column: string, objects: readonly string[]): { object: string; list: boolean } | undefined {
  const name = column
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
  const match = /^(.+?)_?(ids?)$/.exec(name);
  if (!match || !name.includes('_')) return undefined;
  const stem = match[1]!.replace(/_+$/, '');
  const list = match[2] === 'ids';
  const lastWord = stem.split('_').pop()!;
  for (const candidate of [stem, lastWord]) {
    for (const objectName of [pluralize(candidate), candidate]) {
      const found = objects.find((object) => object.toLowerCase() === objectName);
      if (found) return { object: found, list };
    }
  }
  return undefined;
}

/** A column named as a list of ids: `watcher_ids`, `watcherIds`, `Watcher IDs`. */
export function isListName(column: string): boolean {
  return /(^|_)ids$/.test(
    column
      .trim()
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_'),
  );
}

/**
 * The separator of a column named as a list (`watcher_ids`) when none is configured: `;`, then `|`, then
 * `,` (never the file's delimiter, never a space) as found in the sampled cells; `;` (`|` in a `;` file)
 * when no cell holds two ids yet.
 */
export function detectListSeparator(values: string[], delimiter: string): string {
  for (const separator of [';', '|', ',']) {
    if (separator !== delimiter && values.some((value) => value.includes(separator))) return separator;
  }
  return delimiter === ';' ? '|' : ';';
}
