/**
 * Controls of the wizard in Chromium that used to misbehave: the Pause button (one element that progress events
 * neither replace nor move, clicked like a person would), undo (asks first, naming the run and its counts), a
 * HubSpot token the API rejects (401: the form field is blamed, not ferry.yaml, and no scopes are listed), and
 * the HTML report at 1300 px (no sideways scrolling).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, expect } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import {
  goToStep,
  horizontalOverflow,
  jobIdShown,
  journeyStep,
  openWizard,
  runJob,
  screenshot,
  textMatching,
  toNumber,
  waitFor,
  type Harness,
} from './browser-helpers.js';
import { describeInChromium } from './browser-gate.js';


describeInChromium('wizard controls in Chromium', () => {
  let h: Harness;
  let hubspot: HubspotEmulator;
  let fullRunId = 0;
  let created = 0;

  beforeAll(async () => {
    hubspot = await startHubspotEmulator({ seed: 'sample', token: 'emulator-secret-token-1234', burstLimit: { requests: 10_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
    h = await openWizard();
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    await hubspot?.close();
  }, 120_000);

  const step = journeyStep(() => h, 'FAILED-controls-');

  step('pause: the same button through the progress events, clicked normally, pauses the run', async () => {
    const { page } = h;
    await page.getByLabel('Contacts in the demo data').fill('2000');
    await page.getByRole('button', { name: 'Use the demo data' }).click();
    await textMatching(page.getByRole('status').filter({ hasText: 'demo data is ready' }), /demo data is ready/);
    // One contact with a long unbroken invalid e-mail: its failure's value is a wide cell in the HTML report.
    const source = new Database(join(h.projectPath, '..', 'source.db'));
    try {
      expect(source.prepare("UPDATE contacts SET email = ? WHERE id = (SELECT MIN(id) FROM contacts)").run(`${'x'.repeat(280)}.invalid`).changes).toBe(1);
    } finally {
      source.close();
    }
    // Small pages: many progress events while the run goes on (the demo data is written in seconds otherwise).
    const document = parseDocument(await readFile(h.projectPath, 'utf8'));
    document.setIn(['options', 'pageSize'], 10);
    await writeFile(h.projectPath, document.toString());

    await goToStep(page, 'Full migration', /Full migration/);
    const before = await jobIdShown(page, 'full');
    await page.getByRole('button', { name: 'Start the full migration' }).click();
    await waitFor(() => jobIdShown(page, 'full'), (id) => id !== null && id !== before, 'the full migration on the page');
    const panel = page.locator('.job-panel[data-job-kind="full"]');
    const pause = panel.getByTestId('pause-button');
    await pause.waitFor();
    // Mark the element: a re-mounted button would be a new element without the mark.
    await pause.evaluate((element) => (element as unknown as { setAttribute(name: string, value: string): void }).setAttribute('data-mark', 'first'));
    const box = await pause.boundingBox();
    const progress = panel.locator('.progress-table tbody');
    let seen = await progress.textContent();
    for (let change = 0; change < 3; change++) {
      seen = await waitFor(
        () => progress.textContent(),
        (text) => text !== seen,
        `progress change ${change + 1}`,
      );
    }
    expect(await pause.getAttribute('data-mark'), 'the Pause button was replaced by a new element').toBe('first');
    expect(await pause.boundingBox()).toEqual(box);
    await pause.click();
    await waitFor(async () => (await panel.getAttribute('data-job-status')) ?? '', (status) => status === 'paused' || status === 'finished' || status === 'failed', 'the paused run');
    expect(await panel.getAttribute('data-job-status'), 'the run ended before the pause').toBe('paused');
    expect(await pause.getAttribute('data-mark')).toBe('first');
    expect(await pause.textContent()).toBe('Resume');
    await screenshot(page, 'controls-01-paused');
    await pause.click();
    await waitFor(async () => (await panel.getAttribute('data-job-status')) ?? '', (status) => status === 'finished' || status === 'failed', 'the resumed run');
    expect(await panel.getAttribute('data-job-status')).toBe('finished');
    const heading = await textMatching(page.getByTestId('full-result').locator('h2'), /^Result of run \d+$/);
    fullRunId = toNumber(heading);
    const result = await textMatching(page.getByTestId('full-result').locator('p').first(), /records read/);
    created = toNumber(/records read: ([\d,]+) created/.exec(result)![1]!);
    expect(created).toBeGreaterThan(0);
  });

  step('undo asks first, naming the run and what it created; "Keep" starts nothing', async () => {
    const { page } = h;
    await page.getByRole('link', { name: `Open the report of run ${fullRunId}` }).click();
    const undo = page.getByRole('button', { name: `Undo run ${fullRunId}` });
    await undo.click();
    const confirm = page.getByTestId('undo-confirm');
    const text = await textMatching(confirm, /Undoing run \d+/);
    expect(text).toContain(`Undoing run ${fullRunId} (Full migration) deletes the ${created.toLocaleString('en-US')} records it created`);
    expect(text).toMatch(/contacts: [\d,]+ created/);
    await screenshot(page, 'controls-02-undo-confirm');
    await confirm.getByRole('button', { name: `Keep run ${fullRunId}` }).click();
    expect(await confirm.count()).toBe(0);
    expect(await jobIdShown(page, 'undo')).toBeNull();
    await undo.click();
    expect(await runJob(page, 'undo', () => page.getByTestId('undo-confirm').getByRole('button', { name: `Yes, undo run ${fullRunId}` }).click())).toBe('finished');
  });

  step('the HTML report does not scroll sideways at 1300 px', async () => {
    const { page } = h;
    const response = await page.request.get(new URL(`/api/runs/${fullRunId}/report.html`, h.server.url).toString());
    expect(response.status()).toBe(200);
    const html = await response.text();
    expect(html).toContain('x'.repeat(200));
    const reportPage = await h.context.newPage();
    try {
      await reportPage.setViewportSize({ width: 1300, height: 900 });
      await reportPage.setContent(html);
      const overflow = await horizontalOverflow(reportPage);
      expect(overflow.scrollWidth, overflow.offenders.join('\n')).toBeLessThanOrEqual(overflow.innerWidth);
    } finally {
      await reportPage.close();
    }
  });

  step('a wrong HubSpot token: the form field is blamed (401), not ferry.yaml, and no scopes are listed', async () => {
    const { page } = h;
    await goToStep(page, 'Connect', /Connect your CRMs/);
    const target = page.locator('section[data-side="target"]');
    await target.getByRole('button', { name: 'Change the target connection' }).click();
    await target.getByLabel('Kind of CRM or data').selectOption('hubspot');
    await target.getByLabel(/API base URL/).fill(hubspot.url);
    const token = target.getByLabel(/Private app access token/);
    await token.fill('pat-na1-00000000-wrong');
    await target.getByRole('button', { name: 'Test the connection' }).click();
    const fieldError = await textMatching(target.getByTestId('field-error'), /401/);
    expect(fieldError).toMatch(/The token typed in the form is wrong or has expired/);
    expect(fieldError).not.toMatch(/ferry\.yaml|scope/i);
    expect(await token.getAttribute('aria-invalid')).toBe('true');
    expect(await token.getAttribute('aria-describedby')).toContain((await target.getByTestId('field-error').getAttribute('id')) ?? '-');
    await textMatching(target.getByRole('alert'), /See “Private app access token” above/);
    await screenshot(page, 'controls-03-wrong-token');
  });
});
