/**
 * What a fresh HubSpot account holds before anyone touches it: the standard object types, their default
 * properties and property groups, the default deal pipeline, and the HubSpot-defined association types.
 */

export type PropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';
export const PROPERTY_TYPES: readonly PropertyType[] = ['string', 'number', 'date', 'datetime', 'enumeration', 'bool', 'phone_number'];

// fieldType values accepted by the properties API; type/fieldType pairs are checked loosely (see docs page).
// https://developers.hubspot.com/docs/api/crm/properties (Property type and fieldType values)
export const FIELD_TYPES = [
  'booleancheckbox',
  'calculation_equation',
  'checkbox',
  'date',
  'file',
  'html',
  'number',
  'phonenumber',
  'radio',
  'select',
  'text',
  'textarea',
] as const;

export interface PropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
  description?: string;
}

/** The public shape of a property (field names from the official SDK's `Property` model). */
export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  description: string;
  options: PropertyOption[];
  displayOrder: number;
  hasUniqueValue: boolean;
  hidden: boolean;
  formField: boolean;
  hubspotDefined: boolean;
  calculated: boolean;
  externalOptions: boolean;
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean; readOnlyOptions?: boolean };
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  referencedObjectType?: string;
}

export interface PropertyGroup {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

export interface ObjectTypeInfo {
  /** Plural name used in URLs (`contacts`). */
  name: string;
  singular: string;
  /** HubSpot's object type id (`0-1`). */
  objectTypeId: string;
  /** Properties returned when a read names none (search docs list these per object). */
  defaultProperties: string[];
  /** Server-set creation timestamp property (`createdate`, `hs_createdate` for engagements). */
  createdProperty: string;
  /** Server-set modification timestamp properties, kept equal. */
  modifiedProperties: string[];
  defaultGroup: string;
  /** At least one of these must be set on create. */
  requiredAnyOf?: string[];
  /** All of these must be set on create. */
  required?: string[];
}

// Object type ids and the default properties of search/list reads:
// https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm ("Searchable CRM objects")
// Contacts: "createdate, email, firstname, hs_object_id, lastmodifieddate, and lastname".
// Contacts' own modification property is `lastmodifieddate`; the emulator keeps `hs_lastmodifieddate` equal to
// it as well (whether real contacts expose both is unverified; see docs/connectors/hubspot-emulator.md).
const ENGAGEMENT_DEFAULTS = ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'];
export const OBJECT_TYPES: Record<string, ObjectTypeInfo> = {
  contacts: {
    name: 'contacts',
    singular: 'contact',
    objectTypeId: '0-1',
    defaultProperties: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
    createdProperty: 'createdate',
    modifiedProperties: ['lastmodifieddate', 'hs_lastmodifieddate'],
    defaultGroup: 'contactinformation',
    // https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide: at least one of
    // email, firstname, lastname is required when creating a contact.
    requiredAnyOf: ['email', 'firstname', 'lastname'],
  },
  companies: {
    name: 'companies',
    singular: 'company',
    objectTypeId: '0-2',
    defaultProperties: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
    createdProperty: 'createdate',
    modifiedProperties: ['hs_lastmodifieddate'],
    defaultGroup: 'companyinformation',
    requiredAnyOf: ['name', 'domain'],
  },
  deals: {
    name: 'deals',
    singular: 'deal',
    objectTypeId: '0-3',
    defaultProperties: ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline'],
    createdProperty: 'createdate',
    modifiedProperties: ['hs_lastmodifieddate'],
    defaultGroup: 'dealinformation',
    required: ['dealname', 'dealstage'],
  },
  notes: {
    name: 'notes',
    singular: 'note',
    objectTypeId: '0-46',
    defaultProperties: ENGAGEMENT_DEFAULTS,
    createdProperty: 'hs_createdate',
    modifiedProperties: ['hs_lastmodifieddate'],
    defaultGroup: 'engagement',
    // Engagements need hs_timestamp: https://developers.hubspot.com/docs/api/crm/notes
    required: ['hs_timestamp'],
  },
  tasks: {
    name: 'tasks',
    singular: 'task',
    objectTypeId: '0-27',
    defaultProperties: ENGAGEMENT_DEFAULTS,
    createdProperty: 'hs_createdate',
    modifiedProperties: ['hs_lastmodifieddate'],
    defaultGroup: 'engagement',
    required: ['hs_timestamp'],
  },
  calls: {
    name: 'calls',
    singular: 'call',
    objectTypeId: '0-48',
    defaultProperties: ENGAGEMENT_DEFAULTS,
    createdProperty: 'hs_createdate',
    modifiedProperties: ['hs_lastmodifieddate'],
    defaultGroup: 'engagement',
    required: ['hs_timestamp'],
  },
  meetings: {
    name: 'meetings',
    singular: 'meeting',
    objectTypeId: '0-47',
    defaultProperties: ENGAGEMENT_DEFAULTS,
    createdProperty: 'hs_createdate',
    modifiedProperties: ['hs_lastmodifieddate'],
    defaultGroup: 'engagement',
    required: ['hs_timestamp'],
  },
  // Logged e-mails: https://developers.hubspot.com/docs/api-reference/crm-emails-v3/guide ("hs_timestamp: Required").
  emails: {
    name: 'emails',
    singular: 'email',
    objectTypeId: '0-49',
    defaultProperties: ENGAGEMENT_DEFAULTS,
    createdProperty: 'hs_createdate',
    modifiedProperties: ['hs_lastmodifieddate'],
    defaultGroup: 'engagement',
    required: ['hs_timestamp'],
  },
};

/** Resolves `contacts`, `contact`, `CONTACTS` or `0-1` to the plural name, or undefined. */
export function resolveObjectType(raw: string): string | undefined {
  const text = raw.toLowerCase();
  for (const info of Object.values(OBJECT_TYPES)) {
    if (text === info.name || text === info.singular || text === info.objectTypeId) return info.name;
  }
  return undefined;
}

const EPOCH_ISO = '2020-01-01T00:00:00.000Z';

function options(values: readonly (string | [string, string])[]): PropertyOption[] {
  return values.map((entry, index) => {
    const [value, label] = typeof entry === 'string' ? [entry, entry.charAt(0) + entry.slice(1).toLowerCase().replace(/_/g, ' ')] : entry;
    return { label, value, displayOrder: index, hidden: false };
  });
}

interface PropertySpec {
  label?: string;
  type: PropertyType;
  fieldType: string;
  group?: string;
  options?: PropertyOption[];
  readOnly?: boolean;
  calculated?: boolean;
  hasUniqueValue?: boolean;
  /** `OWNER` for owner properties: their options are the account's owners, not a stored list. */
  referencedObjectType?: string;
}

export function makeProperty(name: string, spec: PropertySpec, group: string, displayOrder: number): PropertyDefinition {
  return {
    name,
    label: spec.label ?? name,
    type: spec.type,
    fieldType: spec.fieldType,
    groupName: spec.group ?? group,
    description: '',
    options: spec.options ?? [],
    displayOrder,
    hasUniqueValue: spec.hasUniqueValue ?? false,
    hidden: false,
    formField: !spec.readOnly,
    hubspotDefined: true,
    calculated: spec.calculated ?? false,
    externalOptions: spec.referencedObjectType !== undefined,
    ...(spec.referencedObjectType !== undefined ? { referencedObjectType: spec.referencedObjectType } : {}),
    // readOnlyValue marks values only HubSpot sets (object id, modification dates, calculated properties).
    modificationMetadata: { archivable: false, readOnlyDefinition: true, readOnlyValue: spec.readOnly ?? false, readOnlyOptions: false },
    createdAt: EPOCH_ISO,
    updatedAt: EPOCH_ISO,
    archived: false,
  };
}

const text = (label: string): PropertySpec => ({ label, type: 'string', fieldType: 'text' });
const area = (label: string): PropertySpec => ({ label, type: 'string', fieldType: 'textarea' });
const number = (label: string): PropertySpec => ({ label, type: 'number', fieldType: 'number' });
const datetime = (label: string, readOnly = false): PropertySpec => ({ label, type: 'datetime', fieldType: 'date', readOnly });
const select = (label: string, values: readonly (string | [string, string])[], fieldType = 'select'): PropertySpec => ({
  label,
  type: 'enumeration',
  fieldType,
  options: options(values),
});
// hubspot_owner_id is an enumeration whose options are the account's owners (`externalOptions: true`,
// `referencedObjectType: "OWNER"`, as HubSpot's properties API describes it); the store checks it against owners.
const OWNER: PropertySpec = { label: 'Owner', type: 'enumeration', fieldType: 'select', referencedObjectType: 'OWNER' };
const OBJECT_ID: PropertySpec = { label: 'Record ID', type: 'number', fieldType: 'number', readOnly: true };

const LIFECYCLE = ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other'].map(
  (value) => [value, value] as [string, string],
);
// A subset of HubSpot's industry options (the real list has ~150 values).
const INDUSTRIES = [
  'ACCOUNTING',
  'COMPUTER_SOFTWARE',
  'FINANCIAL_SERVICES',
  'HOSPITAL_HEALTH_CARE',
  'RETAIL',
  'LOGISTICS_AND_SUPPLY_CHAIN',
  'EDUCATION_MANAGEMENT',
  'MARKETING_AND_ADVERTISING',
  'MACHINERY',
  'MEDIA_PRODUCTION',
];

/**
 * The default call outcomes (hs_call_disposition values are these internal ids, labels as the UI shows them),
 * from the calls guide: https://developers.hubspot.com/docs/api/crm/calls (hs_call_disposition). An account
 * can add its own outcomes; the emulator has only the defaults.
 */
export const CALL_OUTCOMES: [string, string][] = [
  ['9d9162e7-6cf3-4944-bf63-4dff82258764', 'Busy'],
  ['f240bbac-87c9-4f6e-bf70-924b57d47db7', 'Connected'],
  ['a4c4c377-d246-4b32-a13b-75a56a4cd0ff', 'Left live message'],
  ['b2cf5968-551e-4856-9783-52b3da59a7d0', 'Left voicemail'],
  ['73a0d17f-1163-4015-bdd5-ec830791da20', 'No answer'],
  ['17b47fee-58de-441e-a44c-c6300d46f273', 'Wrong number'],
];

const DEFAULT_PROPERTIES: Record<string, Record<string, PropertySpec>> = {
  contacts: {
    email: text('Email'),
    firstname: text('First Name'),
    lastname: text('Last Name'),
    phone: { label: 'Phone Number', type: 'string', fieldType: 'phonenumber' },
    mobilephone: { label: 'Mobile Phone Number', type: 'string', fieldType: 'phonenumber' },
    jobtitle: text('Job Title'),
    company: text('Company Name'),
    website: text('Website URL'),
    city: text('City'),
    country: text('Country/Region'),
    date_of_birth: { label: 'Date of birth', type: 'date', fieldType: 'date' },
    lifecyclestage: select('Lifecycle Stage', LIFECYCLE, 'radio'),
    hubspot_owner_id: OWNER,
    createdate: datetime('Create Date'),
    lastmodifieddate: datetime('Last Modified Date', true),
    hs_lastmodifieddate: datetime('Object last modified date/time', true),
    hs_object_id: OBJECT_ID,
  },
  companies: {
    name: text('Company name'),
    domain: text('Company Domain Name'),
    phone: { label: 'Phone Number', type: 'string', fieldType: 'phonenumber' },
    website: text('Website URL'),
    city: text('City'),
    country: text('Country/Region'),
    industry: select('Industry', INDUSTRIES),
    numberofemployees: number('Number of Employees'),
    annualrevenue: number('Annual Revenue'),
    description: area('Description'),
    hubspot_owner_id: OWNER,
    createdate: datetime('Create Date'),
    hs_lastmodifieddate: datetime('Last Modified Date', true),
    hs_object_id: OBJECT_ID,
  },
  deals: {
    dealname: text('Deal Name'),
    amount: number('Amount'),
    // dealstage/pipeline options come from the pipelines API; the store checks them against the pipelines.
    dealstage: { label: 'Deal Stage', type: 'enumeration', fieldType: 'radio' },
    pipeline: { label: 'Pipeline', type: 'enumeration', fieldType: 'select' },
    closedate: datetime('Close Date'),
    deal_currency_code: select('Currency', ['USD', 'EUR', 'GBP', 'CHF', 'JPY'].map((code) => [code, code] as [string, string])),
    description: area('Deal Description'),
    hubspot_owner_id: OWNER,
    createdate: datetime('Create Date'),
    hs_lastmodifieddate: datetime('Last Modified Date', true),
    hs_object_id: OBJECT_ID,
  },
  notes: {
    hs_note_body: { label: 'Note body', type: 'string', fieldType: 'html' },
    hs_timestamp: datetime('Activity date'),
    hubspot_owner_id: OWNER,
    hs_createdate: datetime('Create date'),
    hs_lastmodifieddate: datetime('Last modified date', true),
    hs_object_id: OBJECT_ID,
  },
  tasks: {
    hs_task_subject: text('Task Title'),
    hs_task_body: { label: 'Notes', type: 'string', fieldType: 'html' },
    hs_task_status: select('Task Status', ['NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED']),
    hs_task_priority: select('Priority', ['NONE', 'LOW', 'MEDIUM', 'HIGH']),
    hs_task_type: select('Task Type', ['EMAIL', 'CALL', 'TODO']),
    hs_timestamp: datetime('Due date'),
    hubspot_owner_id: OWNER,
    hs_createdate: datetime('Create date'),
    hs_lastmodifieddate: datetime('Last modified date', true),
    hs_object_id: OBJECT_ID,
  },
  // Calls: https://developers.hubspot.com/docs/api/crm/calls (Properties). hs_call_duration is in milliseconds;
  // hs_call_disposition holds the outcome's internal id (a GUID), the default outcomes' ids as the guide lists them.
  calls: {
    hs_call_title: text('Call Title'),
    hs_call_body: { label: 'Call notes', type: 'string', fieldType: 'html' },
    hs_call_duration: number('Call duration'),
    hs_call_direction: select('Call direction', ['INBOUND', 'OUTBOUND']),
    hs_call_disposition: select('Call outcome', CALL_OUTCOMES),
    hs_call_status: select('Call status', ['BUSY', 'CALLING_CRM_USER', 'CANCELED', 'COMPLETED', 'CONNECTING', 'FAILED', 'IN_PROGRESS', 'NO_ANSWER', 'QUEUED', 'RINGING']),
    hs_call_from_number: { label: 'From number', type: 'string', fieldType: 'phonenumber' },
    hs_call_to_number: { label: 'To number', type: 'string', fieldType: 'phonenumber' },
    hs_timestamp: datetime('Activity date'),
    hubspot_owner_id: OWNER,
    hs_createdate: datetime('Create date'),
    hs_lastmodifieddate: datetime('Last modified date', true),
    hs_object_id: OBJECT_ID,
  },
  // Meetings: https://developers.hubspot.com/docs/api/crm/meetings (Properties).
  meetings: {
    hs_meeting_title: text('Meeting name'),
    hs_meeting_body: { label: 'Meeting description', type: 'string', fieldType: 'html' },
    hs_internal_meeting_notes: { label: 'Internal meeting notes', type: 'string', fieldType: 'html' },
    hs_meeting_location: text('Location'),
    hs_meeting_external_url: text('External URL'),
    hs_meeting_start_time: datetime('Start time'),
    hs_meeting_end_time: datetime('End time'),
    hs_meeting_outcome: select('Meeting outcome', ['SCHEDULED', 'COMPLETED', 'RESCHEDULED', 'NO_SHOW', 'CANCELED']),
    hs_timestamp: datetime('Activity date'),
    hubspot_owner_id: OWNER,
    hs_createdate: datetime('Create date'),
    hs_lastmodifieddate: datetime('Last modified date', true),
    hs_object_id: OBJECT_ID,
  },
  // E-mails: https://developers.hubspot.com/docs/api-reference/crm-emails-v3/guide (Properties). The sender and
  // recipient properties are read only ("populated from hs_email_headers"); the emulator does not derive them.
  emails: {
    hs_email_subject: text('Email subject'),
    hs_email_text: area('Email body'),
    hs_email_html: { label: 'Email HTML body', type: 'string', fieldType: 'html' },
    hs_email_direction: select('Email direction', [
      ['EMAIL', 'Email sent from CRM'],
      ['INCOMING_EMAIL', 'Incoming email'],
      ['FORWARDED_EMAIL', 'Forwarded email'],
    ]),
    hs_email_status: select('Email send status', ['BOUNCED', 'FAILED', 'SCHEDULED', 'SENDING', 'SENT']),
    hs_email_headers: area('Email headers'),
    hs_email_from_email: { ...text('From email'), readOnly: true },
    hs_email_to_email: { ...text('To email'), readOnly: true },
    hs_timestamp: datetime('Activity date'),
    hubspot_owner_id: OWNER,
    hs_createdate: datetime('Create date'),
    hs_lastmodifieddate: datetime('Last modified date', true),
    hs_object_id: OBJECT_ID,
  },
};

export function defaultProperties(objectType: string): PropertyDefinition[] {
  const info = OBJECT_TYPES[objectType]!;
  return Object.entries(DEFAULT_PROPERTIES[objectType] ?? {}).map(([name, spec], index) => makeProperty(name, spec, info.defaultGroup, index));
}

export function defaultGroups(objectType: string): PropertyGroup[] {
  const info = OBJECT_TYPES[objectType]!;
  return [
    { name: info.defaultGroup, label: `${info.singular.charAt(0).toUpperCase()}${info.singular.slice(1)} information`, displayOrder: 0, archived: false },
  ];
}

export interface PipelineStage {
  id: string;
  label: string;
  displayOrder: number;
  metadata: Record<string, string>;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
  writePermissions: string;
}

export interface Pipeline {
  id: string;
  label: string;
  displayOrder: number;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
  stages: PipelineStage[];
}

// Default sales pipeline of every account: id `default`, stage ids and probabilities as HubSpot ships them.
// https://developers.hubspot.com/docs/api-reference/crm-pipelines-v3/guide (shape; stage metadata isClosed/probability)
export function defaultDealPipeline(): Pipeline {
  const stages: [string, string, string, boolean][] = [
    ['appointmentscheduled', 'Appointment Scheduled', '0.2', false],
    ['qualifiedtobuy', 'Qualified To Buy', '0.4', false],
    ['presentationscheduled', 'Presentation Scheduled', '0.6', false],
    ['decisionmakerboughtin', 'Decision Maker Bought-In', '0.8', false],
    ['contractsent', 'Contract Sent', '0.9', false],
    ['closedwon', 'Closed Won', '1.0', true],
    ['closedlost', 'Closed Lost', '0.0', true],
  ];
  return {
    id: 'default',
    label: 'Sales Pipeline',
    displayOrder: 0,
    archived: false,
    createdAt: EPOCH_ISO,
    updatedAt: EPOCH_ISO,
    stages: stages.map(([id, label, probability, isClosed], index) => ({
      id,
      label,
      displayOrder: index,
      metadata: { isClosed: String(isClosed), probability },
      archived: false,
      createdAt: EPOCH_ISO,
      updatedAt: EPOCH_ISO,
      writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT',
    })),
  };
}

export interface AssociationType {
  fromType: string;
  toType: string;
  typeId: number;
  /** The type id of the same association seen from the other side. */
  inverseTypeId: number;
  label: string | null;
  /** Name used in v3 `associations` read results (`contact_to_company_unlabeled`). */
  v3Name: string;
  /** The unlabeled type `batch/associate/default` creates. */
  isDefault: boolean;
  /** HUBSPOT_DEFINED for the standard pairs; custom objects' association definitions are USER_DEFINED (assumed). */
  category: 'HUBSPOT_DEFINED' | 'USER_DEFINED';
}

// HubSpot-defined association type ids ("Association type id values" in the v4 associations guide):
// https://developers.hubspot.com/docs/api/crm/associations (HubSpot defined association types)
// https://developers.hubspot.com/docs/api-reference/latest/crm/associations/overview (279 = contact to company)
// Primary company labels were renamed in 2024 ("Contact with Primary Company"); ids are what counts:
// https://developers.hubspot.com/changelog/changes-to-primary-labels-for-hubspot-defined-association-labels
const PAIRS: [string, string, number, number, string | null, string | null][] = [
  // from, to, typeId, inverseTypeId, label (from side), label (to side)
  ['contacts', 'companies', 279, 280, null, null],
  ['contacts', 'companies', 1, 2, 'Primary', 'Contact with Primary Company'],
  ['deals', 'contacts', 3, 4, null, null],
  ['deals', 'companies', 341, 342, null, null],
  ['deals', 'companies', 5, 6, 'Primary', 'Deal with Primary Company'],
  ['notes', 'contacts', 202, 201, null, null],
  ['notes', 'companies', 190, 189, null, null],
  ['notes', 'deals', 214, 213, null, null],
  ['tasks', 'contacts', 204, 203, null, null],
  ['tasks', 'companies', 192, 191, null, null],
  ['tasks', 'deals', 216, 215, null, null],
  ['calls', 'contacts', 194, 193, null, null],
  ['calls', 'companies', 182, 181, null, null],
  ['calls', 'deals', 206, 205, null, null],
  ['meetings', 'contacts', 200, 199, null, null],
  ['meetings', 'companies', 188, 187, null, null],
  ['meetings', 'deals', 212, 211, null, null],
  ['emails', 'contacts', 198, 197, null, null],
  ['emails', 'companies', 186, 185, null, null],
  ['emails', 'deals', 210, 209, null, null],
];

function buildAssociationTypes(): AssociationType[] {
  const types: AssociationType[] = [];
  const hasPrimary = (from: string, to: string) => PAIRS.some(([f, t, , , label]) => ((f === from && t === to) || (f === to && t === from)) && label !== null);
  for (const [from, to, typeId, inverseTypeId, label, inverseLabel] of PAIRS) {
    const fromSingular = OBJECT_TYPES[from]!.singular;
    const toSingular = OBJECT_TYPES[to]!.singular;
    const unlabeledSuffix = hasPrimary(from, to) && label === null ? '_unlabeled' : '';
    types.push({ fromType: from, toType: to, typeId, inverseTypeId, label, v3Name: `${fromSingular}_to_${toSingular}${unlabeledSuffix}`, isDefault: label === null, category: 'HUBSPOT_DEFINED' });
    types.push({
      fromType: to,
      toType: from,
      typeId: inverseTypeId,
      inverseTypeId: typeId,
      label: inverseLabel,
      v3Name: `${toSingular}_to_${fromSingular}${unlabeledSuffix}`,
      isDefault: inverseLabel === null,
      category: 'HUBSPOT_DEFINED',
    });
  }
  return types;
}

export const ASSOCIATION_TYPES: readonly AssociationType[] = buildAssociationTypes();

export function associationType(fromType: string, typeId: number): AssociationType | undefined {
  return ASSOCIATION_TYPES.find((type) => type.fromType === fromType && type.typeId === typeId);
}

export function associationTypesBetween(fromType: string, toType: string): AssociationType[] {
  return ASSOCIATION_TYPES.filter((type) => type.fromType === fromType && type.toType === toType);
}

// ---- custom objects ---------------------------------------------------------------------------------------

/**
 * A custom object type as the schemas API describes it (field names from the official SDK's `ObjectSchema`,
 * codegen/crm/schemas/models/ObjectSchema.ts in github.com/HubSpot/hubspot-api-nodejs;
 * https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/schemas/get-schema).
 */
export interface CustomObjectSchema {
  /** The numeric part of objectTypeId (`123456` for `2-123456`). */
  id: string;
  objectTypeId: string;
  /** `p{portalId}_{name}`. */
  fullyQualifiedName: string;
  name: string;
  labels: { singular: string; plural: string };
  description?: string;
  primaryDisplayProperty?: string;
  requiredProperties: string[];
  searchableProperties: string[];
  secondaryDisplayProperties: string[];
  metaType: 'PORTAL_SPECIFIC';
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

/** One association definition of a custom object (`AssociationDefinition` in the SDK). */
export interface CustomAssociationDefinition {
  id: string;
  fromObjectTypeId: string;
  toObjectTypeId: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * The emulator's view of a custom object type. Its store key is the objectTypeId. Records of custom objects
 * carry `hs_object_id`, `hs_createdate` and `hs_lastmodifieddate` (the default properties of reads, *assumed*
 * from HubSpot's engagement-like objects); `requiredProperties` must be set on create.
 */
export function customObjectInfo(schema: CustomObjectSchema): ObjectTypeInfo {
  return {
    name: schema.objectTypeId,
    singular: schema.name,
    objectTypeId: schema.objectTypeId,
    defaultProperties: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
    createdProperty: 'hs_createdate',
    modifiedProperties: ['hs_lastmodifieddate'],
    defaultGroup: `${schema.name}_information`,
    required: [...schema.requiredProperties],
  };
}

export function customDefaultProperties(schema: CustomObjectSchema): PropertyDefinition[] {
  const group = `${schema.name}_information`;
  return [
    makeProperty('hs_createdate', datetime('Object create date/time'), group, 0),
    makeProperty('hs_lastmodifieddate', datetime('Object last modified date/time', true), group, 1),
    makeProperty('hs_object_id', OBJECT_ID, group, 2),
  ];
}
