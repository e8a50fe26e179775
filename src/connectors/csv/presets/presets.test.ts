import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCsvConnector } from '../connector.js';
import { detectPreset, salesforceId18, zohoId } from './index.js';

const detect = (fileName: string, header: string[], sample: string[][] = []) => detectPreset({ fileName, header, sample });

describe('vendor export detection', () => {
  it('Pipedrive: the entity of `Entity - Field` headers names the object, whatever the file is called', () => {
    const preset = detect('export-2024.csv', ['Organization - ID', 'Organization - Name', 'Organization - Website', 'Organization - Owner', 'Organization - Update time']);
    expect(preset).toMatchObject({ vendor: 'pipedrive', object: 'organization', name: 'organizations', id: 'Organization - ID', modified: 'Organization - Update time' });
    expect(preset!.columns.get('Organization - Website')).toMatchObject({ label: 'Website', meaning: 'website', type: 'url' });
    expect(preset!.columns.get('Organization - Owner')).toMatchObject({ meaning: 'owner' });
  });

  it('Pipedrive people: Work is the primary e-mail, Mobile the mobile phone; related ids are references', () => {
    const preset = detect('people.csv', ['Person - ID', 'Person - Name', 'Person - Email - Home', 'Person - Email - Work', 'Person - Phone - Mobile', 'Person - Phone - Work', 'Organization - ID', 'Person - Organization', 'Update time']);
    expect(preset).toMatchObject({ object: 'person', name: 'people', id: 'Person - ID', modified: 'Update time' });
    expect(preset!.columns.get('Person - Email - Work')).toMatchObject({ label: 'Email - Work', meaning: 'email', type: 'email' });
    expect(preset!.columns.get('Person - Email - Home')?.meaning).toBeUndefined();
    expect(preset!.columns.get('Person - Phone - Mobile')).toMatchObject({ meaning: 'mobile', type: 'phone' });
    expect(preset!.columns.get('Person - Phone - Work')).toMatchObject({ meaning: 'phone' });
    expect(preset!.columns.get('Person - Name')).toMatchObject({ meaning: 'fullname' });
    expect(preset!.columns.get('Organization - ID')).toMatchObject({ reference: 'organization' });
    // The organisation's name on a person is a name, never a reference.
    expect(preset!.columns.get('Person - Organization')?.reference).toBeUndefined();
  });

  it('Pipedrive deals carry their own fields and related entities\' columns, which get no meaning of the deal', () => {
    const preset = detect('deals.csv', ['Deal - ID', 'Deal - Title', 'Deal - Value', 'Deal - Currency', 'Deal - Status', 'Deal - Stage', 'Deal - Owner', 'Deal - Expected close date', 'Organization - ID', 'Person - ID', 'Person - Email - Work', 'Deal - Update time']);
    expect(preset).toMatchObject({ object: 'deal', id: 'Deal - ID', modified: 'Deal - Update time' });
    expect(Object.fromEntries([...preset!.columns].map(([column, hint]) => [column, hint.meaning]))).toMatchObject({
      'Deal - Title': 'title',
      'Deal - Value': 'amount',
      'Deal - Currency': 'currency',
      'Deal - Status': 'status',
      'Deal - Stage': 'stage',
      'Deal - Owner': 'owner',
      'Deal - Expected close date': 'closedate',
      'Person - Email - Work': undefined,
    });
    expect(preset!.columns.get('Person - ID')).toMatchObject({ reference: 'person' });
  });

  it('Pipedrive notes and activities with plain headers', () => {
    expect(detect('notes.csv', ['ID', 'Content', 'Deal ID', 'Person ID', 'Organization ID', 'User', 'Add time', 'Update time'])).toMatchObject({ object: 'note', id: 'ID', modified: 'Update time', created: 'Add time' });
    expect(detect('activities.csv', ['ID', 'Subject', 'Type', 'Due date', 'Done', 'Deal ID', 'Assigned to user', 'Add time', 'Update time'])).toMatchObject({ object: 'activity' });
  });

  it('HubSpot: `Record ID`, the object from the labels or the file name, associations as references', () => {
    const preset = detect('hubspot-crm-exports-all-contacts-2024-03-01.csv', ['Record ID', 'First Name', 'Last Name', 'Email', 'Phone Number', 'Contact owner', 'Associated Company IDs', 'Associated Company IDs (Primary)', 'Create Date', 'Last Modified Date']);
    expect(preset).toMatchObject({ vendor: 'hubspot', object: 'contact', name: 'contacts', id: 'Record ID', modified: 'Last Modified Date', created: 'Create Date' });
    expect(preset!.columns.get('Associated Company IDs')).toMatchObject({ reference: 'company', listSeparator: ';' });
    expect(preset!.columns.get('Associated Company IDs (Primary)')).toMatchObject({ reference: 'company' });
    expect(preset!.columns.get('Associated Company IDs (Primary)')!.listSeparator).toBeUndefined();
    expect(preset!.columns.get('Contact owner')).toMatchObject({ meaning: 'owner' });
  });

  it('Salesforce Data Export: API names, object from the file name or the ids\' key prefix', () => {
    const sample = [['0015g00000AbCdEAAV', 'Acme', '0055g000004XyZaAAK', '2024-03-01T10:00:00.000Z']];
    const preset = detect('Account.csv', ['Id', 'Name', 'OwnerId', 'LastModifiedDate'], sample);
    expect(preset).toMatchObject({ vendor: 'salesforce', object: 'account', name: 'accounts', id: 'Id', modified: 'LastModifiedDate' });
    expect(preset!.columns.get('OwnerId')).toMatchObject({ reference: 'user', meaning: 'owner' });
    // An arbitrary name: the key prefix 001 says Account.
    expect(detect('export.csv', ['Id', 'Name', 'Website', 'Industry', 'CreatedDate'], sample.map((row) => [row[0]!, 'a', 'b', 'c', 'd']))).toMatchObject({ object: 'account' });
    // WhatId pointing at opportunities (key prefix 006).
    const task = detect('Task.csv', ['Id', 'Subject', 'WhatId', 'WhoId', 'ActivityDate', 'LastModifiedDate'], [['00T5g000001AbCdEAK', 'Call', '0065g000002AbCdEAA', '0035g000003AbCdEAA', '2024-03-01', '2024-03-01T10:00:00.000Z']]);
    expect(task!.columns.get('WhatId')).toMatchObject({ reference: 'opportunity' });
    expect(task!.columns.get('WhoId')).toMatchObject({ reference: 'contact' });
  });

  it('Zoho: `Record Id`, module signature, `zcrm_` lookups', () => {
    const preset = detect('Contacts_001.csv', ['Record Id', 'First Name', 'Last Name', 'Email', 'Account Name', 'Contact Owner', 'Created Time', 'Modified Time'], [['zcrm_4876876000000123456', 'Anna', 'Schmidt', 'a@x.io', 'zcrm_4876876000000999999', 'Max Weber', '2024-03-01 10:00:00', '2024-03-02 10:00:00']]);
    expect(preset).toMatchObject({ vendor: 'zoho', object: 'contact', name: 'contacts', id: 'Record Id', modified: 'Modified Time' });
    expect(preset!.columns.get('Account Name')).toMatchObject({ reference: 'account' });
    expect(preset!.columns.get('Contact Owner')).toMatchObject({ meaning: 'owner' });
  });

  it('never fires on a generic CSV', () => {
    const generic: string[][] = [
      ['id', 'name', 'email', 'updated_at'],
      ['id', 'first_name', 'last_name', 'company_id', 'owner_id', 'created_at', 'updated_at'],
      ['ID', 'Name', 'Email', 'Phone'],
      ['Id', 'Name', 'Email', 'Phone'],
      ['Record ID', 'Name'],
      ['Record Id', 'Name', 'Email'],
      ['Name - First', 'Name - Last', 'City'],
      ['Deal - ID'],
    ];
    for (const header of generic) expect(detect('data.csv', header, [header.map((_, index) => `value ${index}`)]), header.join(',')).toBeUndefined();
  });

  it('never fires on random headers (property)', () => {
    const words = fc.constantFrom('id', 'name', 'Email', 'Phone', 'Owner', 'Stage', 'Amount', 'Created', 'Updated', 'Company', 'City', 'Notes', 'Status', 'Title');
    fc.assert(
      fc.property(fc.uniqueArray(words, { minLength: 1, maxLength: 8 }), fc.constantFrom('data.csv', 'export.csv', 'list.csv'), (header, fileName) => {
        expect(detect(fileName, header)).toBeUndefined();
      }),
    );
  });
});

describe('Salesforce ids: 15 and 18 characters are one id', () => {
  it('a 15-character id gets the suffix Salesforce computes', () => {
    // Each suffix character encodes which of five characters are upper-case letters (bit 0 = the first).
    expect(salesforceId18('00558000001N0Ke')).toBe('00558000001N0KeAAK');
    expect(salesforceId18('70130000001tcyI')).toBe('70130000001tcyIAAQ');
    expect(salesforceId18('a0BA0000000L2ZC')).toBe('a0BA0000000L2ZCMA0');
    expect(salesforceId18('a0D30000001n7Pi')).toBe('a0D30000001n7PiEAI');
    expect(salesforceId18('a0D30000001n7PiEAI')).toBe('a0D30000001n7PiEAI');
  });

  it('an upper-cased 18-character id gets its case back; anything else is left alone', () => {
    expect(salesforceId18('A0D30000001N7PIEAI')).toBe('a0D30000001n7PiEAI');
    expect(salesforceId18('a0ba0000000l2zcma0')).toBe('a0BA0000000L2ZCMA0');
    expect(salesforceId18('not-an-id')).toBe('not-an-id');
    expect(salesforceId18('12345')).toBe('12345');
  });

  it('property: the 15-character id, its 18-character form and that form in any case normalise alike', () => {
    const char = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''));
    fc.assert(
      fc.property(fc.array(char, { minLength: 15, maxLength: 15 }), fc.boolean(), (chars, upper) => {
        const id15 = chars.join('');
        const id18 = salesforceId18(id15);
        expect(id18).toHaveLength(18);
        expect(id18.slice(0, 15)).toBe(id15);
        expect(salesforceId18(id18)).toBe(id18);
        expect(salesforceId18(upper ? id18.toUpperCase() : id18.toLowerCase())).toBe(id18);
      }),
    );
  });

  it('Zoho ids with and without `zcrm_` are one id', () => {
    expect(zohoId('zcrm_4876876000000123456')).toBe('4876876000000123456');
    expect(zohoId('4876876000000123456')).toBe('4876876000000123456');
    expect(zohoId('Acme')).toBe('Acme');
  });
});

describe('the CSV connector with presets', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-presets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names objects after the export, sets ids, modified columns, references, labels and meanings', async () => {
    writeFileSync(join(dir, 'organizations-2024-03-01.csv'), '\uFEFFOrganization - ID,Organization - Name,Organization - Website,Organization - Update time\n1,Acme,https://www.acme.io,2024-03-01 10:00:00\n');
    writeFileSync(
      join(dir, 'people-2024-03-01.csv'),
      '\uFEFFPerson - ID,Person - Name,Person - Email - Work,Organization - ID,Person - Update time\n7,Anna Schmidt,"a@x.io, b@y.io",1,2024-03-01 10:00:00\n',
    );
    const connector = createCsvConnector({ path: dir }, { baseDir: dir });
    const schema = await connector.describe();
    expect(schema.objects.map((object) => object.name).sort()).toEqual(['organizations', 'people']);
    const people = schema.objects.find((object) => object.name === 'people')!;
    expect(people.preset).toEqual({ vendor: 'pipedrive', object: 'person' });
    expect(people.modifiedField).toBe('Person - Update time');
    expect(people.fields.find((field) => field.name === 'Organization - ID')).toMatchObject({ type: 'reference', reference: { object: 'organizations' } });
    expect(people.fields.find((field) => field.name === 'Person - Email - Work')).toMatchObject({ type: 'email', label: 'Email - Work', meaning: 'email' });
    const page = await connector.read('people');
    expect(page.records[0]).toMatchObject({ id: '7', updatedAt: '2024-03-01T10:00:00.000Z', fields: { 'Person - Name': 'Anna Schmidt', 'Organization - ID': '1' } });
  });

  it('user settings win: a configured object keeps its name and its own id column', async () => {
    writeFileSync(join(dir, 'orgs.csv'), 'Organization - ID,Organization - Name,Organization - Update time,Code\n1,Acme,2024-03-01 10:00:00,A-1\n');
    const connector = createCsvConnector({ path: dir, objects: { orgs: { id: 'Code', updatedAt: 'Organization - Update time' } } }, { baseDir: dir });
    const [orgs] = (await connector.describe()).objects;
    expect(orgs).toMatchObject({ name: 'orgs', preset: { vendor: 'pipedrive', object: 'organization' } });
    const page = await connector.read('orgs');
    expect(page.records[0]!.id).toBe('A-1');
  });

  it('Salesforce: a 15-character reference finds the 18-character id', async () => {
    writeFileSync(join(dir, 'Account.csv'), 'Id,Name,CreatedDate,LastModifiedDate\n0015g00000AbCdEAAV,Acme,2024-03-01T10:00:00.000Z,2024-03-01T10:00:00.000Z\n');
    writeFileSync(join(dir, 'Contact.csv'), 'Id,FirstName,LastName,AccountId,LastModifiedDate\n0035g00000XyZaBAAV,Anna,Schmidt,0015g00000AbCdE,2024-03-01T10:00:00.000Z\n');
    const connector = createCsvConnector({ path: dir }, { baseDir: dir });
    const schema = await connector.describe();
    expect(schema.objects.map((object) => object.name).sort()).toEqual(['accounts', 'contacts']);
    const [account] = (await connector.read('accounts')).records;
    const [contact] = (await connector.read('contacts')).records;
    expect(contact!.fields.AccountId).toBe(account!.id);
    expect(await connector.readByIds('accounts', [account!.id])).toHaveLength(1);
  });
});
