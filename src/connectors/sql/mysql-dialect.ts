import mysql from 'mysql2/promise';
import { FerryError } from '../../core/errors.js';
import {
  parseQuotedList,
  quoteWith,
  redactSecret,
  type ClassifiedError,
  type ColumnKind,
  type QueryResult,
  type RawTable,
  type Row,
  type SqlDialect,
  type SqlSession,
} from './dialect.js';

export interface MysqlDialectOptions {
  url: string;
}

function columnKind(dataType: string, columnType: string): ColumnKind {
  // MySQL and MariaDB spell BOOLEAN as tinyint(1) (https://dev.mysql.com/doc/refman/8.0/en/numeric-type-syntax.html).
  if (dataType === 'tinyint' && /^tinyint\(1\)/.test(columnType)) return 'boolean';
  if (['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year'].includes(dataType)) return 'integer';
  if (['decimal', 'numeric', 'float', 'double', 'real'].includes(dataType)) return 'number';
  if (['varchar', 'char', 'tinytext', 'set', 'time'].includes(dataType)) return 'string';
  if (['text', 'mediumtext', 'longtext'].includes(dataType)) return 'long-text';
  if (dataType === 'enum') return 'enum';
  if (dataType === 'date') return 'date';
  if (dataType === 'datetime') return 'datetime-naive';
  // TIMESTAMP is stored in UTC and shown in the session zone, which this dialect sets to UTC.
  if (dataType === 'timestamp') return 'datetime-utc';
  if (dataType === 'json') return 'json';
  return 'unsupported';
}

type Executor = Pick<mysql.Pool, 'query' | 'execute'>;

async function run(executor: Executor, sql: string, params: readonly unknown[]): Promise<QueryResult> {
  // Statements with values go through the server-side prepared protocol: mysql2's client-side
  // formatting would also replace a `?` inside a quoted identifier.
  const [result] = params.length > 0 ? await executor.execute(sql, params as never[]) : await executor.query(sql);
  if (Array.isArray(result)) return { rows: result as Row[], affectedRows: 0 };
  const header = result as mysql.ResultSetHeader;
  return { rows: [], affectedRows: header.affectedRows, insertId: header.insertId };
}

export class MysqlDialect implements SqlDialect {
  readonly name = 'mysql' as const;
  readonly supportsReturning = false;
  /** Not tried: MySQL's and MariaDB's multi-table UPDATE ... JOIN differ in their VALUES tables (8.0.19's ROW(), MariaDB 10.3's). */
  readonly supportsUpdateFrom = false;
  readonly valuesNeedCasts = false;
  // A unique index on TEXT needs a prefix length; 255 characters hold any source id.
  readonly externalIdColumnType = 'VARCHAR(255)';
  private readonly pool: mysql.Pool;

  constructor(private readonly options: MysqlDialectOptions) {
    this.pool = mysql.createPool({
      uri: options.url,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      connectionLimit: 4,
      connectTimeout: 15_000,
      // Prepared statements are cached per connection; bound the cache well under the server's
      // global max_prepared_stmt_count (16382 by default), since IN-lists of many lengths each prepare.
      maxPreparedStatements: 256,
    });
    this.pool.on('connection', (connection) => {
      // TIMESTAMP columns are read and written in the session zone: make it UTC on every new connection.
      // The pool hands over the callback connection; its query is queued before any later statement.
      const core = connection as unknown as { query(sql: string, callback: (error: unknown) => void): void };
      core.query("SET time_zone = '+00:00'", () => undefined);
    });
  }

  quoteIdentifier(name: string): string {
    return quoteWith('`', name);
  }

  tableName(table: string): string {
    return this.quoteIdentifier(table);
  }

  placeholder(): string {
    return '?';
  }

  ascendingNullsFirst(expression: string): string {
    // MySQL sorts NULL first in ascending order and has no NULLS FIRST clause.
    return `${expression} ASC`;
  }

  insertDefaultValues(quotedTable: string): string {
    return `INSERT INTO ${quotedTable} () VALUES ()`;
  }

  booleanParameter(value: boolean): unknown {
    return value ? 1 : 0;
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<QueryResult> {
    try {
      return await run(this.pool, sql, params);
    } catch (error) {
      throw this.wrapConnectionFailure(error);
    }
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    let connection: mysql.PoolConnection;
    try {
      connection = await this.pool.getConnection();
    } catch (error) {
      throw this.connectionError(error);
    }
    const session: SqlSession = { query: (sql, params) => run(connection, sql, params ?? []) };
    try {
      await connection.query('START TRANSACTION');
      const result = await work(session);
      await connection.query('COMMIT');
      return result;
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
  }

  async introspect(): Promise<RawTable[]> {
    const columns = (
      await this.query(
        `SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.DATA_TYPE AS data_type, c.COLUMN_TYPE AS column_type,
                c.IS_NULLABLE AS is_nullable, c.COLUMN_DEFAULT AS column_default, c.EXTRA AS extra,
                c.CHARACTER_MAXIMUM_LENGTH AS max_length, c.DATETIME_PRECISION AS datetime_precision
         FROM information_schema.COLUMNS c
         JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
         WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
         ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
      )
    ).rows;
    const statistics = (
      await this.query(
        `SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, NON_UNIQUE AS non_unique, SEQ_IN_INDEX AS seq, COLUMN_NAME AS column_name
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      )
    ).rows;
    const keys = (
      await this.query(
        `SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS constraint_name, COLUMN_NAME AS column_name,
                REFERENCED_TABLE_NAME AS ref_table, REFERENCED_COLUMN_NAME AS ref_column
         FROM information_schema.KEY_COLUMN_USAGE
         WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL AND REFERENCED_TABLE_SCHEMA = DATABASE()`,
      )
    ).rows;
    // MariaDB's JSON is LONGTEXT with a json_valid() check (https://mariadb.com/kb/en/json-data-type/).
    const jsonColumns = new Set<string>();
    try {
      const checks = (await this.query('SELECT * FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()')).rows;
      for (const check of checks) {
        const column = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(check.CHECK_CLAUSE ?? ''))?.[1];
        if (column && check.TABLE_NAME !== undefined) jsonColumns.add(`${String(check.TABLE_NAME)}\u0000${column.replace(/``/g, '`')}`);
      }
    } catch {
      // older servers have no CHECK_CONSTRAINTS view
    }
    const tables = new Map<string, RawTable>();
    for (const row of columns) {
      const tableName = String(row.table_name);
      let table = tables.get(tableName);
      if (!table) {
        table = { name: tableName, columns: [], primaryKey: [], uniqueColumns: [], uniqueIndexes: {}, foreignKeys: [] };
        tables.set(tableName, table);
      }
      const dataType = String(row.data_type).toLowerCase();
      const columnType = String(row.column_type).toLowerCase();
      const extra = String(row.extra ?? '').toLowerCase();
      // MariaDB reports a NULL default as the text 'NULL'; a NOT NULL column without default as SQL NULL.
      const columnDefault = row.column_default === null || row.column_default === undefined ? undefined : String(row.column_default);
      const hasDefault = columnDefault !== undefined && !(columnDefault.toUpperCase() === 'NULL' && row.is_nullable === 'YES');
      const isJson = jsonColumns.has(`${tableName}\u0000${String(row.column_name)}`);
      const kind = isJson ? 'json' : columnKind(dataType, columnType);
      table.columns.push({
        name: String(row.column_name),
        declaredType: columnType,
        kind,
        nullable: row.is_nullable === 'YES',
        hasDefault,
        defaultExpression: columnDefault,
        autoIncrement: extra.includes('auto_increment') || extra.includes('generated'),
        maxLength: (dataType === 'varchar' || dataType === 'char') && row.max_length !== null ? Number(row.max_length) : undefined,
        enumValues: kind === 'enum' ? parseQuotedList(columnType.slice(columnType.indexOf('('))) : undefined,
        fractionDigits: dataType === 'datetime' || dataType === 'timestamp' ? Number(row.datetime_precision ?? 0) : undefined,
      });
    }
    const indexes = new Map<string, { table: string; unique: boolean; columns: string[] }>();
    for (const row of statistics) {
      const key = `${String(row.table_name)}\u0000${String(row.index_name)}`;
      let index = indexes.get(key);
      if (!index) {
        index = { table: String(row.table_name), unique: Number(row.non_unique) === 0, columns: [] };
        indexes.set(key, index);
      }
      index.columns.push(String(row.column_name));
    }
    for (const [key, index] of indexes) {
      const table = tables.get(index.table);
      if (!table || !index.unique) continue;
      const indexName = key.slice(key.indexOf('\u0000') + 1);
      if (indexName === 'PRIMARY') table.primaryKey = index.columns;
      if (index.columns.length === 1) {
        table.uniqueColumns.push(index.columns[0]!);
        table.uniqueIndexes[indexName] = index.columns[0]!;
      }
    }
    const constraintSizes = new Map<string, number>();
    for (const row of keys) {
      const key = `${String(row.table_name)}\u0000${String(row.constraint_name)}`;
      constraintSizes.set(key, (constraintSizes.get(key) ?? 0) + 1);
    }
    for (const row of keys) {
      const table = tables.get(String(row.table_name));
      if (!table || constraintSizes.get(`${String(row.table_name)}\u0000${String(row.constraint_name)}`) !== 1) continue;
      table.foreignKeys.push({ column: String(row.column_name), refTable: String(row.ref_table), refColumn: String(row.ref_column) });
    }
    return [...tables.values()];
  }

  async serverNow(): Promise<number> {
    const { rows } = await this.query('SELECT UTC_TIMESTAMP(3) AS now');
    return Date.parse(`${String(rows[0]?.now).replace(' ', 'T')}Z`);
  }

  classifyError(error: unknown): ClassifiedError {
    const details = error as { errno?: number; sqlMessage?: string };
    const message = redactSecret(details.sqlMessage ?? (error instanceof Error ? error.message : String(error)), this.options.url);
    const quotedColumn = /column (?:'([^']+)'|(?:`(?:[^`]|``)*`\.)*`((?:[^`]|``)*)`)/i.exec(message);
    const column = quotedColumn?.[1] ?? quotedColumn?.[2]?.replace(/``/g, '`');
    switch (details.errno) {
      case 1048: // ER_BAD_NULL_ERROR: Column 'x' cannot be null
        return { code: 'REQUIRED_MISSING', message, column };
      case 1364: // ER_NO_DEFAULT_FOR_FIELD: Field 'x' doesn't have a default value
        return { code: 'REQUIRED_MISSING', message, column: /Field '([^']+)'/.exec(message)?.[1] };
      case 1062: {
        // ER_DUP_ENTRY: Duplicate entry 'v' for key 'name' (MySQL 8 prefixes the table: 'table.name')
        const key = /for key '(.*)'$/.exec(message)?.[1];
        return { code: 'UNIQUE_VIOLATION', message, constraint: key };
      }
      case 1264: // out of range
      case 1265: // data truncated
      case 1292: // incorrect date/datetime value
      case 1366: // incorrect integer/string value
      case 1406: // data too long
        return { code: 'INVALID_VALUE', message, column };
      case 3819: // MySQL CHECK constraint
      case 4025: // MariaDB CONSTRAINT `name` failed
        return { code: 'INVALID_VALUE', message, constraint: /constraint [`']((?:[^`']|``)*)[`']/i.exec(message)?.[1] };
      case 1452: // child row: foreign key fails
        return { code: 'REFERENCE_MISSING', message, column: /FOREIGN KEY \(`((?:[^`]|``)*)`\)/.exec(message)?.[1] };
      default:
        return { code: 'WRITE_FAILED', message };
    }
  }

  private wrapConnectionFailure(error: unknown): unknown {
    const details = error as { errno?: number; code?: string; fatal?: boolean };
    if (details.errno === 1045 || details.errno === 1044 || details.errno === 1049 || details.fatal) return this.connectionError(error);
    return error;
  }

  connectionError(error: unknown): Error {
    if (error instanceof FerryError) return error;
    const details = error as { errno?: number; code?: string };
    const message = redactSecret(error instanceof Error ? error.message : String(error), this.options.url);
    const auth = details.errno === 1045 || details.errno === 1044;
    return new FerryError(
      auth ? 'AUTH_FAILED' : 'CONNECTION_FAILED',
      `${auth ? 'MySQL refused the credentials' : 'Cannot connect to MySQL'}: ${message}`,
      { driverCode: details.code },
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
