/**
 * What the emulator knows about Pipedrive's object types: which fields each accepts on write (and how they
 * are checked), the shape and key order of each record as v2 returns it, the standard field definitions the
 * `/api/v2/{entity}Fields` endpoints list, and the default activity types. Checked against the v2 OpenAPI
 * file (request bodies of POST /persons, /organizations, /deals, /activities, /products, /pipelines, /stages
 * and their 200 examples) and https://pipedrive.readme.io/docs/pipedrive-api-v2-migration-guide.
 */
export type EntityName = 'persons' | 'organizations' | 'deals' | 'activities' | 'products' | 'pipelines' | 'stages';
export type RefTarget = EntityName | 'users';

export type Kind =
  | 'string'
  | 'nullableString'
  | 'int'
  | 'nullableInt'
  | 'number'
  | 'nullableNumber'
  | 'bool'
  | 'date'
  | 'time'
  | 'duration'
  | 'datetime'
  | 'labelled'
  | 'intArray'
  | 'address'
  | 'visibleTo'
  | 'participants'
  | 'prices'
  | { ref: RefTarget }
  | { oneOf: readonly string[] };

export interface EntityInfo {
  name: EntityName;
  singular: string;
  /** The v2 field-definition endpoint (`personFields`), when the type has one. */
  fieldsPath?: string;
  /** Whether records carry `custom_fields` and the field endpoints accept custom fields. */
  customFields: boolean;
  /** Required on create (v2 OpenAPI `required`, plus `name` for persons: the migration guide and the live API). */
  required: string[];
  writable: Record<string, Kind>;
  /** Output keys in Pipedrive's order with their defaults (id, times and is_deleted are added around them). */
  template: Record<string, unknown>;
  sortBy: string[];
  /** Query filters the list endpoint accepts besides the common ones. */
  filters: string[];
  /** Products' list has `updated_since` but no `updated_until` in the OpenAPI file. */
  updatedUntil: boolean;
}

const owner = { ref: 'users' } as const;

export const ENTITIES: Record<EntityName, EntityInfo> = {
  persons: {
    name: 'persons',
    singular: 'person',
    fieldsPath: 'personFields',
    customFields: true,
    required: ['name'],
    writable: { name: 'string', owner_id: owner, org_id: { ref: 'organizations' }, emails: 'labelled', phones: 'labelled', visible_to: 'visibleTo', label_ids: 'intArray', add_time: 'datetime' },
    template: { name: null, first_name: null, last_name: null, owner_id: null, org_id: null, emails: [], phones: [], visible_to: 3, label_ids: [], picture_id: null },
    sortBy: ['id', 'update_time', 'add_time'],
    filters: ['owner_id', 'org_id', 'deal_id'],
    updatedUntil: true,
  },
  organizations: {
    name: 'organizations',
    singular: 'organization',
    fieldsPath: 'organizationFields',
    customFields: true,
    required: ['name'],
    writable: {
      name: 'string',
      owner_id: owner,
      add_time: 'datetime',
      visible_to: 'visibleTo',
      label_ids: 'intArray',
      address: 'address',
      website: 'nullableString',
      linkedin: 'nullableString',
      industry: 'nullableInt',
      annual_revenue: 'nullableNumber',
      employee_count: 'nullableInt',
    },
    template: { name: null, owner_id: null, address: null, visible_to: 3, label_ids: [], website: null, linkedin: null, industry: null, annual_revenue: null, employee_count: null },
    sortBy: ['id', 'update_time', 'add_time'],
    filters: ['owner_id'],
    updatedUntil: true,
  },
  deals: {
    name: 'deals',
    singular: 'deal',
    fieldsPath: 'dealFields',
    customFields: true,
    required: ['title'],
    writable: {
      title: 'string',
      owner_id: owner,
      person_id: { ref: 'persons' },
      org_id: { ref: 'organizations' },
      pipeline_id: { ref: 'pipelines' },
      stage_id: { ref: 'stages' },
      value: 'number',
      currency: 'string',
      is_archived: 'bool',
      archive_time: 'datetime',
      status: { oneOf: ['open', 'won', 'lost'] },
      probability: 'nullableNumber',
      lost_reason: 'nullableString',
      visible_to: 'visibleTo',
      close_time: 'datetime',
      won_time: 'datetime',
      lost_time: 'datetime',
      expected_close_date: 'date',
      label_ids: 'intArray',
    },
    template: {
      title: null,
      creator_user_id: null,
      owner_id: null,
      value: 0,
      person_id: null,
      org_id: null,
      stage_id: null,
      pipeline_id: null,
      currency: 'USD',
      archive_time: null,
      stage_change_time: null,
      status: 'open',
      is_archived: false,
      probability: null,
      lost_reason: null,
      visible_to: 3,
      close_time: null,
      won_time: null,
      lost_time: null,
      expected_close_date: null,
      label_ids: [],
      origin: 'API',
      origin_id: null,
    },
    sortBy: ['id', 'update_time', 'add_time'],
    filters: ['owner_id', 'person_id', 'org_id', 'pipeline_id', 'stage_id', 'status'],
    updatedUntil: true,
  },
  activities: {
    name: 'activities',
    singular: 'activity',
    fieldsPath: 'activityFields',
    customFields: false,
    required: [],
    writable: {
      subject: 'string',
      type: 'string',
      owner_id: owner,
      deal_id: { ref: 'deals' },
      org_id: { ref: 'organizations' },
      due_date: 'date',
      due_time: 'time',
      duration: 'duration',
      busy: 'bool',
      done: 'bool',
      location: 'address',
      participants: 'participants',
      public_description: 'nullableString',
      priority: 'nullableInt',
      note: 'nullableString',
    },
    template: {
      subject: null,
      type: null,
      owner_id: null,
      creator_user_id: null,
      deal_id: null,
      lead_id: null,
      person_id: null,
      org_id: null,
      project_id: null,
      due_date: null,
      due_time: null,
      duration: null,
      busy: false,
      done: false,
      marked_as_done_time: null,
      location: null,
      participants: [],
      attendees: [],
      public_description: null,
      priority: null,
      note: null,
    },
    sortBy: ['id', 'update_time', 'add_time', 'due_date'],
    filters: ['owner_id', 'deal_id', 'person_id', 'org_id', 'done'],
    updatedUntil: true,
  },
  products: {
    name: 'products',
    singular: 'product',
    fieldsPath: 'productFields',
    customFields: true,
    required: ['name'],
    writable: {
      name: 'string',
      code: 'nullableString',
      description: 'nullableString',
      unit: 'nullableString',
      tax: 'number',
      category: 'nullableString',
      owner_id: owner,
      is_linkable: 'bool',
      visible_to: 'visibleTo',
      prices: 'prices',
      billing_frequency: { oneOf: ['one-time', 'annually', 'semi-annually', 'quarterly', 'monthly', 'weekly'] },
      billing_frequency_cycles: 'nullableInt',
    },
    template: { name: null, code: null, description: null, unit: null, tax: 0, category: null, is_linkable: true, visible_to: 3, owner_id: null, billing_frequency: 'one-time', billing_frequency_cycles: null, prices: [] },
    sortBy: ['id', 'name', 'add_time', 'update_time'],
    filters: ['owner_id'],
    updatedUntil: false,
  },
  pipelines: {
    name: 'pipelines',
    singular: 'pipeline',
    customFields: false,
    required: ['name'],
    writable: { name: 'string', is_deal_probability_enabled: 'bool' },
    template: { name: null, order_nr: 0, is_deal_probability_enabled: false },
    sortBy: ['id', 'update_time', 'add_time'],
    filters: [],
    updatedUntil: false,
  },
  stages: {
    name: 'stages',
    singular: 'stage',
    customFields: false,
    required: ['name', 'pipeline_id'],
    writable: { name: 'string', pipeline_id: { ref: 'pipelines' }, deal_probability: 'int', is_deal_rot_enabled: 'bool', days_to_rotten: 'nullableInt' },
    template: { order_nr: 0, name: null, deal_probability: 100, pipeline_id: null, is_deal_rot_enabled: false, days_to_rotten: null },
    sortBy: ['id', 'update_time', 'add_time', 'order_nr'],
    filters: ['pipeline_id'],
    updatedUntil: false,
  },
};

export function entityByFieldsPath(path: string): EntityInfo | undefined {
  return Object.values(ENTITIES).find((info) => info.fieldsPath === path);
}

/** Custom field types (v2 POST /{entity}Fields `field_type` enum). */
export const CUSTOM_FIELD_TYPES = ['varchar', 'text', 'double', 'phone', 'date', 'daterange', 'time', 'timerange', 'set', 'enum', 'varchar_auto', 'address', 'monetary', 'org', 'people', 'user'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

export interface FieldDefinition {
  field_code: string;
  field_name: string;
  field_type: string;
  options: { id: number; label: string }[] | null;
  is_custom_field: boolean;
  description?: string | null;
}

/** Standard fields each `{entity}Fields` endpoint lists (a subset of Pipedrive's: those records carry). */
const STANDARD_FIELDS: Record<string, [string, string, string][]> = {
  persons: [
    ['name', 'Name', 'varchar'],
    ['owner_id', 'Owner', 'user'],
    ['org_id', 'Organization', 'org'],
    ['emails', 'Email', 'varchar'],
    ['phones', 'Phone', 'phone'],
    ['label_ids', 'Labels', 'set'],
    ['visible_to', 'Visible to', 'visible_to'],
    ['add_time', 'Person created', 'date'],
    ['update_time', 'Update time', 'date'],
  ],
  organizations: [
    ['name', 'Name', 'varchar'],
    ['owner_id', 'Owner', 'user'],
    ['address', 'Address', 'address'],
    ['website', 'Website', 'varchar'],
    ['linkedin', 'LinkedIn profile', 'varchar'],
    ['industry', 'Industry', 'enum'],
    ['annual_revenue', 'Annual revenue', 'monetary'],
    ['employee_count', 'Number of employees', 'double'],
    ['label_ids', 'Labels', 'set'],
    ['visible_to', 'Visible to', 'visible_to'],
    ['add_time', 'Organization created', 'date'],
    ['update_time', 'Update time', 'date'],
  ],
  deals: [
    ['title', 'Title', 'varchar'],
    ['owner_id', 'Owner', 'user'],
    ['person_id', 'Contact person', 'people'],
    ['org_id', 'Organization', 'org'],
    ['value', 'Value', 'monetary'],
    ['pipeline_id', 'Pipeline', 'double'],
    ['stage_id', 'Stage', 'stage'],
    ['status', 'Status', 'status'],
    ['lost_reason', 'Lost reason', 'varchar_options'],
    ['probability', 'Probability', 'double'],
    ['expected_close_date', 'Expected close date', 'date'],
    ['won_time', 'Won time', 'date'],
    ['lost_time', 'Lost time', 'date'],
    ['close_time', 'Deal closed on', 'date'],
    ['label_ids', 'Label', 'set'],
    ['visible_to', 'Visible to', 'visible_to'],
    ['add_time', 'Deal created', 'date'],
    ['update_time', 'Update time', 'date'],
  ],
  activities: [
    ['subject', 'Subject', 'varchar'],
    ['type', 'Type', 'enum'],
    ['owner_id', 'Assigned to user', 'user'],
    ['deal_id', 'Deal', 'deal'],
    ['person_id', 'Contact person', 'people'],
    ['org_id', 'Organization', 'org'],
    ['due_date', 'Due date', 'date'],
    ['due_time', 'Due time', 'time'],
    ['duration', 'Duration', 'time'],
    ['done', 'Done', 'boolean'],
    ['note', 'Note', 'text'],
    ['add_time', 'Add time', 'date'],
    ['update_time', 'Update time', 'date'],
  ],
  products: [
    ['name', 'Name', 'varchar'],
    ['code', 'Product code', 'varchar'],
    ['description', 'Description', 'text'],
    ['unit', 'Unit', 'varchar'],
    ['tax', 'Tax', 'double'],
    ['category', 'Category', 'enum'],
    ['owner_id', 'Owner', 'user'],
    ['prices', 'Unit prices', 'price'],
    ['visible_to', 'Visible to', 'visible_to'],
    ['add_time', 'Add time', 'date'],
    ['update_time', 'Update time', 'date'],
  ],
};

export function standardFields(entity: EntityName): FieldDefinition[] {
  return (STANDARD_FIELDS[entity] ?? []).map(([field_code, field_name, field_type]) => ({ field_code, field_name, field_type, options: null, is_custom_field: false, description: null }));
}

/**
 * The activity types a new company has (key_string and name; GET /api/v1/activityTypes lists them, each
 * account may edit them). `type` on an activity must be one of these keys.
 */
export const ACTIVITY_TYPES: { key_string: string; name: string }[] = [
  { key_string: 'call', name: 'Call' },
  { key_string: 'meeting', name: 'Meeting' },
  { key_string: 'task', name: 'Task' },
  { key_string: 'deadline', name: 'Deadline' },
  { key_string: 'email', name: 'Email' },
  { key_string: 'lunch', name: 'Lunch' },
];
