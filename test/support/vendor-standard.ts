import SqliteDatabase from 'better-sqlite3';
import type { HubspotStore } from '../../src/emulators/hubspot/index.js';
import type { ProjectFile } from '../../src/project/types.js';
import { TARGET_OWNERS, type Vendor } from './vendor-exports.js';

/**
 * The standard fields of each preset vendor: what an unedited `ferry map` must propose, per target
 * (HubSpot, and a SQL "new CRM"). One line per target field: `source object: source field(s) -> target
 * object.target field [transform]`, several source fields joined with ` + `.
 */
export type TargetKind = 'hubspot' | 'sqlite';

const HUBSPOT: Record<Vendor, string[]> = {
  pipedrive: [
    'organizations: Organization - Name -> companies.name [copy]',
    'organizations: Organization - Website -> companies.website [copy]',
    'organizations: Organization - Website -> companies.domain [domain]',
    'organizations: Organization - Phone -> companies.phone [copy]',
    'organizations: Organization - Owner -> companies.hubspot_owner_id [map]',
    'people: Person - Name -> contacts.firstname [split]',
    'people: Person - Name -> contacts.lastname [split]',
    'people: Person - Email - Work -> contacts.email [split]',
    'people: Person - Phone - Work -> contacts.phone [copy]',
    'people: Person - Phone - Mobile -> contacts.mobilephone [copy]',
    'people: Person - Job title -> contacts.jobtitle [copy]',
    'people: Organization - ID -> contacts.primary_company [copy]',
    'people: Person - Owner -> contacts.hubspot_owner_id [map]',
    'deals: Deal - Title -> deals.dealname [copy]',
    'deals: Deal - Value -> deals.amount [copy]',
    'deals: Deal - Currency -> deals.deal_currency_code [map]',
    'deals: Deal - Status + Deal - Stage -> deals.dealstage [map]',
    'deals: Deal - Expected close date -> deals.closedate [datetime]',
    'deals: Deal - Owner -> deals.hubspot_owner_id [map]',
    'deals: Organization - ID -> deals.primary_company [copy]',
    'deals: Person - ID -> deals.associated_contacts [copy]',
    'activities: Activity - Subject -> tasks.hs_task_subject [copy]',
    'activities: Activity - Due date -> tasks.hs_timestamp [datetime]',
    'activities: Activity - Done -> tasks.hs_task_status [map]',
    'activities: Activity - Type -> tasks.hs_task_type [map]',
    'activities: Activity - Assigned to user -> tasks.hubspot_owner_id [map]',
    'activities: Deal - ID -> tasks.associated_deals [copy]',
    'activities: Person - ID -> tasks.associated_contacts [copy]',
    'notes: Note - Content -> notes.hs_note_body [copy]',
    'notes: Note - Add time -> notes.hs_timestamp [copy]',
    'notes: Note - User -> notes.hubspot_owner_id [map]',
    'notes: Deal - ID -> notes.associated_deals [copy]',
    'notes: Person - ID -> notes.associated_contacts [copy]',
    'notes: Organization - ID -> notes.associated_companies [copy]',
  ],
  hubspot: [
    'companies: Company name -> companies.name [copy]',
    'companies: Company Domain Name -> companies.domain [copy]',
    'companies: Website URL -> companies.website [copy]',
    'companies: Phone Number -> companies.phone [copy]',
    'companies: Company owner -> companies.hubspot_owner_id [map]',
    'contacts: First Name -> contacts.firstname [copy]',
    'contacts: Last Name -> contacts.lastname [copy]',
    'contacts: Email -> contacts.email [split]',
    'contacts: Phone Number -> contacts.phone [copy]',
    'contacts: Mobile Phone Number -> contacts.mobilephone [copy]',
    'contacts: Job Title -> contacts.jobtitle [copy]',
    'contacts: Contact owner -> contacts.hubspot_owner_id [map]',
    'contacts: Associated Company IDs (Primary) -> contacts.primary_company [copy]',
    'contacts: Associated Company IDs -> contacts.associated_companies [copy]',
    'deals: Deal Name -> deals.dealname [copy]',
    'deals: Amount -> deals.amount [copy]',
    'deals: Close Date -> deals.closedate [copy]',
    'deals: Deal Stage -> deals.dealstage [map]',
    'deals: Deal owner -> deals.hubspot_owner_id [map]',
    'deals: Associated Company IDs (Primary) -> deals.primary_company [copy]',
    'deals: Associated Contact IDs -> deals.associated_contacts [copy]',
  ],
  salesforce: [
    'accounts: Name -> companies.name [copy]',
    'accounts: Website -> companies.website [copy]',
    'accounts: Website -> companies.domain [domain]',
    'accounts: Phone -> companies.phone [copy]',
    'accounts: OwnerId -> companies.hubspot_owner_id [copy]',
    'contacts: FirstName -> contacts.firstname [copy]',
    'contacts: LastName -> contacts.lastname [copy]',
    'contacts: Email -> contacts.email [split]',
    'contacts: Phone -> contacts.phone [copy]',
    'contacts: MobilePhone -> contacts.mobilephone [copy]',
    'contacts: Title -> contacts.jobtitle [copy]',
    'contacts: AccountId -> contacts.primary_company [copy]',
    'contacts: OwnerId -> contacts.hubspot_owner_id [copy]',
    'opportunities: Name -> deals.dealname [copy]',
    'opportunities: Amount -> deals.amount [copy]',
    'opportunities: CloseDate -> deals.closedate [datetime]',
    'opportunities: StageName -> deals.dealstage [map]',
    'opportunities: AccountId -> deals.primary_company [copy]',
    'opportunities: OwnerId -> deals.hubspot_owner_id [copy]',
    'tasks: Subject -> tasks.hs_task_subject [copy]',
    'tasks: ActivityDate -> tasks.hs_timestamp [datetime]',
    'tasks: Status -> tasks.hs_task_status [map]',
    'tasks: Priority -> tasks.hs_task_priority [map]',
    'tasks: Description -> tasks.hs_task_body [copy]',
    'tasks: WhoId -> tasks.associated_contacts [copy]',
    'tasks: WhatId -> tasks.associated_deals [copy]',
    'tasks: OwnerId -> tasks.hubspot_owner_id [copy]',
  ],
  zoho: [
    'accounts: Account Name -> companies.name [copy]',
    'accounts: Website -> companies.website [copy]',
    'accounts: Website -> companies.domain [domain]',
    'accounts: Phone -> companies.phone [copy]',
    'accounts: Account Owner -> companies.hubspot_owner_id [map]',
    'contacts: First Name -> contacts.firstname [copy]',
    'contacts: Last Name -> contacts.lastname [copy]',
    'contacts: Email -> contacts.email [split]',
    'contacts: Phone -> contacts.phone [copy]',
    'contacts: Mobile -> contacts.mobilephone [copy]',
    'contacts: Title -> contacts.jobtitle [copy]',
    'contacts: Account Name -> contacts.primary_company [copy]',
    'contacts: Contact Owner -> contacts.hubspot_owner_id [map]',
    'deals: Deal Name -> deals.dealname [copy]',
    'deals: Amount -> deals.amount [copy]',
    'deals: Closing Date -> deals.closedate [datetime]',
    'deals: Stage -> deals.dealstage [map]',
    'deals: Account Name -> deals.primary_company [copy]',
    'deals: Contact Name -> deals.associated_contacts [copy]',
    'deals: Deal Owner -> deals.hubspot_owner_id [map]',
    'tasks: Subject -> tasks.hs_task_subject [copy]',
    'tasks: Due Date -> tasks.hs_timestamp [datetime]',
    'tasks: Status -> tasks.hs_task_status [map]',
    'tasks: Priority -> tasks.hs_task_priority [map]',
    'tasks: Contact Name -> tasks.associated_contacts [copy]',
    'tasks: Task Owner -> tasks.hubspot_owner_id [map]',
  ],
};

/** The SQL "new CRM" of test/support/vendor-standard.ts's DDL: fewer fields, owners are users. */
const SQL: Record<Vendor, string[]> = {
  pipedrive: [
    'organizations: Organization - Name -> companies.name [copy]',
    'organizations: Organization - Website -> companies.domain [domain]',
    'organizations: Organization - Phone -> companies.phone [copy]',
    'organizations: Organization - Owner -> companies.owner_id [map]',
    'people: Person - Name -> contacts.firstname [split]',
    'people: Person - Name -> contacts.lastname [split]',
    'people: Person - Email - Work -> contacts.email [split]',
    'people: Person - Phone - Work -> contacts.phone [copy]',
    'people: Person - Job title -> contacts.jobtitle [copy]',
    'people: Organization - ID -> contacts.company_id [copy]',
    'people: Person - Owner -> contacts.owner_id [map]',
    'deals: Deal - Title -> deals.dealname [copy]',
    'deals: Deal - Value -> deals.amount [copy]',
    'deals: Deal - Currency -> deals.currency [copy]',
    'deals: Deal - Stage -> deals.dealstage [copy]',
    'deals: Deal - Expected close date -> deals.closedate [copy]',
    'deals: Deal - Owner -> deals.owner_id [map]',
    'deals: Organization - ID -> deals.company_id [copy]',
    'activities: Activity - Subject -> tasks.subject [copy]',
    'activities: Activity - Due date -> tasks.due_at [copy]',
    'activities: Activity - Done -> tasks.status [copy]',
    'activities: Activity - Assigned to user -> tasks.owner_id [map]',
    'activities: Deal - ID -> tasks.deal_id [copy]',
    'activities: Person - ID -> tasks.contact_id [copy]',
    'notes: Note - Content -> notes.body [copy]',
    'notes: Note - User -> notes.owner_id [map]',
    'notes: Deal - ID -> notes.deal_id [copy]',
    'notes: Person - ID -> notes.contact_id [copy]',
    'notes: Organization - ID -> notes.company_id [copy]',
  ],
  hubspot: [
    'companies: Company name -> companies.name [copy]',
    'companies: Company Domain Name -> companies.domain [copy]',
    'companies: Phone Number -> companies.phone [copy]',
    'companies: Company owner -> companies.owner_id [map]',
    'contacts: First Name -> contacts.firstname [copy]',
    'contacts: Last Name -> contacts.lastname [copy]',
    'contacts: Email -> contacts.email [split]',
    'contacts: Phone Number -> contacts.phone [copy]',
    'contacts: Job Title -> contacts.jobtitle [copy]',
    'contacts: Contact owner -> contacts.owner_id [map]',
    'contacts: Associated Company IDs (Primary) -> contacts.company_id [copy]',
    'deals: Deal Name -> deals.dealname [copy]',
    'deals: Amount -> deals.amount [copy]',
    'deals: Close Date -> deals.closedate [copy]',
    'deals: Deal Stage -> deals.dealstage [copy]',
    'deals: Deal owner -> deals.owner_id [map]',
    'deals: Associated Company IDs (Primary) -> deals.company_id [copy]',
  ],
  salesforce: [
    'accounts: Name -> companies.name [copy]',
    'accounts: Website -> companies.domain [domain]',
    'accounts: Phone -> companies.phone [copy]',
    'accounts: OwnerId -> companies.owner_id [copy]',
    'contacts: FirstName -> contacts.firstname [copy]',
    'contacts: LastName -> contacts.lastname [copy]',
    'contacts: Email -> contacts.email [split]',
    'contacts: Phone -> contacts.phone [copy]',
    'contacts: Title -> contacts.jobtitle [copy]',
    'contacts: AccountId -> contacts.company_id [copy]',
    'contacts: OwnerId -> contacts.owner_id [copy]',
    'opportunities: Name -> deals.dealname [copy]',
    'opportunities: Amount -> deals.amount [copy]',
    'opportunities: CloseDate -> deals.closedate [copy]',
    'opportunities: StageName -> deals.dealstage [copy]',
    'opportunities: AccountId -> deals.company_id [copy]',
    'opportunities: OwnerId -> deals.owner_id [copy]',
    'tasks: Subject -> tasks.subject [copy]',
    'tasks: ActivityDate -> tasks.due_at [copy]',
    'tasks: Status -> tasks.status [copy]',
    'tasks: WhoId -> tasks.contact_id [copy]',
    'tasks: WhatId -> tasks.deal_id [copy]',
    'tasks: OwnerId -> tasks.owner_id [copy]',
  ],
  zoho: [
    'accounts: Account Name -> companies.name [copy]',
    'accounts: Website -> companies.domain [domain]',
    'accounts: Phone -> companies.phone [copy]',
    'accounts: Account Owner -> companies.owner_id [map]',
    'contacts: First Name -> contacts.firstname [copy]',
    'contacts: Last Name -> contacts.lastname [copy]',
    'contacts: Email -> contacts.email [split]',
    'contacts: Phone -> contacts.phone [copy]',
    'contacts: Title -> contacts.jobtitle [copy]',
    'contacts: Account Name -> contacts.company_id [copy]',
    'contacts: Contact Owner -> contacts.owner_id [map]',
    'deals: Deal Name -> deals.dealname [copy]',
    'deals: Amount -> deals.amount [copy]',
    'deals: Closing Date -> deals.closedate [copy]',
    'deals: Stage -> deals.dealstage [copy]',
    'deals: Account Name -> deals.company_id [copy]',
    'deals: Deal Owner -> deals.owner_id [map]',
    'tasks: Subject -> tasks.subject [copy]',
    'tasks: Due Date -> tasks.due_at [copy]',
    'tasks: Status -> tasks.status [copy]',
    'tasks: Contact Name -> tasks.contact_id [copy]',
    'tasks: Task Owner -> tasks.owner_id [map]',
  ],
};

export function standardFields(vendor: Vendor, target: TargetKind): string[] {
  return (target === 'hubspot' ? HUBSPOT : SQL)[vendor];
}

/** The proposal in the same one-line form (source object: fields -> target object.field [transform]). */
export function proposalLines(project: ProjectFile): string[] {
  return project.objects.flatMap((mapping) => mapping.fields.map((field) => `${mapping.source}: ${field.source.join(' + ')} -> ${mapping.target}.${field.target} [${field.transform.kind}]`));
}

/** How many of the vendor's standard fields the proposal maps right, and which it misses. */
export function scoreProposal(project: ProjectFile, vendor: Vendor, target: TargetKind): { right: number; total: number; missing: string[] } {
  const lines = new Set(proposalLines(project));
  const standard = standardFields(vendor, target);
  const missing = standard.filter((line) => !lines.has(line));
  return { right: standard.length - missing.length, total: standard.length, missing };
}

// ---------------------------------------------------------------------------------------------------------
// Targets

/** The consultant's SQL "new CRM": the demo target's tables without its CHECK constraints, owners as users. */
export const SQL_TARGET_DDL = [
  'CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT UNIQUE NOT NULL, name TEXT, created_at TEXT, updated_at TEXT)',
  `CREATE TABLE companies (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, domain TEXT, phone TEXT, industry TEXT,
    owner_id INTEGER REFERENCES users(id), created_at TEXT, updated_at TEXT)`,
  `CREATE TABLE contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, firstname TEXT, lastname TEXT, email TEXT, phone TEXT, jobtitle TEXT,
    company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES users(id), created_at TEXT, updated_at TEXT)`,
  `CREATE TABLE deals (id INTEGER PRIMARY KEY AUTOINCREMENT, dealname TEXT NOT NULL, amount NUMERIC, currency TEXT, dealstage TEXT,
    closedate TEXT, company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES users(id), created_at TEXT, updated_at TEXT)`,
  `CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, company_id INTEGER REFERENCES companies(id),
    contact_id INTEGER REFERENCES contacts(id), deal_id INTEGER REFERENCES deals(id), owner_id INTEGER REFERENCES users(id), created_at TEXT, updated_at TEXT)`,
  `CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL, status TEXT, due_at TEXT,
    contact_id INTEGER REFERENCES contacts(id), deal_id INTEGER REFERENCES deals(id), owner_id INTEGER REFERENCES users(id), created_at TEXT, updated_at TEXT)`,
];

export function createSqlTarget(path: string): void {
  const db = new SqliteDatabase(path);
  try {
    for (const statement of SQL_TARGET_DDL) db.exec(statement);
    const insert = db.prepare('INSERT INTO users (email, name, created_at, updated_at) VALUES (?, ?, ?, ?)');
    for (const owner of TARGET_OWNERS) insert.run(owner.email, `${owner.first} ${owner.last}`, '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z');
  } finally {
    db.close();
  }
}

/** Seeds the HubSpot emulator's owners (the account's users) with the target owners. */
export function seedHubspotOwners(store: HubspotStore): void {
  for (const owner of TARGET_OWNERS) store.addOwner({ email: owner.email, firstName: owner.first, lastName: owner.last });
}
