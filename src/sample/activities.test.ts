import { describe, expect, it } from 'vitest';
import { takesRecord } from '../project/routing.js';
import { SOURCE_ACTIVITY_TYPE_SPELLINGS, SOURCE_CALL_OUTCOMES, SOURCE_EMAIL_OUTCOMES, SOURCE_MEETING_OUTCOMES } from './constants.js';
import { generateSampleData, naiveTimestamp } from './generate.js';
import { sampleToHubspotObjects } from './hubspot-mapping.js';

const kindOf = (type: string): string | undefined =>
  Object.entries(SOURCE_ACTIVITY_TYPE_SPELLINGS).find(([, spellings]) => spellings.includes(type))?.[0];

describe('sample data: activities (calls, meetings, e-mails in one table)', () => {
  const data = generateSampleData({ seed: 7, size: 400 });
  const rows = [...data.rows('activities')];

  it('has every type in every spelling, and each type the columns it needs', () => {
    expect(rows).toHaveLength(data.counts.activities);
    const spellings = new Set(rows.map((row) => String(row.type)));
    for (const values of Object.values(SOURCE_ACTIVITY_TYPE_SPELLINGS)) for (const value of values) expect(spellings, value).toContain(value);
    for (const row of rows) {
      const kind = kindOf(String(row.type));
      expect(kind, String(row.type)).toBeDefined();
      expect(typeof row.activity_date).toBe('string');
      expect([row.company_id, row.contact_id, row.deal_id].filter((id) => id !== null)).toHaveLength(1);
      if (kind === 'meeting') {
        expect(SOURCE_MEETING_OUTCOMES).toContain(row.outcome);
        expect(row.direction).toBeNull();
        const start = Date.parse(`${String(row.activity_date).replace(' ', 'T')}Z`);
        expect(row.end_time).toBe(naiveTimestamp(start + Number(row.duration_minutes) * 60_000));
        // Scheduled meetings are the ones still to come.
        expect(row.outcome === 'Scheduled').toBe(start > data.context.baseMillis);
      } else {
        expect(['inbound', 'outbound']).toContain(row.direction);
        expect(row.end_time).toBeNull();
        expect((kind === 'call' ? SOURCE_CALL_OUTCOMES : SOURCE_EMAIL_OUTCOMES) as readonly unknown[]).toContain(row.outcome);
        if (kind === 'email') expect(row.duration_minutes).toBeNull();
      }
    }
    // The mess: calls without a duration, e-mails without a body.
    expect(rows.some((row) => kindOf(String(row.type)) === 'call' && row.duration_minutes === null)).toBe(true);
    expect(rows.some((row) => kindOf(String(row.type)) === 'email' && row.body === null)).toBe(true);
  });

  it('the HubSpot mapping routes every activity to exactly one of calls, meetings and e-mails, by its type', () => {
    const routed = sampleToHubspotObjects().filter((mapping) => mapping.source === 'activities');
    expect(routed.map((mapping) => mapping.target)).toEqual(['calls', 'meetings', 'emails']);
    const expected: Record<string, string> = { call: 'calls', meeting: 'meetings', email: 'emails' };
    for (const row of rows) {
      const takers = routed.filter((mapping) => takesRecord(mapping, row)).map((mapping) => mapping.target);
      expect(takers, String(row.type)).toEqual([expected[kindOf(String(row.type))!]]);
    }
  });
});
