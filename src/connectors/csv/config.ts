import { z } from 'zod';
import { FIELD_TYPES } from '../../core/schema.js';

const ENCODINGS = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'utf-16le': 'utf-16le',
  utf16le: 'utf-16le',
  'utf-16be': 'utf-16be',
  utf16be: 'utf-16be',
  'windows-1252': 'windows-1252',
  win1252: 'windows-1252',
  cp1252: 'windows-1252',
  // latin1 files are read as windows-1252, its superset for every printable character.
  latin1: 'windows-1252',
  'iso-8859-1': 'windows-1252',
} as const;

export const CSV_DELIMITERS = [',', ';', '\t', '|'] as const;

const encodingSchema = z.string().transform((value, context) => {
  const key = value.trim().toLowerCase() as keyof typeof ENCODINGS;
  const encoding = ENCODINGS[key];
  if (!encoding) {
    context.addIssue({ code: 'custom', message: `Unsupported encoding "${value}" (use utf-8, utf-16le, utf-16be or windows-1252)` });
    return z.NEVER;
  }
  return encoding;
});

const delimiterSchema = z.enum(CSV_DELIMITERS, { error: 'must be one of "," ";" "|" or a tab ("\\t")' });

/** A BCP-47 locale Intl knows (`de-DE`, `fr`, `en-US`): how numbers and numeric dates are written. */
export const localeSchema = z.string().refine(
  (locale) => {
    try {
      return Intl.NumberFormat.supportedLocalesOf([locale]).length > 0;
    } catch {
      return false;
    }
  },
  { message: 'Unknown locale (use a BCP-47 tag such as de-DE or en-US)' },
);

/** `column: object`, or `column: { object, listSeparator }` for a column whose cells hold several ids. */
const referenceSchema = z.union([
  z.string().min(1),
  z.strictObject({
    object: z.string().min(1),
    /** The cell holds a list of ids separated by this (e.g. ";"); without it the cell is one id. */
    listSeparator: z.string().min(1).optional(),
  }),
]);

/**
 * The files of an object's records (docs/attachments.md): `folder` (relative to the project folder), and
 * either `column`, the column listing each record's file names inside the folder, or no column: one
 * subfolder per record id (`<folder>/<id>/*`).
 */
const attachmentsSchema = z.strictObject({
  folder: z.string().min(1),
  column: z.string().min(1).optional(),
  /** Between the file names of one cell (default `;`). */
  separator: z.string().min(1).optional(),
});

export const csvObjectSchema = z
  .object({
    /** File name inside the folder (default `<object>.csv`). */
    file: z.string().min(1).optional(),
    /** Column holding the record id (default `id`). */
    id: z.string().min(1).default('id'),
    /** Column holding the last-modified date-time (detected when absent). */
    updatedAt: z.string().min(1).optional(),
    createdAt: z.string().min(1).optional(),
    /** Reference columns: column -> referenced object (or { object, listSeparator }). */
    references: z.record(z.string(), referenceSchema).optional(),
    /**
     * Separator between ids in this object's reference-list cells. Without it a reference cell is one id
     * (`Anna Schmidt` stays one value), except in columns named as a list (`*_ids`).
     */
    listSeparator: z.string().min(1).optional(),
    /** This file's delimiter and encoding, when they differ from the connection's (or its detection). */
    delimiter: delimiterSchema.optional(),
    encoding: encodingSchema.optional(),
    /** How this file writes numbers and numeric dates (`de-DE`: `1.234,56`, `31.12.2024`). */
    locale: localeSchema.optional(),
    fields: z.record(z.string(), z.object({ type: z.enum(FIELD_TYPES).optional() }).strict()).optional(),
    /** The attachments folder of this object's records. */
    attachments: attachmentsSchema.optional(),
  })
  .strict();

export const csvConnectionSchema = z
  .object({
    connector: z.literal('csv').optional(),
    /** Folder holding one CSV file per object (relative to the project folder). */
    path: z.string().min(1),
    delimiter: delimiterSchema.optional(),
    encoding: encodingSchema.optional(),
    /** How the files write numbers and numeric dates (default: the project's sourceLocale). */
    locale: localeSchema.optional(),
    objects: z.record(z.string(), csvObjectSchema).default({}),
  })
  .strict();

export type CsvConnectionInput = z.input<typeof csvConnectionSchema>;
export type CsvConnectionConfig = z.output<typeof csvConnectionSchema>;
export type CsvObjectConfig = z.output<typeof csvObjectSchema>;
export type CsvReferenceConfig = z.output<typeof referenceSchema>;
export type CsvAttachmentsConfig = z.output<typeof attachmentsSchema>;
