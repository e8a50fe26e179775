import { KEY_PREFIXES, customPrefix } from './ids.js';

/**
 * The objects and fields the emulator knows, in the shape its describe answers. Standard objects carry the
 * fields a CRM migration touches (not every standard field); custom objects and fields come from the options
 * or the seed. Field names and types follow the Object Reference
 * (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/).
 */
export type FieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'multipicklist'
  | 'boolean'
  | 'int'
  | 'double'
  | 'currency'
  | 'percent'
  | 'date'
  | 'datetime'
  | 'base64'
  | 'reference';

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length: number;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  externalId: boolean;
  unique: boolean;
  custom: boolean;
  /** Computed by the server (Name of a person, IsClosed...). */
  calculated: boolean;
  /** The server fills it when the create leaves it out (a picklist default, OwnerId, IsDeleted). */
  defaultedOnCreate: boolean;
  defaultValue?: unknown;
  referenceTo: string[];
  relationshipName: string | null;
  picklistValues: string[];
  restrictedPicklist: boolean;
  nameField: boolean;
  precision: number;
  scale: number;
  /**
   * Created through the Tooling API: like a new field in a real org, visible to no one until a FieldPermissions
   * record grants it (describe leaves it out, or shows it read-only with Read but not Edit).
   */
  grantRequired?: boolean;
}

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  createable: boolean;
  fields: FieldDef[];
  byName: Map<string, FieldDef>;
  /** Relationship name (lower-case) -> reference field. */
  relationships: Map<string, FieldDef>;
}

/** A custom field declared in the options or the seed. */
export interface CustomFieldSpec {
  name: string;
  label?: string;
  type: Exclude<FieldType, 'id'>;
  length?: number;
  required?: boolean;
  externalId?: boolean;
  unique?: boolean;
  picklistValues?: string[];
  restrictedPicklist?: boolean;
  referenceTo?: string[];
}

export interface CustomObjectSpec {
  name: string;
  label?: string;
  labelPlural?: string;
  fields?: CustomFieldSpec[];
}

type FieldOptions = Partial<Omit<FieldDef, 'name' | 'type'>> & { required?: boolean; readOnly?: boolean };

const DEFAULT_LENGTH: Partial<Record<FieldType, number>> = { id: 18, reference: 18, string: 255, textarea: 255, email: 80, phone: 40, url: 255, picklist: 255, multipicklist: 4099 };

export function field(name: string, type: FieldType, options: FieldOptions = {}): FieldDef {
  const readOnly = options.readOnly ?? false;
  const required = options.required ?? false;
  const isReference = type === 'reference';
  return {
    name,
    label: options.label ?? name.replace(/__c$/, '').replace(/Id$/, isReference ? ' ID' : 'Id').replace(/_/g, ' '),
    type,
    length: options.length ?? DEFAULT_LENGTH[type] ?? 0,
    createable: options.createable ?? !readOnly,
    updateable: options.updateable ?? !readOnly,
    nillable: options.nillable ?? (!required && type !== 'boolean'),
    externalId: options.externalId ?? false,
    unique: options.unique ?? false,
    custom: name.endsWith('__c'),
    calculated: options.calculated ?? false,
    defaultedOnCreate: options.defaultedOnCreate ?? (type === 'boolean' || options.defaultValue !== undefined),
    defaultValue: options.defaultValue ?? (type === 'boolean' ? false : undefined),
    referenceTo: options.referenceTo ?? [],
    relationshipName: options.relationshipName ?? (isReference ? relationshipOf(name) : null),
    picklistValues: options.picklistValues ?? [],
    restrictedPicklist: options.restrictedPicklist ?? false,
    nameField: options.nameField ?? false,
    precision: options.precision ?? (type === 'currency' ? 18 : type === 'double' || type === 'percent' ? 18 : 0),
    scale: options.scale ?? (type === 'currency' ? 2 : 0),
  };
}

/** `AccountId` -> `Account`, `Project__c` -> `Project__r` (the SOQL relationship names). */
function relationshipOf(name: string): string {
  if (name.endsWith('__c')) return `${name.slice(0, -3)}__r`;
  return name.endsWith('Id') ? name.slice(0, -2) : name;
}

const ref = (name: string, to: string[], options: FieldOptions = {}) => field(name, 'reference', { referenceTo: to, ...options });
const pick = (name: string, values: string[], options: FieldOptions = {}) => field(name, 'picklist', { picklistValues: values, ...options });
const text = (name: string, length: number, options: FieldOptions = {}) => field(name, 'string', { length, ...options });

function systemFields(owned: boolean, ownerTo: string[] = ['User']): FieldDef[] {
  const audit = { readOnly: true, defaultedOnCreate: true, nillable: false };
  return [
    field('Id', 'id', { readOnly: true, nillable: false, defaultedOnCreate: true, label: 'Record ID' }),
    field('IsDeleted', 'boolean', { readOnly: true, label: 'Deleted' }),
    ...(owned ? [ref('OwnerId', ownerTo, { defaultedOnCreate: true, nillable: false, label: 'Owner ID' })] : []),
    field('CreatedDate', 'datetime', audit),
    ref('CreatedById', ['User'], audit),
    field('LastModifiedDate', 'datetime', audit),
    ref('LastModifiedById', ['User'], audit),
    field('SystemModstamp', 'datetime', audit),
  ];
}

const personName = () => [
  text('FirstName', 40),
  text('LastName', 80, { required: true }),
  text('Name', 121, { readOnly: true, calculated: true, nameField: true, label: 'Full Name' }),
];

const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'];
const INDUSTRIES = ['Agriculture', 'Banking', 'Chemicals', 'Communications', 'Consulting', 'Education', 'Energy', 'Finance', 'Healthcare', 'Manufacturing', 'Media', 'Retail', 'Technology', 'Other'];
export const OPPORTUNITY_STAGES: { name: string; probability: number; closed: boolean; won: boolean }[] = [
  { name: 'Prospecting', probability: 10, closed: false, won: false },
  { name: 'Qualification', probability: 10, closed: false, won: false },
  { name: 'Needs Analysis', probability: 20, closed: false, won: false },
  { name: 'Value Proposition', probability: 50, closed: false, won: false },
  { name: 'Id. Decision Makers', probability: 60, closed: false, won: false },
  { name: 'Perception Analysis', probability: 70, closed: false, won: false },
  { name: 'Proposal/Price Quote', probability: 75, closed: false, won: false },
  { name: 'Negotiation/Review', probability: 90, closed: false, won: false },
  { name: 'Closed Won', probability: 100, closed: true, won: true },
  { name: 'Closed Lost', probability: 0, closed: true, won: false },
];
export const LEAD_STATUSES = ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'];
const WHO = ['Contact', 'Lead'];
const WHAT = ['Account', 'Opportunity'];
const address = (prefix: string) => [text(`${prefix}Street`, 255, { }), text(`${prefix}City`, 40), text(`${prefix}State`, 80), text(`${prefix}PostalCode`, 20), text(`${prefix}Country`, 80)];

function standardObjects(): [string, string, FieldDef[], { createable?: boolean; owned?: boolean; ownerTo?: string[] }?][] {
  return [
    ['User', 'Users', [
      text('Username', 80, { required: true, unique: true }),
      field('Email', 'email', { required: true, length: 128 }),
      ...personName(),
      text('Alias', 8),
      field('IsActive', 'boolean', { defaultValue: true, label: 'Active' }),
      text('Title', 80),
      text('Department', 80),
      text('TimeZoneSidKey', 40, { defaultValue: 'GMT' }),
    ], { owned: false }],
    ['RecordType', 'Record Types', [
      text('Name', 80, { required: true, nameField: true }),
      text('DeveloperName', 80, { required: true }),
      text('SobjectType', 40, { required: true }),
      field('IsActive', 'boolean', { defaultValue: true }),
      field('Description', 'string', { length: 255 }),
    ], { createable: false, owned: false }],
    ['Account', 'Accounts', [
      text('Name', 255, { required: true, nameField: true, label: 'Account Name' }),
      pick('Type', ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Channel Partner / Reseller', 'Installation Partner', 'Technology Partner', 'Other']),
      pick('Industry', INDUSTRIES),
      field('Website', 'url'),
      field('Phone', 'phone'),
      ...address('Billing'),
      field('NumberOfEmployees', 'int', { label: 'Employees' }),
      field('AnnualRevenue', 'currency'),
      field('Description', 'textarea', { length: 32000 }),
      ref('ParentId', ['Account'], { label: 'Parent Account ID' }),
      ref('RecordTypeId', ['RecordType']),
    ]],
    ['Contact', 'Contacts', [
      ...personName(),
      ref('AccountId', ['Account']),
      field('Email', 'email'),
      field('Phone', 'phone'),
      field('MobilePhone', 'phone'),
      text('Title', 128),
      text('Department', 80),
      pick('LeadSource', LEAD_SOURCES),
      ...address('Mailing'),
      ref('ReportsToId', ['Contact']),
      field('Description', 'textarea', { length: 32000 }),
    ]],
    ['Lead', 'Leads', [
      ...personName(),
      text('Company', 255, { required: true }),
      field('Email', 'email'),
      field('Phone', 'phone'),
      text('Title', 128),
      pick('Status', LEAD_STATUSES, { required: true, restrictedPicklist: true, defaultValue: 'Open - Not Contacted', defaultedOnCreate: true }),
      pick('LeadSource', LEAD_SOURCES),
      pick('Industry', INDUSTRIES),
      field('IsConverted', 'boolean', { readOnly: true, label: 'Converted' }),
      field('ConvertedDate', 'date', { readOnly: true }),
      ref('ConvertedAccountId', ['Account'], { readOnly: true }),
      ref('ConvertedContactId', ['Contact'], { readOnly: true }),
      ref('ConvertedOpportunityId', ['Opportunity'], { readOnly: true }),
      field('Description', 'textarea', { length: 32000 }),
    ], { ownerTo: ['Group', 'User'] }],
    ['Opportunity', 'Opportunities', [
      text('Name', 120, { required: true, nameField: true }),
      ref('AccountId', ['Account']),
      pick('StageName', OPPORTUNITY_STAGES.map((stage) => stage.name), { required: true, restrictedPicklist: true, label: 'Stage' }),
      field('Amount', 'currency'),
      field('CloseDate', 'date', { required: true }),
      field('Probability', 'percent', { precision: 3 }),
      pick('Type', ['Existing Customer - Upgrade', 'Existing Customer - Replacement', 'Existing Customer - Downgrade', 'New Customer']),
      pick('LeadSource', LEAD_SOURCES),
      field('IsClosed', 'boolean', { readOnly: true, calculated: true, label: 'Closed' }),
      field('IsWon', 'boolean', { readOnly: true, calculated: true, label: 'Won' }),
      field('Description', 'textarea', { length: 32000 }),
      ref('RecordTypeId', ['RecordType']),
    ]],
    ['OpportunityContactRole', 'Opportunity Contact Role', [
      ref('OpportunityId', ['Opportunity'], { required: true, updateable: false }),
      ref('ContactId', ['Contact'], { required: true }),
      pick('Role', ['Business User', 'Decision Maker', 'Economic Buyer', 'Economic Decision Maker', 'Evaluator', 'Executive Sponsor', 'Influencer', 'Technical Buyer', 'Other']),
      field('IsPrimary', 'boolean', { label: 'Primary' }),
    ], { owned: false }],
    ['Task', 'Tasks', [
      text('Subject', 255),
      ref('WhoId', WHO, { relationshipName: 'Who', label: 'Name ID' }),
      ref('WhatId', WHAT, { relationshipName: 'What', label: 'Related To ID' }),
      field('ActivityDate', 'date', { label: 'Due Date Only' }),
      pick('Status', ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'], { required: true, restrictedPicklist: true, defaultValue: 'Not Started', defaultedOnCreate: true }),
      pick('Priority', ['High', 'Normal', 'Low'], { required: true, restrictedPicklist: true, defaultValue: 'Normal', defaultedOnCreate: true }),
      field('IsClosed', 'boolean', { readOnly: true, calculated: true, label: 'Closed' }),
      pick('TaskSubtype', ['Task', 'Email', 'ListEmail', 'Cadence', 'Call', 'LinkedIn'], { updateable: false }),
      field('Description', 'textarea', { length: 32000, label: 'Comments' }),
    ], { ownerTo: ['Group', 'User'] }],
    ['Event', 'Events', [
      text('Subject', 255),
      ref('WhoId', WHO, { relationshipName: 'Who', label: 'Name ID' }),
      ref('WhatId', WHAT, { relationshipName: 'What', label: 'Related To ID' }),
      field('StartDateTime', 'datetime', { required: true }),
      field('EndDateTime', 'datetime', { required: true }),
      field('DurationInMinutes', 'int', { readOnly: true, calculated: true }),
      field('IsAllDayEvent', 'boolean', { label: 'All-Day Event' }),
      text('Location', 255),
      field('Description', 'textarea', { length: 32000 }),
    ], { ownerTo: ['Calendar', 'User'] }],
    ['Note', 'Notes', [
      ref('ParentId', ['Account', 'Contact', 'Lead', 'Opportunity'], { required: true, relationshipName: 'Parent', updateable: false }),
      text('Title', 80, { required: true, nameField: true }),
      field('Body', 'textarea', { length: 32000 }),
      field('IsPrivate', 'boolean', { label: 'Private' }),
    ]],
    // Notes in Lightning: a ContentNote is a ContentDocument (069) whose Content is the note's HTML, shared
    // with records through ContentDocumentLink (06A). https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentnote.htm
    ['ContentNote', 'Notes', [
      text('Title', 255, { required: true, nameField: true }),
      field('Content', 'base64', { length: 0 }),
      text('TextPreview', 255, { readOnly: true, calculated: true }),
      text('FileType', 20, { readOnly: true, calculated: true }),
      text('FileExtension', 40, { readOnly: true, calculated: true }),
      field('ContentSize', 'int', { readOnly: true, calculated: true }),
    ]],
    // Setup objects behind field-level security (Object Reference "PermissionSet", "FieldPermissions"):
    // FieldPermissions records exist only for permission sets; Field is `Object.Field__c`.
    ['PermissionSet', 'Permission Sets', [
      text('Name', 80, { required: true, unique: true, label: 'Name' }),
      text('Label', 80, { required: true, nameField: true }),
      field('IsOwnedByProfile', 'boolean', { readOnly: true, label: 'Is Owned By Profile' }),
    ], { owned: false }],
    ['FieldPermissions', 'Field Permissions', [
      ref('ParentId', ['PermissionSet'], { required: true, updateable: false, relationshipName: 'Parent' }),
      text('SobjectType', 40, { required: true, updateable: false, label: 'SObject Type Name' }),
      text('Field', 80, { required: true, updateable: false, label: 'Field Name' }),
      field('PermissionsRead', 'boolean', { label: 'Read Field' }),
      field('PermissionsEdit', 'boolean', { label: 'Edit Field' }),
    ], { owned: false }],
    ['ContentDocumentLink', 'Content Document Link', [
      ref('ContentDocumentId', ['ContentDocument'], { required: true, updateable: false, relationshipName: 'ContentDocument' }),
      ref('LinkedEntityId', ['Account', 'Contact', 'Lead', 'Opportunity', 'User'], { required: true, updateable: false, relationshipName: 'LinkedEntity' }),
      pick('ShareType', ['V', 'C', 'I'], { required: true, restrictedPicklist: true }),
      pick('Visibility', ['AllUsers', 'InternalUsers', 'SharedUsers'], { restrictedPicklist: true, defaultValue: 'AllUsers', defaultedOnCreate: true }),
    ], { owned: false }],
  ];
}

/** Names another object answers for: only notes exist among content documents, so ContentDocument is ContentNote. */
const ALIASES: Record<string, string> = { contentdocument: 'contentnote' };

export function customField(spec: CustomFieldSpec): FieldDef {
  if (!spec.name.endsWith('__c')) throw new Error(`custom field ${spec.name}: the name must end in __c`);
  return field(spec.name, spec.type, {
    label: spec.label,
    length: spec.length ?? (spec.type === 'textarea' ? 32768 : undefined),
    required: spec.required,
    externalId: spec.externalId,
    unique: spec.unique,
    picklistValues: spec.picklistValues,
    restrictedPicklist: spec.restrictedPicklist,
    referenceTo: spec.referenceTo,
  });
}

export class Schema {
  readonly objects = new Map<string, ObjectDef>();
  private readonly byPrefix = new Map<string, ObjectDef>();
  private customCount = 0;

  constructor() {
    for (const [name, labelPlural, fields, options] of standardObjects()) {
      const owned = options?.owned ?? true;
      this.add({ name, label: name.replace(/([a-z])([A-Z])/g, '$1 $2'), labelPlural, keyPrefix: KEY_PREFIXES[name]!, custom: false, createable: options?.createable ?? true, fields: [...systemFields(owned, options?.ownerTo), ...fields] });
    }
  }

  private add(definition: Omit<ObjectDef, 'byName' | 'relationships'>): ObjectDef {
    const object: ObjectDef = { ...definition, byName: new Map(), relationships: new Map() };
    for (const each of object.fields) this.index(object, each);
    this.objects.set(object.name.toLowerCase(), object);
    this.byPrefix.set(object.keyPrefix, object);
    return object;
  }

  private index(object: ObjectDef, definition: FieldDef): void {
    object.byName.set(definition.name.toLowerCase(), definition);
    if (definition.relationshipName) object.relationships.set(definition.relationshipName.toLowerCase(), definition);
  }

  addCustomObject(spec: CustomObjectSpec): ObjectDef {
    if (!spec.name.endsWith('__c')) throw new Error(`custom object ${spec.name}: the name must end in __c`);
    const label = spec.label ?? spec.name.slice(0, -3).replace(/_/g, ' ');
    const object = this.add({
      name: spec.name,
      label,
      labelPlural: spec.labelPlural ?? `${label}s`,
      keyPrefix: customPrefix(this.customCount++),
      custom: true,
      createable: true,
      fields: [...systemFields(true), text('Name', 80, { nameField: true, label: `${label} Name` })],
    });
    for (const each of spec.fields ?? []) this.addCustomField(spec.name, each);
    return object;
  }

  addCustomField(objectName: string, spec: CustomFieldSpec): FieldDef {
    const object = this.object(objectName);
    if (!object) throw new Error(`custom field ${spec.name}: no object ${objectName}`);
    for (const target of spec.referenceTo ?? []) if (!this.object(target)) throw new Error(`custom field ${objectName}.${spec.name}: no object ${target} to refer to`);
    const definition = customField(spec);
    object.fields.push(definition);
    this.index(object, definition);
    // A custom object may be what activities and notes hang on (WhatId, ParentId), as in a real org.
    return definition;
  }

  object(name: string): ObjectDef | undefined {
    const key = name.toLowerCase();
    return this.objects.get(key) ?? this.objects.get(ALIASES[key] ?? '');
  }

  objectOfId(id: string): ObjectDef | undefined {
    return this.byPrefix.get(id.slice(0, 3));
  }
}
