import type { CrmRecord, ReadOptions, RecordError } from '../core/connector.js';
import { FerryError, toFerryError } from '../core/errors.js';
import type { SchemaDescription } from '../core/schema.js';
import type { Counts } from '../core/progress.js';
import { nowIso, subtractMillis } from '../core/time.js';
import type { Ledger, Link, MatchIssue, Run, RunKind } from '../ledger/index.js';
import { takesRecord } from '../project/routing.js';
import { mapRecord } from '../project/transform.js';
import { matchObject, type MatchSummary } from './matching.js';
import { buildPlan, schemaWithFieldsToCreate, type ObjectPlan } from './plan.js';
import { RunState } from './run-state.js';
import type {
  CommonRunOptions,
  ConflictPolicy,
  DeltaOptions,
  DemoOptions,
  Estimate,
  EngineContext,
  MigrateOptions,
  RerunObjectPreview,
  RunResult,
  VerifyResult,
} from './types.js';
import { openFailuresNote } from './types.js';
import { RecordWriter, referencedLinks, referenceKey, type WriteMode } from './writer.js';
import { AttachmentCopier, undoRunFiles } from './attachments.js';
import { reportSourceDeletions } from './deletions.js';
import { undoRun } from './undo.js';
import { verifyTarget } from './verify.js';

const HEARTBEAT_MS = 10_000;
/** Ids read per query when a queued run's plan cuts an object into id ranges. */
const RANGE_SCAN_PAGE = 5000;

/**
 * A piece of a queued run that one worker writes (docs/workers.md): an object, or one id range of it when
 * the source reads by id range (SQL). A part starts only once the parts in `after` are done: those of the
 * objects it refers to, in the engine's dependency order. The run's first stage (matching) and last stage
 * (duplicates merged in, references re-attached, link pass, report) are run by `stage: 'plan'` and
 * `stage: 'finish'` of the run's own command.
 */
export interface RunPart {
  key: string;
  object: string;
  range?: { after?: string; until?: string };
  after: string[];
  /**
   * After an object's range parts: merges its duplicates into their leaders (written by any range), as a
   * one-process run does after an object's last page, before the objects that refer to it are written.
   */
  followers?: true;
}

/** How a run's command takes part in a queued run (docs/workers.md); absent: the whole run in this process. */
export interface StagedRunOptions {
  /** `plan`: start (or resume) the run, match, and cut its writes into parts; `finish`: after every part is done. */
  stage?: 'plan' | 'finish';
  /** Records per id-range part (plan stage). */
  partSize?: number;
}

/** What the plan stage of a queued run returns: its run and its parts. */
export interface PlannedRun {
  runId: number;
  resumed: boolean;
  parts: RunPart[];
}
/** A demo reads at most this many records of a routed source object looking for its sample. */
const DEMO_SAMPLE_SCAN = 10_000;

interface StartOptions extends CommonRunOptions, StagedRunOptions {
  creates?: boolean;
  updates?: boolean;
  options?: Record<string, unknown>;
  parentRunId?: number;
  /** Whether an unfinished run is the same command (and may be resumed by this call). */
  sameCommand: (run: Run) => boolean;
  command: string;
}

interface ActiveRun {
  state: RunState;
  resumed: boolean;
  finish: (error?: unknown) => Promise<RunResult>;
  /** Leaves the run unfinished (`running`) and frees the ledger for the queued run's parts. */
  park: () => Promise<void>;
}

/**
 * The migration engine: every run kind in the semantics document, over any two connectors. It knows
 * connectors only through the Connector interface and keeps all state in the ledger, so any run can be
 * killed and resumed by running the same command again.
 */
export class Engine {
  private plans?: ObjectPlan[];

  constructor(private readonly context: EngineContext) {}

  async schemas(): Promise<{ source: SchemaDescription; target: SchemaDescription }> {
    this.context.sourceSchema ??= await this.context.source.describe();
    this.context.targetSchema ??= await this.context.target.describe();
    const target = this.context.target.capabilities().createsMissingOnWrite
      ? schemaWithFieldsToCreate(this.context.project, this.context.sourceSchema, this.context.targetSchema)
      : this.context.targetSchema;
    return { source: this.context.sourceSchema, target };
  }

  /** Objects in dependency order (referenced objects first). */
  async objectPlans(): Promise<ObjectPlan[]> {
    if (!this.plans) {
      const { source, target } = await this.schemas();
      const plans = buildPlan(this.context.project, source, target);
      await this.checkRoutedLedgerKeys(plans);
      this.plans = plans;
    }
    return this.plans;
  }

  /**
   * A source object that was mapped once and is now routed to several mappings: the ledger keeps its
   * records under the source's name, which is now no mapping's key (project/routing.ts). Unless one of the
   * mappings keeps that name, its links would be lost and every record created again: stop before any
   * write and say how to keep them.
   */
  private async checkRoutedLedgerKeys(plans: ObjectPlan[]): Promise<void> {
    const keys = new Set(plans.map((plan) => plan.object));
    for (const sourceObject of new Set(plans.map((plan) => plan.sourceObject))) {
      if (keys.has(sourceObject)) continue;
      const links = await this.context.ledger.countLinks(sourceObject);
      if (links === 0) continue;
      const names = plans.filter((plan) => plan.sourceObject === sourceObject).map((plan) => plan.object);
      throw new FerryError(
        'CONFIG_INVALID',
        `The ledger holds ${links} record(s) of ${sourceObject} written before it was routed to ${names.join(', ')}: ` +
          `name the entry under objects that should keep them "${sourceObject}" (for example rename ${names[0]} to ${sourceObject}), so they are updated instead of created again.`,
        { object: sourceObject },
      );
    }
  }

  // ---- runs

  async match(options: CommonRunOptions = {}): Promise<RunResult> {
    const plans = await this.objectPlans();
    const active = await this.start('match', { ...options, command: 'match', sameCommand: (run) => run.kind === 'match' });
    try {
      await this.matchAll(active.state, plans);
      return await active.finish();
    } catch (error) {
      return await active.finish(error);
    }
  }

  async migrate(options: MigrateOptions & StagedRunOptions = {}): Promise<RunResult> {
    const plans = await this.objectPlans();
    const active = await this.start('full', {
      ...options,
      creates: true,
      updates: true,
      options: { rerun: options.rerun === true, noMatch: options.noMatch === true },
      command: 'migrate',
      sameCommand: (run) => run.kind === 'full' && run.options.rerun === (options.rerun === true),
    });
    const { state } = active;
    try {
      if (options.rerun) await this.wipeCreated(state, plans);
      if (!options.noMatch) await this.matchAll(state, plans);
      if (options.stage === 'plan') return await this.planParts(active, plans, options.partSize);
      const writer = new RecordWriter(state, this.context.project, this.context.source, this.context.target);
      const mode: WriteMode = { create: true, update: true, onConflict: 'source-wins', force: false };
      if (options.stage === 'finish') await this.gatherParts(state, writer, plans, mode);
      else for (const plan of plans) await this.writeObject(state, writer, plan, {}, mode);
      await this.reattachReferences(state, writer, plans, mode);
      for (const plan of plans) await writer.linkPass(plan);
      return await active.finish();
    } catch (error) {
      return await active.finish(error);
    }
  }

  /**
   * Per object, what `migrate --rerun` will do with the records earlier runs created: delete them, or keep
   * them because a record Ferry did not create (matched, linked by hand) still refers to them, as the
   * ledger's written values show. A target that refuses to delete a referenced record (capability
   * `refusesDeletingReferenced`, e.g. a database with foreign keys) keeps those, and what they refer to in
   * turn; other targets delete them and drop the references. References people made in the target by hand
   * are not in the ledger and cannot be foreseen: such a record is kept too, and reported by the rerun.
   */
  async rerunPreview(): Promise<Record<string, RerunObjectPreview>> {
    const plans = await this.objectPlans();
    const { ledger, target } = this.context;
    const out: Record<string, RerunObjectPreview> = {};
    for (const plan of plans) out[plan.object] = { delete: await ledger.countLinks(plan.object, ['created']), keep: 0 };
    if (!target.capabilities().refusesDeletingReferenced) return out;
    // Target ids, per referenced (source) object, that records which stay in the target write into a reference field.
    const referenced = new Map<string, Set<string>>();
    const note = (plan: ObjectPlan, link: Link): void => {
      for (const reference of plan.references) {
        const value = link.written?.[reference.targetField];
        for (const id of Array.isArray(value) ? value : value === null || value === undefined ? [] : [value]) {
          // A target id is of one target object: noting it under every key the reference may go through is exact.
          for (const key of reference.objects) {
            let set = referenced.get(key);
            if (!set) referenced.set(key, (set = new Set()));
            set.add(String(id));
          }
        }
      }
    };
    for (const plan of plans) {
      if (plan.references.length === 0) continue;
      for await (const page of ledger.iterateLinks(plan.object, { origin: ['matched', 'manual', 'merged'] })) for (const link of page) note(plan, link);
    }
    // A kept created record keeps what it refers to as well: children first, again until nothing changes
    // (self references and cycles).
    const kept = new Map<string, Set<string>>(plans.map((plan) => [plan.object, new Set<string>()]));
    for (let changed = true; changed; ) {
      changed = false;
      for (const plan of [...plans].reverse()) {
        const targets = referenced.get(plan.object);
        if (!targets || targets.size === 0 || out[plan.object]!.delete === 0) continue;
        const keptHere = kept.get(plan.object)!;
        for await (const page of ledger.iterateLinks(plan.object, { origin: ['created'] })) {
          for (const link of page) {
            if (link.targetId === null || !targets.has(link.targetId) || keptHere.has(link.sourceId)) continue;
            keptHere.add(link.sourceId);
            note(plan, link);
            changed = true;
          }
        }
      }
    }
    for (const plan of plans) {
      const keep = kept.get(plan.object)!.size;
      out[plan.object] = { delete: out[plan.object]!.delete - keep, keep };
    }
    return out;
  }

  async delta(options: DeltaOptions & StagedRunOptions): Promise<RunResult> {
    if (!options.createNew && !options.updateChanged) {
      throw new FerryError('USAGE', 'A delta needs --create-new, --update-changed, or both.');
    }
    const ledger = this.context.ledger;
    const createRun = options.createNew ? await ledger.lastWindowRun('creates') : undefined;
    const updateRun = options.updateChanged ? await ledger.lastWindowRun('updates') : undefined;
    if ((options.createNew && !createRun) || (options.updateChanged && !updateRun)) {
      throw new FerryError('USAGE', 'There is no finished full migration in this ledger yet: run `ferry migrate` before a delta.');
    }
    const plans = await this.objectPlans();
    const onConflict: ConflictPolicy = options.onConflict ?? 'source-wins';
    const bounds = [createRun?.highWaterMark, updateRun?.highWaterMark].filter((bound): bound is string => Boolean(bound));
    const lookbackMs = this.context.project.options.lookbackMs ?? this.context.source.capabilities().lookbackMs;
    const lowerBound = subtractMillis(bounds.sort()[0]!, lookbackMs);
    const active = await this.start('delta', {
      ...options,
      creates: options.createNew,
      updates: options.updateChanged,
      options: {
        createNew: options.createNew,
        updateChanged: options.updateChanged,
        onConflict,
        lowerBound,
        lookbackMs,
        noMatch: options.noMatch === true,
        scanAll: options.scanAll === true,
      },
      command: 'delta',
      sameCommand: (run) =>
        run.kind === 'delta' && run.options.createNew === options.createNew && run.options.updateChanged === options.updateChanged,
    });
    const { state } = active;
    // A resumed delta keeps the window (and the scope: --scan-all or not) it started with.
    const modifiedSince = typeof state.run.options.lowerBound === 'string' ? state.run.options.lowerBound : lowerBound;
    const scanAll = active.resumed ? state.run.options.scanAll === true : options.scanAll === true;
    if (active.resumed && scanAll !== (options.scanAll === true)) {
      state.messages.push(`Run ${state.run.id} was started ${scanAll ? 'with' : 'without'} --scan-all and is resumed that way.`);
    }
    try {
      const windowFor = (plan: ObjectPlan): Pick<ReadOptions, 'modifiedSince'> =>
        !scanAll && plan.sourceSchema.modifiedField && this.context.source.capabilities().modifiedSince ? { modifiedSince } : {};
      if (!options.noMatch) await this.matchAll(state, plans, windowFor);
      if (options.stage === 'plan') return await this.planParts(active, plans, options.partSize);
      const writer = new RecordWriter(state, this.context.project, this.context.source, this.context.target);
      const mode: WriteMode = { create: options.createNew, update: options.updateChanged, onConflict, force: false };
      if (scanAll) state.messages.push('The delta read every source record (--scan-all): records whose mapped values are those of their last write count as unchanged.');
      if (options.stage === 'finish') await this.gatherParts(state, writer, plans, mode);
      for (const plan of plans) {
        if (!scanAll && !windowFor(plan).modifiedSince) state.messages.push(`${plan.object}: the source cannot filter by modification time, so every record was read.`);
        if (options.stage !== 'finish') await this.writeObject(state, writer, plan, windowFor(plan), mode);
      }
      // In every mode: a reference left unresolved is attached by the first run in which its record exists.
      await this.reattachReferences(state, writer, plans, mode, windowFor);
      for (const plan of plans) await writer.linkPass(plan);
      // Deletions the source can tell of are reported, never propagated (docs/concepts.md).
      await reportSourceDeletions(state, this.context.source, plans, modifiedSince);
      // Every failure of this run in the ledger first, so the note counts what the report will show.
      await state.flushFailures();
      const open = await ledger.countOpenFailures();
      if (open > 0) state.messages.push(openFailuresNote(open));
      return await active.finish();
    } catch (error) {
      return await active.finish(error);
    }
  }

  async demo(options: DemoOptions = {}): Promise<RunResult> {
    const plans = await this.objectPlans();
    const sampleSize = options.sampleSize ?? this.context.project.options.demoSampleSize;
    const active = await this.start('demo', {
      ...options,
      creates: true,
      updates: true,
      options: { sampleSize },
      command: 'demo',
      sameCommand: (run) => run.kind === 'demo',
    });
    const { state } = active;
    try {
      await this.matchAll(state, plans);
      const sample = await this.chooseSample(plans, sampleSize);
      const writer = new RecordWriter(state, this.context.project, this.context.source, this.context.target);
      const mode: WriteMode = { create: true, update: true, onConflict: 'source-wins', force: false };
      for (const plan of plans) {
        const ids = [...(sample.get(plan.object) ?? [])];
        await this.writeRecordsById(state, writer, plan, ids, mode);
      }
      for (const plan of plans) await writer.linkPass(plan);
      return await active.finish();
    } catch (error) {
      return await active.finish(error);
    }
  }

  async retry(runId: number, options: CommonRunOptions = {}): Promise<RunResult> {
    const ledger = this.context.ledger;
    const parent = await ledger.requireRun(runId);
    if (parent.kind === 'undo' || parent.kind === 'match') throw new FerryError('USAGE', `Run ${runId} is a ${parent.kind} run; only migration runs can be retried.`);
    if (parent.dryRun) throw new FerryError('USAGE', `Run ${runId} was a dry run: it wrote nothing, so there is nothing to retry. Fix what its report lists, then run the command without --dry-run.`);
    const plans = await this.objectPlans();
    const onConflict = (parent.options.onConflict as ConflictPolicy | undefined) ?? 'source-wins';
    const active = await this.start('retry', {
      ...options,
      creates: true,
      updates: true,
      parentRunId: runId,
      options: { onConflict },
      command: `retry ${runId}`,
      sameCommand: (run) => run.kind === 'retry' && run.parentRunId === runId,
    });
    const { state } = active;
    try {
      const all = await ledger.listFailures({ runId, unresolved: true });
      // Rows the source could not read have no record to read again: they are fixed at the source. A record
      // routed to another mapping (ROUTE_CHANGED) is that mapping's to write: nothing to retry here.
      const failures = all.filter((failure) => failure.code !== 'CSV_ROW_INVALID' && failure.code !== 'ROUTE_CHANGED');
      if (failures.length < all.length) {
        state.messages.push(`${all.length - failures.length} source row(s) could not be read at all (see the report): fix them in the source, then run a delta.`);
      }
      const writer = new RecordWriter(state, this.context.project, this.context.source, this.context.target);
      const mode: WriteMode = { create: true, update: true, onConflict, force: true };
      for (const plan of plans) {
        const mine = failures.filter((failure) => failure.object === plan.object);
        // The run's own matching judgement, from its failures, where the ledger no longer holds it: a source
        // duplicate that waited for its leader (REFERENCE_MISSING without a field names the leader) is retried
        // as that leader's follower, a record held as ambiguous is held again; neither is created on its own.
        const known = new Map<string, MatchIssue>();
        for (const failure of mine) {
          // (its stored value is the leader's source id, read like any REFERENCE_MISSING value)
          const named = failure.code === 'REFERENCE_MISSING' && failure.field === null && failure.value !== null ? referencedIds(failure.value) : undefined;
          const leader = named?.length === 1 ? named[0] : undefined;
          if (leader !== undefined) known.set(failure.sourceId, { object: plan.object, sourceId: failure.sourceId, kind: 'duplicate', key: '', candidates: [leader], runId: state.run.id });
          if (failure.code === 'AMBIGUOUS_MATCH') {
            known.set(failure.sourceId, { object: plan.object, sourceId: failure.sourceId, kind: 'ambiguous', key: failure.value ?? '', candidates: ambiguousCandidates(failure.message), runId: state.run.id });
          }
        }
        if (known.size > 0) state.assumeIssues(plan.object, known);
        const ids = [...new Set(mine.map((failure) => failure.sourceId))];
        await this.writeRecordsById(state, writer, plan, ids, mode);
      }
      // Records of other runs (a demo's) that point at what this retry created are attached too.
      await this.reattachReferences(state, writer, plans, mode);
      for (const plan of plans) await writer.linkPass(plan);
      return await active.finish();
    } catch (error) {
      return await active.finish(error);
    }
  }

  async undo(runId: number, options: CommonRunOptions = {}): Promise<RunResult> {
    const ledger = this.context.ledger;
    const parent = await ledger.requireRun(runId);
    if (parent.kind === 'undo') throw new FerryError('USAGE', `Run ${runId} is itself an undo.`);
    if (parent.dryRun) throw new FerryError('USAGE', `Run ${runId} was a dry run: it wrote nothing to undo.`);
    if (parent.undoneByRunId !== null) {
      // An undo killed after marking the run undone, before finishing, is resumed by the same command.
      const undoing = await ledger.getRun(parent.undoneByRunId);
      if (!undoing || (undoing.status !== 'running' && undoing.status !== 'interrupted')) {
        throw new FerryError('USAGE', `Run ${runId} was already undone by run ${parent.undoneByRunId}.`);
      }
    }
    if (parent.status === 'running' || parent.status === 'interrupted') {
      throw new FerryError('RUN_UNFINISHED', `Run ${runId} has not finished: resume it first (run the same command again), then undo it.`);
    }
    const later = await ledger.laterWritingRuns(runId);
    if (later.length > 0) {
      throw new FerryError('USAGE', `Run(s) ${later.join(', ')} wrote to the target after run ${runId}: undo them first, newest first (\`ferry undo ${later[later.length - 1]}\`).`);
    }
    const plans = await this.objectPlans();
    const active = await this.start('undo', {
      ...options,
      parentRunId: runId,
      command: `undo ${runId}`,
      sameCommand: (run) => run.kind === 'undo' && run.parentRunId === runId,
    });
    try {
      // Files first: they come off records the undo may delete next (docs/attachments.md).
      for (const plan of [...plans].reverse()) await undoRunFiles(active.state, this.context.target, plan, runId);
      await undoRun(active.state, this.context.target, [...plans].reverse(), runId);
      if (!active.state.dryRun) await ledger.updateRun(runId, { undoneByRunId: active.state.run.id });
      return await active.finish();
    } catch (error) {
      return await active.finish(error);
    }
  }

  /** Compares the target with the source through the ledger: missing records, field mismatches, broken links. */
  async verify(): Promise<VerifyResult> {
    return verifyTarget(this.context, await this.objectPlans());
  }

  /** Distinct non-empty values of a source field (for proposing value maps). */
  async sampleSourceValues(object: string, field: string, limit = 200): Promise<string[]> {
    const values = new Set<string>();
    let after: string | undefined;
    let read = 0;
    while (read < 10_000 && values.size < limit) {
      const page = await this.context.source.read(object, { after, limit: 1000, fields: [field] });
      for (const record of page.records) {
        const value = record.fields[field];
        if (value !== null && value !== undefined && value !== '') values.add(String(value));
      }
      read += page.records.length;
      if (!page.next) break;
      after = page.next;
    }
    return [...values].slice(0, limit);
  }

  // ---- queued runs in parts (docs/workers.md)

  /** The parts a queued run's plan stage cut it into, or undefined when it is not a queued run. */
  async runParts(runId: number): Promise<RunPart[] | undefined> {
    const [unit] = await this.context.ledger.getUnits(runId, 'parts', '*');
    return unit?.cursor ? (JSON.parse(unit.cursor) as RunPart[]) : undefined;
  }

  /** Whether a part of a queued run is written (its last page and its counts recorded). */
  async partDone(runId: number, key: string): Promise<boolean> {
    return (await this.context.ledger.getUnits(runId, 'part-done', key)).some((unit) => unit.done);
  }

  /**
   * Writes one part of a queued run, in this process, while other workers write others. It takes no
   * ledger lock: the queue gives a part to one worker at a time (its lease, src/workers/queue.ts), and the
   * ledger's pages of the part make it resumable like a run (`retried`: an earlier attempt died and its
   * last writes may have lost their answers). Its counts are its own (RunState.partCountsPhase).
   */
  async runPart(runId: number, key: string, options: { signal?: AbortSignal; retried?: boolean; by?: string } = {}): Promise<{ skipped: boolean; counts: Record<string, Counts> }> {
    const { ledger, progress, project, source, target } = this.context;
    const run = await ledger.requireRun(runId);
    if (run.status !== 'running') {
      throw new FerryError('RUN_PAUSED', `Run ${runId} is ${run.status.replaceAll('_', ' ')}: its parts wait until the run is queued again.`);
    }
    if (run.kind !== 'full' && run.kind !== 'delta') throw new FerryError('INTERNAL', `Run ${runId} (${run.kind}) is not written in parts.`);
    const part = (await this.runParts(runId))?.find((candidate) => candidate.key === key);
    if (!part) throw new FerryError('INTERNAL', `Run ${runId} has no part ${key}.`);
    if (await this.partDone(runId, key)) return { skipped: true, counts: {} };
    const plans = await this.objectPlans();
    const plan = plans.find((candidate) => candidate.object === part.object);
    if (!plan) throw new FerryError('CONFIG_INVALID', `Run ${runId} has a part of ${part.object}, which this project file no longer maps.`, { object: part.object });
    const state = new RunState(part.range ? await this.rangeLedger(plan, part.range) : ledger, run, progress);
    state.partCountsPhase = `part:${key}`;
    if (options.signal) state.signal = options.signal;
    state.resumed = options.retried === true;
    for (const candidate of plans) {
      for (const unit of await ledger.getUnits(runId, state.partCountsPhase, candidate.object)) state.add(candidate.object, unit.counts);
    }
    state.markCheckpointed();
    const settings = run.options;
    const mode: WriteMode =
      run.kind === 'delta'
        ? { create: settings.createNew === true, update: settings.updateChanged === true, onConflict: (settings.onConflict as ConflictPolicy | undefined) ?? 'source-wins', force: false }
        : { create: true, update: true, onConflict: 'source-wins', force: false };
    const window: Pick<ReadOptions, 'modifiedSince'> =
      run.kind === 'delta' && settings.scanAll !== true && typeof settings.lowerBound === 'string' && plan.sourceSchema.modifiedField && source.capabilities().modifiedSince
        ? { modifiedSince: settings.lowerBound }
        : {};
    const writer = new RecordWriter(state, project, source, target);
    if (part.followers) {
      await writer.prepareObject(plan);
      await writer.linkFollowers(plan, mode);
    } else await this.writeObject(state, writer, plan, window, mode, part);
    await state.checkpoint();
    // `by`: who wrote it (a worker's name), for `ferry runs` once its lease is gone.
    await ledger.putUnit({ runId, phase: 'part-done', object: key, seq: 0, cursor: options.by ? JSON.stringify({ by: options.by }) : null, nextCursor: null, done: true, counts: {} });
    return { skipped: false, counts: state.countsRecord() };
  }

  /**
   * The ledger as a range part sees it: the creates left pending (a worker died between sending a create
   * and recording its answer: pending links of an earlier release's ledger, create intents of this one) are
   * only those of the range's own records. Another part's pending creates
   * are in flight on its worker, not lost: resolving them here (not found in the target yet, so dropped)
   * would lose their links when their answers arrive.
   */
  private async rangeLedger(plan: ObjectPlan, range: NonNullable<RunPart['range']>): Promise<Ledger> {
    const { ledger, source } = this.context;
    const mine = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await source.read(plan.sourceObject, { anyOrder: true, fields: [], idRange: range, limit: RANGE_SCAN_PAGE, ...(after ? { after } : {}) });
      for (const record of page.records) mine.add(record.id);
      if (!page.next) break;
      after = page.next;
    }
    const scoped = Object.create(ledger) as Ledger;
    scoped.pendingLinks = async (object: string) => (await ledger.pendingLinks(object)).filter((link) => object !== plan.object || mine.has(link.sourceId));
    // The same for this release's create intents (one per batch, so all of a batch's ids are in one range).
    scoped.createIntents = async (object: string) => (await ledger.createIntents(object)).filter((intent) => object !== plan.object || intent.sourceIds.some((id) => mine.has(id)));
    return scoped;
  }

  /**
   * The plan stage of a queued run: after matching, cut the writes into parts (kept in the ledger, so a
   * resumed run keeps its parts and the pages they wrote), then leave the run `running` for the workers.
   */
  private async planParts(active: ActiveRun, plans: ObjectPlan[], partSize?: number): Promise<RunResult> {
    const { state } = active;
    let parts = await this.runParts(state.run.id);
    if (!parts) {
      const size = Math.max(1, partSize ?? this.context.project.options.pageSize * 20);
      parts = [];
      const keysOf = new Map<string, string[]>();
      for (const plan of plans) {
        // After the objects it refers to and, for a routed source, the mappings of the same source before it:
        // what the engine's one-process order guarantees, and nothing more, so the rest runs side by side.
        const after = new Set<string>();
        for (const reference of plan.references) {
          for (const object of reference.objects) if (object !== plan.object) for (const key of keysOf.get(object) ?? []) after.add(key);
        }
        for (const earlier of plans) {
          if (earlier === plan) break;
          if (earlier.sourceObject === plan.sourceObject) for (const key of keysOf.get(earlier.object) ?? []) after.add(key);
        }
        const ranges = await this.idRanges(plan, size);
        if (ranges.length > 1) {
          const mine = ranges.map((range, index): RunPart => ({ key: `${plan.object}#${index + 1}`, object: plan.object, range, after: [...after] }));
          const merge: RunPart = { key: `${plan.object}#followers`, object: plan.object, after: mine.map((entry) => entry.key), followers: true };
          parts.push(...mine, merge);
          keysOf.set(plan.object, [merge.key]);
        } else {
          parts.push({ key: plan.object, object: plan.object, after: [...after] });
          keysOf.set(plan.object, [plan.object]);
        }
      }
      await state.flushFailures();
      await state.ledger.putUnit({
        runId: state.run.id,
        phase: 'parts',
        object: '*',
        seq: 0,
        cursor: JSON.stringify(parts),
        // The counts of the plan stage (matching): the finish stage adds the parts' to these.
        nextCursor: JSON.stringify(state.countsRecord()),
        done: true,
        counts: {},
      });
    }
    await active.park();
    return { runId: state.run.id, kind: state.run.kind, status: 'running', dryRun: false, resumed: active.resumed, counts: state.countsRecord(), messages: state.messages };
  }

  /**
   * Ids that cut an object into ranges of `size` records, read once in the source's id order; none when
   * the source cannot read by id range or the object fits in one part.
   */
  private async idRanges(plan: ObjectPlan, size: number): Promise<NonNullable<RunPart['range']>[]> {
    const { source } = this.context;
    if (!source.capabilities().idRanges || plan.mapping.matchOnly || (plan.sourceSchema.count ?? 0) <= size) return [];
    const bounds: string[] = [];
    let seen = 0;
    let after: string | undefined;
    for (;;) {
      const page = await source.read(plan.sourceObject, { anyOrder: true, fields: [], limit: RANGE_SCAN_PAGE, ...(after ? { after } : {}) });
      for (const record of page.records) if (++seen % size === 0) bounds.push(record.id);
      if (!page.next) break;
      after = page.next;
    }
    // The last range is open: records added behind the last bound while the run goes on are read too.
    return [...bounds, undefined].map((until, index) => ({ ...(index > 0 ? { after: bounds[index - 1]! } : {}), ...(until !== undefined ? { until } : {}) }));
  }

  /**
   * The finish stage: the run's counts are the plan stage's plus every part's (set, not added, so a finish
   * stage run again counts the same), then what a one-process run does after its last page of each object.
   */
  private async gatherParts(state: RunState, writer: RecordWriter, plans: ObjectPlan[], mode: WriteMode): Promise<void> {
    const { ledger } = this.context;
    const [unit] = await ledger.getUnits(state.run.id, 'parts', '*');
    if (!unit?.cursor) throw new FerryError('INTERNAL', `Run ${state.run.id} was not cut into parts.`);
    const parts = JSON.parse(unit.cursor) as RunPart[];
    state.counts.clear();
    state.restoreCounts(unit.nextCursor ? (JSON.parse(unit.nextCursor) as Record<string, Counts>) : {});
    for (const part of parts) {
      if (!(await this.partDone(state.run.id, part.key))) throw new FerryError('RUN_UNFINISHED', `Part ${part.key} of run ${state.run.id} is not written yet.`);
      for (const plan of plans) for (const counts of await ledger.getUnits(state.run.id, `part:${part.key}`, plan.object)) state.add(plan.object, counts.counts);
    }
    for (const plan of plans) {
      await writer.prepareObject(plan);
      if (!state.dryRun) await writer.linkFollowers(plan, mode);
    }
    await state.checkpoint();
  }

  // ---- internals

  private readonly copiers = new WeakMap<RunState, AttachmentCopier>();

  /** The run's file copier (docs/attachments.md), one per run. */
  private copier(state: RunState): AttachmentCopier {
    let copier = this.copiers.get(state);
    if (!copier) this.copiers.set(state, (copier = new AttachmentCopier(state, this.context.project, this.context.source, this.context.target)));
    return copier;
  }

  private async start(kind: RunKind, options: StartOptions): Promise<ActiveRun> {
    const { ledger, progress, source } = this.context;
    const dryRun = options.dryRun === true;
    const lock = await ledger.acquireLock(`run \`ferry ${options.command}\``);
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      let resumeFrom: Run | undefined;
      if (!dryRun) {
        for (const unfinished of await ledger.unfinishedRuns()) {
          if (options.restart) {
            await ledger.updateRun(unfinished.id, { status: 'abandoned', finishedAt: nowIso() });
            continue;
          }
          if (options.sameCommand(unfinished) && !resumeFrom) {
            if (unfinished.options.queued === true && options.stage === undefined) {
              throw new FerryError(
                'RUN_UNFINISHED',
                `Run ${unfinished.id} (${unfinished.kind}) is a queued run, written in parts by \`ferry worker\` processes: queue the command again (--queue) to resume it, or add --restart to abandon it.`,
              );
            }
            resumeFrom = unfinished;
            continue;
          }
          throw new FerryError(
            'RUN_UNFINISHED',
            `Run ${unfinished.id} (${unfinished.kind}) did not finish. Run its command again to resume it, or add --restart to abandon it.`,
          );
        }
      }
      let run: Run;
      if (resumeFrom) {
        run = resumeFrom;
        await ledger.updateRun(run.id, { status: 'running', error: null });
      } else {
        const highWaterMark = (await source.now?.()) ?? nowIso();
        run = await ledger.createRun({
          kind,
          dryRun,
          creates: options.creates,
          updates: options.updates,
          options: options.stage === 'plan' ? { ...options.options, queued: true } : options.options,
          highWaterMark,
          parentRunId: options.parentRunId ?? null,
        });
      }
      await lock.heartbeat(run.id);
      heartbeat = setInterval(() => {
        lock.heartbeat(run.id).catch(() => undefined);
      }, HEARTBEAT_MS);
      heartbeat.unref();
      const state = new RunState(ledger, run, progress);
      if (options.signal) state.signal = options.signal;
      if (resumeFrom) {
        state.resumed = true;
        state.restoreCounts(run.counts);
        state.messages.push(`Resumed run ${run.id} (${run.kind}, started ${run.startedAt}) where it stopped.`);
      }
      const plans = await this.objectPlans();
      progress.emit({ type: 'run-started', runId: String(run.id), kind, objects: plans.map((plan) => plan.object), resumed: Boolean(resumeFrom), dryRun });

      const finish = async (error?: unknown): Promise<RunResult> => {
        clearInterval(heartbeat);
        try {
          // Every failure of the run in the ledger before its status: the report reads them there (dry runs too).
          if (error === undefined) await state.flushFailures();
          if (error === undefined && state.resumed && !dryRun && state.partCountsPhase === undefined) await state.recountFailed();
          // A run stopped mid-page keeps the counts of its last checkpoint: its resumed run reads that page again.
          const counts = error !== undefined && !dryRun ? state.checkpointedCountsRecord() : state.countsRecord();
          const failed = Object.values(counts).reduce((sum, count) => sum + count.failed, 0);
          if (error !== undefined) {
            const fatal = toFerryError(error);
            await ledger.updateRun(run.id, { status: dryRun ? 'failed' : 'interrupted', counts, error: `${fatal.code}: ${fatal.message}`, finishedAt: nowIso() });
            progress.emit({ type: 'run-finished', runId: String(run.id), status: fatal.code === 'RUN_PAUSED' ? 'paused' : 'interrupted', counts });
            throw fatal;
          }
          const status = failed > 0 ? 'completed_with_failures' : 'completed';
          await ledger.updateRun(run.id, { status, counts, finishedAt: nowIso() });
          progress.emit({ type: 'run-finished', runId: String(run.id), status, counts });
          if (!dryRun) state.messages.push(...this.usageMessages());
          const result: RunResult = { runId: run.id, kind, status, dryRun, resumed: Boolean(resumeFrom), counts, messages: state.messages };
          if (dryRun) result.estimate = this.estimate(state);
          return result;
        } finally {
          state.overlay.close();
          await lock.release();
        }
      };
      const park = async (): Promise<void> => {
        clearInterval(heartbeat);
        try {
          await state.flushFailures();
          await ledger.updateRun(run.id, { counts: state.countsRecord() });
        } finally {
          state.overlay.close();
          await lock.release();
        }
      };
      return { state, resumed: Boolean(resumeFrom), finish, park };
    } catch (error) {
      clearInterval(heartbeat);
      await lock.release();
      throw error;
    }
  }

  private estimate(state: RunState): Estimate {
    const apiCalls = state.apiCalls + state.readCalls;
    const rate = this.context.target.capabilities().requestsPerSecond;
    const perCall = state.readCalls > 0 ? state.readMillis / state.readCalls / 1000 : 0.05;
    const seconds = rate ? state.apiCalls / rate : state.apiCalls * perCall;
    const estimate: Estimate = { apiCalls, seconds: Math.round(seconds * 10) / 10 };
    const cost = this.costEstimate(state);
    if (cost) estimate.cost = cost;
    return estimate;
  }

  /** What source and target spent of a vendor's daily request budget (Pipedrive tokens), for the run's messages. */
  private usageMessages(): string[] {
    const messages: string[] = [];
    for (const [side, connector] of [['source', this.context.source], ['target', this.context.target]] as const) {
      const usage = connector.usage?.();
      if (!usage || usage.spent === 0) continue;
      messages.push(`${side} (${connector.kind}): ${usage.spent.toLocaleString('en-US')} ${usage.unit} of the daily API budget spent${usage.remaining !== undefined ? `, ${usage.remaining.toLocaleString('en-US')} left today` : ''}.`);
    }
    return messages;
  }

  /**
   * A vendor budget's cost of the run: what the dry run's reads spent on source and target (they were sent)
   * plus the forecast writes at the target's per-record cost (they were not). Only one unit is added up: a
   * source and a target counting different units (two vendors) report the target's.
   */
  private costEstimate(state: RunState): Estimate['cost'] {
    const { source, target } = this.context;
    const write = target.capabilities().writeCost;
    const targetUsage = target.usage?.();
    const sourceUsage = source.usage?.();
    const unit = write?.unit ?? targetUsage?.unit ?? sourceUsage?.unit;
    if (unit === undefined) return undefined;
    let amount = 0;
    for (const usage of [sourceUsage, targetUsage]) if (usage && usage.unit === unit) amount += usage.spent;
    if (write) {
      for (const counts of state.counts.values()) amount += counts.created * write.create + counts.updated * write.update + counts.deleted * write.delete;
    }
    const remaining = (targetUsage?.unit === unit ? targetUsage.remaining : undefined) ?? (sourceUsage?.unit === unit ? sourceUsage.remaining : undefined);
    return { unit, amount, ...(remaining !== undefined ? { remaining } : {}) };
  }

  private async matchAll(
    state: RunState,
    plans: ObjectPlan[],
    windowFor: (plan: ObjectPlan) => Pick<ReadOptions, 'modifiedSince'> = () => ({}),
  ): Promise<MatchSummary[]> {
    const summaries: MatchSummary[] = [];
    for (const plan of plans) {
      const units = state.dryRun ? [] : await state.ledger.getUnits(state.run.id, 'match', plan.object);
      if (units.some((unit) => unit.done)) continue;
      state.progress.emit({ type: 'phase', runId: String(state.run.id), phase: 'match', object: plan.object });
      const summary = await matchObject(state, this.context.source, this.context.target, plan, windowFor(plan));
      summaries.push(summary);
      if (summary.ambiguous > 0 || summary.duplicates > 0 || summary.matched > 0) {
        state.messages.push(
          `${plan.object}: ${summary.matched} matched to existing target records, ${summary.ambiguous} ambiguous (held back), ${summary.duplicates} duplicates in the source.`,
        );
      }
      if (!state.dryRun) {
        await state.ledger.putUnit({ runId: state.run.id, phase: 'match', object: plan.object, seq: 0, cursor: null, nextCursor: null, done: true, counts: { matched: summary.matched } });
        await state.checkpoint();
      }
    }
    return summaries;
  }

  /** Reads an object page by page and writes it; each page is a unit of work recorded in the ledger. */
  private async writeObject(
    state: RunState,
    writer: RecordWriter,
    plan: ObjectPlan,
    window: Pick<ReadOptions, 'modifiedSince'>,
    mode: WriteMode,
    part?: RunPart,
  ): Promise<void> {
    const { ledger, progress, source, project } = this.context;
    const runId = String(state.run.id);
    // A range part keeps its pages under its own phase; a whole object's pages are the run's `write` pages.
    const phase = part?.range ? `write:${part.key}` : 'write';
    const bounds: Pick<ReadOptions, 'idRange'> = part?.range ? { idRange: part.range } : {};
    const units = state.dryRun ? [] : await ledger.getUnits(state.run.id, phase, plan.object);
    const last = units[units.length - 1];
    await writer.prepareObject(plan);
    // Duplicates wait for their leader, which another range part may not have written yet: the finish
    // stage merges them in, after every part (gatherParts).
    const mergesFollowers = !part?.range;
    if (last?.done && last.nextCursor === null) {
      // Every page is written; duplicates waiting for their leader may not be merged in yet (killed there).
      if (mergesFollowers) await writer.linkFollowers(plan, mode);
      return;
    }
    let cursor = last?.nextCursor ?? undefined;
    let seq = (last?.seq ?? -1) + 1;
    const total = part?.range ? undefined : plan.sourceSchema.count;
    progress.emit({ type: 'object-started', runId, object: plan.object, ...(total !== undefined && !window.modifiedSince ? { total } : {}) });
    // A target that writes best in large calls (Salesforce's Bulk API ingest) gets source pages gathered up to
    // its size: one unit of work, checkpointed from the first page's cursor to the last page's next.
    // Without one, a unit is one source page, as the source returned it (a source may return fewer records
    // than asked for: HubSpot at most 100).
    const group = this.context.target.capabilities().writeGroup ?? 0;
    // The first unit after a resume is the one the earlier attempt stopped in (if it stopped in this object).
    if (state.resumed) state.redoObject = plan.object;
    for (;;) {
      const records: CrmRecord[] = [];
      // The cursor after the last page read: where the next unit starts (undefined: the object is read).
      let next = cursor;
      do {
        const started = Date.now();
        const read = await source.read(plan.sourceObject, { ...window, ...bounds, after: next, limit: project.options.pageSize });
        state.readMillis += Date.now() - started;
        state.readCalls += 1;
        await this.recordReadErrors(state, plan);
        records.push(...read.records);
        next = read.next;
      } while (next !== undefined && records.length < group);
      await writer.processPage(plan, records, mode);
      await this.copier(state).copyPage(plan, records, mode);
      const counts = state.countsFor(plan.object);
      if (!state.dryRun) {
        if (!next && mergesFollowers) await writer.linkFollowers(plan, mode);
        // The page's unit of work, its last failures and the run's (or the part's) counts: one transaction.
        await state.checkpoint({ runId: state.run.id, phase, object: plan.object, seq, cursor: cursor ?? null, nextCursor: next ?? null, done: true, counts: {} });
      }
      state.redoObject = undefined;
      progress.emit({ type: 'object-progress', runId, object: plan.object, processed: counts.read, ...(total !== undefined && !window.modifiedSince ? { total } : {}), counts: { ...counts } });
      if (!next) break;
      cursor = next;
      seq += 1;
    }
    progress.emit({ type: 'object-finished', runId, object: plan.object, counts: { ...state.countsFor(plan.object) } });
  }

  /**
   * Records written earlier without a reference (the record it points to was missing then) are written
   * again once that record exists, so a contact created by this delta is attached to the deal that
   * names it even though the deal itself did not change.
   */
  private async reattachReferences(
    state: RunState,
    writer: RecordWriter,
    plans: ObjectPlan[],
    mode: WriteMode,
    windowFor: (plan: ObjectPlan) => Pick<ReadOptions, 'modifiedSince'> = () => ({}),
  ): Promise<void> {
    if (state.dryRun) return;
    let attempted = 0;
    for (const plan of plans) {
      // Only records whose missing reference now has a target record are worth reading again (this run's
      // own warnings are not: it just wrote them). Read per object, filtered by the ledger, not all at once.
      const candidates = await this.context.ledger.listFailures({ unresolved: true, object: plan.object, code: 'REFERENCE_MISSING', exceptRunId: state.run.id });
      if (candidates.length === 0) continue;
      const missingBy = new Map<string, Set<string>>();
      const unknown = new Set<string>();
      for (const failure of candidates) {
        const reference = plan.references.find((entry) => entry.targetField === failure.field);
        const ids = failure.value === null ? undefined : referencedIds(failure.value);
        if (!reference || !ids) {
          unknown.add(failure.sourceId);
          continue;
        }
        const set = missingBy.get(referenceKey(reference)) ?? new Set<string>();
        for (const id of ids) set.add(id);
        missingBy.set(referenceKey(reference), set);
      }
      const nowLinked = new Map<string, Set<string>>();
      for (const [objects, ids] of missingBy) {
        const links = await referencedLinks((key, part) => state.getLinks(key, part), objects, [...ids]);
        nowLinked.set(objects, new Set([...links.values()].filter((link) => link.state === 'linked').map((link) => link.sourceId)));
      }
      const ids = [
        ...new Set(
          candidates
            .filter((failure) => {
              if (unknown.has(failure.sourceId)) return true;
              const reference = plan.references.find((entry) => entry.targetField === failure.field)!;
              return referencedIds(failure.value!)!.some((id) => nowLinked.get(referenceKey(reference))?.has(id));
            })
            .map((failure) => failure.sourceId),
        ),
      ];
      if (ids.length === 0) continue;
      const links = await state.getLinks(plan.object, ids);
      const linked = ids.filter((id) => links.get(id)?.state === 'linked');
      attempted += linked.length;
      await this.writeRecordsById(state, writer, plan, linked, { ...mode, force: true, referencesOnly: true }, readByScan(windowFor(plan)));
    }
    if (attempted > 0) state.messages.push(`Looked again at ${attempted} record(s) written earlier without a reference, to attach what now exists.`);
  }

  /** Rows the source skipped while reading become failed records of the run, with their position. */
  private async recordReadErrors(state: RunState, plan: ObjectPlan): Promise<void> {
    for (const error of this.context.source.takeReadErrors?.() ?? []) {
      // Every mapping of a routed source reads it: its bad rows are reported once, on its first mapping
      // (rows read by matching may surface while another object is written).
      if (error.object === plan.sourceObject && !plan.readErrors) continue;
      const owner = (this.plans ?? []).find((candidate) => candidate.sourceObject === error.object && candidate.readErrors);
      const object = owner?.object ?? error.object;
      await state.fail(object, error.recordId, {
        code: error.code,
        message: error.message,
        ...(error.field !== undefined ? { field: error.field } : {}),
        ...(error.value !== undefined ? { value: error.value } : {}),
      });
      if (object !== plan.object) state.add(object, {});
    }
  }

  /**
   * Writes chosen records (demo sample, retry, reattached references) read by id; a missing source record
   * settles its failure. `alreadyRead` tells which of them this run's own read of the object returned
   * before: those count as `reread`, not `read`.
   */
  private async writeRecordsById(
    state: RunState,
    writer: RecordWriter,
    plan: ObjectPlan,
    ids: string[],
    mode: WriteMode,
    alreadyRead?: (record: CrmRecord) => boolean,
  ): Promise<void> {
    if (ids.length === 0) return;
    const { progress, source } = this.context;
    const runId = String(state.run.id);
    await writer.prepareObject(plan);
    progress.emit({ type: 'object-started', runId, object: plan.object, total: ids.length });
    const size = Math.min(source.capabilities().batchSize.read, this.context.project.options.pageSize);
    for (let start = 0; start < ids.length; start += size) {
      const part = ids.slice(start, start + size);
      const records = await source.readByIds(plan.sourceObject, part);
      state.readCalls += 1;
      const found = new Set(records.map((record) => record.id));
      const gone = part.filter((id) => !found.has(id));
      for (const id of gone) {
        await state.fail(plan.object, id, { code: 'NOT_FOUND', message: `${plan.sourceObject} ${id} is no longer in the source` });
      }
      if (gone.length > 0 && !state.dryRun) await state.ledger.resolveFailures(plan.object, gone, state.run.id);
      await writer.processPage(plan, records, mode);
      await this.copier(state).copyPage(plan, records, mode);
      if (alreadyRead) state.countRereads(plan.object, records.filter(alreadyRead).length);
      progress.emit({ type: 'object-progress', runId, object: plan.object, processed: start + part.length, total: ids.length, counts: { ...state.countsFor(plan.object) } });
    }
    if (!state.dryRun) await writer.linkFollowers(plan, mode);
    await state.checkpoint();
    progress.emit({ type: 'object-finished', runId, object: plan.object, counts: { ...state.countsFor(plan.object) } });
  }

  /**
   * The demo sample: the first records of each object plus every record they refer to, so the sample
   * arrives with its relations (a deal with its company, contacts and owner).
   */
  private async chooseSample(plans: ObjectPlan[], size: number): Promise<Map<string, Set<string>>> {
    const { source, project } = this.context;
    const sample = new Map<string, Set<string>>(plans.map((plan) => [plan.object, new Set<string>()]));
    for (const plan of plans) {
      if (plan.mapping.matchOnly) continue;
      // The first records the mapping takes (a routed mapping's row filter may leave out the first page).
      const chosen = sample.get(plan.object)!;
      let after: string | undefined;
      for (let read = 0; chosen.size < size && read < DEMO_SAMPLE_SCAN; ) {
        const page = await source.read(plan.sourceObject, { limit: plan.mapping.where ? Math.max(size, 200) : size, ...(after ? { after } : {}) });
        read += page.records.length;
        for (const record of page.records) if (chosen.size < size && takesRecord(plan.mapping, record.fields)) chosen.add(record.id);
        if (!page.next || !plan.mapping.where) break;
        after = page.next;
      }
    }
    // Children before parents: each adds what it refers to; self references are followed a few levels.
    for (const plan of [...plans].reverse()) {
      const seen = new Set<string>();
      for (let depth = 0; depth < 5; depth++) {
        const ids = [...sample.get(plan.object)!].filter((id) => !seen.has(id));
        if (ids.length === 0) break;
        for (const id of ids) seen.add(id);
        for (let start = 0; start < ids.length; start += 200) {
          const records = await source.readByIds(plan.sourceObject, ids.slice(start, start + 200));
          for (const record of records) {
            // A referenced record this mapping's filter leaves out is another mapping's (or none's) to write.
            if (!takesRecord(plan.mapping, record.fields)) {
              sample.get(plan.object)!.delete(record.id);
              continue;
            }
            const mapped = mapRecord(plan.mapping, record, { sourceSchema: plan.sourceSchema, targetSchema: plan.targetSchema, sourceTimeZone: project.sourceTimeZone, sourceLocale: project.sourceLocale });
            for (const reference of plan.references) {
              const value = mapped.values[reference.targetField];
              // Into each mapping the reference may go through; each keeps the ones its filter takes.
              for (const key of reference.objects) {
                const set = sample.get(key);
                if (!set) continue;
                for (const id of Array.isArray(value) ? value : value === null || value === undefined ? [] : [value]) set.add(String(id));
              }
            }
          }
        }
      }
    }
    return sample;
  }

  /** Deletes created records and their links; returns those the target refused to delete. */
  private async deleteCreatedRecords(state: RunState, plan: ObjectPlan, links: Link[]): Promise<{ link: Link; message: string; code: RecordError['code'] }[]> {
    const { ledger, target } = this.context;
    const linked = links.filter((link) => link.targetId !== null);
    const results = linked.length > 0 ? await target.delete(plan.targetObject, linked.map((link) => link.targetId!)) : [];
    const removed = links.filter((link) => link.targetId === null);
    const refused: { link: Link; message: string; code: RecordError['code'] }[] = [];
    for (const [index, link] of linked.entries()) {
      const result = results[index];
      if (result?.ok || (result && !result.ok && result.error.code === 'NOT_FOUND')) {
        removed.push(link);
        state.add(plan.object, { deleted: 1 });
      } else {
        refused.push({ link, code: result?.error.code ?? 'WRITE_FAILED', message: result?.error.message ?? 'the target returned no result' });
      }
    }
    const deletedTargets = removed.filter((link) => link.targetId !== null).map((link) => link.targetId!);
    const followers = deletedTargets.length > 0 ? (await ledger.linksByTarget(plan.object, deletedTargets)).filter((link) => link.origin === 'merged') : [];
    await ledger.transaction(async (store) => {
      await store.deleteLinks(plan.object, [...removed.map((link) => link.sourceId), ...followers.map((link) => link.sourceId)]);
      await store.addJournal(
        removed
          .filter((link) => link.targetId !== null)
          .map((link) => ({ runId: state.run.id, object: plan.object, sourceId: link.sourceId, targetObject: plan.targetObject, targetId: link.targetId!, action: 'delete' as const, before: null, after: null, linkBefore: link })),
      );
    });
    return refused;
  }

  /** `migrate --rerun`: deletes what earlier runs created (children first); matched records stay linked. */
  private async wipeCreated(state: RunState, plans: ObjectPlan[]): Promise<void> {
    const { ledger, target } = this.context;
    if (!state.dryRun && (await ledger.getUnits(state.run.id, 'rerun-delete', '*')).some((unit) => unit.done)) return;
    let preview: Record<string, RerunObjectPreview> | undefined;
    for (const plan of [...plans].reverse()) {
      state.progress.emit({ type: 'phase', runId: String(state.run.id), phase: 'rerun-delete', object: plan.object });
      if (state.dryRun) {
        // What the preview announces, without what records Ferry did not create still refer to.
        preview ??= await this.rerunPreview();
        state.add(plan.object, { deleted: preview[plan.object]?.delete ?? 0 });
        continue;
      }
      // A delete the target refuses is tried again after the rest of the object is gone (a parent company
      // is deletable once its created children are); what is still refused at the end is kept.
      let refused: { link: Link; message: string; code: RecordError['code'] }[] = [];
      for await (const page of ledger.iterateLinks(plan.object, { origin: ['created'], beforeRunId: state.run.id }, target.capabilities().batchSize.delete)) {
        refused.push(...(await this.deleteCreatedRecords(state, plan, page)));
      }
      for (let round = 0; round < 10 && refused.length > 0; round++) {
        const before = refused.length;
        const next: typeof refused = [];
        for (let start = 0; start < refused.length; start += target.capabilities().batchSize.delete) {
          next.push(...(await this.deleteCreatedRecords(state, plan, refused.slice(start, start + target.capabilities().batchSize.delete).map((entry) => entry.link))));
        }
        refused = next;
        if (refused.length === before) break;
      }
      for (const { link, code, message } of refused) {
        // Still referenced by a record Ferry did not create (a matched contact of a created company): it
        // stays linked, re-stamped with this run, and the rerun updates it instead of creating a duplicate.
        await ledger.putLinks([{ ...link, fingerprint: null, written: null, runId: state.run.id }]);
        await state.warn(plan.object, link.sourceId, {
          code,
          message: `--rerun could not delete ${plan.targetObject} ${link.targetId}: ${message}; it was kept and is updated instead`,
        });
      }
      if (!state.dryRun) {
        // Matched records are kept and rewritten from the current source.
        for await (const page of ledger.iterateLinks(plan.object)) {
          await ledger.putLinks(page.map((link) => ({ ...link, fingerprint: null })));
        }
        const open = await ledger.listFailures({ unresolved: true, object: plan.object });
        await ledger.resolveFailures(plan.object, open.map((failure) => failure.sourceId), state.run.id);
      }
    }
    if (!state.dryRun) {
      await ledger.putUnit({ runId: state.run.id, phase: 'rerun-delete', object: '*', seq: 0, cursor: null, nextCursor: null, done: true, counts: {} });
      await state.checkpoint();
    }
  }
}

/**
 * Whether this run's read of an object (all of it, or the delta's window) returned a record: then reading
 * it again by id is a re-read. A record changed in the source while the run went on is counted as re-read
 * (it is in the window now, and was almost always read at its new place).
 */
function readByScan(window: Pick<ReadOptions, 'modifiedSince'>): (record: CrmRecord) => boolean {
  const since = window.modifiedSince;
  return since === undefined ? () => true : (record) => record.updatedAt !== null && record.updatedAt >= since;
}

/** The target ids an AMBIGUOUS_MATCH failure's message lists (`2 target records match k (11, 12); ...`). */
function ambiguousCandidates(message: string): string[] {
  const listed = /target records match .* \(([^)]*)\); link one by hand/.exec(message)?.[1];
  return listed ? listed.split(', ').filter((id) => id !== '') : [];
}

/** The source ids a REFERENCE_MISSING warning names (its stored value), or undefined when unreadable. */
function referencedIds(stored: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(stored);
    if (typeof value === 'string' || typeof value === 'number') return [String(value)];
    if (Array.isArray(value)) return value.map(String);
  } catch {
    // A value cut short when it was stored: read the record again to be safe.
  }
  return undefined;
}
