import { copyField, objectMapping } from '../../src/project/project-file.js';
import type { ObjectMapping, ProjectFile } from '../../src/project/types.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { startPipedriveEmulator, type PipedriveEmulator } from '../../src/emulators/pipedrive/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../src/emulators/salesforce/index.js';
import type { Fixture } from '../support/crm-fixture.js';
import type { ObjectName, TargetRules, Value } from './model.js';

/** A target record as the comparison sees it: its name (`c:<source id>` or `h:<id>`) and mapped fields (company as its target id). */
export interface TargetRow {
  id: string;
  name: string;
  fields: Record<string, Value>;
}

/**
 * The target CRM of a model history: what the project maps into it, what a person can do in it, how its
 * records read back for the comparison, and the rules it enforces on writes (for the model).
 */
export interface TargetSide {
  readonly config: ProjectFile['target'];
  readonly objects: ObjectMapping[];
  readonly rules: TargetRules;
  /** A record a person types in; undefined when the target refuses it (then nothing happened). */
  insert(object: ObjectName, fields: Record<string, Value>): Promise<string | undefined>;
  /** A person edits one field; false when the target refuses it. */
  edit(object: ObjectName, id: string, field: string, value: Value): Promise<boolean>;
  rows(object: ObjectName): Promise<TargetRow[]>;
  close(): Promise<void>;
}

/** The model's two objects as the project maps them; only the target field of a contact's company differs. */
function modelObjects(companyField: string): ObjectMapping[] {
  return [
    objectMapping({ source: 'companies', target: 'companies', matchKeys: [{ source: 'domain', target: 'domain', kind: 'domain' }], fields: [copyField('name'), copyField('domain')] }),
    objectMapping({
      source: 'contacts',
      target: 'contacts',
      matchKeys: [{ source: 'email', target: 'email', kind: 'email' }],
      fields: [copyField('first_name', 'firstname'), copyField('email'), copyField('job_title', 'jobtitle'), copyField('company_id', companyField)],
    }),
  ];
}

const empty = (value: Value | undefined) => value === null || value === undefined || value === '';
const CONTACT_FIELDS = ['firstname', 'email', 'jobtitle', 'company_id'];
const COMPANY_FIELDS = ['name', 'domain'];

/** The fixture's SQL target (SQLite or PostgreSQL): companies.name is NOT NULL, nothing else is enforced. */
export function sqlTarget(fixture: Fixture): TargetSide {
  const db = fixture.target;
  return {
    config: fixture.project.target,
    objects: modelObjects('company_id'),
    rules: {
      store: (_, value) => value,
      refusesCreate: (object, fields) => object === 'companies' && empty(fields.name),
      refusesUpdate: (object, fields) => object === 'companies' && empty(fields.name),
    },
    async insert(object, fields) {
      if (object === 'companies' && empty(fields.name)) return undefined;
      const columns = Object.keys(fields);
      const [row] = await db.all<{ id: number }>(
        `INSERT INTO ${object} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING id`,
        columns.map((column) => fields[column] ?? null),
      );
      return String(row!.id);
    },
    async edit(object, id, field, value) {
      if (object === 'companies' && field === 'name' && empty(value)) return false;
      await db.run(`UPDATE ${object} SET ${field} = ? WHERE id = ?`, [value, Number(id)]);
      return true;
    },
    async rows(object) {
      const rows = await db.all<Record<string, unknown>>(`SELECT * FROM ${object} ORDER BY id`);
      return rows.map((row) => ({
        id: String(row.id as number),
        name: row.ferry_source_id ? `c:${String(row.ferry_source_id as string)}` : `h:${String(row.id as number)}`,
        fields: Object.fromEntries((object === 'companies' ? COMPANY_FIELDS : CONTACT_FIELDS).map((field) => [field, row[field] === null || row[field] === undefined ? null : String(row[field] as string)])),
      }));
    },
    close: () => Promise.resolve(),
  };
}

/**
 * The HubSpot emulator as the target (FERRY_MODEL_BACKEND=hubspot): a contact's company is its Primary
 * company association (`primary_company`); HubSpot refuses a company with neither name nor domain, a
 * contact with neither e-mail nor first or last name, and a second contact with an e-mail another has.
 */
export async function hubspotTarget(): Promise<TargetSide> {
  const hubspot: HubspotEmulator = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
  const { store } = hubspot;
  const emailTaken = (fields: Record<string, Value>, others: Iterable<Record<string, Value>>) =>
    !empty(fields.email) && [...others].some((other) => other.email === fields.email);
  const type = (object: ObjectName) => object;
  return {
    config: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 },
    objects: modelObjects('primary_company'),
    rules: {
      // "HubSpot stores contact e-mail addresses lower-cased" (the emulator does, as the live service).
      store: (field, value) => (field === 'email' && value !== null ? value.trim().toLowerCase() : value),
      refusesCreate: (object, fields, others) =>
        object === 'companies' ? empty(fields.name) && empty(fields.domain) : (empty(fields.email) && empty(fields.firstname)) || emailTaken(fields, others),
      refusesUpdate: (object, fields, others) => object === 'contacts' && emailTaken(fields, others),
    },
    insert(object, fields) {
      const properties = Object.fromEntries(Object.entries(fields).filter(([field, value]) => field !== 'company_id' && value !== null));
      try {
        return Promise.resolve(store.createRecord(type(object), properties).id);
      } catch {
        return Promise.resolve(undefined);
      }
    },
    edit(object, id, field, value) {
      try {
        store.updateRecord(type(object), id, { [field]: value ?? '' });
        return Promise.resolve(true);
      } catch {
        return Promise.resolve(false);
      }
    },
    rows(object) {
      const rows: TargetRow[] = [];
      for (const record of store.table(type(object)).values()) {
        if (record.archived) continue;
        const value = (name: string): Value => {
          const text = record.properties.get(name);
          return text === undefined || text === '' ? null : text;
        };
        const fields = Object.fromEntries((object === 'companies' ? COMPANY_FIELDS : CONTACT_FIELDS).map((field) => [field, value(field)]));
        if (object === 'contacts') {
          const primary = store.associationsOf('contacts', record.id, 'companies').find(([, types]) => types.includes(1));
          fields.company_id = primary ? primary[0] : null;
        }
        const sourceId = value('ferry_source_id');
        rows.push({ id: record.id, name: sourceId ? `c:${sourceId}` : `h:${record.id}`, fields });
      }
      return Promise.resolve(rows.sort((a, b) => Number(a.id) - Number(b.id)));
    },
    close: () => hubspot.close(),
  };
}

/**
 * The Pipedrive emulator as the target (FERRY_MODEL_BACKEND=pipedrive): companies are organizations (domain in
 * `website`), contacts are persons (first name as `name`, which Pipedrive requires; the job title in a text
 * custom field an admin created; the company as `org_id`). Pipedrive has no unique fields: it refuses only an
 * organization or person without a name.
 */
export async function pipedriveTarget(): Promise<TargetSide> {
  const pipedrive: PipedriveEmulator = await startPipedriveEmulator({ port: 0, burstLimit: { requests: 100_000, intervalMs: 2000 } });
  const { store } = pipedrive;
  const jobTitle = store.addCustomField('persons', { field_name: 'Job title', field_type: 'varchar' }).field_code;
  const entity = (object: ObjectName) => (object === 'companies' ? 'organizations' : 'persons');
  const sourceIdCode = (object: ObjectName) => store.custom(entity(object)).find((field) => field.field_name === 'Ferry source id')?.field_code;
  const objects: ObjectMapping[] = [
    objectMapping({ source: 'companies', target: 'organizations', matchKeys: [{ source: 'domain', target: 'website', kind: 'domain' }], fields: [copyField('name'), copyField('domain', 'website')] }),
    objectMapping({
      source: 'contacts',
      target: 'persons',
      matchKeys: [{ source: 'email', target: 'email', kind: 'email' }],
      fields: [copyField('first_name', 'name'), copyField('email'), copyField('job_title', jobTitle), copyField('company_id', 'org_id')],
    }),
  ];
  /** A model field as the body Pipedrive takes. */
  const body = (object: ObjectName, field: string, value: Value): Record<string, unknown> => {
    if (object === 'companies') return field === 'domain' ? { website: value } : { name: value };
    if (field === 'firstname') return { name: value };
    if (field === 'email') return { emails: value === null ? [] : [{ value, primary: true, label: 'work' }] };
    if (field === 'jobtitle') return { custom_fields: { [jobTitle]: value } };
    return { org_id: value === null ? null : Number(value) };
  };
  return {
    config: { connector: 'pipedrive', apiToken: pipedrive.token, baseUrl: pipedrive.url, burstLimit: 10_000 },
    objects,
    rules: {
      store: (_, value) => value,
      refusesCreate: (object, fields) => (object === 'companies' ? empty(fields.name) : empty(fields.firstname)),
      refusesUpdate: (object, fields) => (object === 'companies' ? empty(fields.name) : empty(fields.firstname)),
    },
    insert(object, fields) {
      if (empty(object === 'companies' ? fields.name : fields.firstname)) return Promise.resolve(undefined);
      const input = Object.assign({}, ...Object.entries(fields).filter(([field]) => field !== 'company_id').map(([field, value]) => body(object, field, value))) as Record<string, unknown>;
      try {
        return Promise.resolve(String(store.create(entity(object), input).id));
      } catch {
        return Promise.resolve(undefined);
      }
    },
    edit(object, id, field, value) {
      if ((field === 'name' || field === 'firstname') && empty(value)) return Promise.resolve(false);
      try {
        store.update(entity(object), Number(id), body(object, field, value));
        return Promise.resolve(true);
      } catch {
        return Promise.resolve(false);
      }
    },
    rows(object) {
      const code = sourceIdCode(object);
      const rows = store
        .table(entity(object))
        .all()
        .filter((row) => !row.deleted)
        .map((row): TargetRow => {
          const data = row.data as Record<string, unknown> & { custom: Record<string, unknown> };
          const text = (value: unknown): Value => (value === null || value === undefined || value === '' ? null : String(value));
          const fields: Record<string, Value> =
            object === 'companies'
              ? { name: text(data.name), domain: text(data.website) }
              : {
                  firstname: text(data.name),
                  email: text((data.emails as { value: string; primary: boolean }[]).find((item) => item.primary)?.value),
                  jobtitle: text(data.custom[jobTitle]),
                  company_id: text(data.org_id),
                };
          const sourceId = code ? text(data.custom[code]) : null;
          return { id: String(row.id), name: sourceId ? `c:${sourceId}` : `h:${row.id}`, fields };
        });
      return Promise.resolve(rows.sort((a, b) => Number(a.id) - Number(b.id)));
    },
    close: () => pipedrive.close(),
  };
}

/**
 * The Salesforce emulator as the target (FERRY_MODEL_BACKEND=salesforce): companies are Accounts (domain in
 * `Website`), contacts are Contacts (first name as `LastName`, which Salesforce requires; `Title`; the company
 * as `AccountId`), both with the External ID field `Ferry_Source_Id__c`. Salesforce refuses an Account without
 * a name, a Contact without a last name, and an e-mail that is not one (INVALID_EMAIL_ADDRESS); it keeps
 * e-mails as written.
 */
export async function salesforceTarget(): Promise<TargetSide> {
  const external = { name: 'Ferry_Source_Id__c', type: 'string' as const, length: 80, externalId: true, unique: true };
  const salesforce: SalesforceEmulator = await startSalesforceEmulator({ port: 0, customFields: { Account: [external], Contact: [external] } });
  const { store } = salesforce;
  const api = (object: ObjectName) => (object === 'companies' ? 'Account' : 'Contact');
  const FIELD: Record<string, string> = { name: 'Name', domain: 'Website', firstname: 'LastName', email: 'Email', jobtitle: 'Title', company_id: 'AccountId' };
  const badEmail = (value: Value | undefined) => !empty(value) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String(value));
  const refuses = (object: ObjectName, fields: Record<string, Value>) => (object === 'companies' ? empty(fields.name) : empty(fields.firstname) || badEmail(fields.email));
  const objects: ObjectMapping[] = [
    objectMapping({ source: 'companies', target: 'Account', matchKeys: [{ source: 'domain', target: 'Website', kind: 'domain' }], fields: [copyField('name', 'Name'), copyField('domain', 'Website')] }),
    objectMapping({
      source: 'contacts',
      target: 'Contact',
      matchKeys: [{ source: 'email', target: 'Email', kind: 'email' }],
      fields: [copyField('first_name', 'LastName'), copyField('email', 'Email'), copyField('job_title', 'Title'), copyField('company_id', 'AccountId')],
    }),
  ];
  return {
    config: { connector: 'salesforce', accessToken: salesforce.accessToken, instanceUrl: salesforce.url },
    objects,
    rules: { store: (_, value) => value, refusesCreate: refuses, refusesUpdate: refuses },
    insert(object, fields) {
      if (refuses(object, fields)) return Promise.resolve(undefined);
      const input = Object.fromEntries(Object.entries(fields).filter(([field]) => field !== 'company_id').map(([field, value]) => [FIELD[field]!, value]));
      try {
        return Promise.resolve(store.create(api(object), input).id);
      } catch {
        return Promise.resolve(undefined);
      }
    },
    edit(object, id, field, value) {
      try {
        store.update(id, { [FIELD[field]!]: value });
        return Promise.resolve(true);
      } catch {
        return Promise.resolve(false);
      }
    },
    rows(object) {
      const text = (value: unknown): Value => (value === null || value === undefined || value === '' ? null : String(value));
      const rows = store.records(store.requireObject(api(object))).map((record): TargetRow => {
        const data = record.row.data;
        const fields = Object.fromEntries((object === 'companies' ? COMPANY_FIELDS : CONTACT_FIELDS).map((field) => [field, text(data[FIELD[field]!])]));
        const sourceId = text(data.Ferry_Source_Id__c);
        return { id: record.id, name: sourceId ? `c:${sourceId}` : `h:${record.id}`, fields };
      });
      return Promise.resolve(rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
    },
    close: () => salesforce.close(),
  };
}
