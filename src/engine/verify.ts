import type { CrmRecord } from '../core/connector.js';
import type { FieldValue } from '../core/schema.js';
import type { FileLink, Link } from '../ledger/index.js';
import { takesRecord } from '../project/routing.js';
import { mapRecord, valuesEqual } from '../project/transform.js';
import type { ObjectPlan } from './plan.js';
import { changedSinceWritten, mergeGroupValues, referencedLinks, referenceKey } from './writer.js';
import { emptyVerifyCounts, type EngineContext, type VerifyIssue, type VerifyObjectCounts, type VerifyResult } from './types.js';

/** Findings `verify` lists (its per-object figures count them all). */
export const VERIFY_ISSUE_LIMIT = 1000;

/** Ledger file links checked per call to the target. */
const FILE_PAGE = 200;

const isEmptyValue = (value: unknown) => value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);

/**
 * `ferry verify`: compares the target with the source through the ledger. Missing records, source records
 * not migrated, field values that differ (and why, when the ledger can tell) and references that point
 * to the wrong record. Reads the source page by page; writes nothing.
 */
export async function verifyTarget(context: EngineContext, plans: ObjectPlan[]): Promise<VerifyResult> {
  const { source, target, ledger, project } = context;
  const result: VerifyResult = { objects: {}, issues: [], ok: true };
  // Every finding is counted in its object's figures; the list keeps the first VERIFY_ISSUE_LIMIT, problems
  // before fields people edited in the target (which are no problem), so the list and the table agree.
  const problems: VerifyIssue[] = [];
  const edits: VerifyIssue[] = [];
  for (const plan of plans) {
    const summary = emptyVerifyCounts();
    result.objects[plan.object] = summary;
    const referenceFields = new Map(plan.references.map((reference) => [reference.targetField, reference]));
    const report = (issue: VerifyIssue) => {
      const list = issue.reason === 'edited-in-target' ? edits : problems;
      if (list.length < VERIFY_ISSUE_LIMIT) list.push(issue);
    };
    let after: string | undefined;
    for (;;) {
      const read = await source.read(plan.sourceObject, { after, limit: project.options.pageSize });
      // A routed mapping answers for the records its row filter takes now (one it wrote before and left
      // out since is reported by the run that left it out: ROUTE_CHANGED).
      const page = plan.mapping.where ? { ...read, records: read.records.filter((record) => takesRecord(plan.mapping, record.fields)) } : read;
      const links = await ledger.getLinks(plan.object, page.records.map((record) => record.id));
      const linked = page.records.filter((record) => links.get(record.id)?.targetId);
      const targets = new Map<string, CrmRecord>();
      const targetIds = linked.map((record) => links.get(record.id)!.targetId!);
      for (let start = 0; start < targetIds.length; start += target.capabilities().batchSize.read) {
        for (const record of await target.readByIds(plan.targetObject, targetIds.slice(start, start + target.capabilities().batchSize.read), plan.targetFields)) {
          targets.set(record.id, record);
        }
      }
      const mapValues = (record: CrmRecord) =>
        mapRecord(plan.mapping, record, { sourceSchema: plan.sourceSchema, targetSchema: plan.targetSchema, sourceTimeZone: project.sourceTimeZone, sourceLocale: project.sourceLocale }).values;
      const mappedById = new Map(page.records.map((record) => [record.id, mapValues(record)]));
      /** Leaders of merged groups unchanged since their last write -> every member's mapped values. */
      const settledGroups = new Map<string, Record<string, FieldValue>[]>();
      // A merged group's record holds the group's values (field by field, the newest member's non-empty
      // value): it is checked once, at its leader, against the values of all members as the source has them now.
      if (plan.mapping.duplicates === 'merge' && linked.length > 0) {
        const members = (await ledger.linksByTarget(plan.object, targetIds)).filter((link) => link.state === 'linked' && link.origin === 'merged');
        const followers = new Map<string, string[]>();
        for (const member of members) followers.set(member.targetId!, [...(followers.get(member.targetId!) ?? []), member.sourceId]);
        const ids = [...new Set([...followers.values()].flat())];
        const records = new Map<string, CrmRecord>();
        for (let start = 0; start < ids.length; start += source.capabilities().batchSize.read) {
          for (const record of await source.readByIds(plan.sourceObject, ids.slice(start, start + source.capabilities().batchSize.read))) records.set(record.id, record);
        }
        const memberLinks = new Map(members.map((member) => [member.sourceId, member]));
        for (const record of linked) {
          const link = links.get(record.id)!;
          const others = link.origin === 'merged' ? [] : (followers.get(link.targetId!) ?? []);
          if (others.length === 0) continue;
          const group = [record, ...others.map((id) => records.get(id)).filter((member): member is CrmRecord => member !== undefined)];
          const read = group.map((member) => {
            const values = member === record ? mappedById.get(record.id)! : mapValues(member);
            return { id: member.id, at: member.updatedAt ?? '', values, changed: changedSinceWritten(member === record ? link : memberLinks.get(member.id)!, values) };
          });
          mappedById.set(record.id, mergeGroupValues(read));
          // Nothing changed since Ferry wrote the group: which member's value it holds was decided then (a
          // member that had changed came first, docs/concepts.md), and times alone cannot tell it again.
          if (!read.some((member) => member.changed)) settledGroups.set(record.id, read.map((member) => member.values));
        }
      }
      const referenced = new Map<string, Map<string, Link>>();
      for (const reference of plan.references) {
        const ids = new Set<string>();
        for (const values of [...mappedById.values(), ...[...settledGroups.values()].flat()]) {
          const value = values[reference.targetField];
          for (const id of Array.isArray(value) ? value : value === null || value === undefined ? [] : [value]) ids.add(String(id));
        }
        const existing = referenced.get(referenceKey(reference)) ?? new Map<string, Link>();
        for (const [id, link] of await referencedLinks((key, part) => ledger.getLinks(key, part), referenceKey(reference), [...ids])) existing.set(id, link);
        referenced.set(referenceKey(reference), existing);
      }
      for (const record of page.records) {
        const link = links.get(record.id);
        if (!link?.targetId || link.state !== 'linked') {
          if (!plan.mapping.matchOnly) {
            summary.notMigrated += 1;
            report({ object: plan.object, sourceId: record.id, kind: 'not-migrated' });
          }
          continue;
        }
        summary.checked += 1;
        const actual = targets.get(link.targetId);
        if (!actual) {
          summary.missing += 1;
          report({ object: plan.object, sourceId: record.id, targetId: link.targetId, kind: 'missing-in-target' });
          continue;
        }
        // A merged duplicate shares its target record with its group, which holds the newest member's values.
        if (link.origin === 'merged') continue;
        const option = link.origin === 'created' ? 'update' : plan.mapping.matched;
        /** A mapped value in the target's terms (references as target ids); undefined: a referenced record not in the target. */
        const inTarget = (field: string, value: FieldValue): FieldValue | undefined => {
          const reference = referenceFields.get(field);
          if (!reference || value === null) return value;
          const links = referenced.get(referenceKey(reference))!;
          const translate = (id: unknown) => links.get(String(id))?.targetId ?? undefined;
          if (Array.isArray(value)) {
            const ids = value.map(translate);
            return ids.some((id) => id === undefined) ? undefined : (ids as string[]).sort();
          }
          return translate(value);
        };
        const settled = settledGroups.get(record.id);
        for (const [field, rawExpected] of Object.entries(mappedById.get(record.id)!)) {
          const reference = referenceFields.get(field);
          const expected = inTarget(field, rawExpected);
          if (expected === undefined) continue; // reported on the referenced record
          const type = plan.targetFieldSchemas.get(field)?.type;
          const now = actual.fields[field] ?? null;
          if (valuesEqual(expected, now, type)) continue;
          const written = link.written ?? {};
          if (
            settled &&
            field in written &&
            valuesEqual(now, written[field] as never, type) &&
            settled.some((values) => field in values && !isEmptyValue(values[field]) && valuesEqual(inTarget(field, values[field]!) ?? null, now, type))
          ) {
            continue; // the value Ferry wrote, one member's as that member has it now
          }
          // Kept on purpose: a matched record's own value (fill-empty, skip). An empty field that the option
          // would have filled (fill-empty: any; skip: a reference) is a finding: a write that never happened.
          const wouldFill = isEmptyValue(now) && (option === 'fill-empty' || (option === 'skip' && reference !== undefined));
          if (!(field in written) && option !== 'update' && !wouldFill) continue;
          const reason: VerifyIssue['reason'] =
            field in written ? (valuesEqual(now, written[field] as never, type) ? 'source-changed-since-last-run' : 'edited-in-target') : 'unknown';
          if (reason === 'edited-in-target') {
            summary.editedInTarget += 1;
            report({ object: plan.object, sourceId: record.id, targetId: link.targetId, kind: 'field-mismatch', field, expected, actual: now, reason });
            continue;
          }
          if (reference) summary.brokenReferences += 1;
          else summary.mismatched += 1;
          report({ object: plan.object, sourceId: record.id, targetId: link.targetId, kind: reference ? 'broken-reference' : 'field-mismatch', field, expected, actual: now, reason });
        }
      }
      if (!page.next) break;
      after = page.next;
    }
    await verifyFiles(context, plan, summary, report);
    if (summary.missing + summary.mismatched + summary.brokenReferences + summary.notMigrated + summary.filesMissing + summary.filesUnattached + summary.filesMismatched > 0) result.ok = false;
  }
  result.issues = [...problems, ...edits].slice(0, VERIFY_ISSUE_LIMIT);
  return result;
}


/**
 * The files Ferry copied for this object (the ledger's file links, every version, whichever run copied
 * them) against the target: each target file still there, still attached to the record it was copied for,
 * and of the size (and SHA-256, where the target stores one) Ferry copied. A pending link is an upload
 * never confirmed: not a copied file, not checked. Targets that store no files have nothing to check.
 */
async function verifyFiles(context: EngineContext, plan: ObjectPlan, summary: VerifyObjectCounts, report: (issue: VerifyIssue) => void): Promise<void> {
  const files = context.target.files;
  if (!files?.writable(plan.targetObject)) return;
  let after: FileLink | undefined;
  for (;;) {
    const page = await context.ledger.fileLinksPage(plan.object, after, FILE_PAGE);
    if (page.length === 0) return;
    after = page[page.length - 1];
    const copied = page.filter((link) => link.state !== 'pending' && link.targetFileId !== null);
    if (copied.length === 0) continue;
    const stored = await files.inspect(
      plan.targetObject,
      copied.map((link) => ({ fileId: link.targetFileId!, recordId: link.targetRecordId })),
    );
    for (const link of copied) {
      summary.filesChecked += 1;
      const base = { object: plan.object, sourceId: link.sourceRecordId, targetId: link.targetRecordId, field: 'attachments', file: link.name, fileId: link.targetFileId! };
      const now = stored.get(link.targetFileId!);
      if (!now) {
        summary.filesMissing += 1;
        report({ ...base, kind: 'file-missing', reason: 'deleted-in-target' });
        continue;
      }
      if (!now.attached) {
        summary.filesUnattached += 1;
        report({ ...base, kind: 'file-not-attached', reason: 'detached' });
        continue;
      }
      if (link.bytes !== null && now.size !== null && now.size !== link.bytes) {
        summary.filesMismatched += 1;
        report({ ...base, kind: 'file-mismatch', reason: 'size-differs', expected: link.bytes, actual: now.size });
      } else if (link.sha256 && now.sha256 && now.sha256.toLowerCase() !== link.sha256.toLowerCase()) {
        summary.filesMismatched += 1;
        report({ ...base, kind: 'file-mismatch', reason: 'sha256-differs', expected: link.sha256, actual: now.sha256 });
      }
    }
  }
}
