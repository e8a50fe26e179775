/**
 * `npm run test:reliability`: runs the suite (test/reliability/vitest.config.ts), then prints its figures,
 * collected from the JSON lines the tests append (figures.ts). FERRY_RELIABILITY_SCALE=10 runs it larger.
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
const totals: Figures = { killPoints: 0, faultsInjected: 0, badRecords: 0, recordsChecked: 0, lost: 0, duplicated: 0 };
if (existsSync(file)) {
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const entry = JSON.parse(line) as Partial<Figures>;
    for (const key of Object.keys(totals) as (keyof Figures)[]) totals[key] += entry[key] ?? 0;
  }
}
rmSync(dir, { recursive: true, force: true });
const scale = process.env.FERRY_RELIABILITY_SCALE ?? '1';
console.log(
  `\nReliability (scale ${scale}): kill points tried: ${totals.killPoints}, faults injected: ${totals.faultsInjected}, bad records tried: ${totals.badRecords}, records checked: ${totals.recordsChecked}, records lost: ${totals.lost}, duplicated: ${totals.duplicated}`,
);
process.exit(run.status ?? 1);
