import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerTables } from '../../src/workers/queue.js';
import { PostgresPacing } from '../../src/workers/pacing.js';
import { createPostgresDatabase, type TempDatabase } from '../support/databases.js';

/**
 * The shared token bucket on the machine's PostgreSQL: four takers (as four workers would, each with its
 * own pool) never get more grants in any window than the rule allows, and the bucket's row counts them.
 */
describe('PostgresPacing', () => {
  let database: TempDatabase;
  beforeAll(async () => {
    database = await createPostgresDatabase('ferry_pacing');
    await createWorkerTables(database.url);
  });
  afterAll(async () => {
    await database.drop();
  });

  it('four takers of one account stay inside its rolling window together', async () => {
    const rule = { name: 'burst', limit: 10, intervalMs: 400 };
    const takers = Array.from({ length: 4 }, () => new PostgresPacing(database.url));
    const grants: number[] = [];
    try {
      await Promise.all(
        takers.map(async (taker) => {
          for (let index = 0; index < 8; index++) {
            // The bucket's own clock (the database's): when the token was granted, whatever this process did after.
            grants.push((await taker.grant('hubspot:account-a', rule)).at.getTime());
          }
        }),
      );
    } finally {
      for (const taker of takers) await taker.close();
    }
    grants.sort((a, b) => a - b);
    expect(grants).toHaveLength(32);
    // Every window of the rule's length that starts at a grant holds at most `limit` grants.
    for (const [index, start] of grants.entries()) {
      const inWindow = grants.slice(index).filter((at) => at < start + rule.intervalMs).length;
      expect(inWindow, `window from grant ${index}`).toBeLessThanOrEqual(rule.limit);
    }
    const { shape } = PostgresPacing;
    expect(shape(rule).capacity + shape(rule).perMs * rule.intervalMs).toBeLessThanOrEqual(rule.limit);
  });
});
