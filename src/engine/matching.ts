import { readAll, type Connector, type CrmRecord, type ReadOptions } from '../core/connector.js';
import type { FieldValue } from '../core/schema.js';
import type { Link, MatchIssue } from '../ledger/index.js';
import { normaliseKey } from '../project/match-keys.js';
import { takesRecord, whereFields } from '../project/routing.js';
import type { MatchKey } from '../project/types.js';
import { type Candidate, MatchScratch } from './match-scratch.js';
import type { ObjectPlan } from './plan.js';
import type { RunState } from './run-state.js';

export interface MatchSummary {
  object: string;
  considered: number;
  matched: number;
  ambiguous: number;
  duplicates: number;
}

function keyValue(fields: Record<string, FieldValue>, key: MatchKey, side: 'source' | 'target'): string | undefined {
  const names = key[side];
  const value = Array.isArray(names) ? names.map((name) => fields[name] ?? null) : (fields[names] ?? null);
  return normaliseKey(key.kind, value);
}

function keyFields(keys: MatchKey[], side: 'source' | 'target'): string[] {
  return [...new Set(keys.flatMap((key) => (Array.isArray(key[side]) ? (key[side] as string[]) : [key[side] as string])))];
}

/**
 * Matching for one object (semantics: Matching). Only source records without a link are considered, so
 * running it again is a refresh that keeps every existing link. `window` limits the source records read
 * (a delta matches only what changed since its lower bound).
 */
export async function matchObject(
  state: RunState,
  source: Connector,
  target: Connector,
  plan: ObjectPlan,
  window: Pick<ReadOptions, 'modifiedSince'> = {},
): Promise<MatchSummary> {
  const { object, mapping } = plan;
  const summary: MatchSummary = { object, considered: 0, matched: 0, ambiguous: 0, duplicates: 0 };
  const runId = state.run.id;

  const manual = Object.entries(mapping.links);
  if (manual.length > 0) {
    const existing = await state.getLinks(object, manual.map(([sourceId]) => sourceId));
    const links: Link[] = manual
      .filter(([sourceId, targetId]) => existing.get(sourceId)?.targetId !== targetId)
      .map(([sourceId, targetId]) => ({
        object,
        sourceId,
        targetId,
        state: 'linked',
        origin: 'manual',
        fingerprint: null,
        written: null,
        runId,
        updatedRunId: null,
        leaderSourceId: null,
      }));
    await state.putLinks(links);
    summary.matched += links.length;
  }
  if (mapping.matchKeys.length === 0) return summary;

  const scratch = new MatchScratch(mapping.matchKeys.length, mapping.duplicates === 'merge');
  try {
    await readSource(state, source, plan, window, scratch);
    summary.considered = scratch.candidateCount;
    if (summary.considered === 0) return summary;
    await readTarget(state, target, plan, scratch);
    await decide(state, plan, scratch, summary);
  } finally {
    scratch.close();
  }
  state.add(object, { matched: summary.matched });
  return summary;
}

/** Source records' keys and links into the scratch store, page by page. */
async function readSource(state: RunState, source: Connector, plan: ObjectPlan, window: Pick<ReadOptions, 'modifiedSince'>, scratch: MatchScratch): Promise<void> {
  const { object, mapping } = plan;
  const pageSize = Math.min(source.capabilities().maxPageSize, 1000);
  let page: CrmRecord[] = [];
  const flush = async () => {
    if (page.length === 0) return;
    const links = await state.getLinkTargets(object, page.map((record) => record.id));
    scratch.addSource(
      page.map((record) => {
        const link = links.get(record.id);
        return { id: record.id, at: record.updatedAt ?? '', linked: link !== undefined, linkedTarget: link?.targetId ?? null, keys: mapping.matchKeys.map((key) => keyValue(record.fields, key, 'source')) };
      }),
    );
    page = [];
    await state.pausePoint();
  };
  const fields = [...new Set([...keyFields(mapping.matchKeys, 'source'), ...whereFields(mapping)])];
  for await (const record of readAll(source, plan.sourceObject, { ...window, limit: pageSize, fields, anyOrder: true })) {
    // A routed mapping matches only the records its row filter takes (another mapping matches the rest).
    if (!takesRecord(mapping, record.fields)) continue;
    page.push(record);
    if (page.length >= pageSize) await flush();
  }
  await flush();
  scratch.sourceDone();
}

/**
 * What to search a key kind's normalised value by, so that a target that can search "contains, lower-cased"
 * finds every record that could match (a superset, narrowed by the keys afterwards):
 * - e-mails, exact values and domains: the value itself, always a piece of the lower-cased raw text
 *   (trimmed, unwrapped, lower-cased, a host cut out of a URL);
 * - names: their longest word. Normalising only lower-cases, composes (NFC) and collapses whitespace, so
 *   every word of an ASCII name is a piece of the lower-cased raw name, however it was spaced;
 * - phones (digits only, formatting removed): no piece of the raw text is certain, so never searched.
 * Without a search the delta's refresh matching reads every target record's keys (docs/performance.md).
 */
const SEARCH_TERM: Partial<Record<MatchKey['kind'], (value: string) => string>> = {
  email: (value) => value,
  exact: (value) => value,
  domain: (value) => value,
  name: (value) => value.split(' ').reduce((longest, word) => (word.length > longest.length ? word : longest), ''),
};
/** The text to search the target for a key kind's normalised value by; undefined: the kind cannot be searched. */
export function searchTerm(kind: MatchKey['kind'], value: string): string | undefined {
  return SEARCH_TERM[kind]?.(value).toLowerCase();
}

/** Up to this many distinct candidate values per key, a search costs less than reading every target record. */
const SEARCH_MAX_VALUES = 100;

/** Per key, the values to search for; undefined when the whole target must be read. */
function searchPlan(target: Connector, keys: MatchKey[], scratch: MatchScratch): { field: string; values: string[] }[] | undefined {
  if (!target.findContaining) return undefined;
  const plan: { field: string; values: string[] }[] = [];
  for (const [position, key] of keys.entries()) {
    if (!SEARCH_TERM[key.kind] || Array.isArray(key.target)) return undefined;
    const values = scratch.candidateValues(position, SEARCH_MAX_VALUES + 1);
    // SQL's lower() folds ASCII letters only, so values with other characters are left to a full read.
    if (values.length > SEARCH_MAX_VALUES || values.some((value) => !/^[\x20-\x7e]*$/.test(value))) return undefined;
    const terms = values.map((value) => searchTerm(key.kind, value)!);
    if (terms.some((value) => value === '')) return undefined;
    plan.push({ field: key.target as string, values: [...new Set(terms)] });
  }
  return plan;
}

/**
 * The target index (normalised key value -> target ids, per key) of the values some candidate has, and the
 * target records already linked. With few candidates (a delta's new records) and a target that can search,
 * only the records containing their key values are read; otherwise every target record's keys are.
 */
async function readTarget(state: RunState, target: Connector, plan: ObjectPlan, scratch: MatchScratch): Promise<void> {
  const { mapping } = plan;
  const fields = keyFields(mapping.matchKeys, 'target');
  const keysOf = (record: CrmRecord) => ({ id: record.id, keys: mapping.matchKeys.map((key) => keyValue(record.fields, key, 'target')) });
  const search = searchPlan(target, mapping.matchKeys, scratch);
  if (search) {
    for (const { field, values } of search) {
      scratch.addTarget((await target.findContaining!(plan.targetObject, field, values, fields)).map(keysOf));
      await state.pausePoint();
    }
  } else {
    let page: { id: string; keys: (string | undefined)[] }[] = [];
    for await (const record of readAll(target, plan.targetObject, { limit: Math.min(target.capabilities().maxPageSize, 1000), fields, anyOrder: true })) {
      page.push(keysOf(record));
      if (page.length >= 1000) {
        scratch.addTarget(page);
        page = [];
        await state.pausePoint();
      }
    }
    scratch.addTarget(page);
  }
  // Target records already linked to a source record of this object (by earlier runs, or earlier in this
  // pass). Such a record is only shared with a source record that is its duplicate on the first key;
  // otherwise the two are different records that happen to share a weaker key (two companies of the same
  // name), the target record is not a candidate, and the new record is created.
  for (let ids = scratch.indexedTargets(undefined, 400); ids.length > 0; ids = scratch.indexedTargets(ids[ids.length - 1], 400)) {
    const existing = await state.ledger.linksByTarget(plan.object, ids);
    for (const link of existing) if (link.state === 'linked' && link.targetId) scratch.take(link.targetId, link.sourceId);
  }
}

/** Links, duplicates and ambiguous matches, candidate by candidate in source order: leaders and records without duplicates first, so their followers can join the target they found. */
async function decide(state: RunState, plan: ObjectPlan, scratch: MatchScratch, summary: MatchSummary): Promise<void> {
  const { object, mapping } = plan;
  const runId = state.run.id;
  const merge = mapping.duplicates === 'merge';
  let links: Link[] = [];
  let issues: MatchIssue[] = [];
  const link = (candidate: Candidate, targetId: string, origin: Link['origin'], leaderSourceId: string | null, fingerprint: string | null): void => {
    links.push({ object, sourceId: candidate.id, targetId, state: 'linked', origin, fingerprint, written: null, runId, updatedRunId: null, leaderSourceId });
  };

  const decideOne = (candidate: Candidate): void => {
    const groupPosition = candidate.keys.findIndex((key) => key !== undefined);
    const groupKey = candidate.keys[groupPosition];
    const group = groupKey === undefined || !merge || !candidate.grouped ? undefined : scratch.group(groupKey);
    if (group) {
      // Duplicates are the members besides the one the group keeps (its linked record, else its newest).
      if ((group.linkedSourceId ?? group.newestId) !== candidate.id) summary.duplicates += 1;
      if (group.linkedTargetId && group.linkedSourceId !== candidate.id) {
        // Joins its group's target record; its values are written only if it is the newest member.
        link(candidate, group.linkedTargetId, 'merged', group.linkedSourceId ?? null, group.newestId === candidate.id ? '' : null);
        summary.matched += 1;
        return;
      }
      if (group.newestId !== candidate.id) {
        issues.push({ object, sourceId: candidate.id, kind: 'duplicate', key: groupKey!, candidates: [group.newestId], runId });
        return;
      }
    }
    const available = (targetId: string, position: number) => (merge && position === groupPosition) || scratch.owner(targetId) === undefined;
    const found = findInIndex(mapping.matchKeys, candidate, available);
    if (!found) return;
    if (found.targets.length > 1) {
      issues.push({ object, sourceId: candidate.id, kind: 'ambiguous', key: found.key, candidates: found.targets, runId });
      summary.ambiguous += 1;
      return;
    }
    const targetId = found.targets[0]!;
    const owner = scratch.owner(targetId);
    // A duplicate of a record migrated earlier: being newer, its values are written (fingerprint '').
    if (owner !== undefined) link(candidate, targetId, 'merged', owner, '');
    else {
      link(candidate, targetId, 'matched', null, null);
      scratch.take(targetId, candidate.id);
    }
    summary.matched += 1;
    if (group) scratch.linkGroup(groupKey!, owner ?? candidate.id, targetId);
  };

  for (const followers of [false, true]) {
    for (let chunk = scratch.candidates(0, followers); chunk.length > 0; chunk = scratch.candidates(chunk[chunk.length - 1]!.seq, followers)) {
      chunk.forEach(decideOne);
      await state.putLinks(links);
      await state.putMatchIssues(object, issues, chunk.map((candidate) => candidate.id));
      links = [];
      issues = [];
      await state.pausePoint();
    }
  }
}

function findInIndex(
  keys: MatchKey[],
  candidate: Candidate,
  available: (targetId: string, position: number) => boolean,
): { key: string; position: number; targets: string[] } | undefined {
  for (const [position, key] of keys.entries()) {
    const value = candidate.keys[position];
    if (value === undefined) continue;
    const targets = candidate.targets[position]!.filter((targetId) => available(targetId, position));
    if (targets.length === 0) continue;
    const name = Array.isArray(key.source) ? key.source.join('+') : key.source;
    return { key: `${name}=${value}`, position, targets };
  }
  return undefined;
}
