import type { PresetColumn, PresetInput, PresetObject, VendorPreset } from './types.js';
import { squash } from './types.js';

/**
 * HubSpot's record export (index page → Export, or the exports API): one row per record, columns named by the
 * properties' labels in the export's language (English assumed: `Record ID`, `First Name`, `Email`,
 * `Last Modified Date`), associations as `Associated Company IDs` (several ids separated by `;`) and
 * `Associated Company` (names). Sources and assumptions: docs/connectors/csv.md, "HubSpot".
 */

interface HubspotObject {
  object: string;
  name: string;
  /** Labels only this object's export carries (each one found adds to the confidence). */
  signature: string[];
  /** File-name words that name the object (`hubspot-crm-exports-all-contacts-2024-03-01.csv`). */
  words: string[];
}

const OBJECTS: HubspotObject[] = [
  { object: 'contact', name: 'contacts', signature: ['firstname', 'lastname', 'email', 'contactowner', 'lifecyclestage', 'mobilephonenumber', 'jobtitle'], words: ['contact'] },
  { object: 'company', name: 'companies', signature: ['companyname', 'companydomainname', 'companyowner', 'numberofemployees', 'annualrevenue', 'industry'], words: ['compan'] },
  { object: 'deal', name: 'deals', signature: ['dealname', 'dealstage', 'dealowner', 'pipeline', 'closedate', 'amount'], words: ['deal'] },
  { object: 'note', name: 'notes', signature: ['notebody', 'activitydate', 'activityassignedto'], words: ['note'] },
  { object: 'task', name: 'tasks', signature: ['tasktitle', 'taskstatus', 'tasktype', 'duedate', 'priority'], words: ['task'] },
];

/** Label → meaning, type (HubSpot's default property labels; https://knowledge.hubspot.com/properties/hubspots-default-contact-properties). */
const LABELS: Record<string, PresetColumn> = {
  email: { meaning: 'email', type: 'email' },
  firstname: { meaning: 'firstname' },
  lastname: { meaning: 'lastname' },
  phonenumber: { meaning: 'phone', type: 'phone' },
  mobilephonenumber: { meaning: 'mobile', type: 'phone' },
  jobtitle: { meaning: 'jobtitle' },
  companyname: { meaning: 'title' },
  companydomainname: { meaning: 'domain' },
  websiteurl: { meaning: 'website', type: 'url' },
  dealname: { meaning: 'title' },
  amount: { meaning: 'amount' },
  closedate: { meaning: 'closedate' },
  dealstage: { meaning: 'stage' },
  currency: { meaning: 'currency' },
  notebody: { meaning: 'body' },
  activitydate: { meaning: 'timestamp' },
  tasktitle: { meaning: 'title' },
  taskstatus: { meaning: 'status' },
  duedate: { meaning: 'duedate' },
  industry: { meaning: 'industry' },
  annualrevenue: { meaning: 'revenue' },
  numberofemployees: { meaning: 'employees' },
  contactowner: { meaning: 'owner' },
  companyowner: { meaning: 'owner' },
  dealowner: { meaning: 'owner' },
  activityassignedto: { meaning: 'owner' },
  taskowner: { meaning: 'owner' },
  lifecyclestage: { meaning: 'lifecyclestage' },
};

/** `Associated Company IDs`, `Associated Company IDs (Primary)`, `Associated Contact IDs`, ... */
const ASSOCIATION = /^Associated (Company|Contact|Deal) IDs?( \(Primary\))?$/i;

export const hubspotPreset: VendorPreset = {
  vendor: 'hubspot',
  detect(input: PresetInput): PresetObject | undefined {
    const cells = input.header.map((cell) => cell.trim());
    // `Record ID` (capital D) is HubSpot's; Zoho writes `Record Id`.
    const id = cells.find((cell) => cell === 'Record ID');
    if (!id) return undefined;
    const keys = cells.map(squash);
    const file = input.fileName.toLowerCase();
    let best: { object: HubspotObject; score: number } | undefined;
    for (const object of OBJECTS) {
      const hits = object.signature.filter((label) => keys.includes(label)).length;
      const named = object.words.some((word) => file.includes(word)) ? 2 : 0;
      const score = hits + named;
      if (!best || score > best.score) best = { object, score };
    }
    const modified = cells.find((cell) => squash(cell) === 'lastmodifieddate');
    const created = cells.find((cell) => squash(cell) === 'createdate');
    if (!best || best.score < 2) return undefined;
    const columns = new Map<string, PresetColumn>();
    for (const cell of cells) {
      const key = squash(cell);
      const association = ASSOCIATION.exec(cell);
      if (cell === id) columns.set(cell, { label: cell, type: 'string' });
      else if (association) {
        const object = association[1]!.toLowerCase();
        const primary = association[2] !== undefined;
        columns.set(cell, { label: cell, reference: object, type: 'string', ...(primary ? {} : { listSeparator: ';' }) });
      } else if (cell === modified) columns.set(cell, { label: cell, meaning: 'modified' });
      else if (cell === created) columns.set(cell, { label: cell, meaning: 'created' });
      else columns.set(cell, { label: cell, ...(LABELS[key] ?? {}) });
    }
    // A plain `Name` on companies is the company name; on contacts HubSpot writes First/Last Name.
    const signatureHits = best.score;
    return {
      vendor: 'hubspot',
      object: best.object.object,
      name: best.object.name,
      confidence: Math.min(1, 0.5 + 0.1 * signatureHits + (modified ? 0.1 : 0)),
      id,
      ...(modified !== undefined ? { modified } : {}),
      ...(created !== undefined ? { created } : {}),
      columns,
    };
  },
};
