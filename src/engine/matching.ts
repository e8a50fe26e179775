import { readAll, type Connector, type ReadOptions } from '../core/connector.js';
import type { FieldValue } from '../core/schema.js';
import type { Link, MatchIssue } from '../ledger/index.js';
import { normaliseKey } from '../project/match-keys.js';
import type { MatchKey } from '../project/types.js';
import type { ObjectPlan } from './plan.js';
import type { RunState } from './run-state.js';

/** Most target candidates kept per key value: more than one is already ambiguous. */
const MAX_CANDIDATES = 5;

interface Candidate {
  id: string;
  updatedAt: string;
  keys: (string | undefined)[];
}

interface Group {
  size: number;
  /** The most recently updated member (ties: highest id): its values win in a merge. */
  newestId: string;
  newestAt: string;
  linkedSourceId?: string;
  linkedTargetId?: string;
}

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

const newer = (a: { at: string; id: string }, b: { at: string; id: string }): boolean =>
  a.at > b.at || (a.at === b.at && a.id.localeCompare(b.id, 'en', { numeric: true }) > 0);

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

  const merge = mapping.duplicates === 'merge';
  const candidates: Candidate[] = [];
  const groups = new Map<string, Group>();
  const pageSize = Math.min(source.capabilities().maxPageSize, 1000);
  const sourceFields = keyFields(mapping.matchKeys, 'source');
  let page: { id: string; updatedAt: string | null; fields: Record<string, FieldValue> }[] = [];

  const flush = async () => {
    if (page.length === 0) return;
    const links = await state.getLinkTargets(object, page.map((record) => record.id));
    for (const record of page) {
      const keys = mapping.matchKeys.map((key) => keyValue(record.fields, key, 'source'));
      const at = record.updatedAt ?? '';
      const link = links.get(record.id);
      const groupKey = keys.find((key) => key !== undefined);
      if (merge && groupKey !== undefined) {
        const group = groups.get(groupKey);
        if (!group) {
          groups.set(groupKey, {
            size: 1,
            newestId: record.id,
            newestAt: at,
            ...(link?.targetId ? { linkedSourceId: record.id, linkedTargetId: link.targetId } : {}),
          });
        } else {
          group.size += 1;
          if (newer({ at, id: record.id }, { at: group.newestAt, id: group.newestId })) {
            group.newestId = record.id;
            group.newestAt = at;
          }
          if (link?.targetId && !group.linkedTargetId) {
            group.linkedSourceId = record.id;
            group.linkedTargetId = link.targetId;
          }
        }
      }
      if (!link) candidates.push({ id: record.id, updatedAt: at, keys });
    }
    page = [];
  };

  for await (const record of readAll(source, object, { ...window, limit: pageSize, fields: sourceFields })) {
    page.push(record);
    if (page.length >= pageSize) await flush();
  }
  await flush();
  summary.considered = candidates.length;
  if (candidates.length === 0) return summary;

  // The target index: normalised key value -> target ids, one map per match key.
  const index = mapping.matchKeys.map(() => new Map<string, string[]>());
  const wantedValues = mapping.matchKeys.map((_, position) => new Set(candidates.map((candidate) => candidate.keys[position]).filter((key) => key !== undefined)));
  const targetFields = keyFields(mapping.matchKeys, 'target');
  for await (const record of readAll(target, plan.targetObject, { limit: Math.min(target.capabilities().maxPageSize, 1000), fields: targetFields })) {
    mapping.matchKeys.forEach((key, position) => {
      const value = keyValue(record.fields, key, 'target');
      if (value === undefined || !wantedValues[position]!.has(value)) return;
      const list = index[position]!.get(value);
      if (!list) index[position]!.set(value, [record.id]);
      else if (list.length < MAX_CANDIDATES && !list.includes(record.id)) list.push(record.id);
    });
  }

  // Leaders and records without duplicates first, so their followers can join the target they found.
  const isFollower = (candidate: Candidate): boolean => {
    const groupKey = candidate.keys.find((key) => key !== undefined);
    const group = groupKey === undefined ? undefined : groups.get(groupKey);
    return merge && group !== undefined && group.size > 1 && group.newestId !== candidate.id && !group.linkedTargetId;
  };
  const ordered = [...candidates.filter((candidate) => !isFollower(candidate)), ...candidates.filter(isFollower)];

  const links: Link[] = [];
  const issues: MatchIssue[] = [];
  const link = (candidate: Candidate, targetId: string, origin: Link['origin'], leaderSourceId: string | null, fingerprint: string | null): void => {
    links.push({ object, sourceId: candidate.id, targetId, state: 'linked', origin, fingerprint, written: null, runId, updatedRunId: null, leaderSourceId });
  };

  // Target records already linked to a source record of this object (by earlier runs, or earlier in this
  // pass). Such a record is only shared with a source record that is its duplicate on the first key;
  // otherwise the two are different records that happen to share a weaker key (two companies of the same
  // name), the target record is not a candidate, and the new record is created.
  const taken = new Map<string, string>();
  const candidateTargets = new Set<string>();
  for (const candidate of candidates) {
    candidate.keys.forEach((value, position) => {
      if (value !== undefined) for (const id of index[position]!.get(value) ?? []) candidateTargets.add(id);
    });
  }
  const targetIds = [...candidateTargets];
  for (let start = 0; start < targetIds.length; start += 400) {
    for (const existing of await state.ledger.linksByTarget(object, targetIds.slice(start, start + 400))) {
      if (existing.state === 'linked' && existing.targetId) taken.set(existing.targetId, existing.sourceId);
    }
  }

  for (const candidate of ordered) {
    const groupPosition = candidate.keys.findIndex((key) => key !== undefined);
    const groupKey = candidate.keys[groupPosition];
    const group = groupKey === undefined || !merge ? undefined : groups.get(groupKey);
    if (group && group.size > 1) {
      // Duplicates are the members besides the one the group keeps (its linked record, else its newest).
      if ((group.linkedSourceId ?? group.newestId) !== candidate.id) summary.duplicates += 1;
      if (group.linkedTargetId && group.linkedSourceId !== candidate.id) {
        // Joins its group's target record; its values are written only if it is the newest member.
        link(candidate, group.linkedTargetId, 'merged', group.linkedSourceId ?? null, group.newestId === candidate.id ? '' : null);
        summary.matched += 1;
        continue;
      }
      if (group.newestId !== candidate.id) {
        issues.push({ object, sourceId: candidate.id, kind: 'duplicate', key: groupKey!, candidates: [group.newestId], runId });
        continue;
      }
    }
    const available = (targetId: string, position: number) => !taken.has(targetId) || (merge && position === groupPosition);
    const found = findInIndex(mapping.matchKeys, index, candidate, available);
    if (!found) continue;
    if (found.targets.length > 1) {
      issues.push({ object, sourceId: candidate.id, kind: 'ambiguous', key: found.key, candidates: found.targets, runId });
      summary.ambiguous += 1;
      continue;
    }
    const targetId = found.targets[0]!;
    const owner = taken.get(targetId);
    // A duplicate of a record migrated earlier: being newer, its values are written (fingerprint '').
    if (owner !== undefined) link(candidate, targetId, 'merged', owner, '');
    else link(candidate, targetId, 'matched', null, null);
    taken.set(targetId, owner ?? candidate.id);
    summary.matched += 1;
    if (group) {
      group.linkedSourceId = owner ?? candidate.id;
      group.linkedTargetId = targetId;
    }
  }

  await state.putLinks(links);
  await state.putMatchIssues(object, issues, candidates.map((candidate) => candidate.id));
  state.add(object, { matched: summary.matched });
  return summary;
}

function findInIndex(
  keys: MatchKey[],
  index: Map<string, string[]>[],
  candidate: Candidate,
  available: (targetId: string, position: number) => boolean,
): { key: string; position: number; targets: string[] } | undefined {
  for (const [position, key] of keys.entries()) {
    const value = candidate.keys[position];
    if (value === undefined) continue;
    const targets = (index[position]!.get(value) ?? []).filter((targetId) => available(targetId, position));
    if (targets.length === 0) continue;
    const name = Array.isArray(key.source) ? key.source.join('+') : key.source;
    return { key: `${name}=${value}`, position, targets };
  }
  return undefined;
}
