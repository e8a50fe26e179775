import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCsv, startSalesforceEmulator, toCsv, type SalesforceEmulator } from './index.js';
import { call, manualClock } from './test-support.js';

async function csvCall(salesforce: SalesforceEmulator, method: string, path: string, csv?: string) {
  const response = await fetch(`${salesforce.url}/services/data/v${salesforce.latestVersion}${path}`, { method, headers: { Authorization: `Bearer ${salesforce.accessToken}`, 'Content-Type': 'text/csv' }, body: csv });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function untilComplete(salesforce: SalesforceEmulator, path: string): Promise<{ states: string[]; info: Record<string, unknown> }> {
  const states: string[] = [];
  for (;;) {
    const info = (await call(salesforce, 'GET', path)).body;
    states.push(info.state);
    if (info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted') return { states, info };
  }
}

describe('Salesforce emulator: Bulk API 2.0', () => {
  let salesforce: SalesforceEmulator | undefined;
  afterEach(async () => {
    await salesforce?.close();
    salesforce = undefined;
  });

  it('CSV round-trips any cells (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r\n', ' ', 'é') }), { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 6 }), (rows) => {
        expect(parseCsv(toCsv(rows))).toEqual(rows);
      }),
      { seed: 1503, numRuns: 300 },
    );
  });

  it('runs an ingest job: create, upload CSV batches, UploadComplete, states, successful/failed/unprocessed results', async () => {
    const clock = manualClock(Date.UTC(2024, 2, 17, 12));
    salesforce = await startSalesforceEmulator({ clock: clock.now });
    const job = await call(salesforce, 'POST', '/jobs/ingest', { object: 'Contact', operation: 'insert', contentType: 'CSV', lineEnding: 'LF' });
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({ id: expect.stringMatching(/^750/), object: 'Contact', operation: 'insert', state: 'Open', contentType: 'CSV', apiVersion: 62, lineEnding: 'LF', columnDelimiter: 'COMMA', createdById: salesforce.userId, createdDate: '2024-03-17T12:00:00.000+0000', contentUrl: `services/data/v62.0/jobs/ingest/${job.body.id}/batches` });
    const id = job.body.id as string;
    expect((await csvCall(salesforce, 'PUT', `/jobs/ingest/${id}/batches`, 'FirstName,LastName,Email\nAda,Lovelace,ada@example.com\n"Grace, Rear Admiral",Hopper,\n')).status).toBe(201);
    expect((await csvCall(salesforce, 'PUT', `/jobs/ingest/${id}/batches`, 'FirstName,LastName,Email\nNo,,x@example.com\n')).status).toBe(201);
    expect((await call(salesforce, 'PATCH', `/jobs/ingest/${id}`, { state: 'UploadComplete' })).body.state).toBe('UploadComplete');
    expect((await csvCall(salesforce, 'PUT', `/jobs/ingest/${id}/batches`, 'LastName\nLate\n')).status).toBe(409);
    const { states, info } = await untilComplete(salesforce, `/jobs/ingest/${id}`);
    expect(states).toEqual(['InProgress', 'JobComplete']);
    expect(info).toMatchObject({ numberRecordsProcessed: 3, numberRecordsFailed: 1 });
    const success = await csvCall(salesforce, 'GET', `/jobs/ingest/${id}/successfulResults`);
    expect(success.headers.get('content-type')).toBe('text/csv');
    const rows = parseCsv(success.text);
    expect(rows[0]).toEqual(['sf__Id', 'sf__Created', 'FirstName', 'LastName', 'Email']);
    expect(rows.slice(1).map((row) => [row[0]!.slice(0, 3), row[1], row[2]])).toEqual([['003', 'true', 'Ada'], ['003', 'true', 'Grace, Rear Admiral']]);
    const failed = parseCsv((await csvCall(salesforce, 'GET', `/jobs/ingest/${id}/failedResults`)).text);
    expect(failed).toEqual([['sf__Id', 'sf__Error', 'FirstName', 'LastName', 'Email'], ['', 'REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --', 'No', '', 'x@example.com']]);
    const grace = (await call(salesforce, 'GET', `/sobjects/Contact/${rows[2]![0]}`)).body;
    expect(grace).toMatchObject({ FirstName: 'Grace, Rear Admiral', LastName: 'Hopper', Email: null });

    const aborted = (await call(salesforce, 'POST', '/jobs/ingest', { object: 'Account', operation: 'insert' })).body.id;
    await csvCall(salesforce, 'PUT', `/jobs/ingest/${aborted}/batches`, 'Name\nNever\n');
    expect((await call(salesforce, 'PATCH', `/jobs/ingest/${aborted}`, { state: 'Aborted' })).body.state).toBe('Aborted');
    expect(parseCsv((await csvCall(salesforce, 'GET', `/jobs/ingest/${aborted}/unprocessedrecords`)).text)).toEqual([['Name'], ['Never']]);
    expect((await call(salesforce, 'POST', '/jobs/ingest', { object: 'Nope', operation: 'insert' })).body[0].errorCode).toBe('INVALIDJOB');
  });

  it('upserts by external id in an ingest job and reports creates and updates', async () => {
    salesforce = await startSalesforceEmulator({ customFields: { Account: [{ name: 'Src__c', type: 'string', length: 20, externalId: true, unique: true }] } });
    await call(salesforce, 'POST', '/sobjects/Account', { Name: 'Old', Src__c: 'S1' });
    const id = (await call(salesforce, 'POST', '/jobs/ingest', { object: 'Account', operation: 'upsert', externalIdFieldName: 'Src__c' })).body.id;
    await csvCall(salesforce, 'PUT', `/jobs/ingest/${id}/batches`, 'Src__c,Name\nS1,Renamed\nS2,Fresh\n');
    await call(salesforce, 'PATCH', `/jobs/ingest/${id}`, { state: 'UploadComplete' });
    await untilComplete(salesforce, `/jobs/ingest/${id}`);
    const rows = parseCsv((await csvCall(salesforce, 'GET', `/jobs/ingest/${id}/successfulResults`)).text);
    expect(rows.slice(1).map((row) => [row[1], row[2], row[3]])).toEqual([['false', 'S1', 'Renamed'], ['true', 'S2', 'Fresh']]);
    const names = (await call(salesforce, 'GET', `/query?q=${encodeURIComponent('SELECT Name FROM Account ORDER BY Src__c')}`)).body.records.map((record: { Name: string }) => record.Name);
    expect(names).toEqual(['Renamed', 'Fresh']);
  });

  it('updates and deletes by Id in ingest jobs, with a pipe delimiter and CRLF line endings', async () => {
    salesforce = await startSalesforceEmulator({ seed: (store) => ['A', 'B', 'C'].forEach((name) => store.create('Account', { Name: name })) });
    const ids = (await call(salesforce, 'GET', `/query?q=${encodeURIComponent('SELECT Id FROM Account ORDER BY Name')}`)).body.records.map((record: { Id: string }) => record.Id);
    const run = async (operation: string, csv: string) => {
      const id = (await call(salesforce!, 'POST', '/jobs/ingest', { object: 'Account', operation, columnDelimiter: 'PIPE', lineEnding: 'CRLF' })).body.id;
      expect((await csvCall(salesforce!, 'PUT', `/jobs/ingest/${id}/batches`, csv)).status).toBe(201);
      await call(salesforce!, 'PATCH', `/jobs/ingest/${id}`, { state: 'UploadComplete' });
      expect((await untilComplete(salesforce!, `/jobs/ingest/${id}`)).info.state).toBe('JobComplete');
      return { success: (await csvCall(salesforce!, 'GET', `/jobs/ingest/${id}/successfulResults`)).text, failed: parseCsv((await csvCall(salesforce!, 'GET', `/jobs/ingest/${id}/failedResults`)).text, '|') };
    };
    const updated = await run('update', `Id|Name|Description\r\n${ids[0]}|A2|#N/A\r\n|nobody|x\r\n`);
    expect(updated.success).toBe(`"sf__Id"|"sf__Created"|"Id"|"Name"|"Description"\r\n"${ids[0]}"|"false"|"${ids[0]}"|"A2"|"#N/A"\r\n`);
    expect(updated.failed[1]![1]).toBe('MISSING_ARGUMENT:Id not specified in an update call:Id --');
    const deleted = await run('delete', `Id\r\n${ids[1]}\r\n${ids[1]}\r\n`);
    expect(deleted.failed.slice(1).map((row) => row[1])).toEqual(['ENTITY_IS_DELETED:entity is deleted: --']);
    const left = (await call(salesforce, 'GET', `/query?q=${encodeURIComponent('SELECT Name, Description FROM Account ORDER BY Name')}`)).body.records.map((record: { Name: string; Description: string | null }) => [record.Name, record.Description]);
    expect(left).toEqual([['A2', null], ['C', null]]);
  });

  it('runs a query job with CSV results paged by Sforce-Locator', async () => {
    salesforce = await startSalesforceEmulator({ seed: (store) => Array.from({ length: 5 }, (_, index) => store.create('Account', { Name: `Acc ${index}`, Description: index === 2 ? 'has "quotes", commas' : null })), bulkStepsPerPoll: 0 });
    const job = await call(salesforce, 'POST', '/jobs/query', { operation: 'query', query: 'SELECT Id, Name, Description, Owner.Username FROM Account ORDER BY Name' });
    expect(job.body).toMatchObject({ state: 'UploadComplete', operation: 'query', object: 'Account', jobType: 'V2Query' });
    expect((await call(salesforce, 'GET', `/jobs/query/${job.body.id}`)).body.state).toBe('UploadComplete');
    expect((await csvCall(salesforce, 'GET', `/jobs/query/${job.body.id}/results`)).status).toBe(400);
    salesforce.bulk.advance();
    expect((await call(salesforce, 'GET', `/jobs/query/${job.body.id}`)).body).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 5 });
    const pages: string[][][] = [];
    let locator: string | null = null;
    do {
      const answer = await csvCall(salesforce, 'GET', `/jobs/query/${job.body.id}/results?maxRecords=2${locator ? `&locator=${locator}` : ''}`);
      pages.push(parseCsv(answer.text));
      expect(answer.headers.get('sforce-numberofrecords')).toBe(String(pages.at(-1)!.length - 1));
      locator = answer.headers.get('sforce-locator');
    } while (locator !== 'null');
    expect(pages.map((page) => page.length - 1)).toEqual([2, 2, 1]);
    expect(pages[0]![0]).toEqual(['Id', 'Name', 'Description', 'Owner.Username']);
    const rows = pages.flatMap((page) => page.slice(1));
    expect(rows.map((row) => row[1])).toEqual(['Acc 0', 'Acc 1', 'Acc 2', 'Acc 3', 'Acc 4']);
    expect(rows[2]![2]).toBe('has "quotes", commas');
    expect(rows[0]![3]).toBe(salesforce.username);
    const bad = await call(salesforce, 'POST', '/jobs/query', { operation: 'query', query: 'SELECT Nope FROM Account' });
    expect(bad.status).toBe(400);
    expect(bad.body[0].errorCode).toBe('INVALID_FIELD');
  });
});
