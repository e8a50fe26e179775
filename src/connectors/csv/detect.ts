import { open } from 'node:fs/promises';
import { isDateOnly, parseDate, parseInstant } from '../../core/time.js';
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

/**
 * Infers a column's type from sampled non-empty values. Typed conversions (integer, number, boolean, date,
 * datetime) need every sampled value to convert, since a value that does not convert later makes its row
 * invalid; semantic string types (email, phone, url) need most values to fit, because exports are messy.
 */
export function inferType(column: string, values: string[], timeZone: string): FieldType {
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
  if (every((value) => parseInteger(value) !== undefined)) return 'integer';
  if (every((value) => parseNumber(value) !== undefined)) return 'number';
  if (every((value) => value.trim().toLowerCase() in BOOLEANS)) return 'boolean';
  if (every((value) => isDateOnly(value.trim()) && parseDate(value) !== undefined)) return 'date';
  if (every((value) => parseInstant(value, timeZone) !== undefined)) return 'datetime';
  const emailShare = share((value) => EMAIL.test(value.trim()));
  if (emailShare >= 0.8 || (/e-?mail/.test(name) && emailShare >= 0.3)) return 'email';
  if (share((value) => URL_PATTERN.test(value.trim())) >= 0.8) return 'url';
  const phoneLike = (value: string) => PHONE.test(value.trim()) && digitCount(value) >= 6;
  if (/phone|mobile|fax|tel/.test(name) ? share(phoneLike) >= 0.5 : every(phoneLike) && every((value) => /[\s()+-]/.test(value))) {
    return 'phone';
  }
  return 'string';
}

const MODIFIED_NAMES = [
  'updated_at',
  'updatedat',
  'updated',
  'modified_at',
  'modifiedat',
  'modified',
  'last_modified',
  'lastmodified',
  'last_modified_at',
  'last_modified_date',
  'lastmodifieddate',
  'modified_date',
  'date_modified',
  'hs_lastmodifieddate',
  'last_updated',
  'updated_on',
  'modified_on',
];
const CREATED_NAMES = ['created_at', 'createdat', 'created', 'created_date', 'createddate', 'date_created', 'createdate', 'created_on', 'creation_date'];

function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

export function detectColumn(columns: string[], candidates: string[]): string | undefined {
  for (const candidate of candidates) {
    const found = columns.find((column) => normaliseName(column) === candidate);
    if (found) return found;
  }
  return undefined;
}

export const detectModifiedColumn = (columns: string[]) => detectColumn(columns, MODIFIED_NAMES);
export const detectCreatedColumn = (columns: string[]) => detectColumn(columns, CREATED_NAMES);

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

/** A list separator that appears in the sampled cells (`;` then `|` then `,`, never the file's delimiter). */
export function detectListSeparator(values: string[], delimiter: string): string {
  for (const separator of [';', '|', ',', ' ']) {
    if (separator !== delimiter && values.some((value) => value.includes(separator))) return separator;
  }
  return delimiter === ';' ? '|' : ';';
}
