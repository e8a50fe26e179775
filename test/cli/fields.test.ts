import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { optionsText, type ObjectFieldsView } from '../../src/cli/commands/fields.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { ferry } from './run-cli.js';

const FAST = { burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 };

let dir: string;
let hubspot: HubspotEmulator | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-fields-'));
});
afterEach(async () => {
  await hubspot?.close();
  hubspot = undefined;
  rmSync(dir, { recursive: true, force: true });
});

type FieldsJson = { command: string; side: string; connector: string; sample?: number; objects: ObjectFieldsView[] };

describe('ferry fields', () => {
  it('lists the SQL source with types, flags, references, counts and filled values in a sample', async () => {
    expect((await ferry(dir, ['sample-data', '--size', '20', '--seed', '4', '--output', 'source.db', '--target-output', 'target.db', '--json'])).code).toBe(0);
    expect((await ferry(dir, ['init'])).code).toBe(0);

    const all = await ferry(dir, ['fields', 'source', '--json']);
    expect(all.code).toBe(0);
    const json = all.json<FieldsJson>();
    expect(json).toMatchObject({ command: 'fields', side: 'source', connector: 'sql', sample: 100 });
    expect(json.objects.map((object) => object.name)).toEqual(expect.arrayContaining(['companies', 'contacts', 'deals', 'owners']));
    const deals = json.objects.find((object) => object.name === 'deals')!;
    expect(deals.count).toBeGreaterThan(0);
    expect(deals.sampled).toBe(deals.count);
    expect(deals.fields.find((field) => field.name === 'company_id')).toMatchObject({ type: 'reference', reference: 'companies' });
    expect(deals.fields.find((field) => field.name === 'updated_at')).toMatchObject({ type: 'datetime', readOnly: true, role: 'modified' });
    expect(deals.fields.find((field) => field.name === 'id')).toMatchObject({ filled: deals.count, unique: true });

    const target = await ferry(dir, ['fields', 'target', 'deals']);
    expect(target.code).toBe(0);
    expect(target.stdout).toMatch(/^Target \(sql\): 1 object\n\ndeals \(Deals\): 11 fields; \d+ records?; filled = non-empty values in the first \d+ records? read\n/);
    expect(target.stdout).toMatch(/^dealname +string +required +\d+\/\d+$/m);
    expect(target.stdout).toMatch(/^dealstage +enum +required +appointmentscheduled, qualifiedtobuy, .*\(\d+ options\) +\d+\/\d+$/m);
    expect(target.stdout).toMatch(/^company_id +reference +companies/m);

    const unsampled = await ferry(dir, ['fields', 'target', 'deals', '--sample', '0', '--json']);
    expect(unsampled.json<FieldsJson>().objects[0]!.fields.every((field) => field.filled === undefined)).toBe(true);
  });

  it('says of a join table asked for as an object that its records are links made of its two references', async () => {
    expect((await ferry(dir, ['sample-data', '--size', '20', '--seed', '4', '--output', 'source.db', '--target-output', 'target.db', '--json'])).code).toBe(0);
    writeFileSync(join(dir, 'ferry.yaml'), 'version: 1\nsource: { connector: sql, dialect: sqlite, path: source.db, joinTables: { deal_contacts: { object: true } } }\ntarget: { connector: sql, dialect: sqlite, path: target.db }\n');
    const text = await ferry(dir, ['fields', 'source', 'deal_contacts', '--sample', '0']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('  link records: each links the records its deal_id and contact_id name (its id is made of the two)\n');
    expect(text.stdout).toMatch(/^deal_id +reference +required +deals$/m);
    const json = (await ferry(dir, ['fields', 'source', 'deal_contacts', '--json'])).json<FieldsJson>();
    expect(json.objects[0]).toMatchObject({ name: 'deal_contacts', junction: ['deal_id', 'contact_id'] });
  });

  it('lists HubSpot: required fields, one-of groups, read-only properties, options with labels', async () => {
    hubspot = await startHubspotEmulator(FAST);
    writeFileSync(
      join(dir, 'ferry.yaml'),
      `version: 1\nsource: { connector: sql, dialect: sqlite, path: nowhere.db }\ntarget:\n  connector: hubspot\n  accessToken: \${HUBSPOT_TOKEN}\n  baseUrl: ${hubspot.url}\n`,
    );
    const env = { HUBSPOT_TOKEN: hubspot.token };
    const contacts = await ferry(dir, ['fields', 'target', 'contacts'], env);
    expect(contacts.code, contacts.stderr).toBe(0);
    expect(contacts.stdout).toContain('a new record needs at least one of: email, firstname, lastname');
    expect(contacts.stdout).toMatch(/^email +email +one of email\/firstname\/lastname +0\/0$/m);
    // Contacts' deltas filter on lastmodifieddate (a search on hs_lastmodifieddate misses contacts live).
    expect(contacts.stdout).toMatch(/^lastmodifieddate +datetime +read-only, modified/m);
    expect(contacts.stdout).toMatch(/^hs_lastmodifieddate +Object last modified date\/time +datetime +read-only +/m);
    expect(contacts.stdout).not.toMatch(/^hs_lastmodifieddate .*read-only, modified/m);

    const deals = (await ferry(dir, ['fields', 'target', 'deals', '--json'], env)).json<FieldsJson>().objects[0]!;
    expect(deals.fields.find((field) => field.name === 'dealname')).toMatchObject({ required: true, type: 'string' });
    const stage = deals.fields.find((field) => field.name === 'dealstage')!;
    expect(stage).toMatchObject({ required: true, type: 'enum' });
    expect(stage.options!.length).toBeGreaterThan(3);
    expect(stage.options!.every((option) => typeof option.value === 'string')).toBe(true);
    expect(stage.options!.some((option) => option.label !== undefined)).toBe(true);
    expect(deals.sampled).toBe(0);

    const notes = (await ferry(dir, ['fields', 'target', 'notes', '--json'], env)).json<FieldsJson>().objects[0]!;
    expect(notes.fields.find((field) => field.name === 'hs_timestamp')).toMatchObject({ required: true });
    expect(notes.fields.find((field) => field.name === 'associated_contacts')).toMatchObject({ type: 'reference-list', reference: 'contacts' });
  });

  it('says what is wrong: an unknown object (with a suggestion), an unknown side', async () => {
    expect((await ferry(dir, ['sample-data', '--size', '10', '--seed', '1', '--output', 'source.db', '--target-output', 'target.db', '--json'])).code).toBe(0);
    expect((await ferry(dir, ['init'])).code).toBe(0);
    const unknown = await ferry(dir, ['fields', 'source', 'contcts', '--json']);
    expect(unknown.code).toBe(2);
    expect(unknown.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('The source (sql) has no object "contcts" (did you mean "contacts"?)') as unknown,
    });
    const side = await ferry(dir, ['fields', 'middle', '--json']);
    expect(side.code).toBe(2);
    expect(side.stdout + side.stderr).toMatch(/source, target/);
  });

  it('shortens long option lists', () => {
    expect(optionsText(undefined)).toBe('');
    expect(optionsText([{ value: 'a' }, { value: 'b', label: 'Bee' }])).toBe('a, b "Bee"');
    const many = Array.from({ length: 20 }, (_, index) => ({ value: `v${index}` }));
    expect(optionsText(many)).toBe('v0, v1, v2, v3, v4, v5, … +14 more');
    const long = Array.from({ length: 8 }, (_, index) => ({ value: `option_${index}`, label: `A rather long label ${index}` }));
    const text = optionsText(long);
    expect(text.length).toBeLessThanOrEqual(60);
    expect(text).toMatch(/… \(8 options\)$/);
  });
});
