import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyIssue, VerifyObjectCounts } from '../engine/types.js';
import { ferry as runCli } from '../../test/cli/run-cli.js';

/** The CLI in-process with captured output (test/cli/run-cli.ts), with this process's environment. */
const ferry = (cwd: string, ...args: string[]) => runCli(cwd, args, process.env);

const KIND_OF: Record<Exclude<keyof VerifyObjectCounts, 'checked' | 'filesChecked'>, (issue: VerifyIssue) => boolean> = {
  missing: (issue) => issue.kind === 'missing-in-target',
  mismatched: (issue) => issue.kind === 'field-mismatch' && issue.reason !== 'edited-in-target',
  brokenReferences: (issue) => issue.kind === 'broken-reference',
  notMigrated: (issue) => issue.kind === 'not-migrated',
  editedInTarget: (issue) => issue.reason === 'edited-in-target',
  filesMissing: (issue) => issue.kind === 'file-missing',
  filesUnattached: (issue) => issue.kind === 'file-not-attached',
  filesMismatched: (issue) => issue.kind === 'file-mismatch',
};

/** The demo story leaves failed records (not migrated) and fields people edited in the target: both kinds of finding. */
describe('ferry verify: the table and the list count the same findings', () => {
  let dir: string;
  let folder: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-verify-'));
    const demo = await ferry(dir, 'demo', '--json');
    expect(demo.code, demo.stderr).toBe(0);
    folder = (JSON.parse(demo.stdout) as { folder: string }).folder;
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts every listed finding in its object and column, problems first, edits counted but not problems', async () => {
    const json = await ferry(folder, 'verify', '--json');
    const result = JSON.parse(json.stdout) as { ok: boolean; objects: Record<string, VerifyObjectCounts>; issues: VerifyIssue[] };
    expect(json.code).toBe(result.ok ? 0 : 3);
    let findings = 0;
    let problems = 0;
    for (const [object, counts] of Object.entries(result.objects)) {
      for (const [key, matches] of Object.entries(KIND_OF) as [keyof typeof KIND_OF, (issue: VerifyIssue) => boolean][]) {
        expect({ object, key, count: result.issues.filter((issue) => issue.object === object && matches(issue)).length }).toEqual({ object, key, count: counts[key] });
        findings += counts[key];
        if (key !== 'editedInTarget') problems += counts[key];
      }
    }
    expect(result.issues).toHaveLength(findings);
    const edits = findings - problems;
    expect(problems).toBeGreaterThan(0);
    expect(edits).toBeGreaterThan(0);
    // Problems before edits.
    const firstEdit = result.issues.findIndex((issue) => issue.reason === 'edited-in-target');
    expect(result.issues.slice(firstEdit).every((issue) => issue.reason === 'edited-in-target')).toBe(true);

    const text = await ferry(folder, 'verify');
    expect(text.code).toBe(json.code);
    const checked = Object.values(result.objects).reduce((sum, counts) => sum + counts.checked, 0);
    expect(text.stdout).toMatch(new RegExp(`^total +${checked.toLocaleString('en-US')} `, 'm'));
    expect(text.stdout).toContain(`${findings} findings: ${problems} problem${problems === 1 ? '' : 's'}, ${edits} field${edits === 1 ? '' : 's'} edited in the target`);
    // The first lines shown are problems, not the edits that are no problem.
    const listed = text.stdout.split('\n').filter((line) => line.startsWith('  '));
    expect(listed.length).toBe(Math.min(20, findings));
    expect(listed[0]).not.toContain('edited-in-target');
  }, 60_000);
});
