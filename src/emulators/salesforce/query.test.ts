import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startSalesforceEmulator, type SalesforceEmulator, type SalesforceStore } from './index.js';
import { call, manualClock, queryAllPages, soql } from './test-support.js';

const NOW = Date.UTC(2024, 2, 17, 12, 0, 0);
const DAY = 86_400_000;

describe('Salesforce emulator: SOQL query and queryAll', () => {
  let salesforce: SalesforceEmulator | undefined;
  afterEach(async () => {
    await salesforce?.close();
    salesforce = undefined;
  });

  it('selects fields and parent relationship fields of the sample org, with attributes and nulls', async () => {
    salesforce = await startSalesforceEmulator({ seed: 'sample', clock: () => NOW });
    const answer = await call(salesforce, 'GET', soql("SELECT Id, Name, Account.Name, account.owner.email, ReportsToId FROM Contact WHERE Account.Name = 'aurora oy' ORDER BY Name LIMIT 2"));
    expect(answer.status).toBe(200);
    expect(answer.body.totalSize).toBe(2);
    const [first] = answer.body.records;
    expect(Object.keys(first)).toEqual(['attributes', 'Id', 'Name', 'Account', 'ReportsToId']);
    expect(first.Account).toEqual({ attributes: { type: 'Account', url: expect.stringMatching(/^\/services\/data\/v62\.0\/sobjects\/Account\/001/) }, Name: 'Aurora Oy', Owner: { attributes: expect.objectContaining({ type: 'User' }), Email: expect.stringContaining('@emulator.example') } });
    expect(first.ReportsToId).toBeNull();
    const tasks = await call(salesforce, 'GET', soql('SELECT Id, Who.Name, What.Name, What.Type FROM Task WHERE WhatId = null LIMIT 1'));
    expect(tasks.body.records[0].What).toBeNull();
    expect(tasks.body.records[0].Who.attributes.type).toBe('Lead');
    const leads = await call(salesforce, 'GET', soql('SELECT Id, ConvertedAccount.Name, ConvertedContactId, ConvertedOpportunityId FROM Lead WHERE IsConverted = true'));
    expect(leads.body.totalSize).toBe(salesforce.seeded!.convertedLeads);
    expect(leads.body.records[0].ConvertedContactId).toMatch(/^003/);
    const roles = await call(salesforce, 'GET', soql('SELECT COUNT() FROM OpportunityContactRole WHERE IsPrimary = true'));
    expect(roles.body).toEqual({ totalSize: expect.any(Number), done: true, records: [] });
    expect(roles.body.totalSize).toBeGreaterThan(0);
  });

  it('pages with nextRecordsUrl in batches of 2,000, or Sforce-Query-Options batchSize', async () => {
    salesforce = await startSalesforceEmulator({ clock: () => NOW, seed: (store) => fill(store, 2500) });
    const all = await queryAllPages(salesforce, 'SELECT Id FROM Account');
    expect(all).toMatchObject({ pages: 2, totalSize: 2500 });
    expect(new Set(all.records.map((record) => record.Id)).size).toBe(2500);
    const first = await call(salesforce, 'GET', soql('SELECT Id FROM Account'));
    expect(first.body.nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/query\/01g[a-zA-Z0-9]{15}-2000$/);
    expect(first.body.records).toHaveLength(2000);
    const small = await queryAllPages(salesforce, 'SELECT Id FROM Account ORDER BY Name DESC LIMIT 1000', { 'Sforce-Query-Options': 'batchSize=300' });
    expect(small).toMatchObject({ pages: 4, totalSize: 1000 });
    expect((await call(salesforce, 'GET', '/query/01g5g0000000099AAA-2000')).body).toEqual([{ errorCode: 'INVALID_QUERY_LOCATOR', message: 'invalid query locator' }]);
  });

  it('returns deleted records only through queryAll, with IsDeleted', async () => {
    salesforce = await startSalesforceEmulator({ clock: () => NOW, seed: (store) => fill(store, 3) });
    const [gone] = (await call(salesforce, 'GET', soql('SELECT Id FROM Account ORDER BY Name LIMIT 1'))).body.records;
    await call(salesforce, 'DELETE', `/sobjects/Account/${gone.Id}`);
    expect((await call(salesforce, 'GET', soql('SELECT Id FROM Account'))).body.totalSize).toBe(2);
    const all = await call(salesforce, 'GET', `/queryAll?q=${encodeURIComponent('SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true')}`);
    expect(all.body.records.map((record: { Id: string; IsDeleted: boolean }) => [record.Id, record.IsDeleted])).toEqual([[gone.Id, true]]);
  });

  it('answers malformed and invalid queries with Salesforce\'s codes and positioned messages', async () => {
    salesforce = await startSalesforceEmulator({ clock: () => NOW });
    const cases: [string, string, RegExp][] = [
      ['SELECT Id FROM Account WHERE', 'MALFORMED_QUERY', /unexpected token: '<EOF>'/],
      ['SELECT Id FROM Account WHERE Name = \'a\' AND Name = \'b\' OR Name = \'c\'', 'MALFORMED_QUERY', /ERROR at Row:1:Column:56\nunexpected token: 'OR'/],
      ['SELECT Bogus FROM Account', 'INVALID_FIELD', /ERROR at Row:1:Column:8\nNo such column 'Bogus' on entity 'Account'/],
      ['SELECT Nope.Name FROM Contact', 'INVALID_FIELD', /Didn't understand relationship 'Nope' in field path/],
      ['SELECT Id FROM Nothing__c', 'INVALID_TYPE', /sObject type 'Nothing__c' is not supported/],
      ['SELECT Id FROM Account WHERE CreatedDate > \'2024-01-01\'', 'INVALID_QUERY_FILTER_OPERATOR', /value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes/],
      ['SELECT Id FROM Account WHERE Name = 5', 'INVALID_QUERY_FILTER_OPERATOR', /must be of type string and should be enclosed in quotes/],
      ['SELECT Id FROM Account WHERE Id = \'xyz\'', 'INVALID_QUERY_FILTER_OPERATOR', /invalid ID field: xyz/],
      ['SELECT Id FROM Account OFFSET 2001', 'NUMBER_OUTSIDE_VALID_RANGE', /Maximum SOQL offset allowed is 2000/],
      ['SELECT Id, (SELECT Id FROM Contacts) FROM Account', 'MALFORMED_QUERY', /unexpected token: '\('/],
    ];
    for (const [text, errorCode, message] of cases) {
      const answer = await call(salesforce, 'GET', soql(text));
      expect({ text, status: answer.status, errorCode: answer.body[0].errorCode }).toEqual({ text, status: 400, errorCode });
      expect(answer.body[0].message).toMatch(message);
    }
  });

  it('orders by several fields with NULLS FIRST/LAST, then OFFSET and LIMIT', async () => {
    salesforce = await startSalesforceEmulator({ clock: () => NOW, seed: (store) => ['b', 'A', null, 'c', null].forEach((industry, index) => store.create('Account', { Name: `N${index % 2}`, Description: industry })) });
    const names = async (text: string) => (await call(salesforce!, 'GET', soql(text))).body.records.map((record: { Name: string; Description: string | null }) => `${record.Name}:${record.Description}`);
    expect(await names('SELECT Name, Description FROM Account ORDER BY Name DESC, Description NULLS LAST')).toEqual(['N1:A', 'N1:c', 'N0:b', 'N0:null', 'N0:null']);
    expect(await names('SELECT Name, Description FROM Account ORDER BY Description DESC')).toEqual(['N1:c', 'N0:b', 'N1:A', 'N0:null', 'N0:null']);
    expect(await names('SELECT Name, Description FROM Account ORDER BY Description ASC NULLS FIRST LIMIT 2 OFFSET 1')).toEqual(['N0:null', 'N1:A']);
  });

  it('evaluates WHERE like a reference evaluator over random conditions (property)', async () => {
    const clock = manualClock(NOW);
    salesforce = await startSalesforceEmulator({ clock: clock.now, seed: (store) => fillOpportunities(store) });
    const records = (await queryAllPages(salesforce, 'SELECT Id, Name, Amount, StageName, CloseDate, IsWon, CreatedDate, Description FROM Opportunity')).records as Row[];
    expect(records.length).toBe(60);
    await fc.assert(
      fc.asyncProperty(conditionArb(3), async (condition) => {
        const text = `SELECT Id FROM Opportunity WHERE ${condition.soql}`;
        const answer = await call(salesforce!, 'GET', soql(text));
        expect(answer.status, `${text}: ${JSON.stringify(answer.body)}`).toBe(200);
        const expected = records.filter((record) => condition.test(record)).map((record) => record.Id);
        expect(answer.body.records.map((record: Row) => record.Id)).toEqual(expected);
      }),
      { seed: 1502, numRuns: 150 },
    );
  });
});

function fill(store: SalesforceStore, count: number): void {
  for (let index = 0; index < count; index++) store.create('Account', { Name: `Account ${String(index).padStart(5, '0')}` });
}

type Row = { Id: string; Name: string; Amount: number | null; StageName: string; CloseDate: string; IsWon: boolean; CreatedDate: string; Description: string | null };

const STAGES = ['Prospecting', 'Qualification', 'Closed Won', 'Closed Lost'];
const WORDS = ['alpha', 'Beta', 'gamma', 'ALPHA beta', '50% off', 'under_score'];

function fillOpportunities(store: SalesforceStore): void {
  for (let index = 0; index < 60; index++) {
    store.create(
      'Opportunity',
      { Name: WORDS[index % WORDS.length]!, Amount: index % 7 === 0 ? null : (index * 37) % 500, StageName: STAGES[index % 4]!, CloseDate: new Date(NOW + ((index % 11) - 5) * DAY).toISOString().slice(0, 10), Description: index % 3 === 0 ? null : WORDS[(index * 5) % WORDS.length]! },
      undefined,
      { addTime: NOW - (index % 9) * DAY - 3_600_000 },
    );
  }
}

interface Generated {
  soql: string;
  test: (row: Row) => boolean;
}

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const lower = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value);
/** The reference: SOQL's rules written plainly (case-insensitive strings, != and NOT IN match null). */
function compare(op: string, have: unknown, want: unknown): boolean {
  if (want === null) return op === '=' ? have === null : have !== null;
  if (op === '=') return have !== null && lower(have) === lower(want);
  if (op === '!=') return have === null || lower(have) !== lower(want);
  if (have === null) return false;
  const [a, b] = [lower(have), lower(want)] as [number | string, number | string];
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}

function leafArb(): fc.Arbitrary<Generated> {
  const op = fc.constantFrom('=', '!=', '<', '<=', '>', '>=');
  const amount = fc.tuple(op, fc.oneof(fc.integer({ min: -10, max: 510 }), fc.constant(null))).map(([o, value]): Generated => ({ soql: `Amount ${o} ${value === null ? 'null' : value}`, test: (row) => (value === null && !['=', '!='].includes(o) ? false : compare(o, row.Amount, value)) }));
  const name = fc.tuple(fc.constantFrom('=', '!='), fc.constantFrom(...WORDS, 'ALPHA', 'nothing')).map(([o, value]): Generated => ({ soql: `Name ${o} ${quote(value)}`, test: (row) => compare(o, row.Name, value) }));
  const like = fc.constantFrom('alp%', '%BETA', '%a%', '_eta', '50\\% off', 'under\\_score', '%').map((pattern): Generated => {
    // The reference reads the pattern character by character: \% and \_ are literal, % any run, _ any one.
    let source = '';
    for (let index = 0; index < pattern.length; index++) {
      const char = pattern[index]!;
      if (char === '\\') source += `\\${pattern[++index]}`;
      else source += char === '%' ? '.*' : char === '_' ? '.' : char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    const regex = new RegExp(`^${source}$`, 'is');
    return { soql: `Description LIKE ${quote(pattern).replace(/\\\\([%_])/g, '\\$1')}`, test: (row) => row.Description !== null && regex.test(row.Description) };
  });
  const stageIn = fc.tuple(fc.boolean(), fc.subarray(STAGES, { minLength: 1 })).map(([negated, values]): Generated => ({ soql: `StageName ${negated ? 'NOT IN' : 'IN'} (${values.map(quote).join(', ')})`, test: (row) => values.includes(row.StageName) !== negated }));
  const closeDate = fc.tuple(op, fc.integer({ min: -6, max: 6 })).map(([o, days]): Generated => {
    const date = new Date(NOW + days * DAY).toISOString().slice(0, 10);
    return { soql: `CloseDate ${o} ${date}`, test: (row) => compare(o, row.CloseDate, date) };
  });
  const created = fc.tuple(op, fc.integer({ min: -10, max: 1 })).map(([o, days]): Generated => {
    const ms = NOW + days * DAY;
    return { soql: `CreatedDate ${o} ${new Date(ms).toISOString().replace('.000Z', 'Z')}`, test: (row) => compare(o, Date.parse(row.CreatedDate.replace('+0000', 'Z')), ms) };
  });
  const lastDays = fc.integer({ min: 0, max: 9 }).map((n): Generated => {
    const start = Date.UTC(2024, 2, 17 - n);
    return { soql: `CreatedDate = LAST_N_DAYS:${n}`, test: (row) => Date.parse(row.CreatedDate.replace('+0000', 'Z')) >= start };
  });
  const won = fc.boolean().map((value): Generated => ({ soql: `IsWon = ${value}`, test: (row) => row.IsWon === value }));
  return fc.oneof(amount, name, like, stageIn, closeDate, created, lastDays, won);
}

function conditionArb(depth: number): fc.Arbitrary<Generated> {
  if (depth === 0) return leafArb();
  const inner = conditionArb(depth - 1);
  return fc.oneof(
    { weight: 3, arbitrary: leafArb() },
    { weight: 1, arbitrary: inner.map((item): Generated => ({ soql: `NOT (${item.soql})`, test: (row) => !item.test(row) })) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom('AND', 'OR'), fc.array(inner, { minLength: 2, maxLength: 3 })).map(([joiner, items]): Generated => ({
        soql: items.map((item) => `(${item.soql})`).join(` ${joiner} `),
        test: (row) => (joiner === 'AND' ? items.every((item) => item.test(row)) : items.some((item) => item.test(row))),
      })),
    },
  );
}
