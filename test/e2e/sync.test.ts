import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editChangedRecordsInTarget } from '../../src/cli/demo-setup.js';
import { openProject, type OpenProject } from '../../src/cli/open-project.js';
import { nowIso } from '../../src/core/time.js';
import { SyncStore } from '../../src/ledger/sync.js';
import { applySourceChanges, editTargetRecords, naiveTimestamp, type SourceChanges } from '../../src/sample/index.js';
import { runSyncCycle, type CycleOutcome } from '../../src/sync/cycle.js';
import { runCutover, type CutoverResult } from '../../src/sync/cutover.js';
import { runSyncLoop, type SyncEvent, type SyncLoopOptions } from '../../src/sync/loop.js';
import { VirtualTimer } from '../../src/sync/timer.js';
import { writeSyncScene } from '../support/sync-scene.js';

/**
 * Continuous sync on the SQLite demo scene (sample source with change generators, a target that already
 * holds some of the same people), on virtual time: cycles run back to back while the test changes the
 * source (and the target) between them, then a cut-over ends it.
 */
const MINUTE = 60_000;
const INTERVAL = 5 * MINUTE;
const START = Date.parse('2026-03-02T09:00:00.000Z');

describe('continuous sync on SQLite -> SQLite', () => {
  let folder: string;
  let project: OpenProject;
  let timer: VirtualTimer;
  let store: SyncStore;

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'ferry-sync-'));
    await writeSyncScene(folder, { seed: 11, size: 60 });
    project = await openProject({ cwd: folder, env: {} });
    const full = await project.engine.migrate();
    expect(Object.values(full.counts).reduce((sum, count) => sum + count.failed, 0)).toBe(0);
    timer = new VirtualTimer(START);
    store = new SyncStore(project.ledger.kysely);
  });
  afterEach(async () => {
    await project.close();
    rmSync(folder, { recursive: true, force: true });
  });

  /** The loop as `ferry sync --every 5m` runs it, on virtual time. */
  const sync = (options: Partial<SyncLoopOptions> & Pick<SyncLoopOptions, 'cycle'>) =>
    runSyncLoop({ store, intervalMs: INTERVAL, mode: 'both', onConflict: 'source-wins', timer, pollMs: MINUTE, ...options });
  const change = (seed: number): Promise<SourceChanges> =>
    applySourceChanges(join(folder, 'source.db'), { seed, newRecords: 4, changedRecords: 6, at: nowIso() });
  const cycle = (signal: AbortSignal) => runSyncCycle(project.engine, project.ledger, { mode: 'both', onConflict: 'source-wins', signal });
  /** Gives failed deals the stage of deal 1 (migrated fine), as a person fixing the source would. */
  const fixInSource = (dealIds: string[]): void => {
    if (dealIds.length === 0) return;
    const db = new SqliteDatabase(join(folder, 'source.db'));
    try {
      const update = db.prepare('UPDATE deals SET stage = (SELECT stage FROM deals WHERE id = 1), updated_at = ? WHERE id = ?');
      for (const id of dealIds) update.run(naiveTimestamp(Date.now()), Number(id));
    } finally {
      db.close();
    }
  };
  const targetCount = (table: string): number => {
    const db = new SqliteDatabase(join(folder, 'target.db'), { readonly: true });
    try {
      return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it('runs cycles while the source changes, settles a conflict, and ends with a clean cut-over: every change once, no duplicate', async () => {
    const targetBefore = { companies: targetCount('companies'), contacts: targetCount('contacts'), deals: targetCount('deals'), notes: targetCount('notes') };
    const createdLinksBefore = await createdLinkCounts();
    const created: Record<string, string[]> = { companies: [], contacts: [], deals: [], notes: [] };
    const changedIn = new Map<number, SourceChanges>();
    const outcomes: CycleOutcome[] = [];
    const events: SyncEvent[] = [];
    let cutover: Promise<CutoverResult> | undefined;
    let conflictEdits: Awaited<ReturnType<typeof editChangedRecordsInTarget>> = [];
    const fixed = new Set<string>();
    let k = 0;
    let openBeforeFirstCycle = -1;
    const summary = await sync({
      pollMs: INTERVAL,
      onEvent: (event) => events.push(event),
      cycle: async (signal) => {
        k += 1;
        // People keep working in the legacy CRM between cycles.
        if (k > 1) {
          const changes = await change(100 + k);
          changedIn.set(k, changes);
          for (const [table, ids] of Object.entries(changes.created)) created[table]!.push(...ids.map(String));
          // ...and in the new CRM: before cycle 3, someone edits fields that also changed in the source.
          if (k === 3) conflictEdits = await editChangedRecordsInTarget(project, changes.changed, changes.changedFields);
        }
        if (k === 1) openBeforeFirstCycle = (await project.ledger.openFailureCounts()).total;
        const outcome = await cycle(signal);
        outcomes.push(outcome);
        // The sample's new deals carry stage spellings the value map does not know: each cycle lists them as
        // failed records; the consultant fixes them in the source, and a later cycle brings them over.
        for (const failure of outcome.failures) fixed.add(`${failure.object}:${failure.sourceId}`);
        fixInSource(outcome.failures.filter((failure) => failure.object === 'deals' && failure.field === 'dealstage').map((failure) => failure.sourceId));
        if (k === 4) {
          // After the last cycle: more source changes and a person's edit in the target, then the cut-over,
          // which asks this sync to stop (it is still in its cycle) and waits for it.
          // (no new or changed deals: their stage spellings would need another round of fixes)
          const late = await applySourceChanges(join(folder, 'source.db'), { seed: 999, newRecords: { companies: 1, contacts: 3, notes: 2 }, changedRecords: { companies: 1, contacts: 4 }, at: nowIso() });
          for (const [table, ids] of Object.entries(late.created)) created[table]!.push(...ids.map(String));
          await editTargetRecords(join(folder, 'target.db'), { seed: 5, count: 3, at: nowIso() });
          cutover = runCutover(project.engine, project.ledger, { onConflict: 'source-wins', timer, pollMs: INTERVAL });
        }
        return outcome;
      },
    });
    const result = await cutover!;

    // The loop: four cycles on consecutive ticks, each an ordinary delta run, stopped by the cut-over.
    expect(summary).toMatchObject({ cycles: 4, failedCycles: 0, skippedTicks: 0, reason: 'cutover' });
    expect(outcomes[0]!.status).toBe('completed');
    // Records the full migration left failed are not re-read by a delta (the source did not change them):
    // every cycle says how many still wait for `ferry retry`, so the sync's output never hides them.
    expect(outcomes[0]!.earlierOpenFailures).toBe(openBeforeFirstCycle);
    // Per-record failures are reported per cycle (record, field, value), and do not stop the sync.
    const failedCycles = outcomes.filter((outcome) => outcome.status === 'completed_with_failures');
    expect(failedCycles.length).toBeGreaterThan(0);
    for (const outcome of failedCycles) {
      expect(outcome.failureCount).toBe(outcome.totals.failed);
      expect(outcome.failures[0]).toMatchObject({ object: 'deals', code: 'VALUE_NOT_MAPPED', field: 'dealstage', runId: outcome.runId });
    }
    const started = events.filter((event) => event.type === 'cycle-started').map((event) => event.startedAt);
    expect(started).toEqual([0, 1, 2, 3].map((tick) => new Date(START + tick * INTERVAL).toISOString()));
    const runs = await project.ledger.listRuns();
    const deltas = runs.filter((run) => run.kind === 'delta');
    expect(deltas.map((run) => run.id)).toEqual([...outcomes.map((outcome) => outcome.runId), result.final.runId]);
    expect(deltas.map((run) => run.status)).toEqual([...outcomes.map((outcome) => outcome.status), 'completed']);
    // The first cycle had nothing to do; each later one wrote what changed just before it.
    expect(outcomes[0]!.totals).toMatchObject({ created: 0, updated: 0 });
    for (const index of [1, 2, 3]) {
      expect(outcomes[index]!.totals.created).toBeGreaterThan(0);
      expect(outcomes[index]!.totals.updated).toBeGreaterThan(0);
    }
    // The target edit of a field the source changed too is a conflict of cycle 3, settled source-wins.
    // (Records Ferry created are always fully updated; a matched record keeps its own values under
    // fill-empty, so an edit there is no conflict.)
    const origins = await Promise.all(conflictEdits.map(async (edit) => (await project.ledger.getLink(edit.object, edit.sourceId))!.origin));
    const expected = conflictEdits.filter((_, index) => origins[index] === 'created').map((edit) => `${edit.object}:${edit.sourceId}:${edit.field}`);
    expect(expected.length).toBeGreaterThan(0);
    const conflicts = await project.ledger.listConflicts(outcomes[2]!.runId!);
    expect(conflicts.map((conflict) => `${conflict.object}:${conflict.sourceId}:${conflict.field}`).sort()).toEqual(expected.sort());
    expect(outcomes[2]!.totals.conflicts).toBe(expected.length);
    expect(conflicts.every((conflict) => conflict.resolution === 'source-wins')).toBe(true);

    // The sync's row in the ledger.
    const row = (await store.get(summary.syncId))!;
    expect(row).toMatchObject({ state: 'stopped', stopReason: 'cutover', cycles: 4, intervalMs: INTERVAL, mode: 'both' });
    expect(row.lastCycle).toMatchObject({ runId: outcomes[3]!.runId, status: 'completed', created: outcomes[3]!.totals.created, updated: outcomes[3]!.totals.updated });

    // The cut-over: the late changes arrive in the final delta, people's target edits are listed, verify is clean.
    expect(result.stoppedSyncs).toEqual([summary.syncId]);
    expect(result.lastCycle?.runId).toBe(outcomes[3]!.runId);
    expect(result.final.status).toBe('completed');
    expect(result.final.totals.created).toBeGreaterThan(0);
    expect(result.final.totals.updated).toBeGreaterThan(0);
    expect(result.targetEditCount).toBeGreaterThan(0);
    expect(result.verify.issues.filter((issue) => issue.reason !== 'edited-in-target')).toEqual([]);
    expect(result.verify.ok).toBe(true);
    expect(result.ok).toBe(true);

    // Every new source record arrived exactly once: created by exactly one run, one target record each.
    const journal = await sql<{ object: string; source_id: string; creates: number }>`
      select object, source_id, count(*) as creates from journal where action = 'create' group by object, source_id`.execute(project.ledger.kysely);
    expect(journal.rows.filter((entry) => Number(entry.creates) > 1)).toEqual([]);
    for (const [table, ids] of Object.entries(created)) {
      const links = await project.ledger.getLinks(table, ids);
      expect(links.size, table).toBe(ids.length);
      expect([...links.values()].every((link) => link.state === 'linked' && link.targetId !== null), table).toBe(true);
    }
    // No duplicates: each target table grew by exactly the records Ferry created in it.
    const createdLinksAfter = await createdLinkCounts();
    for (const table of ['companies', 'contacts', 'deals', 'notes'] as const) {
      expect(targetCount(table) - targetBefore[table], table).toBe((createdLinksAfter[table] ?? 0) - (createdLinksBefore[table] ?? 0));
    }
    // Every source change arrived once: a record Ferry created and the source changed in one cycle only
    // was updated by that cycle's run and by no other sync run.
    const syncRuns = new Set(deltas.map((run) => run.id));
    const updates = await sql<{ run_id: number; object: string; source_id: string }>`
      select run_id, object, source_id from journal where action = 'update'`.execute(project.ledger.kysely);
    const changedCycles = new Map<string, number[]>();
    for (const [cycleNumber, changes] of changedIn) {
      for (const [table, ids] of Object.entries(changes.changed)) for (const id of ids) changedCycles.set(`${table}:${id}`, [...(changedCycles.get(`${table}:${id}`) ?? []), cycleNumber]);
    }
    const sharedRows = await sql<{ object: string; target_id: string }>`
      select object, target_id from links where target_id is not null group by object, target_id having count(*) > 1`.execute(project.ledger.kysely);
    const shared = new Set(sharedRows.rows.map((row) => `${row.object}:${row.target_id}`));
    let checked = 0;
    for (const [key, cycles] of changedCycles) {
      if (cycles.length !== 1 || fixed.has(key)) continue;
      const [table, id] = key.split(':') as [string, string];
      const link = await project.ledger.getLink(table, id);
      // (A source duplicate shares its target record with its group, which any member's change rewrites.)
      if (link?.origin !== 'created' || shared.has(`${table}:${link.targetId}`)) continue;
      const runsThatUpdated = updates.rows.filter((entry) => entry.object === table && entry.source_id === id && syncRuns.has(Number(entry.run_id))).map((entry) => Number(entry.run_id));
      expect(runsThatUpdated, key).toEqual([outcomes[cycles[0]! - 1]!.runId]);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('back-pressure: a cycle still running when the next is due is not doubled; the ticks it overran are skipped and counted', async () => {
    let running = 0;
    let most = 0;
    let k = 0;
    const events: SyncEvent[] = [];
    const summary = await sync({
      untilMs: START + 5 * INTERVAL,
      onEvent: (event) => events.push(event),
      cycle: async (signal) => {
        k += 1;
        running += 1;
        most = Math.max(most, running);
        await change(200 + k);
        // The second cycle is slow: it takes two and a half intervals.
        if (k === 2) timer.advance(2.5 * INTERVAL);
        try {
          return await cycle(signal);
        } finally {
          running -= 1;
        }
      },
    });
    expect(most).toBe(1);
    // Ticks 0 and 1 run; ticks 2 and 3 fall while cycle 2 runs (skipped); ticks 4 and 5 run; 6 is after --until.
    expect(summary).toMatchObject({ cycles: 4, skippedTicks: 2, reason: 'until' });
    const started = events.filter((event) => event.type === 'cycle-started').map((event) => event.startedAt);
    expect(started).toEqual([0, 1, 4, 5].map((tick) => new Date(START + tick * INTERVAL).toISOString()));
    const finished = events.filter((event) => event.type === 'cycle-finished');
    expect(finished.map((event) => event.skipped)).toEqual([0, 2, 0, 0]);
    expect(finished[1]!.nextDueAt).toBe(new Date(START + 4 * INTERVAL).toISOString());
    expect((await store.get(summary.syncId))!).toMatchObject({ state: 'stopped', stopReason: 'until', skippedTicks: 2, cycles: 4, nextDueAt: null });
    // One delta run per cycle, none overlapping another.
    const deltas = (await project.ledger.listRuns()).filter((run) => run.kind === 'delta');
    expect(deltas).toHaveLength(4);
    for (let index = 1; index < deltas.length; index++) expect(deltas[index]!.startedAt >= deltas[index - 1]!.finishedAt!).toBe(true);
  });

  it('a cycle that fails is retried on the next tick with its error listed; a stop request ends the loop between cycles', async () => {
    let k = 0;
    let held: Awaited<ReturnType<typeof project.ledger.acquireLock>> | undefined;
    const outcomes: CycleOutcome[] = [];
    let syncId = 0;
    const summary = await sync({
      onEvent: (event) => {
        if (event.type === 'started') syncId = event.sync.id;
      },
      cycle: async (signal) => {
        k += 1;
        if (k === 2) {
          await change(301);
          // Another command holds the ledger for the whole of cycle 2.
          held = await project.ledger.acquireLock('run `ferry delta` by hand');
        }
        const outcome = await cycle(signal);
        outcomes.push(outcome);
        if (k === 2) await held!.release();
        // The wizard's stop button, pressed during cycle 3.
        if (k === 3) await store.requestStop(syncId, 'wizard');
        return outcome;
      },
    });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['completed', 'failed', expect.stringMatching(/^completed/)]);
    expect(outcomes[1]).toMatchObject({ runId: null, error: { code: 'LEDGER_LOCKED' } });
    // The retry brought over what the failed cycle should have.
    expect(outcomes[2]!.totals.created).toBeGreaterThan(0);
    expect(summary).toMatchObject({ cycles: 3, failedCycles: 1, reason: 'wizard' });
    const row = (await store.get(summary.syncId))!;
    expect(row).toMatchObject({ state: 'stopped', stopReason: 'wizard', failedCycles: 1 });
    expect(row.lastCycle?.error).toBeNull();
  });

  it('Ctrl-C pauses the cycle after its page and stops the sync; the next sync resumes that run: nothing twice, nothing lost', async () => {
    await change(401);
    const stop = new AbortController();
    // Pause as soon as the first object of the cycle is written.
    const off = project.progress.on((event) => {
      if (event.type === 'object-finished' && event.object === 'companies') stop.abort();
    });
    const first = await sync({ signal: stop.signal, cycle });
    off();
    expect(first).toMatchObject({ cycles: 1, reason: 'signal' });
    expect(first.last).toMatchObject({ status: 'paused', error: { code: 'RUN_PAUSED' } });
    const paused = first.last!.runId!;
    expect((await project.ledger.getRun(paused))!.status).toBe('interrupted');
    expect((await store.get(first.syncId))!).toMatchObject({ state: 'stopped', stopReason: 'signal' });

    const outcomes: CycleOutcome[] = [];
    let k = 0;
    let secondId = 0;
    const second = await sync({
      cycle: async (signal) => {
        k += 1;
        const outcome = await cycle(signal);
        outcomes.push(outcome);
        if (k === 2) await store.requestStop(secondId, 'requested');
        return outcome;
      },
      onEvent: (event) => {
        if (event.type === 'started') secondId = event.sync.id;
      },
    });
    expect(second.syncId).not.toBe(first.syncId);
    expect(outcomes[0]).toMatchObject({ runId: paused, resumed: true, status: 'completed' });
    expect(outcomes[1]!.totals).toMatchObject({ created: 0, updated: 0 });
    const journal = await sql<{ n: number }>`
      select count(*) as n from (select object, source_id from journal where action = 'create' group by object, source_id having count(*) > 1) as twice`.execute(project.ledger.kysely);
    expect(Number(journal.rows[0]!.n)).toBe(0);
    // Verify finds nothing missing or different; what is not migrated is exactly the records listed as failed.
    const verify = await project.engine.verify();
    const open = new Set((await project.ledger.listFailures({ unresolved: true, severity: 'error' })).map((failure) => `${failure.object}:${failure.sourceId}`));
    expect(verify.issues.filter((issue) => issue.kind !== 'not-migrated')).toEqual([]);
    expect(verify.issues.every((issue) => open.has(`${issue.object}:${issue.sourceId}`))).toBe(true);
  });

  async function createdLinkCounts(): Promise<Record<string, number>> {
    const rows = await sql<{ object: string; n: number }>`select object, count(*) as n from links where origin = 'created' group by object`.execute(project.ledger.kysely);
    return Object.fromEntries(rows.rows.map((row) => [row.object, Number(row.n)]));
  }
});
