/**
 * The wizard's view of continuous sync over real HTTP: GET /api/sync shows the running sync (last cycle, next
 * cycle, records per cycle) and POST /api/sync { stop: true } asks it to stop after its current cycle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openProject } from '../../src/cli/open-project.js';
import { nowIso } from '../../src/core/time.js';
import { SyncStore } from '../../src/ledger/sync.js';
import { applySourceChanges } from '../../src/sample/index.js';
import { runSyncCycle } from '../../src/sync/cycle.js';
import { runSyncLoop } from '../../src/sync/loop.js';
import { VirtualTimer } from '../../src/sync/timer.js';
import type { JobView, SyncResponse } from '../../src/wizard/api.js';
import { startWizardServer, type WizardServer } from '../../src/wizard/server/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function call<T>(server: WizardServer, session: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${session}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

describe('wizard: continuous sync panel API', () => {
  it('shows the sync while it runs and stops it between cycles', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-wizard-sync-'));
    const server = await startWizardServer({ projectPath: join(dir, 'ferry.yaml'), cwd: dir, env: { ...process.env, TZ: 'UTC' }, port: 0, uiDir: join(dir, 'no-ui') });
    cleanups.push(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const session = server.issueSession();
    // Before any project: no sync.
    expect((await call<SyncResponse>(server, session, 'GET', '/api/sync')).body).toEqual({ sync: null, alive: false, cycles: [] });
    expect((await call(server, session, 'POST', '/api/demo-data', { contacts: 40, seed: 5 })).status).toBe(200);
    const started = await call<JobView>(server, session, 'POST', '/api/jobs', { kind: 'full' });
    expect(started.status).toBe(202);
    for (;;) {
      const job = (await call<JobView>(server, session, 'GET', '/api/job')).body;
      if (job.status !== 'running' && job.status !== 'pausing') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await call<SyncResponse>(server, session, 'GET', '/api/sync')).body.sync).toBeNull();
    expect((await call(server, session, 'POST', '/api/sync', { stop: 'please' })).status).toBe(400);

    // `ferry sync` in another "terminal": the same project and ledger, on virtual time.
    const project = await openProject({ cwd: dir, env: {} });
    cleanups.push(() => project.close());
    const timer = new VirtualTimer(Date.parse('2026-03-02T09:00:00.000Z'));
    let cycles = 0;
    let seen: SyncResponse | undefined;
    const loop = runSyncLoop({
      store: new SyncStore(project.ledger.kysely),
      intervalMs: 300_000,
      mode: 'both',
      onConflict: 'source-wins',
      timer,
      pollMs: 300_000,
      cycle: async (signal) => {
        cycles += 1;
        await applySourceChanges(join(dir, 'source.db'), { seed: cycles, newRecords: { contacts: 2, companies: 1 }, changedRecords: { contacts: 2 }, at: nowIso() });
        const outcome = await runSyncCycle(project.engine, project.ledger, { mode: 'both', onConflict: 'source-wins', signal });
        if (cycles === 2) {
          // The page looks at the end of cycle 2 (its run finished, the sync has not recorded it yet), then
          // the stop button.
          seen = (await call<SyncResponse>(server, session, 'GET', '/api/sync')).body;
          const stopped = await call<SyncResponse>(server, session, 'POST', '/api/sync', { stop: true });
          expect(stopped.status).toBe(200);
          expect(stopped.body.sync).toMatchObject({ state: 'stopping', stopRequested: true, stopReason: 'wizard' });
        }
        return outcome;
      },
    });
    const summary = await loop;
    expect(summary).toMatchObject({ cycles: 2, reason: 'wizard' });
    expect(seen).toMatchObject({ alive: true, sync: { state: 'running', cycles: 1, intervalMs: 300_000, nextDueAt: '2026-03-02T09:05:00.000Z', lastCycle: { status: 'completed', created: 3 } } });
    // Records per cycle: each cycle's delta run, newest first.
    expect(seen!.cycles.map((cycle) => [cycle.status, cycle.created])).toEqual([['completed', 3], ['completed', 3]]);
    const after = (await call<SyncResponse>(server, session, 'GET', '/api/sync')).body;
    expect(after).toMatchObject({ alive: false, sync: { state: 'stopped', stopReason: 'wizard', cycles: 2 } });
    expect(after.cycles.map((cycle) => [cycle.status, cycle.created])).toEqual([['completed', 3], ['completed', 3]]);
    expect((await call(server, session, 'POST', '/api/sync', { stop: true })).status).toBe(409);
  });
});
