import { random } from './child.js';
import { salesforceId18 } from '../../src/connectors/csv/presets/index.js';

/**
 * Realistic CSV exports of the CRMs people leave, generated from a seed: one small CRM (owners,
 * organisations, people, deals, activities, notes), written in each vendor's export format (headers,
 * BOM, quoting, date formats, id forms, delimiters) as docs/connectors/csv.md describes them, and a second,
 * edited export of the same CRM for the delta. `edits` lists what changed, for the test to look up in
 * the target.
 */

export type Vendor = 'pipedrive' | 'hubspot' | 'salesforce' | 'zoho';
export const VENDORS: Vendor[] = ['pipedrive', 'hubspot', 'salesforce', 'zoho'];

export interface Owner {
  first: string;
  last: string;
  email: string;
}

/** The target side knows these owners (HubSpot owners, SQL users); the source has one more, Jonas Becker. */
export const TARGET_OWNERS: Owner[] = [
  { first: 'Anna', last: 'Schmidt', email: 'anna.schmidt@ferry-crm.example' },
  { first: 'Max', last: 'Weber', email: 'max.weber@ferry-crm.example' },
  { first: 'Lena', last: 'Fischer', email: 'lena.fischer@ferry-crm.example' },
];
const SOURCE_OWNERS: Owner[] = [...TARGET_OWNERS, { first: 'Jonas', last: 'Becker', email: 'jonas.becker@ferry-crm.example' }];

interface Org {
  n: number;
  name: string;
  website: string;
  phone: string;
  owner: Owner;
  created: number;
  updated: number;
}
interface Person {
  n: number;
  first: string;
  last: string;
  emails: string[];
  phone: string;
  mobile: string;
  jobtitle: string;
  org: number;
  owner: Owner;
  created: number;
  updated: number;
}
interface Deal {
  n: number;
  title: string;
  /** In cents. */
  value: number;
  currency: string;
  status: 'open' | 'won' | 'lost';
  stage: number;
  org: number;
  person: number;
  owner: Owner;
  close: string;
  created: number;
  updated: number;
}
interface Activity {
  n: number;
  subject: string;
  type: 'call' | 'email' | 'task';
  due: string;
  done: boolean;
  deal: number;
  person: number;
  owner: Owner;
  created: number;
  updated: number;
}
interface Note {
  n: number;
  content: string;
  deal: number;
  person: number;
  org: number;
  owner: Owner;
  created: number;
  updated: number;
}

export interface Crm {
  orgs: Org[];
  people: Person[];
  deals: Deal[];
  activities: Activity[];
  notes: Note[];
}

/** One change of the second export: which record (kind and number), which value it must have in the target. */
export interface Edit {
  kind: 'org' | 'person' | 'deal' | 'note' | 'activity';
  n: number;
  what: 'name' | 'email' | 'phone' | 'jobtitle' | 'stage' | 'status' | 'value' | 'content' | 'created' | 'subject';
  /** The new value as the target must show it (stage: the stage's index, status: won/lost). */
  value: string | number;
}

const FIRST = ['Anna', 'Jürgen', 'Marie', 'Tobias', 'Sofia', 'Lukas', 'Hannah', 'Felix', 'Emma', 'Paul', 'Clara', 'Noah', 'Lea', 'Elias'];
const LAST = ['Müller', 'Schneider', 'Wagner', 'Becker', 'Hoffmann', 'Schäfer', 'Koch', 'Richter', 'Klein', 'Wolf', 'Neumann', 'Zimmermann'];
const COMPANIES = ['Acme', 'Nordlicht', 'Bergmann & Söhne', 'Schmidt, Weber & Partner', 'Hafen Logistik', 'Kranich Software', 'Lindenhof', 'Elbe Medien'];
const TITLES = ['CEO', 'Head of Sales', 'Buyer', 'CTO', 'Office Manager', 'Procurement'];

/** Stage names per vendor, index-aligned: 0 early ... 3 late (the generator picks the index). */
export const STAGES: Record<Vendor, string[]> = {
  pipedrive: ['Qualified', 'Contact Made', 'Proposal Made', 'Negotiations Started'],
  hubspot: ['Appointment Scheduled', 'Qualified To Buy', 'Presentation Scheduled', 'Contract Sent'],
  salesforce: ['Qualification', 'Needs Analysis', 'Proposal/Price Quote', 'Negotiation/Review'],
  zoho: ['Qualification', 'Needs Analysis', 'Proposal/Price Quote', 'Negotiation/Review'],
};

const DAY = 86_400_000;
const EPOCH = Date.UTC(2024, 0, 8, 9, 0, 0);

/** The CRM of a seed, and the same CRM a month later with edits and two new records. */
export function generateCrm(seed: number, size = { orgs: 6, people: 10, deals: 8, activities: 6, notes: 6 }): { first: Crm; second: Crm; edits: Edit[] } {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const int = (low: number, high: number): number => low + Math.floor(next() * (high - low + 1));
  const at = (): number => EPOCH + int(0, 40) * DAY + int(0, 9 * 60) * 60_000;
  const date = (): string => new Date(EPOCH + int(30, 120) * DAY).toISOString().slice(0, 10);
  const orgs: Org[] = Array.from({ length: size.orgs }, (_, index) => {
    const name = COMPANIES[index % COMPANIES.length]! + (index >= COMPANIES.length ? ` ${index}` : '');
    const host = name.toLowerCase().replace(/[^a-z]+/g, '').slice(0, 12);
    const created = at();
    return { n: index + 1, name, website: `https://www.${host}.example/de`, phone: `+49 30 ${int(1000000, 9999999)}`, owner: pick(SOURCE_OWNERS), created, updated: created + DAY };
  });
  const people: Person[] = Array.from({ length: size.people }, (_, index) => {
    const first = FIRST[index % FIRST.length]!;
    const last = LAST[(index * 5) % LAST.length]!;
    const org = orgs[index % orgs.length]!;
    const local = `${first}.${last}`.toLowerCase().normalize('NFKD').replace(/[^a-z.]/g, '');
    const host = org.website.replace(/^https:\/\/www\./, '').replace(/\/.*$/, '');
    // One person has two work addresses in one cell, as vendor exports write them.
    const emails = index === 1 ? [`${local}@${host}`, `${first.toLowerCase()}@private.example`] : [`${local}@${host}`];
    const created = at();
    return { n: index + 1, first, last, emails, phone: `+49 40 ${int(1000000, 9999999)}`, mobile: `+49 171 ${int(1000000, 9999999)}`, jobtitle: pick(TITLES), org: org.n, owner: pick(SOURCE_OWNERS), created, updated: created + DAY };
  });
  const deals: Deal[] = Array.from({ length: size.deals }, (_, index) => {
    const person = people[index % people.length]!;
    // Every stage, status and activity type occurs in the first export, so the proposal's value maps know them all.
    const status = index < 4 ? 'open' : index % 2 === 1 ? 'won' : 'lost';
    const created = at();
    return {
      n: index + 1,
      title: `${orgs[person.org - 1]!.name} – ${pick(['Lizenzen', 'Wartung', 'Rollout', 'Beratung'])}`,
      value: int(500, 250_000) * 100 + pick([0, 50, 99]),
      currency: pick(['EUR', 'EUR', 'USD', 'CHF']),
      status,
      stage: index % 4,
      org: person.org,
      person: person.n,
      owner: pick(SOURCE_OWNERS),
      close: date(),
      created,
      updated: created + DAY,
    };
  });
  const activities: Activity[] = Array.from({ length: size.activities }, (_, index) => {
    const deal = deals[index % deals.length]!;
    const created = at();
    return { n: index + 1, subject: pick(['Follow-up call', 'Send proposal', 'Check contract', 'Intro e-mail']), type: (['call', 'email', 'task'] as const)[index % 3]!, due: date(), done: index % 2 === 0, deal: deal.n, person: deal.person, owner: pick(SOURCE_OWNERS), created, updated: created + DAY };
  });
  const notes: Note[] = Array.from({ length: size.notes }, (_, index) => {
    const deal = deals[index % deals.length]!;
    const created = at();
    return {
      n: index + 1,
      content: index === 0 ? 'Call notes:\n"Budget approved", next step: contract; owner Anna Schmidt' : `${pick(['Spoke about renewal.', 'Sent pricing.', 'Asked for a demo.'])} (${index})`,
      deal: deal.n,
      person: deal.person,
      org: deal.org,
      owner: pick(SOURCE_OWNERS),
      created,
      updated: created + DAY,
    };
  });
  const first: Crm = { orgs, people, deals, activities, notes };

  // A month later: edits, one new person, one new deal.
  const second: Crm = structuredClone(first);
  const later = EPOCH + 70 * DAY;
  const edits: Edit[] = [];
  const touch = (record: { updated: number }, minutes: number) => (record.updated = later + minutes * 60_000);
  second.orgs[0]!.name = `${second.orgs[0]!.name} Holding`;
  touch(second.orgs[0]!, 1);
  edits.push({ kind: 'org', n: 1, what: 'name', value: second.orgs[0]!.name });
  second.people[0]!.emails = [`new.${second.people[0]!.emails[0]!}`];
  touch(second.people[0]!, 2);
  edits.push({ kind: 'person', n: 1, what: 'email', value: second.people[0]!.emails[0]! });
  second.people[2]!.jobtitle = 'Managing Director';
  touch(second.people[2]!, 3);
  edits.push({ kind: 'person', n: 3, what: 'jobtitle', value: 'Managing Director' });
  second.deals[0]!.stage = (second.deals[0]!.stage + 1) % 4;
  second.deals[0]!.status = 'open';
  touch(second.deals[0]!, 4);
  edits.push({ kind: 'deal', n: 1, what: 'stage', value: second.deals[0]!.stage });
  second.deals[2]!.status = 'won';
  touch(second.deals[2]!, 5);
  edits.push({ kind: 'deal', n: 3, what: 'status', value: 'won' });
  second.deals[4]!.value = 1_234_56;
  touch(second.deals[4]!, 6);
  edits.push({ kind: 'deal', n: 5, what: 'value', value: 1234.56 });
  second.notes[1]!.content = `${second.notes[1]!.content} Edited after the call.`;
  touch(second.notes[1]!, 7);
  edits.push({ kind: 'note', n: 2, what: 'content', value: second.notes[1]!.content });
  second.activities[0]!.subject = 'Follow-up call (moved)';
  touch(second.activities[0]!, 8);
  edits.push({ kind: 'activity', n: 1, what: 'subject', value: 'Follow-up call (moved)' });
  const newPerson: Person = { ...structuredClone(second.people[3]!), n: second.people.length + 1, first: 'Greta', last: 'Sommer', emails: ['greta.sommer@sommer.example'], created: later, updated: later + 9 * 60_000 };
  second.people.push(newPerson);
  edits.push({ kind: 'person', n: newPerson.n, what: 'created', value: 'greta.sommer@sommer.example' });
  const newDeal: Deal = { ...structuredClone(second.deals[1]!), n: second.deals.length + 1, title: 'Sommer – Pilot', person: newPerson.n, status: 'open', stage: 0, created: later, updated: later + 10 * 60_000 };
  second.deals.push(newDeal);
  edits.push({ kind: 'deal', n: newDeal.n, what: 'created', value: 'Sommer – Pilot' });
  return { first, second, edits };
}

// ---------------------------------------------------------------------------------------------------------
// CSV writing

function quote(value: string, delimiter: string, always: boolean): string {
  if (always || value.includes(delimiter) || value.includes('"') || value.includes('\n') || value.includes('\r') || /^\s|\s$/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

function csv(header: string[], rows: string[][], options: { delimiter?: string; bom?: boolean; quoteAll?: boolean; newline?: string } = {}): string {
  const delimiter = options.delimiter ?? ',';
  const newline = options.newline ?? '\n';
  const line = (cells: string[]) => cells.map((cell) => quote(cell, delimiter, options.quoteAll === true)).join(delimiter);
  return `${options.bom ? '\uFEFF' : ''}${[line(header), ...rows.map(line)].join(newline)}${newline}`;
}

const naive = (millis: number, seconds = true): string => new Date(millis).toISOString().replace('T', ' ').slice(0, seconds ? 19 : 16);
const iso = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, '.000Z');
const fullName = (owner: Owner): string => `${owner.first} ${owner.last}`;
/** 12.500,00 (German Excel). */
const germanAmount = (cents: number): string => {
  const [whole, fraction] = (cents / 100).toFixed(2).split('.');
  return `${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, '.')},${fraction}`;
};
const plainAmount = (cents: number): string => (cents / 100).toFixed(2);

/** Files of one export: name → content. `stamp` goes into the file names, as the vendors date their exports. */
export function writeExport(vendor: Vendor, crm: Crm, stamp: string): Record<string, string> {
  switch (vendor) {
    case 'pipedrive':
      return pipedrive(crm, stamp);
    case 'hubspot':
      return hubspot(crm, stamp);
    case 'salesforce':
      return salesforce(crm);
    case 'zoho':
      return zoho(crm, stamp);
  }
}

// ---- Pipedrive: `Entity - Field`, UTF-8 with BOM, `YYYY-MM-DD HH:MM:SS`; deals re-saved by a German Excel (`;`, decimal commas).

export const PIPEDRIVE_STATUS = { open: 'open', won: 'won', lost: 'lost' } as const;

function pipedrive(crm: Crm, stamp: string): Record<string, string> {
  const orgName = (n: number) => crm.orgs[n - 1]!.name;
  const person = (n: number) => crm.people.find((entry) => entry.n === n)!;
  return {
    [`organizations-${stamp}.csv`]: csv(
      ['Organization - ID', 'Organization - Name', 'Organization - Owner', 'Organization - Website', 'Organization - Phone', 'Organization - Add time', 'Organization - Update time'],
      crm.orgs.map((org) => [String(org.n), org.name, fullName(org.owner), org.website, org.phone, naive(org.created), naive(org.updated)]),
      { bom: true },
    ),
    [`people-${stamp}.csv`]: csv(
      ['Person - ID', 'Person - Name', 'Person - Organization', 'Organization - ID', 'Person - Email - Work', 'Person - Email - Home', 'Person - Phone - Work', 'Person - Phone - Mobile', 'Person - Job title', 'Person - Owner', 'Person - Add time', 'Person - Update time'],
      crm.people.map((entry) => [String(entry.n), `${entry.first} ${entry.last}`, orgName(entry.org), String(entry.org), entry.emails.join(', '), '', entry.phone, entry.mobile, entry.jobtitle, fullName(entry.owner), naive(entry.created), naive(entry.updated)]),
      { bom: true },
    ),
    [`deals-${stamp}.csv`]: csv(
      ['Deal - ID', 'Deal - Title', 'Deal - Value', 'Deal - Currency', 'Deal - Status', 'Deal - Stage', 'Deal - Owner', 'Deal - Organization', 'Deal - Contact person', 'Organization - ID', 'Person - ID', 'Deal - Expected close date', 'Deal - Add time', 'Deal - Update time'],
      crm.deals.map((deal) => {
        const contact = person(deal.person);
        return [String(deal.n), deal.title, germanAmount(deal.value), deal.currency, PIPEDRIVE_STATUS[deal.status], STAGES.pipedrive[deal.stage]!, fullName(deal.owner), orgName(deal.org), `${contact.first} ${contact.last}`, String(deal.org), String(deal.person), deal.close, naive(deal.created), naive(deal.updated)];
      }),
      { bom: true, delimiter: ';', newline: '\r\n' },
    ),
    [`activities-${stamp}.csv`]: csv(
      ['Activity - ID', 'Activity - Subject', 'Activity - Type', 'Activity - Due date', 'Activity - Done', 'Activity - Assigned to user', 'Deal - ID', 'Person - ID', 'Activity - Add time', 'Activity - Update time'],
      crm.activities.map((activity) => [String(activity.n), activity.subject, activity.type, activity.due, activity.done ? 'Done' : 'To do', fullName(activity.owner), String(activity.deal), String(activity.person), naive(activity.created), naive(activity.updated)]),
      { bom: true },
    ),
    [`notes-${stamp}.csv`]: csv(
      ['Note - ID', 'Note - Content', 'Note - User', 'Deal - ID', 'Person - ID', 'Organization - ID', 'Note - Add time', 'Note - Update time'],
      crm.notes.map((note) => [String(note.n), note.content, fullName(note.owner), String(note.deal), String(note.person), String(note.org), naive(note.created), naive(note.updated)]),
      { bom: true },
    ),
  };
}

// ---- HubSpot: property labels, `Record ID`, `YYYY-MM-DD HH:MM`, associations as `;`-separated ids.

const hubspotId = (kind: number, n: number): string => String(kind * 1_000_000 + 10_000 + n);

function hubspot(crm: Crm, stamp: string): Record<string, string> {
  return {
    [`hubspot-crm-exports-all-companies-${stamp}.csv`]: csv(
      ['Record ID', 'Company name', 'Company Domain Name', 'Website URL', 'Phone Number', 'Company owner', 'Create Date', 'Last Modified Date'],
      crm.orgs.map((org) => [hubspotId(2, org.n), org.name, org.website.replace(/^https:\/\/www\./, '').replace(/\/.*$/, ''), org.website, org.phone, fullName(org.owner), naive(org.created, false), naive(org.updated, false)]),
    ),
    [`hubspot-crm-exports-all-contacts-${stamp}.csv`]: csv(
      ['Record ID', 'First Name', 'Last Name', 'Email', 'Phone Number', 'Mobile Phone Number', 'Job Title', 'Contact owner', 'Associated Company IDs (Primary)', 'Associated Company IDs', 'Create Date', 'Last Modified Date'],
      crm.people.map((entry) => {
        const others = entry.n % 3 === 0 ? [entry.org, (entry.org % crm.orgs.length) + 1] : [entry.org];
        return [hubspotId(1, entry.n), entry.first, entry.last, entry.emails[0]!, entry.phone, entry.mobile, entry.jobtitle, fullName(entry.owner), hubspotId(2, entry.org), others.map((n) => hubspotId(2, n)).join(';'), naive(entry.created, false), naive(entry.updated, false)];
      }),
    ),
    [`hubspot-crm-exports-all-deals-${stamp}.csv`]: csv(
      ['Record ID', 'Deal Name', 'Amount', 'Close Date', 'Deal Stage', 'Pipeline', 'Deal owner', 'Associated Company IDs (Primary)', 'Associated Contact IDs', 'Create Date', 'Last Modified Date'],
      crm.deals.map((deal) => [
        hubspotId(3, deal.n),
        deal.title,
        plainAmount(deal.value),
        `${deal.close} 00:00`,
        deal.status === 'won' ? 'Closed Won' : deal.status === 'lost' ? 'Closed Lost' : STAGES.hubspot[deal.stage]!,
        'Sales Pipeline',
        fullName(deal.owner),
        hubspotId(2, deal.org),
        hubspotId(1, deal.person),
        naive(deal.created, false),
        naive(deal.updated, false),
      ]),
    ),
  };
}

// ---- Salesforce Data Export: one file per object named after it, API names, every value quoted, ISO UTC, 18-character ids.

/** An 18-character id: key prefix, instance, a counter; the case of the letters matters. */
export function salesforceId(prefix: string, n: number): string {
  return salesforceId18(`${prefix}5g00000${String(n).padStart(3, '0')}aBc`.slice(0, 15));
}

const SF_PREFIX = { user: '005', account: '001', contact: '003', opportunity: '006', task: '00T' } as const;

function salesforce(crm: Crm): Record<string, string> {
  const user = (owner: Owner) => salesforceId(SF_PREFIX.user, SOURCE_OWNERS.indexOf(owner) + 1);
  const quoted = { quoteAll: true, newline: '\r\n' };
  return {
    'User.csv': csv(
      ['Id', 'Username', 'LastName', 'FirstName', 'Name', 'Email', 'IsActive', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp'],
      SOURCE_OWNERS.map((owner, index) => [salesforceId(SF_PREFIX.user, index + 1), owner.email, owner.last, owner.first, fullName(owner), owner.email, 'true', iso(EPOCH - DAY), iso(EPOCH - DAY), iso(EPOCH - DAY)]),
      quoted,
    ),
    'Account.csv': csv(
      ['Id', 'IsDeleted', 'Name', 'Phone', 'Website', 'OwnerId', 'CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp'],
      crm.orgs.map((org) => [salesforceId(SF_PREFIX.account, org.n), 'false', org.name, org.phone, org.website, user(org.owner), iso(org.created), user(org.owner), iso(org.updated), user(org.owner), iso(org.updated)]),
      quoted,
    ),
    'Contact.csv': csv(
      ['Id', 'IsDeleted', 'AccountId', 'LastName', 'FirstName', 'Name', 'Title', 'Phone', 'MobilePhone', 'Email', 'OwnerId', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp'],
      crm.people.map((entry) => {
        const account = salesforceId(SF_PREFIX.account, entry.org);
        // Every third contact refers to its account by the 15-character id (pasted from a report).
        return [salesforceId(SF_PREFIX.contact, entry.n), 'false', entry.n % 3 === 0 ? account.slice(0, 15) : account, entry.last, entry.first, `${entry.first} ${entry.last}`, entry.jobtitle, entry.phone, entry.mobile, entry.emails[0]!, user(entry.owner), iso(entry.created), iso(entry.updated), iso(entry.updated)];
      }),
      quoted,
    ),
    'Opportunity.csv': csv(
      ['Id', 'IsDeleted', 'AccountId', 'Name', 'StageName', 'Amount', 'CloseDate', 'IsClosed', 'IsWon', 'OwnerId', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp'],
      crm.deals.map((deal) => [
        salesforceId(SF_PREFIX.opportunity, deal.n),
        'false',
        salesforceId(SF_PREFIX.account, deal.org),
        deal.title,
        deal.status === 'won' ? 'Closed Won' : deal.status === 'lost' ? 'Closed Lost' : STAGES.salesforce[deal.stage]!,
        plainAmount(deal.value),
        deal.close,
        String(deal.status !== 'open'),
        String(deal.status === 'won'),
        user(deal.owner),
        iso(deal.created),
        iso(deal.updated),
        iso(deal.updated),
      ]),
      quoted,
    ),
    'Task.csv': csv(
      ['Id', 'WhoId', 'WhatId', 'Subject', 'ActivityDate', 'Status', 'Priority', 'OwnerId', 'Description', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp'],
      crm.activities.map((activity) => [
        salesforceId(SF_PREFIX.task, activity.n),
        salesforceId(SF_PREFIX.contact, activity.person),
        salesforceId(SF_PREFIX.opportunity, activity.deal),
        activity.subject,
        activity.due,
        activity.done ? 'Completed' : 'Not Started',
        activity.n % 2 === 0 ? 'High' : 'Normal',
        user(activity.owner),
        `${activity.type} about deal ${activity.deal}`,
        iso(activity.created),
        iso(activity.updated),
        iso(activity.updated),
      ]),
      quoted,
    ),
  };
}

// ---- Zoho CRM: field labels, `Record Id` as zcrm_<digits>, lookups as the related record's zcrm_ id, `YYYY-MM-DD HH:MM:SS`.

export const zohoId = (module: number, n: number): string => `zcrm_48768760000${module}${String(n).padStart(7, '0')}`;

function zoho(crm: Crm, stamp: string): Record<string, string> {
  return {
    [`Accounts_${stamp}.csv`]: csv(
      ['Record Id', 'Account Owner', 'Account Name', 'Phone', 'Website', 'Created Time', 'Modified Time'],
      crm.orgs.map((org) => [zohoId(1, org.n), fullName(org.owner), org.name, org.phone, org.website, naive(org.created), naive(org.updated)]),
    ),
    [`Contacts_${stamp}.csv`]: csv(
      ['Record Id', 'Contact Owner', 'First Name', 'Last Name', 'Account Name', 'Email', 'Phone', 'Mobile', 'Title', 'Created Time', 'Modified Time'],
      crm.people.map((entry) => [zohoId(2, entry.n), fullName(entry.owner), entry.first, entry.last, zohoId(1, entry.org), entry.emails[0]!, entry.phone, entry.mobile, entry.jobtitle, naive(entry.created), naive(entry.updated)]),
    ),
    [`Deals_${stamp}.csv`]: csv(
      ['Record Id', 'Deal Owner', 'Deal Name', 'Amount', 'Closing Date', 'Stage', 'Account Name', 'Contact Name', 'Created Time', 'Modified Time'],
      crm.deals.map((deal) => [
        zohoId(3, deal.n),
        fullName(deal.owner),
        deal.title,
        plainAmount(deal.value),
        deal.close,
        deal.status === 'won' ? 'Closed Won' : deal.status === 'lost' ? 'Closed Lost' : STAGES.zoho[deal.stage]!,
        zohoId(1, deal.org),
        zohoId(2, deal.person),
        naive(deal.created),
        naive(deal.updated),
      ]),
    ),
    [`Tasks_${stamp}.csv`]: csv(
      ['Record Id', 'Task Owner', 'Subject', 'Due Date', 'Status', 'Priority', 'Contact Name', 'Created Time', 'Modified Time'],
      crm.activities.map((activity) => [zohoId(4, activity.n), fullName(activity.owner), activity.subject, activity.due, activity.done ? 'Completed' : 'Not Started', activity.n % 2 === 0 ? 'High' : 'Normal', zohoId(2, activity.person), naive(activity.created), naive(activity.updated)]),
    ),
  };
}
