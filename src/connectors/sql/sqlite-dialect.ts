import Database from 'better-sqlite3';
import { FerryError } from '../../core/errors.js';
import {
  parseQuotedList,
  quoteWith,
  type ClassifiedError,
  type ColumnKind,
  type QueryResult,
  type RawColumn,
  type RawTable,
  type Row,
  type SqlDialect,
  type SqlSession,
} from './dialect.js';

export interface SqliteDialectOptions {
  /** Absolute path of the database file, or `:memory:`. */
  path: string;
  readOnly: boolean;
}

/** SQLite's type affinity rules (https://www.sqlite.org/datatype3.html#determination_of_column_affinity), refined for CRM types. */
function columnKind(declared: string): { kind: ColumnKind; maxLength?: number } {
  const type = declared.toUpperCase();
  if (type === '') return { kind: 'string' };
  if (type.includes('BOOL')) return { kind: 'boolean' };
  if (type === 'DATE') return { kind: 'date' };
  if (type.includes('DATETIME') || type.includes('TIMESTAMP')) return { kind: 'datetime-stored' };
  if (type.includes('INT')) return { kind: 'integer' };
  if (type.includes('JSON')) return { kind: 'json' };
  if (type.includes('CLOB')) return { kind: 'long-text' };
  if (type.includes('CHAR') || type.includes('TEXT')) {
    const length = /\(\s*(\d+)\s*\)/.exec(type);
    return length ? { kind: 'string', maxLength: Number(length[1]) } : { kind: 'string' };
  }
  if (type.includes('BLOB')) return { kind: 'unsupported' };
  if (/REAL|FLOA|DOUB|NUMERIC|DECIMAL/.test(type)) return { kind: 'number' };
  return { kind: 'string' };
}

/** `CHECK (status IN ('a', 'b'))` picklists in the CREATE TABLE text, keyed by column name. */
function checkEnums(createSql: string): Map<string, string[]> {
  const enums = new Map<string, string[]>();
  const pattern = /CHECK\s*\(\s*(?:"((?:[^"]|"")+)"|`((?:[^`]|``)+)`|\[([^\]]+)\]|([A-Za-z_][\w$]*))\s+IN\s*\(((?:\s*'(?:[^']|'')*'\s*,?)+)\)\s*\)/gi;
  for (const match of createSql.matchAll(pattern)) {
    const column = match[1]?.replace(/""/g, '"') ?? match[2]?.replace(/``/g, '`') ?? match[3] ?? match[4];
    if (column) enums.set(column, parseQuotedList(match[5] ?? ''));
  }
  return enums;
}

/** Serialises work on the one connection: better-sqlite3 is synchronous, but our transactions span awaits. */
class Lock {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await work();
    } finally {
      release();
    }
  }
}

export class SqliteDialect implements SqlDialect {
  readonly name = 'sqlite' as const;
  readonly supportsReturning = true;
  /** UPDATE ... FROM is SQLite 3.33's; better-sqlite3 bundles its own SQLite, far newer (3.53 with better-sqlite3 12). */
  readonly supportsUpdateFrom = true;
  readonly valuesNeedCasts = false;
  readonly externalIdColumnType = 'TEXT';
  private database: Database.Database | undefined;
  private readonly lock = new Lock();

  constructor(private readonly options: SqliteDialectOptions) {}

  private db(): Database.Database {
    if (this.database) return this.database;
    try {
      const memory = this.options.path === ':memory:';
      this.database = new Database(this.options.path, {
        readonly: this.options.readOnly && !memory,
        fileMustExist: !memory,
        timeout: 5000,
      });
      // A CRM refuses references to missing records; SQLite only does when asked, per connection.
      if (!this.options.readOnly) this.database.pragma('foreign_keys = ON');
      return this.database;
    } catch (error) {
      throw this.connectionError(error);
    }
  }

  quoteIdentifier(name: string): string {
    return quoteWith('"', name);
  }

  tableName(table: string): string {
    return this.quoteIdentifier(table);
  }

  placeholder(): string {
    return '?';
  }

  ascendingNullsFirst(expression: string): string {
    return `${expression} ASC NULLS FIRST`;
  }

  insertDefaultValues(quotedTable: string): string {
    return `INSERT INTO ${quotedTable} DEFAULT VALUES`;
  }

  booleanParameter(value: boolean): unknown {
    return value ? 1 : 0;
  }

  /** Prepared statements by SQL text: batches repeat the same few statements thousands of times. */
  private readonly statements = new Map<string, Database.Statement>();

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= 500) this.statements.clear();
      statement = this.db().prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private execute(sql: string, params: readonly unknown[] = []): QueryResult {
    const statement = this.prepare(sql);
    if (statement.reader) {
      const rows = statement.all(...params) as Row[];
      return { rows, affectedRows: 0 };
    }
    const result = statement.run(...params);
    return { rows: [], affectedRows: result.changes, insertId: Number(result.lastInsertRowid) };
  }

  query(sql: string, params: readonly unknown[] = []): Promise<QueryResult> {
    return this.lock.run(async () => this.execute(sql, params));
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      const session: SqlSession = { query: async (sql, params) => this.execute(sql, params ?? []) };
      this.execute('BEGIN IMMEDIATE');
      try {
        const result = await work(session);
        this.execute('COMMIT');
        return result;
      } catch (error) {
        if (this.db().inTransaction) this.execute('ROLLBACK');
        throw error;
      }
    });
  }

  async introspect(): Promise<RawTable[]> {
    return this.lock.run(async () => {
      const tables = this.execute(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      ).rows;
      const result: RawTable[] = [];
      for (const table of tables) {
        const name = String(table.name);
        const enums = checkEnums(String(table.sql ?? ''));
        const info = this.execute('SELECT * FROM pragma_table_xinfo(?)', [name]).rows.filter((row) => Number(row.hidden) !== 1);
        const primaryKey = info
          .filter((row) => Number(row.pk) > 0)
          .sort((a, b) => Number(a.pk) - Number(b.pk))
          .map((row) => String(row.name));
        const columns: RawColumn[] = info.map((row) => {
          const declaredType = String(row.type ?? '');
          const mapped = columnKind(declaredType);
          const columnName = String(row.name);
          const rowidAlias = primaryKey.length === 1 && primaryKey[0] === columnName && declaredType.toUpperCase() === 'INTEGER';
          const options = enums.get(columnName);
          return {
            name: columnName,
            declaredType: declaredType.toLowerCase(),
            kind: options && mapped.kind !== 'unsupported' ? 'enum' : mapped.kind,
            nullable: Number(row.notnull) === 0 && !rowidAlias,
            hasDefault: row.dflt_value !== null && row.dflt_value !== undefined,
            defaultExpression: row.dflt_value === null || row.dflt_value === undefined ? undefined : String(row.dflt_value),
            autoIncrement: rowidAlias || Number(row.hidden) >= 2,
            maxLength: mapped.maxLength,
            enumValues: options,
          };
        });
        const uniqueColumns = new Set<string>(primaryKey.length === 1 ? primaryKey : []);
        const uniqueIndexes: Record<string, string> = {};
        for (const index of this.execute('SELECT * FROM pragma_index_list(?)', [name]).rows) {
          if (Number(index.unique) !== 1 || Number(index.partial) === 1) continue;
          const indexColumns = this.execute('SELECT * FROM pragma_index_info(?)', [String(index.name)]).rows;
          if (indexColumns.length === 1 && indexColumns[0]!.name !== null) {
            const column = String(indexColumns[0]!.name);
            uniqueColumns.add(column);
            uniqueIndexes[String(index.name)] = column;
          }
        }
        const foreignKeyRows = this.execute('SELECT * FROM pragma_foreign_key_list(?)', [name]).rows;
        const foreignKeys = foreignKeyRows
          .filter((row) => foreignKeyRows.filter((other) => other.id === row.id).length === 1)
          .map((row) => ({ column: String(row.from), refTable: String(row.table), refColumn: row.to === null ? '' : String(row.to) }));
        result.push({ name, columns, primaryKey, uniqueColumns: [...uniqueColumns], uniqueIndexes, foreignKeys });
      }
      // `REFERENCES parent` without a column means the parent's primary key.
      for (const table of result) {
        for (const key of table.foreignKeys) {
          if (key.refColumn) continue;
          key.refColumn = result.find((candidate) => candidate.name === key.refTable)?.primaryKey[0] ?? 'rowid';
        }
      }
      return result;
    });
  }

  async serverNow(): Promise<number> {
    // SQLite has no server: the local clock is the database's clock.
    return Date.now();
  }

  classifyError(error: unknown): ClassifiedError {
    const code = (error as { code?: string }).code ?? '';
    const message = error instanceof Error ? error.message : String(error);
    const subject = /constraint failed: (.*)$/i.exec(message)?.[1]?.split(', ')[0];
    if (code === 'SQLITE_CONSTRAINT_NOTNULL') return { code: 'REQUIRED_MISSING', message, column: subject };
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return { code: 'UNIQUE_VIOLATION', message, column: subject };
    }
    if (code === 'SQLITE_CONSTRAINT_CHECK') return { code: 'INVALID_VALUE', message, constraint: subject };
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return { code: 'REFERENCE_MISSING', message };
    if (code === 'SQLITE_MISMATCH' || code === 'SQLITE_CONSTRAINT_DATATYPE') return { code: 'INVALID_VALUE', message };
    return { code: 'WRITE_FAILED', message };
  }

  connectionError(error: unknown): Error {
    if (error instanceof FerryError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new FerryError('CONNECTION_FAILED', `Cannot open the SQLite database ${this.options.path}: ${message}`, {
      path: this.options.path,
    });
  }

  async close(): Promise<void> {
    await this.lock.run(async () => {
      this.statements.clear();
      this.database?.close();
      this.database = undefined;
    });
  }
}
