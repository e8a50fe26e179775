import pg from 'pg';
import { FerryError } from '../../core/errors.js';
import {
  quoteWith,
  redactSecret,
  type ClassifiedError,
  type ColumnKind,
  type QueryResult,
  type RawColumn,
  type RawTable,
  type Row,
  type SqlDialect,
  type SqlSession,
} from './dialect.js';

export interface PostgresDialectOptions {
  url: string;
  schema: string;
}

/**
 * Type OIDs kept as the server's text: dates and timestamps (pg would read `timestamp` in the process's
 * zone), json (kept as text, the `json` field convention), int8 and numeric (converted by the connector).
 * Set per pool so other pg users in the process are not affected.
 */
const RAW_TEXT_OIDS = new Set([1082, 1083, 1114, 1184, 1266, 114, 3802, 20, 1700]);

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    RAW_TEXT_OIDS.has(oid) ? (value: string) => value : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const STRING_TYPES = new Set(['varchar', 'bpchar', 'text', 'uuid', 'citext', 'name', 'inet', 'cidr', 'macaddr', 'time', 'timetz', 'xml']);

function columnKind(typeName: string, typeType: string): ColumnKind {
  if (typeType === 'e') return 'enum';
  if (['int2', 'int4', 'int8'].includes(typeName)) return 'integer';
  if (['numeric', 'float4', 'float8'].includes(typeName)) return 'number';
  if (typeName === 'bool') return 'boolean';
  if (typeName === 'date') return 'date';
  if (typeName === 'timestamptz') return 'datetime-utc';
  if (typeName === 'timestamp') return 'datetime-naive';
  if (typeName === 'json' || typeName === 'jsonb') return 'json';
  if (STRING_TYPES.has(typeName)) return 'string';
  return 'unsupported';
}

const INTROSPECT_COLUMNS = `
SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS declared_type,
       quote_ident(tn.nspname) || '.' || quote_ident(t.typname) AS parameter_type,
       t.typname AS type_name, t.typtype AS type_type, a.attnotnull AS not_null, a.atthasdef AS has_default,
       a.attidentity AS identity, a.attgenerated AS generated, pg_get_expr(d.adbin, d.adrelid) AS default_expression,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS enum_values
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname, a.attnum`;

/**
 * The allowed values of a CHECK constraint that PostgreSQL stores for `col IN ('a', 'b')`, as
 * pg_get_constraintdef prints it: `CHECK ((col = ANY (ARRAY['a'::text, 'b'::text])))`, with casts of the
 * column and the array for varchar columns. Anything else (ranges, functions, OR of several columns) is
 * not a picklist: undefined.
 */
export function checkInValues(definition: string): string[] | undefined {
  const match = /^CHECK \(\(*(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)\)?(?:::[\w ]+)? = ANY \(\(?ARRAY\[((?:\s*'(?:[^']|'')*'::[\w ]+(?:\([\d, ]+\))?\s*,?)+)\](?:\)::[\w ]+\[\])?\)\)\)$/s.exec(definition.trim());
  if (!match) return undefined;
  const values: string[] = [];
  const literal = /\s*'((?:[^']|'')*)'::[\w ]+(?:\([\d, ]+\))?\s*(,|$)/gy;
  let position = 0;
  const list = match[1]!;
  while (position < list.length) {
    literal.lastIndex = position;
    const item = literal.exec(list);
    if (!item) return undefined;
    values.push(item[1]!.replace(/''/g, "'"));
    position = literal.lastIndex;
  }
  return values.length > 0 ? values : undefined;
}

const INTROSPECT_CONSTRAINTS = `
SELECT con.conname AS constraint_name, con.contype AS constraint_type, c.relname AS table_name,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord) AS columns,
       fc.relname AS ref_table, fn.nspname AS ref_schema,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord) AS ref_columns,
       CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid) END AS definition
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'f', 'c')`;

const INTROSPECT_UNIQUE_INDEXES = `
SELECT i.relname AS index_name, c.relname AS table_name, a.attname AS column_name
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
WHERE n.nspname = $1 AND x.indisunique AND x.indnatts = 1 AND x.indpred IS NULL AND x.indexprs IS NULL`;

export class PostgresDialect implements SqlDialect {
  readonly name = 'postgres' as const;
  readonly supportsReturning = true;
  readonly supportsUpdateFrom = true;
  readonly valuesNeedCasts = true;
  readonly externalIdColumnType = 'text';
  private readonly pool: pg.Pool;

  constructor(private readonly options: PostgresDialectOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      types,
      // Timestamps travel as text; a UTC session makes timestamptz text unambiguous.
      options: '-c TimeZone=UTC',
      max: 4,
      connectionTimeoutMillis: 15_000,
    });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  quoteIdentifier(name: string): string {
    return quoteWith('"', name);
  }

  tableName(table: string): string {
    return `${this.quoteIdentifier(this.options.schema)}.${this.quoteIdentifier(table)}`;
  }

  placeholder(index: number): string {
    return `$${index}`;
  }

  ascendingNullsFirst(expression: string): string {
    return `${expression} ASC NULLS FIRST`;
  }

  insertDefaultValues(quotedTable: string): string {
    return `INSERT INTO ${quotedTable} DEFAULT VALUES`;
  }

  booleanParameter(value: boolean): unknown {
    return value;
  }

  private static result(result: pg.QueryResult): QueryResult {
    return { rows: result.rows as Row[], affectedRows: result.rowCount ?? 0 };
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<QueryResult> {
    let result: pg.QueryResult;
    try {
      result = await this.pool.query(sql, params as unknown[]);
    } catch (error) {
      throw this.wrapConnectionFailure(error);
    }
    return PostgresDialect.result(result);
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.connectionError(error);
    }
    const session: SqlSession = {
      query: async (sql, params) => PostgresDialect.result(await client.query(sql, (params ?? []) as unknown[])),
    };
    try {
      await client.query('BEGIN');
      const result = await work(session);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async introspect(): Promise<RawTable[]> {
    const schema = this.options.schema;
    const [columns, constraints, indexes] = [
      (await this.query(INTROSPECT_COLUMNS, [schema])).rows,
      (await this.query(INTROSPECT_CONSTRAINTS, [schema])).rows,
      (await this.query(INTROSPECT_UNIQUE_INDEXES, [schema])).rows,
    ];
    const tables = new Map<string, RawTable>();
    const table = (name: string): RawTable => {
      let entry = tables.get(name);
      if (!entry) {
        entry = { name, columns: [], primaryKey: [], uniqueColumns: [], uniqueIndexes: {}, foreignKeys: [] };
        tables.set(name, entry);
      }
      return entry;
    };
    for (const row of columns) {
      const declaredType = String(row.declared_type);
      const typeName = String(row.type_name);
      const defaultExpression = row.default_expression === null ? undefined : String(row.default_expression);
      const length = /^(?:character varying|character)\((\d+)\)/.exec(declaredType);
      const fraction = /\((\d)\)/.exec(declaredType);
      const enumValues = row.enum_values as string[];
      table(String(row.table_name)).columns.push({
        name: String(row.column_name),
        declaredType,
        parameterType: String(row.parameter_type),
        kind: columnKind(typeName, String(row.type_type)),
        nullable: row.not_null !== true,
        hasDefault: row.has_default === true || row.identity !== '',
        defaultExpression,
        autoIncrement: row.identity !== '' || row.generated !== '' || /^nextval\(/i.test(defaultExpression ?? ''),
        maxLength: length ? Number(length[1]) : undefined,
        enumValues: enumValues.length > 0 ? enumValues : undefined,
        fractionDigits: typeName.startsWith('timestamp') ? Number(fraction?.[1] ?? 6) : undefined,
      } satisfies RawColumn);
    }
    for (const row of constraints) {
      const entry = tables.get(String(row.table_name));
      if (!entry) continue;
      const keyColumns = row.columns as string[];
      if (row.constraint_type === 'p') entry.primaryKey = keyColumns;
      if ((row.constraint_type === 'p' || row.constraint_type === 'u') && keyColumns.length === 1) {
        entry.uniqueColumns.push(keyColumns[0]!);
        entry.uniqueIndexes[String(row.constraint_name)] = keyColumns[0]!;
      }
      if (row.constraint_type === 'c' && keyColumns.length === 1) {
        // `CHECK (status IN ('a', 'b'))` on one column is a picklist, like an enum type.
        const values = checkInValues(String(row.definition ?? ''));
        const column = entry.columns.find((candidate) => candidate.name === keyColumns[0]);
        if (values && column && !column.enumValues && (column.kind === 'string' || column.kind === 'long-text')) {
          column.kind = 'enum';
          column.enumValues = values;
        }
      }
      const refColumns = row.ref_columns as string[];
      if (row.constraint_type === 'f' && keyColumns.length === 1 && row.ref_schema === schema) {
        entry.foreignKeys.push({ column: keyColumns[0]!, refTable: String(row.ref_table), refColumn: refColumns[0]! });
      }
    }
    for (const row of indexes) {
      const entry = tables.get(String(row.table_name));
      if (!entry) continue;
      const column = String(row.column_name);
      if (!entry.uniqueColumns.includes(column)) entry.uniqueColumns.push(column);
      entry.uniqueIndexes[String(row.index_name)] = column;
    }
    return [...tables.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async serverNow(): Promise<number> {
    const { rows } = await this.query('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms');
    return Math.floor(Number(rows[0]?.ms));
  }

  classifyError(error: unknown): ClassifiedError {
    const details = error as { code?: string; column?: string; constraint?: string; detail?: string };
    const message = redactSecret(error instanceof Error ? error.message : String(error), this.options.url);
    const keyColumn = /^Key \(([^)]*)\)=/.exec(details.detail ?? '')?.[1];
    switch (details.code) {
      case '23502':
        return { code: 'REQUIRED_MISSING', message, column: details.column };
      case '23505':
        return { code: 'UNIQUE_VIOLATION', message: details.detail ? `${message} (${details.detail})` : message, column: keyColumn, constraint: details.constraint };
      case '23514':
        return { code: 'INVALID_VALUE', message, constraint: details.constraint };
      case '23503':
        if (/still referenced/i.test(details.detail ?? '')) return { code: 'WRITE_FAILED', message: `${message} (${details.detail})` };
        return { code: 'REFERENCE_MISSING', message: details.detail ? `${message} (${details.detail})` : message, column: keyColumn };
      default:
        if (details.code?.startsWith('22')) return { code: 'INVALID_VALUE', message, column: details.column };
        return { code: 'WRITE_FAILED', message };
    }
  }

  private wrapConnectionFailure(error: unknown): unknown {
    const code = (error as { code?: string }).code ?? '';
    const message = error instanceof Error ? error.message : '';
    if (/^(28|3D|08)/.test(code) || /^E[A-Z]+$/.test(code) || (!code && /connect|terminat|timeout/i.test(message))) {
      return this.connectionError(error);
    }
    return error;
  }

  connectionError(error: unknown): Error {
    if (error instanceof FerryError) return error;
    const code = (error as { code?: string }).code ?? '';
    const message = redactSecret(error instanceof Error ? error.message : String(error), this.options.url);
    const ferryCode = code === '28P01' || code === '28000' ? 'AUTH_FAILED' : 'CONNECTION_FAILED';
    const what = ferryCode === 'AUTH_FAILED' ? 'PostgreSQL refused the credentials' : 'Cannot connect to PostgreSQL';
    return new FerryError(ferryCode, `${what}: ${message}`, { driverCode: code || undefined });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
