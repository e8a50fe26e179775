import { Random } from '../../sample/random.js';
import { OPPORTUNITY_STAGES } from './schema.js';
import type { SalesforceStore } from './store.js';
import { isoDate } from './values.js';

export interface SeedCounts {
  users: number;
  recordTypes: number;
  accounts: number;
  contacts: number;
  leads: number;
  convertedLeads: number;
  opportunities: number;
  contactRoles: number;
  tasks: number;
  events: number;
  notes: number;
  contentNotes: number;
}

const FIRST = ['Aino', 'Bruno', 'Chloé', 'Dmitri', 'Eva', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kaisa', 'Luca', 'Maja', 'Nils', 'Olga', 'Pekka', 'Quinn', 'Rosa', 'Sami', 'Tove'];
const LAST = ['Virtanen', 'Schmidt', 'Dubois', 'Ivanov', 'Nieminen', 'Haddad', 'Berg', 'Tanaka', 'García', 'Weber', 'Laine', 'Rossi', 'Nowak', 'Jensen', 'Petrova', "O'Brien"];
const COMPANIES = ['Aurora Oy', 'Baltic Freight', 'Cobalt Labs', 'Delta Foods', 'Evergreen GmbH', 'Fjord Analytics', 'Granite & Co', 'Helio Energy', 'Iris Health', 'Juniper Retail', 'Kestrel Air', 'Lumen Media'];
const INDUSTRIES = ['Technology', 'Retail', 'Energy', 'Healthcare', 'Media', 'Manufacturing'];
const ROLES = ['Decision Maker', 'Economic Buyer', 'Evaluator', 'Influencer', 'Technical Buyer'];
const DAY = 86_400_000;
/** The stages the sample org's Renewal opportunity record type makes available (not the first three). */
export const RENEWAL_STAGES = OPPORTUNITY_STAGES.slice(3).map((stage) => stage.name);

/**
 * A small sample org, the same for the same seed: three more users, record types for Account and
 * Opportunity, accounts (with a parent), contacts on accounts, leads (every fourth converted into a new
 * account, contact and opportunity), opportunities over every stage with contact roles (one primary), tasks
 * and events on Who (contact or lead) and What (account or opportunity), and classic notes. Every record goes
 * through the store's validated writes, as an API client's would; created times are spread over the past
 * 90 days.
 */
export function seedSample(store: SalesforceStore, options: { seed?: number; contacts?: number } = {}): SeedCounts {
  const random = new Random(options.seed ?? 42);
  const contactsWanted = options.contacts ?? 40;
  const now = store.clock();
  const past = () => now - random.int(1, 90) * DAY + random.int(0, DAY - 1);
  const person = () => ({ FirstName: random.pick(FIRST), LastName: random.pick(LAST) });
  const email = (first: string, last: string, domain: string, n: number) => `${first}.${last}.${n}@${domain}`.toLowerCase().normalize('NFD').replace(/[^\x20-\x7e]/g, '').replace(/[^a-z0-9.@-]/g, '');
  const counts: SeedCounts = { users: 0, recordTypes: 0, accounts: 0, contacts: 0, leads: 0, convertedLeads: 0, opportunities: 0, contactRoles: 0, tasks: 0, events: 0, notes: 0, contentNotes: 0 };

  const users = [store.defaultUserId];
  for (const [first, last] of [['Maria', 'Sales'], ['Tom', 'Support'], ['Ana', 'Manager']] as const) {
    users.push(store.create('User', { FirstName: first, LastName: last, Username: `${first}.${last}@emulator.example`.toLowerCase(), Email: `${first}.${last}@emulator.example`.toLowerCase(), Alias: first.toLowerCase() }).id);
    counts.users++;
  }
  // Record types (metadata, written straight to the RecordType table) with the values each makes available:
  // Renewal opportunities skip the first three stages and take only the Existing Customer types; Partner
  // accounts only the partner types (Account.Type is unrestricted, so other values are still stored).
  const recordType = (sobject: string, name: string, picklists?: Record<string, string[]>) => {
    counts.recordTypes++;
    return store.addRecordType(sobject, name, { picklists, userId: users[0] });
  };
  const accountTypes = [
    recordType('Account', 'Customer', { Type: ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Other'] }),
    recordType('Account', 'Partner', { Type: ['Channel Partner / Reseller', 'Installation Partner', 'Technology Partner', 'Other'] }),
  ];
  const opportunityTypes = [
    recordType('Opportunity', 'New Business', { Type: ['New Customer'] }),
    recordType('Opportunity', 'Renewal', { StageName: RENEWAL_STAGES, Type: ['Existing Customer - Upgrade', 'Existing Customer - Replacement', 'Existing Customer - Downgrade'] }),
  ];

  const accounts: string[] = [];
  const accountCount = Math.max(2, Math.ceil(contactsWanted / 4));
  for (let index = 0; index < accountCount; index++) {
    const name = `${COMPANIES[index % COMPANIES.length]}${index >= COMPANIES.length ? ` ${Math.floor(index / COMPANIES.length) + 1}` : ''}`;
    accounts.push(
      store.create(
        'Account',
        { Name: name, Industry: random.pick(INDUSTRIES), Type: random.pick(['Prospect', 'Customer - Direct', 'Other']), Website: `https://${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example`, NumberOfEmployees: random.int(5, 5000), AnnualRevenue: random.int(1, 500) * 10_000, BillingCity: random.pick(['Helsinki', 'Berlin', 'Lyon', 'Tokyo', 'Madrid']), ParentId: index > 0 && index % 5 === 0 ? accounts[0] : null, RecordTypeId: random.pick(accountTypes), OwnerId: random.pick(users) },
        users[0],
        { addTime: past() },
      ).id,
    );
    counts.accounts++;
  }
  const contacts: { id: string; accountId: string }[] = [];
  for (let index = 0; index < contactsWanted; index++) {
    const { FirstName, LastName } = person();
    const accountId = accounts[index % accounts.length]!;
    contacts.push({ id: store.create('Contact', { FirstName, LastName, AccountId: accountId, Email: email(FirstName, LastName, 'contacts.example', index), Phone: `+358 40 ${String(1000000 + index)}`, Title: random.pick(['CEO', 'CTO', 'Buyer', 'Engineer', null]), LeadSource: random.pick(['Web', 'Phone Inquiry', 'Partner Referral']), OwnerId: random.pick(users) }, users[0], { addTime: past() }).id, accountId });
    counts.contacts++;
  }
  const opportunities: { id: string; accountId: string }[] = [];
  const createOpportunity = (accountId: string, index: number) => {
    const stage = OPPORTUNITY_STAGES[index % OPPORTUNITY_STAGES.length]!;
    const amount = random.int(1, 200) * 500;
    const closeDate = isoDate(now + random.int(-60, 90) * DAY);
    // A stage the picked record type lacks goes to New Business (the draw is kept, so the rest of the org stays the same).
    const picked = random.pick(opportunityTypes);
    const recordTypeId = picked === opportunityTypes[1] && !RENEWAL_STAGES.includes(stage.name) ? opportunityTypes[0] : picked;
    const id = store.create('Opportunity', { Name: `Deal ${index + 1}`, AccountId: accountId, StageName: stage.name, Amount: amount, CloseDate: closeDate, RecordTypeId: recordTypeId, OwnerId: random.pick(users) }, users[0], { addTime: past() }).id;
    opportunities.push({ id, accountId });
    counts.opportunities++;
    return id;
  };
  for (let index = 0; index < Math.ceil(contactsWanted / 2); index++) createOpportunity(accounts[index % accounts.length]!, index);
  for (const opportunity of opportunities) {
    const candidates = contacts.filter((contact) => contact.accountId === opportunity.accountId).slice(0, 2);
    candidates.forEach((contact, index) => {
      store.create('OpportunityContactRole', { OpportunityId: opportunity.id, ContactId: contact.id, Role: random.pick(ROLES), IsPrimary: index === 0 });
      counts.contactRoles++;
    });
  }
  const leads: string[] = [];
  for (let index = 0; index < Math.ceil(contactsWanted / 2); index++) {
    const { FirstName, LastName } = person();
    const company = `${random.pick(['North', 'South', 'East', 'West'])} ${random.pick(['Logistics', 'Bakery', 'Studio', 'Motors'])}`;
    const lead = store.create('Lead', { FirstName, LastName, Company: company, Email: email(FirstName, LastName, 'leads.example', index), Status: random.pick(['Open - Not Contacted', 'Working - Contacted', 'Closed - Not Converted']), LeadSource: random.pick(['Web', 'Purchased List']), OwnerId: random.pick(users) }, users[0], { addTime: past() });
    leads.push(lead.id);
    counts.leads++;
    if (index % 4 === 3) {
      const accountId = store.create('Account', { Name: company }, users[0]).id;
      const contactId = store.create('Contact', { FirstName, LastName, AccountId: accountId, Email: email(FirstName, LastName, 'leads.example', index) }, users[0]).id;
      const opportunityId = createOpportunity(accountId, opportunities.length);
      store.markConverted(lead.id, { accountId, contactId, opportunityId, date: isoDate(now - random.int(1, 30) * DAY) });
      counts.accounts++;
      counts.contacts++;
      counts.convertedLeads++;
    }
  }
  const liveLeads = leads.filter((id) => store.find(id)?.row.data.IsConverted !== true);
  for (let index = 0; index < contactsWanted; index++) {
    const onLead = index % 5 === 4 && liveLeads.length > 0;
    const contact = contacts[index % contacts.length]!;
    const opportunity = opportunities.find((each) => each.accountId === contact.accountId);
    const who = onLead ? random.pick(liveLeads) : contact.id;
    const what = onLead ? null : index % 2 === 0 && opportunity ? opportunity.id : contact.accountId;
    store.create('Task', { Subject: random.pick(['Call', 'Send quote', 'Follow up', 'Email']), WhoId: who, WhatId: what, ActivityDate: isoDate(now + random.int(-20, 20) * DAY), Status: random.pick(['Not Started', 'In Progress', 'Completed']), Priority: random.pick(['High', 'Normal', 'Low']), TaskSubtype: 'Task', OwnerId: random.pick(users) }, users[0], { addTime: past() });
    counts.tasks++;
    if (index % 3 === 0) {
      const start = dayAligned(now + random.int(-20, 20) * DAY) + random.int(8, 16) * 3_600_000;
      store.create('Event', { Subject: 'Meeting', WhoId: who, WhatId: what, StartDateTime: new Date(start).toISOString(), EndDateTime: new Date(start + random.pick([30, 60, 90]) * 60_000).toISOString(), Location: random.pick(['Online', 'Office']), OwnerId: random.pick(users) }, users[0], { addTime: past() });
      counts.events++;
    }
    if (index % 4 === 1) {
      const note = store.create('ContentNote', { Title: `Call summary ${index + 1}`, Content: Buffer.from(`<p>Summary of call ${index + 1}</p><p>Next: <b>quote</b></p>`).toString('base64'), OwnerId: random.pick(users) }, users[0], { addTime: past() });
      store.create('ContentDocumentLink', { ContentDocumentId: note.id, LinkedEntityId: opportunity?.id ?? contact.accountId, ShareType: 'V' }, users[0]);
      counts.contentNotes++;
    }
    if (index % 2 === 0) {
      store.create('Note', { ParentId: index % 4 === 0 ? contact.id : contact.accountId, Title: `Note ${index + 1}`, Body: `Talked about next steps.\nLine two, with "quotes" and a comma.` }, users[0], { addTime: past() });
      counts.notes++;
    }
  }
  return counts;
}

function dayAligned(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}
