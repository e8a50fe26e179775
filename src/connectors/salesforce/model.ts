import type { DescribeGlobalResult, DescribeSObjectResult, Field } from 'jsforce/lib/types/common.js';
import { FerryError } from '../../core/errors.js';
import { SALESFORCE_FIELD_MEANINGS } from '../../core/salesforce-fields.js';
import type { FieldSchema, FieldType, ObjectSchema } from '../../core/schema.js';
import type { ApiClient } from '../kit/index.js';
import { STANDARD_OBJECTS, type SalesforceSettings } from './config.js';

/**
 * The org's objects and fields as describe tells them (REST "Describe Global" and "sObject Describe";
 * field properties as DescribeFieldResult), turned into Ferry's schema:
 *
 * - Types: string/combobox/encryptedstring -> string, textarea -> text, email, phone, url, a restricted
 *   picklist -> enum (active values), an unrestricted one -> string with its values as options (Salesforce takes
 *   any value there), multipicklist and time -> string (`a;b`, `13:30:00.000Z`), int ->
 *   integer, double/currency/percent -> number, boolean, date, datetime, reference -> reference. base64 blobs
 *   and compound fields (address, location) are left out: their parts are fields of their own.
 * - required = not nillable, createable and not defaulted on create (what an insert must send);
 *   readOnly = neither createable nor updateable; unique; maxLength for text.
 * - References: one target -> `reference`. A polymorphic reference (Task/Event `WhoId` -> Contact or Lead,
 *   `WhatId` -> Account, Opportunity, custom objects...) keeps its raw field (the id, as a string) and gets one
 *   reference field per target object Ferry lists, `WhoId:Contact`, `WhoId:Lead`: read as the id when it is a
 *   record of that object (by key prefix), written to the raw field. Owner fields pointing at User and Group
 *   (queues) are references to User. `ContentDocument` is ContentNote (a note is a content document), whose
 *   base64 `Content` is read and written as text (its HTML).
 */

/** `blob`: a base64 field read and written as text (ContentNote.Content, the note's HTML), one request a record to read. */
export type FieldKind = 'text' | 'number' | 'integer' | 'boolean' | 'date' | 'datetime' | 'enum' | 'ref' | 'polyref' | 'blob';

export interface FieldDef {
  /** Ferry's name: the API name, or `WhoId:Contact` for one target of a polymorphic reference. */
  name: string;
  /** The Salesforce field written and read. */
  api: string;
  kind: FieldKind;
  /** For polymorphic parts: the target object and its key prefix. */
  target?: { object: string; keyPrefix: string };
  createable: boolean;
  updateable: boolean;
  schema: FieldSchema;
}

export interface ObjectModel {
  name: string;
  keyPrefix: string;
  fields: Map<string, FieldDef>;
  /** Fields SOQL reads (API names), Id and SystemModstamp included. */
  selectable: string[];
  externalId?: string;
  /** A field named like the external-id field that is not marked External ID (it cannot serve; a person settles it). */
  externalIdUnmarked?: string;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  schema: ObjectSchema;
}

const TEXT_TYPES: Record<string, FieldType> = { string: 'string', combobox: 'string', encryptedstring: 'string', textarea: 'text', email: 'email', phone: 'phone', url: 'url', multipicklist: 'string', time: 'string' };
const SKIPPED_TYPES = new Set(['base64', 'address', 'location', 'anyType', 'complexvalue', 'id']);
const OWNER_FIELDS = new Set(['OwnerId']);
/** Blob fields that hold text: a ContentNote's Content is its HTML. */
const TEXT_BLOBS = new Set(['ContentNote.Content']);
const ALIASES: Record<string, string> = { ContentDocument: 'ContentNote' };

function baseSchema(field: Field, type: FieldType, readOnly: boolean): FieldSchema {
  const schema: FieldSchema = { name: field.name, label: field.label, type };
  if (!field.nillable && field.createable && !field.defaultedOnCreate) schema.required = true;
  if (field.unique) schema.unique = true;
  if (readOnly) schema.readOnly = true;
  const meaning = SALESFORCE_FIELD_MEANINGS[field.name];
  if (meaning) schema.meaning = meaning;
  if ((type === 'string' || type === 'text' || type === 'email' || type === 'phone' || type === 'url') && field.length > 0 && field.type !== 'base64') schema.maxLength = field.length;
  return schema;
}

/** describe's recordTypeInfos entry; API versions after jsforce's types add `active` and `developerName`. */
type RecordTypeInfoOf = DescribeSObjectResult['recordTypeInfos'][number] & { active?: boolean; developerName?: string };

/** A describeLayout `RecordTypeMapping` as far as Ferry reads it (jsforce types the mappings `any`). */
interface RecordTypeMapping {
  recordTypeId: string;
  name?: string;
  master?: boolean;
  active?: boolean;
  picklistsForRecordType?: { picklistName: string; picklistValues?: { value: string; active?: boolean }[] }[] | null;
}

export const MASTER_RECORD_TYPE = '012000000000000AAA';

export class SalesforceModel {
  private global: DescribeGlobalResult | undefined;
  private readonly objects = new Map<string, Promise<ObjectModel>>();

  constructor(
    private readonly client: () => Promise<ApiClient>,
    private readonly settings: SalesforceSettings,
  ) {}

  private base(): string {
    return `/services/data/v${this.settings.apiVersion}`;
  }

  async describeGlobal(): Promise<DescribeGlobalResult> {
    if (!this.global) this.global = (await (await this.client()).get<DescribeGlobalResult>(`${this.base()}/sobjects`)).body;
    return this.global;
  }

  /** The objects describe() lists: the settings' list, else the standard ones the org has and its custom objects. */
  async objectNames(): Promise<string[]> {
    const global = await this.describeGlobal();
    const available = new Map(global.sobjects.filter((each) => each.queryable).map((each) => [each.name.toLowerCase(), each.name]));
    if (this.settings.objects) {
      return this.settings.objects.map((name) => {
        const found = available.get(name.toLowerCase());
        if (!found) throw new FerryError('CONFIG_INVALID', `Salesforce has no queryable object "${name}" (objects in the settings); check the API name and the integration user's object permissions`, { object: name });
        return found;
      });
    }
    const names = STANDARD_OBJECTS.filter((name) => available.has(name.toLowerCase())).map((name) => available.get(name.toLowerCase())!);
    if (this.settings.customObjects) names.push(...global.sobjects.filter((each) => each.custom && each.queryable && each.name.endsWith('__c')).map((each) => each.name));
    return names;
  }

  /** Drops the object's cached describe (read again when next asked). */
  forget(name: string): void {
    this.objects.delete(name.toLowerCase());
  }

  object(name: string, fresh = false): Promise<ObjectModel> {
    const key = name.toLowerCase();
    if (fresh) this.objects.delete(key);
    let model = this.objects.get(key);
    if (!model) {
      model = this.load(name).catch((error: unknown) => {
        this.objects.delete(key);
        throw error;
      });
      this.objects.set(key, model);
    }
    return model;
  }

  /**
   * The object's record types as variants, and per picklist the values each record type makes available where
   * that is fewer than the field's options (`variantOptions`). Read only for an object with an active record
   * type besides Master: one `GET /sobjects/{Object}/describe/layouts/` (DescribeLayoutResult
   * `recordTypeMappings[].picklistsForRecordType[]`). Active record types only (an inactive one cannot be
   * given to a record); the default is describe's `defaultRecordTypeMapping` (the integration user's).
   */
  private async recordTypes(object: string, describe: DescribeSObjectResult, fields: Map<string, FieldDef>): Promise<ObjectSchema['variants']> {
    const infos = ((describe.recordTypeInfos ?? []) as RecordTypeInfoOf[]).filter((info) => !info.master && info.active !== false);
    const field = fields.get('RecordTypeId');
    if (infos.length === 0 || !field || describe.layoutable === false) return undefined;
    const layouts = (await (await this.client()).get<{ recordTypeMappings?: RecordTypeMapping[] | null }>(`${this.base()}/sobjects/${object}/describe/layouts/`)).body;
    const byId = new Map((layouts.recordTypeMappings ?? []).filter((mapping) => !mapping.master).map((mapping) => [mapping.recordTypeId, mapping]));
    for (const info of infos) {
      const mapping = byId.get(info.recordTypeId);
      for (const picklist of mapping?.picklistsForRecordType ?? []) {
        const def = fields.get(picklist.picklistName);
        if (!def || def.api !== picklist.picklistName || !def.schema.options) continue;
        const values = (picklist.picklistValues ?? []).filter((value) => value.active !== false).map((value) => value.value);
        const all = def.schema.options.map((option) => option.value);
        if (values.length === all.length && all.every((value) => values.includes(value))) continue;
        def.schema.variantOptions = { ...def.schema.variantOptions, [info.recordTypeId]: values };
      }
    }
    const fallback = (describe.recordTypeInfos as RecordTypeInfoOf[]).find((info) => info.defaultRecordTypeMapping);
    return {
      field: 'RecordTypeId',
      kind: 'record type',
      ...(fallback && !fallback.master ? { default: fallback.recordTypeId } : {}),
      list: infos.map((info) => ({ id: info.recordTypeId, label: info.name })),
    };
  }

  private async load(name: string): Promise<ObjectModel> {
    const listed = await this.objectNames();
    const canonical = listed.find((each) => each.toLowerCase() === name.toLowerCase());
    if (!canonical) throw new FerryError('SCHEMA_MISMATCH', `Salesforce object "${name}" is not among the objects this connection lists (${listed.join(', ')})`, { object: name });
    const describe = (await (await this.client()).get<DescribeSObjectResult>(`${this.base()}/sobjects/${canonical}/describe`)).body;
    const global = await this.describeGlobal();
    const prefixes = new Map(global.sobjects.map((each) => [each.name, each.keyPrefix ?? '']));
    const listedSet = new Set(listed);
    const fields = new Map<string, FieldDef>();
    const selectable = ['Id'];
    for (const field of describe.fields) {
      if (field.deprecatedAndHidden) continue;
      if (field.type === 'base64' && TEXT_BLOBS.has(`${canonical}.${field.name}`)) {
        // Not selectable by SOQL over many records: read one record at a time from its blob URL.
        fields.set(field.name, { api: field.name, createable: field.createable, updateable: field.updateable, name: field.name, kind: 'blob', schema: baseSchema(field, 'text', !field.createable && !field.updateable) });
        continue;
      }
      if (SKIPPED_TYPES.has(field.type)) continue;
      selectable.push(field.name);
      const readOnly = !field.createable && !field.updateable;
      const common = { api: field.name, createable: field.createable, updateable: field.updateable };
      if (field.type === 'reference') {
        let targets = (field.referenceTo ?? []).map((target) => (ALIASES[target] && listedSet.has(ALIASES[target]) ? ALIASES[target] : target)).filter((target) => listedSet.has(target));
        if (OWNER_FIELDS.has(field.name) && targets.includes('User')) targets = ['User'];
        if (targets.length === 1) {
          fields.set(field.name, { ...common, name: field.name, kind: 'ref', schema: { ...baseSchema(field, 'reference', readOnly), reference: { object: targets[0]! } } });
          continue;
        }
        fields.set(field.name, { ...common, name: field.name, kind: 'text', schema: baseSchema(field, 'string', readOnly) });
        for (const target of targets) {
          const name = `${field.name}:${target}`;
          const schema: FieldSchema = { name, label: `${field.label} (${target})`, type: 'reference', reference: { object: target } };
          if (readOnly) schema.readOnly = true;
          fields.set(name, { ...common, name, kind: 'polyref', target: { object: target, keyPrefix: prefixes.get(target) ?? '' }, schema });
        }
        continue;
      }
      if (field.type === 'picklist') {
        const options = (field.picklistValues ?? []).filter((value: { active?: boolean }) => value.active !== false).map((value: { value: string; label?: string }) => ({ value: value.value, ...(value.label && value.label !== value.value ? { label: value.label } : {}) }));
        // Only a restricted picklist refuses other values: an unrestricted one is text whose options are suggestions.
        const type: FieldType = field.restrictedPicklist ? 'enum' : 'string';
        fields.set(field.name, { ...common, name: field.name, kind: field.restrictedPicklist ? 'enum' : 'text', schema: { ...baseSchema(field, type, readOnly), options } });
        continue;
      }
      const text = TEXT_TYPES[field.type];
      if (text) {
        fields.set(field.name, { ...common, name: field.name, kind: 'text', schema: baseSchema(field, text, readOnly) });
        continue;
      }
      const kind: FieldKind = field.type === 'int' ? 'integer' : ['double', 'currency', 'percent'].includes(field.type) ? 'number' : field.type === 'boolean' ? 'boolean' : field.type === 'date' ? 'date' : field.type === 'datetime' ? 'datetime' : 'text';
      const type: FieldType = kind === 'text' ? 'string' : kind;
      fields.set(field.name, { ...common, name: field.name, kind, schema: baseSchema(field, type, readOnly) });
    }
    const variants = await this.recordTypes(canonical, describe, fields);
    const named = describe.fields.find((field) => field.name.toLowerCase() === this.settings.externalIdField.toLowerCase());
    const external = named?.externalId ? named : undefined;
    const schema: ObjectSchema = { name: canonical, label: describe.label, fields: [...fields.values()].map((def) => def.schema) };
    if (fields.has('SystemModstamp')) schema.modifiedField = 'SystemModstamp';
    if (fields.has('CreatedDate')) schema.createdField = 'CreatedDate';
    if (external) schema.externalIdField = external.name;
    if (variants) schema.variants = variants;
    if (!fields.has('SystemModstamp')) throw new FerryError('SCHEMA_MISMATCH', `Salesforce ${canonical} has no SystemModstamp field: Ferry reads objects by it`, { object: canonical });
    return {
      name: canonical,
      keyPrefix: describe.keyPrefix ?? '',
      fields,
      selectable,
      ...(external ? { externalId: external.name } : {}),
      ...(named && !named.externalId ? { externalIdUnmarked: named.name } : {}),
      createable: describe.createable,
      updateable: describe.updateable,
      deletable: describe.deletable,
      schema,
    };
  }
}
