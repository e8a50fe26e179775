/**
 * A CSV export through the wizard in Chromium, with no hand-edited ferry.yaml: Connect (the CSV form sets the
 * delimiter and the id column detection gets wrong, and the project's time zone) → Map (no mapping yet: the
 * page offers the proposal; an owner table from owner names to the target's users) → Match (the count of
 * records not in the target yet) → Full migration, then the records in the SQLite target.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse as parseYaml, parseDocument } from 'yaml';
import { afterAll, beforeAll, expect } from 'vitest';
import { goToStep, journeyStep, numberIn, openWizard, runJob, screenshot, textMatching, type Harness } from './browser-helpers.js';
import { describeInChromium } from './browser-gate.js';
import { writeTargetDb, writeTrickyExport } from './csv-fixtures.js';

const CONTACTS = 12;

describeInChromium('wizard page in Chromium: a CSV export, nothing edited by hand', () => {
  let h: Harness;
  let projectDir = '';

  beforeAll(async () => {
    h = await openWizard();
    projectDir = join(h.projectPath, '..');
    writeTrickyExport(join(projectDir, 'export'), CONTACTS);
    writeTargetDb(join(projectDir, 'target.db'));
  }, 180_000);

  afterAll(async () => {
    await h?.close();
  }, 120_000);

  const step = journeyStep(() => h, 'FAILED-csv-');

  step('connect: the CSV form lists the files, shows the error beside the file, and the corrected settings connect', async () => {
    const { page } = h;
    const source = page.locator('section[data-side="source"]');
    await source.getByLabel('Kind of CRM or data').selectOption('csv');
    await source.getByLabel(/^Folder/).fill('export');
    await source.getByRole('button', { name: 'Look at the files' }).click();
    await textMatching(source.getByTestId('csv-summary'), /2 files in .*export: 1 problem to fix below/);

    // companies.csv is read as detected; contacts.csv looks comma-delimited and has no id column the page can guess.
    const companies = source.locator('fieldset[data-file="companies.csv"]');
    await textMatching(companies.getByTestId('csv-detected'), /semicolon ; delimiter, utf-8, id “id”/);
    const contacts = source.locator('fieldset[data-file="contacts.csv"]');
    await textMatching(contacts.getByTestId('csv-detected'), /comma , delimiter/);
    await textMatching(contacts.getByRole('alert'), /contacts\.csv has no id column "id": choose the column that holds each record's id/);
    expect(await contacts.getByLabel('Id column of contacts.csv').inputValue()).toBe('');
    await screenshot(page, 'csv-01-files');

    // The delimiter first: the columns are read again with it, then the id column can be chosen among them.
    await contacts.getByLabel('Delimiter of contacts.csv').selectOption(';');
    const idSelect = contacts.getByLabel('Id column of contacts.csv');
    await idSelect.locator('option[value="Kundennummer"]').waitFor({ state: 'attached' });
    expect(await idSelect.locator('option').allTextContents()).toEqual(
      expect.arrayContaining(['Kundennummer', 'Name, Vorname, Titel', 'Ort, PLZ, Land, Region, Kreis', 'email', 'company_id', 'Owner', 'Geändert']),
    );
    await idSelect.selectOption('Kundennummer');
    await contacts.getByLabel('Modified column of contacts.csv').selectOption('Geändert');
    await source.getByLabel('Time zone of date-times written without one').fill('Europe/Berlin');
    await source.getByRole('button', { name: 'Read the files again' }).click();
    await textMatching(source.getByTestId('csv-summary'), /2 files in .*: every file can be read/);
    await textMatching(contacts.getByTestId('csv-detected'), /id “Kundennummer”, modified “Geändert”, references company_id → companies/);
    expect(await contacts.getByRole('alert').count()).toBe(0);
    await screenshot(page, 'csv-02-files-fixed');

    await source.getByRole('button', { name: 'Save and connect' }).click();
    await expect.poll(() => source.locator('.status-pill').first().textContent(), { timeout: 45_000 }).toBe('Connected');
    const objects = source.getByTestId('source-objects');
    for (const name of ['companies', 'contacts']) expect(await objects.locator(`tr[data-object="${name}"]`).count()).toBe(1);

    const target = page.locator('section[data-side="target"]');
    await target.getByLabel('Kind of CRM or data').selectOption('sql');
    await target.getByLabel(/^Database/).selectOption('sqlite');
    await target.getByLabel(/^SQLite file/).fill('target.db');
    await target.getByRole('button', { name: 'Save and connect' }).click();
    await expect.poll(() => target.locator('.status-pill').first().textContent(), { timeout: 45_000 }).toBe('Connected');

    // ferry.yaml as the form wrote it (nobody edited it).
    const yaml = parseYaml(await readFile(h.projectPath, 'utf8')) as {
      sourceTimeZone?: string;
      source: { connector: string; path: string; delimiter?: string; objects: Record<string, { id?: string; updatedAt?: string; delimiter?: string }> };
      objects?: unknown;
    };
    expect(yaml.sourceTimeZone).toBe('Europe/Berlin');
    expect(yaml.source).toMatchObject({ connector: 'csv', path: 'export', objects: { contacts: { id: 'Kundennummer', updatedAt: 'Geändert' } } });
    expect(yaml.source.objects.contacts?.delimiter ?? yaml.source.delimiter).toBe(';');
    await screenshot(page, 'csv-03-connected');
  });

  step('map: no mapping yet, so the page offers the proposal; an owner table maps owner names to the target users', async () => {
    const { page } = h;
    await goToStep(page, 'Map', /Map objects and fields/);
    const offer = page.getByTestId('no-mapping');
    await textMatching(offer, /No mapping yet/);
    await offer.getByRole('button', { name: 'Propose the mapping' }).click();
    await page.getByRole('button', { name: /^contacts → contacts/ }).waitFor();
    await textMatching(page.getByRole('status').filter({ hasText: 'Proposed a mapping' }), /Proposed a mapping of \d+ objects and saved it to ferry.yaml/);
    expect(await page.getByTestId('required-unmapped').count()).toBe(0);
    const proposed = parseYaml(await readFile(h.projectPath, 'utf8')) as { objects: Record<string, { target: string }> };
    expect(proposed.objects.contacts?.target).toBe('contacts');
    expect(proposed.objects.companies?.target).toBe('companies');

    // The owner table: Owner (names) → owner_id (a reference to users), added by hand in the form.
    await page.getByRole('button', { name: /^contacts → contacts/ }).click();
    await page.locator('section.object-mapping[data-object="contacts"]').waitFor();
    if ((await page.locator('tr[data-field="Owner"]').count()) === 0) {
      await page.locator('#add-source').selectOption('Owner');
      await page.locator('#add-target').selectOption('owner_id');
      await page.getByRole('button', { name: 'Add the field' }).click();
    } else {
      await page.getByLabel('Target field for Owner', { exact: true }).selectOption('owner_id');
    }
    const row = page.locator('tr[data-field="Owner"]');
    await row.getByRole('button', { name: /(Add an|Fill in the) owner table (to|of) Owner/ }).click();
    const editor = page.locator('section.value-map');
    await textMatching(editor.locator('h4'), /Owner table: Owner → owner_id/);
    await textMatching(editor, /The target has 3 records/);
    await editor.getByRole('button', { name: 'Add the 2 source values not mapped yet' }).click();
    const anna = editor.getByLabel('Target users for “Anna Schmidt”');
    const bob = editor.getByLabel('Target users for “Bob Meyer”');
    // The target users, by name and e-mail; Anna is found by her name, Bob's name is two users: left to choose.
    expect(await bob.locator('option').allTextContents()).toEqual(['(leave empty)', 'Anna Schmidt <anna.schmidt@new.example>', 'Bob Meyer <bob@new.example>', 'Bob Meyer <bob.meyer@new.example>']);
    expect(await anna.inputValue()).toBe('1');
    expect(await bob.inputValue()).toBe('');
    await bob.selectOption({ label: 'Bob Meyer <bob.meyer@new.example>' });
    expect(await bob.inputValue()).toBe('3');
    await textMatching(row, /owner table \(2 names\)/);
    await screenshot(page, 'csv-04-owner-table');
    // What the engine accepts for an owner table is the mapping check's call; the page leaves ferry.yaml as proposed.
    await page.getByRole('button', { name: 'Discard changes' }).click();
  });

  step('match: every contact is counted as not in the target yet', async () => {
    const { page } = h;
    await goToStep(page, 'Match', /Match existing records/);
    expect(await runJob(page, 'match', () => page.getByRole('button', { name: /^(Run|Refresh) matching$/ }).click())).toBe('finished');
    const table = page.getByTestId('match-table');
    await table.waitFor();
    expect(await numberIn(table.locator('tr[data-object="contacts"] [data-count="matched"]'))).toBe(0);
    expect(await numberIn(table.locator('tr[data-object="contacts"] [data-count="unlinked"]'))).toBe(CONTACTS);
    expect(await numberIn(table.locator('tr[data-object="companies"] [data-count="unlinked"]'))).toBe(3);
    await screenshot(page, 'csv-05-match');
  });

  step('full migration: every record arrives in the target, contacts with their company', async () => {
    const { page } = h;
    await goToStep(page, 'Full migration', /Full migration/);
    expect(await page.getByTestId('mapping-gate').count()).toBe(0);
    expect(await runJob(page, 'full', () => page.getByRole('button', { name: 'Start the full migration' }).click())).toBe('finished');
    await textMatching(page.getByTestId('full-result'), new RegExp(`${CONTACTS + 3} records read: ${CONTACTS + 3} created, 0 updated, 0 linked to existing records, 0 failed`));
    const db = new Database(join(projectDir, 'target.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT c.email, co.name AS company FROM contacts c LEFT JOIN companies co ON co.id = c.company_id ORDER BY c.email').all() as { email: string; company: string | null }[];
      expect(rows).toHaveLength(CONTACTS);
      const names = ['Acme GmbH', 'Beta AG', 'Gamma KG'];
      for (let i = 1; i <= CONTACTS; i++) {
        expect(rows.find((row) => row.email === `anna${i}@example.org`)?.company, `contact ${i}`).toBe(names[i % 3]);
      }
      expect((db.prepare('SELECT COUNT(*) AS n FROM companies').get() as { n: number }).n).toBe(3);
    } finally {
      db.close();
    }
    await screenshot(page, 'csv-06-migrated');
  });

  // After the journey (which needed no edit of ferry.yaml): an owner table as the proposal writes one for an
  // export that names owners (the presets' owner map), with a name it could not match left null.
  step('an owner table with a name left to fill in is listed at the top of Map and opens its table', async () => {
    const { page } = h;
    const document = parseDocument(await readFile(h.projectPath, 'utf8'));
    document.setIn(['objects', 'contacts', 'fields', 'Owner'], document.createNode({ target: 'owner_id', map: { 'Anna Schmidt': 1, 'Bob Meyer': null }, unmapped: 'default', default: null }));
    await writeFile(h.projectPath, document.toString());
    await goToStep(page, 'Match', /Match existing records/);
    await goToStep(page, 'Map', /Map objects and fields/);
    const open = page.getByTestId('open-owner-tables');
    await textMatching(open, /contacts\.Owner → owner_id: Bob Meyer/);
    expect(await open.textContent()).not.toContain('Anna Schmidt');
    await open.getByRole('button', { name: 'Fill in the owner table of contacts.Owner' }).click();
    const editor = page.locator('section.value-map');
    await textMatching(editor.locator('h4'), /Owner table: Owner → owner_id/);
    await textMatching(editor, /The target has 3 records/);
    expect(await editor.getByLabel('Target users for “Anna Schmidt”').inputValue()).toBe('1');
    const bob = editor.getByLabel('Target users for “Bob Meyer”');
    expect(await bob.inputValue()).toBe('');
    await bob.selectOption({ label: 'Bob Meyer <bob@new.example>' });
    await textMatching(page.locator('tr[data-field="Owner"]'), /owner table \(2 names\)/);
    expect(await page.locator('tr[data-field="Owner"] [data-testid="owners-unfilled"]').count()).toBe(0);
    await screenshot(page, 'csv-07-open-owner-table');
  });
});
