import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import { ferry } from './run-cli.js';

/** `ferry migrate --dry-run` into Pipedrive tells the run's token cost and what is left of the day, and writes nothing. */
let dir: string;
let pipedrive: PipedriveEmulator;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-pd-dry-'));
  pipedrive = await startPipedriveEmulator({ port: 0, burstLimit: { requests: 100_000, intervalMs: 2000 } });
});
afterEach(async () => {
  await pipedrive.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ferry migrate --dry-run into Pipedrive', () => {
  it('prints the API cost in tokens with what is left today, and --json has it as estimate.cost', async () => {
    const env = { ...process.env, PIPEDRIVE_TOKEN: pipedrive.token };
    expect((await ferry(dir, ['sample-data', '--size', '40', '--seed', '3', '--output', 'source.db', '--json'], env)).code).toBe(0);
    writeFileSync(
      join(dir, 'ferry.yaml'),
      ['version: 1', 'source:', '  connector: sql', '  dialect: sqlite', '  path: source.db', 'target:', '  connector: pipedrive', '  apiToken: ${PIPEDRIVE_TOKEN}', `  baseUrl: ${pipedrive.url}`, '  burstLimit: 10000', 'sourceTimeZone: UTC', ''].join('\n'),
    );
    const mapped = await ferry(dir, ['map', '--json'], env);
    expect(mapped.code, mapped.stderr).toBe(0);
    const text = await ferry(dir, ['migrate', '--dry-run'], env);
    expect([0, 3], text.stderr + text.stdout).toContain(text.code);
    const line = text.stdout.split('\n').find((candidate) => candidate.includes('API cost:'));
    expect(line, text.stdout).toMatch(/API cost: +[\d,]+ tokens \([\d,]+ left today\)/);
    const json = await ferry(dir, ['migrate', '--dry-run', '--json'], env);
    const result = JSON.parse(json.stdout) as { estimate: { cost: { unit: string; amount: number; remaining: number } } };
    expect(result.estimate.cost.unit).toBe('tokens');
    expect(result.estimate.cost.amount).toBeGreaterThan(0);
    expect(result.estimate.cost.remaining).toBe(60_000 - pipedrive.stats.tokens);
    expect(pipedrive.store.table('persons').all()).toHaveLength(0);
  });
});
