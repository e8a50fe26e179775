import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { ferry } from './run-cli.js';

/**
 * `ferry migrate --dry-run` into HubSpot tells the run's API cost in requests (the reads it sent plus the batch
 * writes it did not, 1/100 request per record, rounded up) and what is left of the account's daily limit.
 */
let dir: string;
let hubspot: HubspotEmulator;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-hs-dry-'));
  hubspot = await startHubspotEmulator({ port: 0, burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
});
afterEach(async () => {
  await hubspot.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ferry migrate --dry-run into HubSpot', () => {
  it('prints the API cost in requests with what is left today, and --json has it as estimate.cost', async () => {
    const env = { ...process.env, HUBSPOT_TOKEN: hubspot.token };
    expect((await ferry(dir, ['sample-data', '--size', '40', '--seed', '3', '--output', 'source.db', '--json'], env)).code).toBe(0);
    writeFileSync(
      join(dir, 'ferry.yaml'),
      ['version: 1', 'source:', '  connector: sql', '  dialect: sqlite', '  path: source.db', 'target:', '  connector: hubspot', '  accessToken: ${HUBSPOT_TOKEN}', `  baseUrl: ${hubspot.url}`, '  burstLimit: 1000', '  searchPerSecond: 50', 'sourceTimeZone: UTC', ''].join('\n'),
    );
    const mapped = await ferry(dir, ['map', '--json'], env);
    expect(mapped.code, mapped.stderr).toBe(0);
    const text = await ferry(dir, ['migrate', '--dry-run'], env);
    expect([0, 3], text.stderr + text.stdout).toContain(text.code);
    const line = text.stdout.split('\n').find((candidate) => candidate.includes('API cost:'));
    expect(line, text.stdout).toMatch(/API cost: +[\d,]+ requests \([\d,]+ left today\)/);
    const before = hubspot.limits.usedToday();
    const json = await ferry(dir, ['migrate', '--dry-run', '--json'], env);
    const result = JSON.parse(json.stdout) as { estimate: { cost: { unit: string; amount: number; remaining: number } }; totals: { created: number; updated: number } };
    const spent = hubspot.limits.usedToday() - before;
    expect(result.estimate.cost.unit).toBe('requests');
    // The requests this dry run sent, plus 1/100 request per record it would write (rounded up).
    expect(result.totals.created).toBeGreaterThan(0);
    expect(result.estimate.cost.amount).toBe(spent + Math.ceil((result.totals.created + result.totals.updated) / 100));
    expect(Number.isInteger(result.estimate.cost.amount)).toBe(true);
    expect(result.estimate.cost.remaining).toBe(250_000 - hubspot.limits.usedToday());
    expect([...hubspot.store.table('contacts').values()]).toHaveLength(0);
  });
});
