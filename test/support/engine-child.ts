/**
 * A separate process that runs one engine command on a project given as JSON, for tests that kill a run
 * (SIGKILL), run two processes on one ledger, or change the process time zone.
 *
 *   engine-child.ts <project.json> <baseDir> migrate|delta|undo [<runId>]
 *
 * Points where it stops itself (all counted from the start of this process):
 * - FERRY_TEST_KILL_AFTER_WRITES=N: SIGKILL right after the target answered its Nth write call (create,
 *   update or delete), before the ledger records the outcome: the worst moment.
 * - FERRY_TEST_KILL_AT=<op>:<n>[:before|after] (op: create, update, link, delete, or write = any of them):
 *   SIGKILL right before the Nth call of that kind reaches the target, or right after its answer (default).
 *   `link` counts the updates of the link pass (references that point forward: cycles, self references),
 *   told apart by the journal entry written just before them; `update` counts every update (in an undo:
 *   the restores); `delete` in an undo the removal of created records; `read` counts the source's page
 *   reads (matching and writing), and is not part of `write`; `upload` counts the target's file uploads
 *   (docs/attachments.md), not part of `write` either: `upload:1` kills right after the first file is stored,
 *   before the ledger records it.
 * - FERRY_TEST_BATCH_SIZE=<n>: the target's batch sizes are at most n, so a pass takes many calls and a
 *   kill lands in the middle of it.
 * - FERRY_TEST_KILL_SCHEMA=<n>: SIGKILL right after the Nth schema statement (CREATE, ALTER, DROP) that
 *   opening the ledger runs (its migrations on a new ledger): SQLite's prepared statements and PostgreSQL
 *   queries are watched only while `Ledger.open` runs.
 * - FERRY_TEST_KILL_LEDGER=<method>[.<key>]:<n>: SIGKILL right after the Nth call of that ledger method
 *   (with `.key`: only calls with an argument object holding that key, e.g. updateRun.undoneByRunId).
 * - FERRY_TEST_HOLD_AT=<op>:<n>: right before the Nth call of that kind, tells the parent
 *   (`{ held: op, n, runId }` over IPC) and waits for its `continue` message. The run holds the ledger
 *   meanwhile: how the concurrency tests make a second process meet a running one, without sleeps.
 *
 * FERRY_TEST_SOURCE_NOW=<ISO instant> fixes the source's clock (the run's high-water mark);
 * FERRY_TEST_DELTA=<JSON DeltaOptions> sets the delta's modes and conflict policy (default: both modes).
 *
 * With FERRY_TEST_WRITE_LOG=<file>, every write call the target answered is appended to that file as one
 * JSON line `{ op, object, ids, ok }` (ids: target ids for update/delete, source ids for create), so a
 * test can tell that no record was deleted twice across killed and resumed attempts.
 *
 * Prints the run's result as JSON on stdout; a Ferry error is printed as `{ "error": { code, message } }`
 * with exit code 1 (and the message on stderr).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { createConnector, createSourceConnector } from '../../src/connectors/registry.js';
import type { Connector, WriteResult } from '../../src/core/connector.js';
import { toFerryError } from '../../src/core/errors.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine, type DeltaOptions } from '../../src/engine/index.js';
import { Ledger } from '../../src/ledger/index.js';
import type { ProjectFile } from '../../src/project/types.js';

type Op = 'create' | 'update' | 'link' | 'delete' | 'read' | 'upload';

const [projectPath, baseDir = process.cwd(), command, runArgument] = process.argv.slice(2);
const project = JSON.parse(readFileSync(projectPath!, 'utf8')) as ProjectFile;

interface Point {
  op: Op | 'write';
  n: number;
  when: 'before' | 'after';
}

function parsePoint(text: string | undefined, defaultWhen: Point['when']): Point | undefined {
  if (!text) return undefined;
  const [op, n, when] = text.split(':');
  if (!['create', 'update', 'link', 'delete', 'read', 'upload', 'write'].includes(op!) || !(Number(n) >= 1)) throw new Error(`bad kill point ${text}`);
  return { op: op as Point['op'], n: Number(n), when: (when as Point['when'] | undefined) ?? defaultWhen };
}

const killAfterWrites = Number(process.env.FERRY_TEST_KILL_AFTER_WRITES ?? 0);
const killAt = parsePoint(process.env.FERRY_TEST_KILL_AT, 'after');
const holdAt = parsePoint(process.env.FERRY_TEST_HOLD_AT, 'before');
const calls: Record<Point['op'], number> = { create: 0, update: 0, link: 0, delete: 0, read: 0, upload: 0, write: 0 };
const batchLimit = Number(process.env.FERRY_TEST_BATCH_SIZE ?? 0);
/** The action of the last journal entry the engine wrote through the ledger (the link pass writes `link`). */
let lastJournalAction: string | undefined;
let currentRunId: number | undefined;

const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

const matches = (point: Point | undefined, op: Op, when: Point['when']): boolean =>
  point !== undefined &&
  point.when === when &&
  (point.op === op || (point.op === 'write' && op !== 'read' && op !== 'upload') || (point.op === 'update' && op === 'link')) &&
  calls[point.op] === point.n;

async function hold(op: Op): Promise<void> {
  if (!process.send) throw new Error('FERRY_TEST_HOLD_AT needs an IPC channel to the parent');
  await new Promise<void>((resolve) => {
    const onMessage = (message: unknown) => {
      if (message !== 'continue') return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
    process.send!({ held: op, n: calls[op], runId: currentRunId });
  });
}

const writeLog = process.env.FERRY_TEST_WRITE_LOG;

function watched(connector: Connector): Connector {
  if (!killAfterWrites && !killAt && !holdAt && !writeLog && !batchLimit) return connector;
  const call = async <T extends WriteResult[]>(op: Op, object: string, ids: string[], work: () => Promise<T>): Promise<T> => {
    calls[op] += 1;
    if (op === 'link') calls.update += 1;
    calls.write += 1;
    if (matches(holdAt, op, 'before')) await hold(op);
    if (matches(killAt, op, 'before')) die();
    const result = await work();
    if (writeLog) appendFileSync(writeLog, `${JSON.stringify({ op, object, ids, ok: result.map((entry) => entry.ok) })}\n`);
    if (killAfterWrites && calls.write >= killAfterWrites) die();
    if (matches(killAt, op, 'after')) die();
    return result;
  };
  return {
    kind: connector.kind,
    capabilities: () => {
      const capabilities = connector.capabilities();
      if (!batchLimit) return capabilities;
      const limit = (size: number) => Math.min(size, batchLimit);
      const { batchSize } = capabilities;
      return { ...capabilities, batchSize: { read: limit(batchSize.read), create: limit(batchSize.create), update: limit(batchSize.update), delete: limit(batchSize.delete) } };
    },
    check: () => connector.check(),
    describe: () => connector.describe(),
    read: (object, options) => connector.read(object, options),
    readByIds: (object, ids, fields) => connector.readByIds(object, ids, fields),
    create: (object, inputs) => call('create', object, inputs.map((input) => input.ref), () => connector.create(object, inputs)),
    update: (object, inputs) => call(lastJournalAction === 'link' ? 'link' : 'update', object, inputs.map((input) => input.id), () => connector.update(object, inputs)),
    delete: (object, ids) => call('delete', object, ids, () => connector.delete(object, ids)),
    ensureExternalId: connector.ensureExternalId?.bind(connector),
    findByExternalIds: connector.findByExternalIds?.bind(connector),
    now: connector.now?.bind(connector),
    ...(connector.files ? { files: watchedFiles(connector.files) } : {}),
    close: () => connector.close(),
  };
}

/** The target's file side, with the `upload` kill points applied (the methods keep their `this`). */
function watchedFiles(files: NonNullable<Connector['files']>): NonNullable<Connector['files']> {
  return new Proxy(files, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => Promise<unknown>;
      if (property !== 'upload') return fn.bind(target);
      return async (...args: unknown[]) => {
        calls.upload += 1;
        if (matches(killAt, 'upload', 'before')) die();
        const result = await fn.apply(target, args);
        if (matches(killAt, 'upload', 'after')) die();
        return result;
      };
    },
  });
}

/** The ledger, with FERRY_TEST_KILL_LEDGER applied and the run id noted (for the hold message). */
function watchedLedger(ledger: Ledger): Ledger {
  const spec = process.env.FERRY_TEST_KILL_LEDGER;
  const [name, n] = spec ? spec.split(':') : [];
  const [method, key] = (name ?? '').split('.');
  let seen = 0;
  return new Proxy(ledger, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (property === 'addJournal') {
        return async (...args: unknown[]) => {
          const entries = args[0] as { action: string }[];
          if (entries.length > 0) lastJournalAction = entries[entries.length - 1]!.action;
          const result = await fn.apply(target, args);
          if (property === method && afterLedgerCall(args)) die();
          return result;
        };
      }
      if (property === 'createRun' || property === 'updateRun') {
        return async (...args: unknown[]) => {
          const result = await fn.apply(target, args);
          if (property === 'createRun') currentRunId ??= (result as { id: number }).id;
          else if (currentRunId === undefined && typeof args[1] === 'object' && args[1] && (args[1] as { status?: string }).status === 'running') currentRunId = args[0] as number;
          if (property === method && afterLedgerCall(args)) die();
          return result;
        };
      }
      if (property !== method) return fn.bind(target);
      return async (...args: unknown[]) => {
        const result = await fn.apply(target, args);
        if (afterLedgerCall(args)) die();
        return result;
      };
    },
  });

  function afterLedgerCall(args: unknown[]): boolean {
    if (key && !args.some((arg) => typeof arg === 'object' && arg !== null && key in arg)) return false;
    seen += 1;
    return seen === Number(n);
  }
}

/** The source, with FERRY_TEST_KILL_AT=read:<n>[:before|after] applied to its page reads. */
function watchedSource(connector: Connector): Connector {
  if (killAt?.op !== 'read') return connector;
  const read = connector.read.bind(connector);
  connector.read = async (object, options) => {
    calls.read += 1;
    if (matches(killAt, 'read', 'before')) die();
    const page = await read(object, options);
    if (matches(killAt, 'read', 'after')) die();
    return page;
  };
  return connector;
}

/** Opens the ledger with FERRY_TEST_KILL_SCHEMA applied to the statements its migrations run. */
async function openLedger(): Promise<Ledger> {
  const killAfter = Number(process.env.FERRY_TEST_KILL_SCHEMA ?? 0);
  if (!killAfter) return Ledger.open(project.state!, { baseDir });
  let seen = 0;
  let opening = true;
  const isSchema = (sql: unknown) => typeof sql === 'string' && /^\s*(create|alter|drop)\b/i.test(sql);
  const counted = () => {
    if (!opening) return;
    seen += 1;
    if (seen === killAfter) die();
  };
  const prepare = SqliteDatabase.prototype.prepare;
  const query = pg.Client.prototype.query;
  SqliteDatabase.prototype.prepare = function (this: SqliteDatabase.Database, sql: string) {
    const statement = prepare.call(this, sql);
    if (!isSchema(sql)) return statement;
    const run = statement.run.bind(statement) as (...args: unknown[]) => SqliteDatabase.RunResult;
    statement.run = (...args: unknown[]) => {
      const result = run(...args);
      counted();
      return result;
    };
    return statement;
  } as typeof prepare;
  pg.Client.prototype.query = async function (this: pg.Client, ...args: unknown[]) {
    const result: unknown = await (query as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    const config = args[0];
    if (isSchema(typeof config === 'object' && config !== null ? (config as { text?: string }).text : config)) counted();
    return result;
  } as typeof query;
  try {
    return await Ledger.open(project.state!, { baseDir });
  } finally {
    opening = false;
    SqliteDatabase.prototype.prepare = prepare;
    pg.Client.prototype.query = query;
  }
}

const ledger = watchedLedger(await openLedger());
const source = watchedSource(createSourceConnector(project, { baseDir }));
// FERRY_TEST_SOURCE_NOW: the source's clock (the run's high-water mark), fixed by the test.
const fixedNow = process.env.FERRY_TEST_SOURCE_NOW;
if (fixedNow) source.now = () => Promise.resolve(fixedNow);
const target = watched(createConnector(project.target, { baseDir, role: 'target' }));
const engine = new Engine({ project, source, target, ledger, progress: new ProgressStream() });
try {
  const result =
    command === 'delta'
      ? // FERRY_TEST_DELTA: the delta's options as JSON (default: both modes).
        await engine.delta(process.env.FERRY_TEST_DELTA ? (JSON.parse(process.env.FERRY_TEST_DELTA) as DeltaOptions) : { createNew: true, updateChanged: true })
      : command === 'undo'
        ? await engine.undo(Number(runArgument))
        : await engine.migrate();
  process.stdout.write(JSON.stringify(result));
} catch (error) {
  const fatal = toFerryError(error);
  process.stdout.write(JSON.stringify({ error: { code: fatal.code, message: fatal.message } }));
  process.stderr.write(`${fatal.code}: ${fatal.message}\n`);
  process.exitCode = 1;
} finally {
  await source.close();
  await target.close();
  await ledger.close();
  process.disconnect?.();
}
