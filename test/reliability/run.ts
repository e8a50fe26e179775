/**
 * `npm run test:reliability`: runs the suite (test/reliability/vitest.config.ts), then the audit of the
 * runtime dependencies (scripts/audit-runtime.mjs), then prints the figures, collected from the JSON lines
 * the tests append (figures.ts). FERRY_RELIABILITY_SCALE=10 runs it larger. A high or critical advisory
 * fails the run; an unreachable audit endpoint is reported, and fails it only with FERRY_AUDIT_STRICT=1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIGURES_FILE_ENV, type Figures } from './figures.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-reliability-'));
const file = join(dir, 'figures.jsonl');
const vitest = join(createRequire(import.meta.url).resolve('vitest/package.json'), '..', 'vitest.mjs');
const config = join(import.meta.dirname, 'vitest.config.ts');
const run = spawnSync(process.execPath, [vitest, 'run', '--config', config, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, [FIGURES_FILE_ENV]: file },
});
const totals: Figures = { killPoints: 0, faultsInjected: 0, badRecords: 0, recordsChecked: 0, lost: 0, duplicated: 0, runsRefused: 0, sourceChanges: 0 };
if (existsSync(file)) {
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const entry = JSON.parse(line) as Partial<Figures>;
    for (const key of Object.keys(totals) as (keyof Figures)[]) totals[key] += entry[key] ?? 0;
  }
}
rmSync(dir, { recursive: true, force: true });

const strict = process.env.FERRY_AUDIT_STRICT === '1';
const auditRun = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'audit-runtime.mjs'), '--json', ...(strict ? ['--strict'] : [])], { encoding: 'utf8' });
let auditText = 'not run';
let auditFailed = true;
try {
  const audit = JSON.parse(auditRun.stdout) as { reachable: boolean; reason?: string; counts?: Record<string, number>; failing?: { severity: string; package: string; range: string; title: string; url: string }[]; exitCode: number };
  auditFailed = audit.exitCode !== 0;
  if (!audit.reachable) {
    auditText = 'endpoint not reachable';
    console.log(`\nnpm audit (runtime dependencies): the endpoint could not be reached or refused the request (${audit.reason}); nothing was checked${strict ? '' : ' (FERRY_AUDIT_STRICT=1 makes this a failure)'}.`);
  } else {
    auditText = `${audit.counts!.high! + audit.counts!.critical!} high or critical`;
    for (const advisory of audit.failing ?? []) console.log(`${advisory.severity.toUpperCase()}: ${advisory.package} ${advisory.range} — ${advisory.title} ${advisory.url}`);
  }
} catch {
  console.log(`\nnpm audit (runtime dependencies) could not be run: ${auditRun.stderr || auditRun.error?.message}`);
}

const scale = process.env.FERRY_RELIABILITY_SCALE ?? '1';
console.log(
  `\nReliability (scale ${scale}): kill points tried: ${totals.killPoints}, faults injected: ${totals.faultsInjected}, bad records tried: ${totals.badRecords}, records checked: ${totals.recordsChecked}, records lost: ${totals.lost}, duplicated: ${totals.duplicated}, second runs refused: ${totals.runsRefused}, source changes during runs: ${totals.sourceChanges}, runtime audit: ${auditText}`,
);
process.exit(run.status === 0 ? (auditFailed ? 1 : 0) : (run.status ?? 1));
