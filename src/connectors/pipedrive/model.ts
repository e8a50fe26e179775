import { FerryError } from '../../core/errors.js';
import type { FieldSchema, FieldType, ObjectSchema, PicklistOption } from '../../core/schema.js';
import { collect, cursorPages, type ApiClient } from '../kit/index.js';
import type { PipedriveObject, PipedriveSettings } from './config.js';

/**
 * What the connector knows of each Pipedrive object: its API (v2 records, v1 notes and users), its standard
 * fields and the custom fields the field endpoints list (`GET /api/v2/{entity}Fields`), each with the kind of
 * conversion its values need. Custom fields keep Pipedrive's key (the 40-character hash `field_code`) as
 * their Ferry name, so a renamed field keeps its mapping; their Pipedrive name is the label users see.
 */
export type Kind =
  | 'string'
  | 'text'
  | 'url'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'date'
  | 'time'
  | 'datetime'
  | 'ref'
  | 'option'
  | 'optionId'
  | 'set'
  | 'email'
  | 'phone'
  | 'labelled'
  | 'address'
  | 'participants'
  | 'primaryParticipant'
  | 'dealParticipants'
  | 'json'
  | 'monetaryValue'
  | 'monetaryCurrency'
  | 'rangeStart'
  | 'rangeEnd';

export interface FieldDef {
  /** Ferry's field name. */
  name: string;
  /** The key in the Pipedrive record (`emails` for `email`), or the custom field's code. */
  key: string;
  custom: boolean;
  kind: Kind;
  /** For custom ranges (daterange/timerange) and monetary: `date`/`time` and the subfield pair. */
  subtype?: 'date' | 'time';
  schema: FieldSchema;
}

export type Api = 'v2' | 'notes' | 'users';

export interface ObjectModel {
  name: PipedriveObject;
  api: Api;
  /** v2 path segment (`deals`), v1 `notes` / `users`. */
  path: string;
  /** The field definitions endpoint, for objects that have custom fields. */
  fieldsPath?: string;
  writable: boolean;
  fields: Map<string, FieldDef>;
  /** The custom field holding the source id, when it exists. */
  externalId?: FieldDef;
  schema: ObjectSchema;
}

type Std = [name: string, kind: Kind, type: FieldType, extra?: Partial<FieldSchema> & { key?: string }];

const ro = { readOnly: true };
const times: Std[] = [
  ['add_time', 'datetime', 'datetime'],
  ['update_time', 'datetime', 'datetime', ro],
];
const owner: Std = ['owner_id', 'ref', 'reference', { reference: { object: 'users' }, meaning: 'owner', label: 'Owner' }];

const STANDARD: Record<PipedriveObject, Std[]> = {
  persons: [
    ['name', 'string', 'string', { required: true, meaning: 'fullname' }],
    ['first_name', 'string', 'string', { ...ro, meaning: 'firstname' }],
    ['last_name', 'string', 'string', { ...ro, meaning: 'lastname' }],
    owner,
    ['org_id', 'ref', 'reference', { reference: { object: 'organizations' }, label: 'Organization' }],
    ['email', 'email', 'email', { key: 'emails', meaning: 'email', label: 'Email (primary)' }],
    ['emails', 'labelled', 'string', { label: 'Emails (JSON: value, label, primary)' }],
    ['phone', 'phone', 'phone', { key: 'phones', meaning: 'phone', label: 'Phone (primary)' }],
    ['phones', 'labelled', 'string', { label: 'Phones (JSON: value, label, primary)' }],
    ...times,
  ],
  organizations: [
    ['name', 'string', 'string', { required: true }],
    owner,
    ['address', 'address', 'string'],
    ['website', 'url', 'url'],
    ['linkedin', 'url', 'url'],
    ['industry', 'integer', 'integer'],
    ['annual_revenue', 'number', 'number'],
    ['employee_count', 'integer', 'integer'],
    ...times,
  ],
  deals: [
    ['title', 'string', 'string', { required: true, meaning: 'title' }],
    owner,
    ['person_id', 'ref', 'reference', { reference: { object: 'persons' }, label: 'Contact person' }],
    ['org_id', 'ref', 'reference', { reference: { object: 'organizations' }, label: 'Organization' }],
    ['pipeline_id', 'optionId', 'enum', { label: 'Pipeline' }],
    ['stage_id', 'optionId', 'enum', { label: 'Stage', meaning: 'stage' }],
    ['value', 'number', 'number', { meaning: 'amount' }],
    ['currency', 'string', 'string', { meaning: 'currency' }],
    ['status', 'option', 'enum', { meaning: 'status', options: [{ value: 'open' }, { value: 'won' }, { value: 'lost' }] }],
    ['lost_reason', 'string', 'string'],
    ['probability', 'number', 'number'],
    ['expected_close_date', 'date', 'date', { meaning: 'closedate' }],
    ['won_time', 'datetime', 'datetime'],
    ['lost_time', 'datetime', 'datetime'],
    ['close_time', 'datetime', 'datetime'],
    ['is_archived', 'boolean', 'boolean'],
    ['stage_change_time', 'datetime', 'datetime', ro],
    ['participants', 'dealParticipants', 'reference-list', { reference: { object: 'persons' }, label: 'Participants (with dealParticipants: true)' }],
    ...times,
  ],
  archived_deals: [],
  activities: [
    ['subject', 'string', 'string', { meaning: 'title' }],
    ['type', 'option', 'enum'],
    owner,
    ['deal_id', 'ref', 'reference', { reference: { object: 'deals' } }],
    ['org_id', 'ref', 'reference', { reference: { object: 'organizations' } }],
    ['person_id', 'primaryParticipant', 'reference', { key: 'participants', reference: { object: 'persons' }, label: 'Contact person (primary participant)' }],
    ['participants', 'participants', 'reference-list', { reference: { object: 'persons' } }],
    ['due_date', 'date', 'date'],
    ['due_time', 'time', 'string'],
    ['duration', 'time', 'string'],
    ['busy', 'boolean', 'boolean'],
    ['done', 'boolean', 'boolean'],
    ['note', 'text', 'text', { meaning: 'body' }],
    ['public_description', 'text', 'text'],
    ['location', 'address', 'string'],
    ['marked_as_done_time', 'datetime', 'datetime', ro],
    ['add_time', 'datetime', 'datetime', ro],
    ['update_time', 'datetime', 'datetime', ro],
  ],
  products: [
    ['name', 'string', 'string', { required: true }],
    ['code', 'string', 'string'],
    ['description', 'text', 'text'],
    ['unit', 'string', 'string'],
    ['tax', 'number', 'number'],
    ['category', 'string', 'string'],
    owner,
    ['prices', 'json', 'string', { label: 'Prices (JSON: price, currency, cost)' }],
    ['add_time', 'datetime', 'datetime', ro],
    ['update_time', 'datetime', 'datetime', ro],
  ],
  pipelines: [
    ['name', 'string', 'string', { required: true }],
    ['order_nr', 'integer', 'integer', ro],
    ['is_deal_probability_enabled', 'boolean', 'boolean'],
    ['add_time', 'datetime', 'datetime', ro],
    ['update_time', 'datetime', 'datetime', ro],
  ],
  stages: [
    ['name', 'string', 'string', { required: true }],
    ['pipeline_id', 'ref', 'reference', { required: true, reference: { object: 'pipelines' } }],
    ['order_nr', 'integer', 'integer', ro],
    ['deal_probability', 'integer', 'integer'],
    ['is_deal_rot_enabled', 'boolean', 'boolean'],
    ['days_to_rotten', 'integer', 'integer'],
    ['add_time', 'datetime', 'datetime', ro],
    ['update_time', 'datetime', 'datetime', ro],
  ],
  notes: [
    ['content', 'text', 'text', { required: true, meaning: 'body' }],
    ['deal_id', 'ref', 'reference', { reference: { object: 'deals' } }],
    ['person_id', 'ref', 'reference', { reference: { object: 'persons' } }],
    ['org_id', 'ref', 'reference', { reference: { object: 'organizations' } }],
    ['user_id', 'ref', 'reference', { reference: { object: 'users' }, meaning: 'owner' }],
    ['pinned_to_deal_flag', 'boolean', 'boolean'],
    ['pinned_to_person_flag', 'boolean', 'boolean'],
    ['pinned_to_organization_flag', 'boolean', 'boolean'],
    ['add_time', 'datetime', 'datetime', { meaning: 'timestamp' }],
    ['update_time', 'datetime', 'datetime', ro],
  ],
  users: [
    ['name', 'string', 'string', { meaning: 'fullname' }],
    ['email', 'string', 'email', { meaning: 'email' }],
    ['active_flag', 'boolean', 'boolean'],
    ['is_admin', 'boolean', 'boolean'],
    ['timezone_name', 'string', 'string'],
    ['created', 'datetime', 'datetime'],
    ['modified', 'datetime', 'datetime'],
  ],
};
STANDARD.archived_deals = STANDARD.deals.filter(([name]) => name !== 'participants');

const OBJECT_INFO: Record<PipedriveObject, { api: Api; path: string; fieldsPath?: string; label: string }> = {
  persons: { api: 'v2', path: 'persons', fieldsPath: 'personFields', label: 'Persons' },
  organizations: { api: 'v2', path: 'organizations', fieldsPath: 'organizationFields', label: 'Organizations' },
  deals: { api: 'v2', path: 'deals', fieldsPath: 'dealFields', label: 'Deals' },
  archived_deals: { api: 'v2', path: 'deals', fieldsPath: 'dealFields', label: 'Archived deals' },
  activities: { api: 'v2', path: 'activities', label: 'Activities' },
  products: { api: 'v2', path: 'products', fieldsPath: 'productFields', label: 'Products' },
  pipelines: { api: 'v2', path: 'pipelines', label: 'Pipelines' },
  stages: { api: 'v2', path: 'stages', label: 'Stages' },
  notes: { api: 'notes', path: 'notes', label: 'Notes' },
  users: { api: 'users', path: 'users', label: 'Users' },
};

/** A field definition as `GET /api/v2/{entity}Fields` lists it. */
export interface PipedriveFieldDefinition {
  field_code: string;
  field_name: string;
  field_type: string;
  options?: { id: number; label: string }[] | null;
  is_custom_field?: boolean;
}

interface V2List<T> {
  data?: T[];
  additional_data?: { next_cursor?: string | null };
}

/** Every item of a v2 cursor-paged list. */
export async function listV2<T>(client: ApiClient, path: string, query: Record<string, string | number | undefined> = {}): Promise<T[]> {
  return collect(
    cursorPages(async (cursor) => {
      const response = await client.get<V2List<T>>(path, { query: { ...query, limit: 500, cursor } });
      return { items: response.body.data ?? [], next: response.body.additional_data?.next_cursor };
    }),
  );
}

function stdField([name, kind, type, extra = {}]: Std, writable: boolean): FieldDef {
  const { key, ...schema } = extra;
  const readOnly = !writable || schema.readOnly === true;
  return { name, key: key ?? name, custom: false, kind, schema: { name, type, ...schema, ...(readOnly ? { readOnly: true } : {}) } };
}

function customFields(definition: PipedriveFieldDefinition, writable: boolean): FieldDef[] {
  const code = definition.field_code;
  const label = definition.field_name;
  const base = (name: string, kind: Kind, type: FieldType, extra: Partial<FieldSchema> = {}, subtype?: 'date' | 'time'): FieldDef => ({
    name,
    key: code,
    custom: true,
    kind,
    ...(subtype ? { subtype } : {}),
    schema: { name, label, type, ...extra, ...(writable ? {} : { readOnly: true }) },
  });
  const options: PicklistOption[] = (definition.options ?? []).map((option) => ({ value: String(option.id), label: option.label }));
  switch (definition.field_type) {
    case 'text':
      return [base(code, 'text', 'text')];
    case 'double':
      return [base(code, 'number', 'number')];
    case 'phone':
      return [base(code, 'string', 'phone')];
    case 'date':
      return [base(code, 'date', 'date')];
    case 'time':
      return [base(code, 'rangeStart', 'string', {}, 'time')];
    case 'daterange':
      return [base(code, 'rangeStart', 'date', {}, 'date'), { ...base(`${code}_until`, 'rangeEnd', 'date', { label: `${label} (until)` }, 'date') }];
    case 'timerange':
      return [base(code, 'rangeStart', 'string', {}, 'time'), { ...base(`${code}_until`, 'rangeEnd', 'string', { label: `${label} (until)` }, 'time') }];
    case 'enum':
      return [base(code, 'optionId', 'enum', { options })];
    case 'set':
      return [base(code, 'set', 'string', { options, label: `${label} (option ids, ;-separated)` })];
    case 'monetary':
      return [base(code, 'monetaryValue', 'number'), base(`${code}_currency`, 'monetaryCurrency', 'string', { label: `${label} (currency)` })];
    case 'user':
      return [base(code, 'ref', 'reference', { reference: { object: 'users' } })];
    case 'org':
      return [base(code, 'ref', 'reference', { reference: { object: 'organizations' } })];
    case 'people':
      return [base(code, 'ref', 'reference', { reference: { object: 'persons' } })];
    case 'address':
      return [base(code, 'address', 'string')];
    default:
      return [base(code, 'string', 'string', definition.field_type === 'varchar' ? { maxLength: 255 } : {})];
  }
}

/** Loads and caches each object's model (field endpoints, pipelines and stages, activity types). */
export class PipedriveModel {
  private readonly cache = new Map<PipedriveObject, Promise<ObjectModel>>();

  constructor(
    private readonly client: ApiClient,
    private readonly settings: PipedriveSettings,
  ) {}

  objectNames(): PipedriveObject[] {
    return this.settings.objects ?? ['persons', 'organizations', 'deals', 'activities', 'products', 'pipelines', 'stages', 'notes', 'users'];
  }

  object(name: string, refresh = false): Promise<ObjectModel> {
    if (!Object.hasOwn(OBJECT_INFO, name)) {
      return Promise.reject(new FerryError('SCHEMA_MISMATCH', `Pipedrive has no object "${name}" (Ferry knows ${Object.keys(OBJECT_INFO).join(', ')})`, { object: name }));
    }
    const key = name as PipedriveObject;
    if (refresh) this.cache.delete(key);
    let model = this.cache.get(key);
    if (!model) {
      model = this.load(key);
      model.catch(() => this.cache.delete(key));
      this.cache.set(key, model);
    }
    return model;
  }

  private async load(name: PipedriveObject): Promise<ObjectModel> {
    const info = OBJECT_INFO[name];
    const writable = !this.settings.readOnly && info.api !== 'users' && name !== 'archived_deals';
    const fields = new Map<string, FieldDef>();
    for (const std of STANDARD[name]) {
      if (std[1] === 'dealParticipants' && !this.settings.dealParticipants) continue;
      const def = stdField(std, writable);
      fields.set(def.name, def);
    }
    let externalId: FieldDef | undefined;
    if (info.fieldsPath) {
      for (const definition of await listV2<PipedriveFieldDefinition>(this.client, `/api/v2/${info.fieldsPath}`)) {
        if (!definition.is_custom_field) continue;
        for (const def of customFields(definition, writable)) fields.set(def.name, def);
        if (definition.field_name === this.settings.externalIdField && ['varchar', 'text', 'varchar_auto'].includes(definition.field_type)) externalId = fields.get(definition.field_code);
      }
    }
    if (name === 'deals' || name === 'archived_deals') await this.addPipelineOptions(fields);
    if (name === 'activities') {
      const types = await this.client.get<{ data?: { key_string: string; name: string; active_flag?: boolean }[] }>('/api/v1/activityTypes');
      fields.get('type')!.schema.options = (types.body.data ?? []).map((type) => ({ value: type.key_string, label: type.name }));
    }
    const modifiedField = name === 'users' ? 'modified' : 'update_time';
    const schema: ObjectSchema = {
      name,
      label: info.label,
      fields: [...fields.values()].map((def) => def.schema),
      modifiedField,
      createdField: name === 'users' ? 'created' : 'add_time',
      ...(externalId ? { externalIdField: externalId.name } : {}),
    };
    return { name, api: info.api, path: info.path, ...(info.fieldsPath ? { fieldsPath: info.fieldsPath } : {}), writable, fields, ...(externalId ? { externalId } : {}), schema };
  }

  /** Pipelines and stages as the value maps of deals' pipeline_id and stage_id (`Pipeline / Stage` labels). */
  private async addPipelineOptions(fields: Map<string, FieldDef>): Promise<void> {
    // Deleting a pipeline or stage "marks it as deleted" (v2 OpenAPI; both carry `is_deleted`): never an option.
    const pipelines = (await listV2<{ id: number; name: string; is_deleted?: boolean }>(this.client, '/api/v2/pipelines')).filter((pipeline) => pipeline.is_deleted !== true);
    const stages = (await listV2<{ id: number; name: string; pipeline_id: number; order_nr?: number; is_deleted?: boolean }>(this.client, '/api/v2/stages')).filter((stage) => stage.is_deleted !== true);
    const names = new Map(pipelines.map((pipeline) => [pipeline.id, pipeline.name]));
    fields.get('pipeline_id')!.schema.options = pipelines.map((pipeline) => ({ value: String(pipeline.id), label: pipeline.name }));
    fields.get('stage_id')!.schema.options = stages.map((stage) => ({ value: String(stage.id), label: `${names.get(stage.pipeline_id) ?? stage.pipeline_id} / ${stage.name}` }));
  }
}

