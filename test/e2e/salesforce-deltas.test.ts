import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../src/emulators/salesforce/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import { buildRunReport } from '../../src/report/index.js';
import { applySourceChanges, writeSampleSqlite } from '../../src/sample/index.js';
import { expectLinkedOrFailed, insertLike, sqlite } from '../support/delta-checks.js';
import { withEngine } from '../support/engine-session.js';
import { addSampleOwners, sampleIntoSalesforce, WITH_EXTERNAL_IDS } from '../support/salesforce-scene.js';

/**
 * Deltas in all three modes into Salesforce (SQL sample -> the Salesforce emulator), with edits made in
 * Salesforce between runs (as a person in the UI: another user, SystemModstamp moving to the second) and the
 * three conflict policies, a retry and an undo, under lost answers of upserts, 503s, REQUEST_LIMIT_EXCEEDED
 * (both the concurrent and the daily variant) and a daily allocation near its end. Small on purpose (CI).
 * After every run: nothing in Salesforce twice, nothing lost (every source record linked or failed).
 */
const SEED = 23;
const V = '/services/data/v62.0';
const upsert = (object: string) => `${V}/composite/sobjects/${object}/Ferry_Source_Id__c`;
const OBJECTS = [
  ['companies', 'Account'],
  ['contacts', 'Contact'],
  ['deals', 'Opportunity'],
  ['tasks', 'Task'],
  ['notes', 'Note'],
] as const;

describe('SQL -> Salesforce: deltas in every mode, conflicts, retry and undo, under faults and a budget near its end', () => {
  let dir: string;
  let salesforce: SalesforceEmulator | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-sf-deltas-'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: SEED, size: 24 });
  });
  afterEach(async () => {
    await salesforce?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('full, create-new, update-changed with target-wins and skip-record, both with source-wins, stops and resumes, retry, undo', async () => {
    let now = Date.UTC(2030, 0, 1, 9);
    salesforce = await startSalesforceEmulator({ port: 0, clock: () => now, customFields: WITH_EXTERNAL_IDS });
    const sf = salesforce;
    const store = sf.store;
    const source = (statement: string, ...params: unknown[]) => sqlite(join(dir, 'source.db'), statement, ...params);
    addSampleOwners(sf, dir);
    // The person who edits records in the Salesforce UI.
    const person = store.create('User', { Username: 'pat@customer.example', Email: 'pat@customer.example', LastName: 'Pat', Alias: 'pat' }).id;
    const project = sampleIntoSalesforce(dir, sf, { pageSize: 50 });
    const session = <T>(work: (engine: Engine, ledger: Ledger) => Promise<T>, withProject = project): Promise<T> => withEngine(dir, withProject, work);
    const live = (name: string) => store.records(store.requireObject(name));
    const data = (id: string) => store.find(id)!.row.data;
    const modstamp = (id: string) => store.value(store.find(id)!, 'SystemModstamp') as number;
    const sfId = async (name: string, id: unknown): Promise<string | null> => (id === null || id === undefined ? null : ((await session((_engine, ledger) => ledger.getLink(name, String(id))))?.targetId ?? null));
    /** A person edits a record in Salesforce a minute later: another user, SystemModstamp moves (to the second). */
    const editInSalesforce = (id: string, fields: Record<string, unknown>) => {
      now += 60_000;
      const before = modstamp(id);
      store.update(id, fields, person);
      expect(modstamp(id)).toBeGreaterThan(before);
      expect(modstamp(id) % 1000).toBe(0);
      expect(data(id).LastModifiedById).toBe(person);
    };

    async function expectNoDuplicateNothingLost(withProject = project, unfinished = false): Promise<void> {
      await session(async (_engine, ledger) => {
        for (const [name, objectName] of OBJECTS) {
          const records = live(objectName);
          const stamps = objectName === 'Note' ? undefined : records.map((record) => record.row.data.Ferry_Source_Id__c);
          await expectLinkedOrFailed(ledger, name, source(`SELECT id FROM ${name}`).map((row) => String(row.id)), { ids: records.map((record) => record.id), stamps }, { unfinished });
        }
      }, withProject);
    }
    /** Contact -> Account and Opportunity -> Account, Task -> Who/What as the source says, for every linked record. */
    async function expectReferences(): Promise<void> {
      for (const row of source('SELECT id, company_id FROM contacts')) {
        const id = await sfId('contacts', row.id);
        if (id) expect(data(id).AccountId ?? null, `contact ${String(row.id)}`).toBe(await sfId('companies', row.company_id));
      }
      for (const row of source('SELECT id, company_id FROM deals')) {
        const id = await sfId('deals', row.id);
        if (id) expect(data(id).AccountId ?? null, `deal ${String(row.id)}`).toBe(await sfId('companies', row.company_id));
      }
      for (const row of source('SELECT id, contact_id FROM tasks')) {
        const id = await sfId('tasks', row.id);
        if (id) expect(data(id).WhoId ?? null, `task ${String(row.id)}`).toBe(await sfId('contacts', row.contact_id));
      }
    }

    // ---- full, with lost answers of upserts, a 503 and the concurrent-requests limit on the writes.
    sf.faults.dropConnection({ afterWrite: true, path: upsert('Contact'), method: 'PATCH', count: 2 });
    sf.faults.dropConnection({ afterWrite: true, path: upsert('Task'), method: 'PATCH', count: 1 });
    sf.faults.serverError(503, { path: upsert('Account'), method: 'PATCH', count: 1 });
    sf.faults.rateLimitStorm({ policyName: 'ConcurrentRequests', path: upsert('Opportunity'), method: 'PATCH', count: 2 });
    const full = await session((engine) => engine.migrate());
    expect(['completed', 'completed_with_failures']).toContain(full.status);
    expect(Object.values(sf.faults.fired()).every((count) => count > 0)).toBe(true);
    await expectNoDuplicateNothingLost();
    await expectReferences();
    sf.faults.clear();

    // ---- source changes an hour later, and a contact and a deal moved to another company.
    now += 3_600_000;
    const first = await applySourceChanges(join(dir, 'source.db'), { seed: SEED, newRecords: 4, changedRecords: 6, at: '2031-01-01T00:00:00.000Z' });
    const linkedChanged = [];
    for (const id of first.changed.contacts) if (await sfId('contacts', id)) linkedChanged.push(id);
    const [conflicted, skipped, targetOnly] = linkedChanged;
    expect(targetOnly).toBeDefined();
    const companies = source('SELECT id FROM companies ORDER BY id').map((row) => Number(row.id));
    const moved = source('SELECT id, company_id FROM contacts WHERE id = ?', targetOnly)[0]!;
    const newCompany = companies.find((id) => id !== moved.company_id)!;
    source('UPDATE contacts SET company_id = ? WHERE id = ?', newCompany, targetOnly);
    const movedDeal = Number(source('SELECT id FROM deals WHERE company_id IS NOT NULL ORDER BY id')[0]!.id);
    const dealCompany = companies.find((id) => id !== source('SELECT company_id FROM deals WHERE id = ?', movedDeal)[0]!.company_id)!;
    source("UPDATE deals SET company_id = ?, updated_at = '2031-01-01 00:00:00' WHERE id = ?", dealCompany, movedDeal);
    const conflictedId = (await sfId('contacts', conflicted))!;
    const skippedId = (await sfId('contacts', skipped))!;
    const targetOnlyId = (await sfId('contacts', targetOnly))!;
    const movedDealId = (await sfId('deals', movedDeal))!;
    const sourceContact = (id: unknown) => source('SELECT phone, job_title FROM contacts WHERE id = ?', id)[0]!;

    // ---- people edit in Salesforce: the phone that also changed in the source (a conflict), a name that did not.
    const before = { conflicted: { ...data(conflictedId) }, skipped: { ...data(skippedId) } };
    editInSalesforce(conflictedId, { Phone: '+49 30 1111111' });
    editInSalesforce(skippedId, { Title: 'Typed in Salesforce' });
    editInSalesforce(targetOnlyId, { FirstName: 'Typed' });

    // ---- create-new only: new records created (one answer lost), changed ones left alone.
    now += 60_000;
    sf.faults.dropConnection({ afterWrite: true, path: upsert('Contact'), method: 'PATCH', count: 1 });
    const createNew = await session((engine) => engine.delta({ createNew: true, updateChanged: false }));
    expect(createNew.status).toBe('completed');
    expect(Object.values(sf.faults.fired()).every((count) => count > 0)).toBe(true);
    for (const name of ['contacts', 'companies', 'deals', 'notes'] as const) {
      const counts = createNew.counts[name]!;
      expect(counts.updated, name).toBe(0);
      expect(counts.created + counts.matched + counts.failed, name).toBe(first.created[name].length);
    }
    expect(data(conflictedId).Phone, 'create-new leaves changed records alone').toBe('+49 30 1111111');
    expect(data(conflictedId).Title).toBe(before.conflicted.Title);
    expect(data(movedDealId).AccountId).not.toBe(await sfId('companies', dealCompany));
    await expectNoDuplicateNothingLost();
    sf.faults.clear();

    // ---- update-changed with target-wins, 503s on the updates and on the read of the current values (sObject Collections retrieve).
    now += 60_000;
    sf.faults.serverError(503, { path: `${V}/composite/sobjects`, method: 'PATCH', count: 2 });
    sf.faults.serverError(503, { path: `${V}/composite/sobjects/Contact`, method: 'POST', count: 1 });
    const targetWins = await session((engine) => engine.delta({ createNew: false, updateChanged: true, onConflict: 'target-wins' }));
    expect(targetWins.status).toBe('completed');
    expect(Object.values(sf.faults.fired()).every((count) => count > 0)).toBe(true);
    expect(Object.values(targetWins.counts).reduce((sum, counts) => sum + counts.created, 0)).toBe(0);
    expect(targetWins.counts.contacts!.updated).toBeGreaterThan(0);
    const report = await session((_engine, ledger) => buildRunReport(ledger, targetWins.runId));
    expect(report.conflicts).toContainEqual(expect.objectContaining({ object: 'contacts', sourceId: String(conflicted), targetId: conflictedId, field: 'Phone', targetValue: '+49 30 1111111', resolution: 'target-wins' }));
    expect(report.conflicts).toContainEqual(expect.objectContaining({ object: 'contacts', sourceId: String(skipped), field: 'Title', targetValue: 'Typed in Salesforce', resolution: 'target-wins' }));
    expect(report.conflictsByResolution['target-wins']).toBe(report.conflicts.length);
    // Field by field: the conflicted field keeps Salesforce's value, the source-only change is written.
    expect(data(conflictedId).Phone, 'target-wins keeps the Salesforce edit').toBe('+49 30 1111111');
    expect(data(conflictedId).Title).toBe(sourceContact(conflicted).job_title);
    expect(data(skippedId).Title).toBe('Typed in Salesforce');
    expect(data(skippedId).Phone).toBe(sourceContact(skipped).phone);
    expect(data(targetOnlyId).FirstName, 'a field changed only in Salesforce is kept').toBe('Typed');
    expect(data(targetOnlyId).AccountId, 'Contact -> Account follows the source').toBe(await sfId('companies', newCompany));
    expect(data(movedDealId).AccountId, 'Opportunity -> Account follows the source').toBe(await sfId('companies', dealCompany));
    await expectNoDuplicateNothingLost();
    await expectReferences();
    sf.faults.clear();

    // ---- both change again; update-changed with skip-record, stopped once by a spent allocation (403 TotalRequests).
    now += 3_600_000;
    source("UPDATE contacts SET job_title = 'Chief Skipper', phone = '+1 (212) 555-0101', updated_at = '2031-06-01 00:00:00' WHERE id = ?", skipped);
    source("UPDATE companies SET phone = '+1 212-555-0111', updated_at = '2031-06-01 00:00:00' WHERE id = ?", companies[0]);
    editInSalesforce(skippedId, { Title: 'Typed again in Salesforce' });
    const skippedBefore = { ...data(skippedId) };
    const skippedStamp = modstamp(skippedId);
    now += 60_000;
    const forbidden = () => sf.log.filter((entry) => entry.status === 403).length;
    const refusedBefore = forbidden();
    sf.faults.rateLimitStorm({ path: `${V}/composite/sobjects`, method: 'PATCH', count: 1 });
    const stopped = session((engine) => engine.delta({ createNew: false, updateChanged: true, onConflict: 'skip-record' }));
    await expect(stopped).rejects.toMatchObject({ code: 'RATE_LIMITED', details: expect.objectContaining({ resumable: true, limit: 'daily' }) });
    expect(forbidden(), 'a spent daily allocation is not retried').toBe(refusedBefore + 1);
    const skip = await session((engine) => engine.delta({ createNew: false, updateChanged: true, onConflict: 'skip-record' }));
    expect(skip.resumed).toBe(true);
    expect(skip.status).toBe('completed');
    expect(data((await sfId('companies', companies[0]))!).Phone, 'the update the refusal stopped is written on resume').toBe('+1 212-555-0111');
    const skipReport = await session((_engine, ledger) => buildRunReport(ledger, skip.runId));
    expect(skipReport.conflicts).toContainEqual(expect.objectContaining({ object: 'contacts', sourceId: String(skipped), field: 'Title', sourceValue: 'Chief Skipper', targetValue: 'Typed again in Salesforce', resolution: 'skip-record' }));
    expect(skip.counts.contacts!.conflicts).toBeGreaterThan(0);
    expect(data(skippedId).Phone, 'skip-record writes nothing of the record').toBe(skippedBefore.Phone);
    expect(data(skippedId).Title).toBe('Typed again in Salesforce');
    expect(modstamp(skippedId), 'not even touched').toBe(skippedStamp);
    await expectNoDuplicateNothingLost();
    sf.faults.clear();

    // ---- both modes with source-wins; a new deal with a stage the value map lacks fails alone; the org's
    // allocation is near its end: the run stops before spending it, resumably, and resumes to completion.
    now += 3_600_000;
    const second = await applySourceChanges(join(dir, 'source.db'), { seed: SEED + 1, newRecords: 3, changedRecords: 4, at: '2032-01-01T00:00:00.000Z' });
    const exotic = insertLike(join(dir, 'source.db'), 'deals', second.created.deals[0]!, { stage: 'Exotic', name: 'Exotic deal' });
    source("UPDATE contacts SET phone = '+1 (646) 555-0199', updated_at = '2032-01-01 00:00:00' WHERE id = ?", conflicted);
    editInSalesforce(conflictedId, { Phone: '+49 30 2222222' });
    const phoneBeforeBoth = data(conflictedId).Phone;
    now += 60_000;
    // Half the allocation is the connector's (apiShare 0.5): room for the schema reads (13 calls) and a few
    // writes of this run, not all of it.
    const ROOM = 20;
    const used = sf.limits.used();
    sf.limits.setMax(2 * (used + ROOM));
    const forbiddenBefore = forbidden();
    const bothCommand = (engine: Engine) => engine.delta({ createNew: true, updateChanged: true, onConflict: 'source-wins' });
    await expect(session(bothCommand)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(forbidden(), 'stopped before Salesforce refused anything').toBe(forbiddenBefore);
    expect(sf.limits.used()).toBeLessThanOrEqual(used + ROOM);
    await expectNoDuplicateNothingLost(project, true);
    const interrupted = await session((_engine, ledger) => ledger.unfinishedRuns());
    expect(interrupted).toHaveLength(1);
    expect(interrupted[0]).toMatchObject({ kind: 'delta', status: 'interrupted' });
    expect(interrupted[0]!.error).toMatch(/RATE_LIMITED/);
    sf.limits.setMax(100_000);
    const both = await session(bothCommand);
    expect(both).toMatchObject({ runId: interrupted[0]!.id, resumed: true });
    expect(both.status).toBe('completed_with_failures');
    expect(both.counts.contacts!.created + both.counts.contacts!.matched).toBe(second.created.contacts.length);
    expect(both.counts.contacts!.updated).toBeGreaterThan(0);
    const bothReport = await session((_engine, ledger) => buildRunReport(ledger, both.runId));
    expect(bothReport.conflicts).toContainEqual(expect.objectContaining({ object: 'contacts', sourceId: String(conflicted), field: 'Phone', targetValue: '+49 30 2222222', resolution: 'source-wins' }));
    expect(data(conflictedId).Phone, 'source-wins writes the source value').toBe('+1 (646) 555-0199');
    const failed = await session((_engine, ledger) => ledger.listFailures({ runId: both.runId, severity: 'error' }));
    expect(failed.map((failure) => [failure.object, failure.sourceId, failure.code, failure.field, failure.value])).toEqual([['deals', String(exotic), 'VALUE_NOT_MAPPED', 'StageName', '"Exotic"']]);
    // The report of the resumed run lists the failed deal once, as its counts say.
    expect(bothReport.failures.map((failure) => [failure.object, failure.sourceId])).toEqual([['deals', String(exotic)]]);
    expect(bothReport.objects.find((each) => each.object === 'deals')).toMatchObject({ failures: 1, counts: expect.objectContaining({ failed: 1 }) });
    await expectNoDuplicateNothingLost();
    await expectReferences();
    const beforeRetry = Object.fromEntries(OBJECTS.map(([, objectName]) => [objectName, live(objectName).length]));

    // ---- retry with the value map fixed: only the failed deal is written.
    const fixed = structuredClone(project);
    const stage = fixed.objects.find((mapping) => mapping.source === 'deals')!.fields.find((field) => field.target === 'StageName')!;
    if (stage.transform.kind === 'map') stage.transform.values.Exotic = 'Prospecting';
    const retry = await session((engine) => engine.retry(both.runId), fixed);
    expect(retry.counts.deals).toMatchObject({ created: 1, failed: 0 });
    expect(live('Opportunity')).toHaveLength(beforeRetry.Opportunity! + 1);
    await expectNoDuplicateNothingLost(fixed);

    // ---- undo, newest first: the retry's opportunity, then the combined delta's creates and updates.
    expect((await session((engine) => engine.undo(retry.runId), fixed)).status).toBe('completed');
    expect(live('Opportunity')).toHaveLength(beforeRetry.Opportunity!);
    expect((await session((engine) => engine.undo(both.runId), fixed)).status).toBe('completed');
    for (const [name, objectName] of OBJECTS) expect(live(objectName), objectName).toHaveLength(beforeRetry[objectName]! - both.counts[name]!.created);
    expect(data(conflictedId).Phone, 'undo restores the value Salesforce held before the delta').toBe(phoneBeforeBoth);
  }, 120_000);
});
