import type { Connector, SourceDeletion } from '../core/connector.js';
import { toFerryError } from '../core/errors.js';
import type { Failure } from '../ledger/index.js';
import type { ObjectPlan } from './plan.js';
import type { RunState } from './run-state.js';

/** A delta lists at most this many deleted records by id in its messages (all of them are in the report). */
const LISTED = 10;

/**
 * Deletions in the source, reported by a delta and never propagated (semantics.md, "Deletes"). Per object
 * whose source connector can see deletions (`Connector.readDeletions`), the records it names that Ferry
 * migrated (linked in the ledger) become warnings `DELETED_IN_SOURCE` of the run, with the target id the
 * record keeps, and one message per object counts them. Warnings are stored settled (like a dry run's), so
 * they are never open failures and `retry` never tries them. A record an earlier run already reported is
 * not reported again (a source that keeps no tombstones names a deleted record in every delta).
 */
export async function reportSourceDeletions(state: RunState, source: Connector, plans: ObjectPlan[], since: string): Promise<void> {
  if (!source.readDeletions) return;
  const runId = String(state.run.id);
  const dryRuns = new Map<number, boolean>();
  const isDryRun = async (id: number): Promise<boolean> => {
    if (!dryRuns.has(id)) dryRuns.set(id, (await state.ledger.getRun(id))?.dryRun ?? true);
    return dryRuns.get(id)!;
  };
  for (const plan of plans) {
    if (plan.mapping.matchOnly) continue;
    state.progress.emit({ type: 'phase', runId, phase: 'deletions', object: plan.object });
    const ledger = state.ledger;
    let deletions: SourceDeletion[] | undefined;
    try {
      deletions = await source.readDeletions(plan.sourceObject, {
        since,
        known: async function* () {
          for await (const page of ledger.iterateLinks(plan.object)) {
            const ids = page.filter((link) => link.targetId !== null).map((link) => link.sourceId);
            if (ids.length > 0) yield ids;
          }
        },
      });
    } catch (error) {
      // What the delta wrote stands: a report it could not make is said, not a reason to stop the run.
      const text = `${plan.object}: the source's deletions could not be read (${toFerryError(error).code}: ${toFerryError(error).message}); the next delta looks again.`;
      state.messages.push(text);
      state.progress.emit({ type: 'message', runId, level: 'warn', text });
      continue;
    }
    if (!deletions || deletions.length === 0) continue;
    const byId = new Map<string, SourceDeletion>();
    for (const deletion of deletions) byId.set(deletion.id, deletion);
    const links = await state.getLinks(plan.object, [...byId.keys()]);
    const reported = new Set<string>();
    for (const failure of await ledger.listFailures({ object: plan.object, code: 'DELETED_IN_SOURCE' })) {
      if (failure.runId === state.run.id || !(await isDryRun(failure.runId))) reported.add(failure.sourceId);
    }
    const rows: Omit<Failure, 'id'>[] = [];
    const listed: string[] = [];
    let earlier = 0;
    for (const deletion of byId.values()) {
      const link = links.get(deletion.id);
      if (!link || link.targetId === null) continue;
      if (reported.has(deletion.id)) {
        earlier += 1;
        continue;
      }
      const when = deletion.deletedAt ? ` at ${deletion.deletedAt}` : '';
      rows.push({
        runId: state.run.id,
        object: plan.object,
        sourceId: deletion.id,
        code: 'DELETED_IN_SOURCE',
        field: null,
        value: null,
        message: `${plan.sourceObject} ${deletion.id} was deleted in the source${when}; ${plan.targetObject} ${link.targetId} is kept in the target (deletions are not propagated)`,
        severity: 'warning',
        resolvedByRunId: state.run.id,
      });
      listed.push(`${deletion.id} -> ${link.targetId}`);
    }
    if (rows.length > 0) await ledger.addFailures(rows);
    if (rows.length === 0) continue;
    const shown = listed.slice(0, LISTED).join(', ') + (listed.length > LISTED ? `, … (${listed.length - LISTED} more in \`ferry report ${runId}\`)` : '');
    const text =
      `${plan.object}: deleted in the source since the last run: ${rows.length} — not propagated, the target keeps them (source id -> target id: ${shown})` +
      (earlier > 0 ? `; ${earlier} more deleted were reported by an earlier run.` : '.');
    state.messages.push(text);
    state.progress.emit({ type: 'message', runId, level: 'warn', text });
  }
}
