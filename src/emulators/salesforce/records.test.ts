import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SalesforceStore, checksum, makeId, normalizeId, startSalesforceEmulator, type SalesforceEmulator } from './index.js';
import { call, manualClock } from './test-support.js';

describe('Salesforce emulator: ids', () => {
  it('computes the case-safe suffix as Salesforce does and accepts 15- and 18-character ids', () => {
    expect(checksum('001A0000006Vm9r')).toBe('IAC');
    expect(checksum('00DA0000000Abcd')).toBe('MAC');
    expect(checksum('001000000000000')).toBe('AAA');
    expect(normalizeId('001A0000006Vm9r')).toBe('001A0000006Vm9rIAC');
    expect(normalizeId('001A0000006Vm9riac')).toBe('001A0000006Vm9rIAC');
    expect(normalizeId('001a0000006vm9riac')).toBe('001A0000006Vm9rIAC');
    expect(normalizeId('001A0000006VM9RIAC')).toBe('001A0000006Vm9rIAC');
    expect(normalizeId('001-bad')).toBeUndefined();
  });

  it('gives ids that differ only in case different suffixes (the reason the suffix exists)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 62 ** 6 }), fc.integer({ min: 0, max: 62 ** 6 }), (a, b) => {
        const left = makeId('003', a);
        const right = makeId('003', b);
        expect(left).toHaveLength(18);
        expect(left.slice(0, 3)).toBe('003');
        if (a !== b && left.slice(0, 15).toLowerCase() === right.slice(0, 15).toLowerCase()) expect(left.slice(15)).not.toBe(right.slice(15));
        expect(left.toLowerCase() === right.toLowerCase()).toBe(a === b);
      }),
      { seed: 1501, numRuns: 300 },
    );
  });
});

describe('Salesforce emulator: external-id index', () => {
  it('finds by external id exactly as a scan of the live records does, through creates, updates, deletes and rollbacks (model)', () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), value: fc.constantFrom('a', 'A', 'b', 'c', null) }),
      fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), value: fc.constantFrom('a', 'b', 'B', 'd', null) }),
      fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('rollback' as const), value: fc.constantFrom('a', 'e') }),
    );
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        const store = new SalesforceStore(() => Date.UTC(2024, 2, 17), { customFields: { Contact: [{ name: 'Ext__c', type: 'string', length: 10, externalId: true }] } });
        store.defaultUserId = store.create('User', { Username: 'u@x.io', Email: 'u@x.io', LastName: 'U' }, '').id;
        const contact = store.requireObject('Contact');
        const field = contact.byName.get('ext__c')!;
        for (const each of actions) {
          const live = store.records(contact);
          if (each.kind === 'create') store.create('Contact', { LastName: 'L', Ext__c: each.value });
          else if (each.kind === 'update' && live.length > 0) store.update(live[each.pick % live.length]!.id, { Ext__c: each.value });
          else if (each.kind === 'delete' && live.length > 0) store.delete(live[each.pick % live.length]!.id);
          else if (each.kind === 'rollback') {
            expect(() =>
              store.transaction(() => {
                store.create('Contact', { LastName: 'R', Ext__c: each.value });
                if (live[0]) store.update(live[0].id, { Ext__c: 'z' });
                throw new Error('roll back');
              }),
            ).toThrow('roll back');
          }
          for (const value of ['a', 'b', 'c', 'd', 'e', 'z']) {
            const scan = store.records(contact).filter((record) => String(record.row.data.Ext__c ?? '').toLowerCase() === value).map((record) => record.id);
            expect(store.matchExternal(contact, field, value.toUpperCase()).map((record) => record.id)).toEqual(scan);
          }
        }
      }),
      { seed: 1504, numRuns: 200 },
    );
  });
});

describe('Salesforce emulator: records over HTTP', () => {
  let salesforce: SalesforceEmulator | undefined;
  afterEach(async () => {
    await salesforce?.close();
    salesforce = undefined;
  });

  it('creates, reads, updates and deletes an account with server-set ids and audit fields', async () => {
    const clock = manualClock(Date.UTC(2024, 2, 17, 14, 5, 0, 250));
    salesforce = await startSalesforceEmulator({ clock: clock.now });
    const created = await call(salesforce, 'POST', '/sobjects/Account', { Name: 'Acme', Industry: 'Technology', NumberOfEmployees: '12' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^0015g0{9}1AAA$/), success: true, errors: [] });
    expect(created.headers.get('sforce-limit-info')).toBe('api-usage=1/100000');
    const id = created.body.id as string;
    clock.advance(61_000);
    expect((await call(salesforce, 'PATCH', `/sobjects/Account/${id}`, { Phone: '+1 555' })).status).toBe(204);
    const read = await call(salesforce, 'GET', `/sobjects/Account/${id.slice(0, 15)}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${id}` },
      Id: id,
      Name: 'Acme',
      NumberOfEmployees: 12,
      Phone: '+1 555',
      IsDeleted: false,
      OwnerId: salesforce.userId,
      CreatedById: salesforce.userId,
      LastModifiedById: salesforce.userId,
      CreatedDate: '2024-03-17T14:05:00.000+0000',
      LastModifiedDate: '2024-03-17T14:06:01.000+0000',
      SystemModstamp: '2024-03-17T14:06:01.000+0000',
    });
    const some = await call(salesforce, 'GET', `/sobjects/Account/${id}?fields=Name,Phone`);
    expect(some.body).toEqual({ attributes: read.body.attributes, Name: 'Acme', Phone: '+1 555' });
    expect((await call(salesforce, 'DELETE', `/sobjects/Account/${id}`)).status).toBe(204);
    const gone = await call(salesforce, 'GET', `/sobjects/Account/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    const again = await call(salesforce, 'DELETE', `/sobjects/Account/${id}`);
    expect(again.status).toBe(404);
    expect(again.body).toEqual([{ message: 'entity is deleted', errorCode: 'ENTITY_IS_DELETED', fields: [] }]);
    clock.advance(61_000);
    const feed = await call(salesforce, 'GET', `/sobjects/Account/deleted/?start=${encodeURIComponent('2024-03-17T00:00:00+00:00')}&end=${encodeURIComponent('2024-03-18T00:00:00Z')}`);
    expect(feed.body).toEqual({ deletedRecords: [{ id, deletedDate: '2024-03-17T14:06:01.000+0000' }], earliestDateAvailable: '2024-03-02T14:07:00.000+0000', latestDateCovered: '2024-03-17T14:07:00.000+0000' });
  });

  it('answers each validation failure with Salesforce\'s error code, message and fields', async () => {
    salesforce = await startSalesforceEmulator({
      customFields: { Account: [{ name: 'Ferry_Source_Id__c', type: 'string', length: 64, externalId: true, unique: true }] },
      validationRules: [{ object: 'Opportunity', name: 'Amount_Positive', errorMessage: 'Amount must be positive', errorField: 'Amount', fails: (record) => typeof record.Amount === 'number' && record.Amount <= 0 }],
    });
    const account = (await call(salesforce, 'POST', '/sobjects/Account', { Name: 'A', Ferry_Source_Id__c: 'src-1' })).body.id as string;
    const contact = (await call(salesforce, 'POST', '/sobjects/Contact', { LastName: 'C' })).body.id as string;
    const cases: [string, Record<string, unknown>, string, string, string[]][] = [
      ['Contact', { FirstName: 'No last name' }, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [LastName]', ['LastName']],
      ['Lead', {}, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [LastName, Company]', ['LastName', 'Company']],
      ['Contact', { LastName: 'X', Email: 'not-an-address' }, 'INVALID_EMAIL_ADDRESS', 'Email: invalid email address: not-an-address', ['Email']],
      ['Opportunity', { Name: 'O', CloseDate: '2024-05-01', StageName: 'Dreaming' }, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'Stage: bad value for restricted picklist field: Dreaming', ['StageName']],
      ['Opportunity', { Name: 'O', CloseDate: '2024-05-01', StageName: 'Prospecting', Amount: -5 }, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Amount must be positive', ['Amount']],
      ['Account', { Name: 'x'.repeat(256) }, 'STRING_TOO_LONG', `Account Name: data value too large: ${'x'.repeat(80)} (max length=255)`, ['Name']],
      ['Contact', { LastName: 'X', AccountId: 'nope' }, 'MALFORMED_ID', 'Account ID: id value of incorrect type: nope', ['AccountId']],
      ['Contact', { LastName: 'X', AccountId: makeId('001', 999) }, 'INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', ['AccountId']],
      ['Contact', { LastName: 'X', AccountId: contact }, 'FIELD_INTEGRITY_EXCEPTION', `Account ID: id value of incorrect type: ${contact}`, ['AccountId']],
      ['Account', { Name: 'B', Ferry_Source_Id__c: 'SRC-1' }, 'DUPLICATE_VALUE', `duplicate value found: Ferry_Source_Id__c duplicates value on record with id: ${account}`, []],
      ['Account', { Name: 'B', Bogus__c: 1 }, 'INVALID_FIELD', "No such column 'Bogus__c' on sobject of type Account", ['Bogus__c']],
      ['Lead', { LastName: 'L', Company: 'C', IsConverted: true }, 'INVALID_FIELD_FOR_INSERT_UPDATE', 'Unable to create/update fields: IsConverted. Please check the security settings of this field and verify that it is read/write for your profile or permission set.', ['IsConverted']],
      ['Account', { Name: 'B', NumberOfEmployees: 'many' }, 'INVALID_TYPE_ON_FIELD_IN_RECORD', 'Employees: value not of required type: many', ['NumberOfEmployees']],
    ];
    for (const [object, body, errorCode, message, fields] of cases) {
      const answer = await call(salesforce, 'POST', `/sobjects/${object}`, body);
      expect({ object, body, status: answer.status, answer: answer.body }).toEqual({ object, body, status: 400, answer: [{ errorCode, message, fields }] });
    }
    const update = await call(salesforce, 'PATCH', `/sobjects/Contact/${contact}`, { LastName: null });
    expect(update.body).toEqual([{ errorCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [LastName]', fields: ['LastName'] }]);
    expect((await call(salesforce, 'GET', '/sobjects/Account', undefined, { token: 'wrong' })).body).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
  });

  it('runs sObject Collections in request order with per-record errors, allOrNone rollback and retrieve', async () => {
    salesforce = await startSalesforceEmulator();
    const create = await call(salesforce, 'POST', '/composite/sobjects', {
      allOrNone: false,
      records: [
        { attributes: { type: 'Account' }, Name: 'One' },
        { attributes: { type: 'Contact' }, FirstName: 'No last name' },
        { attributes: { type: 'Account' }, Name: 'Two' },
      ],
    });
    expect(create.status).toBe(200);
    expect(create.body).toEqual([
      { id: expect.stringMatching(/^001/), success: true, errors: [] },
      { success: false, errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [LastName]', fields: ['LastName'] }] },
      { id: expect.stringMatching(/^001/), success: true, errors: [] },
    ]);
    const [one, , two] = create.body.map((result: { id?: string }) => result.id);
    const rolled = await call(salesforce, 'POST', '/composite/sobjects', { allOrNone: true, records: [{ attributes: { type: 'Account' }, Name: 'Three' }, { attributes: { type: 'Account' } }] });
    expect(rolled.body).toEqual([
      { success: false, errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back because not all records were valid and the request was using AllOrNone header', fields: [] }] },
      { success: false, errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name]', fields: ['Name'] }] },
    ]);
    expect((await call(salesforce, 'GET', `/query?q=${encodeURIComponent("SELECT COUNT() FROM Account WHERE Name = 'Three'")}`)).body).toEqual({ totalSize: 0, done: true, records: [] });
    const update = await call(salesforce, 'PATCH', '/composite/sobjects', { records: [{ attributes: { type: 'Account' }, id: two, Name: 'Two!' }, { attributes: { type: 'Account' }, Name: 'no id' }] });
    expect(update.body).toEqual([
      { id: two, success: true, errors: [] },
      { success: false, errors: [{ statusCode: 'MISSING_ARGUMENT', message: 'Id not specified in an update call', fields: [] }] },
    ]);
    const retrieved = await call(salesforce, 'GET', `/composite/sobjects/Account?ids=${one},${two},${makeId('001', 77)}&fields=Id,Name`);
    expect(retrieved.body).toEqual([{ attributes: expect.any(Object), Id: one, Name: 'One' }, { attributes: expect.any(Object), Id: two, Name: 'Two!' }, null]);
    const removed = await call(salesforce, 'DELETE', `/composite/sobjects?ids=${one},${one},bad&allOrNone=false`);
    expect(removed.body).toEqual([
      { id: one, success: true, errors: [] },
      { id: one, success: false, errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }] },
      { id: 'bad', success: false, errors: [{ statusCode: 'MALFORMED_ID', message: 'malformed id bad', fields: [] }] },
    ]);
    const tooMany = await call(salesforce, 'POST', '/composite/sobjects', { records: Array.from({ length: 201 }, () => ({ attributes: { type: 'Account' }, Name: 'x' })) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body[0].errorCode).toBe('EXCEEDED_ID_LIMIT');
  });

  it('upserts on an external id: 201 created, 200 updated, 300 with the candidates when several match', async () => {
    salesforce = await startSalesforceEmulator({ customFields: { Contact: [{ name: 'Legacy_Id__c', type: 'string', length: 40, externalId: true }] } });
    const first = await call(salesforce, 'PATCH', '/sobjects/Contact/Legacy_Id__c/L-1', { LastName: 'First' });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id: expect.stringMatching(/^003/), success: true, errors: [], created: true });
    const second = await call(salesforce, 'PATCH', '/sobjects/Contact/Legacy_Id__c/L-1', { LastName: 'Second' });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ id: first.body.id, success: true, errors: [], created: false });
    const twin = (await call(salesforce, 'POST', '/sobjects/Contact', { LastName: 'Twin', Legacy_Id__c: 'l-1' })).body.id;
    const ambiguous = await call(salesforce, 'PATCH', '/sobjects/Contact/Legacy_Id__c/L-1', { LastName: 'Third' });
    expect(ambiguous.status).toBe(300);
    expect(ambiguous.body).toEqual([`/services/data/v62.0/sobjects/Contact/${first.body.id}`, `/services/data/v62.0/sobjects/Contact/${twin}`]);
    expect((await call(salesforce, 'GET', '/sobjects/Contact/Legacy_Id__c/L-1')).status).toBe(300);
    expect((await call(salesforce, 'PATCH', '/sobjects/Contact/LastName/x', {})).body).toEqual([{ errorCode: 'NOT_FOUND', message: 'Provided external ID field does not exist or is not accessible: LastName' }]);
    const batch = await call(salesforce, 'PATCH', '/composite/sobjects/Contact/Legacy_Id__c', {
      allOrNone: false,
      records: [
        { attributes: { type: 'Contact' }, Legacy_Id__c: 'L-2', LastName: 'New' },
        { attributes: { type: 'Contact' }, Legacy_Id__c: 'L-1', LastName: 'Ambiguous' },
        { attributes: { type: 'Contact' }, Legacy_Id__c: 'L-2', LastName: 'Now updated' },
      ],
    });
    expect(batch.body).toEqual([
      { id: expect.stringMatching(/^003/), success: true, errors: [], created: true },
      { success: false, errors: [{ statusCode: 'DUPLICATE_EXTERNAL_ID', message: `Legacy_Id__c: more than one record found for external id field: [${first.body.id}, ${twin}]`, fields: [] }] },
      { id: batch.body[0].id, success: true, errors: [], created: false },
    ]);
  });

  it('describes objects: types, lengths, picklists, flags, references and polymorphic Who/What', async () => {
    salesforce = await startSalesforceEmulator({ customObjects: [{ name: 'Project__c', fields: [{ name: 'Account__c', type: 'reference', referenceTo: ['Account'] }, { name: 'Phase__c', type: 'picklist', picklistValues: ['Plan', 'Build'], restrictedPicklist: true }] }] });
    const global = await call(salesforce, 'GET', '/sobjects');
    expect(global.body.maxBatchSize).toBe(200);
    const names = global.body.sobjects.map((each: { name: string; keyPrefix: string }) => `${each.name}:${each.keyPrefix}`);
    expect(names).toEqual(expect.arrayContaining(['Account:001', 'Contact:003', 'Lead:00Q', 'Opportunity:006', 'OpportunityContactRole:00K', 'Task:00T', 'Event:00U', 'Note:002', 'User:005', 'RecordType:012', 'Project__c:a01']));
    const task = (await call(salesforce, 'GET', '/sobjects/Task/describe')).body;
    const byName = (describe: { fields: { name: string }[] }, name: string) => describe.fields.find((each) => each.name === name) as Record<string, unknown>;
    expect(byName(task, 'WhatId')).toMatchObject({ type: 'reference', referenceTo: ['Account', 'Opportunity'], relationshipName: 'What', polymorphicForeignKey: true, nillable: true });
    expect(byName(task, 'Status')).toMatchObject({ type: 'picklist', restrictedPicklist: true, nillable: false, defaultedOnCreate: true, picklistValues: expect.arrayContaining([{ active: true, defaultValue: true, label: 'Not Started', validFor: null, value: 'Not Started' }]) });
    const contact = (await call(salesforce, 'GET', '/sobjects/Contact/describe')).body;
    expect(byName(contact, 'LastName')).toMatchObject({ type: 'string', length: 80, nillable: false, createable: true, updateable: true, externalId: false, unique: false });
    expect(byName(contact, 'Name')).toMatchObject({ createable: false, calculated: true, nameField: true });
    expect(byName(contact, 'Email')).toMatchObject({ type: 'email', length: 80, soapType: 'xsd:string' });
    const project = (await call(salesforce, 'GET', '/sobjects/Project__c/describe')).body;
    expect(project).toMatchObject({ name: 'Project__c', custom: true, keyPrefix: 'a01' });
    expect(byName(project, 'Account__c')).toMatchObject({ custom: true, referenceTo: ['Account'], relationshipName: 'Account__r' });
    const account = (await call(salesforce, 'GET', '/sobjects/Account/describe')).body;
    expect(account.childRelationships).toEqual(expect.arrayContaining([expect.objectContaining({ childSObject: 'Contact', field: 'AccountId', relationshipName: 'Contacts', cascadeDelete: true }), expect.objectContaining({ childSObject: 'Project__c', field: 'Account__c' })]));
    expect((await call(salesforce, 'GET', '/sobjects/Nope__c/describe')).status).toBe(404);
    const versions = await call(salesforce, '/services/data'.length ? 'GET' : 'GET', '/services/data', undefined, { token: null });
    expect(versions.body[0]).toEqual({ label: "Winter '11", url: '/services/data/v20.0', version: '20.0' });
    expect(versions.body.at(-1)).toEqual({ label: "Winter '25", url: '/services/data/v62.0', version: '62.0' });
    expect((await call(salesforce, 'GET', '/services/data/v63.0/sobjects')).status).toBe(404);
    expect((await call(salesforce, 'GET', '/services/data/v62.0')).body.query).toBe('/services/data/v62.0/query');
  });

  it('keeps Lightning notes as ContentNote shared through ContentDocumentLink, queryable only by document or record', async () => {
    salesforce = await startSalesforceEmulator({ seed: 'sample' });
    const account = (await call(salesforce, 'GET', `/query?q=${encodeURIComponent('SELECT Id FROM Account LIMIT 1')}`)).body.records[0].Id as string;
    const html = '<p>Met the <b>CFO</b>, sent the quote</p>';
    const note = await call(salesforce, 'POST', '/sobjects/ContentNote', { Title: 'Visit', Content: Buffer.from(html).toString('base64') });
    expect(note.status).toBe(201);
    expect(note.body.id).toMatch(/^069/);
    const link = await call(salesforce, 'POST', '/sobjects/ContentDocumentLink', { ContentDocumentId: note.body.id, LinkedEntityId: account, ShareType: 'V' });
    expect(link.body.id).toMatch(/^06A/);
    const read = await call(salesforce, 'GET', `/sobjects/ContentNote/${note.body.id}`);
    expect(read.body).toMatchObject({ Title: 'Visit', Content: `/services/data/v62.0/sobjects/ContentNote/${note.body.id}/Content`, TextPreview: 'Met the CFO , sent the quote', FileType: 'SNOTE', ContentSize: html.length });
    const body = await fetch(`${salesforce.url}${read.body.Content}`, { headers: { Authorization: `Bearer ${salesforce.accessToken}` } });
    expect(await body.text()).toBe(html);
    const links = await call(salesforce, 'GET', `/query?q=${encodeURIComponent(`SELECT ContentDocumentId, ContentDocument.Title, LinkedEntityId, LinkedEntity.Name, ShareType, Visibility FROM ContentDocumentLink WHERE ContentDocumentId = '${note.body.id}'`)}`);
    // The owner's link comes with the document, as on Salesforce.
    expect(links.body.records.map((each: { LinkedEntityId: string; ShareType: string; ContentDocument: { Title: string } }) => [each.LinkedEntityId.slice(0, 3), each.ShareType, each.ContentDocument.Title])).toEqual([['005', 'I', 'Visit'], ['001', 'V', 'Visit']]);
    const unfiltered = await call(salesforce, 'GET', `/query?q=${encodeURIComponent('SELECT Id FROM ContentDocumentLink')}`);
    expect(unfiltered.body[0].errorCode).toBe('MALFORMED_QUERY');
    expect(unfiltered.body[0].message).toContain('Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId');
    expect((await call(salesforce, 'GET', `/query?q=${encodeURIComponent(`SELECT COUNT() FROM ContentDocumentLink WHERE LinkedEntityId IN ('${account}')`)}`)).body.totalSize).toBeGreaterThan(0);
    expect((await call(salesforce, 'POST', '/sobjects/ContentNote', { Title: 'Bad', Content: 'not base64!' })).body[0].errorCode).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    expect(salesforce.seeded!.contentNotes).toBeGreaterThan(0);
  });

  it('counts every REST call against the daily allocation and answers 403 REQUEST_LIMIT_EXCEEDED when spent', async () => {
    const clock = manualClock(Date.UTC(2024, 2, 17));
    salesforce = await startSalesforceEmulator({ dailyApiRequests: 3, clock: clock.now });
    expect((await call(salesforce, 'GET', '/limits')).body.DailyApiRequests).toEqual({ Max: 3, Remaining: 2 });
    expect((await call(salesforce, 'GET', '/sobjects')).headers.get('sforce-limit-info')).toBe('api-usage=2/3');
    expect((await call(salesforce, 'GET', '/sobjects')).status).toBe(200);
    const refused = await call(salesforce, 'GET', '/sobjects');
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    expect(refused.headers.get('sforce-limit-info')).toBe('api-usage=3/3');
    expect((await call(salesforce, 'GET', '/services/data', undefined, { token: null })).status).toBe(200);
    clock.advance(86_400_000);
    expect((await call(salesforce, 'GET', '/sobjects')).headers.get('sforce-limit-info')).toBe('api-usage=1/3');
  });

  it('refuses new requests while the concurrent long-running requests are at the limit', async () => {
    const clock = manualClock(Date.UTC(2024, 2, 17));
    salesforce = await startSalesforceEmulator({ clock: clock.now, concurrentLongRunning: { limit: 2, thresholdMs: 20_000 } });
    // The two slow requests sleep long enough (real time) for the test to see them in flight; time itself is the clock.
    salesforce.faults.latency(1000, { path: '*/sobjects/Account/describe', count: 2 });
    const slow = [call(salesforce, 'GET', '/sobjects/Account/describe'), call(salesforce, 'GET', '/sobjects/Account/describe')];
    while (salesforce.log.filter((entry) => entry.path.endsWith('/describe') && entry.status === 0).length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await call(salesforce, 'GET', '/limits')).status).toBe(200);
    clock.advance(20_000);
    const refused = await call(salesforce, 'GET', '/limits');
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual([{ message: 'ConcurrentRequests (Concurrent API Requests) Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    expect((await Promise.all(slow)).map((answer) => answer.status)).toEqual([200, 200]);
    expect((await call(salesforce, 'GET', '/limits')).status).toBe(200);
  });

  it('injects faults through the kit: 503 with Salesforce\'s body, 403 for the limit storm, locked rows in a batch', async () => {
    salesforce = await startSalesforceEmulator({ faultSeed: 7 });
    salesforce.faults.serverError(503, { path: '/services/data/*/sobjects', count: 1 });
    const failed = await call(salesforce, 'GET', '/sobjects');
    expect(failed.status).toBe(503);
    expect(failed.body[0].errorCode).toBe('SERVER_UNAVAILABLE');
    expect((await call(salesforce, 'GET', '/sobjects')).status).toBe(200);
    salesforce.faults.rateLimitStorm({ count: 1 });
    expect((await call(salesforce, 'GET', '/limits')).body).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    // The concurrent long-running limit as a fault (without holding 25 slow requests open).
    salesforce.faults.rateLimitStorm({ count: 1, policyName: 'ConcurrentRequests' });
    const concurrent = await call(salesforce, 'GET', '/limits');
    expect(concurrent.status).toBe(403);
    expect(concurrent.body).toEqual([{ message: 'ConcurrentRequests (Concurrent API Requests) Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    expect((await call(salesforce, 'GET', '/limits')).status).toBe(200);
    salesforce.faults.partialBatch(0.5, { path: '*/composite/sobjects' });
    const records = Array.from({ length: 20 }, (_, index) => ({ attributes: { type: 'Account' }, Name: `A${index}` }));
    const answer = await call(salesforce, 'POST', '/composite/sobjects', { records });
    const locked = answer.body.filter((result: { success: boolean }) => !result.success);
    expect(locked.length).toBeGreaterThan(0);
    expect(locked.length).toBeLessThan(20);
    expect(locked[0].errors[0].statusCode).toBe('UNABLE_TO_LOCK_ROW');
    const count = await call(salesforce, 'GET', `/query?q=${encodeURIComponent('SELECT COUNT() FROM Account')}`);
    expect(count.body.totalSize).toBe(20 - locked.length);
  });
});
