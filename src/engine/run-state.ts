import type { RecordError } from '../core/connector.js';
import { describeValue, FerryError } from '../core/errors.js';
import { addCounts, emptyCounts, type Counts, type ProgressStream } from '../core/progress.js';
import { DryRunOverlay } from './dry-run-overlay.js';
import { leaderIds } from '../ledger/index.js';
import type { Conflict, DeferredReference, Failure, JournalEntry, Ledger, Link, LinkTarget, MatchIssue, Run, Unit } from '../ledger/index.js';

type FailureRow = Omit<Failure, 'id'>;

/**
 * One run's view of the ledger. In a dry run every write of links and match issues goes to a private
 * overlay instead, so the run can be computed in full (matches, creates with placeholder ids) without
 * changing what later runs see. What a dry run found is recorded in the ledger under its own run, as a
 * real run's is, so the summary, `--json`, `ferry report` and the wizard read one source: its failures
 * and warnings (stored already settled by the dry run itself, so they are never open failures, never
 * retried or reattached) and its conflicts (the fields a real run would settle).
 */
export class RunState {
  readonly counts = new Map<string, Counts>();
  /**
   * The counts as of the last checkpoint (or as restored): what the ledger's pages say is done. A run stopped
   * in the middle of a page stores these, not `counts`, because the resumed run reads that page again and
   * counts it then (docs/guarantees.md, "Counts of a resumed run").
   */
  private checkpointed = new Map<string, Counts>();
  /**
   * The object whose first unit of work after a resume is being written: the unit the earlier attempt
   * stopped in, whose records that attempt may have written already (see RecordWriter.processPage).
   */
  redoObject?: string;
  /** A dry run's would-be links and match issues (on disk: a dry run streams like the real run). */
  readonly overlay = new DryRunOverlay();
  /** Calls the run made (or, in a dry run, would make) to the target and the source. */
  apiCalls = 0;
  readMillis = 0;
  readCalls = 0;
  readonly messages: string[] = [];
  /** Failures and warnings not yet in the ledger: written with the next commit (or flush), in its transaction. */
  private readonly unwrittenFailures: FailureRow[] = [];
  /** Deferred references not yet in the ledger (deferLater): likewise written with the next commit (or flush). */
  private readonly unwrittenDeferred: DeferredReference[] = [];
  /** Set by the engine from the run options; see CommonRunOptions.signal. */
  signal?: AbortSignal;
  /** This call resumed an unfinished run: writes of its earlier attempt may have lost their answers. */
  resumed = false;
  /**
   * A part of a queued run (docs/workers.md): other workers write other parts of the run at the same time,
   * so this state's counts are the part's own, checkpointed as unit rows of this phase (one per object)
   * instead of onto the run, which the run's last part adds up.
   */
  partCountsPhase?: string;

  constructor(
    readonly ledger: Ledger,
    readonly run: Run,
    readonly progress: ProgressStream,
  ) {}

  get dryRun(): boolean {
    return this.run.dryRun;
  }

  countsFor(object: string): Counts {
    let counts = this.counts.get(object);
    if (!counts) {
      counts = emptyCounts();
      this.counts.set(object, counts);
    }
    return counts;
  }

  add(object: string, delta: Partial<Counts>): void {
    addCounts(this.countsFor(object), delta);
  }

  /**
   * Moves `records` of an object's `read` to `reread`: the writer counts every record it is given as
   * read, and only the caller knows that some of them this run had read already.
   */
  countRereads(object: string, records: number): void {
    if (records > 0) this.add(object, { read: -records, reread: records });
  }

  /** Counts so far as a plain object (stored on the run so a resumed run keeps them). */
  countsRecord(): Record<string, Counts> {
    return Object.fromEntries(this.counts);
  }

  restoreCounts(counts: Record<string, Counts>): void {
    for (const [object, value] of Object.entries(counts)) this.counts.set(object, { ...emptyCounts(), ...value });
    this.markCheckpointed();
  }

  /** The counts so far are those of the ledger's last consistent point (a checkpoint, or counts restored). */
  markCheckpointed(): void {
    this.checkpointed = new Map([...this.counts].map(([object, counts]) => [object, { ...counts }]));
  }

  /** The counts as of the last checkpoint: what a run stopped mid-page stores (a resumed run counts the page again). */
  checkpointedCountsRecord(): Record<string, Counts> {
    return Object.fromEntries([...this.checkpointed].map(([object, counts]) => [object, { ...counts }]));
  }

  /**
   * A resumed run's `failed` counts, from its failures in the ledger (one row per failure: the ledger records a
   * failure the run has already recorded once). The counts stored when the run stopped include the records of
   * the page it stopped in, which the resumed run reads and fails again; counted again, a failure was counted
   * twice.
   */
  async recountFailed(): Promise<void> {
    const failed = new Map<string, number>();
    for (const failure of await this.ledger.listFailures({ runId: this.run.id, severity: 'error' })) failed.set(failure.object, (failed.get(failure.object) ?? 0) + 1);
    for (const object of new Set([...this.counts.keys(), ...failed.keys()])) this.countsFor(object).failed = failed.get(object) ?? 0;
  }

  // ---- links

  async getLinks(object: string, sourceIds: string[]): Promise<Map<string, Link>> {
    const links = await this.ledger.getLinks(object, sourceIds);
    if (this.dryRun) for (const [id, link] of this.overlay.links(object, sourceIds)) links.set(id, link);
    return links;
  }

  /**
   * A page's links and match issues and, with `leaders`, the links of its source duplicates' leaders (in
   * `links`): as getLinks and getMatchIssues give them, in one ledger statement where it can.
   */
  async getPageLinks(object: string, sourceIds: string[], leaders: boolean): Promise<{ links: Map<string, Link>; issues: Map<string, MatchIssue> }> {
    const { links, issues } = await this.ledger.getPageLinks(object, sourceIds, leaders);
    const read = new Set(leaders ? leaderIds(issues) : []);
    if (this.dryRun) for (const [id, link] of this.overlay.links(object, sourceIds)) links.set(id, link);
    this.withKnownIssues(object, sourceIds, issues);
    if (!leaders) return { links, issues };
    const all = leaderIds(issues);
    // Leaders of issues the ledger did not hold (known or dry-run issues) are read now; a dry run's own links win.
    const unread = all.filter((id) => !read.has(id) && !links.has(id));
    if (unread.length > 0) for (const [id, link] of await this.ledger.getLinks(object, unread)) links.set(id, link);
    if (this.dryRun) for (const [id, link] of this.overlay.links(object, all)) links.set(id, link);
    return { links, issues };
  }

  /** Where referenced records went (state and target id only): what translating references needs. */
  async getLinkTargets(object: string, sourceIds: string[]): Promise<Map<string, LinkTarget>> {
    const targets = await this.ledger.getLinkTargets(object, sourceIds);
    if (this.dryRun) for (const [id, link] of this.overlay.links(object, sourceIds)) targets.set(id, link);
    return targets;
  }

  /** getLinkTargets of several objects at once (one ledger statement where it can). */
  async getLinkTargetsOf(wanted: [object: string, sourceIds: string[]][]): Promise<Map<string, Map<string, LinkTarget>>> {
    const out = await this.ledger.getLinkTargetsOf(wanted);
    if (this.dryRun) for (const [object, ids] of wanted) for (const [id, link] of this.overlay.links(object, ids)) out.get(object)!.set(id, link);
    return out;
  }

  /** Links whose record is one of these target records (a merged group's members), dry-run links included. */
  async linksByTarget(object: string, targetIds: string[]): Promise<Link[]> {
    const links = await this.ledger.linksByTarget(object, targetIds);
    if (!this.dryRun) return links;
    const wanted = new Set(targetIds);
    const bySource = new Map(links.map((link) => [link.sourceId, link]));
    // A ledger link the dry run moved elsewhere is no longer one of them; the overlay's own links to these targets are.
    for (const [id, link] of this.overlay.links(object, [...bySource.keys()])) {
      if (link.targetId === null || !wanted.has(link.targetId)) bySource.delete(id);
    }
    for (const link of this.overlay.linksToTargets(object, targetIds)) bySource.set(link.sourceId, link);
    return [...bySource.values()];
  }

  async putLinks(links: Link[]): Promise<void> {
    if (!this.dryRun) return this.ledger.putLinks(links);
    this.overlay.putLinks(links);
  }

  /**
   * Match issues this run knows from the failures it retries, for records the ledger holds no match issue of
   * any more (a later run's matching cleared it, and undoing that run did not bring it back): a source
   * duplicate that waited for its leader (`duplicate of <leader>, which was not migrated`) is written as that
   * leader's follower, a record held as ambiguous is held again; never a record of its own that may
   * duplicate one in the target. `ferry match` or a delta refreshes the judgement.
   */
  private readonly knownIssues = new Map<string, Map<string, MatchIssue>>();

  assumeIssues(object: string, issues: Map<string, MatchIssue>): void {
    this.knownIssues.set(object, issues);
  }

  async getMatchIssues(object: string, sourceIds: string[]): Promise<Map<string, MatchIssue>> {
    return this.withKnownIssues(object, sourceIds, await this.ledger.getMatchIssues(object, sourceIds));
  }

  /** The ledger's match issues of these records, with those this run assumes (assumeIssues) and a dry run's own. */
  private withKnownIssues(object: string, sourceIds: string[], issues: Map<string, MatchIssue>): Map<string, MatchIssue> {
    const known = this.knownIssues.get(object);
    if (known) {
      for (const id of sourceIds) {
        const issue = known.get(id);
        if (issue !== undefined && !issues.has(id)) issues.set(id, issue);
      }
    }
    if (this.dryRun) {
      for (const [id, issue] of this.overlay.issues(object, sourceIds)) {
        if (issue) issues.set(id, issue);
        else issues.delete(id);
      }
    }
    return issues;
  }

  async putMatchIssues(object: string, issues: MatchIssue[], cleared: string[]): Promise<void> {
    if (!this.dryRun) {
      await this.ledger.transaction(async (store) => {
        await store.clearMatchIssues(object, cleared);
        await store.putMatchIssues(issues);
      });
      return;
    }
    this.overlay.putIssues(object, issues, cleared);
  }

  // ---- failures, conflicts, journal, deferred references

  async fail(object: string, sourceId: string, error: RecordError): Promise<void> {
    this.failLater(object, sourceId, error);
    await this.flushFailures();
  }

  /** A problem reported on a record that was still written (e.g. a reference to a record that failed). */
  async warn(object: string, sourceId: string, error: RecordError): Promise<void> {
    this.warnLater(object, sourceId, error);
    await this.flushFailures();
  }

  /**
   * Like fail(), but the row is written with the next commit() or flushFailures(): a page's failures cost
   * one ledger transaction, not one each. The writer flushes before a page's unit of work is marked
   * done, so a failure is never lost to a crash without its page being read again.
   */
  failLater(object: string, sourceId: string, error: RecordError): void {
    this.add(object, { failed: 1 });
    this.progress.emit({ type: 'record-failed', runId: String(this.run.id), object, sourceId, error });
    this.unwrittenFailures.push(this.failureRow(object, sourceId, error, 'error'));
  }

  warnLater(object: string, sourceId: string, error: RecordError): void {
    this.unwrittenFailures.push(this.failureRow(object, sourceId, error, 'warning'));
  }

  /** Writes the failures, warnings and deferred references not yet in the ledger (see failLater, deferLater). */
  async flushFailures(): Promise<void> {
    if (this.unwrittenDeferred.length > 0) {
      await this.commit({ object: '' });
      return;
    }
    if (this.unwrittenFailures.length === 0) return;
    await this.ledger.addFailures(this.unwrittenFailures.splice(0));
  }

  private failureRow(object: string, sourceId: string, error: RecordError, severity: Failure['severity']): FailureRow {
    return {
      runId: this.run.id,
      object,
      sourceId,
      code: error.code,
      field: error.field ?? null,
      value: error.value === undefined ? null : describeValue(error.value, 500),
      message: error.message,
      severity,
      // A dry run's failures are a forecast: recorded for its report, settled at once (see the class comment).
      resolvedByRunId: this.dryRun ? this.run.id : null,
    };
  }

  async conflicts(conflicts: Omit<Conflict, 'id'>[]): Promise<void> {
    for (const conflict of conflicts) {
      this.progress.emit({
        type: 'conflict',
        runId: String(this.run.id),
        object: conflict.object,
        sourceId: conflict.sourceId,
        targetId: conflict.targetId,
        field: conflict.field,
        sourceValue: conflict.sourceValue,
        targetValue: conflict.targetValue,
        resolution: conflict.resolution,
      });
    }
    // A dry run records them too (its report lists what a real run would settle); nothing else reads them.
    await this.ledger.addConflicts(conflicts);
  }

  async journal(entries: Omit<JournalEntry, 'id' | 'undone'>[]): Promise<void> {
    if (!this.dryRun) await this.ledger.addJournal(entries);
  }

  async defer(references: DeferredReference[]): Promise<void> {
    if (!this.dryRun) await this.ledger.addDeferredReferences(references);
  }

  /** Like defer(), but the rows are written with the next commit(), checkpoint() or flushFailures(). */
  deferLater(references: DeferredReference[]): void {
    if (!this.dryRun) this.unwrittenDeferred.push(...references);
  }

  /**
   * The intent of one batch of creates, committed before the batch is sent: one row for the batch (its
   * source ids), settled by the commit of its outcome (`intentDone`). A dry run writes none.
   */
  async intend(object: string, sourceIds: string[]): Promise<number | undefined> {
    if (this.dryRun || sourceIds.length === 0) return undefined;
    return this.ledger.addCreateIntent(this.run.id, object, sourceIds);
  }

  /**
   * Records the outcome of one batch of writes atomically: links, their journal entries, and the
   * failures of earlier runs these records settle. Either all of it is in the ledger or none.
   */
  async commit(batch: {
    object: string;
    links?: Link[];
    journal?: Omit<JournalEntry, 'id' | 'undone'>[];
    resolved?: string[];
    /** Settle only failures of these codes (default: every open failure of the `resolved` records). */
    resolvedCodes?: string[];
    deleteLinks?: string[];
    /** Source ids whose deferred references (link pass) are settled by this commit. */
    deferredDone?: string[];
    /** Create intents (see intend) whose outcome this commit records. */
    intentsDone?: number[];
    /** References of the written records to write in the link pass (see defer), recorded with their outcome. */
    deferred?: DeferredReference[];
  }): Promise<void> {
    if (this.dryRun) {
      if (batch.links) await this.putLinks(batch.links);
      await this.flushFailures();
      return;
    }
    const failures = this.unwrittenFailures.splice(0);
    const deferred = [...this.unwrittenDeferred.splice(0), ...(batch.deferred ?? [])];
    // Deleting a link and then writing it is writing it: left out, no statement touches a link twice, so
    // the commit can be one statement (writesOnly). Likewise deferred references settled and added again.
    const written = new Set(batch.links?.filter((link) => link.object === batch.object).map((link) => link.sourceId));
    const deleteLinks = batch.deleteLinks?.filter((id) => !written.has(id));
    const deferredAgain = new Set(deferred.map((reference) => reference.sourceId));
    const writesOnly = !batch.deferredDone?.some((id) => deferredAgain.has(id));
    await this.ledger.transaction(
      async (store) => {
        if (deleteLinks?.length) await store.deleteLinks(batch.object, deleteLinks);
        if (batch.links?.length) await store.putLinks(batch.links);
        if (batch.journal?.length) await store.addJournal(batch.journal);
        if (batch.resolved?.length) await store.resolveFailures(batch.object, batch.resolved, this.run.id, batch.resolvedCodes);
        // After resolveFailures: it settles earlier runs' failures only, never this run's.
        if (failures.length > 0) await store.addFailures(failures);
        if (batch.deferredDone?.length) await store.deleteDeferredReferences(this.run.id, batch.object, batch.deferredDone);
        if (deferred.length > 0) await store.addDeferredReferences(deferred);
        if (batch.intentsDone?.length) await store.deleteCreateIntents(batch.intentsDone);
      },
      { writesOnly },
    );
  }

  /**
   * A point where the ledger is consistent: the failures not yet written, the unit of work just finished
   * (if any) and the run's counts, in one transaction (one commit per page instead of three). A part of a
   * queued run (workers) keeps its counts in its own unit rows instead of the run's, added up at the end.
   */
  async checkpoint(unit?: Unit): Promise<void> {
    const partPhase = this.partCountsPhase;
    if (this.dryRun) {
      await this.flushFailures();
      if (unit) await this.ledger.putUnit(unit);
    } else {
      const failures = this.unwrittenFailures.splice(0);
      const deferred = this.unwrittenDeferred.splice(0);
      await this.ledger.transaction(
        async (store) => {
          if (failures.length > 0) await store.addFailures(failures);
          if (deferred.length > 0) await store.addDeferredReferences(deferred);
          if (unit) await store.putUnit(unit);
          if (partPhase === undefined) await store.updateRun(this.run.id, { counts: this.countsRecord() });
          // A part's counts go with its page, in the same commit: what `ferry runs` and the waiting command show
          // while the run goes on, and what a part taken over after its worker died resumes from. Never ahead of
          // or behind its pages, so a page read again is counted once.
          else for (const [object, counts] of this.counts) await store.putUnit({ runId: this.run.id, phase: partPhase, object, seq: 0, cursor: null, nextCursor: null, done: true, counts: { ...counts } });
        },
        // The unit and the part's count rows are distinct rows (phases differ): one statement on PostgreSQL.
        { writesOnly: unit === undefined || unit.phase !== partPhase },
      );
      this.markCheckpointed();
    }
    await this.pausePoint();
  }

  /**
   * Between two pieces of work that leave the ledger consistent (a page recorded, a page of matching
   * done): lets the event loop in and stops here when the run was asked to pause.
   */
  async pausePoint(): Promise<void> {
    // With synchronous drivers (better-sqlite3) a whole run is one chain of resolved promises, so timers,
    // signals (Ctrl-C) and the wizard's HTTP requests would wait for the end of the run: let them in here.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.signal?.aborted) {
      throw new FerryError('RUN_PAUSED', `Run ${this.run.id} was paused; run the same command again to resume it where it stopped.`);
    }
  }
}
