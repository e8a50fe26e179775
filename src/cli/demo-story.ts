import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FerryError } from '../core/errors.js';
import { ProgressStream, type Counts } from '../core/progress.js';
import { nowIso } from '../core/time.js';
import type { RunResult, VerifyResult } from '../engine/types.js';
import type { HubspotEmulator } from '../emulators/hubspot/index.js';
import type { Ledger } from '../ledger/index.js';
import type { ProjectFile } from '../project/types.js';
import { buildRunReport, formatNumber, formatSeconds, formatValue, renderReport, shorten, type RunReport } from '../report/index.js';
import type { CommandContext } from './context.js';
import { DEMO_PIPEDRIVE_TOKEN, DEMO_PIPEDRIVE_TOKEN_VARIABLE, demoPipedriveSourceYaml as pipedriveSourceYaml } from './demo-pipedrive.js';
import { DEMO_SALESFORCE_TOKEN, DEMO_SALESFORCE_TOKEN_VARIABLE, demoSalesforceSourceYaml as salesforceSourceYaml } from './demo-salesforce.js';
import { DEMO_PROJECT_HEADER, demoChangeSizes, editChangedRecordsInTarget } from './demo-setup.js';
import { EXIT } from './exit-codes.js';
import type { Outcome, Output } from './io.js';
import { proposeAndWrite } from './mapping.js';
import { openConnections, withProject } from './open-project.js';
import { attachProgressView } from './progress-view.js';
import { countsTable, runJson, totalCounts } from './summary.js';

/** Fixed, so every newcomer sees the same story (only timings differ). */
export const DEMO_SEED = 7;
/** Contacts in the sample source: big enough to be a real migration, small enough for well under a minute. */
export const DEMO_SIZE = 1000;
/** How many target records the demo edits by hand on records that also changed in the source (certain conflicts). */

/** Where the story migrates to: a SQLite "new CRM" (default) or HubSpot, played by the in-process emulator. */
export const DEMO_TARGETS = ['sqlite', 'hubspot'] as const;
export type DemoTarget = (typeof DEMO_TARGETS)[number];

export interface DemoStoryOptions {
  dir?: string;
  size?: number;
  seed?: number;
  target?: DemoTarget;
  /** Keep the story's in-process emulators (HubSpot, Pipedrive, Salesforce) running after the story until Ctrl-C, so the next commands work against them. */
  keep?: boolean;
  /** With --keep: resolves when the user stops the emulators (Ctrl-C). */
  untilStopped?: () => Promise<unknown>;
  /**
   * HubSpot story against an account the user runs (`--hubspot-url`: an emulator started apart, a sandbox)
   * instead of the in-process emulator: its URL, the variable holding its token, its burst limit per 10 s.
   */
  hubspotAccount?: { url: string; tokenVariable: string; burstLimit: number };
  /** Where the story migrates from: the sample SQLite "legacy CRM" (default) or Pipedrive, played by the in-process emulator. */
  source?: 'sample' | 'pipedrive' | 'salesforce';
}

/** ./ferry-demo, or ferry-demo-2, -3, ... when it exists and is not empty. */
export function chooseDemoFolder(cwd: string, dir = 'ferry-demo'): string {
  const base = resolve(cwd, dir);
  const usable = (path: string): boolean => !existsSync(path) || readdirSync(path).length === 0;
  if (usable(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (usable(candidate)) return candidate;
  }
}

function sumCounts(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, value) => sum + value, 0);
}

function listCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([table, count]) => `${table} ${formatNumber(count)}`)
    .join(', ');
}

function plural(count: number, word: string, many = `${word}s`): string {
  return `${formatNumber(count)} ${count === 1 ? word : many}`;
}

interface Step {
  result: RunResult;
  report: RunReport;
  seconds: number;
}

/** The story: prints each step as it happens and gathers the --json object. */
class Story {
  readonly steps: Record<string, unknown> = {};
  constructor(private readonly out: Output) {}

  heading(number: number | undefined, title: string): void {
    this.out.line('');
    this.out.line(number === undefined ? title : `Step ${number} · ${title}`);
  }

  say(text: string): void {
    this.out.line(`  ${text}`);
  }

  table(counts: Record<string, Counts>): void {
    for (const line of countsTable(counts).split('\n')) this.out.line(`    ${line}`);
  }
}

async function timed(work: () => Promise<RunResult>, ledger: Ledger): Promise<Step> {
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  return { result, seconds, report: await buildRunReport(ledger, result.runId) };
}

/**
 * What a step's failed records were, by code, with one example and what to do about them. A delta can fail
 * records the full run did not: a source value the proposed value map never saw (VALUE_NOT_MAPPED) fails
 * its record until the map has it, and `ferry retry` then re-attempts just those.
 */
function failureLines(step: Step): string[] {
  const failures = step.report.failures;
  if (failures.length === 0) return [];
  const codes = Object.entries(step.report.failuresByCode).map(([code, count]) => `${code} ${formatNumber(count)}`);
  const lines = [`Bad records fail alone, with their reason (${codes.join(', ')}), e.g. ${shorten(failures[0]!.message, 100)}`];
  const unmapped = failures.filter((failure) => failure.code === 'VALUE_NOT_MAPPED');
  if (unmapped.length > 0) {
    const byField = new Map<string, Set<string>>();
    for (const failure of unmapped) {
      const field = `${failure.object}.${failure.field ?? '?'}`;
      byField.set(field, (byField.get(field) ?? new Set()).add(failure.value ?? '?'));
    }
    const listed = [...byField].map(([field, values]) => `${field} ${[...values].join(', ')}`).join('; ');
    lines.push(
      `  Source values the value map had not seen (${shorten(listed, 160)}): ` +
        `add them to the map in ferry.yaml, then \`ferry retry ${step.result.runId}\` re-attempts only those records.`,
    );
  }
  return lines;
}

function stepJson(step: Step, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...runJson(step.result.kind, step.result, step.report), seconds: Number(step.seconds.toFixed(3)), ...extra };
}

function verifyLines(result: VerifyResult): string[] {
  const totals = Object.values(result.objects).reduce(
    (sum, value) => ({
      checked: sum.checked + value.checked,
      missing: sum.missing + value.missing,
      mismatched: sum.mismatched + value.mismatched,
      broken: sum.broken + value.brokenReferences,
      notMigrated: sum.notMigrated + value.notMigrated,
    }),
    { checked: 0, missing: 0, mismatched: 0, broken: 0, notMigrated: 0 },
  );
  const reasons = { 'source-changed-since-last-run': 0, unknown: 0 };
  for (const issue of result.issues) if (issue.kind === 'field-mismatch' && issue.reason !== 'edited-in-target') reasons[issue.reason === 'source-changed-since-last-run' ? issue.reason : 'unknown'] += 1;
  // The per-object figures count every field edited in the target (the list keeps the first 1,000).
  const edited = Object.values(result.objects).reduce((sum, value) => sum + value.editedInTarget, 0);
  return [
    `${formatNumber(totals.checked)} records checked: ${formatNumber(totals.missing)} missing in the target, ` +
      `${formatNumber(totals.broken)} broken links, ${formatNumber(totals.notMigrated)} not migrated (the records that failed, with their reason).`,
    `${plural(totals.mismatched, 'field difference')} to look at (${formatNumber(reasons['source-changed-since-last-run'])} changed in the source since the last run, ` +
      `${formatNumber(reasons.unknown)} other); ${plural(edited, 'field')} edited in the new CRM kept on purpose.`,
  ];
}

/**
 * `ferry demo` without a project file: builds a sample "legacy CRM" and a "new CRM" that already holds
 * some of the same people, then tells the whole story of a migration, step by step, with real runs.
 */
export async function runDemoStory(context: CommandContext, options: DemoStoryOptions): Promise<Outcome> {
  const { out, io } = context;
  const seed = options.seed ?? DEMO_SEED;
  const size = options.size ?? DEMO_SIZE;
  const folder = chooseDemoFolder(io.cwd, options.dir);
  const shownFolder = relative(io.cwd, folder) || '.';
  const projectPath = join(folder, 'ferry.yaml');
  const story = new Story(out);
  const storyStarted = performance.now();
  const sample = await import('../sample/index.js');
  const targetKind: DemoTarget = options.target ?? 'sqlite';

  out.line(
    `Ferry demo: a whole CRM migration${targetKind === 'hubspot' ? ' into HubSpot' : ''}, told step by step, in ./${shownFolder} ` +
      `(seed ${seed}, ${formatNumber(size)} sample contacts).`,
  );

  // ---- the scene (an account given with --hubspot-url is checked first: nothing is written when it is unreachable)
  const account = targetKind === 'hubspot' && options.hubspotAccount ? await connectDemoHubspot(options.hubspotAccount, io.env) : undefined;
  await mkdir(folder, { recursive: true });
  let env = io.env;
  let pipedrive: import('../emulators/pipedrive/index.js').PipedriveEmulator | undefined;
  let salesforce: import('../emulators/salesforce/index.js').SalesforceEmulator | undefined;
  let sourceCounts: Record<string, number>;
  if (options.source === 'pipedrive') {
    const { startPipedriveEmulator } = await import('../emulators/pipedrive/index.js');
    const pd = await import('./demo-pipedrive.js');
    pipedrive = await startPipedriveEmulator({ token: pd.DEMO_PIPEDRIVE_TOKEN, ...pd.DEMO_PIPEDRIVE_LIMITS, seed: { sample: { seed, persons: pd.demoPipedrivePersons(size) } } });
    const { customFields: _custom, pipelines: _pipelines, stages: _stages, participants: _participants, ...records } = pipedrive.seeded!;
    sourceCounts = records;
    env = { ...env, [pd.DEMO_PIPEDRIVE_TOKEN_VARIABLE]: pd.DEMO_PIPEDRIVE_TOKEN };
  } else if (options.source === 'salesforce') {
    const { startSalesforceEmulator } = await import('../emulators/salesforce/index.js');
    const sf = await import('./demo-salesforce.js');
    salesforce = await startSalesforceEmulator({ accessToken: sf.DEMO_SALESFORCE_TOKEN, seed: { sample: { seed, contacts: sf.demoSalesforceContacts(size) } } });
    const seeded = salesforce.seeded!;
    sourceCounts = { users: seeded.users + 1, accounts: seeded.accounts, contacts: seeded.contacts, opportunities: seeded.opportunities, tasks: seeded.tasks, notes: seeded.notes };
    env = { ...env, [sf.DEMO_SALESFORCE_TOKEN_VARIABLE]: sf.DEMO_SALESFORCE_TOKEN };
  } else {
    sourceCounts = await sample.writeSampleSqlite(join(folder, 'source.db'), { seed, size });
  }
  const header = (target?: string, command?: string): string => {
    const text = DEMO_PROJECT_HEADER(seed, size, target, command);
    if (salesforce) return text.replace(/^source:\n(?: .*\n)+/m, salesforceSourceYaml(salesforce.url));
    return pipedrive ? text.replace(/^source:\n(?: .*\n)+/m, pipedriveSourceYaml(pipedrive.url)) : text;
  };
  let hubspot: HubspotStage | undefined;
  let targetCounts: Record<string, number>;
  if (targetKind === 'hubspot') {
    hubspot = account ?? (await startDemoHubspot(seed, size));
    targetCounts = hubspot.counts;
    env = { ...env, ...hubspot.env };
    await writeFile(projectPath, header(hubspot.targetYaml, 'ferry demo --target hubspot'), 'utf8');
  } else {
    targetCounts = await sample.createDemoTargetSqlite(join(folder, 'target.db'), { seed, size });
    await writeFile(projectPath, header(undefined, pipedrive ? 'ferry demo --source pipedrive' : salesforce ? 'ferry demo --source salesforce' : undefined), 'utf8');
  }
  if (pipedrive) {
    // The new CRM already holds some of Pipedrive's people: its users as owners, a few organizations and
    // persons typed in by hand, so the match step has something to link.
    const pd = await import('./demo-pipedrive.js');
    const shared = pd.sharedWithPipedrive(pipedrive, { seed });
    const added = hubspot?.emulator ? pd.addSharedToHubspot(hubspot.emulator.store, shared) : hubspot ? {} : await pd.addSharedToSqlite(join(folder, 'target.db'), shared);
    for (const [table, count] of Object.entries(added)) targetCounts[table] = (targetCounts[table] ?? 0) + count;
  }
  story.heading(undefined, 'The scene');
  if (salesforce) {
    story.say(`Legacy CRM: Salesforce, played by Ferry's Salesforce REST API emulator (not the real service) at ${salesforce.url}, with its sample org: ${listCounts(sourceCounts)}.`);
    story.say(`The access token comes from $FERRY_DEMO_SALESFORCE_TOKEN (ferry.yaml holds no token); the story sets it for its own runs.`);
  } else if (pipedrive) {
    story.say(`Legacy CRM: Pipedrive, played by Ferry's Pipedrive API emulator (not the real service) at ${pipedrive.url}, with its sample company: ${listCounts(sourceCounts)}.`);
    story.say(`The API token comes from $FERRY_DEMO_PIPEDRIVE_TOKEN (ferry.yaml holds no token); the story sets it for its own runs.`);
  } else {
    story.say(`Legacy CRM (source.db): ${listCounts(sourceCounts)}.`);
    story.say('It has the mess real CRMs have: duplicate and invalid e-mails, missing names, emoji and RTL names, stage spellings.');
  }
  if (hubspot && !hubspot.emulator) {
    story.say(`New CRM: the HubSpot API at ${hubspot.url} (--hubspot-url), used as it is: ${listCounts(targetCounts)}.`);
    story.say('The story writes into it: the migrated records, then a few edits "people in HubSpot" make through its API in step 5.');
    story.say(`Requests are paced at ${hubspot.burstLimit} per 10 s (--hubspot-burst; HubSpot's tiers are 100, 190 and 250).`);
    story.say(`The token comes from $${hubspot.tokenVariable} (ferry.yaml holds no token).`);
  } else if (hubspot?.emulator) {
    story.say(`New CRM: HubSpot, played by Ferry's HubSpot API emulator (not the real service), started for the demo at ${hubspot.url}.`);
    story.say(`The account is already in use: ${listCounts(targetCounts)}; some are the same people and companies, and its owners are the legacy CRM's.`);
    story.say(
      "Rate limits raised for the demo: HubSpot allows 100 requests per 10 s by default (190/250 on bigger plans); the emulator here allows far more, " +
        'and ferry.yaml sets burstLimit/searchPerSecond to match.',
    );
    story.say(`The token comes from $${hubspot.tokenVariable} (ferry.yaml holds no token); the story sets it for its own runs.`);
  } else {
    story.say(`New CRM (target.db) is already in use: ${listCounts(targetCounts)}; some of them are the same people and companies.`);
  }
  story.steps.scene = { folder, source: sourceCounts, target: targetCounts, seed, size, ...(pipedrive ? { sourceKind: 'pipedrive', pipedrive: pipedrive.url } : {}), ...(salesforce ? { sourceKind: 'salesforce', salesforce: salesforce.url } : {}), ...(hubspot ? { targetKind, [hubspot.emulator ? 'emulator' : 'hubspot']: hubspot.url } : {}) };
  try {

    // ---- 1 map
    const connections = await openConnections({ configPath: projectPath, cwd: folder, env });
    let mapped: Awaited<ReturnType<typeof proposeAndWrite>>;
    try {
      mapped = await proposeAndWrite({
        projectPath,
        existing: connections.project,
        source: connections.source,
        sourceSchema: connections.sourceSchema,
        targetSchema: connections.targetSchema,
        sourceConfig: connections.project.source,
        targetConfig: connections.project.target,
      });
    } finally {
      await connections.close();
    }
    const fieldCount = mapped.summary.objects.reduce((sum, object) => sum + object.fields, 0);
    story.heading(1, 'Map (`ferry map`)');
    story.say(
      `Proposed ${plural(mapped.summary.objects.length, 'object')} and ${plural(fieldCount, 'field')} from both schemas, written to ferry.yaml:`,
    );
    for (const object of mapped.summary.objects) {
      story.say(
        `  ${object.source} -> ${object.target}: ${plural(object.fields, 'field')}` +
          `${object.valueMaps > 0 ? `, ${plural(object.valueMaps, 'value map')}` : ''}` +
          `${object.matchKeys > 0 ? `, ${plural(object.matchKeys, 'match key')}` : ''}`,
      );
    }
    const valueMaps = valueMapExamples(mapped.project);
    if (valueMaps.length > 0) story.say(`Value maps proposed from the source's own values, e.g. ${valueMaps.join('; ')}.`);
    story.say('The file is yours to edit: `ferry map` again keeps your edits and comments.');
    story.steps.map = { objects: mapped.summary.objects, fields: fieldCount, valueMaps: mapped.summary.valueMaps, notes: mapped.notes };

    const progress = new ProgressStream();
    const view = attachProgressView(progress, out, out.interactive && io.stderr.isTTY === true ? 'bars' : 'none');
    try {
      await withProject({ configPath: projectPath, cwd: folder, env, progress }, async (opened) => {
        const { engine, ledger } = opened;

        // ---- 2 match
        const match = await timed(() => engine.match(), ledger);
        const issues = await ledger.listMatchIssues();
        const ambiguous = issues.filter((issue) => issue.kind === 'ambiguous');
        const duplicates = issues.filter((issue) => issue.kind === 'duplicate');
        const matchTotals = totalCounts(match.result.counts);
        story.heading(2, 'Match (`ferry match`)');
        story.say('Source records compared with the new CRM by their match keys (e-mail, domain, phone, name); nothing written.');
        const matchedPerObject = Object.entries(match.result.counts)
          .filter(([, counts]) => counts.matched > 0)
          .map(([object, counts]) => `${object} ${formatNumber(counts.matched)}`);
        story.say(`${formatNumber(matchTotals.matched)} already exist in the new CRM and are now linked${matchedPerObject.length > 0 ? ` (${matchedPerObject.join(', ')})` : ''}.`);
        story.say(
          `${plural(ambiguous.length, 'ambiguous match', 'ambiguous matches')} (one key, several target records): held back, never guessed` +
            `${ambiguous[0] ? `, e.g. ${ambiguous[0].object} ${ambiguous[0].sourceId} "${shorten(ambiguous[0].key, 40)}" has ${ambiguous[0].candidates.length} candidates` : ''}.`,
        );
        story.say(`${plural(duplicates.length, 'source duplicate')} (several source records, one key): merged into one target record.`);
        story.steps.match = stepJson(match, { ambiguous: ambiguous.length, duplicates: duplicates.length });

        // ---- 3 demo sample
        const demo = await timed(() => engine.demo(), ledger);
        const demoTotals = totalCounts(demo.result.counts);
        story.heading(3, 'Demo sample (`ferry demo` in a project)');
        story.say(
          `Migrated a small sample per object with the records it needs: ${formatNumber(demoTotals.created)} created, ${formatNumber(demoTotals.updated)} updated.`,
        );
        story.say('The sample stays linked in the ledger: the full migration updates these records instead of duplicating them.');
        story.say(`(\`ferry undo ${demo.result.runId}\` would remove them again.)`);
        story.steps.demo = stepJson(demo);

        // ---- 4 full migration
        const full = await timed(() => engine.migrate(), ledger);
        const fullTotals = totalCounts(full.result.counts);
        story.heading(4, 'Full migration (`ferry migrate`)');
        story.table(full.result.counts);
        story.say(
          `${formatNumber(fullTotals.read)} records in ${formatSeconds(full.seconds)} ` +
            `(${formatNumber(Math.round(fullTotals.read / Math.max(full.seconds, 0.001)))} records/s): ` +
            `${formatNumber(fullTotals.created)} created, ${formatNumber(fullTotals.updated)} updated (matched and demo records), ${formatNumber(fullTotals.failed)} failed.`,
        );
        for (const line of failureLines(full)) story.say(line);
        story.say('Nobody had to freeze the legacy CRM: the run keeps its high-water mark, and the next delta picks up what changed since.');
        story.steps.full = stepJson(full);

        // ---- 5 time passes
        const changedAt = nowIso();
        const sizes = demoChangeSizes(size);
        const changes = salesforce
          ? (await import('./demo-salesforce.js')).editInSalesforce(salesforce, { seed, newRecords: sizes.newRecords, changedRecords: sizes.changedRecords })
          : pipedrive
          ? (await import('./demo-pipedrive.js')).editInPipedrive(pipedrive, { seed, newRecords: sizes.newRecords, changedRecords: sizes.changedRecords })
          : await sample.applySourceChanges(join(folder, 'source.db'), { seed, newRecords: sizes.newRecords, changedRecords: sizes.changedRecords, at: changedAt });
        const editCount = sizes.targetEdits;
        let targetEdits: unknown[];
        let conflictEdits: Awaited<ReturnType<typeof editChangedRecordsInTarget>>;
        if (hubspot) {
          // Edits made "in HubSpot" (as in its UI), not by a run: straight into the emulator's store, or through
          // the API of an account given with --hubspot-url.
          const demoHubspot = await import('./demo-hubspot.js');
          const editor = hubspot.emulator ? demoHubspot.storeEditor(hubspot.emulator.store) : demoHubspot.connectorEditor(opened.target);
          conflictEdits = await editChangedRecordsInTarget(
            opened,
            changes.changed,
            changes.changedFields,
            async (object, targetId, field, value) => {
              await editor.update(object, targetId, { [field]: value });
              return true;
            },
            'HubSpot',
          );
          const edited = await demoHubspot.editInHubspot(editor, { seed, count: editCount, avoid: new Set(conflictEdits.map((edit) => edit.targetId)) });
          targetEdits = Array.from({ length: edited });
        } else {
          targetEdits = await sample.editTargetRecords(join(folder, 'target.db'), { seed, count: editCount, at: nowIso() });
          conflictEdits = await editChangedRecordsInTarget(opened, changes.changed, changes.changedFields);
        }
        const created = Object.fromEntries(Object.entries(changes.created).map(([table, ids]) => [table, ids.length]));
        const changed = Object.fromEntries(Object.entries(changes.changed).map(([table, ids]) => [table, ids.length]));
        story.heading(5, 'Time passes');
        story.say(`In the legacy CRM${pipedrive ? ' (Pipedrive)' : salesforce ? ' (Salesforce)' : ''}, people keep working: ${formatNumber(sumCounts(created))} new records (${listCounts(created)}),`);
        const deletedIds: Record<string, number[]> = 'deleted' in changes ? (changes.deleted as Record<string, number[]>) : {};
        const deleted = Object.fromEntries(Object.entries(deletedIds).filter(([, ids]) => ids.length > 0).map(([table, ids]) => [table, ids.length]));
        story.say(`  ${formatNumber(sumCounts(changed))} changed (${listCounts(changed)})${sumCounts(deleted) > 0 ? `, ${formatNumber(sumCounts(deleted))} deleted (${listCounts(deleted)})` : ''}.`);
        story.say(
          `In ${hubspot ? 'HubSpot' : 'the new CRM'}, people edit ${plural(targetEdits.length + conflictEdits.length, 'record')}; ` +
            `${plural(conflictEdits.length, 'edit')} touch${conflictEdits.length === 1 ? 'es' : ''} a field that also changed in the source.`,
        );
        story.steps.changes = { created, changed, ...(sumCounts(deleted) > 0 ? { deleted } : {}), targetEdits: targetEdits.length + conflictEdits.length, conflictingEdits: conflictEdits.length };

        // ---- 6 delta
        const delta = await timed(() => engine.delta({ createNew: true, updateChanged: true, onConflict: 'source-wins' }), ledger);
        const deltaTotals = totalCounts(delta.result.counts);
        story.heading(6, 'Delta (`ferry delta --create-new --update-changed`)');
        story.table(delta.result.counts);
        story.say(
          `${formatNumber(deltaTotals.created)} created, ${formatNumber(deltaTotals.updated)} updated, ${formatNumber(deltaTotals.unchanged)} read again but unchanged, ` +
            `in ${formatSeconds(delta.seconds)}. Nothing was deleted: a delta never deletes.`,
        );
        // The run's own warnings (printed as it ran) name the records; the story only says what became of them.
        const reportedDeletions = delta.result.messages.filter((text) => text.includes('deleted in the source')).length;
        if (reportedDeletions > 0) {
          story.say(`Deletions are reported, never propagated: the records deleted in the source (the warnings above name them) are kept in the target, and \`ferry report ${delta.result.runId}\` lists them.`);
        }
        for (const line of failureLines(delta)) story.say(line);
        story.say(`Fields edited only in the new CRM were kept. ${plural(delta.report.conflicts.length, 'conflict')} (changed on both sides) settled by --on-conflict source-wins:`);
        for (const conflict of delta.report.conflicts.slice(0, 3)) {
          story.say(
            `  ${conflict.object} ${conflict.sourceId} · ${conflict.field}: source ${JSON.stringify(shorten(formatValue(conflict.sourceValue), 40))}, ` +
              `target ${JSON.stringify(shorten(formatValue(conflict.targetValue), 40))} -> ${conflict.resolution}`,
          );
        }
        story.steps.delta = stepJson(delta, { conflictExamples: delta.report.conflicts.slice(0, 3) });

        // ---- 7 verify and reports
        const verify = await engine.verify();
        const reports: Record<string, string> = {};
        for (const [name, step] of [
          ['full', full],
          ['delta', delta],
        ] as const) {
          const path = join(folder, `report-${name}.html`);
          await writeFile(path, renderReport(await buildRunReport(ledger, step.result.runId), 'html'), 'utf8');
          reports[name] = path;
        }
        story.heading(7, 'Verify (`ferry verify`)');
        for (const line of verifyLines(verify)) story.say(line);
        story.say(verify.ok ? 'The new CRM matches the legacy one through the ledger.' : 'Details: `ferry verify` in the demo folder.');
        story.say(`Reports: ./${join(shownFolder, basename(reports.full!))} and ./${join(shownFolder, basename(reports.delta!))} (open them in a browser).`);
        story.steps.verify = { ok: verify.ok, objects: verify.objects, issues: verify.issues.length };
        story.steps.reports = reports;
        if (pipedrive) {
          const tokens = pipedrive.limits.usedToday();
          story.say(`Pipedrive API tokens spent by the whole story: ${formatNumber(tokens)} (${formatNumber(pipedrive.stats.requests)} requests); a real company's daily budget starts at 30,000 per seat.`);
          story.steps.tokens = { spent: tokens, requests: pipedrive.stats.requests };
        }
        if (salesforce) {
          const calls = salesforce.limits.used();
          story.say(`Salesforce API calls made by the whole story: ${formatNumber(calls)} of the org's ${formatNumber(salesforce.limits.max())} a rolling 24 hours (creates and updates go 200 records a call).`);
          story.steps.apiCalls = { spent: calls, max: salesforce.limits.max() };
        }
        story.steps.runs = { match: match.result.runId, demo: demo.result.runId, full: full.result.runId, delta: delta.result.runId };
      });
    } finally {
      view.stop();
    }

    const seconds = (performance.now() - storyStarted) / 1000;
    const runs = story.steps.runs as Record<string, number>;
    // The in-process emulators: kept running until Ctrl-C with --keep, else they stop with the story.
    const emulators = [...(pipedrive ? ['Pipedrive'] : []), ...(salesforce ? ['Salesforce'] : []), ...(hubspot?.emulator ? ['HubSpot'] : [])];
    const kept = options.keep === true && emulators.length > 0;
    const next = [
      `cd ${shownFolder}`,
      ...(pipedrive && kept ? [`export ${DEMO_PIPEDRIVE_TOKEN_VARIABLE}=${DEMO_PIPEDRIVE_TOKEN}`] : []),
      ...(salesforce && kept ? [`export ${DEMO_SALESFORCE_TOKEN_VARIABLE}=${DEMO_SALESFORCE_TOKEN}`] : []),
      ...(hubspot?.shownToken ? [`export ${hubspot.tokenVariable}=${hubspot.shownToken}`] : []),
      'npx ferry runs',
      `npx ferry report ${runs.delta} --format html --output report.html`,
      // Delta, undo and check need both CRMs: an emulator that stopped with the story is not there any more.
      ...(emulators.length === 0 || kept ? ['npx ferry delta --create-new --update-changed --dry-run', `npx ferry undo ${runs.delta}`, 'npx ferry check'] : []),
    ];
    out.line('');
    out.line(`The whole story took ${formatSeconds(seconds)}. Try next${kept ? ' (in another terminal)' : ''}:`);
    for (const command of next) out.line(`  ${command}`);
    if (hubspot && !hubspot.emulator) out.line(`(with $${hubspot.tokenVariable} set to the account's token, as for the story).`);
    if (emulators.length > 0 && !kept) {
      const both = emulators.length > 1;
      const again = ['ferry demo', ...(pipedrive ? ['--source pipedrive'] : salesforce ? ['--source salesforce'] : []), ...(targetKind === 'hubspot' ? ['--target hubspot'] : []), '--keep'].join(' ');
      out.line(`The ${emulators.join(' and ')} emulator${both ? 's stop' : ' stops'} with the story, and ${both ? 'their' : 'its'} data with ${both ? 'them' : 'it'}: \`ferry runs\` and \`ferry report\` still work (they read the ledger).`);
      out.line(`To try delta, undo, verify and check against ${both ? 'them' : 'it'}, run \`${again}\`: it keeps ${both ? 'them' : 'it'} running until Ctrl-C.`);
    }
    out.line('Then point ferry.yaml at your own CRMs (`ferry init` writes a commented starter), or do it all in the browser: `ferry serve` starts the wizard.');
    const json = {
      command: 'demo',
      story: true,
      target: targetKind,
      source: pipedrive ? 'pipedrive' : salesforce ? 'salesforce' : 'sample',
      folder,
      seconds: Number(seconds.toFixed(3)),
      steps: story.steps,
      next,
      ...(pipedrive ? { pipedrive: { url: pipedrive.url, kept, requests: pipedrive.stats.requests } } : {}),
      ...(salesforce ? { salesforce: { url: salesforce.url, kept, requests: salesforce.stats.requests } } : {}),
      ...(hubspot?.emulator
        ? { emulator: { url: hubspot.url, kept: options.keep === true, requests: hubspot.emulator.stats.requests, status429: hubspot.emulator.stats.status429 } }
        : hubspot
          ? { hubspot: { url: hubspot.url, external: true } }
          : {}),
    };
    if (kept) {
      const where = [...(pipedrive ? [`Pipedrive at ${pipedrive.url}`] : []), ...(salesforce ? [`Salesforce at ${salesforce.url}`] : []), ...(hubspot?.emulator ? [`HubSpot at ${hubspot.url}`] : [])];
      out.line('');
      out.line(`The ${emulators.join(' and ')} emulator${emulators.length > 1 ? 's keep' : ' keeps'} running (${where.join(', ')}) with the migrated data. Press Ctrl-C to stop ${emulators.length > 1 ? 'them' : 'it'}.`);
      await (options.untilStopped ?? (() => new Promise<never>(() => undefined)))();
    }
    return { exitCode: EXIT.ok, json };
  } finally {
    await hubspot?.close();
    await pipedrive?.close();
    await salesforce?.close();
  }
}

interface HubspotStage {
  url: string;
  /** The in-process emulator; undefined for an account given with --hubspot-url. */
  emulator?: HubspotEmulator;
  counts: Record<string, number>;
  /** The token "try next" exports: the in-process emulator's (not a secret); never a user's token. */
  shownToken?: string;
  tokenVariable: string;
  /** Variables the story sets for its own runs. */
  env: Record<string, string>;
  burstLimit: number;
  targetYaml: string;
  close(): Promise<void>;
}

/** The HubSpot story's "new CRM": the emulator, in-process, holding an account already in use. */
async function startDemoHubspot(seed: number, size: number): Promise<HubspotStage> {
  const { startHubspotEmulator } = await import('../emulators/hubspot/index.js');
  const demo = await import('./demo-hubspot.js');
  let counts: Record<string, number> = {};
  const emulator = await startHubspotEmulator({
    token: demo.DEMO_HUBSPOT_TOKEN,
    ...demo.DEMO_EMULATOR_LIMITS,
    seed: (store) => {
      counts = demo.seedDemoHubspot(store, { seed, size });
    },
  });
  return {
    url: emulator.url,
    emulator,
    counts,
    shownToken: demo.DEMO_HUBSPOT_TOKEN,
    tokenVariable: demo.DEMO_HUBSPOT_TOKEN_VARIABLE,
    env: { [demo.DEMO_HUBSPOT_TOKEN_VARIABLE]: demo.DEMO_HUBSPOT_TOKEN },
    burstLimit: demo.DEMO_CONNECTOR_PACING.burstLimit,
    targetYaml: demo.demoHubspotTargetYaml(emulator.url),
    close: () => emulator.close(),
  };
}

/**
 * The HubSpot story's "new CRM" at a URL the user gives (an emulator started apart, a sandbox account): checked
 * with the token from the named variable, then used as it is (nothing is seeded: HubSpot's owners are its users,
 * which no API creates, and the account's records are its own). The scene counts what it holds.
 */
async function connectDemoHubspot(account: NonNullable<DemoStoryOptions['hubspotAccount']>, env: NodeJS.ProcessEnv): Promise<HubspotStage> {
  const token = env[account.tokenVariable];
  if (!token) {
    throw new FerryError('USAGE', `--hubspot-url needs the account's access token in $${account.tokenVariable}, which is not set (--hubspot-token-env names another variable).`, {
      variable: account.tokenVariable,
    });
  }
  const { createHubspotConnector, listAll } = await import('../connectors/hubspot/index.js');
  const demo = await import('./demo-hubspot.js');
  const connector = createHubspotConnector({ accessToken: token, baseUrl: account.url, burstLimit: account.burstLimit }, { configPath: 'target' });
  try {
    await connector.check();
    const counts: Record<string, number> = { owners: (await listAll(connector.client, '/crm/v3/owners', { limit: 100 })).length };
    for (const object of ['companies', 'contacts', 'deals']) {
      // A search's `total` counts every match, past the 10,000 a query pages through.
      const response = await connector.client.post<{ total?: number }>(`/crm/v3/objects/${object}/search`, { limit: 1, properties: ['hs_object_id'] });
      counts[object] = response.body.total ?? 0;
    }
    return {
      url: account.url,
      counts,
      tokenVariable: account.tokenVariable,
      env: {},
      burstLimit: account.burstLimit,
      targetYaml: demo.externalHubspotTargetYaml(account.url, account.tokenVariable, account.burstLimit),
      close: async () => undefined,
    };
  } finally {
    await connector.close();
  }
}

/** A couple of proposed value maps as `field: "a" -> "b"`, for the story. */
function valueMapExamples(project: ProjectFile): string[] {
  const examples: string[] = [];
  for (const object of project.objects) {
    for (const field of object.fields) {
      if (field.transform.kind !== 'map' || examples.length >= 2) continue;
      const [from, to] = Object.entries(field.transform.values)[0] ?? [];
      if (from !== undefined) examples.push(`${object.source}.${field.source.join('+')}: "${from}" -> ${JSON.stringify(to)}`);
    }
  }
  return examples;
}
