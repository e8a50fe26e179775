import type { PresetColumn, PresetInput, PresetObject, VendorPreset } from './types.js';
import { SALESFORCE_FIELD_MEANINGS } from '../../../core/salesforce-fields.js';
import { ID15, ID18, salesforceId18 } from '../../../core/salesforce-id.js';
import { columnValues, squash } from './types.js';

export { salesforceId18 };

/**
 * Salesforce's Data Export service (Setup → Data Export: one CSV per object, `Account.csv`, `Contact.csv`,
 * ...) and Data Loader / `sf data export` files: columns are field API names (`Id`, `AccountId`, `OwnerId`,
 * `LastModifiedDate`), ids are 18 characters, date-times ISO 8601 in UTC. Report exports carry labels
 * instead (`Account ID`, `Opportunity Name`, `Last Modified Date`) and often 15-character ids.
 * Sources and assumptions: docs/connectors/csv.md, "Salesforce".
 */

// ---------------------------------------------------------------------------------------------------------
// Objects

interface SalesforceObject {
  object: string;
  name: string;
  /** The first three characters of the object's ids (key prefix). */
  keyPrefix: string;
  /** API names typical of the object. */
  fields: string[];
  /** Report-export labels typical of the object. */
  labels: string[];
}

// Key prefixes (001 Account, 003 Contact, ...): well-known, but not found in the stored Salesforce docs; see docs/connectors/csv.md.
const OBJECTS: SalesforceObject[] = [
  { object: 'account', name: 'accounts', keyPrefix: '001', fields: ['Name', 'Website', 'Industry', 'AnnualRevenue', 'NumberOfEmployees', 'BillingCity', 'ParentId', 'Type'], labels: ['accountid', 'accountname', 'accountowner', 'website', 'industry'] },
  { object: 'contact', name: 'contacts', keyPrefix: '003', fields: ['FirstName', 'LastName', 'Email', 'Title', 'MobilePhone', 'AccountId', 'MailingCity'], labels: ['contactid', 'firstname', 'lastname', 'email', 'contactowner'] },
  { object: 'opportunity', name: 'opportunities', keyPrefix: '006', fields: ['StageName', 'Amount', 'CloseDate', 'IsWon', 'IsClosed', 'Probability', 'AccountId'], labels: ['opportunityid', 'opportunityname', 'stage', 'closedate', 'amount', 'opportunityowner'] },
  { object: 'lead', name: 'leads', keyPrefix: '00Q', fields: ['FirstName', 'LastName', 'Company', 'Status', 'Email', 'LeadSource'], labels: ['leadid', 'company', 'leadstatus', 'leadowner'] },
  { object: 'task', name: 'tasks', keyPrefix: '00T', fields: ['Subject', 'ActivityDate', 'Status', 'Priority', 'WhoId', 'WhatId'], labels: ['activityid', 'subject', 'duedate', 'status', 'priority', 'assigned'] },
  { object: 'event', name: 'events', keyPrefix: '00U', fields: ['Subject', 'StartDateTime', 'EndDateTime', 'WhoId', 'WhatId'], labels: [] },
  { object: 'note', name: 'notes', keyPrefix: '002', fields: ['Title', 'Body', 'ParentId', 'IsPrivate'], labels: [] },
  { object: 'user', name: 'users', keyPrefix: '005', fields: ['Username', 'Email', 'FirstName', 'LastName', 'IsActive', 'Alias'], labels: ['userid', 'username'] },
];

/** Lookup fields → the object they point at; polymorphic ones (WhoId, WhatId, ParentId) are decided by key prefix. */
const LOOKUPS: Record<string, string> = {
  AccountId: 'account',
  ContactId: 'contact',
  OpportunityId: 'opportunity',
  OwnerId: 'user',
  CreatedById: 'user',
  LastModifiedById: 'user',
  ConvertedAccountId: 'account',
  ConvertedContactId: 'contact',
  ConvertedOpportunityId: 'opportunity',
  ReportsToId: 'contact',
  ManagerId: 'user',
};
const POLYMORPHIC = ['WhoId', 'WhatId', 'ParentId', 'MasterRecordId'];

/** API name → meaning (src/core/salesforce-fields.ts) and type. */
const API_TYPES: Record<string, PresetColumn['type']> = { Email: 'email', Phone: 'phone', MobilePhone: 'phone', Fax: 'phone', Website: 'url' };
const API_FIELDS: Record<string, PresetColumn> = Object.fromEntries(
  [...new Set([...Object.keys(SALESFORCE_FIELD_MEANINGS), ...Object.keys(API_TYPES)])].map((name) => [
    name,
    { ...(SALESFORCE_FIELD_MEANINGS[name] ? { meaning: SALESFORCE_FIELD_MEANINGS[name] } : {}), ...(API_TYPES[name] ? { type: API_TYPES[name] } : {}) },
  ]),
);

/** Report-export label → meaning and type. */
const REPORT_LABELS: Record<string, PresetColumn> = {
  email: { meaning: 'email', type: 'email' },
  phone: { meaning: 'phone', type: 'phone' },
  mobile: { meaning: 'mobile', type: 'phone' },
  firstname: { meaning: 'firstname' },
  lastname: { meaning: 'lastname' },
  title: { meaning: 'jobtitle' },
  website: { meaning: 'website', type: 'url' },
  amount: { meaning: 'amount' },
  closedate: { meaning: 'closedate' },
  stage: { meaning: 'stage' },
  industry: { meaning: 'industry' },
  accountowner: { meaning: 'owner' },
  contactowner: { meaning: 'owner' },
  opportunityowner: { meaning: 'owner' },
  opportunitycurrency: { meaning: 'currency' },
};

function objectByPrefix(ids: string[]): SalesforceObject | undefined {
  const counts = new Map<SalesforceObject, number>();
  for (const id of ids) {
    if (!ID15.test(id) && !ID18.test(id)) continue;
    const object = OBJECTS.find((candidate) => id.startsWith(candidate.keyPrefix));
    if (object) counts.set(object, (counts.get(object) ?? 0) + 1);
  }
  return [...counts.entries()].sort((x, y) => y[1] - x[1])[0]?.[0];
}

function objectByFileName(fileName: string): SalesforceObject | undefined {
  const stem = squash(fileName.replace(/\.[^.]+$/, ''));
  return OBJECTS.find((object) => stem === object.object || stem === object.name || stem === squash(object.name));
}

export const salesforcePreset: VendorPreset = {
  vendor: 'salesforce',
  detect(input: PresetInput): PresetObject | undefined {
    const cells = input.header.map((cell) => cell.trim());
    return cells.includes('Id') ? detectApiExport(input, cells) : detectReport(input, cells);
  },
};

function detectApiExport(input: PresetInput, cells: string[]): PresetObject | undefined {
  const ids = columnValues(input, 'Id');
  const validIds = ids.filter((id) => ID15.test(id) || ID18.test(id)).length;
  // Salesforce system fields every Data Export file carries.
  const system = ['CreatedDate', 'LastModifiedDate', 'SystemModstamp', 'CreatedById', 'LastModifiedById', 'IsDeleted'].filter((name) => cells.includes(name)).length;
  const object = objectByFileName(input.fileName) ?? objectByPrefix(ids);
  if (!object) return undefined;
  const typical = object.fields.filter((name) => cells.includes(name)).length;
  if (system < 1 && typical < 2) return undefined;
  if (ids.length > 0 && validIds / ids.length < 0.9) return undefined;
  const confidence = Math.min(1, 0.4 + 0.1 * system + 0.08 * typical + (ids.length > 0 && validIds === ids.length ? 0.2 : 0));
  const columns = new Map<string, PresetColumn>();
  for (const cell of cells) {
    const values = () => columnValues(input, cell);
    if (cell === 'Id') columns.set(cell, { label: 'Id', type: 'string' });
    else if (LOOKUPS[cell]) columns.set(cell, { label: cell, reference: LOOKUPS[cell], type: 'string', ...(cell === 'OwnerId' ? { meaning: 'owner' } : {}) });
    else if (POLYMORPHIC.includes(cell)) {
      const target = objectByPrefix(values());
      if (target) columns.set(cell, { label: cell, reference: target.object, type: 'string' });
      else columns.set(cell, { label: cell, type: 'string' });
    } else if (cell === 'LastModifiedDate') columns.set(cell, { label: cell, meaning: 'modified' });
    else if (cell === 'CreatedDate') columns.set(cell, { label: cell, meaning: object.object === 'note' ? 'timestamp' : 'created' });
    else if (cell === 'Name') columns.set(cell, { label: cell, meaning: object.object === 'contact' || object.object === 'lead' || object.object === 'user' ? 'fullname' : 'title' });
    else if (cell === 'Title' && object.object === 'note') columns.set(cell, { label: cell, meaning: 'title' });
    else columns.set(cell, { label: cell, ...(API_FIELDS[cell] ?? {}) });
  }
  return {
    vendor: 'salesforce',
    object: object.object,
    name: object.name,
    confidence,
    id: 'Id',
    ...(cells.includes('LastModifiedDate') ? { modified: 'LastModifiedDate' } : cells.includes('SystemModstamp') ? { modified: 'SystemModstamp' } : {}),
    ...(cells.includes('CreatedDate') ? { created: 'CreatedDate' } : {}),
    columns,
    normaliseId: salesforceId18,
  };
}

/** A report export: labels, an `<Object> ID` column among them. */
function detectReport(input: PresetInput, cells: string[]): PresetObject | undefined {
  const keys = cells.map(squash);
  let best: { object: SalesforceObject; hits: number; idColumn: string } | undefined;
  for (const object of OBJECTS) {
    const idKey = `${object.object}id`;
    const idIndex = keys.indexOf(idKey);
    if (idIndex === -1) continue;
    const hits = object.labels.filter((label) => keys.includes(label)).length;
    if (!best || hits > best.hits) best = { object, hits, idColumn: cells[idIndex]! };
  }
  if (!best || best.hits < 3) return undefined;
  const ids = columnValues(input, best.idColumn);
  if (ids.length > 0 && !ids.every((id) => (ID15.test(id) || ID18.test(id)) && id.startsWith(best.object.keyPrefix))) return undefined;
  const columns = new Map<string, PresetColumn>();
  for (const [index, cell] of cells.entries()) {
    const key = keys[index]!;
    const other = OBJECTS.find((object) => key === `${object.object}id`);
    if (cell === best.idColumn) columns.set(cell, { label: cell, type: 'string' });
    else if (other) columns.set(cell, { label: cell, reference: other.object, type: 'string' });
    else if (key === 'lastmodifieddate') columns.set(cell, { label: cell, meaning: 'modified' });
    else if (key === 'createddate') columns.set(cell, { label: cell, meaning: 'created' });
    else if (key === `${best.object.object}name`) columns.set(cell, { label: cell, meaning: best.object.object === 'contact' ? 'fullname' : 'title' });
    else columns.set(cell, { label: cell, ...(REPORT_LABELS[key] ?? {}) });
  }
  const modified = cells[keys.indexOf('lastmodifieddate')];
  const created = cells[keys.indexOf('createddate')];
  return {
    vendor: 'salesforce',
    object: best.object.object,
    name: best.object.name,
    confidence: Math.min(1, 0.4 + 0.1 * best.hits + (ids.length > 0 ? 0.1 : 0)),
    id: best.idColumn,
    ...(modified !== undefined ? { modified } : {}),
    ...(created !== undefined ? { created } : {}),
    columns,
    normaliseId: salesforceId18,
  };
}
