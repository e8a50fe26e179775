import { stringify } from 'csv-stringify/sync';
import { FerryError } from '../core/errors.js';
import type { Counts } from '../core/progress.js';
import type { ReportFailure, RunReport } from './build.js';
import { formatNumber, formatSeconds, formatTable, formatValue, shorten } from './format.js';
import { renderHtml } from './html.js';

export const REPORT_FORMATS = ['json', 'csv', 'html', 'text'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/** The counters shown in tables, in reading order. */
export const COUNT_COLUMNS: readonly (keyof Counts)[] = [
  'read',
  'reread',
  'created',
  'updated',
  'matched',
  'unchanged',
  'skipped',
  'filtered',
  'failed',
  'conflicts',
  'deleted',
  'files',
  'fileBytes',
];

/** Columns shown only when not 0 in the totals. */
const WHEN_USED = new Set<keyof Counts>(['reread', 'filtered', 'files', 'fileBytes']);

/**
 * The columns of a counts table: `reread` only when some record was read twice (it rarely is), `filtered`
 * only when a row filter (`where`) left records out, `files` and `fileBytes` only when the run copied
 * attachments (docs/attachments.md).
 */
export function countColumns(totals: Counts): (keyof Counts)[] {
  return COUNT_COLUMNS.filter((key) => !WHEN_USED.has(key) || totals[key] > 0);
}

/** How many failures / conflicts the text form lists before pointing at the CSV. */
const TEXT_LIST_LIMIT = 20;

/**
 * Renders a run report. `json` is the RunReport itself; `csv` has one row per failure, conflict, match
 * issue and outstanding failure (column `kind`); `html` is one self-contained page; `text` is what a
 * terminal shows.
 */
export function renderReport(report: RunReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return renderCsv(report);
    case 'html':
      return renderHtml(report);
    case 'text':
      return renderText(report);
    default:
      throw new FerryError('USAGE', `Unknown report format "${String(format)}" (use ${REPORT_FORMATS.join(', ')})`);
  }
}

const CSV_COLUMNS = [
  'kind',
  'run',
  'object',
  'sourceId',
  'targetId',
  'field',
  'code',
  'value',
  'sourceValue',
  'targetValue',
  'writtenValue',
  'resolution',
  'message',
] as const;

type CsvRow = Partial<Record<(typeof CSV_COLUMNS)[number], string>>;

function failureRow(kind: string, failure: ReportFailure): CsvRow {
  return {
    kind,
    run: String(failure.runId),
    object: failure.object,
    sourceId: failure.sourceId,
    field: failure.field ?? '',
    code: failure.code,
    value: failure.value ?? '',
    message: failure.message,
  };
}

function renderCsv(report: RunReport): string {
  const rows: CsvRow[] = [];
  for (const failure of report.failures) rows.push(failureRow('failure', failure));
  for (const warning of report.warnings) rows.push(failureRow('warning', warning));
  for (const conflict of report.conflicts) {
    rows.push({
      kind: 'conflict',
      run: String(report.run.id),
      object: conflict.object,
      sourceId: conflict.sourceId,
      targetId: conflict.targetId,
      field: conflict.field,
      sourceValue: formatValue(conflict.sourceValue),
      targetValue: formatValue(conflict.targetValue),
      writtenValue: formatValue(conflict.writtenValue),
      resolution: conflict.resolution,
    });
  }
  for (const issue of report.matchIssues) {
    rows.push({
      kind: `match-${issue.kind}`,
      run: String(report.run.id),
      object: issue.object,
      sourceId: issue.sourceId,
      targetId: issue.kind === 'ambiguous' ? issue.candidates.join(' ') : '',
      value: issue.key,
      message:
        issue.kind === 'ambiguous'
          ? `${issue.candidates.length} target records share this key`
          : `duplicate of source record ${issue.candidates.join(' ')}`,
    });
  }
  for (const failure of report.outstandingFailures) rows.push(failureRow('outstanding-failure', failure));
  const safe = rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, defuseFormula(value)])));
  return stringify(safe, { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'unix' });
}

/**
 * Values come from CRM data, and a note starting with "=" must not run as a formula when the CSV is opened
 * in a spreadsheet (CSV injection, https://owasp.org/www-community/attacks/CSV_Injection): such cells get a
 * leading apostrophe. csv-stringify's `escape_formulas` would also mangle every phone number ("+49 …") and
 * negative amount, so numbers and phone-like values starting with + or - are left alone.
 */
export function defuseFormula(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return value;
  const first = value[0]!;
  if (first === '=' || first === '@' || first === '\t' || first === '\r') return `'${value}`;
  if ((first === '+' || first === '-') && !/^[+-][\d\s()./-]*$/.test(value)) return `'${value}`;
  return value;
}

function countsTable(report: RunReport): string {
  const columns = countColumns(report.totals);
  const rows = report.objects.map((object) => [object.object, ...columns.map((key) => formatNumber(object.counts[key]))]);
  if (report.objects.length > 1) rows.push(['total', ...columns.map((key) => formatNumber(report.totals[key]))]);
  return formatTable([{ header: 'object' }, ...columns.map((key) => ({ header: key, align: 'right' as const }))], rows);
}

function tallyLine(tally: Record<string, number>): string {
  return Object.entries(tally)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([key, count]) => `${key} ${formatNumber(count)}`)
    .join(', ');
}

function renderText(report: RunReport): string {
  const { run } = report;
  const lines: string[] = [];
  lines.push(`Run ${run.id} · ${run.kind}${run.dryRun ? ' (dry run)' : ''} · ${run.status}`);
  lines.push(
    `Started ${run.startedAt}` +
      (run.finishedAt ? `, finished ${run.finishedAt} (${formatSeconds(run.durationSeconds)})` : ', still running or interrupted'),
  );
  if (run.highWaterMark) lines.push(`High-water mark: ${run.highWaterMark}`);
  if (run.parentRunId !== null) lines.push(`Acts on run ${run.parentRunId}`);
  if (run.undoneByRunId !== null) lines.push(`Undone by run ${run.undoneByRunId}`);
  if (run.error) lines.push(`Error: ${run.error}`);
  lines.push('');
  lines.push(report.objects.length > 0 ? countsTable(report) : 'No records were processed.');

  if (report.failures.length > 0) {
    lines.push('', `${run.dryRun ? 'Would fail (dry run, nothing was written)' : 'Failures'}: ${formatNumber(report.failedRecords)} record${report.failedRecords === 1 ? '' : 's'} (${tallyLine(report.failuresByCode)})`);
    const shown = report.failures.slice(0, TEXT_LIST_LIMIT);
    lines.push(
      formatTable(
        [{ header: 'object' }, { header: 'source id' }, { header: 'code' }, { header: 'field' }, { header: 'value' }, { header: 'message' }],
        shown.map((failure) => [
          failure.object,
          failure.sourceId,
          failure.code,
          failure.field ?? '',
          shorten(failure.value ?? '', 30),
          shorten(failure.message, 70),
        ]),
      ),
    );
    if (report.failures.length > shown.length) lines.push(`… and ${formatNumber(report.failures.length - shown.length)} more (--format csv lists them all)`);
  }

  const deletedInSource = report.warnings.filter((warning) => warning.code === 'DELETED_IN_SOURCE');
  const written = report.warnings.filter((warning) => warning.code !== 'DELETED_IN_SOURCE');
  if (written.length > 0) {
    const records = new Set(written.map((warning) => `${warning.object}\u0000${warning.sourceId}`)).size;
    const { DELETED_IN_SOURCE: _deleted, ...byCode } = report.warningsByCode;
    lines.push('', `Warnings: ${formatNumber(records)} record${records === 1 ? ' was' : 's were'} written with a problem (${tallyLine(byCode)})`);
    for (const warning of written.slice(0, 5)) lines.push(`  ${shorten(warning.message, 110)}`);
    if (written.length > 5) lines.push(`… and ${formatNumber(written.length - 5)} more (--format csv lists them all)`);
  }
  if (deletedInSource.length > 0) {
    lines.push('', `Deleted in the source, not propagated: ${formatNumber(deletedInSource.length)} (the target keeps them)`);
    for (const warning of deletedInSource.slice(0, 5)) lines.push(`  ${shorten(warning.message, 110)}`);
    if (deletedInSource.length > 5) lines.push(`… and ${formatNumber(deletedInSource.length - 5)} more (--format csv lists them all)`);
  }

  if (report.conflicts.length > 0) {
    lines.push('', `Conflicts settled: ${formatNumber(report.conflicts.length)} (${tallyLine(report.conflictsByResolution)})`);
    const shown = report.conflicts.slice(0, TEXT_LIST_LIMIT);
    lines.push(
      formatTable(
        [{ header: 'object' }, { header: 'source id' }, { header: 'field' }, { header: 'source value' }, { header: 'target value' }, { header: 'resolution' }],
        shown.map((conflict) => [
          conflict.object,
          conflict.sourceId,
          conflict.field,
          shorten(formatValue(conflict.sourceValue), 30),
          shorten(formatValue(conflict.targetValue), 30),
          conflict.resolution,
        ]),
      ),
    );
    if (report.conflicts.length > shown.length) lines.push(`… and ${formatNumber(report.conflicts.length - shown.length)} more (--format csv lists them all)`);
  }

  if (report.matchIssues.length > 0) {
    const ambiguous = report.matchIssues.filter((issue) => issue.kind === 'ambiguous').length;
    const duplicates = report.matchIssues.length - ambiguous;
    lines.push('', `Match issues: ${formatNumber(ambiguous)} ambiguous (held back until linked), ${formatNumber(duplicates)} source duplicates`);
  }

  if (report.outstandingFailures.length > 0) {
    const runs = [...new Set(report.outstandingFailures.map((failure) => failure.runId))].sort((a, b) => a - b);
    lines.push(
      '',
      `Outstanding failures from earlier runs: ${formatNumber(report.openFailures.fromEarlierRuns)} record${report.openFailures.fromEarlierRuns === 1 ? '' : 's'} ` +
        `(runs ${runs.join(', ')}; \`ferry retry <run>\` re-attempts them)`,
    );
  }
  if (report.openFailures.total > 0) {
    const objects = Object.entries(report.openFailures.byObject).map(([object, count]) => `${object} ${formatNumber(count)}`);
    lines.push('', `Open failures now (all runs): ${formatNumber(report.openFailures.total)} record${report.openFailures.total === 1 ? '' : 's'} (${objects.join(', ')})`);
  }
  return `${lines.join('\n')}\n`;
}
