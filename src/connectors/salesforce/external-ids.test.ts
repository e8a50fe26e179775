import { afterEach, describe, expect, it } from 'vitest';
import { isFerryError } from '../../core/errors.js';
import { startSalesforceEmulator, type SalesforceEmulator, type SalesforceEmulatorOptions } from '../../emulators/salesforce/index.js';
import { call } from '../../emulators/salesforce/test-support.js';
import { createSalesforceConnector, type SalesforceConnector } from './index.js';

/**
 * Creating Ferry_Source_Id__c through the Tooling API and granting it through FieldPermissions, against the
 * emulator over real HTTP: the org starts without the field, so describe has none until Ferry creates it.
 */
let emulator: SalesforceEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(options: SalesforceEmulatorOptions = {}, settings: Record<string, unknown> = {}): Promise<{ sf: SalesforceEmulator; connector: SalesforceConnector }> {
  emulator = await startSalesforceEmulator({ port: 0, ...options });
  const connector = createSalesforceConnector({ accessToken: emulator.accessToken, instanceUrl: emulator.url, createExternalIdFields: true, permissionSet: 'Ferry_Integration', ...settings }, { configPath: 'target' });
  return { sf: emulator, connector };
}

const toolingCreates = (sf: SalesforceEmulator) => sf.log.filter((entry) => entry.method === 'POST' && entry.path.endsWith('/tooling/sobjects/CustomField'));
const grants = async (sf: SalesforceEmulator) =>
  (await call(sf, 'GET', `/query?q=${encodeURIComponent('SELECT SobjectType, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions ORDER BY Field')}`)).body.records.map((row: Record<string, unknown>) => `${String(row.Field)}:${String(row.PermissionsRead)}/${String(row.PermissionsEdit)}`);

describe('salesforce connector: creating the external-id field', () => {
  it('plans without creating, then creates the field on the objects missing it, grants it, and upserts on it', async () => {
    const { sf, connector } = await start({ customFields: { Contact: [{ name: 'Ferry_Source_Id__c', type: 'string', length: 80, externalId: true, unique: true }] } });
    // Event's describe is cached here without the field: creating Task's (the shared activity field) must drop it.
    const plans = await Promise.all(['Account', 'Contact', 'Task', 'Note', 'ContentNote', 'Event'].map((object) => connector.planExternalId(object)));
    expect(plans.map((plan) => plan.action)).toEqual(['create', 'exists', 'create', 'unsupported', 'unsupported', 'create']);
    expect(plans.every((plan) => plan.automatic)).toBe(true);
    expect(plans[0]!.detail).toMatch(/would create Account\.Ferry_Source_Id__c \(Text\(80\), External ID, Unique, case-insensitive\).*permission set Ferry_Integration/);
    expect(plans[2]!.detail).toMatch(/Activity\.Ferry_Source_Id__c.*Task\.Ferry_Source_Id__c and Event\.Ferry_Source_Id__c/);
    expect(plans[3]!.detail).toMatch(/Note cannot have custom fields/);
    // The plan wrote nothing.
    expect(toolingCreates(sf)).toHaveLength(0);
    expect(await grants(sf)).toEqual([]);

    expect(await connector.ensureExternalId('Account')).toBe('Ferry_Source_Id__c');
    expect(await connector.ensureExternalId('Contact')).toBe('Ferry_Source_Id__c');
    expect(await connector.ensureExternalId('Task')).toBe('Ferry_Source_Id__c');
    // Event shares the activity field: it is there without a second create.
    expect(await connector.ensureExternalId('Event')).toBe('Ferry_Source_Id__c');
    expect(await connector.ensureExternalId('Note')).toBeUndefined();
    const sent = toolingCreates(sf);
    expect(sent).toHaveLength(2);
    expect(await grants(sf)).toEqual(['Account.Ferry_Source_Id__c:true/true', 'Event.Ferry_Source_Id__c:true/true', 'Task.Ferry_Source_Id__c:true/true']);
    const describe = (await call(sf, 'GET', '/sobjects/Account/describe')).body.fields.find((field: { name: string }) => field.name === 'Ferry_Source_Id__c');
    expect(describe).toMatchObject({ type: 'string', length: 80, externalId: true, unique: true, createable: true, updateable: true });

    // The connector's describe cache sees it: creates are upserts on the field now.
    const [created] = await connector.create('Account', [{ ref: 's1', fields: { Name: 'Acme' }, externalId: 'src-1' }]);
    expect(created).toMatchObject({ ok: true });
    expect(sf.log.some((entry) => entry.method === 'PATCH' && entry.path.endsWith('/composite/sobjects/Account/Ferry_Source_Id__c'))).toBe(true);
    expect((await connector.findByExternalIds('Account', ['src-1'])).get('src-1')).toBe(created!.ok ? created!.id : '');
  });

  it('a second call (another connection, the field there) creates nothing; a lost create answer sent again finds the field made', async () => {
    const { sf, connector } = await start();
    // The first create's answer is lost after Salesforce made the field: the resend answers DUPLICATE_DEVELOPER_NAME.
    sf.faults.dropConnection({ afterWrite: true, path: /tooling\/sobjects\/CustomField/, method: 'POST', count: 1 });
    sf.faults.dropConnection({ afterWrite: true, path: /sobjects\/FieldPermissions$/, method: 'POST', count: 1 });
    expect(await connector.ensureExternalId('Lead')).toBe('Ferry_Source_Id__c');
    const sent = toolingCreates(sf);
    expect(sent.length).toBe(2);
    expect(sent[1]!.status).toBe(400);
    const granted = sf.log.filter((entry) => entry.method === 'POST' && entry.path.endsWith('/sobjects/FieldPermissions'));
    expect(granted.map((entry) => entry.status).slice(-1)).toEqual([400]);
    expect(granted).toHaveLength(2);
    expect(Object.values(sf.faults.fired()).reduce((sum, count) => sum + count, 0)).toBe(2);
    expect(await grants(sf)).toEqual(['Lead.Ferry_Source_Id__c:true/true']);

    const again = createSalesforceConnector({ accessToken: sf.accessToken, instanceUrl: sf.url, createExternalIdFields: true, permissionSet: 'Ferry_Integration' });
    expect(await again.ensureExternalId('Lead')).toBe('Ferry_Source_Id__c');
    expect(toolingCreates(sf)).toHaveLength(2);
    expect(await grants(sf)).toHaveLength(1);
  });

  it('a field created earlier but never granted (describe does not show it) is granted, not created twice', async () => {
    const { sf, connector } = await start();
    const made = await call(sf, 'POST', '/tooling/sobjects/CustomField', { FullName: 'Account.Ferry_Source_Id__c', Metadata: { label: 'Ferry Source Id', type: 'Text', length: 80, externalId: true, unique: true, caseSensitive: false } });
    expect(made).toMatchObject({ status: 201, body: { success: true, errors: [] } });
    expect(made.body.id).toMatch(/^00N/);
    expect((await connector.planExternalId('Account')).action).toBe('create');
    expect(await connector.ensureExternalId('Account')).toBe('Ferry_Source_Id__c');
    expect(await grants(sf)).toEqual(['Account.Ferry_Source_Id__c:true/true']);
  });

  it('without the setting nothing is created unless asked (ferry external-ids); readOnly creates nothing', async () => {
    const { sf, connector } = await start({}, { createExternalIdFields: false });
    expect(await connector.ensureExternalId('Account')).toBeUndefined();
    expect(toolingCreates(sf)).toHaveLength(0);
    expect(await connector.ensureExternalId('Account', { create: true })).toBe('Ferry_Source_Id__c');
    const readOnly = createSalesforceConnector({ accessToken: sf.accessToken, instanceUrl: sf.url, createExternalIdFields: true, permissionSet: 'Ferry_Integration', readOnly: true });
    expect(await readOnly.ensureExternalId('Contact')).toBeUndefined();
    expect(toolingCreates(sf)).toHaveLength(1);
  });

  it('a user without "Customize Application" gets a FerryError naming object, field and what the admin must do', async () => {
    const { sf, connector } = await start({ integrationUser: { customizeApplication: false } });
    const error = await connector.ensureExternalId('Account').catch((caught: unknown) => caught);
    expect(isFerryError(error) && error.code).toBe('AUTH_FAILED');
    expect(String((error as Error).message)).toMatch(/Salesforce refused to create the field Account\.Ferry_Source_Id__c \(Tooling API\) for Account\.Ferry_Source_Id__c \(403 INSUFFICIENT_ACCESS: Insufficient Privileges/);
    expect(String((error as Error).message)).toMatch(/needs "Customize Application".*or an admin adds Account\.Ferry_Source_Id__c by hand \(Text\(80\), External ID, Unique/);
    expect((error as { details?: Record<string, unknown> }).details).toMatchObject({ object: 'Account', field: 'Ferry_Source_Id__c', status: 403, errorCode: 'INSUFFICIENT_ACCESS' });
    expect(await grants(sf)).toEqual([]);
  });

  it('a user who may create fields but not grant them: refused at FieldPermissions, naming the permission', async () => {
    const { connector } = await start({ integrationUser: { managePermissionSets: false } });
    const error = await connector.ensureExternalId('Contact').catch((caught: unknown) => caught);
    expect(isFerryError(error) && error.code).toBe('AUTH_FAILED');
    expect(String((error as Error).message)).toMatch(/refused to grant Read and Edit to permission set Ferry_Integration for Contact\.Ferry_Source_Id__c \(400 INSUFFICIENT_ACCESS_OR_READONLY.*"Manage Profiles and Permission Sets"/);
  });

  it("the org's API allocation spent at the Tooling create is RATE_LIMITED and resumable, not a missing permission", async () => {
    const { sf, connector } = await start();
    // Other integrations spent it: Salesforce answers 403 REQUEST_LIMIT_EXCEEDED (the emulator's limit fault).
    sf.faults.rateLimitStorm({ path: /tooling\/sobjects\/CustomField/, count: 1 });
    const error = await connector.ensureExternalId('Account').catch((caught: unknown) => caught);
    expect(isFerryError(error) && error.code).toBe('RATE_LIMITED');
    expect(String((error as Error).message)).toMatch(/REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.*resumable/);
    expect((error as { details?: Record<string, unknown> }).details).toMatchObject({ resumable: true, object: 'Account', status: 403 });
    // Run again later: the field is made.
    expect(await connector.ensureExternalId('Account')).toBe('Ferry_Source_Id__c');
  });

  it('settings and org problems: no permissionSet, an unknown one, a same-named field that is not an External ID', async () => {
    expect(() => createSalesforceConnector({ accessToken: 't', instanceUrl: 'http://127.0.0.1:1', createExternalIdFields: true }, { configPath: 'target' })).toThrow(/target\.permissionSet: is needed with createExternalIdFields/);
    const { sf, connector } = await start({ customFields: { Opportunity: [{ name: 'Ferry_Source_Id__c', type: 'string', length: 80 }] } }, { permissionSet: 'No_Such_Set' });
    await expect(connector.ensureExternalId('Account')).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/target\.permissionSet: Salesforce has no permission set with the API name "No_Such_Set"/) });
    expect(toolingCreates(sf)).toHaveLength(0);
    expect(await connector.planExternalId('Opportunity')).toMatchObject({ action: 'conflict', detail: expect.stringMatching(/Opportunity\.Ferry_Source_Id__c exists but is not marked External ID/) });
    await expect(connector.ensureExternalId('Opportunity')).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
    const asked = createSalesforceConnector({ accessToken: sf.accessToken, instanceUrl: sf.url });
    await expect(asked.ensureExternalId('Account', { create: true })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/permissionSet: is needed to create Account\.Ferry_Source_Id__c/) });
  });
});
