/**
 * The Delta step's Continuous sync panel in Chromium: it shows a sync that `ferry sync` runs beside the
 * wizard (state, last and next cycle, records per cycle), and its Stop button ends it between cycles.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { openProject, type OpenProject } from '../../src/cli/open-project.js';
import { SyncStore } from '../../src/ledger/sync.js';
import { runSyncCycle } from '../../src/sync/cycle.js';
import { runSyncLoop, type SyncSummary } from '../../src/sync/loop.js';
import { describeInChromium } from './browser-gate.js';
import { goToStep, journeyStep, openWizard, textMatching, waitFor, type Harness } from './browser-helpers.js';

describeInChromium('wizard: the continuous sync panel in Chromium', () => {
  let h: Harness;
  let project: OpenProject | undefined;
  const step = journeyStep(() => h, 'sync-');

  beforeAll(async () => {
    h = await openWizard();
  }, 180_000);
  afterAll(async () => {
    await project?.close();
    await h?.close();
  });

  step('shows the running sync with its cycles and stops it from the page', async () => {
    const { page } = h;
    const session = h.server.issueSession();
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${h.server.url.replace(/\/\?.*$/, '')}${path}`, {
        method,
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return (await response.json()) as Record<string, unknown>;
    };
    await call('POST', '/api/demo-data', { contacts: 40, seed: 5 });
    await call('POST', '/api/jobs', { kind: 'full' });
    await waitFor(() => call('GET', '/api/job'), (job) => job.status === 'finished' || job.status === 'failed', 'the full migration');

    await goToStep(page, 'Delta', /Delta migrations/);
    const panel = page.getByTestId('sync-panel');
    await textMatching(panel, /No sync has run yet/);

    // `ferry sync --every 1h` beside the wizard: one cycle now, then it waits for the next tick.
    project = await openProject({ cwd: h.projectPath.replace(/\/ferry\.yaml$/, ''), env: {} });
    const opened = project;
    const loop: Promise<SyncSummary> = runSyncLoop({
      store: new SyncStore(opened.ledger.kysely),
      intervalMs: 3_600_000,
      mode: 'both',
      onConflict: 'source-wins',
      pollMs: 200,
      cycle: (signal) => runSyncCycle(opened.engine, opened.ledger, { mode: 'both', onConflict: 'source-wins', signal }),
    });
    await textMatching(page.getByTestId('sync-state'), /Sync 1: running · every 3600 s, both, on conflict source-wins · 1 cycles/);
    await textMatching(panel, /Next cycle: /);
    expect(await page.getByTestId('sync-cycles').locator('tbody tr').count()).toBe(1);

    await panel.getByRole('button', { name: 'Stop the sync after its current cycle' }).click();
    const summary = await loop;
    expect(summary).toMatchObject({ reason: 'wizard', cycles: 1 });
    await textMatching(page.getByTestId('sync-state'), /Sync 1: stopped \(wizard\)/);
    expect(await panel.getByRole('button').count()).toBe(0);
    expect(h.problems).toEqual([]);
  });
});
