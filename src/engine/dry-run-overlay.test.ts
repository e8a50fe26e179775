import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Link, MatchIssue } from '../ledger/index.js';
import { DryRunOverlay } from './dry-run-overlay.js';

/** The overlay on disk answers as the Map it replaced: last write wins per (object, source id). */
describe('DryRunOverlay', () => {
  const objects = ['companies', 'contacts'];
  const id = fc.integer({ min: 1, max: 30 }).map(String);
  const target = fc.option(fc.integer({ min: 1, max: 10 }).map((n) => `t${n}`), { nil: null });
  const link = fc.record({ object: fc.constantFrom(...objects), sourceId: id, targetId: target, written: fc.option(fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxKeys: 3 }), { nil: null }) });
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('links' as const), links: fc.array(link, { maxLength: 8 }) }),
    fc.record({ kind: fc.constant('issues' as const), object: fc.constantFrom(...objects), issues: fc.uniqueArray(id, { maxLength: 5 }), cleared: fc.uniqueArray(id, { maxLength: 5 }) }),
  );

  it('returns what a Map of the same writes returns, for links by source, links by target and match issues', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 20 }), fc.uniqueArray(id, { maxLength: 40 }), fc.uniqueArray(target.filter((value) => value !== null), { maxLength: 10 }), (operations, ids, targets) => {
        const overlay = new DryRunOverlay();
        try {
          const links = new Map<string, Map<string, Link>>();
          const issues = new Map<string, Map<string, MatchIssue | null>>();
          for (const operation of operations) {
            if (operation.kind === 'links') {
              const full: Link[] = operation.links.map((entry) => ({ ...entry, state: 'linked', origin: 'created', fingerprint: 'f', runId: 1, updatedRunId: null, leaderSourceId: null }));
              overlay.putLinks(full);
              for (const entry of full) {
                if (!links.has(entry.object)) links.set(entry.object, new Map());
                links.get(entry.object)!.set(entry.sourceId, entry);
              }
            } else {
              const kept = operation.issues.filter((entry) => !operation.cleared.includes(entry));
              const made: MatchIssue[] = kept.map((sourceId) => ({ object: operation.object, sourceId, kind: 'ambiguous', key: `k${sourceId}`, candidates: ['t1', 't2'], runId: 1 }));
              overlay.putIssues(operation.object, made, operation.cleared);
              if (!issues.has(operation.object)) issues.set(operation.object, new Map());
              const map = issues.get(operation.object)!;
              for (const cleared of operation.cleared) map.set(cleared, null);
              for (const issue of made) map.set(issue.sourceId, issue);
            }
          }
          for (const object of objects) {
            const expected = new Map([...(links.get(object) ?? new Map<string, Link>())].filter(([key]) => ids.includes(key)));
            expect(overlay.links(object, ids)).toEqual(expected);
            const byTarget = [...(links.get(object)?.values() ?? [])].filter((entry) => entry.targetId !== null && targets.includes(entry.targetId));
            const sort = (list: Link[]) => [...list].sort((a, b) => a.sourceId.localeCompare(b.sourceId));
            expect(sort(overlay.linksToTargets(object, targets as string[]))).toEqual(sort(byTarget));
            const expectedIssues = new Map([...(issues.get(object) ?? new Map<string, MatchIssue | null>())].filter(([key]) => ids.includes(key)));
            expect(overlay.issues(object, ids)).toEqual(expectedIssues);
          }
        } finally {
          overlay.close();
        }
      }),
      { seed: 12, numRuns: 150 },
    );
  });

  it('looks up more ids than one chunk at once', () => {
    const overlay = new DryRunOverlay();
    try {
      const many: Link[] = Array.from({ length: 1500 }, (_, index) => ({ object: 'contacts', sourceId: String(index), targetId: `dry-run:${index}`, state: 'linked', origin: 'created', fingerprint: null, written: { n: index }, runId: 1, updatedRunId: null, leaderSourceId: null }));
      overlay.putLinks(many);
      expect(overlay.links('contacts', many.map((entry) => entry.sourceId)).size).toBe(1500);
      expect(overlay.linksToTargets('contacts', ['dry-run:1499', 'dry-run:0']).map((entry) => entry.written)).toEqual(expect.arrayContaining([{ n: 0 }, { n: 1499 }]));
      expect(overlay.links('companies', ['1']).size).toBe(0);
    } finally {
      overlay.close();
    }
  });
});
