import type { Connector, CrmRecord, RecordError, UpdateInput } from '../core/connector.js';
import type { FieldValue } from '../core/schema.js';
import type { Conflict, DeferredReference, JournalEntry, Link, LinkTarget } from '../ledger/index.js';
import { fingerprint, mapRecord, valuesEqual } from '../project/transform.js';
import { describeWhere, ledgerKeys, takesRecord } from '../project/routing.js';
import type { ProjectFile } from '../project/types.js';
import { newer } from './match-scratch.js';
import type { ObjectPlan, ReferencePlan } from './plan.js';
import type { RunState } from './run-state.js';
import type { ConflictPolicy } from './types.js';

export interface WriteMode {
  /** Create source records that have no link. */
  create: boolean;
  /** Update linked records whose source values changed. */
  update: boolean;
  onConflict: ConflictPolicy;
  /** Re-evaluate linked records even when their fingerprint did not change (retry). */
  force: boolean;
  /**
   * Write only reference fields (attaching records written earlier without a reference that now exists),
   * leaving every other field and the record's fingerprint as they are: a create-new delta attaches, it
   * does not bring over other source changes (docs/concepts.md, "References written later").
   */
  referencesOnly?: boolean;
}

/** Field used in deferred_references for a source duplicate waiting for its group's leader. */
export const LEADER_FIELD = '__leader__';

interface Prepared {
  record: CrmRecord;
  /** Mapped values with references as SOURCE ids: what the fingerprint covers. */
  values: Record<string, FieldValue>;
  fingerprint: string;
  /** Values as written to the target: references translated, unresolved ones left out. */
  translated: Record<string, FieldValue>;
  deferred: { field: string; value: FieldValue }[];
  warnings: RecordError[];
  /** Reference fields whose record is not in the target (not deferrable): written empty where Ferry wrote them before. */
  unresolved: Set<string>;
  /** Links of a merged group's members, with their fingerprints as read now: committed with the group's write. */
  members?: Link[];
  /** The same members' links as they were before (their journal entries keep them, for undo). */
  membersBefore?: Link[];
}

const isEmpty = (value: FieldValue | undefined): boolean =>
  value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}

/**
 * Turns source records into target writes: the one place that creates, updates, detects conflicts,
 * journals and records failures. Full, demo, delta and retry runs all go through it.
 */
export class RecordWriter {
  private readonly externalIdFields = new Map<string, string | undefined>();
  /**
   * Referenced records already linked, as read from the ledger. While a writer runs (after matching and
   * any --rerun deletes), a linked record keeps its target, so a hit is exact; records not yet linked
   * are read again each time, since they may be created later in the run.
   */
  private readonly referenceTargets = new RecentTargets(REFERENCE_CACHE_SIZE);
  /** Objects with open failures of earlier runs when this run started (only those can be settled by a write). */
  private readonly openFailureObjects = new Set<string>();
  /** The project's ledger keys, in project order (for naming the mappings a routed record moved to). */
  private keys?: string[];
  /** Per object, the records this run has warned about leaving a mapping (ROUTE_CHANGED). */
  private readonly routeWarned = new Map<string, Set<string>>();
  /** Per object, records with an open ROUTE_CHANGED warning of an earlier run (read once per run). */
  private readonly routeOpen = new Map<string, Set<string>>();

  constructor(
    private readonly state: RunState,
    private readonly project: ProjectFile,
    private readonly source: Connector,
    private readonly target: Connector,
  ) {}

  /** Before an object's records are written: the external-id field, and creates a crash left open. */
  async prepareObject(plan: ObjectPlan): Promise<void> {
    if (this.externalIdFields.has(plan.object)) return;
    let field: string | undefined;
    // Ferry never writes a matchOnly object (owners), so its target gets no external-id column.
    const stamps = !plan.mapping.matchOnly && this.target.capabilities().externalId && this.target.ensureExternalId !== undefined;
    // A connector that creates the field only when allowed tells what it would do: a dry run says it, a run
    // says what it made (the target's schema changes, which people should see).
    const planned = stamps && this.target.planExternalId ? await this.target.planExternalId(plan.targetObject) : undefined;
    if (planned?.automatic && (planned.action === 'create' || planned.action === 'conflict') && this.state.dryRun) this.state.messages.push(`${plan.object}: ${planned.detail} (dry run: not done).`);
    if (!this.state.dryRun && stamps) {
      field = await this.target.ensureExternalId!(plan.targetObject);
      if (planned?.action === 'create' && field) this.state.messages.push(`${plan.object}: ${planned.detail.replace(/^would create/, 'created').replace(', then grant', ', granted')}.`);
    }
    this.externalIdFields.set(plan.object, field);
    if (!this.state.dryRun && (await this.state.ledger.hasOpenFailures(plan.object, this.state.run.id))) this.openFailureObjects.add(plan.object);
    if (!this.state.dryRun) await this.resolvePendingCreates(plan, field);
    if (!this.state.dryRun && this.state.resumed) await this.recoverLostUpdates(plan);
  }

  /**
   * Updates of this run's earlier attempt whose outcome was never recorded (journaled, sent, then the
   * process died): the fields the target holds as they were sent did arrive, so they are recorded as
   * written. Otherwise a matched record's field filled by that lost write would look like one a person
   * typed (fill-empty never writes it again), and a created record's like one never written.
   */
  private async recoverLostUpdates(plan: ObjectPlan): Promise<void> {
    const state = this.state;
    const lost: JournalEntry[] = [];
    for await (const page of state.ledger.iterateJournal(state.run.id, plan.object)) {
      const updates = page.filter((entry) => entry.action === 'update' && !entry.undone);
      if (updates.length === 0) continue;
      const links = await state.getLinks(plan.object, updates.map((entry) => entry.sourceId));
      lost.push(...updates.filter((entry) => links.get(entry.sourceId)?.targetId === entry.targetId && links.get(entry.sourceId)?.updatedRunId !== state.run.id));
    }
    for (const part of chunk(lost, this.target.capabilities().batchSize.read)) {
      const current = new Map((await this.target.readByIds(plan.targetObject, part.map((entry) => entry.targetId), plan.targetFields)).map((record) => [record.id, record]));
      const links = await state.getLinks(plan.object, part.map((entry) => entry.sourceId));
      const recovered: Link[] = [];
      for (const entry of part) {
        const link = links.get(entry.sourceId);
        const now = current.get(entry.targetId);
        if (!link || !now) continue;
        const arrived = Object.entries(entry.after ?? {}).filter(([field, value]) =>
          valuesEqual(now.fields[field] ?? null, (value ?? null) as FieldValue, plan.targetFieldSchemas.get(field)?.type),
        );
        if (arrived.length > 0) recovered.push({ ...link, written: { ...(link.written ?? {}), ...Object.fromEntries(arrived) } });
      }
      if (recovered.length > 0) await state.commit({ object: plan.object, links: recovered });
    }
  }

  /**
   * A create whose outcome was never recorded (the process died between the target's answer and the
   * ledger write) is looked up by its external id: found means it exists and is linked now; not found
   * means it never happened, and the record is created again when its page is read.
   */
  private async resolvePendingCreates(plan: ObjectPlan, externalIdField: string | undefined): Promise<void> {
    const ledger = this.state.ledger;
    // Pending links are what a ledger of an earlier release holds for a create in flight; this release
    // writes one intent row per batch instead. Both are resolved the same way.
    const pending = await ledger.pendingLinks(plan.object);
    const intents = await ledger.createIntents(plan.object);
    if (intents.length > 0) {
      const seen = new Set(pending.map((link) => link.sourceId));
      const ids = [...new Set(intents.flatMap((intent) => intent.sourceIds))].filter((id) => !seen.has(id));
      // A record of an intent that is linked now was recorded by a later commit (its create failed and a
      // later attempt made it, or matching linked it): not in flight.
      const linked = await ledger.getLinks(plan.object, ids);
      const runOf = new Map<string, number>();
      for (const intent of intents) for (const id of intent.sourceIds) if (!runOf.has(id)) runOf.set(id, intent.runId);
      for (const id of ids) {
        const link = linked.get(id);
        if (link && (link.state !== 'pending' || link.targetId !== null)) continue;
        pending.push({ object: plan.object, sourceId: id, targetId: null, state: 'pending', origin: 'created', fingerprint: null, written: null, runId: runOf.get(id)!, updatedRunId: null, leaderSourceId: null });
      }
    }
    if (pending.length === 0) {
      if (intents.length > 0) await this.state.commit({ object: plan.object, intentsDone: intents.map((intent) => intent.id) });
      return;
    }
    let found = new Map<string, string>();
    if (externalIdField && this.target.findByExternalIds) {
      for (const part of chunk(pending, 200)) {
        const result = await this.target.findByExternalIds(plan.targetObject, part.map((link) => link.sourceId));
        for (const [externalId, targetId] of result) found.set(externalId, targetId);
      }
    } else {
      found = new Map();
      this.state.messages.push(
        `${pending.length} ${plan.object} create(s) were interrupted and the target cannot be searched by source id: they are created again, check the target for duplicates.`,
      );
    }
    const links: Link[] = [];
    const journal: Omit<JournalEntry, 'id' | 'undone'>[] = [];
    const dropped: string[] = [];
    for (const link of pending) {
      const targetId = found.get(link.sourceId);
      if (!targetId) {
        dropped.push(link.sourceId);
        continue;
      }
      links.push({ ...link, targetId, state: 'linked', fingerprint: null, written: null });
      journal.push({
        runId: link.runId,
        object: plan.object,
        sourceId: link.sourceId,
        targetObject: plan.targetObject,
        targetId,
        action: 'create',
        before: null,
        after: null,
        linkBefore: null,
      });
    }
    await this.state.commit({ object: plan.object, links, journal, deleteLinks: dropped, intentsDone: intents.map((intent) => intent.id) });
  }

  /**
   * Whether a write may settle failures of earlier runs. Only this run adds failures while it holds the
   * ledger, and its own are never settled by itself, so an object without any at the start has none to settle.
   */
  private mayHaveOpenFailures(object: string): boolean {
    return this.openFailureObjects.has(object);
  }

  async processPage(plan: ObjectPlan, page: CrmRecord[], mode: WriteMode): Promise<void> {
    const { object } = plan;
    const state = this.state;
    state.add(object, { read: page.length });
    const records = plan.mapping.where ? await this.leaveOut(plan, page) : page;
    if (records.length === 0) return;

    const ids = records.map((record) => record.id);
    const merge = plan.mapping.duplicates === 'merge';
    // The page's links and match issues, and the links of its duplicates' leaders (one ledger statement on PostgreSQL).
    const { links, issues } = await state.getPageLinks(object, ids, merge);

    const prepared: Prepared[] = [];
    for (const record of records) {
      const mapped = mapRecord(plan.mapping, record, {
        sourceSchema: plan.sourceSchema,
        targetSchema: plan.targetSchema,
        sourceTimeZone: this.project.sourceTimeZone,
        sourceLocale: this.project.sourceLocale,
      });
      if (mapped.errors.length > 0) {
        const [first, ...rest] = mapped.errors;
        state.failLater(object, record.id, {
          ...first!,
          message: rest.length > 0 ? `${first!.message} (and ${rest.length} more: ${rest.map((error) => error.field).join(', ')})` : first!.message,
        });
        for (const error of rest) state.warnLater(object, record.id, error);
        continue;
      }
      const item = prepare(record, mapped.values);
      // onInvalid: empty | keep: the record is written; the value that did not convert is a warning on it.
      item.warnings.push(...mapped.warnings);
      prepared.push(item);
    }

    const referenceLinks = await this.loadReferenceLinks(plan, prepared);
    const earlier = await this.earlierAttempt(object, links);
    const creates: Prepared[] = [];
    const updates: { item: Prepared; link: Link }[] = [];
    const followerLinks: Link[] = [];
    /** Target ids of merged groups to write again (a member joined or changed), with the member that asked first. */
    const groups = new Map<string, string>();

    for (const item of prepared) {
      const missingRequired = this.translate(plan, item, referenceLinks);
      const link = links.get(item.record.id);
      if (!link || link.state === 'pending' || link.targetId === null) {
        const issue = issues.get(item.record.id);
        if (issue?.kind === 'ambiguous' && plan.mapping.ambiguous === 'hold') {
          state.failLater(object, item.record.id, {
            code: 'AMBIGUOUS_MATCH',
            message: `${object} ${item.record.id}: ${issue.candidates.length} target records match ${issue.key} (${issue.candidates.join(', ')}); link one by hand or set \`ambiguous: create\``,
            value: issue.key,
          });
          continue;
        }
        if (issue?.kind === 'duplicate' && merge) {
          const leaderId = issue.candidates[0]!;
          // Read with the page: nothing before the loop's end writes a link.
          const leader = links.get(leaderId);
          if (leader?.state === 'linked' && leader.targetId) {
            // Linked in any mode (matching links); its values join the group's record only in a run that
            // brings new records over (fingerprint null until then).
            followerLinks.push(this.followerLink(plan, item.record.id, leader, null));
            state.add(object, { matched: 1 });
            if (mode.create && !mode.referencesOnly) groups.set(leader.targetId, item.record.id);
          } else if (mode.create) {
            // Linked to its leader once the leader is (linkFollowers); recorded with the page's next commit.
            state.deferLater([{ runId: state.run.id, object, sourceId: item.record.id, field: LEADER_FIELD, value: leaderId }]);
          } else {
            state.add(object, { skipped: 1 });
          }
          continue;
        }
        if (plan.mapping.matchOnly || !mode.create || mode.referencesOnly) {
          state.add(object, { skipped: 1 });
          continue;
        }
        if (missingRequired) {
          state.failLater(object, item.record.id, missingRequired);
          continue;
        }
        creates.push(item);
        continue;
      }
      // A link Ferry has never written through (matched by this or an earlier run, a merged duplicate not
      // yet merged in, a link reset by --rerun) is a new record to the modes: its first write belongs to a
      // run that creates, and update-changed leaves it alone (docs/concepts.md, "Modes").
      const neverWritten = link.fingerprint === null || link.fingerprint === '';
      if (!mode.referencesOnly && (neverWritten ? !mode.create : !mode.update)) {
        state.add(object, { skipped: 1 });
        continue;
      }
      if (!mode.force && !neverWritten && link.fingerprint === item.fingerprint) {
        // Written as it is now by the attempt of this run that stopped in this page: counted as that write.
        const done = earlier.get(item.record.id);
        state.add(object, done?.has('create') ? { created: 1 } : done?.has('update') ? { updated: 1 } : { unchanged: 1 });
        continue;
      }
      if (missingRequired && !mode.referencesOnly) {
        state.failLater(object, item.record.id, missingRequired);
        continue;
      }
      updates.push({ item, link });
    }

    // Members of merged groups are written as their group, with the group's values (see writeGroups).
    const plain = merge ? await this.withoutGroupMembers(plan, updates, groups) : updates;
    if (followerLinks.length > 0) await state.commit({ object, links: followerLinks });
    const batchSize = this.target.capabilities().batchSize;
    for (const part of chunk(creates, batchSize.create)) await this.createBatch(plan, part);
    for (const part of chunk(plain, Math.min(batchSize.update, batchSize.read))) await this.updateBatch(plan, part, mode, earlier);
    if (groups.size > 0) await this.writeGroups(plan, [...groups.keys()], mode);
    // Before the engine marks the page done: a failure is never lost unless its page is read again.
    await state.flushFailures();
  }

  /**
   * In the first unit of work after a resume (the one the earlier attempt stopped in): what that attempt
   * journaled for the linked records of this page. Those it wrote are read again now with the values
   * written (or found so in the target, when the answer was lost) and are counted as what was done to them
   * then, so the resumed run's counts are those of a run that never stopped. Empty everywhere else.
   */
  private async earlierAttempt(object: string, links: Map<string, Link>): Promise<Map<string, Set<JournalEntry['action']>>> {
    const state = this.state;
    if (state.redoObject !== object || state.dryRun) return new Map();
    const runId = state.run.id;
    // Every linked record of the page: an update whose answer was lost left its link as it was before.
    const linked = [...links.values()].filter((link) => link.targetId !== null).map((link) => link.sourceId);
    return linked.length === 0 ? new Map() : state.ledger.journalActions(runId, object, linked);
  }

  /**
   * The row filter: returns the records the mapping takes; the rest are counted `filtered`. One that this
   * mapping wrote before (its field changed, so another mapping or none takes it now) keeps its target
   * record as it is, since Ferry never deletes: a warning names both mappings (docs/concepts.md, "Routing
   * records"). The record's earlier warning of that kind is settled with it, so one stays open per record.
   */
  private async leaveOut(plan: ObjectPlan, records: CrmRecord[]): Promise<CrmRecord[]> {
    const state = this.state;
    const taken = records.filter((record) => takesRecord(plan.mapping, record.fields));
    const left = records.filter((record) => !takesRecord(plan.mapping, record.fields));
    await this.settleReturned(plan, taken);
    if (left.length === 0) return taken;
    state.add(plan.object, { filtered: left.length });
    const links = await state.getLinks(plan.object, left.map((record) => record.id));
    const moved = left.filter((record) => links.get(record.id)?.state === 'linked' && links.get(record.id)?.targetId);
    if (moved.length === 0) return taken;
    // A resumed run reads again the page it was killed in: a warning it recorded then is not recorded twice.
    let warned = this.routeWarned.get(plan.object);
    if (!warned) {
      const own = state.resumed && !state.dryRun ? await state.ledger.listFailures({ runId: state.run.id, object: plan.object, code: 'ROUTE_CHANGED' }) : [];
      this.routeWarned.set(plan.object, (warned = new Set(own.map((failure) => failure.sourceId))));
    }
    this.keys ??= ledgerKeys(this.project.objects);
    const others = this.project.objects.map((mapping, index) => ({ mapping, key: this.keys![index]! })).filter((entry) => entry.mapping.source === plan.sourceObject && entry.key !== plan.object);
    for (const record of moved) {
      if (warned.has(record.id)) continue;
      warned.add(record.id);
      const now = others.filter((entry) => takesRecord(entry.mapping, record.fields)).map((entry) => `${entry.key} (${entry.mapping.target})`);
      // The first filter field whose value the mapping does not take, with that value.
      const field = Object.keys(plan.mapping.where ?? {}).find((name) => !takesRecord({ where: { [name]: plan.mapping.where![name]! } }, record.fields))!;
      state.warnLater(plan.object, record.id, {
        code: 'ROUTE_CHANGED',
        field,
        value: record.fields[field] ?? null,
        message:
          `${plan.sourceObject} ${record.id} no longer passes the filter of ${plan.object} (${describeWhere(plan.mapping)}): the ${plan.targetObject} record ${links.get(record.id)!.targetId} written from it is left as it is (Ferry never deletes)` +
          (now.length > 0 ? `; it is now taken by ${now.join(', ')}, which writes it as a record of its own` : '; no mapping takes it now'),
      });
    }
    if (!state.dryRun) await state.commit({ object: plan.object, resolved: moved.map((record) => record.id), resolvedCodes: ['ROUTE_CHANGED'] });
    return taken;
  }

  /**
   * Records back in the mapping's filter settle their ROUTE_CHANGED warning even when nothing is written
   * (the fields that moved them, e.g. a type, are often not mapped, so the record is unchanged here).
   */
  private async settleReturned(plan: ObjectPlan, taken: CrmRecord[]): Promise<void> {
    if (this.state.dryRun || taken.length === 0 || !this.mayHaveOpenFailures(plan.object)) return;
    let open = this.routeOpen.get(plan.object);
    if (!open) {
      const failures = await this.state.ledger.listFailures({ unresolved: true, object: plan.object, code: 'ROUTE_CHANGED', exceptRunId: this.state.run.id });
      this.routeOpen.set(plan.object, (open = new Set(failures.map((failure) => failure.sourceId))));
    }
    const back = taken.filter((record) => open.has(record.id)).map((record) => record.id);
    if (back.length === 0) return;
    await this.state.commit({ object: plan.object, resolved: back, resolvedCodes: ['ROUTE_CHANGED'] });
    for (const id of back) open.delete(id);
  }

  /**
   * The updates whose target record is shared with other source records (merged duplicates), moved to
   * `groups` (one entry per target record, each write counted once); the rest are returned.
   */
  private async withoutGroupMembers(plan: ObjectPlan, updates: { item: Prepared; link: Link }[], groups: Map<string, string>): Promise<{ item: Prepared; link: Link }[]> {
    if (updates.length === 0) return updates;
    const unknown = updates.filter(({ link }) => link.origin !== 'merged').map(({ link }) => link.targetId!);
    const sharing = new Map<string, number>();
    for (const link of unknown.length > 0 ? await this.state.linksByTarget(plan.object, unknown) : []) {
      if (link.state === 'linked') sharing.set(link.targetId!, (sharing.get(link.targetId!) ?? 0) + 1);
    }
    const plain: { item: Prepared; link: Link }[] = [];
    for (const update of updates) {
      const targetId = update.link.targetId!;
      if (update.link.origin !== 'merged' && (sharing.get(targetId) ?? 0) < 2) {
        plain.push(update);
        continue;
      }
      if (groups.has(targetId)) this.state.add(plan.object, { unchanged: 1 });
      else groups.set(targetId, update.item.record.id);
    }
    return plain;
  }

  /**
   * Writes merged groups (source duplicates sharing one target record) with the group's values, field by
   * field: the value of the most recently updated member that has one (ties: the higher id), so a member
   * never clears what another holds (docs/concepts.md, "Source duplicates"). Every member is read again;
   * the write goes through the leader's link (its conflict detection and matched-record option), and
   * every member's fingerprint is stored with it, so a member's later change is seen as one.
   */
  async writeGroups(plan: ObjectPlan, targetIds: string[], mode: WriteMode): Promise<void> {
    const state = this.state;
    const { object } = plan;
    const members = (await state.linksByTarget(object, targetIds)).filter((link) => link.state === 'linked');
    const byTarget = new Map<string, Link[]>();
    for (const link of members) {
      const list = byTarget.get(link.targetId!) ?? [];
      list.push(link);
      byTarget.set(link.targetId!, list);
    }
    const admitted = (link: Link) => mode.create || (link.fingerprint !== null && link.fingerprint !== '') || link.origin !== 'merged';
    const wanted = members.filter(admitted).map((link) => link.sourceId);
    const records = new Map<string, CrmRecord>();
    for (const part of chunk(wanted, Math.min(this.source.capabilities().batchSize.read, 200))) {
      for (const record of await this.source.readByIds(plan.sourceObject, part)) records.set(record.id, record);
      state.readCalls += 1;
    }
    const items: { item: Prepared; link: Link }[] = [];
    for (const [targetId, group] of byTarget) {
      const leader = group.find((link) => link.origin !== 'merged') ?? group[0]!;
      const read: { link: Link; record: CrmRecord; values: Record<string, FieldValue>; warnings: RecordError[] }[] = [];
      for (const link of group) {
        if (!admitted(link)) continue;
        const record = records.get(link.sourceId);
        if (!record) continue; // gone from the source: the others decide
        if (!takesRecord(plan.mapping, record.fields)) continue; // routed elsewhere now: likewise
        const mapped = mapRecord(plan.mapping, record, {
          sourceSchema: plan.sourceSchema,
          targetSchema: plan.targetSchema,
          sourceTimeZone: this.project.sourceTimeZone,
          sourceLocale: this.project.sourceLocale,
        });
        if (mapped.errors.length > 0) {
          state.failLater(object, record.id, mapped.errors[0]!);
          continue;
        }
        read.push({ link, record, values: mapped.values, warnings: mapped.warnings });
      }
      if (read.length === 0) continue;
      const values = mergeGroupValues(read.map(({ link, record, values }) => ({ id: record.id, at: record.updatedAt ?? '', values, changed: changedSinceWritten(link, values) })));
      const own = read.find((entry) => entry.link.sourceId === leader.sourceId);
      const item = prepare(own?.record ?? { id: leader.sourceId, updatedAt: null, fields: {} }, values);
      item.fingerprint = own ? fingerprint(own.values) : (leader.fingerprint ?? '');
      // Values written empty or as they are (onInvalid): warnings on the record they came from.
      if (own) item.warnings.push(...own.warnings);
      for (const entry of read) if (entry !== own) for (const warning of entry.warnings) state.warnLater(object, entry.record.id, warning);
      item.membersBefore = read.filter((entry) => entry.link.sourceId !== leader.sourceId).map((entry) => entry.link);
      item.members = read
        .filter((entry) => entry.link.sourceId !== leader.sourceId)
        .map(({ link, values: memberValues }) => ({ ...link, fingerprint: mode.referencesOnly ? link.fingerprint : fingerprint(memberValues), updatedRunId: state.run.id }));
      items.push({ item, link: { ...leader, targetId } });
    }
    if (items.length === 0) return;
    const referenceLinks = await this.loadReferenceLinks(plan, items.map(({ item }) => item));
    const ready: { item: Prepared; link: Link }[] = [];
    for (const entry of items) {
      const missingRequired = this.translate(plan, entry.item, referenceLinks);
      if (missingRequired) state.failLater(object, entry.item.record.id, missingRequired);
      else ready.push(entry);
    }
    const batchSize = this.target.capabilities().batchSize;
    for (const part of chunk(ready, Math.min(batchSize.update, batchSize.read))) await this.updateBatch(plan, part, { ...mode, force: true });
  }

  private followerLink(plan: ObjectPlan, sourceId: string, leader: Link, fingerprintValue: string | null): Link {
    return {
      object: plan.object,
      sourceId,
      targetId: leader.targetId,
      state: 'linked',
      origin: 'merged',
      fingerprint: fingerprintValue,
      written: null,
      runId: this.state.run.id,
      updatedRunId: null,
      leaderSourceId: leader.sourceId,
    };
  }

  private async loadReferenceLinks(plan: ObjectPlan, prepared: Prepared[]): Promise<Map<string, Map<string, LinkTarget>>> {
    const wanted = new Map<string, Set<string>>();
    for (const reference of plan.references) {
      let ids = wanted.get(referenceKey(reference));
      if (!ids) wanted.set(referenceKey(reference), (ids = new Set()));
      for (const item of prepared) {
        const value = item.values[reference.targetField];
        if (Array.isArray(value)) for (const id of value) ids.add(String(id));
        else if (value !== null && value !== undefined && value !== '') ids.add(String(value));
      }
    }
    const out = new Map<string, Map<string, LinkTarget>>();
    const unknown = new Map<string, string[]>();
    for (const [object, ids] of wanted) {
      const links = new Map<string, LinkTarget>();
      const missing: string[] = [];
      for (const id of ids) {
        const known = this.referenceTargets.get(object, id);
        if (known) links.set(id, known);
        else missing.push(id);
      }
      out.set(object, links);
      if (missing.length > 0) unknown.set(object, missing);
    }
    // References through one ledger key each (every source object that is not routed): one read for all of them.
    const single = [...unknown].filter(([key]) => !key.includes('\u0000'));
    const read = single.length > 0 ? await this.state.getLinkTargetsOf(single) : new Map<string, Map<string, LinkTarget>>();
    for (const [object, missing] of unknown) {
      const links = out.get(object)!;
      const found = read.get(object) ?? (await referencedLinks((key, ids) => this.state.getLinkTargets(key, ids), object, missing));
      for (const [id, link] of found) {
        links.set(id, link);
        if (link.state === 'linked' && link.targetId) this.referenceTargets.set(object, id, link);
      }
    }
    return out;
  }

  /** Fills item.translated; returns the error when a required reference cannot be resolved. */
  private translate(plan: ObjectPlan, item: Prepared, referenceLinks: Map<string, Map<string, LinkTarget>>): RecordError | undefined {
    item.translated = { ...item.values };
    let requiredMissing: RecordError | undefined;
    for (const reference of plan.references) {
      const value = item.values[reference.targetField];
      if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
      const links = referenceLinks.get(referenceKey(reference)) ?? NO_LINKS;
      if (reference.list) {
        const list = (value as unknown[]).map(String);
        const resolved = list.map((id) => resolveTarget(links, id));
        item.translated[reference.targetField] = resolved.filter((id): id is string => id !== undefined).sort();
        const missing = list.filter((_, index) => resolved[index] === undefined);
        if (missing.length > 0) this.unresolved(plan, item, reference, value, missing);
        continue;
      }
      const targetId = resolveTarget(links, String(value));
      if (targetId !== undefined) {
        item.translated[reference.targetField] = targetId;
        continue;
      }
      delete item.translated[reference.targetField];
      if (!reference.deferrable) item.unresolved.add(reference.targetField);
      const error = this.unresolved(plan, item, reference, value, [String(value)]);
      if (error && reference.required && !reference.deferrable) requiredMissing = error;
    }
    return requiredMissing;
  }

  /** `missing`: the referenced source ids without a target record (the warning's value, so a later run can tell when they exist). */
  private unresolved(plan: ObjectPlan, item: Prepared, reference: ReferencePlan, value: FieldValue, missing: string[]): RecordError | undefined {
    if (reference.deferrable) {
      item.deferred.push({ field: reference.targetField, value });
      return undefined;
    }
    const error: RecordError = {
      code: 'REFERENCE_MISSING',
      field: reference.targetField,
      value: reference.list ? missing : missing[0]!,
      message: `${plan.object} ${item.record.id}: ${reference.targetField} refers to ${reference.sourceObject} ${missing.join(', ')}, which is not in the target (it failed or was not migrated)`,
    };
    item.warnings.push(error);
    return error;
  }

  private async createBatch(plan: ObjectPlan, items: Prepared[]): Promise<void> {
    const state = this.state;
    const { object } = plan;
    const externalIdField = this.externalIdFields.get(object);
    const base = { object, origin: 'created' as const, runId: state.run.id, updatedRunId: null, leaderSourceId: null };

    if (state.dryRun) {
      await state.putLinks(
        items.map((item) => ({ ...base, sourceId: item.record.id, targetId: `dry-run:${item.record.id}`, state: 'linked', fingerprint: item.fingerprint, written: item.translated })),
      );
      state.add(object, { created: items.length });
      state.apiCalls += 1;
      return;
    }

    // Intent first: if the process dies after the target answered, the batch's intent row says these
    // creates may exist, and the external id finds them again (see resolvePendingCreates). One row for the
    // batch, committed before the create is sent, settled in the transaction that writes the links.
    const intent = await state.intend(
      object,
      items.map((item) => item.record.id),
    );
    const results = await this.target.create(
      plan.targetObject,
      items.map((item) => ({ ref: item.record.id, fields: item.translated, ...(externalIdField ? { externalId: item.record.id } : {}) })),
    );
    state.apiCalls += 1;

    const links: Link[] = [];
    const journal: Omit<JournalEntry, 'id' | 'undone'>[] = [];
    const failed: { item: Prepared; error: RecordError }[] = [];
    const deferred: Prepared[] = [];
    items.forEach((item, index) => {
      const result = results[index];
      if (!result || !result.ok) {
        failed.push({ item, error: result && !result.ok ? result.error : { code: 'WRITE_FAILED', message: 'the target returned no result for this record' } });
        return;
      }
      links.push({ ...base, sourceId: item.record.id, targetId: result.id, state: 'linked', fingerprint: item.fingerprint, written: item.translated });
      journal.push({
        runId: state.run.id,
        object,
        sourceId: item.record.id,
        targetObject: plan.targetObject,
        targetId: result.id,
        action: 'create',
        before: null,
        after: item.translated,
        linkBefore: null,
      });
      if (item.deferred.length > 0) deferred.push(item);
    });
    // The failures and warnings go into the same transaction as the links.
    const failedItems = new Set<Prepared>();
    for (const { item, error } of failed) {
      failedItems.add(item);
      state.failLater(object, item.record.id, withRecord(plan, item.record.id, error));
    }
    for (const item of items) {
      if (failedItems.has(item)) continue;
      for (const warning of item.warnings) state.warnLater(object, item.record.id, warning);
    }
    await state.commit({
      object,
      links,
      journal,
      resolved: this.mayHaveOpenFailures(object) ? links.map((link) => link.sourceId) : undefined,
      // A record created without a link before (a pending link of an earlier release, a link without a
      // target): a failed create leaves none.
      deleteLinks: failed.map(({ item }) => item.record.id),
      intentsDone: intent === undefined ? undefined : [intent],
      deferred: this.deferredRows(object, deferred),
    });
    state.add(object, { created: links.length });
  }

  /** The link pass's rows of written records: committed with their links, so a record is never linked without them. */
  private deferredRows(object: string, items: Prepared[]): DeferredReference[] {
    return items.flatMap((item) =>
      item.deferred.map((entry) => ({ runId: this.state.run.id, object, sourceId: item.record.id, field: entry.field, value: entry.value })),
    );
  }

  private async updateBatch(
    plan: ObjectPlan,
    items: { item: Prepared; link: Link }[],
    mode: WriteMode,
    earlier: Map<string, Set<JournalEntry['action']>> = new Map(),
  ): Promise<void> {
    const state = this.state;
    const { object } = plan;
    const current = await this.target.readByIds(
      plan.targetObject,
      items.map(({ link }) => link.targetId!),
      plan.targetFields,
    );
    state.apiCalls += 1;
    const byId = new Map(current.map((record) => [record.id, record]));

    const writes: {
      item: Prepared;
      link: Link;
      fields: Record<string, FieldValue>;
      synced: Record<string, FieldValue>;
      before: Record<string, FieldValue>;
      conflicts: Omit<Conflict, 'id'>[];
    }[] = [];
    const unchangedLinks: Link[] = [];
    const keptConflicts: Omit<Conflict, 'id'>[] = [];

    for (const { item, link } of items) {
      const targetRecord = byId.get(link.targetId!);
      if (!targetRecord) {
        state.failLater(object, item.record.id, {
          code: 'NOT_FOUND',
          message: `${object} ${item.record.id}: its target record ${plan.targetObject} ${link.targetId} no longer exists (deleted in the target?); Ferry never re-creates or deletes on its own`,
        });
        continue;
      }
      const decision = this.decideFields(plan, item, link, targetRecord, mode);
      if (decision.skipRecord) {
        await state.conflicts(decision.conflicts);
        state.add(object, { conflicts: 1, skipped: 1 });
        continue;
      }
      if (Object.keys(decision.fields).length === 0) {
        unchangedLinks.push(this.afterWrite(link, item, mode, decision.synced), ...(item.members ?? []));
        keptConflicts.push(...decision.conflicts);
        // A reference that is still missing stays reported, so a later run attaches it (nothing written now).
        for (const warning of item.warnings) state.warnLater(object, item.record.id, warning);
        // Nothing to write because a write of this run got there before it stopped (its answer lost): that
        // write. A create is journaled when the resume finds it by its external id (resolvePendingCreates).
        const done = earlier.get(item.record.id);
        const outcome = done?.has('create') ? 'created' : done?.has('update') ? 'updated' : 'unchanged';
        state.add(object, { [outcome]: 1, conflicts: decision.conflicts.length > 0 ? 1 : 0 });
        continue;
      }
      const before: Record<string, FieldValue> = {};
      for (const field of Object.keys(decision.fields)) before[field] = targetRecord.fields[field] ?? null;
      writes.push({ item, link, fields: decision.fields, synced: decision.synced, before, conflicts: decision.conflicts });
    }

    if (unchangedLinks.length > 0) {
      // Nothing written, but the links change (fingerprints, values found equal): journaled with their
      // state before, so an undo puts the ledger back as it was (docs/concepts.md, Undo).
      await state.commit({ object, links: unchangedLinks, journal: this.linkJournal(plan, unchangedLinks, items), ...this.settles(object, unchangedLinks, mode) });
    }
    if (keptConflicts.length > 0) await state.conflicts(keptConflicts);
    if (writes.length === 0) return;

    if (state.dryRun) {
      state.apiCalls += 1;
      for (const write of writes) {
        await state.conflicts(write.conflicts);
        state.add(object, { updated: 1, conflicts: write.conflicts.length > 0 ? 1 : 0 });
      }
      return;
    }

    // Journal before the write: an update that reached the target is always undoable, even if the
    // process dies before its outcome is recorded. Entries of writes that failed are removed again.
    // A merged group's other members get an entry without fields: their link state before, for undo.
    await state.journal([
      ...writes.map(({ item, link, fields, before }) => ({
        runId: state.run.id,
        object,
        sourceId: item.record.id,
        targetObject: plan.targetObject,
        targetId: link.targetId!,
        action: 'update' as const,
        before,
        after: fields,
        linkBefore: link,
      })),
      ...writes.flatMap(({ item }) => this.linkJournal(plan, item.members ?? [], items)),
    ]);
    const inputs: UpdateInput[] = writes.map(({ link, fields }) => ({ id: link.targetId!, fields }));
    const results = await this.target.update(plan.targetObject, inputs);
    state.apiCalls += 1;

    const links: Link[] = [];
    const failedIds: string[] = [];
    const deferred: Prepared[] = [];
    for (const [index, write] of writes.entries()) {
      const result = results[index];
      if (!result || !result.ok) {
        failedIds.push(write.item.record.id);
        state.failLater(
          object,
          write.item.record.id,
          withRecord(plan, write.item.record.id, result && !result.ok ? result.error : { code: 'WRITE_FAILED', message: 'the target returned no result for this record' }),
        );
        continue;
      }
      links.push(this.afterWrite(write.link, write.item, mode, { ...write.synced, ...write.fields }), ...(write.item.members ?? []));
      await state.conflicts(write.conflicts);
      state.add(object, { [earlier.get(write.item.record.id)?.has('create') ? 'created' : 'updated']: 1, conflicts: write.conflicts.length > 0 ? 1 : 0 });
      if (write.item.deferred.length > 0) deferred.push(write.item);
      for (const warning of write.item.warnings) state.warnLater(object, write.item.record.id, warning);
    }
    if (failedIds.length > 0) await state.ledger.deleteJournalEntries(state.run.id, object, failedIds, 'update');
    await state.commit({ object, links, ...this.settles(object, links, mode), deferred: this.deferredRows(object, deferred) });
  }

  /**
   * Journal entries without fields for links a write changes without writing them (a record found
   * unchanged, a merged group's members): each with the link as it was before, taken from `items` (the
   * batch's links as read, and each group's member links as read before its write).
   */
  private linkJournal(plan: ObjectPlan, links: Link[], items: { item: Prepared; link: Link }[]): Omit<JournalEntry, 'id' | 'undone'>[] {
    const before = new Map<string, Link>();
    for (const { item, link } of items) {
      before.set(link.sourceId, link);
      for (const member of item.membersBefore ?? []) before.set(member.sourceId, member);
    }
    return links.map((link) => ({
      runId: this.state.run.id,
      object: plan.object,
      sourceId: link.sourceId,
      targetObject: plan.targetObject,
      targetId: link.targetId!,
      action: 'update' as const,
      before: {},
      after: {},
      linkBefore: before.get(link.sourceId) ?? link,
    }));
  }

  /**
   * The link after a write of `fields` (none: nothing needed writing). The fingerprint says which source
   * values the target now reflects: a references-only write keeps the old one, since the record's other
   * changes were not written.
   */
  private afterWrite(link: Link, item: Prepared, mode: WriteMode, fields: Record<string, FieldValue>): Link {
    return {
      ...link,
      fingerprint: mode.referencesOnly ? link.fingerprint : item.fingerprint,
      written: Object.keys(fields).length > 0 ? { ...(link.written ?? {}), ...fields } : link.written,
      updatedRunId: this.state.run.id,
    };
  }

  /** Which open failures of earlier runs a write settles: all of the record's, or only its missing references. */
  private settles(object: string, links: Link[], mode: WriteMode): { resolved?: string[]; resolvedCodes?: string[] } {
    if (!this.mayHaveOpenFailures(object)) return {};
    return { resolved: links.map((link) => link.sourceId), ...(mode.referencesOnly ? { resolvedCodes: ['REFERENCE_MISSING'] } : {}) };
  }

  /**
   * Which fields to write to a linked record (semantics: matched-record option and conflicts).
   * Records Ferry created are fully updated; matched ones follow the object's `matched` option.
   * A field Ferry wrote before is compared three ways: last written, source now, target now.
   */
  private decideFields(
    plan: ObjectPlan,
    item: Prepared,
    link: Link,
    targetRecord: CrmRecord,
    mode: WriteMode,
  ): { fields: Record<string, FieldValue>; synced: Record<string, FieldValue>; conflicts: Omit<Conflict, 'id'>[]; skipRecord: boolean } {
    const policy = mode.onConflict;
    const option = link.origin === 'created' || link.origin === 'merged' ? 'update' : plan.mapping.matched;
    const referenceFields = new Set(plan.references.map((reference) => reference.targetField));
    const fields: Record<string, FieldValue> = {};
    const synced: Record<string, FieldValue> = {};
    const conflicts: Omit<Conflict, 'id'>[] = [];
    let skipRecord = false;
    const written = link.written ?? {};
    // A reference Ferry wrote before whose record is not in the target now is written empty (the record
    // no longer points where it did), and reported; a later run attaches it once the record exists.
    const proposed: [string, FieldValue][] = Object.entries(item.translated);
    for (const field of item.unresolved) if (field in written) proposed.push([field, null]);
    for (const [field, next] of proposed) {
      if (mode.referencesOnly && !referenceFields.has(field)) continue;
      const type = plan.targetFieldSchemas.get(field)?.type;
      const now = targetRecord.fields[field] ?? null;
      const equal = (a: FieldValue | undefined, b: FieldValue | undefined): boolean => valuesEqual(a ?? null, b ?? null, type);
      if (option === 'skip') {
        // Relations are still attached to a matched record whose fields are left alone.
        if (referenceFields.has(field) && isEmpty(now) && !isEmpty(next)) fields[field] = next;
        continue;
      }
      if (!(field in written)) {
        if (option === 'update') {
          // Equal already (a create whose answer was lost, found again by its external id): from now on
          // it is what Ferry wrote, so a later edit in the target is seen as one.
          if (!equal(next, now)) fields[field] = next;
          else synced[field] = next;
        } else if (isEmpty(now) && !isEmpty(next)) fields[field] = next;
        continue;
      }
      const last = written[field] as FieldValue;
      if (equal(next, now)) {
        // The target already holds the source's value (an earlier attempt's write whose outcome was lost,
        // or someone typed it): it is what Ferry last wrote from now on, so a later edit there is an edit.
        if (!equal(last, now)) synced[field] = next;
        continue;
      }
      const sourceChanged = !equal(next, last);
      const targetChanged = !equal(now, last);
      if (!sourceChanged) continue;
      if (!targetChanged) {
        fields[field] = next;
        continue;
      }
      conflicts.push({
        runId: this.state.run.id,
        object: plan.object,
        sourceId: item.record.id,
        targetId: link.targetId!,
        field,
        sourceValue: next,
        targetValue: now,
        writtenValue: last,
        resolution: policy,
      });
      if (policy === 'source-wins') fields[field] = next;
      else if (policy === 'skip-record') skipRecord = true;
    }
    return { fields, synced, conflicts, skipRecord };
  }

  /**
   * Source duplicates whose leader was created after them in the same run: link them to the leader's
   * target record now, or report them when the leader failed.
   */
  async linkFollowers(plan: ObjectPlan, mode: WriteMode): Promise<void> {
    const state = this.state;
    if (state.dryRun) return;
    for await (const page of state.ledger.iterateDeferredReferences(state.run.id, plan.object)) {
      const followers = page.filter((row) => row.field === LEADER_FIELD);
      if (followers.length === 0) continue;
      const leaders = await state.getLinks(plan.object, followers.map((row) => String(row.value)));
      const links: Link[] = [];
      const groups = new Set<string>();
      for (const row of followers) {
        const leader = leaders.get(String(row.value));
        if (leader?.state === 'linked' && leader.targetId) {
          links.push(this.followerLink(plan, row.sourceId, leader, null));
          groups.add(leader.targetId);
          state.add(plan.object, { matched: 1 });
        } else {
          state.failLater(plan.object, row.sourceId, {
            code: 'REFERENCE_MISSING',
            message: `${plan.object} ${row.sourceId}: duplicate of ${plan.object} ${String(row.value)}, which was not migrated; it is merged into that record once it is migrated`,
            value: String(row.value),
          });
        }
      }
      await state.commit({ object: plan.object, links });
      // The leaders were written with their own values: their groups now get the values of all members.
      // The deferred rows go only after that write, so a run killed in between does it when resumed
      // (the engine calls this again for an object whose pages are all done).
      if (groups.size > 0) await this.writeGroups(plan, [...groups], mode);
      await state.flushFailures();
      await state.ledger.deleteDeferredReferences(state.run.id, plan.object, followers.map((row) => row.sourceId));
    }
  }

  /** The link pass: references that pointed forward (cycles, self references) are written now. */
  async linkPass(plan: ObjectPlan): Promise<void> {
    const state = this.state;
    if (state.dryRun) return;
    const byField = new Map(plan.references.map((reference) => [reference.targetField, reference]));
    for await (const page of state.ledger.iterateDeferredReferences(state.run.id, plan.object)) {
      const rows = page.filter((row) => row.field !== LEADER_FIELD);
      const sourceIds = [...new Set(rows.map((row) => row.sourceId))];
      const links = await state.getLinks(plan.object, sourceIds);
      const wanted = new Map<string, Set<string>>();
      for (const row of rows) {
        const reference = byField.get(row.field);
        if (!reference) continue;
        let ids = wanted.get(referenceKey(reference));
        if (!ids) wanted.set(referenceKey(reference), (ids = new Set()));
        for (const id of Array.isArray(row.value) ? row.value : [row.value]) ids.add(String(id));
      }
      const referenced = new Map<string, Map<string, Link>>();
      for (const [object, ids] of wanted) referenced.set(object, await referencedLinks((key, part) => state.getLinks(key, part), object, [...ids]));

      const updates = new Map<string, { link: Link; fields: Record<string, FieldValue> }>();
      // Each record's warnings and deferred rows are settled in the same commit as its own update (or in the
      // page's first commit when it has none), so a link pass killed mid-page resumes after the last batch
      // it committed, writing nothing twice and recording no warning twice.
      const warnings = new Map<string, RecordError[]>();
      for (const row of rows) {
        const link = links.get(row.sourceId);
        const reference = byField.get(row.field);
        if (!link?.targetId || link.state !== 'linked' || !reference) continue;
        const targets = referenced.get(referenceKey(reference))!;
        const ids = (Array.isArray(row.value) ? row.value : [row.value]).map(String);
        const resolved = ids.map((id) => targets.get(id)).map((target) => (target?.state === 'linked' ? (target.targetId ?? undefined) : undefined));
        const missing = ids.filter((_, index) => resolved[index] === undefined);
        if (missing.length > 0) {
          const list = warnings.get(row.sourceId) ?? [];
          warnings.set(row.sourceId, list);
          list.push({
            code: 'REFERENCE_MISSING',
            field: row.field,
            value: reference.list ? missing : missing[0]!,
            message: `${plan.object} ${row.sourceId}: ${row.field} refers to ${reference.sourceObject} ${missing.join(', ')}, which is not in the target (it failed or was not migrated)`,
          });
        }
        const present = resolved.filter((id): id is string => id !== undefined);
        if (present.length === 0) continue;
        const entry = updates.get(row.sourceId) ?? { link, fields: {} };
        entry.fields[row.field] = reference.list ? present.sort() : present[0]!;
        updates.set(row.sourceId, entry);
      }
      const warn = (ids: Iterable<string>) => {
        for (const id of ids) for (const warning of warnings.get(id) ?? []) state.warnLater(plan.object, id, warning);
      };
      const withoutUpdate = sourceIds.filter((id) => !updates.has(id));
      warn(withoutUpdate);
      await state.commit({ object: plan.object, deferredDone: withoutUpdate });
      const entries = [...updates.entries()];
      for (const part of chunk(entries, this.target.capabilities().batchSize.update)) {
        warn(part.map(([sourceId]) => sourceId));
        const current = await this.target.readByIds(plan.targetObject, part.map(([, entry]) => entry.link.targetId!), plan.targetFields);
        const byId = new Map(current.map((record) => [record.id, record]));
        await state.journal(
          part.map(([sourceId, entry]) => ({
            runId: state.run.id,
            object: plan.object,
            sourceId,
            targetObject: plan.targetObject,
            targetId: entry.link.targetId!,
            action: 'link',
            before: Object.fromEntries(Object.keys(entry.fields).map((field) => [field, byId.get(entry.link.targetId!)?.fields[field] ?? null])),
            after: entry.fields,
            linkBefore: entry.link,
          })),
        );
        const results = await this.target.update(
          plan.targetObject,
          part.map(([, entry]) => ({ id: entry.link.targetId!, fields: entry.fields })),
        );
        state.apiCalls += 2;
        const done: Link[] = [];
        for (const [index, [sourceId, entry]] of part.entries()) {
          const result = results[index];
          if (result?.ok) done.push({ ...entry.link, written: { ...(entry.link.written ?? {}), ...entry.fields } });
          else if (result) state.failLater(plan.object, sourceId, withRecord(plan, sourceId, result.error));
        }
        await state.commit({ object: plan.object, links: done, deferredDone: part.map(([sourceId]) => sourceId) });
      }
      // Rows of other fields (a follower's leader row) go with the page.
      await state.flushFailures();
      await state.ledger.deleteDeferredReferences(state.run.id, plan.object, sourceIds);
    }
  }
}

const NO_LINKS = new Map<string, LinkTarget>();

/** One key per distinct list of ledger keys a reference is translated through. */
export function referenceKey(reference: Pick<ReferencePlan, 'objects'>): string {
  return reference.objects.join('\u0000');
}

/**
 * The links that translate referenced source ids, through the ledger keys of `referenceKey(...)` in order:
 * per id, the first key that holds a linked record wins, else the first link found (pending). With one
 * key (every source object that is not routed) this is that key's links.
 */
export async function referencedLinks<T extends LinkTarget>(
  fetch: (object: string, ids: string[]) => Promise<Map<string, T>>,
  objectsKey: string,
  ids: string[],
): Promise<Map<string, T>> {
  const objects = objectsKey.split('\u0000');
  if (objects.length === 1) return fetch(objects[0]!, ids);
  const out = new Map<string, T>();
  let open = ids;
  for (const object of objects) {
    if (open.length === 0) break;
    for (const [id, link] of await fetch(object, open)) {
      const held = out.get(id);
      if (!held || (held.state !== 'linked' && link.state === 'linked')) out.set(id, link);
    }
    open = open.filter((id) => out.get(id)?.state !== 'linked');
  }
  return out;
}

/**
 * Whether a group member's mapped values differ from those Ferry last wrote the group with (its stored
 * fingerprint). A member never written through (it joins the group now, or the group's first write) has
 * nothing to differ from: it ranks by its modification time.
 */
export function changedSinceWritten(link: Pick<Link, 'fingerprint'>, values: Record<string, FieldValue>): boolean {
  return link.fingerprint !== null && link.fingerprint !== '' && link.fingerprint !== fingerprint(values);
}

function prepare(record: CrmRecord, values: Record<string, FieldValue>): Prepared {
  return { record, values, fingerprint: fingerprint(values), translated: {}, deferred: [], warnings: [], unresolved: new Set() };
}

/**
 * A merged group's values, field by field: the value of the most recently updated member that has one
 * (ties: the higher id, as matching picks the group's newest); empty only when every member is empty.
 *
 * A member whose mapped values changed since Ferry last wrote the group (`changed`) is more recent than
 * every member that did not, whatever their modification times say: its change was made after that write,
 * which read the others as they are now. Times alone lose such a change where the source keeps them to the
 * second (Salesforce, Pipedrive v1, most exports: an edit in the second of the last read ties with it, and
 * the tie goes to the higher id) or where another member was touched later in a field Ferry does not map.
 * docs/concepts.md, "Source duplicates".
 */
export function mergeGroupValues(members: { id: string; at: string; values: Record<string, FieldValue>; changed?: boolean }[]): Record<string, FieldValue> {
  const ordered = [...members].sort((a, b) => {
    if (a.changed === true && b.changed !== true) return -1;
    if (b.changed === true && a.changed !== true) return 1;
    return newer(a, b) ? -1 : newer(b, a) ? 1 : 0;
  });
  const out: Record<string, FieldValue> = {};
  for (const member of ordered) {
    for (const [field, value] of Object.entries(member.values)) {
      if (!(field in out) || (isEmpty(out[field]) && !isEmpty(value))) out[field] = value;
    }
  }
  return out;
}

/** Linked records kept for reference lookups: enough for the owners, companies and more of a large run, in a few megabytes. */
const REFERENCE_CACHE_SIZE = 50_000;

/**
 * The most recently used entries up to a fixed size, in two generations: a full young generation becomes
 * the old one (dropping the previous old one), and an entry found in the old one moves back to the young.
 */
class RecentTargets {
  private young = new Map<string, LinkTarget>();
  private old = new Map<string, LinkTarget>();

  constructor(private readonly size: number) {}

  get(object: string, sourceId: string): LinkTarget | undefined {
    const key = `${object}\u0000${sourceId}`;
    const hit = this.young.get(key);
    if (hit) return hit;
    const old = this.old.get(key);
    if (old) this.put(key, old);
    return old;
  }

  set(object: string, sourceId: string, target: LinkTarget): void {
    this.put(`${object}\u0000${sourceId}`, target);
  }

  private put(key: string, target: LinkTarget): void {
    if (this.young.size >= this.size / 2) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, target);
  }
}

function resolveTarget(links: Map<string, LinkTarget>, id: string): string | undefined {
  const link = links.get(id);
  return link?.state === 'linked' && link.targetId ? link.targetId : undefined;
}

function withRecord(plan: ObjectPlan, sourceId: string, error: RecordError): RecordError {
  const prefix = `${plan.object} ${sourceId}`;
  return error.message.includes(prefix) ? error : { ...error, message: `${prefix} -> ${plan.targetObject}: ${error.message}` };
}
