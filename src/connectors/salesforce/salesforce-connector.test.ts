import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { readAll, type CrmRecord } from '../../core/connector.js';
import { isFerryError } from '../../core/errors.js';
import { findObject } from '../../core/schema.js';
import { startSalesforceEmulator, type SalesforceEmulator, type SalesforceEmulatorOptions } from '../../emulators/salesforce/index.js';
import { createSalesforceConnector, parseLimitInfo, type SalesforceConnector } from './index.js';

/**
 * The Salesforce connector against the emulator over real HTTP, beyond the contract suite: the three ways to
 * sign in, describe's schema (polymorphic parts, picklists, required, external id), idempotent creates by
 * upsert after a lost answer, several matches, records Salesforce could not lock, and the daily allocation.
 */
let emulator: SalesforceEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const EXTERNAL = { name: 'Ferry_Source_Id__c', type: 'string' as const, length: 80, externalId: true };

async function start(options: SalesforceEmulatorOptions = {}, settings: Record<string, unknown> = {}): Promise<{ sf: SalesforceEmulator; connector: SalesforceConnector }> {
  emulator = await startSalesforceEmulator({ port: 0, customFields: { Account: [EXTERNAL], Contact: [EXTERNAL], Task: [] }, ...options });
  const connector = createSalesforceConnector({ accessToken: emulator.accessToken, instanceUrl: emulator.url, ...settings });
  return { sf: emulator, connector };
}

async function all(connector: SalesforceConnector, object: string, options: { modifiedSince?: string; limit?: number } = {}): Promise<CrmRecord[]> {
  const records: CrmRecord[] = [];
  for await (const record of readAll(connector, object, { limit: 200, ...options })) records.push(record);
  return records;
}

describe('salesforce connector: signing in', () => {
  it('JWT bearer: signs the assertion with the private key, takes the instance URL from the answer, and signs in again after a 401', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    emulator = await startSalesforceEmulator({ port: 0, connectedApp: { clientId: 'app', clientSecret: 'secret', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() } });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // Given through an environment variable, a key often has its line breaks written as \n.
    const connector = createSalesforceConnector({ loginUrl: emulator.url, clientId: 'app', username: emulator.username, privateKey: pem.replace(/\n/g, '\\n') });
    await connector.check();
    const before = emulator.oauth.tokens.size;
    // The token is revoked: the next request gets a 401 and the connector signs in again, once.
    for (const [token, grant] of emulator.oauth.tokens) if (grant.username === emulator.username && token !== emulator.accessToken) emulator.oauth.tokens.delete(token);
    const users = await all(connector, 'User');
    expect(users.map((user) => user.fields.Username)).toContain(emulator.username);
    expect(emulator.oauth.tokens.size).toBe(before);

    const wrongUser = createSalesforceConnector({ loginUrl: emulator.url, clientId: 'app', username: 'nobody@example.com', privateKey: pem });
    await expect(wrongUser.check()).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringMatching(/JWT bearer sign-in .*invalid_grant/) });
  });

  it('refresh token: a bad one is AUTH_FAILED naming the settings to check, never echoing the token', async () => {
    emulator = await startSalesforceEmulator({ port: 0, refreshTokens: { 'good-refresh-token': 'integration@emulator.example' } });
    const good = createSalesforceConnector({ loginUrl: emulator.url, clientId: 'emulator-client-id', clientSecret: 'emulator-client-secret', refreshToken: 'good-refresh-token' });
    await good.check();
    const bad = createSalesforceConnector({ loginUrl: emulator.url, clientId: 'emulator-client-id', refreshToken: 'revoked-refresh-token' }, { configPath: 'source' });
    const error = await bad.check().catch((caught: unknown) => caught);
    expect(isFerryError(error) && error.code).toBe('AUTH_FAILED');
    expect(String((error as Error).message)).toMatch(/source\.refreshToken/);
    expect(String((error as Error).message)).not.toContain('revoked-refresh-token');
  });

  it('settings: exactly one way to sign in, each with what it needs', () => {
    expect(() => createSalesforceConnector({ accessToken: 'x' })).toThrow(/instanceUrl: is needed with accessToken/);
    expect(() => createSalesforceConnector({ refreshToken: 'x', privateKey: 'y' })).toThrow(/exactly one way to sign in/);
    expect(() => createSalesforceConnector({ privateKey: 'not a key', clientId: 'a', username: 'b' })).toThrow(/is not a PEM private key/);
    expect(parseLimitInfo('api-usage=18/5000')).toEqual({ used: 18, max: 5000 });
    expect(parseLimitInfo('per-app-api-usage=2/250(appName=x), api-usage=7/100')).toEqual({ used: 7, max: 100 });
  });
});

describe('salesforce connector: schema and values', () => {
  it('describe: polymorphic WhoId/WhatId parts, owner as a User reference, picklists, required fields, the external id', async () => {
    const { connector } = await start();
    const schema = await connector.describe();
    const task = findObject(schema, 'Task')!;
    const field = (name: string) => task.fields.find((each) => each.name === name);
    expect(field('WhoId')).toMatchObject({ type: 'string' });
    expect(field('WhoId:Contact')).toMatchObject({ type: 'reference', reference: { object: 'Contact' } });
    expect(field('WhoId:Lead')).toMatchObject({ type: 'reference', reference: { object: 'Lead' } });
    expect(field('WhatId:Opportunity')).toMatchObject({ type: 'reference', reference: { object: 'Opportunity' } });
    expect(field('OwnerId')).toMatchObject({ type: 'reference', reference: { object: 'User' } });
    expect(field('Status')).toMatchObject({ type: 'enum' });
    expect(field('Status')!.options!.map((option) => option.value)).toContain('Completed');
    expect(field('Status')!.required).toBeUndefined(); // defaulted on create
    const opportunity = findObject(schema, 'Opportunity')!;
    expect(opportunity.fields.find((each) => each.name === 'StageName')).toMatchObject({ type: 'enum', required: true });
    expect(opportunity.fields.find((each) => each.name === 'IsWon')).toMatchObject({ type: 'boolean', readOnly: true });
    expect(opportunity.fields.find((each) => each.name === 'Amount')).toMatchObject({ type: 'number' });
    const account = findObject(schema, 'Account')!;
    expect(account).toMatchObject({ modifiedField: 'SystemModstamp', createdField: 'CreatedDate', externalIdField: 'Ferry_Source_Id__c' });
    expect(account.fields.find((each) => each.name === 'Name')).toMatchObject({ type: 'string', required: true, maxLength: 255 });
    expect(account.fields.find((each) => each.name === 'RecordTypeId')).toMatchObject({ type: 'reference', reference: { object: 'RecordType' } });
    const lead = findObject(schema, 'Lead')!;
    expect(lead.fields.find((each) => each.name === 'IsConverted')).toMatchObject({ type: 'boolean', readOnly: true });
    expect(lead.fields.find((each) => each.name === 'ConvertedContactId')).toMatchObject({ type: 'reference', readOnly: true });
  });

  it('a task is written through its polymorphic parts and read back as them', async () => {
    const { connector } = await start();
    const [account] = await connector.create('Account', [{ ref: 'a', fields: { Name: 'Acme' } }]);
    const [contact] = await connector.create('Contact', [{ ref: 'c', fields: { LastName: 'Berg', AccountId: account!.ok ? account!.id : null } }]);
    const contactId = contact!.ok ? contact!.id : '';
    const accountId = account!.ok ? account!.id : '';
    const [task] = await connector.create('Task', [{ ref: 't', fields: { Subject: 'Call', 'WhoId:Contact': contactId, 'WhoId:Lead': null, 'WhatId:Account': accountId, ActivityDate: '2026-03-02' } }]);
    expect(task!.ok).toBe(true);
    const [record] = await connector.readByIds('Task', [task!.ok ? task!.id : '']);
    expect(record!.fields).toMatchObject({ WhoId: contactId, 'WhoId:Contact': contactId, 'WhoId:Lead': null, 'WhatId:Account': accountId, 'WhatId:Opportunity': null, ActivityDate: '2026-03-02', Status: 'Not Started' });
    // An account id in the contact part is refused before anything is sent, naming field and value.
    const [bad] = await connector.create('Task', [{ ref: 'x', fields: { Subject: 'Bad', 'WhoId:Contact': accountId } }]);
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE', field: 'WhoId:Contact', value: accountId } });
  });
});

describe('salesforce connector: writes', () => {
  it('creates stamped with an external id are upserts: a lost answer sent again finds the record instead of doubling it', async () => {
    const { sf, connector } = await start({}, { maxRetries: 3 });
    sf.faults.dropConnection({ afterWrite: true, path: /composite\/sobjects\/Account\/Ferry_Source_Id__c/, method: 'PATCH', count: 1 });
    const inputs = Array.from({ length: 250 }, (_, index) => ({ ref: `r${index}`, externalId: `src-${index}`, fields: { Name: `Account ${index}` } }));
    const results = await connector.create('Account', inputs);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(Object.values(sf.faults.fired()).reduce((sum, count) => sum + count, 0)).toBe(1);
    const accounts = sf.store.records(sf.store.requireObject('Account'));
    expect(accounts).toHaveLength(250);
    const found = await connector.findByExternalIds('Account', ['src-0', 'src-249', 'src-missing']);
    expect(found.get('src-0')).toBe(results[0]!.ok ? results[0]!.id : '');
    expect(found.get('src-249')).toBe(results[249]!.ok ? results[249]!.id : '');
    expect(found.has('src-missing')).toBe(false);
  });

  it('two records with one external id: the upsert is ambiguous, the others are written', async () => {
    const { sf, connector } = await start();
    sf.store.create('Account', { Name: 'Twin 1', Ferry_Source_Id__c: 'same' });
    sf.store.create('Account', { Name: 'Twin 2', Ferry_Source_Id__c: 'same' });
    const results = await connector.create('Account', [
      { ref: 'a', externalId: 'other', fields: { Name: 'Fine' } },
      { ref: 'b', externalId: 'same', fields: { Name: 'Which one?' } },
    ]);
    expect(results[0]!.ok).toBe(true);
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'AMBIGUOUS_MATCH' } });
  });

  it('records Salesforce could not lock are sent again; per-record errors name Ferry code, field and value', async () => {
    const { sf, connector } = await start({ faultSeed: 3 });
    sf.faults.partialBatch(0.3, { path: '/services/data/v62.0/composite/sobjects', method: 'POST', count: 1 });
    sf.store.schema.addCustomField('Contact', { name: 'Badge__c', type: 'string', length: 5 });
    const inputs = Array.from({ length: 30 }, (_, index) => ({ ref: `c${index}`, fields: { LastName: `Person ${index}`, Email: `p${index}@example.com` } }));
    inputs[7] = { ref: 'bad-email', fields: { LastName: 'Bad', Email: 'not-an-email' } };
    inputs[9] = { ref: 'long', fields: { LastName: 'Long', Badge__c: 'far too long' } as never };
    const results = await connector.create('Contact', inputs);
    expect(sf.faults.fired()).not.toEqual({});
    expect(results.filter((result) => result.ok)).toHaveLength(28);
    expect(results[7]).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE', field: 'Email', value: 'not-an-email' } });
    expect(results[9]).toMatchObject({ ok: false, error: { field: 'Badge__c', value: 'far too long' } });
    expect(sf.store.records(sf.store.requireObject('Contact'))).toHaveLength(28);
  });
});

describe('salesforce connector: the daily API allocation', () => {
  it('Sforce-Limit-Info feeds the budget, and the run stops resumably before the share of the allocation is spent', async () => {
    const { sf, connector } = await start({ dailyApiRequests: 40 }, { apiShare: 0.5 });
    await connector.check();
    expect(connector.usage()).toMatchObject({ unit: 'API calls', limit: 40 });
    let stop: unknown;
    try {
      for (let index = 0; index < 40; index += 1) await connector.create('Account', [{ ref: `a${index}`, fields: { Name: `A ${index}` } }]);
    } catch (error) {
      stop = error;
    }
    expect(isFerryError(stop) && stop.code).toBe('RATE_LIMITED');
    expect((stop as { details: { resumable?: boolean } }).details.resumable).toBe(true);
    expect(sf.limits.used()).toBeLessThanOrEqual(20);
  });

  it('403 REQUEST_LIMIT_EXCEEDED (the allocation spent by another integration meanwhile) stops the run resumably with a clear message', async () => {
    const { sf, connector } = await start({ dailyApiRequests: 5 }, { apiShare: 1 });
    await connector.check(); // the budget now knows 4 of 5 are left
    for (let index = 0; index < 4; index += 1) await fetch(`${sf.url}/services/data/v62.0/limits`, { headers: { Authorization: `Bearer ${sf.accessToken}` } });
    const error = await connector.create('Account', [{ ref: 'a', fields: { Name: 'A' } }]).catch((caught: unknown) => caught);
    expect(isFerryError(error) && error.code).toBe('RATE_LIMITED');
    expect((error as { details: { resumable?: boolean } }).details.resumable).toBe(true);
    expect(String((error as Error).message)).toMatch(/403 REQUEST_LIMIT_EXCEEDED.*resumable: run the same command again/);
    expect(sf.store.records(sf.store.requireObject('Account'))).toHaveLength(0);
  });
});

describe('salesforce connector: the concurrent long-running request limit', () => {
  // Backoff waits are counted, not slept: the test takes no wall-clock time for them.
  const waits: number[] = [];
  const clock = { now: () => Date.now(), sleep: async (ms: number) => void waits.push(ms) };
  const concurrentConnector = (sf: SalesforceEmulator, maxRetries: number) => createSalesforceConnector({ accessToken: sf.accessToken, instanceUrl: sf.url, maxRetries }, { clock });

  it('a ConcurrentRequests 403 is retried, and the request then succeeds', async () => {
    const { sf } = await start();
    const connector = concurrentConnector(sf, 3);
    waits.length = 0;
    sf.faults.rateLimitStorm({ path: '*/limits', count: 2, policyName: 'ConcurrentRequests' });
    await connector.check();
    expect(waits).toHaveLength(2);
    expect(sf.log.filter((entry) => entry.path.endsWith('/limits')).map((entry) => entry.status)).toEqual([403, 403, 200]);
  });

  it('retries run out: RATE_LIMITED, resumable, naming the concurrent limit (not the daily allocation), never AUTH_FAILED', async () => {
    const { sf } = await start();
    const connector = concurrentConnector(sf, 2);
    sf.faults.rateLimitStorm({ path: '*/limits', policyName: 'ConcurrentRequests' });
    const error = await connector.check().catch((caught: unknown) => caught);
    expect(isFerryError(error) && error.code).toBe('RATE_LIMITED');
    expect((error as { details: { resumable?: boolean; limit?: string } }).details).toMatchObject({ resumable: true, limit: 'concurrent', status: 403 });
    expect(String((error as Error).message)).toMatch(/too many long-running requests .*ConcurrentRequests \(Concurrent API Requests\) Limit exceeded.*not the daily allocation.*resumable: run the same command again/);
    expect(sf.log.filter((entry) => entry.path.endsWith('/limits')).map((entry) => entry.status)).toEqual([403, 403, 403]);
  });

  it('a create sent once (no external id) that meets the concurrent limit stops resumably as RATE_LIMITED and creates nothing', async () => {
    const { sf } = await start();
    const connector = concurrentConnector(sf, 5);
    await connector.check();
    sf.faults.rateLimitStorm({ path: '*/composite/sobjects', method: 'POST', count: 1, policyName: 'ConcurrentRequests' });
    const error = await connector.create('Account', [{ ref: 'a', fields: { Name: 'A' } }]).catch((caught: unknown) => caught);
    expect(isFerryError(error) && error.code).toBe('RATE_LIMITED');
    expect((error as { details: { resumable?: boolean; limit?: string } }).details).toMatchObject({ resumable: true, limit: 'concurrent' });
    expect(String((error as Error).message)).toMatch(/POST .*composite\/sobjects: too many long-running requests/);
    // Sent once: no retry, and Salesforce refused it before doing anything.
    expect(sf.log.filter((entry) => entry.method === 'POST' && entry.path.endsWith('/composite/sobjects'))).toHaveLength(1);
    expect(sf.store.records(sf.store.requireObject('Account'))).toHaveLength(0);
  });

  it('the real limit (slow requests held open past 20 s of the emulator\'s clock) gives the same RATE_LIMITED, not AUTH_FAILED', async () => {
    let now = Date.UTC(2024, 2, 17);
    const { sf } = await start({ clock: () => now, concurrentLongRunning: { limit: 1, thresholdMs: 20_000 } });
    const connector = concurrentConnector(sf, 1);
    sf.faults.latency(1000, { path: '*/sobjects/Account/describe', count: 1 });
    const slow = fetch(`${sf.url}/services/data/v62.0/sobjects/Account/describe`, { headers: { Authorization: `Bearer ${sf.accessToken}` } });
    while (sf.log.filter((entry) => entry.path.endsWith('/describe') && entry.status === 0).length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    now += 20_000;
    const error = await connector.check().catch((caught: unknown) => caught);
    expect(isFerryError(error) && error.code).toBe('RATE_LIMITED');
    expect(String((error as Error).message)).toMatch(/concurrent request limit/);
    expect((await slow).status).toBe(200);
  });
});

describe('salesforce connector: Bulk API 2.0 reads', () => {
  it('a read in any order of an object over the threshold is one query job, its results paged from 50,000-record chunks; the same values as SOQL', async () => {
    const { sf, connector } = await start({}, { bulkReadThreshold: 20, bulkPollMs: 1 });
    for (let index = 0; index < 45; index += 1) sf.store.create('Account', { Name: `Account ${index}`, NumberOfEmployees: index, Industry: index % 2 ? 'Banking' : null, Description: `line one\nline "two", ${index}` });
    const soql = await all(connector, 'Account');
    const before = sf.stats.requests;
    const bulk: CrmRecord[] = [];
    let after: string | undefined;
    do {
      const page = await connector.read('Account', { anyOrder: true, limit: 10, after });
      bulk.push(...page.records);
      after = page.next;
    } while (after);
    expect(connector.bulkJobs).toHaveLength(1);
    expect(bulk).toHaveLength(45);
    const byId = new Map(soql.map((record) => [record.id, record]));
    for (const record of bulk) expect(record).toEqual(byId.get(record.id));
    // count(), create the job, poll it to JobComplete, one results call: a handful of calls for every page.
    expect(sf.stats.requests - before).toBeLessThanOrEqual(6);
    // Below the threshold (a delta of few records) the read stays on SOQL.
    const few = await connector.read('Account', { anyOrder: true, limit: 10, modifiedSince: '2099-01-01T00:00:00.000Z' });
    expect(few.records).toEqual([]);
    expect(connector.bulkJobs).toHaveLength(1);
  });
});

describe('salesforce connector: deletions and faults on reads', () => {
  it('readDeleted lists records in the recycle bin since a time (queryAll, IsDeleted = true); live records are not among them', async () => {
    let now = Date.UTC(2026, 3, 1, 8);
    const { connector } = await start({ clock: () => now });
    const created = await connector.create('Account', [1, 2, 3].map((n) => ({ ref: `a${n}`, fields: { Name: `Account ${n}` } })));
    const ids = created.map((result) => (result.ok ? result.id : ''));
    now += 60_000;
    expect(await connector.delete('Account', [ids[1]!])).toEqual([{ ok: true, id: ids[1] }]);
    const deleted = await connector.readDeleted('Account', new Date(now - 1000).toISOString());
    expect(deleted).toEqual([{ id: ids[1], deletedAt: new Date(now).toISOString() }]);
    expect(await connector.readDeleted('Account', new Date(now + 1000).toISOString())).toEqual([]);
    expect((await all(connector, 'Account')).map((record) => record.id).sort()).toEqual([ids[0], ids[2]].sort());
  });

  it('503s and dropped connections on queries are retried: the read gets every record once', async () => {
    const { sf, connector } = await start({}, { maxRetries: 4 });
    for (let index = 0; index < 30; index += 1) sf.store.create('Contact', { LastName: `Person ${index}` });
    sf.faults.serverError(503, { path: '/services/data/v62.0/query', method: 'GET', count: 2 });
    sf.faults.dropConnection({ path: '/services/data/v62.0/query', method: 'GET', count: 1, skip: 2 });
    const records = await all(connector, 'Contact', { limit: 7 });
    expect(records).toHaveLength(30);
    expect(new Set(records.map((record) => record.id)).size).toBe(30);
    expect(Object.values(sf.faults.fired()).reduce((sum, count) => sum + count, 0)).toBe(3);
  });
});

describe('salesforce connector: Bulk API 2.0 writes', () => {
  it('creates with external ids at or above the threshold are one upsert ingest job, results attributed by external id; sent again they update, never double', async () => {
    const { sf, connector } = await start({}, { bulkWriteThreshold: 10, bulkPollMs: 1 });
    const inputs = Array.from({ length: 25 }, (_, index) => ({ ref: `r${index}`, externalId: `bulk-${index}`, fields: { Name: `Bulk ${index}`, Description: `say "hi", ${index}\nsecond line`, NumberOfEmployees: index } as Record<string, string | number | null> }));
    inputs[4] = { ref: 'nameless', externalId: 'bulk-4', fields: { Name: null, NumberOfEmployees: 4 } };
    const results = await connector.create('Account', inputs);
    expect(connector.bulkJobs).toHaveLength(1);
    expect(results[4]).toMatchObject({ ok: false, error: { code: 'REQUIRED_MISSING', field: 'Name', value: null } });
    expect(results.filter((result) => result.ok)).toHaveLength(24);
    const [third] = await connector.readByIds('Account', [results[3]!.ok ? results[3]!.id : '']);
    expect(third!.fields).toMatchObject({ Name: 'Bulk 3', Description: 'say "hi", 3\nsecond line', NumberOfEmployees: 3, Ferry_Source_Id__c: 'bulk-3' });
    // The same creates again (a run resumed after a lost answer): the upsert finds every record.
    const again = await connector.create('Account', inputs);
    expect(again.map((result) => (result.ok ? result.id : null))).toEqual(results.map((result) => (result.ok ? result.id : null)));
    expect(sf.store.records(sf.store.requireObject('Account'))).toHaveLength(24);
    // Updates at the threshold are an update job by Id; null clears a field (#N/A), a missing id fails alone.
    const ids = results.filter((result) => result.ok).map((result) => (result.ok ? result.id : ''));
    const updates = ids.slice(0, 12).map((id, index) => ({ id, fields: { Phone: `+1 555 ${index}`, Description: null } }));
    const updated = await connector.update('Account', updates);
    expect(connector.bulkJobs).toHaveLength(3);
    expect(updated.every((result) => result.ok)).toBe(true);
    const [first] = await connector.readByIds('Account', [ids[0]!]);
    expect(first!.fields).toMatchObject({ Phone: '+1 555 0', Description: null, Name: 'Bulk 0' });
    // Below the threshold: collections.
    await connector.create('Account', [{ ref: 'small', externalId: 'small-1', fields: { Name: 'Small' } }]);
    expect(connector.bulkJobs).toHaveLength(3);
  });
});

describe('salesforce connector: findContaining (refresh matching in deltas)', () => {
  it('finds the records whose field contains a value, case-insensitively, with LIKE wildcards in values taken literally', async () => {
    const { sf, connector } = await start();
    const make = (LastName: string, Email: string) => sf.store.create('Contact', { LastName, Email }).id;
    const ann = make('Ann', 'Ann.Berg@Example.com');
    const under = make('Under', 'a_b@example.com');
    make('Other', 'axb@example.com');
    make('Bob', 'bob@elsewhere.test');
    const found = await connector.findContaining('Contact', 'Email', ['ann.berg@example.com', 'a_b@'], ['Email']);
    expect(found.map((record) => record.id).sort()).toEqual([ann, under].sort());
    expect(found.find((record) => record.id === ann)!.fields.Email).toBe('Ann.Berg@Example.com');
    expect(await connector.findContaining('Contact', 'Email', ["o'brien@example.com"])).toEqual([]);
  });
});

describe('salesforce connector: objects with hundreds of fields', () => {
  it('a select list too long for a GET URL is read as ids and times by SOQL, the fields by POST retrieve; every record once, all values', async () => {
    const wide = Array.from({ length: 400 }, (_, index) => ({ name: `Long_Custom_Field_Name_Number_${String(index).padStart(3, '0')}__c`, type: 'string' as const, length: 40 }));
    const { sf, connector } = await start({ customObjects: [{ name: 'Wide__c', fields: wide }] });
    for (let index = 0; index < 25; index += 1) sf.store.create('Wide__c', { Name: `Wide ${index}`, Long_Custom_Field_Name_Number_399__c: `value ${index}` });
    const records = await all(connector, 'Wide__c', { limit: 10 });
    expect(records).toHaveLength(25);
    expect(new Set(records.map((record) => record.id)).size).toBe(25);
    expect(records.map((record) => record.fields.Long_Custom_Field_Name_Number_399__c).sort()).toEqual(Array.from({ length: 25 }, (_, index) => `value ${index}`).sort());
    const longest = sf.log.filter((entry) => entry.path.endsWith('/query')).map((entry) => entry.path.length + entry.query.length);
    expect(longest.length).toBeGreaterThan(2);
    expect(Math.max(...longest)).toBeLessThan(4000);
  });
});

describe('salesforce connector: notes (ContentNote and ContentDocumentLink)', () => {
  it('a ContentNote is written and read with its Content as text, and shared with a contact through a ContentDocumentLink part', async () => {
    const { sf, connector } = await start();
    const [contact] = await connector.create('Contact', [{ ref: 'c', fields: { LastName: 'Berg' } }]);
    const contactId = contact!.ok ? contact!.id : '';
    const schema = findObject(await connector.describe(), 'ContentNote')!;
    expect(schema.fields.find((field) => field.name === 'Content')).toMatchObject({ type: 'text' });
    const [note] = await connector.create('ContentNote', [{ ref: 'n', fields: { Title: 'Call', Content: '<p>Call notes: café, "quotes"</p>' } }]);
    expect(note!.ok).toBe(true);
    const noteId = note!.ok ? note!.id : '';
    const [link] = await connector.create('ContentDocumentLink', [{ ref: 'l', fields: { ContentDocumentId: noteId, 'LinkedEntityId:Contact': contactId, ShareType: 'V' } }]);
    expect(link!.ok).toBe(true);
    const [read] = await connector.readByIds('ContentNote', [noteId]);
    expect(read!.fields).toMatchObject({ Title: 'Call', Content: '<p>Call notes: café, "quotes"</p>' });
    const pages = await all(connector, 'ContentNote');
    expect(pages.map((record) => record.fields.Content)).toEqual(['<p>Call notes: café, "quotes"</p>']);
    const links = sf.store.records(sf.store.requireObject('ContentDocumentLink')).filter((record) => record.row.data.ContentDocumentId === noteId);
    expect(links.map((record) => record.row.data.LinkedEntityId)).toContain(contactId);
  });
});

describe('salesforce connector: picklist values per record type', () => {
  it('describe reads describe/layouts once for an object with record types (never for one with Master only) and gives the restriction per variant', async () => {
    const { sf, connector } = await start({ seed: 'sample' }, { objects: ['RecordType', 'Account', 'Contact', 'Opportunity'] });
    const schema = await connector.describe();
    const layoutCalls = sf.log.filter((entry) => entry.path.includes('/describe/layouts')).map((entry) => entry.path.replace(/^.*\/sobjects\//, ''));
    expect(layoutCalls.sort()).toEqual(['Account/describe/layouts', 'Opportunity/describe/layouts']);
    const opportunity = findObject(schema, 'Opportunity')!;
    const recordTypes = (await all(connector, 'RecordType')).filter((record) => record.fields.SobjectType === 'Opportunity');
    const renewal = recordTypes.find((record) => record.fields.Name === 'Renewal')!.id;
    const newBusiness = recordTypes.find((record) => record.fields.Name === 'New Business')!.id;
    expect(opportunity.variants).toEqual({ field: 'RecordTypeId', kind: 'record type', default: newBusiness, list: [{ id: newBusiness, label: 'New Business' }, { id: renewal, label: 'Renewal' }] });
    const stage = opportunity.fields.find((field) => field.name === 'StageName')!;
    expect(stage.type).toBe('enum');
    // New Business offers every stage: only Renewal restricts.
    expect(Object.keys(stage.variantOptions ?? {})).toEqual([renewal]);
    expect(stage.variantOptions![renewal]).not.toContain('Prospecting');
    expect(stage.variantOptions![renewal]).toContain('Closed Won');
    const type = opportunity.fields.find((field) => field.name === 'Type')!;
    expect(type.type).toBe('string');
    expect(type.variantOptions![newBusiness]).toEqual(['New Customer']);
    expect(findObject(schema, 'Contact')!.variants).toBeUndefined();
  });

  it('refuses before the write a restricted value the record type lacks (given or the default), naming record type, field and value; the others are written', async () => {
    const { sf, connector } = await start({ seed: 'sample' }, { objects: ['RecordType', 'Account', 'Opportunity'] });
    const recordTypes = (await all(connector, 'RecordType')).filter((record) => record.fields.SobjectType === 'Opportunity');
    const renewal = recordTypes.find((record) => record.fields.Name === 'Renewal')!.id;
    const base = { Name: 'Deal', CloseDate: '2026-12-31' };
    const before = (await all(connector, 'Opportunity')).length;
    const results = await connector.create('Opportunity', [
      { ref: 'a', fields: { ...base, StageName: 'Prospecting', RecordTypeId: renewal } },
      { ref: 'b', fields: { ...base, StageName: 'Closed Won', RecordTypeId: renewal.slice(0, 15) } },
      { ref: 'c', fields: { ...base, StageName: 'Prospecting' } },
      // Type is unrestricted: Renewal does not offer it, Salesforce stores it anyway, so does Ferry.
      { ref: 'd', fields: { ...base, StageName: 'Closed Won', RecordTypeId: renewal, Type: 'New Customer' } },
    ]);
    expect(results.map((result) => result.ok)).toEqual([false, true, true, true]);
    const refused = results[0]!;
    if (refused.ok) throw new Error('expected a failure');
    expect(refused.error).toMatchObject({ code: 'INVALID_VALUE', field: 'StageName', value: 'Prospecting' });
    expect(refused.error.message).toContain(`record type "Renewal" (${renewal})`);
    expect(refused.error.message).toContain('Negotiation/Review');
    // Refused by Ferry, not by Salesforce: the emulator never saw the record.
    expect(sf.log.filter((entry) => entry.path.includes('/composite/sobjects') && entry.status === 200)).toHaveLength(1);
    expect((await all(connector, 'Opportunity')).length).toBe(before + 3);

    // An update that moves a record into Renewal with a stage Renewal lacks names the record.
    const id = results[2]!.ok ? results[2]!.id : '';
    const updated = await connector.update('Opportunity', [{ id, fields: { RecordTypeId: renewal, StageName: 'Qualification' } }, { id, fields: { StageName: 'Closed Lost' } }]);
    expect(updated[0]).toMatchObject({ ok: false, error: { code: 'INVALID_VALUE', field: 'StageName', value: 'Qualification', message: expect.stringContaining(`Opportunity ${id}: StageName "Qualification" is not available for record type "Renewal"`) } });
    expect(updated[1]!.ok).toBe(true);
  });
});
