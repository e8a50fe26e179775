import type { Connector, CrmRecord } from '../core/connector.js';
import type { FieldValue } from '../core/schema.js';
import type { JournalEntry, Link } from '../ledger/index.js';
import { valuesEqual } from '../project/transform.js';
import type { ObjectPlan } from './plan.js';
import type { RunState } from './run-state.js';

/**
 * Undo of one run from its journal, newest entry first and children before parents: records the run
 * created are deleted, fields it changed get their old values back. Whatever people changed in the
 * target since is left alone and reported (TARGET_CHANGED). Entries are marked undone as they are
 * processed, so an interrupted undo resumes where it stopped.
 */
export async function undoRun(state: RunState, target: Connector, plansChildrenFirst: ObjectPlan[], runId: number): Promise<void> {
  const ledger = state.ledger;
  for (const plan of plansChildrenFirst) {
    const { object, targetObject } = plan;
    const type = (field: string) => plan.targetFieldSchemas.get(field)?.type;
    const equal = (field: string, a: unknown, b: unknown) => valuesEqual((a ?? null) as FieldValue, (b ?? null) as FieldValue, type(field));
    for await (const page of ledger.iterateJournal(runId, object)) {
      const entries = page.filter((entry) => !entry.undone);
      if (entries.length === 0) continue;
      state.add(object, { read: entries.length });
      const current = new Map<string, CrmRecord>();
      const ids = [...new Set(entries.map((entry) => entry.targetId))];
      const size = target.capabilities().batchSize.read;
      for (let start = 0; start < ids.length; start += size) {
        for (const record of await target.readByIds(targetObject, ids.slice(start, start + size), plan.targetFields)) current.set(record.id, record);
      }

      const toDelete: JournalEntry[] = [];
      const gone: JournalEntry[] = [];
      const restores = new Map<string, { entries: JournalEntry[]; fields: Record<string, FieldValue> }>();
      const settled: JournalEntry[] = [];
      for (const entry of entries) {
        const now = current.get(entry.targetId);
        if (entry.action === 'delete') {
          // Deletions by --rerun are not undone: the records are created again by the rerun itself.
          settled.push(entry);
          continue;
        }
        if (!now) {
          // A record the run created that is gone already (deleted by an earlier, interrupted attempt of
          // this undo, or by hand): its link goes too, so the ledger is as before the run.
          if (entry.action === 'create') gone.push(entry);
          else settled.push(entry);
          continue;
        }
        if (entry.action === 'create') {
          const changed = Object.keys(entry.after ?? {}).filter((field) => !equal(field, now.fields[field], entry.after![field]));
          if (changed.length > 0) {
            await state.fail(object, entry.sourceId, {
              code: 'TARGET_CHANGED',
              field: changed[0],
              value: (now.fields[changed[0]!] ?? null) as FieldValue,
              message: `${targetObject} ${entry.targetId} (from ${object} ${entry.sourceId}) was changed in the target after run ${runId} created it (${changed.join(', ')}); it was not deleted`,
            });
            settled.push(entry);
            continue;
          }
          toDelete.push(entry);
          continue;
        }
        // update or link: restore each field the target still holds as written
        const restore = restores.get(entry.targetId) ?? { entries: [], fields: {} };
        for (const [field, before] of Object.entries(entry.before ?? {})) {
          const written = entry.after?.[field];
          const value = now.fields[field] ?? null;
          if (equal(field, value, written)) {
            restore.fields[field] = before as FieldValue;
            now.fields[field] = before as FieldValue;
          } else if (!equal(field, value, before)) {
            await state.fail(object, entry.sourceId, {
              code: 'TARGET_CHANGED',
              field,
              value,
              message: `${targetObject} ${entry.targetId}.${field} was changed in the target after run ${runId} wrote it; it keeps its current value`,
            });
          }
        }
        restore.entries.push(entry);
        restores.set(entry.targetId, restore);
      }

      if (state.dryRun) {
        state.add(object, { deleted: toDelete.length, updated: [...restores.values()].filter((restore) => Object.keys(restore.fields).length > 0).length });
        continue;
      }

      const restoredLinks: Link[] = [];
      const droppedLinks: string[] = [];
      const updates = [...restores.entries()].filter(([, restore]) => Object.keys(restore.fields).length > 0);
      for (let start = 0; start < updates.length; start += target.capabilities().batchSize.update) {
        const part = updates.slice(start, start + target.capabilities().batchSize.update);
        const results = await target.update(targetObject, part.map(([id, restore]) => ({ id, fields: restore.fields })));
        for (const [index, [, restore]] of part.entries()) {
          const result = results[index];
          if (result && !result.ok) {
            await state.fail(object, restore.entries[0]!.sourceId, { ...result.error, message: `undo could not restore ${targetObject}: ${result.error.message}` });
            continue;
          }
          state.add(object, { updated: 1 });
        }
      }
      // Per source record (merged duplicates share a target record, each with its own link): the oldest
      // entry's link state is what the ledger held before the run touched it, unless the run created the
      // record itself (then its create entry removes the link). Entries come newest first.
      const oldestBySource = new Map<string, JournalEntry>();
      for (const restore of restores.values()) {
        for (const entry of restore.entries) oldestBySource.set(entry.sourceId, entry);
        settled.push(...restore.entries);
      }
      for (const oldest of oldestBySource.values()) {
        const createdByRun = oldest.linkBefore?.origin === 'created' && oldest.linkBefore.runId === runId;
        if (oldest.linkBefore && !createdByRun) restoredLinks.push(oldest.linkBefore);
      }

      for (let start = 0; start < toDelete.length; start += target.capabilities().batchSize.delete) {
        const part = toDelete.slice(start, start + target.capabilities().batchSize.delete);
        const results = await target.delete(targetObject, part.map((entry) => entry.targetId));
        for (const [index, entry] of part.entries()) {
          const result = results[index];
          if (result?.ok || (result && !result.ok && result.error.code === 'NOT_FOUND')) {
            state.add(object, { deleted: 1 });
            droppedLinks.push(entry.sourceId);
            settled.push(entry);
          } else if (result && !result.ok) {
            await state.fail(object, entry.sourceId, { ...result.error, message: `undo could not delete ${targetObject} ${entry.targetId}: ${result.error.message}` });
          }
        }
      }
      const goneLinks = gone.length > 0 ? await ledger.getLinks(object, gone.map((entry) => entry.sourceId)) : new Map<string, Link>();
      for (const entry of gone) {
        if (goneLinks.get(entry.sourceId)?.targetId === entry.targetId) droppedLinks.push(entry.sourceId);
        settled.push(entry);
      }
      // Source duplicates merged into a deleted record lose their link too.
      const deletedTargets = [...toDelete, ...gone].filter((entry) => droppedLinks.includes(entry.sourceId)).map((entry) => entry.targetId);
      const followers = deletedTargets.length > 0 ? await ledger.linksByTarget(object, deletedTargets) : [];
      await ledger.transaction(async (store) => {
        await store.deleteLinks(object, [...droppedLinks, ...followers.map((link) => link.sourceId)]);
        await store.putLinks(restoredLinks);
        await store.markJournalUndone(settled.map((entry) => entry.id));
      });
    }
    if (!state.dryRun) await forgetLinksOfRun(state, object, runId);
  }
  if (!state.dryRun) {
    // The run's own failures go with it (only its own: the same record's failure of an earlier run stays
    // open, for `retry` of that run), and what it settled (a warning whose reference it attached, a failure
    // of a record it wrote) is open again.
    await ledger.resolveRunFailures(runId, state.run.id);
    await ledger.reopenFailuresResolvedBy(runId);
  }
}

/**
 * A fingerprint no mapped values have: the record's last write is undone, so the next run that reads it
 * compares it field by field again (its `written` values say what the target holds).
 */
export const UNDONE_FINGERPRINT = 'undone';

/**
 * The links the journal does not restore: links the run made without writing a record of its own
 * (matched by its refresh matching, duplicates merged into a group) are removed, as they did not exist
 * before it. A link it changed with no journal entry at all (every write, and every change without one,
 * is journaled with the link's state before; this is the safety net) gets a fingerprint that matches
 * nothing, so the next run compares it field by field again.
 */
async function forgetLinksOfRun(state: RunState, object: string, runId: number): Promise<void> {
  const touched = await state.ledger.linksTouchedByRun(object, runId);
  const made = touched.filter((link) => link.runId === runId && link.origin !== 'created');
  const changed = touched.filter((link) => link.runId !== runId).map((link) => ({ ...link, fingerprint: UNDONE_FINGERPRINT, updatedRunId: null }));
  if (made.length === 0 && changed.length === 0) return;
  await state.ledger.transaction(async (store) => {
    await store.deleteLinks(object, made.map((link) => link.sourceId));
    await store.putLinks(changed);
  });
}
