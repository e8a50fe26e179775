import type { Counts } from '../core/progress.js';
import type { ReportFailure, RunReport } from './build.js';
import { formatNumber, formatSeconds, formatValue } from './format.js';

/**
 * Escapes text for HTML element content and double- or single-quoted attribute values. Every value that
 * reaches the page goes through here: CRM notes routinely contain HTML, and hostile ones contain scripts.
 */
export function escapeHtml(value: unknown): string {
  return formatValue(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Rows per table: a run with 200,000 failures still gives a page a browser opens; the CSV has them all. */
const HTML_ROW_LIMIT = 2000;
/** Long notes are cut in the page (the full value is in the CSV and JSON forms). */
const HTML_VALUE_LIMIT = 300;

const OUTCOMES: { key: keyof Counts; label: string; color: string }[] = [
  { key: 'created', label: 'created', color: '#2e7d32' },
  { key: 'updated', label: 'updated', color: '#1565c0' },
  { key: 'matched', label: 'matched', color: '#6a1b9a' },
  { key: 'unchanged', label: 'unchanged', color: '#90a4ae' },
  { key: 'skipped', label: 'skipped', color: '#f9a825' },
  { key: 'filtered', label: 'filtered', color: '#bdbdbd' },
  { key: 'failed', label: 'failed', color: '#c62828' },
  { key: 'deleted', label: 'deleted', color: '#4e342e' },
];

const COUNT_KEYS: (keyof Counts)[] = ['read', 'reread', 'created', 'updated', 'matched', 'unchanged', 'skipped', 'filtered', 'failed', 'conflicts', 'deleted'];

function cell(value: unknown, limit = HTML_VALUE_LIMIT): string {
  const text = formatValue(value);
  const cut = text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
  return `<td>${escapeHtml(cut)}</td>`;
}

const numberCell = (value: number): string => `<td class="n">${formatNumber(value)}</td>`;

function table(headers: string[], rows: string[], total: number): string {
  const note =
    total > rows.length
      ? `<p class="note">Showing the first ${formatNumber(rows.length)} of ${formatNumber(total)}. <code>ferry report &lt;run&gt; --format csv</code> lists them all.</p>`
      : '';
  return `<table><thead><tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>${note}`;
}

/** Stacked horizontal bars: one bar per object, one segment per outcome. */
function outcomesChart(report: RunReport): string {
  const objects = report.objects.filter((object) => OUTCOMES.some((outcome) => object.counts[outcome.key] > 0));
  if (objects.length === 0) return '';
  const labelWidth = 150;
  const barWidth = 520;
  const rowHeight = 26;
  const legendHeight = 28;
  const max = Math.max(...objects.map((object) => OUTCOMES.reduce((sum, outcome) => sum + object.counts[outcome.key], 0)));
  const parts: string[] = [];
  objects.forEach((object, row) => {
    const y = row * rowHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${escapeHtml(object.object)}</text>`);
    let x = labelWidth;
    let total = 0;
    for (const outcome of OUTCOMES) {
      const value = object.counts[outcome.key];
      if (value <= 0) continue;
      total += value;
      const width = (value / max) * barWidth;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y + 4}" width="${Math.max(width, 1).toFixed(1)}" height="${rowHeight - 8}" fill="${outcome.color}">` +
          `<title>${escapeHtml(`${object.object}: ${formatNumber(value)} ${outcome.label}`)}</title></rect>`,
      );
      x += width;
    }
    parts.push(`<text x="${(x + 6).toFixed(1)}" y="${y + 17}">${formatNumber(total)}</text>`);
  });
  const legendY = objects.length * rowHeight + 18;
  // Each legend entry is as wide as its label (about 7 px a character at 12 px), so long labels never overlap.
  let legendX = labelWidth;
  for (const outcome of OUTCOMES) {
    parts.push(`<rect x="${legendX}" y="${legendY - 10}" width="12" height="12" fill="${outcome.color}"></rect>`);
    parts.push(`<text x="${legendX + 16}" y="${legendY}">${outcome.label}</text>`);
    legendX += 16 + outcome.label.length * 7 + 14;
  }
  const height = objects.length * rowHeight + legendHeight;
  return (
    `<svg class="chart" role="img" aria-label="Records per object by outcome" width="${Math.max(labelWidth + barWidth + 80, legendX)}" height="${height}" ` +
    `viewBox="0 0 ${Math.max(labelWidth + barWidth + 80, legendX)} ${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`
  );
}

function barChart(label: string, entries: [string, number][], color: string): string {
  if (entries.length === 0) return '';
  const labelWidth = 190;
  const barWidth = 460;
  const rowHeight = 24;
  const max = Math.max(...entries.map(([, value]) => value));
  const parts = entries.map(([name, value], row) => {
    const y = row * rowHeight;
    const width = Math.max((value / max) * barWidth, 1);
    return (
      `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(name)}</text>` +
      `<rect x="${labelWidth}" y="${y + 4}" width="${width.toFixed(1)}" height="${rowHeight - 8}" fill="${color}"></rect>` +
      `<text x="${(labelWidth + width + 6).toFixed(1)}" y="${y + 16}">${formatNumber(value)}</text>`
    );
  });
  const height = entries.length * rowHeight;
  return (
    `<svg class="chart" role="img" aria-label="${escapeHtml(label)}" width="${labelWidth + barWidth + 80}" height="${height}" ` +
    `viewBox="0 0 ${labelWidth + barWidth + 80} ${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`
  );
}

const sortedTally = (tally: Record<string, number>): [string, number][] =>
  Object.entries(tally).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

function failureRows(failures: ReportFailure[], withRun: boolean): string[] {
  return failures
    .slice(0, HTML_ROW_LIMIT)
    .map(
      (failure) =>
        `<tr>${withRun ? numberCell(failure.runId) : ''}${cell(failure.object)}${cell(failure.sourceId)}${cell(failure.code)}${cell(failure.field)}${cell(failure.value)}${cell(failure.message)}</tr>`,
    );
}

// A long unbroken value (an id, a URL, a field name) may break anywhere and a chart shrinks to the page, so the
// report never scrolls sideways (break-word does not narrow a table column; anywhere does).
const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2933}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d9e2ec;padding-bottom:.25rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d9e2ec;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f0f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:#52606d}dd{margin:0}
.status{display:inline-block;padding:.1rem .5rem;border-radius:.75rem;background:#e3f2fd}.status.completed{background:#e8f5e9}
.status.completed_with_failures,.status.failed{background:#ffebee}.note{color:#52606d}.chart text{font:12px system-ui,sans-serif;fill:#1f2933}
.chart{max-width:100%;height:auto}dd,code{overflow-wrap:anywhere;min-width:0}
`;

/** One self-contained HTML page: no external assets, no scripts, every value escaped. */
export function renderHtml(report: RunReport): string {
  const { run } = report;
  const title = `Ferry run ${run.id} (${run.kind}${run.dryRun ? ', dry run' : ''})`;

  const facts: [string, string][] = [
    ['Status', `<span class="status ${escapeHtml(run.status)}">${escapeHtml(run.status)}</span>`],
    ['Started (UTC)', escapeHtml(run.startedAt)],
    ['Finished (UTC)', escapeHtml(run.finishedAt ?? 'not finished')],
    ['Duration', escapeHtml(formatSeconds(run.durationSeconds))],
  ];
  if (run.highWaterMark) facts.push(['High-water mark', escapeHtml(run.highWaterMark)]);
  if (run.kind === 'delta') facts.push(['Mode', escapeHtml([run.creates ? 'create-new' : '', run.updates ? 'update-changed' : ''].filter(Boolean).join(' + '))]);
  if (run.parentRunId !== null) facts.push(['Acts on run', String(run.parentRunId)]);
  if (run.undoneByRunId !== null) facts.push(['Undone by run', String(run.undoneByRunId)]);
  if (run.error) facts.push(['Error', escapeHtml(run.error)]);

  const countRows = report.objects.map(
    (object) => `<tr>${cell(object.object)}${COUNT_KEYS.map((key) => numberCell(object.counts[key])).join('')}</tr>`,
  );
  if (report.objects.length > 1) {
    countRows.push(`<tr class="total"><td>total</td>${COUNT_KEYS.map((key) => numberCell(report.totals[key])).join('')}</tr>`);
  }

  const sections: string[] = [];
  sections.push(`<h2>Records per object</h2>`);
  sections.push(report.objects.length > 0 ? table(['object', ...COUNT_KEYS], countRows, countRows.length) : '<p>No records were processed.</p>');
  sections.push(outcomesChart(report));

  // Headed by distinct records, the figure the CLI summary and --json give (a record can fail on two fields).
  const failedRecords = `${formatNumber(report.failedRecords)} record${report.failedRecords === 1 ? '' : 's'}`;
  sections.push(`<h2>${run.dryRun ? 'Would fail' : 'Failures'} (${failedRecords})</h2>`);
  if (report.failures.length === 0) sections.push(run.dryRun ? '<p>No record would fail.</p>' : '<p>Every record went through.</p>');
  else {
    if (run.dryRun) sections.push('<p class="note">A dry run writes nothing: these records would fail in the real run, for the reason given.</p>');
    sections.push(barChart('Failures by code', sortedTally(report.failuresByCode), '#c62828'));
    sections.push(table(['object', 'source id', 'code', 'field', 'value', 'message'], failureRows(report.failures, false), report.failures.length));
  }

  if (report.warnings.length > 0) {
    sections.push(`<h2>Warnings (${formatNumber(report.warnings.length)})</h2>`);
    sections.push('<p class="note">These records were written, with a problem worth knowing (for example a reference to a record that is not in the target).</p>');
    sections.push(table(['object', 'source id', 'code', 'field', 'value', 'message'], failureRows(report.warnings, false), report.warnings.length));
  }

  if (report.conflicts.length > 0 || run.kind === 'delta') {
    sections.push(`<h2>Conflicts (${formatNumber(report.conflicts.length)})</h2>`);
    if (report.conflicts.length === 0) sections.push('<p>No field was changed on both sides.</p>');
    else {
      sections.push(
        `<p class="note">Fields changed in the source and in the target since Ferry last wrote them. ` +
          `Settled: ${escapeHtml(sortedTally(report.conflictsByResolution).map(([key, count]) => `${key} ${formatNumber(count)}`).join(', '))}.</p>`,
      );
      const rows = report.conflicts
        .slice(0, HTML_ROW_LIMIT)
        .map(
          (conflict) =>
            `<tr>${cell(conflict.object)}${cell(conflict.sourceId)}${cell(conflict.targetId)}${cell(conflict.field)}` +
            `${cell(conflict.sourceValue)}${cell(conflict.targetValue)}${cell(conflict.writtenValue)}${cell(conflict.resolution)}</tr>`,
        );
      sections.push(
        table(['object', 'source id', 'target id', 'field', 'source value', 'target value', 'last written by Ferry', 'resolution'], rows, report.conflicts.length),
      );
    }
  }

  if (report.matchIssues.length > 0) {
    sections.push(`<h2>Match issues (${formatNumber(report.matchIssues.length)})</h2>`);
    sections.push(
      '<p class="note">Ambiguous: several target records share the key; held back until linked by hand. Duplicate: several source records share the key.</p>',
    );
    const rows = report.matchIssues
      .slice(0, HTML_ROW_LIMIT)
      .map((issue) => `<tr>${cell(issue.object)}${cell(issue.sourceId)}${cell(issue.kind)}${cell(issue.key)}${cell(issue.candidates.join(', '))}</tr>`);
    sections.push(table(['object', 'source id', 'kind', 'key', 'candidates / leader'], rows, report.matchIssues.length));
  }

  if (report.outstandingFailures.length > 0) {
    sections.push(`<h2>Outstanding failures from earlier runs (${formatNumber(report.outstandingFailures.length)})</h2>`);
    sections.push(
      `<p class="note">${formatNumber(report.openFailures.fromEarlierRuns)} records; <code>ferry retry &lt;run&gt;</code> re-attempts a run&#39;s failed records.</p>`,
    );
    sections.push(
      table(['run', 'object', 'source id', 'code', 'field', 'value', 'message'], failureRows(report.outstandingFailures, true), report.outstandingFailures.length),
    );
  }

  // The CSP forbids every script and remote load: even a value that escaped escaping could not run.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<dl>${facts.map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${value}</dd>`).join('')}</dl>
${sections.filter(Boolean).join('\n')}
</body>
</html>
`;
}
