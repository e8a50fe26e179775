import { addCounts, emptyCounts, type Counts } from '../core/progress.js';
import { emptyVerifyCounts, openFailuresNote, type RunResult, type VerifyObjectCounts, type VerifyResult } from '../engine/types.js';
import { countColumns, formatNumber, formatSeconds, formatTable, formatValue, shorten, type ReportFailure, type RunReport } from '../report/index.js';
import { exitCodeForRunStatus } from './exit-codes.js';
import type { Outcome, Output } from './io.js';

export function totalCounts(counts: Record<string, Counts>): Counts {
  const total = emptyCounts();
  for (const value of Object.values(counts)) addCounts(total, value);
  return total;
}

/** Per-object counts with every counter present (older ledgers may lack one). */
function completeCounts(counts: Record<string, Counts>): Record<string, Counts> {
  return Object.fromEntries(Object.entries(counts).map(([object, value]) => [object, addCounts(emptyCounts(), value)]));
}

/** The counts table printed after every run. */
export function countsTable(counts: Record<string, Counts>): string {
  const objects = Object.entries(completeCounts(counts));
  const total = totalCounts(counts);
  const columns = countColumns(total);
  const rows = objects.map(([object, value]) => [object, ...columns.map((key) => formatNumber(value[key]))]);
  if (objects.length > 1) rows.push(['total', ...columns.map((key) => formatNumber(total[key]))]);
  return formatTable([{ header: 'object' }, ...columns.map((key) => ({ header: key, align: 'right' as const }))], rows);
}

/** `CODE n, CODE n`, most frequent first. */
function codeLine(byCode: Record<string, number>): string {
  return Object.entries(byCode)
    .sort((a, b) => b[1] - a[1])
    .map(([code, count]) => `${code} ${formatNumber(count)}`)
    .join(', ');
}

/** How many conflicts the summary shows with both values; the report has them all. */
const CONFLICT_EXAMPLES = 3;
/** How many failures the summary names (record, field, value, reason); the report has them all. */
const FAILURE_EXAMPLES = 5;
/** How many failures (and warnings) --json lists; `failures.total` counts them all, the report lists them all. */
const JSON_FAILURE_LIMIT = 100;

/** `contacts 17 email = "not-an-email": <message>`: the record, the field and the value, then why. */
export function failureLine(failure: ReportFailure): string {
  const field = failure.field ? ` ${failure.field}${failure.value !== null ? ` = ${shorten(failure.value, 40)}` : ''}` : '';
  // Messages usually start with the record already (`deals 3: ...`): not twice.
  const prefix = `${failure.object} ${failure.sourceId}: `;
  const message = failure.message.startsWith(prefix) ? failure.message.slice(prefix.length) : failure.message;
  return `${failure.object} ${failure.sourceId}${field}: ${failure.code}: ${shorten(message, 120)}`;
}

const failureJson = (failure: ReportFailure) => ({
  object: failure.object,
  sourceId: failure.sourceId,
  code: failure.code,
  field: failure.field,
  value: failure.value,
  message: failure.message,
});

/**
 * The estimate with its API cost in whole units, rounded up: a vendor that writes records in batches (HubSpot:
 * 100 per request) declares a fraction of a request per record, and a forecast of 40.37 requests means 41.
 */
function wholeCost(estimate: NonNullable<RunResult['estimate']>): NonNullable<RunResult['estimate']> {
  if (!estimate.cost) return estimate;
  return { ...estimate, cost: { ...estimate.cost, amount: Math.ceil(Math.round(estimate.cost.amount * 1e6) / 1e6) } };
}

/**
 * The --json object of a run command. Keys are stable (scripts parse them): command, runId, kind, status,
 * dryRun, resumed, counts, totals, estimate (dry runs), messages, failures, warnings, conflicts,
 * openFailures, outstandingFailures, report. Failure and warning totals count distinct records; their
 * `records` list the first 100 rows (object, sourceId, code, field, value, message), as the report does.
 * A dry run's would-be failures are in the ledger under its run like any run's, so these are the same.
 */
export function runJson(command: string, result: RunResult, report: RunReport | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    command,
    runId: result.runId,
    kind: result.kind,
    status: result.status,
    dryRun: result.dryRun,
    resumed: result.resumed,
    counts: completeCounts(result.counts),
    totals: totalCounts(result.counts),
    ...(result.estimate ? { estimate: wholeCost(result.estimate) } : {}),
    messages: result.messages,
    failures: report ? { total: report.failedRecords, byCode: report.failuresByCode, records: report.failures.slice(0, JSON_FAILURE_LIMIT).map(failureJson) } : undefined,
    warnings: report ? { total: report.warnedRecords, byCode: report.warningsByCode, records: report.warnings.slice(0, JSON_FAILURE_LIMIT).map(failureJson) } : undefined,
    conflicts: report ? { total: report.conflicts.length, byResolution: report.conflictsByResolution } : undefined,
    openFailures: report ? { total: report.openFailures.total, byObject: report.openFailures.byObject } : undefined,
    outstandingFailures: report?.openFailures.fromEarlierRuns,
    report: `ferry report ${result.runId}`,
    ...extra,
  };
}

/** Prints what a run did: counts, speed, conflicts settled (with examples), failures, the forecast of a dry run, and where the report is. */
export function printRunSummary(out: Output, result: RunResult, report: RunReport | undefined, shownMessages: Set<string> = new Set()): void {
  const totals = totalCounts(result.counts);
  out.line('');
  const status = result.dryRun ? 'dry run, nothing was written' : result.status.replaceAll('_', ' ');
  out.line(`Run ${result.runId} (${result.kind}${result.resumed ? ', resumed' : ''}): ${status}.`);
  if (Object.keys(result.counts).length > 0) out.line(countsTable(result.counts));

  const seconds = report?.run.durationSeconds;
  if (!result.dryRun && seconds !== null && seconds !== undefined && totals.read > 0) {
    const speed = seconds > 0 ? `, ${formatNumber(Math.round(totals.read / seconds))} records/s` : '';
    out.line(`Took ${formatSeconds(seconds)}${speed}.`);
  }

  if (result.dryRun) {
    out.line('');
    out.line('Forecast (nothing was written):');
    out.line(`  to create:  ${formatNumber(totals.created)}`);
    out.line(`  to update:  ${formatNumber(totals.updated)}`);
    out.line(`  unchanged:  ${formatNumber(totals.unchanged)}`);
    out.line(`  conflicts:  ${formatNumber(totals.conflicts)}`);
    // The report's figure (distinct records in the ledger), the one --json and `ferry report` give.
    const wouldFail = report ? report.failedRecords : totals.failed;
    if (wouldFail > 0) out.line(`  would fail: ${formatNumber(wouldFail)}`);
    if (result.estimate) {
      out.line(`  API calls:  ${formatNumber(result.estimate.apiCalls)}`);
      out.line(`  time:       about ${formatSeconds(result.estimate.seconds)}`);
      const cost = wholeCost(result.estimate).cost;
      if (cost) out.line(`  API cost:   ${formatNumber(cost.amount)} ${cost.unit}${cost.remaining !== undefined ? ` (${formatNumber(cost.remaining)} left today)` : ''}`);
    }
  }

  if (report && report.conflicts.length > 0) {
    const settled = Object.entries(report.conflictsByResolution)
      .map(([resolution, count]) => `${formatNumber(count)} ${resolution}`)
      .join(', ');
    out.line('');
    out.line(
      `${result.dryRun ? 'Conflicts the run would settle' : 'Conflicts settled'}: ${formatNumber(report.conflicts.length)} (${settled}). Fields changed on both sides since the last run:`,
    );
    for (const conflict of report.conflicts.slice(0, CONFLICT_EXAMPLES)) {
      out.line(
        `  ${conflict.object} ${conflict.sourceId} ${conflict.field}: source ${JSON.stringify(shorten(formatValue(conflict.sourceValue), 40))}, ` +
          `target ${JSON.stringify(shorten(formatValue(conflict.targetValue), 40))} -> ${conflict.resolution}`,
      );
    }
  }

  if (report && report.failures.length > 0) {
    out.line('');
    out.line(
      result.dryRun
        ? `Would fail: ${formatNumber(report.failedRecords)} record${report.failedRecords === 1 ? '' : 's'} (${codeLine(report.failuresByCode)}), all listed in \`ferry report ${result.runId}\`:`
        : `Failed records: ${formatNumber(report.failedRecords)} (${codeLine(report.failuresByCode)}). \`ferry retry ${result.runId}\` re-attempts them after a fix.`,
    );
    for (const failure of report.failures.slice(0, FAILURE_EXAMPLES)) out.line(`  ${failureLine(failure)}`);
    if (report.failures.length > FAILURE_EXAMPLES) out.line(`  … and ${formatNumber(report.failures.length - FAILURE_EXAMPLES)} more in the report`);
  }
  // Deletions in the source are warnings too, but nothing was written: the run's messages name them.
  const written = report ? report.warnings.filter((warning) => warning.code !== 'DELETED_IN_SOURCE') : [];
  if (report && written.length > 0) {
    const records = new Set(written.map((warning) => `${warning.object}\u0000${warning.sourceId}`)).size;
    const { DELETED_IN_SOURCE: _deleted, ...byCode } = report.warningsByCode;
    out.line(`Warnings: ${formatNumber(records)} record${records === 1 ? ' was' : 's were'} written with a problem (${codeLine(byCode)}), listed in the report.`);
  }
  // The same figure and words as a delta's closing note (which then is not repeated).
  if (report && report.openFailures.total > 0) {
    const note = openFailuresNote(report.openFailures.total);
    if (!result.messages.includes(note)) out.line(note);
  }

  const messages = result.messages.filter((message) => !shownMessages.has(message));
  if (messages.length > 0) {
    out.line('');
    for (const message of messages) out.line(`Note: ${message}`);
  }
  out.line('');
  out.line(`Report: ferry report ${result.runId}   (add --format html --output report-${result.runId}.html for a page to share)`);
}

export function runOutcome(command: string, result: RunResult, report: RunReport | undefined, extra: Record<string, unknown> = {}): Outcome {
  return { exitCode: exitCodeForRunStatus(result.status), json: runJson(command, result, report, extra) };
}

/** Verify's figures summed over objects. */
export function verifyTotals(result: VerifyResult): VerifyObjectCounts & { problems: number; findings: number } {
  const total = emptyVerifyCounts();
  for (const value of Object.values(result.objects)) {
    for (const key of Object.keys(total) as (keyof VerifyObjectCounts)[]) total[key] += value[key] ?? 0;
  }
  const problems = total.missing + total.mismatched + total.brokenReferences + total.notMigrated + total.filesMissing + total.filesUnattached + total.filesMismatched;
  return { ...total, problems, findings: problems + total.editedInTarget };
}

/** Prints verify's findings: per object (every finding counted), then the first of them, problems first. */
export function printVerify(out: Output, result: VerifyResult): void {
  const totals = verifyTotals(result);
  // The file columns show when Ferry copied files (a project without attachments keeps the table it had).
  const keys: (keyof VerifyObjectCounts)[] = ['checked', 'missing', 'mismatched', 'brokenReferences', 'notMigrated', 'editedInTarget'];
  if (totals.filesChecked > 0) keys.push('filesChecked', 'filesMissing', 'filesUnattached', 'filesMismatched');
  const rows = Object.entries(result.objects).map(([object, value]) => [object, ...keys.map((key) => formatNumber(value[key] ?? 0))]);
  if (rows.length > 1) rows.push(['total', ...keys.map((key) => formatNumber(totals[key]))]);
  out.line(formatTable([{ header: 'object' }, ...keys.map((key) => ({ header: VERIFY_HEADERS[key], align: 'right' as const }))], rows));
  const shown = result.issues.slice(0, VERIFY_SHOWN);
  if (shown.length > 0) {
    out.line('');
    const edits = totals.editedInTarget > 0 ? `, ${plural(totals.editedInTarget, 'field')} edited in the target since Ferry wrote ${totals.editedInTarget === 1 ? 'it' : 'them'} (kept on purpose)` : '';
    const which = totals.findings > shown.length ? `; the first ${formatNumber(shown.length)}${totals.problems > 0 && totals.editedInTarget > 0 ? ', problems first' : ''} (--json lists ${formatNumber(Math.min(totals.findings, result.issues.length))})` : '';
    out.line(`${plural(totals.findings, 'finding')}: ${plural(totals.problems, 'problem')}${edits}${which}:`);
    for (const issue of shown) {
      const where = `${issue.object} ${issue.sourceId}${issue.targetId ? ` -> ${issue.targetId}` : ''}`;
      const detail = issue.file
        ? ` ${JSON.stringify(issue.file)}${issue.fileId ? ` (file ${issue.fileId})` : ''}${issue.expected !== undefined ? `: expected ${formatValue(issue.expected)}, found ${formatValue(issue.actual)}` : ''}`
        : issue.field
        ? ` ${issue.field}: expected ${JSON.stringify(shorten(formatValue(issue.expected), 40))}, found ${JSON.stringify(shorten(formatValue(issue.actual), 40))}`
        : '';
      out.line(`  ${where}: ${issue.kind}${detail}${issue.reason && issue.reason !== 'unknown' ? ` (${issue.reason})` : ''}`);
    }
  }
  out.line('');
  out.line(
    result.ok
      ? `Verify: ${plural(totals.checked, 'record')} checked; the target matches the source through the ledger${totals.editedInTarget > 0 ? ', apart from the fields people edited in the target' : ''}.`
      : `Verify found ${plural(totals.problems, 'problem')} in ${plural(totals.checked + totals.notMigrated, 'record')} (exit code 3).`,
  );
}

function plural(count: number, word: string): string {
  return `${formatNumber(count)} ${count === 1 ? word : `${word}s`}`;
}

const VERIFY_HEADERS: Record<keyof VerifyObjectCounts, string> = {
  checked: 'checked',
  missing: 'missing',
  mismatched: 'fields differ',
  brokenReferences: 'broken links',
  notMigrated: 'not migrated',
  editedInTarget: 'edited in target (kept)',
  filesChecked: 'files',
  filesMissing: 'files missing',
  filesUnattached: 'not attached',
  filesMismatched: 'files differ',
};

/** How many findings `ferry verify` prints; --json has the first 1,000. */
const VERIFY_SHOWN = 20;
