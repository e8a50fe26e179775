import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { FerryError } from '../../core/errors.js';
import { FIELD_TYPES } from '../../core/schema.js';
import { isValidTimeZone } from './timestamps.js';

const fieldOverrideSchema = z.strictObject({
  type: z.enum(FIELD_TYPES, { error: `must be one of ${FIELD_TYPES.join(', ')}` }).optional(),
  options: z.array(z.string()).optional(),
});

const objectOverrideSchema = z.strictObject({
  /** Table behind the object (default: the object's name). */
  table: z.string().min(1).optional(),
  /** Id column (default: the single-column primary key). */
  id: z.string().min(1).optional(),
  createdAt: z.string().min(1).optional(),
  updatedAt: z.string().min(1).optional(),
  /** Column that holds the source id on creates; `false` turns external ids off for this object. */
  externalId: z.union([z.string().min(1), z.literal(false)]).optional(),
  fields: z.record(z.string(), fieldOverrideSchema).optional(),
});

const joinTableOverrideSchema = z.union([
  z.literal(false),
  z.strictObject({
    /** The table whose objects get the reference-list field (default: the first foreign key's table). */
    owner: z.string().min(1).optional(),
    /** Name of the reference-list field (default: the other table's object name). */
    field: z.string().min(1).optional(),
    /**
     * Also expose the join table as an object of its own (a junction object: one record per row, its id made
     * from the two key columns), e.g. to write a deal's contacts into Salesforce's OpportunityContactRole.
     */
    object: z.boolean().optional(),
  }),
]);

/**
 * A table of files attached to an object's records (docs/attachments.md): one row per file, with the
 * record's id, the file's name, and its content in a BLOB column or in a file on disk (a path column).
 */
const filesTableSchema = z
  .strictObject({
    /** The files table. */
    table: z.string().min(1),
    /** Its id column (default `id`). */
    id: z.string().min(1).optional(),
    /** Column holding the id of the record the file belongs to. */
    record: z.string().min(1),
    /** Column with the file name. */
    name: z.string().min(1),
    /** BLOB column with the content (bytea in PostgreSQL, LONGBLOB in MySQL). */
    content: z.string().min(1).optional(),
    /** Column with the file's path, relative to `folder` (or absolute). */
    path: z.string().min(1).optional(),
    /** Folder of the files named by `path`; new files go to `<folder>/<stamp>/<name>`. Relative: to the project directory. */
    folder: z.string().min(1).optional(),
    contentType: z.string().min(1).optional(),
    size: z.string().min(1).optional(),
    /** Column with the hex SHA-256 of the content: a changed file is copied again. */
    sha256: z.string().min(1).optional(),
    /** Column holding the upload stamp Ferry finds an interrupted upload by (target; default `ferry_stamp`, added when missing). */
    stamp: z.string().min(1).optional(),
  })
  .superRefine((files, context) => {
    if (!files.content === !files.path) context.addIssue({ code: 'custom', path: ['content'], message: 'set exactly one of content (a BLOB column) or path (a file on disk)' });
    if (files.path && !files.folder) context.addIssue({ code: 'custom', path: ['folder'], message: 'is required with path (where the files are)' });
  });

/** Settings of the SQL connector (the `source:` / `target:` block of ferry.yaml). */
export const sqlConnectionSchema = z
  .strictObject({
    connector: z.literal('sql').optional(),
    dialect: z.enum(['sqlite', 'postgres', 'mysql'], { error: 'must be one of sqlite, postgres, mysql' }),
    /** SQLite file; relative paths are resolved against the project directory. */
    path: z.string().min(1, 'must not be empty').optional(),
    /** postgres://user:password@host:port/database or mysql://user:password@host:port/database */
    url: z.string().min(1, 'must not be empty').optional(),
    /** PostgreSQL schema (default public). */
    schema: z.string().min(1).optional(),
    readOnly: z.boolean().optional(),
    /** Zone in which naive timestamps in the database are read and written (default UTC). */
    timeZone: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as UTC or Europe/Berlin').optional(),
    objects: z.record(z.string(), objectOverrideSchema).optional(),
    /** `false` turns join-table detection off; per table: `false` (treat as an object) or owner/field. */
    joinTables: z.union([z.literal(false), z.record(z.string(), joinTableOverrideSchema)]).optional(),
    /** Object name -> the table of its records' files (docs/attachments.md). */
    files: z.record(z.string(), filesTableSchema).optional(),
  })
  .superRefine((config, context) => {
    if (config.dialect === 'sqlite') {
      if (!config.path) context.addIssue({ code: 'custom', path: ['path'], message: 'is required for dialect sqlite' });
      if (config.url) context.addIssue({ code: 'custom', path: ['url'], message: 'is not used by dialect sqlite (use path)' });
      return;
    }
    if (config.path) context.addIssue({ code: 'custom', path: ['path'], message: `is only for sqlite (use url for ${config.dialect})` });
    if (!config.url) {
      context.addIssue({ code: 'custom', path: ['url'], message: `is required for dialect ${config.dialect}` });
      return;
    }
    const protocols = config.dialect === 'postgres' ? ['postgres:', 'postgresql:'] : ['mysql:', 'mariadb:'];
    let protocol: string | undefined;
    try {
      protocol = new URL(config.url).protocol;
    } catch {
      // the message must not repeat the URL: it may hold a password
      context.addIssue({ code: 'custom', path: ['url'], message: 'is not a valid URL' });
      return;
    }
    if (!protocols.includes(protocol)) {
      context.addIssue({ code: 'custom', path: ['url'], message: `must start with ${protocols.map((p) => `${p}//`).join(' or ')}` });
    }
    if (config.schema && config.dialect !== 'postgres') {
      context.addIssue({ code: 'custom', path: ['schema'], message: 'is only for dialect postgres' });
    }
  });

export type SqlConnectionConfig = z.input<typeof sqlConnectionSchema>;
export type SqlConnectionSettings = z.output<typeof sqlConnectionSchema>;
export type SqlObjectOverride = z.output<typeof objectOverrideSchema>;
export type SqlFilesTable = z.output<typeof filesTableSchema>;

export interface SqlConnectorOptions {
  /** Directory that a relative SQLite `path` is resolved against (the project directory). Default: the working directory. */
  baseDir?: string;
  /** Prefix of the keys in error messages, e.g. `source` gives `source.url: ...`. */
  configPath?: string;
}

/** Validates the settings; throws CONFIG_INVALID naming each bad key. */
export function parseSqlConnectionConfig(input: unknown, options: SqlConnectorOptions = {}): SqlConnectionSettings {
  const parsed = sqlConnectionSchema.safeParse(input);
  if (!parsed.success) {
    const prefix = options.configPath ? `${options.configPath}.` : '';
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        return `${prefix}${key ? `${key}.` : ''}${issue.keys.join(', ')}: unknown setting`;
      }
      return `${prefix}${key || '(settings)'}: ${issue.message}`;
    });
    throw new FerryError('CONFIG_INVALID', `Invalid SQL connection settings:\n${lines.join('\n')}`, {
      issues: lines,
    });
  }
  const settings = parsed.data;
  for (const files of Object.values(settings.files ?? {})) {
    if (files.folder && !isAbsolute(files.folder)) files.folder = resolve(options.baseDir ?? process.cwd(), files.folder);
  }
  if (settings.dialect === 'sqlite' && settings.path && settings.path !== ':memory:' && !isAbsolute(settings.path)) {
    return { ...settings, path: resolve(options.baseDir ?? process.cwd(), settings.path) };
  }
  return settings;
}
