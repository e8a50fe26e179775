/**
 * One measured job of `npm run bench`, run in its own process so that its peak RSS
 * (process.resourceUsage().maxRSS) is the job's alone: the parent generates the data and starts emulators.
 * `tsx scripts/bench/child.ts '<job as JSON>'` prints one line of JSON (a ChildResult) on stdout.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createConnector } from '../../src/connectors/registry.js';
import { boundHeapGrowth } from '../../src/core/heap.js';
import type { Counts } from '../../src/core/progress.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine, type RunResult } from '../../src/engine/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { proposeMapping } from '../../src/project/propose-mapping.js';
import type { ConnectionConfig, ProjectFile } from '../../src/project/types.js';
import { SOURCE_COLUMNS, SOURCE_POSTGRES_DDL, SOURCE_SQLITE_DDL, SOURCE_TABLES } from '../../src/sample/index.js';

export type ChildJob =
  /** Full migration with the mapping `ferry map` proposes (sample source -> demo target). */
  | { kind: 'full'; dir: string; source: ConnectionConfig; target: ConnectionConfig; pageSize: number; dryRun?: boolean; ledger?: string }
  /** Delta (create new + update changed) over the ledger of an earlier `full` in the same dir. */
  | { kind: 'delta'; dir: string; source: ConnectionConfig; target: ConnectionConfig; pageSize: number }
  /** Plain copy of every source table into an empty table of the same shape, no engine. */
  | { kind: 'copy-sqlite'; source: string; target: string }
  | { kind: 'copy-postgres'; source: string; target: string }
  /** A match run with a given project (contacts by e-mail, or the HubSpot project). */
  | { kind: 'project'; dir: string; project: ProjectFile; command: 'match' | 'migrate' };

export interface ChildResult {
  /** Seconds of the measured work alone (the run, or the copy). */
  seconds: number;
  /** Seconds from connector creation to the end (describe, mapping and run). */
  totalSeconds: number;
  /** Entity records read (engine), or rows copied excluding the deal_contacts join table (baseline). */
  records: number;
  counts?: Record<string, Counts>;
  status?: string;
  peakRssMb: number;
  /** CPU seconds (user + system) of the whole child: steadier than wall time on a shared machine. */
  cpuSeconds?: number;
  /** Largest V8 heap in use seen (sampled every 100 ms): what of the peak RSS is JavaScript objects. */
  peakHeapMb?: number;
}

const BASELINE_BATCH = 10_000;
const POSTGRES_ROWS = 500;

function sum(counts: Record<string, Counts>, key: keyof Counts): number {
  return Object.values(counts).reduce((total, each) => total + each[key], 0);
}

async function runEngine(job: Extract<ChildJob, { kind: 'full' | 'delta' }>): Promise<ChildResult> {
  const begun = process.hrtime.bigint();
  const source = createConnector(job.source, { baseDir: job.dir, role: 'source' });
  const target = createConnector(job.target, { baseDir: job.dir, role: 'target' });
  const ledger = await Ledger.open(('ledger' in job ? job.ledger : undefined) ?? join(job.dir, 'state.db'));
  let closed = false;
  try {
    const sourceSchema = await source.describe();
    const targetSchema = await target.describe();
    const options = { demoSampleSize: 5, pageSize: job.pageSize };
    const base: ProjectFile = { version: 1, source: job.source, target: job.target, sourceTimeZone: 'UTC', objects: [], options };
    const draft = new Engine({ project: base, source, target, ledger, progress: new ProgressStream(), sourceSchema, targetSchema });
    const { project } = await proposeMapping({
      sourceSchema,
      targetSchema,
      source: job.source,
      target: job.target,
      sampleValues: (object, field) => draft.sampleSourceValues(object, field),
    });
    project.options.pageSize = job.pageSize;
    const engine = new Engine({ project, source, target, ledger, progress: new ProgressStream(), sourceSchema, targetSchema });
    const started = process.hrtime.bigint();
    const result = job.kind === 'full' ? await engine.migrate({ dryRun: job.dryRun === true }) : await engine.delta({ createNew: true, updateChanged: true });
    // Closing is part of the run's time, as it is of the CLI command: closing the SQLite ledger writes its
    // write-ahead log back into the database file (the last checkpoint).
    await closeAll();
    return finish(result, started, begun);
  } finally {
    await closeAll();
  }

  async function closeAll(): Promise<void> {
    if (closed) return;
    closed = true;
    await source.close();
    await target.close();
    await ledger.close();
  }
}

async function runProject(job: Extract<ChildJob, { kind: 'project' }>): Promise<ChildResult> {
  const begun = process.hrtime.bigint();
  const source = createConnector(job.project.source, { baseDir: job.dir, role: 'source' });
  const target = createConnector(job.project.target, { baseDir: job.dir, role: 'target' });
  const ledger = await Ledger.open(join(job.dir, 'state.db'));
  try {
    const engine = new Engine({ project: job.project, source, target, ledger, progress: new ProgressStream() });
    await engine.objectPlans(); // describe both sides before the clock starts
    const started = process.hrtime.bigint();
    const result = job.command === 'match' ? await engine.match() : await engine.migrate();
    return finish(result, started, begun);
  } finally {
    await source.close();
    await target.close();
    await ledger.close();
  }
}

function finish(result: RunResult, started: bigint, begun: bigint): ChildResult {
  const end = process.hrtime.bigint();
  return {
    seconds: Number(end - started) / 1e9,
    totalSeconds: Number(end - begun) / 1e9,
    records: sum(result.counts, 'read'),
    counts: result.counts,
    status: result.status,
    peakRssMb: 0,
  };
}

/** The fastest plain copy with better-sqlite3: one prepared INSERT per table, 10,000 rows per transaction. */
function copySqlite(job: Extract<ChildJob, { kind: 'copy-sqlite' }>): ChildResult {
  const source = new Database(job.source, { readonly: true });
  const target = new Database(job.target);
  try {
    target.pragma('journal_mode = WAL');
    for (const table of SOURCE_TABLES) target.exec(SOURCE_SQLITE_DDL[table]);
    const started = process.hrtime.bigint();
    let records = 0;
    for (const table of SOURCE_TABLES) {
      const columns = SOURCE_COLUMNS[table];
      const select = source.prepare(`SELECT ${columns.join(', ')} FROM ${table}`).raw(true);
      const insert = target.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      const write = target.transaction((rows: unknown[][]) => {
        for (const row of rows) insert.run(row);
      });
      let batch: unknown[][] = [];
      for (const row of select.iterate() as Iterable<unknown[]>) {
        batch.push(row);
        if (batch.length === BASELINE_BATCH) {
          write(batch);
          batch = [];
        }
      }
      write(batch);
      if (table !== 'deal_contacts') records += (source.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { seconds, totalSeconds: seconds, records, peakRssMb: 0 };
  } finally {
    source.close();
    target.close();
  }
}

/**
 * The fastest plain copy with pg: keyset pages of 10,000 rows read, written with a named (server-side
 * prepared) multi-row INSERT of 500 rows, one transaction per page.
 */
async function copyPostgres(job: Extract<ChildJob, { kind: 'copy-postgres' }>): Promise<ChildResult> {
  const source = new pg.Client({ connectionString: job.source });
  const target = new pg.Client({ connectionString: job.target });
  await source.connect();
  await target.connect();
  try {
    for (const table of SOURCE_TABLES) await target.query(SOURCE_POSTGRES_DDL[table]);
    const started = process.hrtime.bigint();
    let records = 0;
    for (const table of SOURCE_TABLES) {
      const columns = SOURCE_COLUMNS[table];
      const key = table === 'deal_contacts' ? ['deal_id', 'contact_id'] : ['id'];
      const statement = (rows: number) => {
        const values: string[] = [];
        for (let r = 0; r < rows; r++) values.push(`(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
        return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`;
      };
      const full = statement(POSTGRES_ROWS);
      let after: unknown[] | undefined;
      for (;;) {
        const where = after ? `WHERE (${key.join(', ')}) > (${key.map((_, i) => `$${i + 1}`).join(', ')})` : '';
        const page = await source.query({
          text: `SELECT ${columns.join(', ')} FROM ${table} ${where} ORDER BY ${key.join(', ')} LIMIT ${BASELINE_BATCH}`,
          values: after ?? [],
          rowMode: 'array',
        });
        const rows = page.rows as unknown[][];
        if (rows.length === 0) break;
        await target.query('BEGIN');
        for (let offset = 0; offset < rows.length; offset += POSTGRES_ROWS) {
          const chunk = rows.slice(offset, offset + POSTGRES_ROWS);
          const values = chunk.flat();
          if (chunk.length === POSTGRES_ROWS) await target.query({ name: `bench_${table}`, text: full, values });
          else await target.query(statement(chunk.length), values);
        }
        await target.query('COMMIT');
        if (table !== 'deal_contacts') records += rows.length;
        const last = rows[rows.length - 1]!;
        after = key.map((column) => last[columns.indexOf(column)]);
        if (rows.length < BASELINE_BATCH) break;
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { seconds, totalSeconds: seconds, records, peakRssMb: 0 };
  } finally {
    await source.end();
    await target.end();
  }
}

async function run(job: ChildJob): Promise<ChildResult> {
  switch (job.kind) {
    case 'full':
    case 'delta':
      return runEngine(job);
    case 'copy-sqlite':
      return copySqlite(job);
    case 'copy-postgres':
      return copyPostgres(job);
    case 'project':
      return runProject(job);
  }
}

let peakHeap = 0;
const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 100);
sampler.unref();
// As bin/ferry.js does, so the figures are those of the shipped CLI (FERRY_HEAP_GROWING_PERCENT=0 measures V8's own heuristics).
boundHeapGrowth();
const result = await run(JSON.parse(process.argv[2] ?? '{}') as ChildJob);
clearInterval(sampler);
result.peakHeapMb = Math.round(Math.max(peakHeap, process.memoryUsage().heapUsed) / 2 ** 20);
result.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
const cpu = process.cpuUsage();
result.cpuSeconds = Math.round((cpu.user + cpu.system) / 1e4) / 100;
process.stdout.write(`${JSON.stringify(result)}\n`);
