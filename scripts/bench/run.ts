/**
 * `npm run bench` — the scenario runner of issue 6: how fast and how lean a migration is, against the limits.
 *
 *   npm run bench                                   # default size (20,000 records), all default scenarios
 *   npm run bench -- --size 100000 --scenarios full-sqlite,delta,match,api-hubspot
 *   npm run bench -- --scenarios scaling --scaling-sizes 10000,100000,1000000
 *
 * Scenarios: full-sqlite, full-postgres (each with its plain-copy baseline), delta (after full-sqlite),
 * match, api-hubspot, attachments (many small files, and one 200 MB file: MB/s, files/s, peak RSS), api-pipedrive, api-salesforce (collections, SOQL and Bulk API 2.0 reads: API calls per 1,000 records),
 * scaling, dry-run-csv and workers (a queued run on 1, 2 and 4 `ferry worker` processes against the Pipedrive
 * emulator with network latency: records/s and speed-up) (these four not in the default set). Each measured run is a child process (child.ts), so
 * its peak RSS is its own. Prints a table and PASS/MISS per target of issue 6, and writes
 * bench-results/<timestamp>.json and .md. Asserts nothing: shared machines are noisy.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { heapGrowingPercent } from '../../src/core/heap.js';
import { apiHubspot, apiPipedrive, apiSalesforce, attachments, compileChild, delta, dryRunCsv, fullPostgres, fullSqlite, match, scaling, type BenchOptions, type FullRun, type ScenarioResult } from './scenarios.js';

const ALL = ['full-sqlite', 'full-postgres', 'delta', 'match', 'api-hubspot', 'api-pipedrive', 'api-salesforce', 'attachments', 'scaling', 'dry-run-csv', 'workers'] as const;
type Scenario = (typeof ALL)[number];
const DEFAULT_SCENARIOS: Scenario[] = ['full-sqlite', 'full-postgres', 'delta', 'match', 'api-hubspot', 'attachments'];

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '20000' },
    scenarios: { type: 'string', default: DEFAULT_SCENARIOS.join(',') },
    'page-size': { type: 'string', default: '500' },
    'match-size': { type: 'string' },
    'api-size': { type: 'string', default: '100000' },
    'api-factor': { type: 'string', default: '2' },
    'scaling-sizes': { type: 'string' },
    'workers-size': { type: 'string', default: '1000' },
    'workers-latency': { type: 'string', default: '25' },
    'workers-counts': { type: 'string', default: '1,2,4' },
    'heap-cap': { type: 'string' },
    'cpu-prof': { type: 'string' },
    out: { type: 'string', default: 'bench-results' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`npm run bench -- [--size N] [--scenarios ${ALL.join(',')}] [--page-size 500] [--match-size N (default --size)]
  [--api-size 100000] [--api-factor 2 (x HubSpot's 100 requests / 10 s, e.g. 2.5; at most 10: the connector's cap)]
  [--scaling-sizes a,b,c (default size/10, size, size*10)] [--out bench-results]
  [--workers-size 1000] [--workers-latency 25 (ms per emulator request)] [--workers-counts 1,2,4] (scenario workers: a queued run on N ferry workers)
  [--heap-cap MB (measured children run with node --max-old-space-size=MB; default: V8's own limit, with the heap growth
   bounded as bin/ferry.js bounds it, FERRY_HEAP_GROWING_PERCENT=0 to measure without)]
  [--cpu-prof DIR (each measured child writes a V8 CPU profile into DIR; open it in Chrome's DevTools)]`);
  process.exit(0);
}

const int = (text: string, name: string): number => {
  const value = Number(text.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
};
const size = int(values.size, 'size');
const scenarios = values.scenarios.split(',').map((name) => name.trim()).filter(Boolean) as Scenario[];
for (const name of scenarios) if (!ALL.includes(name)) throw new Error(`unknown scenario ${name} (expected ${ALL.join(', ')})`);
// A multiple of 0.01 (the HubSpot limit, 100 x factor requests / 10 s, stays a whole number): issue 17 runs 2.5.
const apiFactor = Number(values['api-factor']);
if (!Number.isFinite(apiFactor) || apiFactor <= 0 || !Number.isInteger(Math.round(apiFactor * 100)) || Math.abs(apiFactor * 100 - Math.round(apiFactor * 100)) > 1e-9) {
  throw new Error(`--api-factor must be a positive number with at most two decimals, got ${values['api-factor']}`);
}
if (apiFactor > 10) throw new Error('--api-factor is at most 10: the HubSpot connector accepts a burstLimit of at most 1000 per 10 s');
const options: BenchOptions = {
  size,
  pageSize: int(values['page-size'], 'page-size'),
  matchSize: int(values['match-size'] ?? String(size), 'match-size'),
  apiSize: int(values['api-size'], 'api-size'),
  apiFactor,
  scalingSizes: (values['scaling-sizes'] ?? `${Math.round(size / 10)},${size},${size * 10}`).split(',').map((text) => int(text, 'scaling-sizes')),
  heapCapMb: values['heap-cap'] === undefined ? undefined : int(values['heap-cap'], 'heap-cap'),
  cpuProfileDir: values['cpu-prof'],
  log: (line) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`),
};
compileChild(options);

const fmt = (value: number) => value.toLocaleString('en-US');
/** How the measured children's heap was set: what src/core/heap.ts decides for their environment and arguments. */
const heapSetting = (capMb: number | undefined): string => {
  const percent = heapGrowingPercent(process.env, capMb ? [`--max-old-space-size=${capMb}`] : []);
  if (percent !== undefined) return `V8's default heap limit, heap growth bounded to ${percent}% as in bin/ferry.js`;
  return capMb ? `children run with --max-old-space-size=${capMb}` : "V8's own heap heuristics (as the environment asks)";
};
const started = new Date();
const results: ScenarioResult[] = [];
const errors: { scenario: string; error: string }[] = [];

async function attempt<T>(scenario: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    options.log(`${scenario} FAILED: ${message}`);
    errors.push({ scenario, error: message.slice(0, 2000) });
    return undefined;
  }
}

let full: FullRun | undefined;
if (scenarios.includes('full-sqlite') || scenarios.includes('delta')) {
  full = await attempt('full-sqlite', () => fullSqlite(options, size, true));
  if (full && scenarios.includes('full-sqlite')) results.push(full.result);
}
if (scenarios.includes('delta') && full) {
  const run = full;
  const result = await attempt('delta', () => delta(options, run));
  if (result) results.push(result);
}
if (full) rmSync(full.dir, { recursive: true, force: true });
if (scenarios.includes('full-postgres')) {
  const result = await attempt('full-postgres', () => fullPostgres(options));
  if (result) results.push(result);
}
if (scenarios.includes('match')) {
  const result = await attempt('match', () => match(options));
  if (result) results.push(result);
}
if (scenarios.includes('api-hubspot')) {
  const result = await attempt('api-hubspot', () => apiHubspot(options));
  if (result) results.push(result);
}
if (scenarios.includes('api-pipedrive')) {
  const result = await attempt('api-pipedrive', () => apiPipedrive(options));
  if (result) results.push(result);
}
if (scenarios.includes('api-salesforce')) {
  const result = await attempt('api-salesforce', () => apiSalesforce(options));
  if (result) results.push(...result);
}
if (scenarios.includes('attachments')) {
  const result = await attempt('attachments', () => attachments(options));
  if (result) results.push(...result);
}
if (scenarios.includes('dry-run-csv')) {
  const result = await attempt('dry-run-csv', () => dryRunCsv(options));
  if (result) results.push(...result);
}
if (scenarios.includes('workers')) {
  const { workers } = await import('./workers.js');
  const result = await attempt('workers', () =>
    workers({
      ...options,
      workersSize: int(values['workers-size'], 'workers-size'),
      latencyMs: int(values['workers-latency'], 'workers-latency'),
      workerCounts: values['workers-counts'].split(',').map((text) => int(text, 'workers-counts')),
    }),
  );
  if (result) results.push(...result);
}
if (scenarios.includes('scaling')) {
  const result = await attempt('scaling', () => scaling(options));
  if (result) results.push(...result);
}

// ---- report

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), loadAverage: loadavg().map((n) => Math.round(n * 100) / 100), node: process.version };
const lines: string[] = [];
lines.push(`# Ferry benchmark ${started.toISOString()}`, '');
lines.push(`Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGb} GiB, Node ${machine.node}, load average at the end ${machine.loadAverage.join(' / ')}.`);
lines.push(
  `Size ${fmt(size)} records, page size ${options.pageSize}, scenarios ${scenarios.join(', ')}, ${heapSetting(options.heapCapMb)}.`,
  '',
);
lines.push('| scenario | size | records | seconds | records/s | peak RSS | baseline records/s (RSS) | ratio | notes |');
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const result of results) {
  const baseline = result.baseline ? `${fmt(result.baseline.recordsPerSecond)} (${result.baseline.peakRssMb} MB)` : '';
  const ratio = result.ratio !== undefined ? `${Math.round(result.ratio * 1000) / 10}%` : '';
  const notes = Object.entries(result.details)
    .filter(([key, value]) => value !== undefined && typeof value !== 'object' && key !== 'status')
    .map(([key, value]) => `${key} ${typeof value === 'number' ? fmt(value) : String(value)}`)
    .join(', ');
  lines.push(`| ${result.scenario} | ${fmt(result.size)} | ${fmt(result.records)} | ${result.seconds} | ${fmt(result.recordsPerSecond)} | ${result.peakRssMb} MB | ${baseline} | ${ratio}${result.ratioOf ? ` of ${result.ratioOf}` : ''} | ${notes} |`);
}
lines.push('', '| target (issue 6) | scenario | figure | result |', '| --- | --- | --- | --- |');
for (const result of results) {
  for (const check of result.targets) {
    const verdict = check.pass === undefined ? `n/a${check.note ? ` (${check.note})` : ''}` : `${check.pass ? 'PASS' : 'MISS'}${check.note ? ` (${check.note})` : ''}`;
    lines.push(`| ${check.target} | ${result.scenario} | ${check.figure} | ${verdict} |`);
  }
}
if (errors.length > 0) {
  lines.push('', 'Failed scenarios:', '');
  for (const error of errors) lines.push(`- ${error.scenario}: ${error.error.split('\n')[0]}`);
}
const markdown = `${lines.join('\n')}\n`;
mkdirSync(values.out, { recursive: true });
const stamp = started.toISOString().replace(/[:.]/g, '-');
writeFileSync(join(values.out, `${stamp}.json`), `${JSON.stringify({ started: started.toISOString(), machine, options: { ...options, log: undefined }, heap: heapSetting(options.heapCapMb), scenarios, results, errors }, null, 2)}\n`);
writeFileSync(join(values.out, `${stamp}.md`), markdown);
process.stdout.write(markdown);
console.error(`[bench] wrote ${join(values.out, `${stamp}.json`)} and .md`);
if (errors.length > 0) process.exitCode = 1;
