import { afterEach, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from './index.js';
import { call, soql } from './test-support.js';

/** The Tooling API's CustomField create and the field-level security FieldPermissions records give. */
let salesforce: SalesforceEmulator | undefined;

afterEach(async () => {
  await salesforce?.close();
  salesforce = undefined;
});

const TEXT = { label: 'Ferry Source Id', type: 'Text', length: 80, externalId: true, unique: true, caseSensitive: false };
const fieldOf = async (sf: SalesforceEmulator, object: string, name: string) => (await call(sf, 'GET', `/sobjects/${object}/describe`)).body.fields.find((field: { name: string }) => field.name === name);

describe('salesforce emulator: Tooling API CustomField and FieldPermissions', () => {
  it('creates a field hidden until granted: Read shows it read-only, Edit makes it writable; a second create is DUPLICATE_DEVELOPER_NAME', async () => {
    salesforce = await startSalesforceEmulator({ port: 0 });
    const made = await call(salesforce, 'POST', '/tooling/sobjects/CustomField', { FullName: 'Account.Ferry_Source_Id__c', Metadata: TEXT });
    expect(made.status).toBe(201);
    expect(made.body).toEqual({ id: expect.stringMatching(/^00N[A-Za-z0-9]{15}$/), success: true, errors: [], warnings: [], infos: [] });
    expect(await fieldOf(salesforce, 'Account', 'Ferry_Source_Id__c')).toBeUndefined();

    const again = await call(salesforce, 'POST', '/tooling/sobjects/CustomField', { FullName: 'Account.ferry_source_id__c', Metadata: TEXT });
    expect(again).toMatchObject({ status: 400, body: [{ errorCode: 'DUPLICATE_DEVELOPER_NAME', message: 'There is already a field named ferry_source_id on Account.' }] });

    const set = (await call(salesforce, 'GET', soql("SELECT Id FROM PermissionSet WHERE Name = 'Ferry_Integration'"))).body.records[0].Id as string;
    const read = await call(salesforce, 'POST', '/sobjects/FieldPermissions', { ParentId: set, SobjectType: 'Account', Field: 'Account.Ferry_Source_Id__c', PermissionsRead: true });
    expect(read.status).toBe(201);
    expect(await fieldOf(salesforce, 'Account', 'Ferry_Source_Id__c')).toMatchObject({ externalId: true, unique: true, length: 80, createable: false, updateable: false });
    const twice = await call(salesforce, 'POST', '/sobjects/FieldPermissions', { ParentId: set, SobjectType: 'Account', Field: 'Account.Ferry_Source_Id__c', PermissionsRead: true });
    expect(twice).toMatchObject({ status: 400, body: [{ errorCode: 'DUPLICATE_VALUE' }] });
    expect((await call(salesforce, 'PATCH', `/sobjects/FieldPermissions/${read.body.id}`, { PermissionsEdit: true })).status).toBe(204);
    expect(await fieldOf(salesforce, 'Account', 'Ferry_Source_Id__c')).toMatchObject({ createable: true, updateable: true });
    const bad = await call(salesforce, 'POST', '/sobjects/FieldPermissions', { ParentId: set, SobjectType: 'Account', Field: 'Account.Nope__c', PermissionsRead: true });
    expect(bad).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', fields: ['Field'] }] });
    const editOnly = await call(salesforce, 'POST', '/sobjects/FieldPermissions', { ParentId: set, SobjectType: 'Account', Field: 'Account.Name', PermissionsEdit: true });
    expect(editOnly).toMatchObject({ status: 400, body: [{ errorCode: 'FIELD_INTEGRITY_EXCEPTION' }] });
  });

  it('Activity fields go to Task and Event; Task directly, notes and unknown types are refused', async () => {
    salesforce = await startSalesforceEmulator({ port: 0, permissionSets: ['Integration_Access'] });
    expect((await call(salesforce, 'POST', '/tooling/sobjects/CustomField', { FullName: 'Activity.Ferry_Source_Id__c', Metadata: TEXT })).status).toBe(201);
    const set = (await call(salesforce, 'GET', soql('SELECT Id, Name FROM PermissionSet'))).body.records;
    expect(set.map((row: { Name: string }) => row.Name)).toEqual(['Integration_Access']);
    for (const object of ['Task', 'Event']) {
      expect((await call(salesforce, 'POST', '/sobjects/FieldPermissions', { ParentId: set[0].Id, SobjectType: object, Field: `${object}.Ferry_Source_Id__c`, PermissionsRead: true, PermissionsEdit: true })).status).toBe(201);
      expect(await fieldOf(salesforce, object, 'Ferry_Source_Id__c')).toMatchObject({ externalId: true, createable: true });
    }
    expect(await call(salesforce, 'POST', '/tooling/sobjects/CustomField', { FullName: 'Task.Other__c', Metadata: TEXT })).toMatchObject({ status: 400, body: [{ errorCode: 'FIELD_INTEGRITY_EXCEPTION', message: expect.stringMatching(/created on Activity/) }] });
    expect(await call(salesforce, 'POST', '/tooling/sobjects/CustomField', { FullName: 'Note.Other__c', Metadata: TEXT })).toMatchObject({ status: 400, body: [{ errorCode: 'FIELD_INTEGRITY_EXCEPTION', message: 'Cannot create a custom field on Note' }] });
    expect(await call(salesforce, 'POST', '/tooling/sobjects/CustomField', { FullName: 'Account.Other__c', Metadata: { ...TEXT, type: 'Hierarchy' } })).toMatchObject({ status: 400, body: [{ errorCode: 'FIELD_INTEGRITY_EXCEPTION', fields: ['type'] }] });
    expect(await call(salesforce, 'POST', '/tooling/sobjects/CustomField', { FullName: 'Account.Other__c', Metadata: { ...TEXT, length: 300 } })).toMatchObject({ status: 400, body: [{ fields: ['length'] }] });
  });

  it('without "Customize Application" or "Manage Profiles and Permission Sets" the writes are refused', async () => {
    salesforce = await startSalesforceEmulator({ port: 0, integrationUser: { customizeApplication: false, managePermissionSets: false } });
    expect(await call(salesforce, 'POST', '/tooling/sobjects/CustomField', { FullName: 'Account.Ferry_Source_Id__c', Metadata: TEXT })).toMatchObject({ status: 403, body: [{ errorCode: 'INSUFFICIENT_ACCESS', message: expect.stringMatching(/^Insufficient Privileges/) }] });
    const set = (await call(salesforce, 'GET', soql('SELECT Id FROM PermissionSet'))).body.records[0].Id as string;
    expect(await call(salesforce, 'POST', '/sobjects/FieldPermissions', { ParentId: set, SobjectType: 'Account', Field: 'Account.Name', PermissionsRead: true })).toMatchObject({ status: 400, body: [{ errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY' }] });
  });
});
