import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OBJECT_TYPES, startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { createHubspotConnector } from '../../src/connectors/hubspot/index.js';
import { ferry } from './run-cli.js';

/**
 * Required target fields are known before any write (issue 12, decision 7): the HubSpot connector's
 * describe() marks what a create needs (as HubSpot documents it and the emulator enforces it), SQL marks
 * NOT NULL columns without a default, and every command that writes refuses to start while `ferry check`
 * has errors: exit code 2, MAPPING_INVALID naming object and field, nothing written.
 */
const FAST = { burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 };

let dir: string;
let hubspot: HubspotEmulator | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-required-'));
});
afterEach(async () => {
  await hubspot?.close();
  hubspot = undefined;
  rmSync(dir, { recursive: true, force: true });
});

type JsonError = { error: { code: string; message: string; details: { problems?: { code: string; object: string; field?: string; message: string }[] } } };

describe('HubSpot: required fields in describe()', () => {
  it('marks what the emulator (and HubSpot) requires on create: required fields and requiredAnyOf groups', async () => {
    hubspot = await startHubspotEmulator(FAST);
    const connector = createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 });
    try {
      const schema = await connector.describe();
      for (const [name, info] of Object.entries(OBJECT_TYPES)) {
        const object = schema.objects.find((candidate) => candidate.name === name);
        expect(object, name).toBeDefined();
        const required = object!.fields.filter((field) => field.required).map((field) => field.name).sort();
        expect(required, name).toEqual([...(info.required ?? [])].sort());
        expect(object!.requiredAnyOf ?? [], name).toEqual(info.requiredAnyOf ? [info.requiredAnyOf] : []);
      }
      expect(schema.objects.find((object) => object.name === 'deals')!.fields.find((field) => field.name === 'pipeline')?.required).toBeUndefined();
    } finally {
      await connector.close();
    }
  });

  it("marks a custom object's requiredProperties", async () => {
    hubspot = await startHubspotEmulator(FAST);
    const created = await fetch(`${hubspot.url}/crm/v3/schemas`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hubspot.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'projects',
        labels: { singular: 'Project', plural: 'Projects' },
        primaryDisplayProperty: 'project_name',
        requiredProperties: ['project_name'],
        properties: [
          { name: 'project_name', label: 'Project name', type: 'string', fieldType: 'text' },
          { name: 'budget', label: 'Budget', type: 'number', fieldType: 'number' },
        ],
        associatedObjects: ['COMPANY'],
      }),
    });
    expect(created.status).toBe(201);
    const connector = createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 });
    try {
      const projects = (await connector.describe()).objects.find((object) => object.name === 'projects')!;
      expect(projects.fields.filter((field) => field.required).map((field) => field.name)).toEqual(['project_name']);
    } finally {
      await connector.close();
    }
  });
});

describe('commands that write refuse a mapping that leaves required fields empty', () => {
  it('HubSpot target: check lists them; migrate, demo, delta and retry stop before any write', async () => {
    hubspot = await startHubspotEmulator(FAST);
    expect((await ferry(dir, ['sample-data', '--size', '20', '--seed', '4', '--output', 'source.db', '--json'])).code).toBe(0);
    writeFileSync(
      join(dir, 'ferry.yaml'),
      `version: 1
source: { connector: sql, dialect: sqlite, path: source.db }
target:
  connector: hubspot
  accessToken: \${HUBSPOT_TOKEN}
  baseUrl: ${hubspot.url}
objects:
  companies:
    fields:
      name: name
      domain: domain
  contacts:
    fields:
      phone: phone
  deals:
    fields:
      amount: amount
  notes:
    fields:
      body: hs_note_body
`,
    );
    const env = { HUBSPOT_TOKEN: hubspot.token };
    const check = await ferry(dir, ['check', '--json'], env);
    expect(check.code).toBe(2);
    const checked = check.json<{ ok: boolean; mapping: { errors: { code: string; object: string; field?: string; message: string }[] } }>();
    expect(checked.ok).toBe(false);
    expect(checked.mapping.errors.map((problem) => [problem.code, problem.object, problem.field])).toEqual([
      ['REQUIRED_UNMAPPED', 'contacts', 'email'],
      ['REQUIRED_UNMAPPED', 'deals', 'dealname'],
      ['REQUIRED_UNMAPPED', 'deals', 'dealstage'],
      ['REQUIRED_UNMAPPED', 'notes', 'hs_timestamp'],
    ]);
    expect(checked.mapping.errors[0]!.message).toBe('contacts needs at least one of contacts.email, contacts.firstname, contacts.lastname in the target but nothing is mapped to any of them');

    for (const args of [['migrate'], ['migrate', '--dry-run'], ['demo'], ['delta', '--create-new', '--update-changed'], ['retry', '1']]) {
      const result = await ferry(dir, [...args, '--json'], env);
      expect(result.code, args.join(' ')).toBe(2);
      const { error } = result.json<JsonError>();
      expect(error.code, args.join(' ')).toBe('MAPPING_INVALID');
      expect(error.message).toContain('deals.dealname: deals.dealname is required in the target but nothing is mapped to it');
      expect(error.message).toContain('notes.hs_timestamp');
    }
    for (const object of ['companies', 'contacts', 'deals', 'notes']) expect(hubspot.store.count(object), object).toBe(0);
    // Not one write request (searches and batch reads are POSTs that read).
    const writes = hubspot.store.requests.filter((request) => request.method !== 'GET' && !/\/(search|batch\/read)$/.test(request.path));
    expect(writes.map((request) => `${request.method} ${request.path}`)).toEqual([]);
  });

  it('SQL target: a NOT NULL column without a default is required', async () => {
    expect((await ferry(dir, ['sample-data', '--size', '20', '--seed', '4', '--output', 'source.db', '--target-output', 'target.db', '--json'])).code).toBe(0);
    expect((await ferry(dir, ['init'])).code).toBe(0);
    expect((await ferry(dir, ['map', '--json'])).code).toBe(0);
    const mapped = readFileSync(join(dir, 'ferry.yaml'), 'utf8');
    expect(mapped).toMatch(/^ {6}name: dealname$/m);
    writeFileSync(join(dir, 'ferry.yaml'), mapped.replace(/^ {6}name: dealname\n/m, ''));
    const count = () => {
      const db = new SqliteDatabase(join(dir, 'target.db'), { readonly: true });
      try {
        return (db.prepare('SELECT (SELECT count(*) FROM deals) + (SELECT count(*) FROM companies) + (SELECT count(*) FROM contacts) AS n').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const before = count();
    const result = await ferry(dir, ['migrate', '--json']);
    expect(result.code).toBe(2);
    const { error } = result.json<JsonError>();
    expect(error.code).toBe('MAPPING_INVALID');
    expect(error.details.problems).toEqual([expect.objectContaining({ code: 'REQUIRED_UNMAPPED', object: 'deals', field: 'dealname' })]);
    expect(count()).toBe(before);
  });
});
