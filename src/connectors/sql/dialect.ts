import type { ErrorCode } from '../../core/errors.js';

/**
 * The one internal interface the SQLite, PostgreSQL and MySQL/MariaDB dialects implement. The shared
 * connector (sql-connector.ts) builds every statement through it and knows nothing about a driver.
 */
export type DialectName = 'sqlite' | 'postgres' | 'mysql';

export type Row = Record<string, unknown>;

export interface QueryResult {
  rows: Row[];
  affectedRows: number;
  /** MySQL's auto-increment id of an INSERT (the dialects without RETURNING). */
  insertId?: number | string;
}

/** A connection: the pool outside a transaction, one checked-out connection inside. */
export interface SqlSession {
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult>;
}

/**
 * What the dialect knows about a column's type. `datetime-stored` is SQLite's declared DATETIME/TIMESTAMP:
 * text or integers whose format is found by sampling.
 */
export type ColumnKind =
  | 'string'
  | 'long-text'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'date'
  | 'datetime-utc'
  | 'datetime-naive'
  | 'datetime-stored'
  | 'json'
  | 'enum'
  | 'unsupported';

export interface RawColumn {
  name: string;
  /** Declared type as the database prints it, lower case (`varchar(255)`, `timestamp with time zone`). */
  declaredType: string;
  /**
   * The type a parameter is cast to where nothing else types it (a VALUES list, see valuesNeedCasts): the
   * type's qualified name without modifiers (`pg_catalog.varchar`, `pg_catalog.bpchar`, `crm."Tier"`), so
   * the assignment to the column still checks the length as `SET column = $1` does. An explicit cast to
   * `varchar(80)` would truncate, and `character` or `bit` alone mean a length of one.
   */
  parameterType?: string;
  kind: ColumnKind;
  nullable: boolean;
  hasDefault: boolean;
  /** Default expression text, when known (used to guess the format of empty timestamp columns). */
  defaultExpression?: string;
  /** Filled by the database: serial, identity, AUTO_INCREMENT, SQLite's INTEGER PRIMARY KEY. */
  autoIncrement: boolean;
  maxLength?: number;
  enumValues?: string[];
  /** Fraction-of-second digits of native timestamp columns. */
  fractionDigits?: number;
}

export interface RawForeignKey {
  column: string;
  refTable: string;
  refColumn: string;
}

export interface RawTable {
  name: string;
  columns: RawColumn[];
  primaryKey: string[];
  /** Columns with a single-column unique constraint or index (the primary key included). */
  uniqueColumns: string[];
  /** Unique constraint/index name -> its single column, to name the field of a unique violation. */
  uniqueIndexes: Record<string, string>;
  /** Single-column foreign keys only. */
  foreignKeys: RawForeignKey[];
}

/** A database error reduced to what a RecordError needs. */
export interface ClassifiedError {
  code: ErrorCode;
  message: string;
  column?: string;
  /** Constraint or index name, mapped to a column by the connector when `column` is unknown. */
  constraint?: string;
}

export interface SqlDialect {
  readonly name: DialectName;
  /** INSERT ... RETURNING works (SQLite >= 3.35, PostgreSQL); otherwise the driver's insertId is used. */
  readonly supportsReturning: boolean;
  /**
   * `UPDATE t SET c = v.c FROM (VALUES ...) AS v WHERE t.id = v.id` works and reports the rows it matched
   * (PostgreSQL; SQLite >= 3.33): a batch of updates is a few statements (SqlConnector.updateRows).
   */
  readonly supportsUpdateFrom: boolean;
  /** Parameters in a VALUES list get no type from a column: each is cast to the column's parameterType (PostgreSQL). */
  readonly valuesNeedCasts: boolean;
  /** Quotes an identifier, doubling the quote character, so any name is safe. */
  quoteIdentifier(name: string): string;
  /** A table's quoted name, schema-qualified where the dialect has schemas. */
  tableName(table: string): string;
  /** The placeholder of the 1-based `index`-th parameter. */
  placeholder(index: number): string;
  /** `expr ASC` with NULLs first (NULL modified times count as the earliest). */
  ascendingNullsFirst(expression: string): string;
  /** Statement tail that inserts a row of defaults. */
  insertDefaultValues(quotedTable: string): string;
  /** How a boolean is bound. */
  booleanParameter(value: boolean): unknown;
  /** The column type of the added external-id column. */
  readonly externalIdColumnType: string;
  /** Reads outside a transaction. */
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult>;
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  introspect(): Promise<RawTable[]>;
  /** The database server's clock in epoch milliseconds. */
  serverNow(): Promise<number>;
  /** Reduces a failed statement's error to a record error code. */
  classifyError(error: unknown): ClassifiedError;
  /** Turns a connect/authentication failure into a FerryError (never containing the password). */
  connectionError(error: unknown): Error;
  close(): Promise<void>;
}

/** Builds a parameter list while the SQL text is written, so placeholders always match. */
export class Parameters {
  readonly values: unknown[] = [];

  constructor(private readonly dialect: Pick<SqlDialect, 'placeholder'>) {}

  add(value: unknown): string {
    this.values.push(value);
    return this.dialect.placeholder(this.values.length);
  }

  list(values: readonly unknown[]): string {
    return values.map((value) => this.add(value)).join(', ');
  }
}

/** The quote character doubled inside, wrapped on both sides: the one rule every dialect uses. */
export function quoteWith(quote: string, name: string): string {
  return `${quote}${name.split(quote).join(quote + quote)}${quote}`;
}

/** Removes the password of a connection URL from a text (raw and URL-decoded forms). */
export function redactSecret(text: string, url: string | undefined): string {
  if (!url) return text;
  let password = '';
  try {
    password = new URL(url).password;
  } catch {
    const match = /\/\/[^:/@]*:([^@]*)@/.exec(url);
    password = match?.[1] ?? '';
  }
  if (!password) return text;
  let result = text.split(url).join(redactUrl(url));
  const forms = new Set([password]);
  try {
    forms.add(decodeURIComponent(password));
  } catch {
    // not percent-encoded
  }
  for (const form of forms) if (form) result = result.split(form).join('***');
  return result;
}

/** The URL with its password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/** Parses `enum('a','b')`-style option lists with `''` escapes. */
export function parseQuotedList(text: string): string[] {
  const values: string[] = [];
  const pattern = /'((?:[^']|'')*)'/g;
  for (const match of text.matchAll(pattern)) values.push(match[1]!.replace(/''/g, "'"));
  return values;
}
