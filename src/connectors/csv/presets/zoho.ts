import type { PresetColumn, PresetInput, PresetObject, VendorPreset } from './types.js';
import { columnValues, squash } from './types.js';

/**
 * Zoho CRM's module export (Setup → Data Administration → Export, or a module's list view → Export) and
 * its data backup: one CSV per module (`Accounts`, `Contacts`, `Deals`, `Tasks`, `Notes`), columns by field
 * label (`Record Id`, `Account Name`, `Contact Owner`, `Modified Time`), record ids written as
 * `zcrm_<digits>`, lookups as the related record's id (`Account Name` holding `zcrm_...`) or as a pair of
 * name and `<Lookup>.id` columns. Sources and assumptions: docs/connectors/csv.md, "Zoho CRM".
 */

interface ZohoModule {
  object: string;
  name: string;
  /** Labels typical of the module. */
  signature: string[];
  /** Module names in file names (`Contacts_2024_03_01.csv`, `Potentials.csv`). */
  words: string[];
  /** The owner column's label. */
  owner: string;
}

const MODULES: ZohoModule[] = [
  { object: 'account', name: 'accounts', signature: ['accountname', 'accountowner', 'website', 'industry', 'employees', 'accounttype'], words: ['account'], owner: 'accountowner' },
  { object: 'contact', name: 'contacts', signature: ['firstname', 'lastname', 'email', 'contactowner', 'mobile', 'accountname'], words: ['contact'], owner: 'contactowner' },
  { object: 'deal', name: 'deals', signature: ['dealname', 'dealowner', 'stage', 'closingdate', 'amount', 'accountname'], words: ['deal', 'potential'], owner: 'dealowner' },
  { object: 'lead', name: 'leads', signature: ['leadowner', 'leadstatus', 'leadsource', 'company', 'firstname', 'lastname'], words: ['lead'], owner: 'leadowner' },
  { object: 'task', name: 'tasks', signature: ['taskowner', 'subject', 'duedate', 'status', 'priority'], words: ['task'], owner: 'taskowner' },
  { object: 'note', name: 'notes', signature: ['notetitle', 'notecontent', 'parentid', 'noteowner'], words: ['note'], owner: 'noteowner' },
];

/** Lookup labels → the module they point at. */
const LOOKUPS: Record<string, string> = {
  accountname: 'account',
  contactname: 'contact',
  dealname: 'deal',
  parentaccount: 'account',
  reportingto: 'contact',
  whatid: 'deal',
  whoid: 'contact',
};

const LABELS: Record<string, PresetColumn> = {
  email: { meaning: 'email', type: 'email' },
  secondaryemail: { type: 'email' },
  phone: { meaning: 'phone', type: 'phone' },
  mobile: { meaning: 'mobile', type: 'phone' },
  fax: { type: 'phone' },
  firstname: { meaning: 'firstname' },
  lastname: { meaning: 'lastname' },
  fullname: { meaning: 'fullname' },
  title: { meaning: 'jobtitle' },
  website: { meaning: 'website', type: 'url' },
  industry: { meaning: 'industry' },
  annualrevenue: { meaning: 'revenue' },
  employees: { meaning: 'employees' },
  amount: { meaning: 'amount' },
  closingdate: { meaning: 'closedate' },
  stage: { meaning: 'stage' },
  currency: { meaning: 'currency' },
  subject: { meaning: 'title' },
  duedate: { meaning: 'duedate' },
  status: { meaning: 'status' },
  priority: { meaning: 'priority' },
  notetitle: { meaning: 'title' },
  notecontent: { meaning: 'body' },
  description: { meaning: 'body' },
};

const ZOHO_ID = /^(zcrm_)?\d{6,25}$/;

/** Record ids as written by the export (`zcrm_4876876000000123456`) and bare (`4876876000000123456`) are one id. */
export function zohoId(value: string): string {
  const text = value.trim();
  return /^zcrm_\d+$/i.test(text) ? text.slice(5) : text;
}

export const zohoPreset: VendorPreset = {
  vendor: 'zoho',
  detect(input: PresetInput): PresetObject | undefined {
    const cells = input.header.map((cell) => cell.trim());
    // `Record Id` (lower-case d) is Zoho's; HubSpot writes `Record ID`.
    const id = cells.find((cell) => cell === 'Record Id');
    if (!id) return undefined;
    const keys = cells.map(squash);
    const file = input.fileName.toLowerCase();
    let best: { module: ZohoModule; score: number } | undefined;
    for (const module of MODULES) {
      const hits = module.signature.filter((label) => keys.includes(label)).length;
      const named = module.words.some((word) => file.includes(word)) ? 2 : 0;
      const score = hits + named;
      if (!best || score > best.score) best = { module, score };
    }
    const modified = cells.find((cell) => squash(cell) === 'modifiedtime');
    const created = cells.find((cell) => squash(cell) === 'createdtime');
    if (!best || best.score < 2 || (!modified && best.score < 4)) return undefined;
    const ids = columnValues(input, id);
    if (ids.length > 0 && ids.filter((value) => ZOHO_ID.test(value)).length / ids.length < 0.9) return undefined;
    const module = best.module;
    const columns = new Map<string, PresetColumn>();
    const idColumns = new Set(cells.filter((cell) => /\.id$/i.test(cell)).map((cell) => cell.slice(0, -3)));
    for (const [index, cell] of cells.entries()) {
      const key = keys[index]!;
      if (cell === id) {
        columns.set(cell, { label: cell, type: 'string' });
        continue;
      }
      if (cell === modified) {
        columns.set(cell, { label: cell, meaning: 'modified' });
        continue;
      }
      if (cell === created) {
        columns.set(cell, { label: cell, meaning: module.object === 'note' ? 'timestamp' : 'created' });
        continue;
      }
      // `Account Name.id` beside `Account Name`: the id column is the reference, the other the name.
      if (/\.id$/i.test(cell)) {
        const lookup = LOOKUPS[squash(cell.slice(0, -3))];
        columns.set(cell, { label: cell, type: 'string', ...(lookup ? { reference: lookup } : {}) });
        continue;
      }
      const lookup = LOOKUPS[key];
      const values = columnValues(input, cell);
      const holdsIds = values.length > 0 && values.every((value) => ZOHO_ID.test(value));
      // The module's own name column (`Account Name` on accounts, `Deal Name` on deals) is no lookup.
      if (lookup && lookup !== module.object && !idColumns.has(cell) && holdsIds) {
        columns.set(cell, { label: cell, reference: lookup, type: 'string' });
        continue;
      }
      if (key === module.owner || key === 'owner') {
        columns.set(cell, { label: cell, meaning: 'owner' });
        continue;
      }
      if (lookup === module.object) {
        columns.set(cell, { label: cell, meaning: module.object === 'contact' ? 'fullname' : 'title' });
        continue;
      }
      columns.set(cell, { label: cell, ...(LABELS[key] ?? {}) });
    }
    return {
      vendor: 'zoho',
      object: module.object,
      name: module.name,
      confidence: Math.min(1, 0.4 + 0.08 * best.score + (modified ? 0.15 : 0)),
      id,
      ...(modified !== undefined ? { modified } : {}),
      ...(created !== undefined ? { created } : {}),
      columns,
      normaliseId: zohoId,
    };
  },
};
