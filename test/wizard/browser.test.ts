/**
 * The wizard's page in a real browser (Debian's Chromium through playwright-core) against the real server,
 * in-process, on the embedded demo data: every step, asserting what the page shows. Screenshots of each step
 * go to test-results/wizard/ for review.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  focused,
  goToStep,
  horizontalOverflow,
  journeyStep,
  numberIn,
  openWizard,
  runJob,
  screenshot,
  tabTo,
  textMatching,
  toNumber,
  waitFor,
  type Harness,
} from './browser-helpers.js';
import { describeInChromium } from './browser-gate.js';


/** What the in-page pause clicker uses (the project's type-check has no DOM library). */
interface PageButton {
  textContent: string | null;
  click(): void;
}
interface PageWithButtons {
  document: { querySelectorAll(selector: 'button'): Iterable<PageButton>; body: unknown };
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: { childList: boolean; subtree: boolean }): void; disconnect(): void };
}

describeInChromium('wizard page in Chromium', () => {
  let h: Harness;
  /** The full migration's run id, from the page. */
  let fullRunId = 0;
  /** The delta's run id, from the page. */
  let deltaRunId = 0;

  beforeAll(async () => {
    h = await openWizard();
  }, 180_000);

  afterAll(async () => {
    await h?.close();
  }, 120_000);

  const step = journeyStep(() => h, 'FAILED-');

  step('connects both sides to the demo data and shows what each holds', async () => {
    const { page } = h;
    expect(new URL(page.url()).search).toBe('');
    await page.getByLabel('Contacts in the demo data').fill('3000');
    await page.getByRole('button', { name: 'Use the demo data' }).click();
    await textMatching(page.getByRole('status').filter({ hasText: 'demo data is ready' }), /demo data is ready/);
    for (const side of ['source', 'target'] as const) {
      const table = page.getByTestId(`${side}-objects`);
      const caption = await textMatching(table.locator('caption'), /\d+ objects, [\d,]+ records/);
      // The legacy CRM has an activities table (calls, meetings, e-mails) the new CRM's SQLite does not.
      expect(caption).toMatch(side === 'source' ? /7 objects/ : /6 objects/);
      expect(await numberIn(table.locator('tr[data-object="contacts"] [data-count="records"]'))).toBeGreaterThan(0);
      await expect.poll(() => page.locator(`section[data-side="${side}"] .status-pill`).first().textContent()).toBe('Connected');
    }
    expect(await numberIn(page.getByTestId('source-objects').locator('tr[data-object="contacts"] [data-count="records"]'))).toBeGreaterThanOrEqual(3000);
    await screenshot(page, '01-connect');
  });

  step('maps: a wrong target field is flagged, an edited field and a value map are saved to ferry.yaml', async () => {
    const { page } = h;
    await goToStep(page, 'Map', /Map objects and fields/);
    await textMatching(page.getByRole('status').filter({ hasText: 'No problems found' }), /No problems found in the mapping/);

    // deals: send the deal's name to another field; the required target field dealname is then unmapped.
    await page.getByRole('button', { name: /^deals → deals/ }).click();
    await page.locator('section.object-mapping[data-object="deals"]').waitFor();
    await textMatching(page.locator('tr[data-field="name"] .samples'), /\S/, 'sample values of deals.name');
    await page.getByLabel('Target field for name', { exact: true }).selectOption('currency');
    await textMatching(page.locator('.notice-error').filter({ hasText: 'Required in the target' }), /dealname/);
    const before = await readFile(h.projectPath, 'utf8');
    await page.getByRole('button', { name: 'Save the mapping of deals' }).click();
    // The server refuses it (a required target field left unmapped): the page names the field, nothing is saved.
    await textMatching(page.getByRole('alert').filter({ hasText: 'Not saved' }), /Not saved: the mapping of deals has \d+ problems?/);
    await textMatching(page.locator('section.object-mapping .problems'), /dealname/, 'the problem naming dealname');
    expect(await readFile(h.projectPath, 'utf8')).toBe(before);
    await screenshot(page, '02-map-problem');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    expect(await page.getByLabel('Target field for name', { exact: true }).inputValue()).toBe('dealname');

    // contacts: keep the original creation date (a field that was not mapped) and translate lifecycle stages.
    await page.getByRole('button', { name: /^contacts → contacts/ }).click();
    await page.locator('section.object-mapping[data-object="contacts"]').waitFor();
    // A read-only target field (the target sets contacts.created_at itself) is not offered anywhere, and the page
    // says why; the source's created_at can still be chosen, for another target field.
    expect(await page.locator('#add-source option[value="created_at"]').count()).toBe(1);
    await page.locator('#add-target').waitFor();
    expect(await page.locator('#add-target option').allTextContents()).not.toContainEqual(expect.stringMatching(/^created_at\b/));
    expect(await page.locator('#add-target option[value="created_at"]').count()).toBe(0);
    expect(await page.getByLabel('Target field for email', { exact: true }).locator('option[value="created_at"]').count()).toBe(0);
    await textMatching(page.getByTestId('read-only-fields'), /Not offered: .*created_at.*read-only/);
    // Birthdays are not wanted in the new CRM.
    await page.getByRole('button', { name: 'Don’t migrate birthday' }).click();
    expect(await page.locator('tr[data-field="birthday"]').count()).toBe(0);

    await page.getByRole('button', { name: 'Add a value map to lifecycle_stage' }).click();
    const editor = page.locator('section.value-map');
    await editor.getByRole('button', { name: /Add the \d+ source values? not mapped yet/ }).click();
    await editor.locator('tr[data-value="marketingqualifiedlead"]').waitFor();
    const rows = await editor.locator('tbody tr').count();
    expect(rows).toBeGreaterThanOrEqual(3);
    await editor.getByLabel('Target value for “marketingqualifiedlead”').fill('lead');
    await editor.getByLabel('Target value for “salesqualifiedlead”').fill('sales-qualified');
    await screenshot(page, '03-map-value-map');
    await page.getByRole('button', { name: 'Save the mapping of contacts' }).click();
    await textMatching(page.getByRole('status').filter({ hasText: 'Saved the mapping of contacts' }), /Saved the mapping of contacts to ferry.yaml/);
    await textMatching(page.locator('tr[data-field="lifecycle_stage"]'), /value map \(\d+ values\)/);

    const yaml = await readFile(h.projectPath, 'utf8');
    const contacts = yaml.slice(yaml.indexOf('\n  contacts:'), yaml.indexOf('\n  deals:'));
    expect(contacts).not.toMatch(/birthday|created_at/);
    expect(contacts).toMatch(/job_title: jobtitle/);
    expect(contacts).toMatch(/marketingqualifiedlead: lead/);
    expect(contacts).toMatch(/salesqualifiedlead: sales-qualified/);
    expect(yaml).toMatch(/name: dealname/);
  });

  step('matches: counts of matched, ambiguous and duplicate records per object, with the lists', async () => {
    const { page } = h;
    await goToStep(page, 'Match', /Match existing records/);
    const status = await runJob(page, 'match', () => page.getByRole('button', { name: /^(Run|Refresh) matching$/ }).click());
    expect(status).toBe('finished');
    const table = page.getByTestId('match-table');
    await table.waitFor();
    expect(await numberIn(table.locator('tr[data-object="contacts"] [data-count="matched"]'))).toBeGreaterThan(0);
    expect(await numberIn(table.locator('tr[data-object="companies"] [data-count="matched"]'))).toBeGreaterThan(0);
    const summary = await textMatching(page.getByTestId('match-summary'), /already exist in the target/);
    const [matched, ambiguous, duplicates] = [...summary.matchAll(/([\d,]+) (?:records?|duplicates?)/g)].map((m) => toNumber(m[1] ?? ''));
    expect(matched).toBeGreaterThan(0);
    // The lists hold one row per ambiguous record and per duplicate.
    const ambiguousList = page.getByTestId('ambiguous-list');
    await ambiguousList.locator('summary').click();
    expect(await ambiguousList.locator('tbody tr').count()).toBe(ambiguous);
    const duplicateList = page.getByTestId('duplicate-list');
    await duplicateList.locator('summary').click();
    expect(await duplicateList.locator('tbody tr').count()).toBe(duplicates);
    expect((ambiguous ?? 0) + (duplicates ?? 0)).toBeGreaterThan(0);
    await screenshot(page, '04-match');
  });

  step('demo: migrates a sample, shows source and target side by side, and undoes it', async () => {
    const { page } = h;
    await goToStep(page, 'Demo', /Try a sample/);
    await page.getByLabel('Records per object').fill('3');
    expect(await runJob(page, 'demo', () => page.getByRole('button', { name: 'Migrate a sample' }).click())).toBe('finished');
    const tables = page.locator('table.side-by-side');
    await tables.first().waitFor();
    await page.getByLabel('Object', { exact: true }).selectOption('contacts');
    const contact = page.locator('table.side-by-side').first();
    await textMatching(contact.locator('caption'), /^contacts \S+ → contacts \S+$/);
    const emailRow = contact.locator('tbody tr').filter({ has: page.locator('th', { hasText: /^email$/ }) });
    const cells = await emailRow.locator('td').allTextContents();
    expect(cells[1]).toBe('email'); // target field
    const [sourceValue, targetValue] = await emailRow.locator('td .value').allTextContents();
    expect(sourceValue).toMatch(/@/);
    expect(targetValue?.toLowerCase()).toBe(sourceValue?.trim().toLowerCase());
    await screenshot(page, '05-demo-side-by-side');
    const undo = page.getByRole('button', { name: /^Undo the demo \(run \d+\)$/ });
    const demoRun = toNumber(await undo.textContent());
    expect(await runJob(page, 'undo', async () => {
      // Undo asks first, naming the run and what it wrote.
      await undo.click();
      const confirm = page.getByTestId('undo-confirm');
      await textMatching(confirm, /Undoing run \d+ \(Demo sample\) deletes the [\d,]+ records? it created/);
      await confirm.getByRole('button', { name: /^Yes, undo run \d+$/ }).click();
    })).toBe('finished');
    await textMatching(page.getByRole('status').filter({ hasText: 'was undone' }), new RegExp(`demo sample of run ${demoRun} was undone`));
    expect(await page.locator('table.side-by-side').count()).toBe(0);
  });

  step('full migration: dry-run numbers first, then live progress with pause and resume, then the result', async () => {
    const { page } = h;
    await goToStep(page, 'Full migration', /Full migration/);
    expect(await runJob(page, 'full', () => page.getByRole('button', { name: 'Calculate what would happen (dry run)' }).click())).toBe('finished');
    const panel = page.locator('.job-panel[data-job-kind="full"]');
    await textMatching(panel.locator('h3'), /Full migration \(dry run: nothing is written\)/);
    const dry = panel.locator('table.counts');
    await textMatching(dry.locator('caption'), /What would happen, per object/);
    expect(await numberIn(dry.locator('tfoot [data-count="created"]'))).toBeGreaterThan(1000);
    expect(await numberIn(page.getByTestId('estimate-calls'))).toBeGreaterThan(0);
    await textMatching(page.getByTestId('estimate-time'), /\d|less than a second/);
    await screenshot(page, '06-full-dry-run');

    // The real run. The page clicks Pause the moment the button appears (a person could not be that quick;
    // the demo data is migrated in seconds), so the run is paused after the first page of records it writes.
    await page.evaluate(() => {
      const g = globalThis as unknown as PageWithButtons;
      const observer = new g.MutationObserver(() => {
        const pause = [...g.document.querySelectorAll('button')].find((button) => button.textContent === 'Pause');
        if (pause) {
          observer.disconnect();
          pause.click();
        }
      });
      observer.observe(g.document.body, { childList: true, subtree: true });
    });
    const afterPause = await runJob(
      page,
      'full',
      () => page.getByRole('button', { name: 'Start the full migration' }).click(),
      (s) => s === 'paused' || s === 'finished' || s === 'failed',
    );
    expect(afterPause, 'the full migration should be paused (it ended before the pause)').toBe('paused');
    await textMatching(panel.locator('.job-status'), /Paused/);
    const progress = panel.locator('table.progress-table');
    await progress.waitFor();
    // Paused part-way: objects still to do (their "time left" is not "done").
    const timeLeft = await progress.locator('tbody tr td:nth-child(5)').allTextContents();
    expect(timeLeft.length).toBe(6);
    expect(timeLeft.filter((cell) => cell !== 'done').length).toBeGreaterThan(0);
    await textMatching(panel.locator('[aria-live="polite"]'), /Full migration paused after [\d,]+ records/);
    await screenshot(page, '07-full-paused');
    // Closing the page does not stop anything: opening it again shows the run where it is.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: /Full migration/ }).waitFor();
    await textMatching(panel.locator('.job-status'), /Paused/);
    await page.getByRole('button', { name: 'Resume' }).click();
    expect(await waitFor(async () => (await panel.getAttribute('data-job-status')) ?? '', (s) => s === 'finished' || s === 'failed', 'the full migration to end')).toBe('finished');
    const result = page.getByTestId('full-result');
    const heading = await textMatching(result.locator('h2'), /Result of run \d+/);
    fullRunId = toNumber(heading);
    const text = await result.locator('p').first().textContent();
    expect(text).toMatch(/[\d,]+ records read: [\d,]+ created, [\d,]+ updated, [\d,]+ linked to existing records, [\d,]+ failed\./);
    const created = toNumber(/([\d,]+) created/.exec(text ?? '')?.[1] ?? '');
    const failed = toNumber(/([\d,]+) failed/.exec(text ?? '')?.[1] ?? '');
    expect(created).toBeGreaterThan(1000);
    expect(failed).toBeGreaterThan(0); // the demo data has bad records (invalid e-mails, ambiguous matches)
    await screenshot(page, '08-full-result');
  });

  step('delta: "time passes" on the demo data, dry-run numbers, then the run with creates, updates and conflicts, listed', async () => {
    const { page } = h;
    await goToStep(page, 'Delta', /Delta migrations/);
    const createNew = page.getByLabel(/Create new records/);
    const updateChanged = page.getByLabel(/Update changed records/);
    expect(await createNew.isChecked()).toBe(true);
    expect(await updateChanged.isChecked()).toBe(true);
    // Turning both off is refused on the page, and the policy only applies to updates.
    await createNew.uncheck();
    await updateChanged.uncheck();
    await textMatching(page.getByRole('alert').filter({ hasText: 'Choose at least one' }), /Choose at least one/);
    expect(await page.getByRole('button', { name: 'Run the delta' }).isDisabled()).toBe(true);
    expect(await page.getByLabel(/The source wins/).isDisabled()).toBe(true);
    await createNew.check();
    await updateChanged.check();

    // Nothing changed since the full migration: the dry run has nothing to create.
    expect(await runJob(page, 'delta', () => page.getByRole('button', { name: 'Calculate what would happen (dry run)' }).click())).toBe('finished');
    const panel = page.locator('.job-panel[data-job-kind="delta"]');
    await textMatching(panel.locator('h3'), /Delta migration \(dry run: nothing is written\)/);
    await panel.locator('table.counts').waitFor();
    expect(await panel.locator('table.counts tfoot [data-count="created"]').count()).toBe(0); // no "to be created" column

    // "Time passes": only offered on the demo data, and says so.
    const simulate = page.getByTestId('simulate-changes');
    await textMatching(simulate.locator('h2'), /demo data only/);
    await textMatching(simulate, /only exists for the demo data/);
    await simulate.getByRole('button', { name: 'Simulate people working in both CRMs' }).click();
    const summary = await textMatching(simulate.getByRole('status'), /new records? and [\d,]+ changed records? in the source/);
    const changes = simulate.getByTestId('simulated-changes');
    expect(await numberIn(changes.locator('tfoot [data-count="created"]'))).toBeGreaterThan(0);
    expect(await numberIn(changes.locator('tfoot [data-count="changed"]'))).toBeGreaterThan(0);
    expect(await numberIn(changes.locator('tr[data-object="contacts"] [data-count="created"]'))).toBeGreaterThan(0);
    expect(await numberIn(simulate.locator('[data-count="target-edits"]'))).toBeGreaterThan(0);
    const conflictingEdits = await numberIn(simulate.locator('[data-count="conflicting-edits"]'));
    expect(conflictingEdits).toBeGreaterThan(0);
    expect(summary).toMatch(/conflicting edits?/);
    // The dry run shown was calculated before: the page says so.
    await page.getByTestId('dry-run-outdated').waitFor();
    await screenshot(page, '09-delta-simulated');

    // Now the dry run has records to create and to update.
    await page.getByLabel(/The source wins/).check();
    expect(await runJob(page, 'delta', () => page.getByRole('button', { name: 'Calculate what would happen (dry run)' }).click())).toBe('finished');
    await textMatching(panel.locator('h3'), /Delta migration \(dry run: nothing is written\)/);
    const dry = panel.locator('table.counts');
    await textMatching(dry.locator('thead'), /To be created/);
    expect(await numberIn(dry.locator('tfoot [data-count="created"]'))).toBeGreaterThan(0);
    expect(await numberIn(dry.locator('tfoot [data-count="updated"]'))).toBeGreaterThan(0);
    await screenshot(page, '10-delta-dry-run');

    // The run: source wins, so the conflicting edits are settled and counted.
    expect(await runJob(page, 'delta', () => page.getByRole('button', { name: 'Run the delta' }).click())).toBe('finished');
    await textMatching(panel.locator('h3'), /^Delta migration, run \d+$/);
    const result = panel.locator('table.counts');
    await textMatching(result.locator('thead'), /Created/);
    expect(await numberIn(result.locator('tfoot [data-count="created"]'))).toBeGreaterThan(0);
    expect(await numberIn(result.locator('tfoot [data-count="updated"]'))).toBeGreaterThan(0);
    expect(await numberIn(result.locator('tfoot [data-count="conflicts"]'))).toBeGreaterThanOrEqual(conflictingEdits);
    const list = page.getByTestId('delta-list');
    await waitFor(() => list.locator('tbody tr').count(), (n) => n === 1, 'one delta listed');
    const row = list.locator('tbody tr').first();
    await textMatching(row, /create new \+ update changed, source-wins/);
    deltaRunId = toNumber(await row.locator('th').textContent());
    const cells = await row.locator('td.num').allTextContents();
    expect(toNumber(cells[0] ?? '')).toBeGreaterThan(0); // created
    expect(toNumber(cells[1] ?? '')).toBeGreaterThan(0); // updated
    expect(toNumber(cells[2] ?? '')).toBeGreaterThanOrEqual(conflictingEdits); // conflicts
    await screenshot(page, '10-delta');
  });

  step('reports: failures with reasons, retry, charts, and downloads with the run in them', async () => {
    const { page } = h;
    expect(fullRunId).toBeGreaterThan(0);
    await goToStep(page, 'Reports', /Reports/);
    const runs = page.getByTestId('runs-table');
    await runs.waitFor();
    await page.getByRole('button', { name: `Show run ${fullRunId}`, exact: true }).click();
    const detail = page.locator(`section.run-detail[data-run="${fullRunId}"]`);
    await textMatching(detail.locator('h2'), new RegExp(`Run ${fullRunId}: Full migration`));
    const failures = detail.getByTestId('failures-table');
    await failures.waitFor();
    const failureCount = await failures.locator('tbody tr').count();
    expect(failureCount).toBeGreaterThan(0);
    const firstFailure = await failures.locator('tbody tr').first().locator('td').allTextContents();
    expect(firstFailure[0]).toMatch(/^\w+$/); // object
    expect(firstFailure[1]).not.toBe(''); // record id
    expect(firstFailure[4]).toMatch(/^[A-Z_]+ \S/); // code and message
    // Charts are images with a text equivalent.
    const chart = page.getByRole('img', { name: /Records written per object, per run/ });
    await chart.waitFor();
    expect(await page.getByRole('img', { name: new RegExp(`Failed records of run ${fullRunId}, by reason`) }).count()).toBe(1);
    await page.getByText('The numbers of “Records written per object, per run” as a table').click();
    await textMatching(page.locator('.chart-table table').first(), new RegExp(`Run ${fullRunId} · Full migration`));
    await screenshot(page, '11-reports');

    // Retry: the same records fail again (their data is still bad), and a retry run appears.
    // The button counts records that failed (one row each in the failures table), apart from warnings.
    const retry = detail.getByRole('button', {
      name: new RegExp(`^Retry the ${failureCount.toLocaleString('en-US')} failed records?( \\(and the [\\d,]+ records? written with a warning\\))? of run ${fullRunId}$`),
    });
    expect(await runJob(page, 'retry', () => retry.click())).toBe('finished');
    const retryPanel = page.locator('.job-panel[data-job-kind="retry"]');
    await textMatching(retryPanel.locator('h3'), /Retry of failed records, run \d+/);
    await waitFor(() => runs.locator('tbody tr').filter({ hasText: 'Retry of failed records' }).count(), (n) => n === 1, 'the retry run in the list');
    await screenshot(page, '12-reports-retry');

    // Downloads: the CSV has one row per failure of the run; the HTML page names the run.
    await page.getByRole('button', { name: `Show run ${fullRunId}`, exact: true }).click();
    await detail.waitFor();
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), detail.getByRole('link', { name: 'CSV (spreadsheet)' }).click()]);
    expect(csvDownload.suggestedFilename()).toBe(`ferry-run-${fullRunId}.csv`);
    const csv = await readFile((await csvDownload.path()) ?? '', 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toBe('kind,run,object,sourceId,targetId,field,code,value,sourceValue,targetValue,writtenValue,resolution,message');
    const failureLines = lines.filter((line) => line.startsWith(`failure,${fullRunId},`));
    expect(failureLines.length).toBe(failureCount);
    expect(csv).toContain(`,${firstFailure[1]},`);
    const [htmlDownload] = await Promise.all([page.waitForEvent('download'), detail.getByRole('link', { name: 'HTML (web page)' }).click()]);
    const html = await readFile((await htmlDownload.path()) ?? '', 'utf8');
    expect(html).toMatch(/<html/i);
    expect(html).toContain(String(fullRunId));

    // The delta's conflicts: both values, the target's being the edit made "in the new CRM", settled by the policy.
    expect(deltaRunId).toBeGreaterThan(0);
    await page.getByRole('button', { name: `Show run ${deltaRunId}`, exact: true }).click();
    const deltaDetail = page.locator(`section.run-detail[data-run="${deltaRunId}"]`);
    await textMatching(deltaDetail.locator('h2'), new RegExp(`Run ${deltaRunId}: Delta`));
    const conflicts = deltaDetail.getByTestId('conflicts-table');
    await conflicts.waitFor();
    expect(await conflicts.locator('tbody tr').count()).toBeGreaterThan(0);
    const edited = conflicts.locator('tbody tr').filter({ hasText: 'Edited in the new CRM' }).first();
    const [object, record, field, sourceValue, targetValue, lastMigrated, settled] = await edited.locator('td').allTextContents();
    expect(object).toMatch(/^\w+$/);
    expect(record).toMatch(/^\S+ → \S+$/);
    expect(field).not.toBe('');
    expect(targetValue).toMatch(/^Edited in the new CRM/);
    expect(sourceValue).not.toBe(targetValue);
    expect(lastMigrated).not.toBe(sourceValue); // the source changed since the full migration wrote it
    expect(lastMigrated).not.toBe(targetValue); // and so did the target
    expect(settled).toBe('The source wins: its value was written');
    await screenshot(page, '12-reports-delta-conflicts');

    // Verify: the target checked against the source, per object, with the first issues (the demo's target edits that
    // no delta brought back, the records that failed).
    const verify = page.getByRole('button', { name: 'Check the target against the source' });
    expect(await runJob(page, 'verify', () => verify.click())).toBe('finished');
    const verified = page.getByTestId('verify-result');
    const verdict = await textMatching(verified.getByRole('status'), /records? checked/);
    const table = verified.getByTestId('verify-table');
    expect(await numberIn(table.locator('tr[data-object="contacts"] [data-count="checked"]'))).toBeGreaterThan(1000);
    expect(await numberIn(table.locator('tr[data-object="companies"] [data-count="checked"]'))).toBeGreaterThan(0);
    const issues = verified.getByTestId('verify-issues').locator('tbody tr');
    const issueCount = await issues.count();
    expect(issueCount).toBeGreaterThan(0);
    expect(issueCount).toBeLessThanOrEqual(20);
    await textMatching(verified.locator('h3'), /^(The first 20 of [\d,]+ findings|[\d,]+ findings?)( \(problems first\))?$/);
    // The records that failed are not migrated (a problem); the demo's target edits are listed, but are none.
    expect(verdict).toMatch(/[\d,]+ records checked: [\d,]+ problems? \(.*[\d,]+ not migrated\); and [\d,]+ fields? edited in the target since Ferry wrote/);
    expect(await numberIn(table.locator('tr[data-object="contacts"] [data-count="notMigrated"]'))).toBeGreaterThan(0);
    const [issueObject, issueRecord, issueText] = await issues.first().locator('td').allTextContents();
    expect(issueObject).toMatch(/^\w+$/);
    expect(issueRecord).not.toBe('');
    expect(issueText).toMatch(/^(Missing in the target|Not migrated|Value differs|Reference points nowhere)/);
    expect(issueText).not.toMatch(/edited in the target/); // problems come first
    await screenshot(page, '12-reports-verify');
  });

  step('keyboard only: skip link, step list, and running matching again', async () => {
    const { page } = h;
    await page.goto(`${h.server.origin}/#/connect`);
    await page.reload(); // a fresh load: nothing has the focus yet
    await page.getByRole('heading', { level: 1, name: /Connect your CRMs/ }).waitFor();
    await page.keyboard.press('Tab');
    const skip = await focused(page);
    expect(skip.text).toBe('Skip to the step');
    expect(skip.outline).not.toBe('none');
    await page.keyboard.press('Enter');
    expect((await focused(page)).tag).toBe('H1');

    // Back up to the step list, Tab to "Match" and open it with Enter: the focus lands on the step's heading.
    await tabTo(page, (f) => f.nav === 'Steps' && /Match/.test(f.text), 'the Match step link', 30, 'Shift+Tab');
    expect((await focused(page)).outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await waitFor(() => focused(page), (f) => f.tag === 'H1' && /Match existing records/.test(f.text), 'focus on the Match heading');
    await screenshot(page, '13-keyboard-match');

    // Tab to the button and start matching with the keyboard.
    await tabTo(page, (f) => f.tag === 'BUTTON' && f.text === 'Refresh matching', 'the Refresh matching button');
    expect((await focused(page)).outline).not.toBe('none');
    expect(await runJob(page, 'match', () => page.keyboard.press('Enter'))).toBe('finished');
    await page.getByTestId('match-table').waitFor();
  });

  step('narrow window (390 px): no horizontal scrolling on any step', async () => {
    const { page } = h;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const steps: [string, RegExp][] = [
        ['connect', /Connect your CRMs/],
        ['map', /Map objects and fields/],
        ['match', /Match existing records/],
        ['demo', /Try a sample/],
        ['migrate', /Full migration/],
        ['delta', /Delta migrations/],
        ['reports', /Reports/],
      ];
      for (const [id, heading] of steps) {
        await page.goto(`${h.server.origin}/#/${id}`);
        await page.reload();
        await page.getByRole('heading', { level: 1, name: heading }).waitFor();
        // Wait for the step's content, not only its heading.
        await waitFor(() => page.locator('main .busy').count(), (n) => n === 0, `${id} to finish loading`);
        const { scrollWidth, innerWidth, offenders } = await horizontalOverflow(page);
        await screenshot(page, `20-narrow-${id}`);
        expect(scrollWidth, `${id}: page ${scrollWidth}px wide in a ${innerWidth}px window; ${offenders.join(' | ')}`).toBeLessThanOrEqual(innerWidth);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });
});
