import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../src/emulators/salesforce/index.js';
import { ferry } from './run-cli.js';

/**
 * `ferry external-ids [--dry-run]` against the Salesforce emulator: the dry run lists what would be created and
 * creates nothing; the command creates Ferry_Source_Id__c on the mapped objects that lack it (Tooling API and
 * FieldPermissions), skips notes, and a second call finds everything there.
 */
let dir: string;
let salesforce: SalesforceEmulator;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-sf-extid-'));
  salesforce = await startSalesforceEmulator({ port: 0, customFields: { Contact: [{ name: 'Ferry_Source_Id__c', type: 'string', length: 80, externalId: true, unique: true }] } });
});
afterEach(async () => {
  await salesforce.close();
  rmSync(dir, { recursive: true, force: true });
});

type View = { object: string; field: string; action: string; detail: string; result?: string };

describe('ferry external-ids', () => {
  it('--dry-run lists, then the command creates what is missing on the objects the mapping creates records in', async () => {
    const env = { SF_TOKEN: salesforce.accessToken };
    expect((await ferry(dir, ['sample-data', '--size', '20', '--seed', '3', '--output', 'source.db', '--json'], env)).code).toBe(0);
    writeFileSync(
      join(dir, 'ferry.yaml'),
      [
        'version: 1',
        'source:',
        '  connector: sql',
        '  dialect: sqlite',
        '  path: source.db',
        'target:',
        '  connector: salesforce',
        '  accessToken: ${SF_TOKEN}',
        `  instanceUrl: ${salesforce.url}`,
        '  permissionSet: Ferry_Integration',
        'sourceTimeZone: UTC',
        'objects:',
        '  owners: { target: User, matchOnly: true, match: [ { source: email, target: Email } ] }',
        '  companies: { target: Account, fields: { name: Name } }',
        '  contacts: { target: Contact, fields: { last_name: LastName } }',
        '  tasks: { target: Task, fields: { subject: Subject } }',
        '  notes: { target: Note, fields: { title: Title } }',
        '',
      ].join('\n'),
    );
    const tooling = () => salesforce.log.filter((entry) => entry.path.endsWith('/tooling/sobjects/CustomField'));
    const dry = await ferry(dir, ['external-ids', '--dry-run', '--json'], env);
    expect(dry.code, dry.stderr + dry.stdout).toBe(0);
    const planned = dry.json<{ dryRun: boolean; objects: View[] }>();
    expect(planned.dryRun).toBe(true);
    expect(planned.objects.map((view) => `${view.object}:${view.action}`)).toEqual(['Account:create', 'Contact:exists', 'Task:create', 'Note:unsupported']);
    expect(planned.objects[2]!.detail).toMatch(/Activity\.Ferry_Source_Id__c/);
    expect(tooling()).toHaveLength(0);

    const text = await ferry(dir, ['external-ids'], env);
    expect(text.code, text.stderr + text.stdout).toBe(0);
    expect(text.stdout).toMatch(/Account +Ferry_Source_Id__c +created +created Account\.Ferry_Source_Id__c/);
    expect(text.stdout).toMatch(/Note .*unsupported +Note cannot have custom fields/);
    expect(tooling()).toHaveLength(2);

    const again = await ferry(dir, ['external-ids', '--json'], env);
    expect(again.json<{ objects: View[] }>().objects.map((view) => `${view.object}:${view.result ?? view.action}`)).toEqual(['Account:exists', 'Contact:exists', 'Task:exists', 'Note:unsupported']);
    expect(tooling()).toHaveLength(2);
  });
});
