/**
 * The scenarios of `npm run bench` (issue 6). The parent process generates data and runs emulators; every
 * measured migration or copy runs in a child process (child.ts) so its peak RSS is its own.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createHubspotConnector } from '../../src/connectors/hubspot/index.js';
import { startHubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { startPipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import { createSalesforceConnector } from '../../src/connectors/salesforce/index.js';
import { startSalesforceEmulator } from '../../src/emulators/salesforce/index.js';
import type { ProjectFile } from '../../src/project/types.js';
import { copyField, objectMapping } from '../../src/project/project-file.js';
import {
  applySourceChanges,
  createDemoTargetPostgres,
  createDemoTargetSqlite,
  sampleCounts,
  sampleToHubspotObjects,
  sampleToPipedriveObjects,
  sampleToSalesforceObjects,
  writeSampleCsv,
  writeSamplePostgres,
  writeSampleSqlite,
} from '../../src/sample/index.js';
import { createPostgresDatabase, type TempDatabase } from '../../test/support/databases.js';
import type { ChildJob, ChildResult } from './child.js';

export const SEED = 7;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The measured children run compiled JavaScript with plain `node`, as `bin/ferry.js` does for users: under
 * tsx a process carries ~60 MB more RSS (its loader and the transformed sources), which is not Ferry's.
 * `compileChild()` builds child.ts and the sources it imports into .bench-build/ (tsconfig.bench.json).
 */
const CHILD = join(ROOT, '.bench-build/scripts/bench/child.js');

let childArgs: string[] = [];

export function compileChild(options: Pick<BenchOptions, 'log' | 'heapCapMb' | 'cpuProfileDir'>): void {
  options.log('compiling the bench child (tsconfig.bench.json -> .bench-build/)');
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.bench.json')], { stdio: 'inherit' });
  childArgs = [
    ...(options.heapCapMb ? [`--max-old-space-size=${options.heapCapMb}`] : []),
    ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
  ];
}

/** One target of issue 6 beside a figure: pass is undefined when the figure cannot decide it at this size. */
export interface TargetCheck {
  target: string;
  figure: string;
  pass: boolean | undefined;
  note?: string;
}

export interface ScenarioResult {
  scenario: string;
  /** Records asked for (the --size), and what the run actually read or copied. */
  size: number;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssMb: number;
  baseline?: { name: string; records: number; seconds: number; recordsPerSecond: number; peakRssMb: number; cpuSeconds?: number };
  /** recordsPerSecond / baseline.recordsPerSecond (or the scenario's own ratio, e.g. delta / full time). */
  ratio?: number;
  ratioOf?: string;
  details: Record<string, unknown>;
  targets: TargetCheck[];
}

export interface BenchOptions {
  size: number;
  pageSize: number;
  matchSize: number;
  apiSize: number;
  apiFactor: number;
  scalingSizes: number[];
  /** Measured children run with --max-old-space-size (MB): V8 then collects sooner (docs/performance.md). */
  heapCapMb?: number;
  /** Measured children write a V8 CPU profile (.cpuprofile) each into this folder. */
  cpuProfileDir?: string;
  log: (line: string) => void;
}

// ---- helpers

/** Entity records (owners, companies, contacts, deals, notes, tasks) of the sample with `contacts` contacts. */
export function recordsFor(contacts: number): number {
  return Object.values(sampleCounts(contacts)).reduce((total, n) => total + n, 0);
}

/** The contacts count whose sample has about `records` entity records in all. */
export function contactsFor(records: number): number {
  let contacts = Math.max(1, Math.round(records / 2.42));
  while (recordsFor(contacts) < records) contacts += 1;
  while (contacts > 1 && recordsFor(contacts - 1) >= records) contacts -= 1;
  return contacts;
}

function runChild(job: ChildJob): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childArgs, CHILD, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`bench child (${job.kind}) exited with ${code}:\n${stderr.slice(-4000)}${stdout.slice(-1000)}`));
        return;
      }
      resolve(JSON.parse(last) as ChildResult);
    });
  });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ferry-bench-'));
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const rate = (records: number, seconds: number) => (seconds > 0 ? Math.round(records / seconds) : 0);
const pct = (value: number) => `${round(value * 100, 1)}%`;
const sumCounts = (counts: ChildResult['counts'], key: 'read' | 'created' | 'updated' | 'matched' | 'failed' | 'unchanged') =>
  Object.values(counts ?? {}).reduce((total, each) => total + each[key], 0);

function memoryTarget(size: number, peakRssMb: number): TargetCheck {
  // The issue states it at 1,000,000 records; below that a figure over 300 MB already misses it.
  const decided = size >= 1_000_000 || peakRssMb >= 300;
  return {
    target: 'peak RSS < 300 MB at 1M records',
    figure: `${peakRssMb} MB at ${size.toLocaleString('en-US')}`,
    pass: decided ? peakRssMb < 300 : undefined,
    note: decided ? undefined : 'not decided below 1M',
  };
}

// ---- 1. full migration, with its plain-copy baseline

export interface FullRun {
  result: ScenarioResult;
  dir: string;
  contacts: number;
  sourcePath: string;
}

const sqliteConfig = (path: string) => ({ connector: 'sql', dialect: 'sqlite', path });

export async function fullSqlite(options: BenchOptions, size: number, withBaseline: boolean, name = 'full-sqlite'): Promise<FullRun> {
  const dir = tempDir();
  const contacts = contactsFor(size);
  const sourcePath = join(dir, 'source.db');
  options.log(`${name}: generating ${contacts.toLocaleString('en-US')} contacts (~${recordsFor(contacts).toLocaleString('en-US')} records)`);
  await writeSampleSqlite(sourcePath, { seed: SEED, size: contacts });
  await createDemoTargetSqlite(join(dir, 'target.db'), { seed: SEED, size: contacts });
  let baseline: ScenarioResult['baseline'];
  if (withBaseline) {
    options.log(`${name}: baseline (plain copy, better-sqlite3)`);
    const copy = await runChild({ kind: 'copy-sqlite', source: sourcePath, target: join(dir, 'copy.db') });
    rmSync(join(dir, 'copy.db'), { force: true });
    baseline = { name: 'plain copy (better-sqlite3)', records: copy.records, seconds: round(copy.seconds), recordsPerSecond: rate(copy.records, copy.seconds), peakRssMb: copy.peakRssMb, cpuSeconds: copy.cpuSeconds };
  }
  options.log(`${name}: engine migrate`);
  const run = await runChild({ kind: 'full', dir, source: sqliteConfig('source.db'), target: sqliteConfig('target.db'), pageSize: options.pageSize });
  const result = engineResult(name, size, run, baseline);
  result.targets.push({ target: 'SQLite full >= 50,000 records/s', figure: result.recordsPerSecond.toLocaleString('en-US'), pass: result.recordsPerSecond >= 50_000 });
  if (result.ratio !== undefined) result.targets.push({ target: 'SQLite full >= 25% of plain copy', figure: pct(result.ratio), pass: result.ratio >= 0.25 });
  result.targets.push(memoryTarget(result.records, result.peakRssMb));
  return { result, dir, contacts, sourcePath };
}

// ---- dry run of a large CSV export: must stream like the real run (issue 12)

/**
 * The same CSV export (the sample data set written as CSV files, `--size` records in all) into the demo
 * SQLite target, once as `migrate --dry-run` and once for real, each in its own child: prints both peak
 * heaps. A dry run keeps what later records of the run need (where a created record would be) in a
 * disk-backed overlay, not in memory, so its heap must stay near the real run's.
 */
export async function dryRunCsv(options: BenchOptions): Promise<ScenarioResult[]> {
  const dir = tempDir();
  try {
    const contacts = contactsFor(options.size);
    options.log(`dry-run-csv: writing ${contacts.toLocaleString('en-US')} contacts (~${recordsFor(contacts).toLocaleString('en-US')} records) as CSV`);
    await writeSampleCsv(join(dir, 'export'), { seed: SEED, size: contacts });
    await createDemoTargetSqlite(join(dir, 'target.db'), { seed: SEED, size: contacts });
    const source = { connector: 'csv', path: 'export', objects: { companies: { references: { parent_company_id: 'companies' } } } };
    options.log('dry-run-csv: migrate --dry-run');
    const dry = await runChild({ kind: 'full', dir, source, target: sqliteConfig('target.db'), pageSize: options.pageSize, dryRun: true });
    rmSync(join(dir, 'state.db'), { force: true });
    options.log('dry-run-csv: migrate (for real, the reference)');
    const real = await runChild({ kind: 'full', dir, source, target: sqliteConfig('target.db'), pageSize: options.pageSize });
    const dryResult = engineResult('dry-run-csv', options.size, dry, undefined);
    const realResult = engineResult('full-csv', options.size, real, undefined);
    const ratio = real.peakHeapMb ? (dry.peakHeapMb ?? 0) / real.peakHeapMb : undefined;
    dryResult.targets.push({
      target: 'dry run peak heap <= 1.5 x the real run (streams, issue 12)',
      figure: `${dry.peakHeapMb} MB vs ${real.peakHeapMb} MB`,
      pass: ratio === undefined ? undefined : ratio <= 1.5,
    });
    dryResult.targets.push(memoryTarget(dryResult.records, dryResult.peakRssMb));
    return [dryResult, realResult];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function engineResult(scenario: string, size: number, run: ChildResult, baseline: ScenarioResult['baseline']): ScenarioResult {
  const recordsPerSecond = rate(run.records, run.seconds);
  return {
    scenario,
    size,
    records: run.records,
    seconds: round(run.seconds),
    recordsPerSecond,
    peakRssMb: run.peakRssMb,
    baseline,
    ratio: baseline ? round(recordsPerSecond / baseline.recordsPerSecond, 3) : undefined,
    ratioOf: baseline ? 'records/s of the plain copy' : undefined,
    details: {
      status: run.status,
      created: sumCounts(run.counts, 'created'),
      updated: sumCounts(run.counts, 'updated'),
      matched: sumCounts(run.counts, 'matched'),
      unchanged: sumCounts(run.counts, 'unchanged'),
      failed: sumCounts(run.counts, 'failed'),
      secondsWithSetup: round(run.totalSeconds),
      // CPU seconds of the whole child (set-up included) and its largest JavaScript heap: steadier than
      // wall time and RSS when other work shares the machine.
      cpuSeconds: run.cpuSeconds,
      peakHeapMb: run.peakHeapMb,
      byObject: run.counts,
    },
    targets: [],
  };
}

export async function fullPostgres(options: BenchOptions): Promise<ScenarioResult> {
  const contacts = contactsFor(options.size);
  const databases: TempDatabase[] = [];
  const dir = tempDir();
  try {
    const [source, target, copy] = [await createPostgresDatabase('ferry_bench'), await createPostgresDatabase('ferry_bench'), await createPostgresDatabase('ferry_bench')];
    databases.push(source, target, copy);
    options.log(`full-postgres: generating ${contacts.toLocaleString('en-US')} contacts`);
    await writeSamplePostgres(source.url, { seed: SEED, size: contacts });
    await createDemoTargetPostgres(target.url, { seed: SEED, size: contacts });
    options.log('full-postgres: baseline (plain copy, pg)');
    const plain = await runChild({ kind: 'copy-postgres', source: source.url, target: copy.url });
    const baseline = { name: 'plain copy (pg)', records: plain.records, seconds: round(plain.seconds), recordsPerSecond: rate(plain.records, plain.seconds), peakRssMb: plain.peakRssMb, cpuSeconds: plain.cpuSeconds };
    options.log('full-postgres: engine migrate');
    const run = await runChild({
      kind: 'full',
      dir,
      source: { connector: 'sql', dialect: 'postgres', url: source.url },
      target: { connector: 'sql', dialect: 'postgres', url: target.url },
      pageSize: options.pageSize,
    });
    const result = engineResult('full-postgres', options.size, run, baseline);
    result.targets.push({ target: 'full PostgreSQL -> PostgreSQL >= 25% of its plain copy (ledger: SQLite file)', figure: pct(result.ratio ?? 0), pass: (result.ratio ?? 0) >= 0.25 });
    // The same run with the ledger on PostgreSQL too (as workers use it): a fresh target, a ledger database.
    options.log('full-postgres: engine migrate, ledger on PostgreSQL');
    const [freshTarget, ledgerDb] = [await createPostgresDatabase('ferry_bench'), await createPostgresDatabase('ferry_bench')];
    databases.push(freshTarget, ledgerDb);
    await createDemoTargetPostgres(freshTarget.url, { seed: SEED, size: contacts });
    const onPostgres = await runChild({
      kind: 'full',
      dir,
      source: { connector: 'sql', dialect: 'postgres', url: source.url },
      target: { connector: 'sql', dialect: 'postgres', url: freshTarget.url },
      pageSize: options.pageSize,
      ledger: ledgerDb.url,
    });
    const ledgerRate = rate(onPostgres.records, onPostgres.seconds);
    const ledgerRatio = round(ledgerRate / baseline.recordsPerSecond, 3);
    result.details = { ...result.details, postgresLedger: { seconds: round(onPostgres.seconds), recordsPerSecond: ledgerRate, ratio: ledgerRatio, cpuSeconds: onPostgres.cpuSeconds, peakRssMb: onPostgres.peakRssMb } };
    result.targets.push({ target: 'full PostgreSQL -> PostgreSQL >= 25% of its plain copy (ledger: PostgreSQL)', figure: `${pct(ledgerRatio)} (${ledgerRate.toLocaleString('en-US')} records/s)`, pass: ledgerRatio >= 0.25 });
    return result;
  } finally {
    for (const database of databases) await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 2. delta after a full migration

export async function delta(options: BenchOptions, full: FullRun): Promise<ScenarioResult> {
  const counts = sampleCounts(full.contacts);
  const changeable = counts.companies + counts.contacts + counts.deals;
  const share = (0.01 * recordsFor(full.contacts)) / changeable;
  const changedRecords = {
    companies: Math.round(counts.companies * share),
    contacts: Math.round(counts.contacts * share),
    deals: Math.round(counts.deals * share),
  };
  const changed = changedRecords.companies + changedRecords.contacts + changedRecords.deals;
  options.log(`delta: changing ${changed.toLocaleString('en-US')} source records (1%)`);
  await applySourceChanges(full.sourcePath, { seed: SEED + 1, newRecords: 0, changedRecords, at: new Date(Date.now() + 2000).toISOString() });
  await new Promise((resolve) => setTimeout(resolve, 2100)); // `at` must be in the past when the delta starts
  options.log('delta: engine delta --create-new --update-changed');
  const run = await runChild({ kind: 'delta', dir: full.dir, source: sqliteConfig('source.db'), target: sqliteConfig('target.db'), pageSize: options.pageSize });
  const result = engineResult('delta', full.result.size, run, undefined);
  const timeShare = run.seconds / full.result.seconds;
  const readShare = run.records / full.result.records;
  result.ratio = round(timeShare, 4);
  result.ratioOf = 'seconds of the full migration';
  result.details = { ...result.details, changedRecords: changed, readShareOfFull: round(readShare, 4) };
  result.targets.push({ target: 'delta < 5% of the full migration time', figure: `${pct(timeShare)} (${round(run.seconds)} s / ${full.result.seconds} s)`, pass: timeShare < 0.05 });
  result.targets.push({
    target: 'delta reads ~1% of the records (<= 1.5%, lookback included)',
    figure: `${pct(readShare)} (${run.records.toLocaleString('en-US')} read, ${changed.toLocaleString('en-US')} changed)`,
    pass: readShare <= 0.015,
  });
  return result;
}

// ---- 3. matching N x N contacts, 30% overlap

export async function match(options: BenchOptions): Promise<ScenarioResult> {
  const n = options.matchSize;
  const dir = tempDir();
  try {
    options.log(`match: writing ${n.toLocaleString('en-US')} source and ${n.toLocaleString('en-US')} target contacts`);
    const overlap = Math.round(n * 0.3);
    const write = (path: string, email: (i: number) => string) => {
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE contacts (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, updated_at TEXT)');
      const insert = db.prepare('INSERT INTO contacts (id, first_name, last_name, email, updated_at) VALUES (?, ?, ?, ?, ?)');
      db.transaction(() => {
        for (let i = 1; i <= n; i++) insert.run(i, `First${i % 997}`, `Last${i % 991}`, email(i), '2026-01-15 09:00:00');
      })();
      db.close();
    };
    // Target ids are a different permutation, and their e-mails differ in case: the key is normalised.
    write(join(dir, 'source.db'), (i) => `person${i}@example.com`);
    const prime = n % 7919 === 0 ? 7907 : 7919;
    write(join(dir, 'target.db'), (i) => {
      const j = ((i * prime) % n) + 1; // a permutation of 1..n (the prime does not divide n)
      return j <= overlap ? `Person${j}@Example.COM` : `other${i}@example.org`;
    });
    const project: ProjectFile = {
      version: 1,
      source: sqliteConfig('source.db'),
      target: sqliteConfig('target.db'),
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 5, pageSize: options.pageSize },
      objects: [
        objectMapping({
          source: 'contacts',
          target: 'contacts',
          fields: [copyField('first_name'), copyField('last_name'), copyField('email')],
          matchKeys: [{ source: 'email', target: 'email', kind: 'email' }],
        }),
      ],
    };
    options.log('match: engine match');
    const run = await runChild({ kind: 'project', dir, project, command: 'match' });
    const matched = sumCounts(run.counts, 'matched');
    const result: ScenarioResult = {
      scenario: 'match',
      size: n,
      records: n,
      seconds: round(run.seconds),
      recordsPerSecond: rate(n, run.seconds),
      peakRssMb: run.peakRssMb,
      details: { status: run.status, targetContacts: n, expectedMatches: overlap, matched, secondsWithSetup: round(run.totalSeconds), cpuSeconds: run.cpuSeconds, peakHeapMb: run.peakHeapMb },
      targets: [],
    };
    const share = n / 1_000_000;
    result.targets.push({
      target: n >= 1_000_000 ? 'match 1M x 1M < 30 s' : `match < 30 s at 1M (pro rata: < ${round(30 * share)} s at ${n.toLocaleString('en-US')})`,
      figure: `${result.seconds} s`,
      pass: result.seconds < 30 * Math.max(share, 0),
      note: n >= 1_000_000 ? undefined : 'linear extrapolation; matching is not guaranteed linear',
    });
    const decided = n >= 1_000_000 || run.peakRssMb >= 500;
    result.targets.push({ target: 'match 1M x 1M < 500 MB', figure: `${run.peakRssMb} MB at ${n.toLocaleString('en-US')}`, pass: decided ? run.peakRssMb < 500 : undefined, note: decided ? undefined : 'not decided below 1M' });
    if (matched !== overlap) result.targets.push({ target: 'matched = 30% overlap (sanity)', figure: `${matched} of ${overlap}`, pass: false });
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 4. SQL -> HubSpot emulator with scaled rate limits

const HUBSPOT_BATCH = 100;


export async function apiHubspot(options: BenchOptions): Promise<ScenarioResult> {
  const dir = tempDir();
  const factor = options.apiFactor;
  // HubSpot's default: 100 requests per rolling 10 s, search 5/s (the connector paces search at 4/s).
  const burst = Math.round(100 * factor);
  const hubspot = await startHubspotEmulator({ burstLimit: { requests: burst, intervalMs: 10_000 }, searchPerSecond: Math.floor(5 * factor) });
  try {
    const contacts = contactsFor(options.apiSize);
    options.log(`api-hubspot: ${contacts.toLocaleString('en-US')} contacts into the emulator at ${burst} requests / 10 s`);
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: contacts });
    const db = new Database(join(dir, 'source.db'), { readonly: true });
    for (const row of db.prepare('SELECT email FROM owners').all() as { email: string }[]) hubspot.store.addOwner({ email: row.email });
    db.close();
    const project: ProjectFile = {
      version: 1,
      source: sqliteConfig('source.db'),
      target: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: burst, searchPerSecond: Math.min(50, Math.floor(4 * factor)) },
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: options.pageSize },
      objects: sampleToHubspotObjects(),
    };
    const before = hubspot.stats.requests;
    const run = await runChild({ kind: 'project', dir, project, command: 'migrate' });
    const requests = hubspot.stats.requests - before;
    const requestsPerSecond = requests / run.totalSeconds;
    const boundRequests = burst / 10;
    const boundRecords = HUBSPOT_BATCH * boundRequests;
    const recordsPerSecond = rate(run.records, run.seconds);
    const byPath = Object.entries(hubspot.stats.byPath)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 24);
    const result: ScenarioResult = {
      scenario: 'api-hubspot',
      size: options.apiSize,
      records: run.records,
      seconds: round(run.seconds),
      recordsPerSecond,
      peakRssMb: run.peakRssMb,
      ratio: round(recordsPerSecond / boundRecords, 3),
      ratioOf: `rate-limit bound ${boundRecords.toLocaleString('en-US')} records/s (batch ${HUBSPOT_BATCH} x ${boundRequests} requests/s)`,
      details: {
        status: run.status,
        factor,
        burstLimit: `${burst} / 10 s`,
        requests,
        requestsPerSecond: round(requestsPerSecond, 1),
        requestShareOfBound: round(requestsPerSecond / boundRequests, 3),
        recordsPerRequest: round(run.records / requests, 1),
        status429: hubspot.stats.status429,
        created: sumCounts(run.counts, 'created'),
        failed: sumCounts(run.counts, 'failed'),
        secondsWithSetup: round(run.totalSeconds),
        topPaths: Object.fromEntries(byPath),
        byObject: run.counts,
      },
      targets: [],
    };
    const windowed = requests > burst;
    result.targets.push({
      target: 'API requests/s >= 90% of the rate-limit bound',
      figure: `${round(requestsPerSecond, 1)} of ${boundRequests} requests/s (${pct(requestsPerSecond / boundRequests)})`,
      pass: windowed ? requestsPerSecond >= 0.9 * boundRequests : undefined,
      note: windowed ? undefined : `only ${requests} requests: the run fits in one burst window, raise --api-size`,
    });
    result.targets.push({
      target: 'API records/s >= 90% of batch x requests/s',
      figure: `${recordsPerSecond.toLocaleString('en-US')} of ${boundRecords.toLocaleString('en-US')} records/s (${pct(recordsPerSecond / boundRecords)})`,
      pass: recordsPerSecond >= 0.9 * boundRecords,
    });
    result.targets.push({ target: 'API: a handful of 429s (<= 5)', figure: String(hubspot.stats.status429), pass: hubspot.stats.status429 <= 5 });
    return result;
  } finally {
    await hubspot.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 4b. SQL -> Pipedrive emulator: one record per request, against the burst window and the token budget

/**
 * The sample into the Pipedrive emulator (plan growth: 40 requests per rolling 2 s per API token, x
 * `--api-factor`). Pipedrive writes one record per request, so the bound is the burst window's requests/s;
 * the tokens spent per record say how far the company's daily budget (30,000 x 2 x seats on growth) goes.
 */
export async function apiPipedrive(options: BenchOptions): Promise<ScenarioResult> {
  const dir = tempDir();
  const factor = options.apiFactor;
  const burst = Math.round(40 * factor);
  const pipedrive = await startPipedriveEmulator({ port: 0, burstLimit: { requests: burst, intervalMs: 2000 }, dailyBudget: 100_000_000 });
  try {
    const contacts = contactsFor(options.apiSize);
    options.log(`api-pipedrive: ${contacts.toLocaleString('en-US')} contacts into the emulator at ${burst} requests / 2 s`);
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: contacts });
    const db = new Database(join(dir, 'source.db'), { readonly: true });
    for (const row of db.prepare('SELECT email FROM owners').all() as { email: string }[]) pipedrive.store.addUser({ name: row.email, email: row.email });
    db.close();
    const project: ProjectFile = {
      version: 1,
      source: sqliteConfig('source.db'),
      target: { connector: 'pipedrive', apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: burst, writeConcurrency: 8, dealParticipants: true },
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: options.pageSize },
      objects: sampleToPipedriveObjects(),
    };
    const before = { requests: pipedrive.stats.requests, tokens: pipedrive.stats.tokens };
    const run = await runChild({ kind: 'project', dir, project, command: 'migrate' });
    const requests = pipedrive.stats.requests - before.requests;
    const tokens = pipedrive.stats.tokens - before.tokens;
    const requestsPerSecond = requests / run.totalSeconds;
    const boundRequests = burst / 2;
    const recordsPerSecond = rate(run.records, run.seconds);
    const byPath = Object.entries(pipedrive.stats.tokensByPath)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 16);
    const result: ScenarioResult = {
      scenario: 'api-pipedrive',
      size: options.apiSize,
      records: run.records,
      seconds: round(run.seconds),
      recordsPerSecond,
      peakRssMb: run.peakRssMb,
      ratio: round(recordsPerSecond / boundRequests, 3),
      ratioOf: `burst bound ${boundRequests} requests/s (one record per request)`,
      details: {
        status: run.status,
        factor,
        burstLimit: `${burst} / 2 s`,
        requests,
        requestsPerSecond: round(requestsPerSecond, 1),
        requestShareOfBound: round(requestsPerSecond / boundRequests, 3),
        tokens,
        tokensPerRecord: round(tokens / Math.max(1, run.records), 2),
        recordsPerGrowthSeatDay: Math.floor(60_000 / Math.max(0.01, tokens / Math.max(1, run.records))),
        status429: pipedrive.stats.status429,
        created: sumCounts(run.counts, 'created'),
        failed: sumCounts(run.counts, 'failed'),
        secondsWithSetup: round(run.totalSeconds),
        topTokenPaths: Object.fromEntries(byPath),
        byObject: run.counts,
      },
      targets: [],
    };
    const windowed = requests > burst;
    result.targets.push({
      target: 'Pipedrive requests/s >= 90% of the burst bound',
      figure: `${round(requestsPerSecond, 1)} of ${boundRequests} requests/s (${pct(requestsPerSecond / boundRequests)})`,
      pass: windowed ? requestsPerSecond >= 0.9 * boundRequests : undefined,
      note: windowed ? undefined : `only ${requests} requests: the run fits in one burst window, raise --api-size`,
    });
    result.targets.push({ target: 'Pipedrive: a handful of 429s (<= 5)', figure: String(pipedrive.stats.status429), pass: pipedrive.stats.status429 <= 5 });
    return result;
  } finally {
    await pipedrive.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 4c. SQL -> Salesforce emulator (sObject Collections), then reads back (REST SOQL and Bulk API 2.0)

/**
 * The sample into the Salesforce emulator: creates are upserts of 200 records per request on the external id,
 * so the figure that matters is API calls per 1,000 records (the org's daily allocation is counted in calls).
 * Then the contacts are read back in-process by the connector, ordered through REST SOQL (2,000 a call) and in
 * any order through one Bulk API 2.0 query job (50,000 a results call). The emulator answers in-process: the
 * records/s are Ferry's and the emulator's CPU, not Salesforce's latency.
 */
export async function apiSalesforce(options: BenchOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const mode of ['collections', 'bulk'] as const) results.push(...(await apiSalesforceRun(options, mode)));
  return results;
}

/** One migration into a fresh emulator: collections of 200 (source pages of --page-size), or Bulk API 2.0 ingest (pages of 5,000); the collections run also reads back. */
async function apiSalesforceRun(options: BenchOptions, mode: 'collections' | 'bulk'): Promise<ScenarioResult[]> {
  const dir = tempDir();
  const external = { name: 'Ferry_Source_Id__c', type: 'string' as const, length: 80, externalId: true, unique: true };
  const salesforce = await startSalesforceEmulator({ port: 0, dailyApiRequests: 100_000_000, bulkStepsPerPoll: 1, customFields: { Account: [external], Contact: [external], Opportunity: [external], Task: [external] } });
  try {
    const contacts = contactsFor(options.apiSize);
    options.log(`api-salesforce (${mode}): ${contacts.toLocaleString('en-US')} contacts into the emulator`);
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: contacts });
    const db = new Database(join(dir, 'source.db'), { readonly: true });
    for (const row of db.prepare('SELECT email, last_name FROM owners').all() as { email: string; last_name: string | null }[]) {
      salesforce.store.create('User', { Username: row.email, Email: row.email, LastName: row.last_name ?? 'Owner', Alias: 'owner' });
    }
    db.close();
    const project: ProjectFile = {
      version: 1,
      source: sqliteConfig('source.db'),
      target: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url, writeConcurrency: 2, bulkWriteThreshold: 2000, bulkPollMs: 5 },
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: mode === 'bulk' ? 5000 : options.pageSize },
      objects: sampleToSalesforceObjects(),
    };
    const before = salesforce.stats.requests;
    const run = await runChild({ kind: 'project', dir, project, command: 'migrate' });
    const requests = salesforce.stats.requests - before;
    const written = sumCounts(run.counts, 'created') + sumCounts(run.counts, 'updated');
    const write: ScenarioResult = {
      scenario: mode === 'bulk' ? 'api-salesforce-bulk' : 'api-salesforce',
      size: options.apiSize,
      records: run.records,
      seconds: round(run.seconds),
      recordsPerSecond: rate(run.records, run.seconds),
      peakRssMb: run.peakRssMb,
      details: {
        status: run.status,
        pageSize: project.options.pageSize,
        requests,
        callsPer1000Records: round((requests / Math.max(1, run.records)) * 1000, 1),
        callsPer1000Written: round((requests / Math.max(1, written)) * 1000, 1),
        created: sumCounts(run.counts, 'created'),
        failed: sumCounts(run.counts, 'failed'),
        secondsWithSetup: round(run.totalSeconds),
        byObject: run.counts,
      },
      targets: [],
    };
    if (mode === 'collections') {
      write.targets.push({ target: 'Salesforce writes: <= 10 API calls per 1,000 records written (collections of 200: 5, plus reads of describe and matching)', figure: String(write.details.callsPer1000Written), pass: Number(write.details.callsPer1000Written) <= 10 });
    }
    const results: ScenarioResult[] = [write];
    if (mode === 'bulk') return results;
    for (const read of ['soql', 'bulk'] as const) {
      const connector = createSalesforceConnector({ accessToken: salesforce.accessToken, instanceUrl: salesforce.url, bulkReadThreshold: read === 'bulk' ? 1 : 100_000_000, bulkPollMs: 5 });
      await connector.describe();
      const start = salesforce.stats.requests;
      const started = process.hrtime.bigint();
      let records = 0;
      let after: string | undefined;
      do {
        const page = await connector.read('Contact', { limit: 1999, after, anyOrder: read === 'bulk' });
        records += page.records.length;
        after = page.next;
      } while (after);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const calls = salesforce.stats.requests - start;
      results.push({
        scenario: `api-salesforce-read-${read}`,
        size: options.apiSize,
        records,
        seconds: round(seconds),
        recordsPerSecond: rate(records, seconds),
        peakRssMb: Math.round(process.memoryUsage().rss / 1048576),
        details: { requests: calls, callsPer1000Records: round((calls / Math.max(1, records)) * 1000, 2), bulkJobs: connector.bulkJobs.length },
        targets: [],
      });
    }
    return results;
  } finally {
    await salesforce.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 5. scaling curve

export async function scaling(options: BenchOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const size of options.scalingSizes) {
    const run = await fullSqlite(options, size, false, `scaling-${size}`);
    rmSync(run.dir, { recursive: true, force: true });
    run.result.targets = [memoryTarget(run.result.records, run.result.peakRssMb)];
    results.push(run.result);
  }
  const last = results[results.length - 1];
  if (last && results.length > 1) {
    // Against the next smaller size, in CPU seconds per record: the smallest run is mostly start-up, and
    // CPU time is steadier than wall time on a shared machine.
    const before = results[results.length - 2]!;
    const perRecord = (result: ScenarioResult) => Number(result.details.cpuSeconds) / result.records;
    const timeGrowth = perRecord(last) / perRecord(before);
    const ms = (value: number) => (value * 1000).toFixed(3);
    last.targets.push({
      target: 'time linear: CPU ms per record at the largest size <= 125% of the next smaller size',
      figure: `${ms(perRecord(last))} vs ${ms(perRecord(before))} CPU ms per record (${pct(timeGrowth)}; records/s ${last.recordsPerSecond.toLocaleString('en-US')} vs ${before.recordsPerSecond.toLocaleString('en-US')})`,
      pass: timeGrowth <= 1.25,
    });
    const memoryGrowth = last.peakRssMb / before.peakRssMb;
    last.targets.push({
      target: 'memory flat: peak RSS <= 110% of the next smaller size',
      figure: `${last.peakRssMb} MB vs ${before.peakRssMb} MB (${pct(memoryGrowth)})`,
      pass: memoryGrowth <= 1.1,
    });
  }
  return results;
}

// ---- attachments (issue 13): files streamed from a SQL files table into the HubSpot emulator's Files API

/** Writes `bytes` of a fixed pattern to `path` a megabyte at a time (never the whole file in memory). */
async function writeFilePattern(path: string, bytes: number, seed: number): Promise<void> {
  const piece = Buffer.alloc(1024 * 1024);
  for (let index = 0; index < piece.length; index++) piece[index] = (index * 31 + seed * 17) & 0xff;
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += piece.length) {
    const part = bytes - written >= piece.length ? piece : piece.subarray(0, bytes - written);
    if (!out.write(part)) await once(out, 'drain');
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/**
 * Two runs into the emulator at `--api-factor` x HubSpot's 100 requests / 10 s: many small files (files/s
 * and MB/s against the rate limit: each file costs an upload and the attach's read and write of the note) and
 * one 200 MB file each way (MB/s and the run's peak RSS: the file streams, so RSS stays far below its size).
 */
export async function attachments(options: BenchOptions): Promise<ScenarioResult[]> {
  const burst = Math.round(100 * options.apiFactor);
  const results: ScenarioResult[] = [];
  const cases = [
    { name: 'attachments-many', files: 120, bytes: 256 * 1024 },
    { name: 'attachments-200mb', files: 1, bytes: 200 * 1024 * 1024 },
  ];
  for (const testCase of cases) {
    const dir = tempDir();
    const hubspot = await startHubspotEmulator({ burstLimit: { requests: burst, intervalMs: 10_000 }, searchPerSecond: Math.floor(5 * options.apiFactor) });
    try {
      options.log(`${testCase.name}: ${testCase.files} file(s) of ${round(testCase.bytes / 2 ** 20)} MB into the emulator at ${burst} requests / 10 s`);
      mkdirSync(join(dir, 'files'));
      const db = new Database(join(dir, 'source.db'));
      db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, noted_at TEXT, updated_at TEXT);
        CREATE TABLE note_files (id INTEGER PRIMARY KEY, note_id INTEGER, file_name TEXT, path TEXT)`);
      const notes = Math.max(1, Math.ceil(testCase.files / 3));
      const insertNote = db.prepare('INSERT INTO notes VALUES (?, ?, ?, ?)');
      for (let note = 1; note <= notes; note++) insertNote.run(note, `Note ${note}`, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
      const insertFile = db.prepare('INSERT INTO note_files VALUES (?, ?, ?, ?)');
      for (let file = 1; file <= testCase.files; file++) {
        await writeFilePattern(join(dir, 'files', `f${file}.bin`), testCase.bytes, file);
        insertFile.run(file, 1 + ((file - 1) % notes), `file-${file}.bin`, `f${file}.bin`);
      }
      db.close();
      const project: ProjectFile = {
        version: 1,
        source: { ...sqliteConfig('source.db'), files: { notes: { table: 'note_files', record: 'note_id', name: 'file_name', path: 'path', folder: 'files' } } },
        target: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: burst, searchPerSecond: Math.min(50, Math.floor(4 * options.apiFactor)) },
        sourceTimeZone: 'UTC',
        options: { demoSampleSize: 3, pageSize: options.pageSize, maxFileBytes: 300 * 1024 * 1024 },
        objects: [objectMapping({ source: 'notes', target: 'notes', fields: [copyField('body', 'hs_note_body'), { source: ['noted_at'], target: 'hs_timestamp', transform: { kind: 'datetime' } }] })],
      };
      const before = hubspot.stats.requests;
      const run = await runChild({ kind: 'project', dir, project, command: 'migrate' });
      const files = Object.values(run.counts ?? {}).reduce((total, each) => total + each.files, 0);
      const bytes = Object.values(run.counts ?? {}).reduce((total, each) => total + each.fileBytes, 0);
      const megabytes = bytes / 2 ** 20;
      const requests = hubspot.stats.requests - before;
      results.push({
        scenario: testCase.name,
        size: testCase.files,
        records: files,
        seconds: round(run.seconds),
        recordsPerSecond: round(files / run.seconds, 1),
        peakRssMb: run.peakRssMb,
        details: {
          status: run.status,
          uploads: hubspot.files.uploads,
          megabytes: round(megabytes),
          megabytesPerSecond: round(megabytes / run.seconds),
          filesPerSecond: round(files / run.seconds, 2),
          requests,
          requestsPerSecond: round(requests / run.seconds, 1),
          burstLimit: `${burst} / 10 s`,
          status429: hubspot.stats.status429,
        },
        targets:
          testCase.files === 1
            ? [{ target: 'a 200 MB file streams: peak RSS well below the file (< 200 MB)', figure: `${run.peakRssMb} MB`, pass: run.peakRssMb < 200 }]
            : [{ target: 'every file uploaded exactly once', figure: `${hubspot.files.uploads} uploads for ${testCase.files} files`, pass: hubspot.files.uploads === testCase.files }],
      });
    } finally {
      await hubspot.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  results.push(await attachmentDownload(options));
  return results;
}

/** One 200 MB file the other way: HubSpot emulator -> a SQLite files table on disk (signed-URL download, streamed). */
async function attachmentDownload(options: BenchOptions): Promise<ScenarioResult> {
  const dir = tempDir();
  const burst = Math.round(100 * options.apiFactor);
  const hubspot = await startHubspotEmulator({ burstLimit: { requests: burst, intervalMs: 10_000 }, searchPerSecond: Math.floor(5 * options.apiFactor) });
  try {
    const bytes = 200 * 1024 * 1024;
    options.log(`attachments-200mb-download: one file of 200 MB from the emulator into a SQLite files table`);
    await writeFilePattern(join(dir, 'big.bin'), bytes, 3);
    const uploader = createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: burst });
    const fileId = await uploader.files.upload('notes', { name: 'big.bin', size: bytes, contentType: null, stamp: 'bench', targetRecordId: '', open: async () => createReadStream(join(dir, 'big.bin')) });
    rmSync(join(dir, 'big.bin'));
    hubspot.store.createRecord('notes', { hs_note_body: 'Big file', hs_timestamp: '2026-01-01T00:00:00.000Z', hs_attachment_ids: fileId });
    const db = new Database(join(dir, 'target.db'));
    db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT);
      CREATE TABLE note_files (id INTEGER PRIMARY KEY AUTOINCREMENT, note_id INTEGER, name TEXT, stored TEXT)`);
    db.close();
    const project: ProjectFile = {
      version: 1,
      source: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: burst },
      target: { ...sqliteConfig('target.db'), files: { notes: { table: 'note_files', record: 'note_id', name: 'name', path: 'stored', folder: 'copied' } } },
      sourceTimeZone: 'UTC',
      options: { demoSampleSize: 3, pageSize: options.pageSize, maxFileBytes: 300 * 1024 * 1024 },
      objects: [objectMapping({ source: 'notes', target: 'notes', fields: [copyField('hs_note_body', 'body')] })],
    };
    const run = await runChild({ kind: 'project', dir, project, command: 'migrate' });
    const copied = Object.values(run.counts ?? {}).reduce((total, each) => total + each.fileBytes, 0);
    return {
      scenario: 'attachments-200mb-download',
      size: 1,
      records: Object.values(run.counts ?? {}).reduce((total, each) => total + each.files, 0),
      seconds: round(run.seconds),
      recordsPerSecond: round(1 / run.seconds, 2),
      peakRssMb: run.peakRssMb,
      details: { status: run.status, megabytes: round(copied / 2 ** 20), megabytesPerSecond: round(copied / 2 ** 20 / run.seconds) },
      targets: [{ target: 'a 200 MB download streams: peak RSS < 200 MB', figure: `${run.peakRssMb} MB`, pass: run.peakRssMb < 200 }],
    };
  } finally {
    await hubspot.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
