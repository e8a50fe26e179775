import { RecordStore, type RecordTable, type Row } from '../kit/index.js';
import { RecordFailure } from './errors.js';
import { makeId, normalizeId } from './ids.js';
import { OPPORTUNITY_STAGES, Schema, type CustomFieldSpec, type CustomObjectSpec, type FieldDef, type ObjectDef } from './schema.js';
import { isDate, parseDateTime, sfDateTime } from './values.js';

/** Field values by API name; datetimes are kept as epoch ms, dates as `YYYY-MM-DD`. */
export type Data = Record<string, unknown>;

export interface SfRecord {
  id: string;
  object: ObjectDef;
  row: Row<Data>;
}

/**
 * A validation rule as an admin writes one (Setup > Object > Validation Rules): when `fails` is true for the
 * record as it would be saved, the save fails with FIELD_CUSTOM_VALIDATION_EXCEPTION, `errorMessage` and the
 * error location (`errorField`, or the top of the page: no field).
 */
export interface ValidationRule {
  object: string;
  name: string;
  errorMessage: string;
  errorField?: string;
  fails(record: Data): boolean;
}

export interface StoreOptions {
  customObjects?: CustomObjectSpec[];
  customFields?: Record<string, CustomFieldSpec[]>;
  validationRules?: ValidationRule[];
  integrationUser?: Partial<IntegrationUserPermissions>;
}

/** What the token's user may change in Setup (both default true, as for an admin-like integration user). */
export interface IntegrationUserPermissions {
  /** "Customize Application": create custom fields through the Tooling API. */
  customizeApplication: boolean;
  /** "Manage Profiles and Permission Sets": write FieldPermissions. */
  managePermissionSets: boolean;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PERSON_NAMES = new Set(['Contact', 'Lead', 'User']);
/** Children deleted with their parent (as Salesforce cascades these); other lookups to it are cleared. */
const CASCADE = new Set(['Contact.AccountId', 'Opportunity.AccountId', 'OpportunityContactRole.OpportunityId', 'OpportunityContactRole.ContactId', 'Note.ParentId', 'Task.WhatId', 'Task.WhoId', 'Event.WhatId', 'Event.WhoId', 'ContentDocumentLink.ContentDocumentId', 'ContentDocumentLink.LinkedEntityId']);
const SYSTEM_FIELDS = new Set(['Id', 'IsDeleted', 'CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp']);

export class SalesforceStore {
  readonly schema = new Schema();
  readonly kit: RecordStore;
  readonly orgId = makeId('00D', 1);
  /** The user that writes when no other is named (the integration user of the token). */
  defaultUserId = '';
  private undo: (() => void)[] | undefined;
  /** `Object.Field` -> lower-cased value -> rows (deleted and purged rows are filtered out on look-up). */
  private readonly indexes = new Map<string, Map<string, Set<Row<Data>>>>();
  readonly validationRules: ValidationRule[];
  /**
   * Record type id -> picklist field -> the values that record type makes available (Setup > Record Types >
   * Picklists Available for Editing). A field not listed offers all its values in that record type.
   */
  private readonly recordTypePicklists = new Map<string, Record<string, string[]>>();
  readonly permissions: IntegrationUserPermissions;
  /** Ids of custom fields created through the Tooling API (00N...). */
  toolingFields = 0;

  constructor(
    readonly clock: () => number,
    options: StoreOptions = {},
  ) {
    this.kit = new RecordStore(clock, { sequences: 'per-table', firstId: 1 });
    for (const spec of options.customObjects ?? []) this.schema.addCustomObject(spec);
    for (const [object, fields] of Object.entries(options.customFields ?? {})) for (const spec of fields) this.schema.addCustomField(object, spec);
    this.validationRules = options.validationRules ?? [];
    this.permissions = { customizeApplication: options.integrationUser?.customizeApplication ?? true, managePermissionSets: options.integrationUser?.managePermissionSets ?? true };
  }

  /**
   * What the integration user may do with a field: `edit` (every field but one created through the Tooling
   * API), or for such a field what the FieldPermissions records grant (the emulator treats every permission
   * set as assigned to the integration user).
   */
  fieldAccess(object: ObjectDef, definition: FieldDef): 'edit' | 'read' | 'none' {
    if (!definition.grantRequired) return 'edit';
    const name = `${object.name}.${definition.name}`.toLowerCase();
    const grants = this.records(this.requireObject('FieldPermissions')).filter((record) => String(record.row.data.Field).toLowerCase() === name && record.row.data.PermissionsRead === true);
    return grants.some((record) => record.row.data.PermissionsEdit === true) ? 'edit' : grants.length > 0 ? 'read' : 'none';
  }

  /** FieldPermissions rules (Object Reference "FieldPermissions"; the error codes are the emulator's choice). */
  private checkFieldPermissions(data: Data, selfId: string | undefined): void {
    if (!this.permissions.managePermissionSets) throw new RecordFailure('INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on cross-reference id', []);
    const sobject = String(data.SobjectType ?? '');
    const fieldName = String(data.Field ?? '');
    const target = this.schema.object(sobject);
    const [prefix, rest] = fieldName.split('.', 2);
    const definition = target && rest !== undefined && prefix!.toLowerCase() === target.name.toLowerCase() ? target.byName.get(rest.toLowerCase()) : undefined;
    if (!target) throw new RecordFailure('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `SObject Type Name: bad value for restricted picklist field: ${sobject}`, ['SobjectType']);
    if (!definition) throw new RecordFailure('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `Field Name: bad value for restricted picklist field: ${fieldName}`, ['Field']);
    if (data.PermissionsEdit === true && data.PermissionsRead !== true) throw new RecordFailure('FIELD_INTEGRITY_EXCEPTION', 'Edit Field requires Read Field', ['PermissionsRead']);
    const clash = this.records(this.requireObject('FieldPermissions')).find((record) => record.id !== selfId && record.row.data.ParentId === data.ParentId && String(record.row.data.Field).toLowerCase() === fieldName.toLowerCase());
    if (clash) throw new RecordFailure('DUPLICATE_VALUE', `duplicate value found: <unknown> duplicates value on record with id: ${clash.id}`, []);
  }

  table(object: ObjectDef): RecordTable<Data> {
    return this.kit.table<Data>(object.name);
  }

  requireObject(name: string): ObjectDef {
    const object = this.schema.object(name);
    if (!object) throw new RecordFailure('INVALID_TYPE', `sObject type '${name}' is not supported.`);
    return object;
  }

  /** The record with this 15- or 18-character id, deleted or not. */
  find(id: string): SfRecord | undefined {
    const normal = normalizeId(id);
    if (!normal) return undefined;
    const object = this.schema.objectOfId(normal);
    if (!object) return undefined;
    let number = 0;
    for (const char of normal.slice(6, 15)) number = number * 62 + BASE62.indexOf(char);
    const row = this.table(object).get(number);
    return row ? { id: normal, object, row } : undefined;
  }

  records(object: ObjectDef, includeDeleted = false): SfRecord[] {
    const table = this.table(object);
    return (includeDeleted ? table.all() : table.liveRows()).map((row) => ({ id: makeId(object.keyPrefix, row.id), object, row }));
  }

  /** A field's stored value (system fields come from the row). */
  value(record: SfRecord, name: string): unknown {
    switch (name) {
      case 'Id':
        return record.id;
      case 'IsDeleted':
        return record.row.deleted;
      // Salesforce keeps audit times to the second (they always read .000).
      case 'CreatedDate':
        return Math.floor(record.row.addTime / 1000) * 1000;
      case 'LastModifiedDate':
      case 'SystemModstamp':
        return Math.floor(record.row.updateTime / 1000) * 1000;
      default:
        return record.row.data[name] ?? null;
    }
  }

  /** The value as the REST API writes it in JSON. */
  output(definition: FieldDef, value: unknown): unknown {
    if (value === null || value === undefined) return null;
    return definition.type === 'datetime' ? sfDateTime(value as number) : value;
  }

  /** A field of a record as the REST API writes it: blob fields (base64) as the URL of their content. */
  outputOf(record: SfRecord, definition: FieldDef, version: string): unknown {
    const value = this.value(record, definition.name);
    if (definition.type === 'base64') return value === null ? null : `/services/data/v${version}/sobjects/${record.object.name}/${record.id}/${definition.name}`;
    return this.output(definition, value);
  }

  render(record: SfRecord, version: string, fields?: FieldDef[]): Record<string, unknown> {
    const result: Record<string, unknown> = { attributes: { type: record.object.name, url: `/services/data/v${version}/sobjects/${record.object.name}/${record.id}` } };
    for (const definition of fields ?? record.object.fields) result[definition.name] = this.outputOf(record, definition, version);
    return result;
  }

  /** Runs `work`; when it throws, every write it made is undone (allOrNone). */
  transaction<T>(work: () => T): T {
    const outer = this.undo;
    const log: (() => void)[] = [];
    this.undo = log;
    try {
      return work();
    } catch (error) {
      for (const step of log.reverse()) step();
      throw error;
    } finally {
      this.undo = outer;
      outer?.push(...log);
    }
  }

  private remember(step: () => void): void {
    this.undo?.push(step);
  }

  create(objectName: string, input: Data, userId = this.defaultUserId, options: { addTime?: number } = {}): SfRecord {
    const object = this.requireObject(objectName);
    if (!object.createable) throw new RecordFailure('INVALID_TYPE_FOR_OPERATION', `entity type ${object.name} does not support insert`);
    if (Object.entries(input).some(([key, value]) => key.toLowerCase() === 'id' && value !== null && value !== undefined)) throw new RecordFailure('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id']);
    const data: Data = {};
    for (const definition of object.fields) {
      if (definition.defaultValue !== undefined) data[definition.name] = definition.defaultValue;
    }
    if (object.byName.has('ownerid')) data.OwnerId = userId;
    this.apply(object, data, input, 'create');
    if (object.byName.has('recordtypeid') && (data.RecordTypeId === null || data.RecordTypeId === undefined)) {
      const recordType = this.defaultRecordType(object);
      if (recordType) data.RecordTypeId = recordType;
    }
    this.checkRecordType(object, data, input);
    data.CreatedById = userId;
    data.LastModifiedById = userId;
    this.derive(object, data, input);
    this.check(object, data, undefined);
    const table = this.table(object);
    const row = table.insert(data, { addTime: options.addTime, updateTime: options.addTime });
    this.reindex(object, row, undefined, data);
    this.remember(() => {
      table.purge(row.id);
      this.reindex(object, row, data, undefined);
    });
    const record = { id: makeId(object.keyPrefix, row.id), object, row };
    // A new content document is shared with its owner, as Salesforce links it on creation.
    if (object.name === 'ContentNote') this.create('ContentDocumentLink', { ContentDocumentId: record.id, LinkedEntityId: data.OwnerId, ShareType: 'I' }, userId, options);
    return record;
  }

  update(id: string, input: Data, userId = this.defaultUserId, expectObject?: ObjectDef): SfRecord {
    const record = this.live(id, expectObject);
    const { object, row } = record;
    if (object.name === 'Lead' && row.data.IsConverted === true) throw new RecordFailure('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead', []);
    const data: Data = { ...row.data };
    this.apply(object, data, input, 'update');
    this.checkRecordType(object, data, input);
    data.LastModifiedById = userId;
    this.derive(object, data, input);
    this.check(object, data, record.id);
    const before = { data: row.data, updateTime: row.updateTime };
    this.table(object).update(row.id, () => undefined);
    this.reindex(object, row, row.data, data);
    row.data = data;
    this.remember(() => {
      this.reindex(object, row, data, before.data);
      row.data = before.data;
      row.updateTime = before.updateTime;
    });
    return record;
  }

  /** The live record, or the failure Salesforce answers for a malformed, unknown or deleted id. */
  live(id: string, expectObject?: ObjectDef): SfRecord {
    const normal = normalizeId(id);
    if (!normal) throw new RecordFailure('MALFORMED_ID', `malformed id ${id}`, []);
    const record = this.find(normal);
    if (!record || (expectObject && record.object !== expectObject)) {
      if (expectObject && normal.slice(0, 3) !== expectObject.keyPrefix) throw new RecordFailure('MALFORMED_ID', `${expectObject.name} ID: id value of incorrect type: ${id}`, ['Id']);
      throw new RecordFailure('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []);
    }
    if (record.row.deleted) throw new RecordFailure('ENTITY_IS_DELETED', 'entity is deleted', []);
    return record;
  }

  delete(id: string, expectObject?: ObjectDef): SfRecord {
    const record = this.live(id, expectObject);
    this.deleteWithChildren(record);
    return record;
  }

  /** Children go to the recycle bin with their parent (and theirs with them); other lookups to it are cleared. */
  private deleteWithChildren(record: SfRecord): void {
    this.markDeleted(record);
    for (const object of this.schema.objects.values()) {
      for (const definition of object.fields) {
        if (definition.type !== 'reference' || SYSTEM_FIELDS.has(definition.name) || definition.name === 'OwnerId') continue;
        if (!definition.referenceTo.some((name) => this.schema.object(name) === record.object)) continue;
        for (const row of this.table(object).liveRows()) {
          if (row.data[definition.name] !== record.id) continue;
          const child = { id: makeId(object.keyPrefix, row.id), object, row };
          if (CASCADE.has(`${object.name}.${definition.name}`)) this.deleteWithChildren(child);
          else {
            const before = row.data;
            row.data = { ...before, [definition.name]: null };
            this.remember(() => {
              row.data = before;
            });
          }
        }
      }
    }
  }

  private markDeleted(record: SfRecord): void {
    if (record.row.deleted) return;
    const before = { updateTime: record.row.updateTime };
    this.table(record.object).markDeleted(record.row.id);
    this.remember(() => {
      record.row.deleted = false;
      record.row.deleteTime = undefined;
      record.row.updateTime = before.updateTime;
    });
  }

  /** Live records whose external-id (or unique) field equals `value` (case-insensitive, as external ids compare), in id order. */
  matchExternal(object: ObjectDef, definition: FieldDef, value: unknown): SfRecord[] {
    const table = this.table(object);
    const rows = this.index(object, definition).get(String(value).toLowerCase()) ?? new Set<Row<Data>>();
    return [...rows]
      .filter((row) => !row.deleted && table.get(row.id) === row)
      .sort((a, b) => a.id - b.id)
      .map((row) => ({ id: makeId(object.keyPrefix, row.id), object, row }));
  }

  /** The value index of a field, built on first use (a field may be added after records exist) and then kept up to date. */
  private index(object: ObjectDef, definition: FieldDef): Map<string, Set<Row<Data>>> {
    const key = `${object.name}.${definition.name}`;
    let index = this.indexes.get(key);
    if (!index) {
      index = new Map();
      this.indexes.set(key, index);
      for (const row of this.table(object).all()) this.indexValue(index, row, row.data[definition.name], true);
    }
    return index;
  }

  private indexValue(index: Map<string, Set<Row<Data>>>, row: Row<Data>, value: unknown, add: boolean): void {
    if (value === null || value === undefined) return;
    const key = String(value).toLowerCase();
    let rows = index.get(key);
    if (!rows) {
      if (!add) return;
      rows = new Set();
      index.set(key, rows);
    }
    if (add) rows.add(row);
    else rows.delete(row);
  }

  private reindex(object: ObjectDef, row: Row<Data>, before: Data | undefined, after: Data | undefined): void {
    for (const definition of object.fields) {
      const index = this.indexes.get(`${object.name}.${definition.name}`);
      if (!index || before?.[definition.name] === after?.[definition.name]) continue;
      if (before) this.indexValue(index, row, before[definition.name], false);
      if (after) this.indexValue(index, row, after[definition.name], true);
    }
  }

  externalIdField(object: ObjectDef, name: string): FieldDef | undefined {
    const definition = object.byName.get(name.toLowerCase());
    return definition && (definition.externalId || definition.name === 'Id') ? definition : undefined;
  }

  /**
   * Adds a record type to an object (metadata, no REST create: written straight to the RecordType table), with
   * the values it makes available per picklist field. The first active record type of an object is the
   * integration user's default (a create without RecordTypeId gets it).
   */
  addRecordType(sobject: string, name: string, options: { developerName?: string; active?: boolean; picklists?: Record<string, string[]>; userId?: string } = {}): string {
    const target = this.requireObject(sobject);
    const object = this.requireObject('RecordType');
    const userId = options.userId ?? this.defaultUserId;
    for (const [fieldName, values] of Object.entries(options.picklists ?? {})) {
      const definition = target.byName.get(fieldName.toLowerCase());
      if (!definition || (definition.type !== 'picklist' && definition.type !== 'multipicklist')) throw new Error(`record type ${name}: ${target.name}.${fieldName} is not a picklist`);
      const unknown = values.filter((value) => !definition.picklistValues.includes(value));
      if (unknown.length > 0) throw new Error(`record type ${name}: ${unknown.join(', ')} are not values of ${target.name}.${fieldName}`);
    }
    const row = this.table(object).insert({ Name: name, DeveloperName: options.developerName ?? name.replace(/\W/g, '_'), SobjectType: target.name, IsActive: options.active ?? true, Description: null, CreatedById: userId, LastModifiedById: userId });
    const id = makeId(object.keyPrefix, row.id);
    this.recordTypePicklists.set(id, Object.fromEntries(Object.entries(options.picklists ?? {}).map(([fieldName, values]) => [target.byName.get(fieldName.toLowerCase())!.name, [...values]])));
    return id;
  }

  /** The object's record types (not Master), in creation order. */
  recordTypes(object: ObjectDef): SfRecord[] {
    return this.records(this.requireObject('RecordType')).filter((record) => record.row.data.SobjectType === object.name);
  }

  /** The record type a create without RecordTypeId gets: the first active one, or none (Master). */
  defaultRecordType(object: ObjectDef): string | undefined {
    return this.recordTypes(object).find((record) => record.row.data.IsActive === true)?.id;
  }

  /** The values of a picklist available in a record type (all of them for Master or a field the record type does not restrict). */
  picklistValuesFor(definition: FieldDef, recordTypeId: string | undefined): string[] {
    const restricted = recordTypeId ? this.recordTypePicklists.get(recordTypeId)?.[definition.name] : undefined;
    return restricted ?? definition.picklistValues;
  }

  /**
   * RecordTypeId must be a record type of this object; a restricted picklist written by the request must hold
   * a value of the record's record type (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, as for a value the picklist
   * lacks). Unrestricted picklists keep any value.
   */
  private checkRecordType(object: ObjectDef, data: Data, input: Data): void {
    if (!object.byName.has('recordtypeid')) return;
    const recordTypeId = typeof data.RecordTypeId === 'string' ? data.RecordTypeId : undefined;
    if (recordTypeId) {
      const recordType = this.find(recordTypeId);
      if (!recordType || recordType.row.data.SobjectType !== object.name || recordType.row.data.IsActive !== true) throw new RecordFailure('INVALID_CROSS_REFERENCE_KEY', `Record Type ID: this ID value isn't valid for the user: ${recordTypeId}`, ['RecordTypeId']);
    }
    const written = new Set(Object.keys(input).map((key) => key.toLowerCase()));
    for (const definition of object.fields) {
      if (!definition.restrictedPicklist || !written.has(definition.name.toLowerCase())) continue;
      const value = data[definition.name];
      if (typeof value !== 'string') continue;
      const allowed = this.picklistValuesFor(definition, recordTypeId);
      const values = definition.type === 'multipicklist' ? value.split(';') : [value];
      const bad = values.find((each) => !allowed.includes(each));
      if (bad !== undefined) throw new RecordFailure('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${definition.label}: bad value for restricted picklist field: ${bad}`, [definition.name]);
    }
  }

  /** Seeding only: the state Lead conversion leaves (conversion itself is not a REST resource). */
  markConverted(leadId: string, converted: { accountId: string; contactId: string; opportunityId?: string; date: string }): void {
    const lead = this.live(leadId);
    lead.row.data = { ...lead.row.data, IsConverted: true, Status: 'Closed - Converted', ConvertedAccountId: converted.accountId, ConvertedContactId: converted.contactId, ConvertedOpportunityId: converted.opportunityId ?? null, ConvertedDate: converted.date };
  }

  private apply(object: ObjectDef, data: Data, input: Data, mode: 'create' | 'update'): void {
    const locked: string[] = [];
    for (const [key, raw] of Object.entries(input)) {
      if (key === 'attributes' || (key.toLowerCase() === 'id' && mode === 'update')) continue;
      const definition = object.byName.get(key.toLowerCase());
      if (!definition) throw new RecordFailure('INVALID_FIELD', `No such column '${key}' on sobject of type ${object.name}`, [key]);
      if (mode === 'create' ? !definition.createable : !definition.updateable) {
        locked.push(definition.name);
        continue;
      }
      data[definition.name] = this.coerce(object, definition, raw);
    }
    if (locked.length > 0) throw new RecordFailure('INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${locked.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, locked);
  }

  private coerce(object: ObjectDef, definition: FieldDef, raw: unknown): unknown {
    const label = definition.label;
    const wrongType = () => new RecordFailure('INVALID_TYPE_ON_FIELD_IN_RECORD', `${label}: value not of required type: ${typeof raw === 'object' ? JSON.stringify(raw) : String(raw)}`, [definition.name]);
    if (raw === null || raw === undefined || raw === '') return definition.type === 'boolean' ? false : null;
    if (typeof raw === 'object') throw wrongType();
    switch (definition.type) {
      case 'boolean':
        if (raw === true || raw === 'true') return true;
        if (raw === false || raw === 'false') return false;
        throw wrongType();
      case 'int':
      case 'double':
      case 'currency':
      case 'percent': {
        const number = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
        if (!Number.isFinite(number) || (definition.type === 'int' && !Number.isInteger(number))) throw wrongType();
        return number;
      }
      case 'date':
        if (typeof raw !== 'string' || !isDate(raw)) throw wrongType();
        return raw;
      case 'datetime': {
        const ms = typeof raw === 'string' ? parseDateTime(raw) : undefined;
        if (ms === undefined) throw wrongType();
        return ms;
      }
      case 'reference':
        return this.reference(definition, String(raw));
      case 'base64': {
        const text = String(raw).replace(/\s+/g, '');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw wrongType();
        return text;
      }
      default: {
        const text = String(raw);
        if ([...text].length > definition.length) throw new RecordFailure('STRING_TOO_LONG', `${label}: data value too large: ${text.slice(0, 80)} (max length=${definition.length})`, [definition.name]);
        if (definition.type === 'email' && !EMAIL.test(text)) throw new RecordFailure('INVALID_EMAIL_ADDRESS', `${label}: invalid email address: ${text}`, [definition.name]);
        if (definition.restrictedPicklist) {
          const values = definition.type === 'multipicklist' ? text.split(';') : [text];
          const bad = values.find((value) => !definition.picklistValues.includes(value));
          if (bad !== undefined) throw new RecordFailure('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${label}: bad value for restricted picklist field: ${bad}`, [definition.name]);
        }
        void object;
        return text;
      }
    }
  }

  private reference(definition: FieldDef, text: string): string {
    const normal = normalizeId(text);
    if (!normal) throw new RecordFailure('MALFORMED_ID', `${definition.label}: id value of incorrect type: ${text}`, [definition.name]);
    const target = this.find(normal);
    const known = definition.referenceTo.filter((name) => this.schema.object(name));
    if (target && !known.some((name) => this.schema.object(name) === target.object)) throw new RecordFailure('FIELD_INTEGRITY_EXCEPTION', `${definition.label}: id value of incorrect type: ${text}`, [definition.name]);
    if (!target || target.row.deleted) throw new RecordFailure('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [definition.name]);
    return normal;
  }

  /** Server-computed fields. */
  private derive(object: ObjectDef, data: Data, input: Data): void {
    if (PERSON_NAMES.has(object.name)) data.Name = [data.FirstName, data.LastName].filter((part) => part !== null && part !== undefined && part !== '').join(' ');
    if (object.name === 'Opportunity') {
      const stage = OPPORTUNITY_STAGES.find((each) => each.name === data.StageName);
      data.IsClosed = stage?.closed ?? false;
      data.IsWon = stage?.won ?? false;
      // A stage change sets the stage's default probability unless the request sets one (as the UI does).
      if (stage && !('Probability' in input) && ('StageName' in input || data.Probability === undefined)) data.Probability = stage.probability;
    }
    if (object.name === 'ContentNote') {
      const html = Buffer.from(typeof data.Content === 'string' ? data.Content : '', 'base64').toString('utf8');
      data.TextPreview = html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 255);
      data.FileType = 'SNOTE';
      data.FileExtension = 'snote';
      data.ContentSize = Buffer.byteLength(html);
    }
    if (object.name === 'Task') data.IsClosed = data.Status === 'Completed' || data.Status === 'Deferred';
    if (object.name === 'Event' && typeof data.StartDateTime === 'number' && typeof data.EndDateTime === 'number') {
      if (data.EndDateTime < data.StartDateTime) throw new RecordFailure('FIELD_INTEGRITY_EXCEPTION', 'End Date Time: End time can\'t be before start time', ['EndDateTime']);
      data.DurationInMinutes = Math.round((data.EndDateTime - data.StartDateTime) / 60_000);
    }
  }

  private check(object: ObjectDef, data: Data, selfId: string | undefined): void {
    const missing = object.fields.filter((definition) => !definition.nillable && definition.createable && !definition.defaultedOnCreate && definition.type !== 'boolean' && (data[definition.name] === null || data[definition.name] === undefined));
    if (missing.length > 0) throw new RecordFailure('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.map((each) => each.name).join(', ')}]`, missing.map((each) => each.name));
    if (object.name === 'FieldPermissions') this.checkFieldPermissions(data, selfId);
    for (const definition of object.fields) {
      if (!definition.unique) continue;
      const value = data[definition.name];
      if (value === null || value === undefined) continue;
      const clash = this.matchExternal(object, definition, value).find((record) => record.id !== selfId);
      if (clash) throw new RecordFailure('DUPLICATE_VALUE', `duplicate value found: ${definition.name} duplicates value on record with id: ${clash.id}`, []);
    }
    for (const rule of this.validationRules) {
      if (rule.object.toLowerCase() !== object.name.toLowerCase()) continue;
      if (rule.fails(data)) throw new RecordFailure('FIELD_CUSTOM_VALIDATION_EXCEPTION', rule.errorMessage, rule.errorField ? [rule.errorField] : []);
    }
  }
}
