import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { FerryError } from '../../core/errors.js';
import { ProgressStream } from '../../core/progress.js';
import { CONFLICT_POLICIES, type ConflictPolicy, type RerunObjectPreview, type RunResult } from '../../engine/types.js';
import type { DemoTarget } from '../demo-story.js';
import { buildRunReport, formatNumber } from '../../report/index.js';
import { globalOptions, positiveInteger, projectOptions, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import type { Outcome } from '../io.js';
import { resolveProjectPath, withProject, type OpenProject } from '../open-project.js';
import { attachProgressView } from '../progress-view.js';
import { addQueueFlags, checkQueueFlags, queueRun, type QueueFlags } from '../queued-run.js';
import { withGracefulStop } from '../signals.js';
import { printRunSummary, printVerify, runOutcome } from '../summary.js';

interface DryRunFlags {
  dryRun?: boolean;
  restart?: boolean;
}

function addRunFlags(command: Command): Command {
  return command
    .option('--dry-run', 'show what would happen (counts, API calls, time) without writing anything')
    .option('--restart', 'abandon an unfinished run of this command instead of resuming it');
}

/** Mapping warnings do not stop a run, but a person should know they exist. */
function warnAboutMapping(context: CommandContext, project: OpenProject): void {
  const count = project.mapping.warnings.length;
  if (count > 0 && !context.out.json) context.out.warn(`${count} mapping warning${count === 1 ? '' : 's'}; \`ferry check\` lists them.`);
}

/**
 * Opens the project, runs one engine call with the progress view attached, then prints the summary read
 * back from the ledger (the same data as `ferry report`).
 */
async function runEngineCommand(
  context: CommandContext,
  command: Command,
  name: string,
  start: (project: OpenProject, signal: AbortSignal) => Promise<{ result: RunResult; extra?: Record<string, unknown> }>,
): Promise<Outcome> {
  const progress = new ProgressStream();
  const view = attachProgressView(progress, context.out);
  // Ctrl-C pauses: the run stops after the page it is writing, recorded and resumable by the same
  // command. A second Ctrl-C stops at once (still resumable: the ledger is written before each write).
  try {
    return await withGracefulStop(
      ['SIGINT'],
      () => context.out.warn('Pausing after the current page (Ctrl-C again to stop at once). Run the same command to resume.'),
      (signal) =>
        withProject({ ...projectOptions(context, command), progress }, async (project) => {
          warnAboutMapping(context, project);
          const { result, extra } = await start(project, signal);
          view.stop();
          const report = await buildRunReport(project.ledger, result.runId);
          printRunSummary(context.out, result, report, view.shown);
          return runOutcome(name, result, report, extra);
        }),
    );
  } finally {
    view.stop();
  }
}

/** `companies 2, contacts 5` for the objects with a non-zero count. */
function perObjectLine(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([object, count]) => `${object} ${formatNumber(count)}`)
    .join(', ');
}

/** The --json form of the preview: records to delete per object (`rerunPreview`) and records kept (`rerunKeep`). */
function rerunJson(preview: Record<string, RerunObjectPreview>): { rerunPreview: Record<string, number>; rerunKeep: Record<string, number> } {
  const entries = Object.entries(preview);
  return {
    rerunPreview: Object.fromEntries(entries.map(([object, value]) => [object, value.delete])),
    rerunKeep: Object.fromEntries(entries.map(([object, value]) => [object, value.keep])),
  };
}

/** The warning before --rerun: what it will delete, and what it will keep because records Ferry did not create refer to it. */
export function rerunWarning(preview: Record<string, RerunObjectPreview>, dryRun = false): string {
  const { rerunPreview: deletes, rerunKeep: keeps } = rerunJson(preview);
  const total = Object.values(deletes).reduce((sum, count) => sum + count, 0);
  const kept = Object.values(keeps).reduce((sum, count) => sum + count, 0);
  const perObject = Object.entries(preview)
    .filter(([, value]) => value.delete > 0 || value.keep > 0)
    .map(([object, value]) => `${object}: delete ${formatNumber(value.delete)}${value.keep > 0 ? `, keep ${formatNumber(value.keep)}` : ''}`)
    .join('; ');
  return (
    `${dryRun ? '--rerun (dry run: nothing is deleted now) would first delete' : 'WARNING: --rerun first DELETES'} from the target the ` +
    `${formatNumber(total)} records that earlier runs created${perObject ? ` (${perObject})` : ''}, then migrate everything again. ` +
    (kept > 0
      ? `It keeps ${formatNumber(kept)} created record${kept === 1 ? '' : 's'} (${perObjectLine(keeps)}) still referenced by records Ferry did not create, and updates ${kept === 1 ? 'it' : 'them'} instead. `
      : '') +
    'Records that were only matched are kept. Edits people made to the deleted records in the target are lost.'
  );
}

async function confirmRerun(context: CommandContext, preview: Record<string, RerunObjectPreview>, yes: boolean | undefined): Promise<void> {
  const json = rerunJson(preview);
  const total = Object.values(json.rerunPreview).reduce((sum, count) => sum + count, 0);
  context.out.warn(rerunWarning(preview));
  if (yes) return;
  const answer = await context.out.ask('Type "yes" to delete them and migrate again: ');
  if (answer?.toLowerCase() === 'yes') return;
  throw new FerryError(
    'USAGE',
    answer === undefined
      ? `ferry migrate --rerun deletes ${formatNumber(total)} target records; add --yes to confirm (nothing was changed).`
      : 'Not confirmed; nothing was changed.',
    json,
  );
}

export function registerRunCommands(program: Command, context: CommandContext): void {
  addRunFlags(program.command('match').description('link source records to existing target records by their match keys (writes no record)')).action(
    async (options: DryRunFlags, command: Command) => {
      context.finish(
        await runEngineCommand(context, command, 'match', async (project, signal) => {
          const result = await project.engine.match({ dryRun: options.dryRun, restart: options.restart, signal });
          const issues = await project.ledger.listMatchIssues();
          const ambiguous = issues.filter((issue) => issue.kind === 'ambiguous').length;
          const duplicates = issues.length - ambiguous;
          if (issues.length > 0) {
            context.out.line(
              `Match issues: ${formatNumber(ambiguous)} ambiguous (several target candidates: held back until linked), ` +
                `${formatNumber(duplicates)} source duplicates.`,
            );
          }
          return { result, extra: { matchIssues: { ambiguous, duplicates } } };
        }),
      );
    },
  );

  addQueueFlags(addRunFlags(
    program
      .command('demo')
      .description('without a project file: the guided demo story in a new folder; with one: migrate a small linked sample per object')
      .option('--dir <folder>', 'demo story: folder to create (default ./ferry-demo, then ferry-demo-2, ...)')
      .option('--size <contacts>', 'demo story: number of sample contacts (other objects scale with it)', positiveInteger('--size'))
      .option('--seed <seed>', 'demo story: seed of the sample data', positiveInteger('--seed'))
      .addOption(
        new Option('--target <crm>', 'demo story: the "new CRM": a SQLite database, or HubSpot played by the in-process HubSpot emulator (default sqlite)').choices(
          ['sqlite', 'hubspot'] satisfies DemoTarget[],
        ),
      )
      .addOption(new Option('--source <crm>', 'demo story: the "legacy CRM": sample SQLite data, or Pipedrive or Salesforce played by its in-process emulator (default sample)').choices(['sample', 'pipedrive', 'salesforce']))
      .option('--keep', 'demo story with --target hubspot, --source pipedrive or --source salesforce: keep the in-process emulators running after the story, until Ctrl-C')
      .option('--hubspot-url <url>', 'demo story with --target hubspot: use the HubSpot API at this URL (an emulator started apart, or a sandbox account) instead of starting one')
      .option('--hubspot-token-env <variable>', 'demo story with --hubspot-url: the environment variable holding the access token', 'HUBSPOT_TOKEN')
      .addOption(
        new Option('--hubspot-burst <requests>', 'demo story with --hubspot-url: the account\'s burst limit per 10 s (HubSpot tiers: 100, 190, 250)').choices(['100', '190', '250']).default('100'),
      )
      .option('--sample-size <n>', 'project demo: records per object (default: options.demoSampleSize)', positiveInteger('--sample-size')),
  ), { parts: false }).action(
    async (
      options: DryRunFlags & QueueFlags & {
        dir?: string;
        size?: number;
        seed?: number;
        target?: DemoTarget;
        source?: 'sample' | 'pipedrive' | 'salesforce';
        keep?: boolean;
        sampleSize?: number;
        hubspotUrl?: string;
        hubspotTokenEnv: string;
        hubspotBurst: string;
      },
      command: Command,
    ) => {
      const globals = globalOptions(command);
      if (globals.config === undefined && !existsSync(resolveProjectPath({ cwd: context.io.cwd }))) {
        if (options.queue) throw new FerryError('USAGE', '--queue hands a project\'s demo to `ferry worker` processes; the demo story (no ferry.yaml here) runs in this process: drop --queue.');
        const emulatedSource = options.source === 'pipedrive' || options.source === 'salesforce';
        if (options.keep && options.target !== 'hubspot' && !emulatedSource) {
          throw new FerryError('USAGE', '--keep keeps the demo\'s emulators running: use it with `ferry demo --target hubspot`, `ferry demo --source pipedrive` or `ferry demo --source salesforce`.');
        }
        if (options.hubspotUrl !== undefined && options.target !== 'hubspot') throw new FerryError('USAGE', '--hubspot-url names the HubSpot account of `ferry demo --target hubspot`: add --target hubspot.');
        if (options.hubspotUrl !== undefined && options.keep && !emulatedSource) {
          throw new FerryError('USAGE', '--keep keeps the in-process emulator running; with --hubspot-url the account at that URL stays as it is anyway: drop --keep.');
        }
        const { runDemoStory } = await import('../demo-story.js');
        const { untilStopped } = await import('../signals.js');
        const hubspotAccount =
          options.hubspotUrl === undefined ? undefined : { url: options.hubspotUrl, tokenVariable: options.hubspotTokenEnv, burstLimit: Number(options.hubspotBurst) };
        context.finish(
          await runDemoStory(context, { dir: options.dir, size: options.size, seed: options.seed, target: options.target, source: options.source, keep: options.keep, hubspotAccount, untilStopped }),
        );
        return;
      }
      if (options.target !== undefined || options.source !== undefined || options.keep || options.hubspotUrl !== undefined) {
        throw new FerryError(
          'USAGE',
          '--target, --keep and --hubspot-url belong to the demo story, which runs in a folder without a ferry.yaml (this folder has one: `ferry demo` migrates a sample of its project).',
        );
      }
      checkQueueFlags(options);
      if (options.queue) {
        context.finish(await queueRun(context, command, 'demo', { command: 'demo', ...(options.sampleSize !== undefined ? { sampleSize: options.sampleSize } : {}) }, options));
        return;
      }
      context.finish(
        await runEngineCommand(context, command, 'demo', async (project, signal) => ({
          result: await project.engine.demo({ dryRun: options.dryRun, restart: options.restart, sampleSize: options.sampleSize, signal }),
        })),
      );
    },
  );

  addQueueFlags(addRunFlags(
    program
      .command('migrate')
      .description('full migration: every source record is created or updates its linked record')
      .option('--rerun', 'delete what earlier runs created (never matched records), then migrate everything again')
      .option('--yes', 'confirm --rerun without a prompt')
      .option('--no-match', 'skip the refresh matching that precedes the run'),
  )).action(async (options: DryRunFlags & QueueFlags & { rerun?: boolean; yes?: boolean; match: boolean }, command: Command) => {
    checkQueueFlags(options);
    if (options.queue) {
      context.finish(await queueRun(context, command, 'migrate', { command: 'migrate', noMatch: !options.match }, options));
      return;
    }
    context.finish(
      await runEngineCommand(context, command, 'migrate', async (project, signal) => {
        let rerunPreview: Record<string, RerunObjectPreview> | undefined;
        if (options.rerun) {
          rerunPreview = await project.engine.rerunPreview();
          // A dry run deletes nothing, so it needs no confirmation; it shows the preview all the same.
          if (!options.dryRun) await confirmRerun(context, rerunPreview, options.yes);
          else context.out.warn(rerunWarning(rerunPreview, true));
        }
        const result = await project.engine.migrate({
          dryRun: options.dryRun,
          restart: options.restart,
          rerun: options.rerun,
          noMatch: !options.match,
          signal,
        });
        return { result, extra: rerunPreview ? rerunJson(rerunPreview) : {} };
      }),
    );
  });

  addQueueFlags(addRunFlags(
    program
      .command('delta')
      .description('bring the target up to date with source changes since the last run (never deletes)')
      .option('--create-new', 'create source records that have no link yet')
      .option('--update-changed', 'update linked records that changed in the source')
      .addOption(
        new Option('--on-conflict <policy>', 'a field changed on both sides: who wins').choices(CONFLICT_POLICIES).default('source-wins'),
      )
      .option('--no-match', 'skip the refresh matching that precedes the delta')
      .option('--scan-all', 'read every source record, not only those modified since the last run (for changes that do not move the modified timestamp); writes only what differs'),
  )).action(
    async (
      options: DryRunFlags & QueueFlags & { createNew?: boolean; updateChanged?: boolean; onConflict: ConflictPolicy; match: boolean; scanAll?: boolean },
      command: Command,
    ) => {
      if (!options.createNew && !options.updateChanged) {
        throw new FerryError('USAGE', 'ferry delta needs --create-new, --update-changed, or both (e.g. `ferry delta --create-new --update-changed`).');
      }
      checkQueueFlags(options);
      if (options.queue) {
        const job = {
          command: 'delta' as const,
          createNew: options.createNew === true,
          updateChanged: options.updateChanged === true,
          onConflict: options.onConflict,
          noMatch: !options.match,
          scanAll: options.scanAll === true,
        };
        context.finish(await queueRun(context, command, 'delta', job, options));
        return;
      }
      context.finish(
        await runEngineCommand(context, command, 'delta', async (project, signal) => ({
          result: await project.engine.delta({
            createNew: options.createNew === true,
            updateChanged: options.updateChanged === true,
            onConflict: options.onConflict,
            noMatch: !options.match,
            scanAll: options.scanAll === true,
            dryRun: options.dryRun,
            restart: options.restart,
            signal,
          }),
        })),
      );
    },
  );

  addQueueFlags(addRunFlags(
    program
      .command('undo')
      .description('delete the records a run created and restore the fields it changed (unless changed since)')
      .argument('<run>', 'run id (see `ferry runs`)', positiveInteger('<run>')),
  ), { parts: false }).action(async (runId: number, options: DryRunFlags & QueueFlags, command: Command) => {
    checkQueueFlags(options);
    if (options.queue) {
      context.finish(await queueRun(context, command, 'undo', { command: 'undo', runId }, options, { undoneRunId: runId }));
      return;
    }
    context.finish(
      await runEngineCommand(context, command, 'undo', async (project, signal) => ({
        result: await project.engine.undo(runId, { dryRun: options.dryRun, restart: options.restart, signal }),
        extra: { undoneRunId: runId },
      })),
    );
  });

  addQueueFlags(addRunFlags(
    program
      .command('retry')
      .description("re-attempt only a run's failed records, in dependency order")
      .argument('<run>', 'run id (see `ferry runs`)', positiveInteger('<run>')),
  ), { parts: false }).action(async (runId: number, options: DryRunFlags & QueueFlags, command: Command) => {
    checkQueueFlags(options);
    if (options.queue) {
      context.finish(await queueRun(context, command, 'retry', { command: 'retry', runId }, options, { retriedRunId: runId }));
      return;
    }
    context.finish(
      await runEngineCommand(context, command, 'retry', async (project, signal) => ({
        result: await project.engine.retry(runId, { dryRun: options.dryRun, restart: options.restart, signal }),
        extra: { retriedRunId: runId },
      })),
    );
  });

  program
    .command('verify')
    .description('compare the target with the source through the ledger: missing records, field mismatches, broken links')
    .action(async (_options: unknown, command: Command) => {
      const outcome = await withProject(projectOptions(context, command), async (project) => {
        warnAboutMapping(context, project);
        const result = await project.engine.verify();
        printVerify(context.out, result);
        return {
          exitCode: result.ok ? EXIT.ok : EXIT.recordsFailed,
          json: { command: 'verify', ok: result.ok, objects: result.objects, issues: result.issues },
        };
      });
      context.finish(outcome);
    });
}
