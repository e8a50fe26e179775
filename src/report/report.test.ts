import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyCounts, type Counts } from '../core/progress.js';
import { Ledger } from '../ledger/index.js';
import { buildRunReport, countColumns, escapeHtml, listRunsTable, renderReport } from './index.js';
import { defuseFormula } from './render.js';

const counts = (patch: Partial<Counts>): Counts => ({ ...emptyCounts(), ...patch });
const SCRIPT = '<script>alert("owned")</script>';
/** Runs start at the ledger's clock; finish them a fixed time later. */
const after = (startedAt: string, seconds: number): string => new Date(Date.parse(startedAt) + seconds * 1000).toISOString();

describe('run reports from the ledger', () => {
  let dir: string;
  let ledger: Ledger;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-report-'));
    ledger = await Ledger.open(join(dir, 'state.db'));
  });
  afterEach(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A full migration with failures, then a delta with conflicts and a new failure. */
  async function populate(): Promise<{ fullId: number; deltaId: number; matchId: number }> {
    const match = await ledger.createRun({ kind: 'match' });
    await ledger.putMatchIssues([
      { object: 'contacts', sourceId: 'c7', kind: 'ambiguous', key: 'ann@example.com', candidates: ['t1', 't2'], runId: match.id },
      { object: 'contacts', sourceId: 'c8', kind: 'duplicate', key: 'bob@example.com', candidates: ['c3'], runId: match.id },
    ]);
    await ledger.updateRun(match.id, {
      status: 'completed',
      finishedAt: after(match.startedAt, 5),
      counts: { contacts: counts({ read: 10, matched: 4 }) },
    });

    const full = await ledger.createRun({ kind: 'full', creates: true, updates: true, highWaterMark: '2026-01-01T10:01:00.000Z' });
    await ledger.addFailures([
      { runId: full.id, object: 'contacts', sourceId: 'c1', code: 'INVALID_VALUE', field: 'email', value: '"not-an-email"', message: 'not an e-mail' },
      { runId: full.id, object: 'notes', sourceId: 'n1', code: 'VALIDATION', field: 'body', value: SCRIPT, message: `body rejected: ${SCRIPT}` },
    ]);
    await ledger.updateRun(full.id, {
      status: 'completed_with_failures',
      finishedAt: after(full.startedAt, 60),
      counts: { companies: counts({ read: 5, created: 5 }), contacts: counts({ read: 10, created: 5, updated: 4, failed: 1 }), notes: counts({ read: 3, created: 2, failed: 1 }) },
    });

    const delta = await ledger.createRun({ kind: 'delta', creates: true, updates: true, highWaterMark: '2026-01-02T00:00:00.000Z' });
    await ledger.addConflicts([
      {
        runId: delta.id,
        object: 'contacts',
        sourceId: 'c2',
        targetId: 't22',
        field: 'phone',
        sourceValue: '+49 30 1234',
        targetValue: '=HYPERLINK("http://evil")',
        writtenValue: '+49 30 0000',
        resolution: 'source-wins',
      },
      {
        runId: delta.id,
        object: 'contacts',
        sourceId: 'c3',
        targetId: 't23',
        field: 'title',
        sourceValue: SCRIPT,
        targetValue: null,
        writtenValue: 'CTO',
        resolution: 'source-wins',
      },
    ]);
    await ledger.addFailures([
      { runId: delta.id, object: 'contacts', sourceId: 'c9', code: 'REQUIRED_MISSING', field: 'last_name', value: null, message: 'last name is required' },
    ]);
    // The delta wrote c1 successfully: its failure from the full run is settled.
    await ledger.resolveFailures('contacts', ['c1'], delta.id);
    await ledger.updateRun(delta.id, {
      status: 'completed_with_failures',
      finishedAt: after(delta.startedAt, 3.5),
      counts: { contacts: counts({ read: 6, created: 1, updated: 3, unchanged: 1, failed: 1, conflicts: 2 }) },
    });
    return { fullId: full.id, deltaId: delta.id, matchId: match.id };
  }

  it('collects counts, failures, conflicts and outstanding failures of earlier runs', async () => {
    const { fullId, deltaId } = await populate();
    const report = await buildRunReport(ledger, deltaId);
    expect(report.run).toMatchObject({ id: deltaId, kind: 'delta', status: 'completed_with_failures', highWaterMark: '2026-01-02T00:00:00.000Z', durationSeconds: 3.5 });
    expect(report.objects).toEqual([{ object: 'contacts', counts: counts({ read: 6, created: 1, updated: 3, unchanged: 1, failed: 1, conflicts: 2 }), failures: 1, conflicts: 2 }]);
    expect(report.failures).toEqual([expect.objectContaining({ sourceId: 'c9', code: 'REQUIRED_MISSING', field: 'last_name', value: null })]);
    expect(report.conflicts[0]).toMatchObject({ sourceId: 'c2', sourceValue: '+49 30 1234', targetValue: '=HYPERLINK("http://evil")', writtenValue: '+49 30 0000', resolution: 'source-wins' });
    expect(report.conflictsByResolution).toEqual({ 'source-wins': 2 });
    // c1 was settled by the delta; n1 from the full run is still open.
    expect(report.outstandingFailures.map((failure) => [failure.runId, failure.sourceId])).toEqual([[fullId, 'n1']]);
    // Open failures: distinct records from the ledger's one count, the delta's own c9 included.
    expect(report.openFailures).toEqual({ total: 2, byObject: { contacts: 1, notes: 1 }, fromEarlierRuns: 1 });
    expect(report.failedRecords).toBe(1);
    expect(renderReport(report, 'text')).toContain('Open failures now (all runs): 2 records (contacts 1, notes 1)');

    const full = await buildRunReport(ledger, fullId);
    expect(full.totals).toEqual(counts({ read: 18, created: 12, updated: 4, failed: 2 }));
    expect(full.failuresByCode).toEqual({ INVALID_VALUE: 1, VALIDATION: 1 });
    expect(full.failures.find((failure) => failure.sourceId === 'c1')?.resolvedByRunId).toBe(deltaId);
    expect(full.outstandingFailures).toEqual([]);
  });

  it('keeps warnings (records written without a reference) apart from failures', async () => {
    const run = await ledger.createRun({ kind: 'full', creates: true, updates: true });
    await ledger.addFailures([
      { runId: run.id, object: 'deals', sourceId: 'd1', code: 'REFERENCE_MISSING', field: 'company_id', value: '"c404"', message: 'deals d1: company_id refers to companies c404', severity: 'warning' },
      { runId: run.id, object: 'deals', sourceId: 'd2', code: 'VALUE_NOT_MAPPED', field: 'dealstage', value: '"Won?"', message: 'not mapped' },
    ]);
    await ledger.updateRun(run.id, { status: 'completed_with_failures', finishedAt: after(run.startedAt, 1), counts: { deals: counts({ read: 2, created: 1, failed: 1 }) } });
    const report = await buildRunReport(ledger, run.id);
    expect(report.failures.map((failure) => failure.sourceId)).toEqual(['d2']);
    expect(report.warnings.map((warning) => warning.sourceId)).toEqual(['d1']);
    expect(report.warningsByCode).toEqual({ REFERENCE_MISSING: 1 });
    expect(renderReport(report, 'csv')).toMatch(/^warning,/m);
    expect(renderReport(report, 'html')).toContain('Warnings (1)');
    expect(await ledger.countOpenFailures()).toBe(1);
  });

  it('lists the match issues of a match run', async () => {
    const { matchId } = await populate();
    const report = await buildRunReport(ledger, matchId);
    expect(report.matchIssues.map((issue) => [issue.sourceId, issue.kind])).toEqual([
      ['c7', 'ambiguous'],
      ['c8', 'duplicate'],
    ]);
    expect(renderReport(report, 'text')).toContain('1 ambiguous');
  });

  it('refuses an unknown run with RUN_NOT_FOUND', async () => {
    await expect(buildRunReport(ledger, 99)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('escapes every value in the HTML page: a <script> in a note never reaches the page as markup', async () => {
    const { fullId, deltaId } = await populate();
    for (const runId of [fullId, deltaId]) {
      const html = renderReport(await buildRunReport(ledger, runId), 'html');
      expect(html).not.toContain('<script');
      expect(html).toContain(escapeHtml(SCRIPT));
      expect(html).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;');
      // Self-contained: no external assets, and a policy that forbids scripts anyway.
      expect(html).not.toMatch(/(src|href)=["']?https?:/i);
      expect(html).toContain("default-src 'none'");
    }
  });

  it('draws the counts, the charts and the failure table in HTML', async () => {
    const { fullId } = await populate();
    const html = renderReport(await buildRunReport(ledger, fullId), 'html');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('Records per object by outcome');
    expect(html).toContain('Failures by code');
    expect(html).toContain('INVALID_VALUE');
    expect(html).toContain('<td>companies</td>');
  });

  it('writes one CSV row per failure and per conflict, with a kind column, and defuses formulas', async () => {
    const { deltaId } = await populate();
    const csv = renderReport(await buildRunReport(ledger, deltaId), 'csv');
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.kind)).toEqual(['failure', 'conflict', 'conflict', 'outstanding-failure']);
    const conflict = rows.find((row) => row.sourceId === 'c2')!;
    expect(conflict).toMatchObject({ field: 'phone', sourceValue: '+49 30 1234', writtenValue: '+49 30 0000', resolution: 'source-wins' });
    // A target value starting with "=" would run as a formula in a spreadsheet.
    expect(conflict.targetValue).toBe(`'=HYPERLINK("http://evil")`);
    expect(rows.find((row) => row.sourceId === 'c3')!.sourceValue).toBe(SCRIPT);
    expect(defuseFormula('-12.5')).toBe('-12.5');
    expect(defuseFormula('+1 (555) 010-0100')).toBe('+1 (555) 010-0100');
    expect(defuseFormula('-2+3+cmd|" /C calc"!A0')).toBe(`'-2+3+cmd|" /C calc"!A0`);
    expect(defuseFormula('@SUM(A1)')).toBe(`'@SUM(A1)`);
  });

  it('renders JSON that round-trips the report', async () => {
    const { deltaId } = await populate();
    const report = await buildRunReport(ledger, deltaId);
    expect(JSON.parse(renderReport(report, 'json'))).toEqual(report);
  });

  it('renders a text summary with counts, conflicts and outstanding failures', async () => {
    const { deltaId } = await populate();
    const text = renderReport(await buildRunReport(ledger, deltaId), 'text');
    expect(text).toContain(`Run ${deltaId} · delta · completed_with_failures`);
    expect(text).toMatch(/contacts\s+6\s+1\s+3\s+0\s+1\s+0\s+1\s+2\s+0/);
    expect(text).toContain('Conflicts settled: 2 (source-wins 2)');
    expect(text).toContain('Outstanding failures from earlier runs: 1');
  });

  it('lists runs in a table with their totals', async () => {
    await populate();
    const table = listRunsTable(await ledger.listRuns());
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^run\s+kind\s+status/);
    expect(lines).toHaveLength(5);
    expect(table).toContain('delta (create-new + update-changed)');
    expect(lines[2]).toMatch(/ \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z /);
    expect(lines[3]).toContain(' 60 s ');
    expect(listRunsTable([])).toContain('No runs yet');
  });
});

describe('count columns', () => {
  it('shows files and fileBytes only when a run copied attachments, like reread and filtered', () => {
    expect(countColumns(counts({ read: 3, created: 3 }))).not.toContain('files');
    expect(countColumns(counts({ read: 3, created: 3, files: 2, fileBytes: 10 }))).toEqual(expect.arrayContaining(['files', 'fileBytes']));
  });
});
