/**
 * The wizard's page in Chromium with HubSpot as the target: the embedded demo data is the source, and the target is
 * connected through the Connect form to the HubSpot API emulator (in-process, seeded with an account already in use,
 * as `ferry demo --target hubspot` does). Then map, match, demo, full migration, a delta after "time passes", and
 * the reports, asserting what the page shows and what HubSpot holds. The token is typed into the password field
 * once, and must never show up in the page or in ferry.yaml (only in .ferry/secrets.env, mode 0600).
 */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { DEMO_EMULATOR_LIMITS, seedDemoHubspot } from '../../src/cli/demo-hubspot.js';
import { DEMO_SEED } from '../../src/cli/demo-story.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { goToStep, journeyStep, numberIn, openWizard, runJob, screenshot, textMatching, toNumber, waitFor, type Harness } from './browser-helpers.js';
import { describeInChromium } from './browser-gate.js';

/** Looks like a HubSpot private app token; only the emulator takes it. */
const TOKEN = 'pat-eu1-7c1d0e52-browser-test-secret-93af';
/** Contacts in the demo source: small, so the flow runs in seconds. */
const SIZE = 300;

describeInChromium('wizard page in Chromium, HubSpot (emulator) as the target', () => {
  let h: Harness;
  let hubspot: HubspotEmulator;
  let seeded: Record<string, number> = {};
  let contactsBefore = 0;
  let fullRunId = 0;
  let deltaRunId = 0;

  const liveCount = (objectType: string): number => [...hubspot.store.table(objectType).values()].filter((record) => !record.archived).length;

  beforeAll(async () => {
    // An account already in use: the legacy CRM's owners (by e-mail), some of the same companies and contacts.
    hubspot = await startHubspotEmulator({
      token: TOKEN,
      ...DEMO_EMULATOR_LIMITS,
      seed: (store) => {
        seeded = seedDemoHubspot(store, { seed: DEMO_SEED, size: SIZE });
      },
    });
    contactsBefore = liveCount('contacts');
    h = await openWizard();
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    await hubspot?.close();
  }, 120_000);

  /** Neither the page (as rendered now) nor ferry.yaml holds the token; the secrets file does, readable by its owner only. */
  const expectTokenKeptSecret = async (): Promise<void> => {
    expect(await h.page.content()).not.toContain(TOKEN);
    const yaml = await readFile(h.projectPath, 'utf8');
    expect(yaml).not.toContain(TOKEN);
    const secrets = join(h.projectPath, '..', '.ferry', 'secrets.env');
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    expect(await readFile(secrets, 'utf8')).toContain(`FERRY_TARGET_ACCESS_TOKEN=${TOKEN}`);
  };

  const step = journeyStep(() => h, 'FAILED-hubspot-');

  step('connects the demo data as the source and HubSpot as the target, through the form', async () => {
    const { page } = h;
    expect(seeded.contacts).toBeGreaterThan(0);
    await page.getByLabel('Contacts in the demo data').fill(String(SIZE));
    await page.getByRole('button', { name: 'Use the demo data' }).click();
    await textMatching(page.getByRole('status').filter({ hasText: 'demo data is ready' }), /demo data is ready/);
    expect(await numberIn(page.getByTestId('source-objects').locator('tr[data-object="contacts"] [data-count="records"]'))).toBeGreaterThanOrEqual(SIZE);

    // The target: HubSpot, through the Connect form. The token goes into a password field.
    const target = page.locator('section[data-side="target"]');
    await target.getByRole('button', { name: 'Change the target connection' }).click();
    await target.getByLabel('Kind of CRM or data').selectOption('hubspot');
    const token = target.getByLabel(/Private app access token/);
    expect(await token.getAttribute('type')).toBe('password');
    await token.fill(TOKEN);
    await target.getByLabel(/API base URL/).fill(hubspot.url);
    await target.getByLabel(/Requests per 10 seconds/).fill('1000');
    await target.getByRole('button', { name: 'Test the connection' }).click();
    await textMatching(target.getByRole('status').filter({ hasText: 'The connection works' }), /The connection works: \d+ objects found\. Nothing was saved yet\./);
    expect(await readFile(h.projectPath, 'utf8')).toMatch(/path: target\.db/); // a test saves nothing
    await target.getByRole('button', { name: 'Save and connect' }).click();
    await textMatching(target.locator('.side-status p').first(), /Connected HubSpot \(CRM API v3\) \(baseUrl: http:\/\/127\.0\.0\.1:\d+, burstLimit: 1000\)/);
    // HubSpot's objects as the connector describes them (it does not report record counts).
    const objects = target.getByTestId('target-objects');
    await textMatching(objects.locator('caption'), /What the target holds: \d+ objects, record counts not reported by this CRM/);
    for (const name of ['contacts', 'companies', 'deals', 'notes']) expect(await objects.locator(`tr[data-object="${name}"]`).count()).toBe(1);
    await expect.poll(() => target.locator('.status-pill').first().textContent()).toBe('Connected');

    const yaml = await readFile(h.projectPath, 'utf8');
    expect(yaml).toContain('connector: hubspot');
    expect(yaml).toContain(`baseUrl: ${hubspot.url}`);
    expect(yaml).toContain('accessToken: ${FERRY_TARGET_ACCESS_TOKEN}');
    expect(yaml).not.toMatch(/path: target\.db/);
    await expectTokenKeptSecret();
    await screenshot(page, 'hubspot-01-connect');
  });

  step('maps: proposes the mapping again for HubSpot, without problems', async () => {
    const { page } = h;
    await goToStep(page, 'Map', /Map objects and fields/);
    // The mapping proposed for the demo's SQLite target does not fit HubSpot: the page says so.
    await textMatching(page.getByTestId('stale-mapping'), /mapped to objects the target does not have/);
    // Proposing again keeps what is mapped (as `ferry map`), so the problems stay.
    await page.getByRole('button', { name: 'Propose the mapping again' }).click();
    await textMatching(page.getByRole('status').filter({ hasText: 'Proposed the mapping again' }), /your edits were kept/);
    await page.getByTestId('stale-mapping').waitFor();
    // A fresh proposal, for HubSpot as it is.
    await page.getByRole('button', { name: 'Start over with a fresh proposal…' }).click();
    await page.getByRole('button', { name: 'Discard the mapping and propose afresh' }).click();
    await textMatching(page.getByRole('status').filter({ hasText: 'Proposed a fresh mapping' }), /the previous one was discarded/);
    // Nothing blocks the migration (a warning may be left to check).
    await textMatching(page.getByTestId('problem-summary'), /^No (blocking )?problems/);
    expect(await page.getByTestId('stale-mapping').count()).toBe(0);
    expect(await page.locator('.object-list .badge-error').count()).toBe(0);
    const yaml = await readFile(h.projectPath, 'utf8');
    expect(yaml).not.toMatch(/target: users/);
    expect(yaml).toContain('connector: hubspot');
    // Contacts go to HubSpot's contacts, e-mail to its email property.
    await page.getByRole('button', { name: /^contacts → contacts/ }).click();
    await page.locator('section.object-mapping[data-object="contacts"]').waitFor();
    expect(await page.getByLabel('Target field for email', { exact: true }).inputValue()).toBe('email');
    // HubSpot sets createdate itself: not offered as a target.
    await textMatching(page.getByTestId('read-only-fields'), /Not offered: .*read-only/);
    await screenshot(page, 'hubspot-02-map');
    await expectTokenKeptSecret();
  });

  step('matches records HubSpot already holds', async () => {
    const { page } = h;
    await goToStep(page, 'Match', /Match existing records/);
    expect(await runJob(page, 'match', () => page.getByRole('button', { name: /^(Run|Refresh) matching$/ }).click())).toBe('finished');
    const table = page.getByTestId('match-table');
    await table.waitFor();
    expect(await numberIn(table.locator('tr[data-object="contacts"] [data-count="matched"]'))).toBeGreaterThan(0);
    expect(await numberIn(table.locator('tr[data-object="companies"] [data-count="matched"]'))).toBeGreaterThan(0);
    await screenshot(page, 'hubspot-03-match');
  });

  step('demo: a sample in HubSpot, side by side with HubSpot ids, then undone', async () => {
    const { page } = h;
    await goToStep(page, 'Demo', /Try a sample/);
    await page.getByLabel('Records per object').fill('3');
    expect(await runJob(page, 'demo', () => page.getByRole('button', { name: 'Migrate a sample' }).click())).toBe('finished');
    await page.locator('table.side-by-side').first().waitFor();
    await page.getByLabel('Object', { exact: true }).selectOption('contacts');
    const contact = page.locator('table.side-by-side').first();
    // HubSpot's record ids are numbers.
    const caption = await textMatching(contact.locator('caption'), /^contacts \S+ → contacts \d+$/);
    const hubspotId = /→ contacts (\d+)$/.exec(caption)![1]!;
    const record = hubspot.store.get('contacts', hubspotId);
    expect(record && !record.archived).toBe(true);
    const emailRow = contact.locator('tbody tr').filter({ has: page.locator('th', { hasText: /^email$/ }) });
    const [sourceValue, targetValue] = await emailRow.locator('td .value').allTextContents();
    expect(sourceValue).toMatch(/@/);
    expect(targetValue).toBe(sourceValue?.trim().toLowerCase());
    expect(record!.properties.get('email')).toBe(targetValue);
    await screenshot(page, 'hubspot-04-demo');
    const undo = page.getByRole('button', { name: /^Undo the demo \(run \d+\)$/ });
    expect(await runJob(page, 'undo', async () => {
      // Undo asks first, naming the run and what it wrote.
      await undo.click();
      const confirm = page.getByTestId('undo-confirm');
      await textMatching(confirm, /Undoing run \d+ \(Demo sample\) deletes the [\d,]+ records? it created/);
      await confirm.getByRole('button', { name: /^Yes, undo run \d+$/ }).click();
    })).toBe('finished');
    await textMatching(page.getByRole('status').filter({ hasText: 'was undone' }), /was undone/);
    expect(liveCount('contacts')).toBe(contactsBefore);
  });

  step('full migration into HubSpot: dry run, run, result', async () => {
    const { page } = h;
    await goToStep(page, 'Full migration', /Full migration/);
    expect(await runJob(page, 'full', () => page.getByRole('button', { name: 'Calculate what would happen (dry run)' }).click())).toBe('finished');
    const panel = page.locator('.job-panel[data-job-kind="full"]');
    const dry = panel.locator('table.counts');
    await textMatching(dry.locator('caption'), /What would happen, per object/);
    const toCreate = await numberIn(dry.locator('tr[data-object="contacts"] [data-count="created"]'));
    expect(toCreate).toBeGreaterThan(0);
    expect(liveCount('contacts')).toBe(contactsBefore); // a dry run writes nothing

    expect(await runJob(page, 'full', () => page.getByRole('button', { name: 'Start the full migration' }).click())).toBe('finished');
    const result = page.getByTestId('full-result');
    fullRunId = toNumber(await textMatching(result.locator('h2'), /Result of run \d+/));
    const text = (await result.locator('p').first().textContent()) ?? '';
    expect(text).toMatch(/[\d,]+ records read: [\d,]+ created, [\d,]+ updated, [\d,]+ linked to existing records, [\d,]+ failed\./);
    const counts = panel.locator('table.counts');
    await textMatching(counts.locator('caption'), /Result per object/);
    const createdContacts = await numberIn(counts.locator('tr[data-object="contacts"] [data-count="created"]'));
    expect(createdContacts).toBe(toCreate);
    // HubSpot holds exactly the contacts it had plus the ones the page says were created.
    expect(liveCount('contacts')).toBe(contactsBefore + createdContacts);
    await screenshot(page, 'hubspot-05-full');
  });

  step('delta after "time passes": creates, updates and conflicts in HubSpot', async () => {
    const { page } = h;
    await goToStep(page, 'Delta', /Delta migrations/);
    const simulate = page.getByTestId('simulate-changes');
    await simulate.getByRole('button', { name: 'Simulate people working in both CRMs' }).click();
    await textMatching(simulate.getByRole('status'), /new records? and [\d,]+ changed records? in the source/);
    // The target is HubSpot, not the demo's target.db: the conflicting edits are made through the HubSpot API.
    await textMatching(simulate.locator('.hint'), /The target is HubSpot \(CRM API v3\), not the demo's target\.db/);
    await textMatching(simulate.getByRole('status'), /in the target, [\d,]+ conflicting edits? \(a field that also changed in the source\)/);
    const conflictingEdits = await numberIn(simulate.locator('[data-count="conflicting-edits"]'));
    expect(conflictingEdits).toBeGreaterThan(0);
    expect(await numberIn(simulate.getByTestId('simulated-changes').locator('tfoot [data-count="created"]'))).toBeGreaterThan(0);
    const edited = [...hubspot.store.table('contacts').values()].filter((record) => /^Edited in the new CRM/.test(String(record.properties.get('jobtitle') ?? '')));
    expect(edited.length).toBeGreaterThan(0);

    expect(await runJob(page, 'delta', () => page.getByRole('button', { name: 'Calculate what would happen (dry run)' }).click())).toBe('finished');
    const panel = page.locator('.job-panel[data-job-kind="delta"]');
    const dry = panel.locator('table.counts');
    await textMatching(dry.locator('caption'), /What would happen, per object/);
    expect(await numberIn(dry.locator('tfoot [data-count="created"]'))).toBeGreaterThan(0);
    expect(await numberIn(dry.locator('tfoot [data-count="updated"]'))).toBeGreaterThan(0);

    await page.getByLabel(/The source wins/).check();
    const contactsBeforeDelta = liveCount('contacts');
    expect(await runJob(page, 'delta', () => page.getByRole('button', { name: 'Run the delta' }).click())).toBe('finished');
    await textMatching(panel.locator('h3'), /^Delta migration, run \d+$/);
    const result = panel.locator('table.counts');
    await textMatching(result.locator('caption'), /Result per object/);
    const createdContacts = await numberIn(result.locator('tr[data-object="contacts"] [data-count="created"]'));
    expect(createdContacts).toBeGreaterThan(0);
    expect(await numberIn(result.locator('tfoot [data-count="updated"]'))).toBeGreaterThan(0);
    expect(await numberIn(result.locator('tfoot [data-count="conflicts"]'))).toBeGreaterThanOrEqual(conflictingEdits);
    expect(liveCount('contacts')).toBe(contactsBeforeDelta + createdContacts);
    // Source wins: HubSpot's edits on those fields were overwritten with the source's values.
    for (const record of edited) expect(String(hubspot.store.get('contacts', record.id)!.properties.get('jobtitle'))).not.toMatch(/^Edited in the new CRM/);
    const row = page.getByTestId('delta-list').locator('tbody tr').first();
    deltaRunId = toNumber(await row.locator('th').textContent());
    await screenshot(page, 'hubspot-06-delta');
  });

  step('reports: the delta conflicts with HubSpot ids, and the report download', async () => {
    const { page } = h;
    expect(deltaRunId).toBeGreaterThan(fullRunId);
    await goToStep(page, 'Reports', /Reports/);
    await page.getByTestId('runs-table').waitFor();
    await page.getByRole('button', { name: `Show run ${deltaRunId}`, exact: true }).click();
    const detail = page.locator(`section.run-detail[data-run="${deltaRunId}"]`);
    await textMatching(detail.locator('h2'), new RegExp(`Run ${deltaRunId}: Delta`));
    const conflict = detail.getByTestId('conflicts-table').locator('tbody tr').filter({ hasText: 'Edited in the new CRM' }).first();
    const [object, record, field, sourceValue, targetValue, lastMigrated, settled] = await conflict.locator('td').allTextContents();
    expect(object).toBe('contacts');
    const [, hubspotId] = /^\S+ → (\d+)$/.exec(record ?? '') ?? [];
    expect(hubspotId, `a HubSpot id in "${record}"`).toBeDefined();
    expect(field).toBe('jobtitle');
    expect(targetValue).toMatch(/^Edited in the new CRM/);
    expect(sourceValue).not.toBe(targetValue);
    expect(lastMigrated).not.toBe(sourceValue);
    expect(settled).toBe('The source wins: its value was written');
    // And HubSpot holds the source's value now.
    expect(String(hubspot.store.get('contacts', hubspotId!)!.properties.get('jobtitle'))).toBe(sourceValue);
    await screenshot(page, 'hubspot-07-reports');

    // The report as JSON: the same run, its counts and conflicts.
    const [download] = await Promise.all([page.waitForEvent('download'), detail.getByRole('link', { name: 'JSON' }).click()]);
    expect(download.suggestedFilename()).toBe(`ferry-run-${deltaRunId}.json`);
    const report = await readFile((await download.path()) ?? '', 'utf8');
    expect(report).toContain(hubspotId!);
    expect(report).toContain('Edited in the new CRM');
    expect(report).not.toContain(TOKEN);
    const parsed = JSON.parse(report) as { run: { id: number; kind: string }; conflicts: { targetId: string; targetValue: unknown }[]; totals: { created: number; conflicts: number } };
    expect(parsed.run).toMatchObject({ id: deltaRunId, kind: 'delta' });
    expect(parsed.totals.created).toBeGreaterThan(0);
    expect(parsed.conflicts.some((c) => c.targetId === hubspotId && String(c.targetValue).startsWith('Edited in the new CRM'))).toBe(true);

    // Verify against HubSpot: every migrated contact checked.
    expect(await runJob(page, 'verify', () => page.getByRole('button', { name: 'Check the target against the source' }).click())).toBe('finished');
    const verified = page.getByTestId('verify-result');
    await textMatching(verified.getByRole('status'), /records? checked/);
    expect(await numberIn(verified.getByTestId('verify-table').locator('tr[data-object="contacts"] [data-count="checked"]'))).toBeGreaterThan(SIZE / 2);
    expect(await numberIn(verified.getByTestId('verify-table').locator('tr[data-object="contacts"] [data-count="missing"]'))).toBe(0);
    await screenshot(page, 'hubspot-08-verify');

    await waitFor(() => page.locator('main .busy').count(), (n) => n === 0, 'the reports to finish loading');
    await expectTokenKeptSecret();
  });
});
