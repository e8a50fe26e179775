import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** scripts/audit-runtime.mjs on saved `npm audit --omit=dev --json` outputs (the real audit runs in test/reliability/run.ts). */
const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'audit-runtime.mjs');
const dir = mkdtempSync(join(tmpdir(), 'ferry-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function audit(report: unknown, ...flags: string[]): { code: number | null; stdout: string; stderr: string } {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof report === 'string' ? report : JSON.stringify(report));
  const result = spawnSync(process.execPath, [SCRIPT, '--input', file, ...flags], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const report = (vulnerabilities: Record<string, unknown>, counts: Record<string, number>) => ({
  auditReportVersion: 2,
  vulnerabilities,
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...counts, total: 0 }, dependencies: { prod: 42, total: 300 } },
});

describe('npm audit of the runtime dependencies', () => {
  it('fails on a high or critical advisory and prints each one', () => {
    const result = audit(
      report(
        {
          'some-lib': {
            name: 'some-lib',
            severity: 'high',
            isDirect: false,
            via: [{ source: 1, name: 'some-lib', title: 'Prototype pollution', url: 'https://github.com/advisories/GHSA-xxxx', severity: 'high', range: '<1.2.3' }],
            range: '<1.2.3',
            fixAvailable: true,
          },
          pg: { name: 'pg', severity: 'high', isDirect: true, via: ['some-lib'], range: '8.0.0 - 8.1.0', fixAvailable: { name: 'pg', version: '8.23.1' } },
        },
        { high: 2 },
      ),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('HIGH: some-lib <1.2.3 — Prototype pollution https://github.com/advisories/GHSA-xxxx (transitive dependency; fix: npm audit fix)');
    expect(result.stdout).toContain('Runtime dependency audit (42 packages): 0 critical, 2 high, 0 moderate, 0 low — high or critical advisories must be fixed');
  });

  it('passes with moderate and low advisories only, or none', () => {
    const moderate = audit(report({ x: { name: 'x', severity: 'moderate', isDirect: true, via: [{ title: 'ReDoS', url: 'u', severity: 'moderate', range: '<2' }], range: '<2', fixAvailable: false } }, { moderate: 1 }));
    expect(moderate.code).toBe(0);
    expect(moderate.stdout).toContain('0 critical, 0 high, 1 moderate, 0 low — no high or critical advisory.');
    expect(audit(report({}, {})).code).toBe(0);
  });

  it('an unreachable audit endpoint is said plainly; it fails only with --strict', () => {
    const refused = { message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', statusCode: 405, error: { summary: '', detail: '' } };
    const lenient = audit(refused);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toContain('the npm audit endpoint could not be reached or refused the request (HTTP 405: 405 Method Not Allowed');
    expect(lenient.stderr).toContain('Nothing was checked');
    expect(audit(refused, '--strict').code).toBe(2);
    expect(audit('npm ERR! network ENOTFOUND', '--strict').code).toBe(2);
    expect(JSON.parse(audit(refused, '--json').stdout)).toMatchObject({ reachable: false, exitCode: 0 });
  });
});
