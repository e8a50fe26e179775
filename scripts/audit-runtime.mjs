#!/usr/bin/env node
/* global process, console */
/**
 * `npm audit` of Ferry's runtime dependencies (what `npm install ferry` brings; dev tools left out):
 * fails on any high or critical advisory and prints each one.
 *
 *   node scripts/audit-runtime.mjs [--strict] [--json] [--input <audit.json>]
 *
 * Exit codes: 0 no high or critical advisory (or the audit endpoint could not be reached, without
 * --strict); 1 high or critical advisories, listed; 2 the audit endpoint could not be reached (--strict).
 * --json prints one JSON object instead of text (for test/reliability/run.ts). --input reads a saved
 * `npm audit --omit=dev --json` output instead of running npm (for the script's own tests).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FAILING = ['high', 'critical'];

const args = process.argv.slice(2);
const strict = args.includes('--strict');
const asJson = args.includes('--json');
const inputIndex = args.indexOf('--input');
const input = inputIndex >= 0 ? args[inputIndex + 1] : undefined;

function runAudit() {
  if (input) return readFileSync(input, 'utf8');
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // npm audit exits non-zero when it finds anything; its JSON on stdout tells what happened.
  const result = spawnSync(npm, ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) return JSON.stringify({ error: { summary: result.error.message } });
  return result.stdout;
}

/** Each advisory behind a vulnerable package: its own entries in `via`, not the packages it comes through. */
function advisories(report) {
  const out = [];
  for (const [name, vulnerability] of Object.entries(report.vulnerabilities ?? {})) {
    for (const via of vulnerability.via ?? []) {
      if (typeof via !== 'object' || via === null) continue;
      out.push({
        package: name,
        severity: via.severity ?? vulnerability.severity,
        title: via.title ?? '',
        url: via.url ?? '',
        range: via.range ?? vulnerability.range ?? '',
        direct: Boolean(vulnerability.isDirect),
        fix: vulnerability.fixAvailable === true ? 'npm audit fix' : vulnerability.fixAvailable ? `${vulnerability.fixAvailable.name}@${vulnerability.fixAvailable.version}` : 'none yet',
      });
    }
  }
  return out;
}

function summarize(text) {
  let report;
  try {
    report = JSON.parse(text);
  } catch {
    return { reachable: false, reason: `npm audit printed no JSON (${text.trim().slice(0, 200) || 'nothing'})` };
  }
  if (!report || typeof report !== 'object' || !report.metadata?.vulnerabilities) {
    const reason = [report?.statusCode ? `HTTP ${report.statusCode}` : '', report?.message ?? '', report?.error?.summary ?? '', report?.error?.detail ?? ''].filter(Boolean).join(': ');
    return { reachable: false, reason: reason || 'the audit endpoint gave no report' };
  }
  const counts = report.metadata.vulnerabilities;
  const all = advisories(report);
  return {
    reachable: true,
    dependencies: report.metadata.dependencies?.prod ?? report.metadata.dependencies?.total ?? null,
    counts: { info: counts.info ?? 0, low: counts.low ?? 0, moderate: counts.moderate ?? 0, high: counts.high ?? 0, critical: counts.critical ?? 0 },
    failing: all.filter((advisory) => FAILING.includes(advisory.severity)),
    others: all.filter((advisory) => !FAILING.includes(advisory.severity)),
  };
}

const summary = summarize(runAudit());
const failed = summary.reachable ? summary.failing.length > 0 || summary.counts.high + summary.counts.critical > 0 : strict;
const code = !summary.reachable ? (strict ? 2 : 0) : failed ? 1 : 0;

if (asJson) {
  process.stdout.write(`${JSON.stringify({ ...summary, strict, exitCode: code })}\n`);
} else if (!summary.reachable) {
  const message = `Runtime dependency audit: the npm audit endpoint could not be reached or refused the request (${summary.reason}). Nothing was checked.`;
  console.error(strict ? `${message} Failing because of --strict.` : `${message} Run again with --strict to make this an error.`);
} else {
  const { counts } = summary;
  for (const advisory of summary.failing) {
    console.log(`${advisory.severity.toUpperCase()}: ${advisory.package} ${advisory.range} — ${advisory.title} ${advisory.url} (${advisory.direct ? 'direct' : 'transitive'} dependency; fix: ${advisory.fix})`);
  }
  console.log(
    `Runtime dependency audit${summary.dependencies !== null ? ` (${summary.dependencies} packages)` : ''}: ${counts.critical} critical, ${counts.high} high, ${counts.moderate} moderate, ${counts.low} low` +
      (failed ? ' — high or critical advisories must be fixed before a release.' : ' — no high or critical advisory.'),
  );
}
process.exit(code);
