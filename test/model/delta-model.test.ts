import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../support/crm-fixture.js';
import { ModelRun } from './harness.js';
import { describeHistory, historyArbitrary } from './history.js';

/**
 * The model-based test of the migration semantics: random histories of both CRMs and of Ferry's runs
 * (full, deltas in every mode and conflict policy, runs killed at a write and resumed), played on the
 * real engine and on the reference model (model.ts); after every run, every target record and field must
 * be what the model says. A divergence is shrunk to a small history and printed as a story, with the seed.
 *
 * Size: FERRY_MODEL_RUNS histories (CI default below), FERRY_MODEL_SEED to replay, FERRY_MODEL_BACKEND=postgres
 * for PostgreSQL, =hubspot / =pipedrive / =salesforce for that emulator as the target. `npm run test:model` runs the large size.
 */
const RUNS = Number(process.env.FERRY_MODEL_RUNS ?? 200);
const SEED = Number(process.env.FERRY_MODEL_SEED ?? 20261206);
const BACKEND = (process.env.FERRY_MODEL_BACKEND ?? 'sqlite') as Backend | 'hubspot' | 'pipedrive' | 'salesforce';
const SIZE = { setup: Number(process.env.FERRY_MODEL_SETUP ?? 8), later: Number(process.env.FERRY_MODEL_STEPS ?? 20) };

describe(`the engine against the model of the semantics (${BACKEND})`, () => {
  const totals = { histories: 0, steps: 0, runs: 0, crashes: 0 };
  const events = new Map<string, number>();
  afterAll(() => {
    console.log(
      `model-based test: seed ${SEED}, ${totals.histories} histories, ${totals.steps} steps, ${totals.runs} runs (${totals.crashes} killed and resumed) on ${BACKEND}\n` +
        [...events.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, count]) => `  ${name}: ${count}`).join('\n'),
    );
  });

  it('every run leaves the target exactly as the model says', { timeout: 30 * 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(SIZE), async (history) => {
        const run = await ModelRun.start(BACKEND);
        try {
          const divergence = await run.play(history);
          totals.histories += 1;
          totals.steps += run.steps;
          totals.runs += run.runs;
          totals.crashes += run.crashes;
          for (const [name, count] of run.model.events) events.set(name, (events.get(name) ?? 0) + count);
          if (divergence) throw new Error(`The target differs from the model ${divergence}\n\nThe story:\n${describeHistory(history)}`);
        } finally {
          await run.close();
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: process.env.FERRY_MODEL_SHRINK === '0' },
    );
    expect(totals.histories).toBeGreaterThanOrEqual(RUNS);
  });
});
