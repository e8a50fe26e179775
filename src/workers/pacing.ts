import type { Pool } from 'pg';
import type { PacerRule, SharedPacing } from '../core/http.js';
import { WORKERS_SCHEMA } from './queue.js';

/**
 * A token bucket per connection identity and rule in the queue's database (table rate_buckets), which
 * every worker's pacer takes from (src/core/http.ts useSharedPacing): an account's limit holds however many
 * workers send to it.
 *
 * A rolling window of L requests per T ms is never exceeded by a bucket of capacity C refilled at r per ms
 * when C + r·T <= L: any T ms see at most the C tokens held at its start plus what refilled during it. So
 * C is a fifth of the window (bursts stay short) and r fills the rest, spread over 10% more than the window
 * (a request reaches the vendor a little after its token was taken, and the vendor stamps it then).
 * Refill and take are one UPDATE ... RETURNING on the bucket's row: concurrent takers queue on its row lock
 * and each sees the tokens the one before it left.
 */
export class PostgresPacing implements SharedPacing {
  private readonly pool: Promise<Pool>;

  constructor(connectionString: string, private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms))) {
    this.pool = import('pg').then(({ default: pg }) => {
      const pool = new pg.Pool({ connectionString, max: 2 });
      pool.on('error', () => undefined);
      return pool;
    });
  }

  static shape(rule: PacerRule): { capacity: number; perMs: number } {
    const capacity = Math.max(1, Math.floor(rule.limit / 5));
    const perMs = Math.max(0, rule.limit - capacity) / (rule.intervalMs * 1.1);
    return { capacity, perMs };
  }

  async take(identity: string, rule: PacerRule): Promise<number> {
    return (await this.grant(identity, rule)).waited;
  }

  /** take(), with the database time the token was granted at (the bucket's clock). */
  async grant(identity: string, rule: PacerRule): Promise<{ waited: number; at: Date }> {
    const pool = await this.pool;
    const key = `${identity}|${rule.name}`;
    const { capacity, perMs } = PostgresPacing.shape(rule);
    let waited = 0;
    await pool.query(`INSERT INTO ${WORKERS_SCHEMA}.rate_buckets (identity, tokens, refilled_at) VALUES ($1, $2, clock_timestamp()) ON CONFLICT (identity) DO NOTHING`, [key, capacity]);
    for (;;) {
      // `now` once per statement; never before the last refill (a taker that waited on the row lock read the clock earlier).
      const result = await pool.query<{ granted: boolean; tokens: number; at: Date }>(
        `UPDATE ${WORKERS_SCHEMA}.rate_buckets b
         SET tokens = CASE WHEN f.available >= 1 THEN f.available - 1 ELSE f.available END,
             refilled_at = f.at,
             taken = b.taken + CASE WHEN f.available >= 1 THEN 1 ELSE 0 END,
             waited = b.waited + CASE WHEN f.available >= 1 THEN 0 ELSE 1 END
         FROM (
           SELECT LEAST($2::double precision, r.tokens + GREATEST(0, EXTRACT(EPOCH FROM (c.now - r.refilled_at)) * 1000) * $3::double precision) AS available,
                  GREATEST(r.refilled_at, c.now) AS at
           FROM ${WORKERS_SCHEMA}.rate_buckets r, (SELECT clock_timestamp() AS now) c
           WHERE r.identity = $1
           FOR UPDATE OF r
         ) f
         WHERE b.identity = $1
         RETURNING f.available >= 1 AS granted, b.tokens AS tokens, f.at AS at`,
        [key, capacity, perMs],
      );
      const row = result.rows[0];
      if (!row) throw new Error(`rate bucket ${key} is missing`);
      if (row.granted) return { waited, at: row.at };
      const wait = perMs > 0 ? Math.max(5, Math.ceil((1 - row.tokens) / perMs)) : rule.intervalMs;
      waited += wait;
      await this.sleep(wait);
    }
  }

  async close(): Promise<void> {
    await (await this.pool).end();
  }
}
