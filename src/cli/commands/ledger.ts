import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { FerryError } from '../../core/errors.js';
import type { Run } from '../../ledger/index.js';
import { buildRunReport, formatNumber, listRunsTable, REPORT_FORMATS, renderReport, type ReportFormat } from '../../report/index.js';
import { positiveInteger, projectOptions, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { ledgerLocation, withLedger } from '../open-project.js';
import type { PartsProgress } from '../../workers/progress.js';
import { totalCounts } from '../summary.js';

const EXTENSION_FORMATS: Record<string, ReportFormat> = { '.html': 'html', '.htm': 'html', '.csv': 'csv', '.json': 'json', '.txt': 'text' };

/** --format wins; otherwise the output file's extension; otherwise text. */
export function reportFormat(format: ReportFormat | undefined, output: string | undefined): ReportFormat {
  if (format) return format;
  if (output) return EXTENSION_FORMATS[extname(output).toLowerCase()] ?? 'text';
  return 'text';
}

function runJson(run: Run): Record<string, unknown> {
  return { ...run, totals: totalCounts(run.counts) };
}

export function registerLedgerCommands(program: Command, context: CommandContext): void {
  program
    .command('runs')
    .description('list the runs in the ledger, oldest first; with a run id, that run (a queued run: its parts, the worker of each, their counts)')
    .argument('[run]', 'run id: show only this run, with its parts when it was written by workers', positiveInteger('[run]'))
    .action(async (only: number | undefined, _options: unknown, command: Command) => {
      const { runs, openFailures, holder, parts } = await withLedger(projectOptions(context, command), async (ledger) => {
        const runs = only === undefined ? await ledger.listRuns() : [await ledger.requireRun(only)];
        // A queued run written in parts by workers (docs/workers.md): each part's state, the worker holding
        // its lease, its counts as checkpointed with its pages. All runs listed: those in progress; one run: it.
        const parts: PartsProgress[] = [];
        if (ledger.dialect === 'postgres') {
          const { partsProgress } = await import('../../workers/progress.js');
          const { location } = await ledgerLocation(projectOptions(context, command));
          for (const run of runs.filter((candidate) => only !== undefined || candidate.status === 'running')) {
            const progress = await partsProgress(ledger, location, run.id);
            if (progress) parts.push(progress);
          }
        }
        return { runs, openFailures: await ledger.openFailureCounts(), holder: await ledger.lockHolder(), parts };
      });
      context.out.line(listRunsTable(runs));
      if (parts.length > 0) {
        const { partsLine, partsTable } = await import('../../workers/progress.js');
        for (const progress of parts) {
          context.out.line('');
          context.out.line(partsLine(progress, runs.find((run) => run.id === progress.runId)?.status).replace(/^run/, 'Run'));
          context.out.line(partsTable(progress));
        }
      }
      if (holder) {
        // Which process (a `ferry worker` or a command in a terminal) does the run in progress.
        context.out.line('');
        context.out.line(
          `${holder.runId !== null ? `Run ${holder.runId}` : 'A run (starting)'} is in process ${holder.pid} on ${holder.host} (since ${holder.acquiredAt}, last heartbeat ${holder.heartbeatAt}).`,
        );
      }
      if (openFailures.total > 0) {
        // Records, not failure rows: a record that failed in several runs is one open failure.
        context.out.line('');
        context.out.line(
          `Open failures: ${formatNumber(openFailures.total)} record${openFailures.total === 1 ? '' : 's'} not migrated ` +
            `(${Object.entries(openFailures.byObject).map(([object, count]) => `${object} ${formatNumber(count)}`).join(', ')}); ` +
            '`ferry report <run>` lists them, `ferry retry <run>` re-attempts them.',
        );
      }
      context.finish({ exitCode: EXIT.ok, json: { command: 'runs', runs: runs.map(runJson), openFailures, inProgress: holder ?? null, parts } });
    });

  program
    .command('report')
    .description("a run's report: counts per object, failures, conflicts, match issues, outstanding failures")
    .argument('<run>', 'run id (see `ferry runs`)', positiveInteger('<run>'))
    .addOption(new Option('--format <format>', 'json, csv (one row per failure and conflict), html (one self-contained page) or text').choices(REPORT_FORMATS))
    .option('--output <file>', 'write to this file instead of stdout (the format follows its extension unless --format is given)')
    .action(async (runId: number, options: { format?: ReportFormat; output?: string }, command: Command) => {
      const report = await withLedger(projectOptions(context, command), (ledger) => buildRunReport(ledger, runId));
      const format = reportFormat(options.format, options.output);
      if (options.output) {
        const path = resolve(context.io.cwd, options.output);
        try {
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, renderReport(report, format), 'utf8');
        } catch (error) {
          throw new FerryError('USAGE', `Cannot write the report to ${path}: ${(error as Error).message}`, { path }, { cause: error });
        }
        context.out.line(`Report of run ${runId} (${format}) written to ${path}`);
        context.finish({ exitCode: EXIT.ok, json: { command: 'report', runId, format, output: path } });
        return;
      }
      if (context.out.json) {
        // --json prints one object: the report itself, plus the rendered text when another format was asked for.
        const rendered = format === 'json' || format === 'text' ? {} : { content: renderReport(report, format) };
        context.finish({ exitCode: EXIT.ok, json: { command: 'report', runId, format, report, ...rendered } });
        return;
      }
      context.io.stdout.write(renderReport(report, format));
      context.finish({ exitCode: EXIT.ok, json: { command: 'report', runId, format } });
    });
}
