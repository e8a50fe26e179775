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

const timeZoneSchema = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'Unknown time zone (use an IANA name such as Europe/Berlin)' },
);

export const csvObjectSchema = z
  .object({
    /** File name inside the folder (default `<object>.csv`). */
    file: z.string().min(1).optional(),
    /** Column holding the record id (default `id`). */
    id: z.string().min(1).default('id'),
    /** Column holding the last-modified date-time (detected when absent). */
    updatedAt: z.string().min(1).optional(),
    createdAt: z.string().min(1).optional(),
    /** Reference columns: column -> referenced object. */
    references: z.record(z.string(), z.string().min(1)).optional(),
    /** Separator between ids in a reference-list cell (detected when absent). */
    listSeparator: z.string().min(1).optional(),
    fields: z.record(z.string(), z.object({ type: z.enum(FIELD_TYPES).optional() }).strict()).optional(),
  })
  .strict();

export const csvConnectionSchema = z
  .object({
    connector: z.literal('csv').optional(),
    /** Folder holding one CSV file per object (relative to the project folder). */
    path: z.string().min(1),
    delimiter: z.enum(CSV_DELIMITERS).optional(),
    encoding: z
      .string()
      .transform((value, context) => {
        const key = value.trim().toLowerCase() as keyof typeof ENCODINGS;
        const encoding = ENCODINGS[key];
        if (!encoding) {
          context.addIssue({ code: 'custom', message: `Unsupported encoding "${value}" (use utf-8, utf-16le, utf-16be or windows-1252)` });
          return z.NEVER;
        }
        return encoding;
      })
      .optional(),
    /** Zone of date-times written without one (default UTC). */
    timeZone: timeZoneSchema.default('UTC'),
    objects: z.record(z.string(), csvObjectSchema).default({}),
  })
  .strict();

export type CsvConnectionInput = z.input<typeof csvConnectionSchema>;
export type CsvConnectionConfig = z.output<typeof csvConnectionSchema>;
export type CsvObjectConfig = z.output<typeof csvObjectSchema>;
