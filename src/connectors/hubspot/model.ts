import { FerryError, isFerryError } from '../../core/errors.js';
import type { ApiClient } from '../kit/index.js';
import type { FieldSchema, ObjectSchema } from '../../core/schema.js';
import { STANDARD_OBJECTS, type HubspotSettings } from './config.js';
import type { HubspotPage } from './transport.js';
import { toFieldSchema, type HubspotProperty } from './values.js';

/**
 * What describe() knows about one HubSpot object: its API path segment, its properties, and the
 * association fields Ferry exposes on it.
 *
 * Associations as fields: each association is exposed on ONE side only (the "many" or child side), so a
 * relation is written exactly once:
 * - contacts: `primary_company` (reference -> companies: the Primary company label) and
 *   `associated_companies` (reference-list -> companies: every associated company);
 * - deals: `primary_company`, `associated_companies`, `associated_contacts`;
 * - notes, tasks, calls, meetings, emails: `associated_contacts`, `associated_companies`, `associated_deals`.
 * Reads use the v4 associations batch/read; writes use v4 batch/associate/default (unlabeled) and
 * batch/create with the primary type id for `primary_company`.
 * https://developers.hubspot.com/docs/api-reference/legacy/crm/associations/associate-records/batch/get-associations
 */
export interface AssociationField {
  name: string;
  toObject: string;
  kind: 'reference' | 'reference-list';
  /** For `primary_company`: find the HUBSPOT_DEFINED "Primary" type id of this pair. */
  primary?: boolean;
}

const ACTIVITY_ASSOCIATIONS: AssociationField[] = [
  { name: 'associated_contacts', toObject: 'contacts', kind: 'reference-list' },
  { name: 'associated_companies', toObject: 'companies', kind: 'reference-list' },
  { name: 'associated_deals', toObject: 'deals', kind: 'reference-list' },
];

export const ASSOCIATION_FIELDS: Record<string, AssociationField[]> = {
  contacts: [
    { name: 'primary_company', toObject: 'companies', kind: 'reference', primary: true },
    { name: 'associated_companies', toObject: 'companies', kind: 'reference-list' },
  ],
  deals: [
    { name: 'primary_company', toObject: 'companies', kind: 'reference', primary: true },
    { name: 'associated_companies', toObject: 'companies', kind: 'reference-list' },
    { name: 'associated_contacts', toObject: 'contacts', kind: 'reference-list' },
  ],
  notes: ACTIVITY_ASSOCIATIONS,
  tasks: ACTIVITY_ASSOCIATIONS,
  calls: ACTIVITY_ASSOCIATIONS,
  meetings: ACTIVITY_ASSOCIATIONS,
  emails: ACTIVITY_ASSOCIATIONS,
};

/** Owners: read-only, from the owners API (not a CRM object with properties). */
const OWNER_FIELDS: FieldSchema[] = [
  { name: 'email', type: 'email', readOnly: true },
  { name: 'firstName', type: 'string', readOnly: true },
  { name: 'lastName', type: 'string', readOnly: true },
  { name: 'userId', type: 'string', readOnly: true },
  { name: 'archived', type: 'boolean', readOnly: true },
  { name: 'updatedAt', type: 'datetime', readOnly: true },
];

/**
 * What a create needs, per HubSpot's object guides (the properties API does not say it; the emulator in
 * src/emulators/hubspot/schema.ts enforces the same and a test keeps the two equal):
 * - deals: dealname and dealstage ("and if you have multiple pipelines, pipeline. If a pipeline isn't
 *   specified, the default pipeline will be used"), so pipeline is not required:
 *   https://developers.hubspot.com/docs/api/crm/deals
 * - companies: at least one of name or domain: https://developers.hubspot.com/docs/api/crm/companies
 * - contacts: at least one of email, firstname or lastname:
 *   https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide
 * - notes, tasks, calls, meetings, emails: hs_timestamp: https://developers.hubspot.com/docs/api/crm/notes,
 *   https://developers.hubspot.com/docs/api/crm/tasks, https://developers.hubspot.com/docs/api/crm/calls,
 *   https://developers.hubspot.com/docs/api/crm/meetings, https://developers.hubspot.com/docs/api-reference/crm-emails-v3/guide
 * Custom objects: their schema's requiredProperties:
 *   https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/schemas/create-schema
 */
export const REQUIRED_ON_CREATE: Record<string, { required?: string[]; requiredAnyOf?: string[][] }> = {
  contacts: { requiredAnyOf: [['email', 'firstname', 'lastname']] },
  companies: { requiredAnyOf: [['name', 'domain']] },
  deals: { required: ['dealname', 'dealstage'] },
  notes: { required: ['hs_timestamp'] },
  tasks: { required: ['hs_timestamp'] },
  calls: { required: ['hs_timestamp'] },
  meetings: { required: ['hs_timestamp'] },
  emails: { required: ['hs_timestamp'] },
};

/** Properties every read asks for whatever the selection. */
const ALWAYS = ['hs_object_id'];

export interface ObjectModel {
  name: string;
  /** Path segment in /crm/v3/objects/{type}: the name for standard objects, the objectTypeId for custom ones. */
  type: string;
  label?: string;
  owners: boolean;
  properties: Map<string, FieldSchema>;
  associations: Map<string, AssociationField>;
  modifiedProperty?: string;
  createdProperty?: string;
  schema: ObjectSchema;
}

/**
 * A custom object schema as GET /crm-object-schemas/v3/schemas lists it (`ObjectSchema` in the official SDK):
 * https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/schemas/get-schemas
 */
interface CustomSchema {
  name: string;
  objectTypeId: string;
  fullyQualifiedName?: string;
  labels?: { singular?: string; plural?: string };
  requiredProperties?: string[];
  associations?: { id?: string; fromObjectTypeId?: string; toObjectTypeId?: string; name?: string }[];
}

/** Object type ids of the standard objects Ferry names (https://developers.hubspot.com/docs/api/crm/understanding-the-crm). */
const STANDARD_TYPE_IDS: Record<string, string> = {
  '0-1': 'contacts',
  '0-2': 'companies',
  '0-3': 'deals',
  '0-46': 'notes',
  '0-27': 'tasks',
  '0-48': 'calls',
  '0-47': 'meetings',
  '0-49': 'emails',
};

interface Pipeline {
  id: string;
  label?: string;
  stages?: { id: string; label?: string }[];
}

/** Loads and caches object models; each object's properties are fetched the first time it is used. */
export class HubspotModel {
  private customs: Promise<Map<string, CustomSchema>> | undefined;
  private readonly objects = new Map<string, Promise<ObjectModel>>();

  constructor(
    private readonly client: ApiClient,
    private readonly settings: HubspotSettings,
  ) {}

  /**
   * Custom object schemas; none when the token lacks crm.schemas.custom.read. The path is the one in HubSpot's
   * published OpenAPI spec (Schemas API); `/crm/v3/schemas`, used in the guides, is the legacy one.
   */
  private customSchemas(): Promise<Map<string, CustomSchema>> {
    if (!this.customs) {
      this.customs = (async () => {
        try {
          const response = await this.client.get<HubspotPage<CustomSchema>>('/crm-object-schemas/v3/schemas', { accept: [404] });
          const map = new Map<string, CustomSchema>();
          if (response.status === 404) return map;
          for (const schema of response.body.results ?? []) map.set(schema.name, schema);
          return map;
        } catch (error) {
          if (isFerryError(error) && error.code === 'AUTH_FAILED') return new Map<string, CustomSchema>();
          throw error;
        }
      })();
      this.customs.catch(() => (this.customs = undefined));
    }
    return this.customs;
  }

  async objectNames(): Promise<string[]> {
    const names: string[] = [...STANDARD_OBJECTS, ...(await this.customSchemas()).keys()];
    const wanted = this.settings.objects;
    return wanted ? names.filter((name) => wanted.includes(name)) : names;
  }

  object(name: string, refresh = false): Promise<ObjectModel> {
    let model = this.objects.get(name);
    if (!model || refresh) {
      model = this.load(name);
      this.objects.set(name, model);
      model.catch(() => this.objects.delete(name));
    }
    return model;
  }

  private async load(name: string): Promise<ObjectModel> {
    if (name === 'owners') {
      const properties = new Map(OWNER_FIELDS.map((field) => [field.name, field]));
      return { name, type: 'owners', label: 'Owners', owners: true, properties, associations: new Map(), schema: { name, label: 'Owners', fields: [...OWNER_FIELDS] } };
    }
    let type = name;
    let label: string | undefined;
    let associationFields = ASSOCIATION_FIELDS[name] ?? [];
    let needs = REQUIRED_ON_CREATE[name] ?? {};
    if (!(STANDARD_OBJECTS as readonly string[]).includes(name)) {
      const customs = await this.customSchemas();
      const custom = customs.get(name);
      if (!custom) {
        const known = (await this.objectNames()).join(', ');
        throw new FerryError('SCHEMA_MISMATCH', `Unknown HubSpot object "${name}" (objects: ${known})`, { object: name });
      }
      // Records of a custom object are addressed by its objectTypeId: HubSpot no longer accepts the base name
      // in /crm/v3/objects/{type} (https://developers.hubspot.com/changelog/breaking-change-removed-support-for-referencing-custom-object-types-by-base-name).
      type = custom.objectTypeId;
      label = custom.labels?.plural;
      associationFields = customAssociationFields(custom, customs);
      needs = { required: custom.requiredProperties ?? [] };
    }
    // https://developers.hubspot.com/docs/api/crm/properties
    const response = await this.client.get<HubspotPage<HubspotProperty>>(`/crm/v3/properties/${type}`, { query: { archived: false } });
    const raw = response.body.results ?? [];
    const names = new Set(raw.map((property) => property.name));
    const modifiedProperty = pickModified(name, names);
    const createdProperty = ['createdate', 'hs_createdate'].find((candidate) => names.has(candidate));
    const properties = new Map<string, FieldSchema>();
    for (const property of raw) {
      const essential = property.name === modifiedProperty || property.name === createdProperty || ALWAYS.includes(property.name) || property.name === this.settings.externalIdProperty;
      if (property.hidden && !essential) continue;
      const field = toFieldSchema(property);
      if (field.name === modifiedProperty) field.readOnly = true;
      if (field.name === 'hs_object_id') field.readOnly = true;
      properties.set(field.name, field);
    }
    if (name === 'deals') await this.addDealStages(properties);
    for (const required of needs.required ?? []) {
      const field = properties.get(required);
      if (field && !field.readOnly) field.required = true;
    }
    const associations = new Map<string, AssociationField>();
    for (const association of associationFields) {
      if (!properties.has(association.name)) associations.set(association.name, association);
    }
    const fields: FieldSchema[] = [...properties.values()];
    for (const association of associations.values()) {
      fields.push({ name: association.name, type: association.kind, reference: { object: association.toObject } });
    }
    const schema: ObjectSchema = { name, fields };
    if (label) schema.label = label;
    if (modifiedProperty) schema.modifiedField = modifiedProperty;
    if (createdProperty) schema.createdField = createdProperty;
    if (properties.has(this.settings.externalIdProperty)) schema.externalIdField = this.settings.externalIdProperty;
    const anyOf = (needs.requiredAnyOf ?? []).map((group) => group.filter((field) => properties.has(field))).filter((group) => group.length > 0);
    if (anyOf.length > 0) schema.requiredAnyOf = anyOf;
    return { name, type, label, owners: false, properties, associations, modifiedProperty, createdProperty, schema };
  }

  /** Deal stages and pipelines as enum options, from the pipelines API (stage ids are what records hold). */
  private async addDealStages(properties: Map<string, FieldSchema>): Promise<void> {
    // https://developers.hubspot.com/docs/api/crm/pipelines
    const response = await this.client.get<HubspotPage<Pipeline>>('/crm/v3/pipelines/deals', { accept: [404] });
    if (response.status === 404) return;
    const pipelines = response.body.results ?? [];
    const stage = properties.get('dealstage');
    if (stage) {
      stage.type = 'enum';
      stage.options = pipelines.flatMap((pipeline) =>
        (pipeline.stages ?? []).map((entry) => ({ value: entry.id, label: pipelines.length > 1 ? `${pipeline.label ?? pipeline.id}: ${entry.label ?? entry.id}` : (entry.label ?? entry.id) })),
      );
    }
    const pipeline = properties.get('pipeline');
    if (pipeline) {
      pipeline.type = 'enum';
      pipeline.options = pipelines.map((entry) => ({ value: entry.id, label: entry.label ?? entry.id }));
    }
  }
}

/**
 * A custom object's associations as fields: one `associated_{object}` reference-list per association definition
 * of its schema (to contacts, companies, deals, activities or another custom object), written and read through
 * the v4 associations API like the built-in objects' fields. The custom object is the side that holds them.
 */
function customAssociationFields(custom: CustomSchema, customs: Map<string, CustomSchema>): AssociationField[] {
  const byTypeId = new Map<string, string>(Object.entries(STANDARD_TYPE_IDS));
  for (const other of customs.values()) byTypeId.set(other.objectTypeId, other.name);
  const fields: AssociationField[] = [];
  for (const definition of custom.associations ?? []) {
    if (definition.fromObjectTypeId !== undefined && definition.fromObjectTypeId !== custom.objectTypeId) continue;
    const toObject = definition.toObjectTypeId === undefined ? undefined : byTypeId.get(definition.toObjectTypeId);
    if (!toObject || fields.some((field) => field.toObject === toObject)) continue;
    fields.push({ name: `associated_${toObject}`, toObject, kind: 'reference-list' });
  }
  return fields;
}

/**
 * The property behind "last modified", as a search filter and sort must name it. Contacts: `lastmodifieddate`.
 * A contacts search filtered on `hs_lastmodifieddate` silently misses records on live HubSpot
 * (https://community.hubspot.com/t5/APIs-Integrations/CRM-V3-API-Search-issue-with-Contacts-when-using-Filters/m-p/324617;
 * https://github.com/amp-labs/connectors/pull/45 switched to `lastmodifieddate` for contacts after testing), and
 * HubSpot's search guide lists `lastmodifieddate` among contacts' default properties. Every other object:
 * `hs_lastmodifieddate`. The emulator misses contacts the same way (docs/connectors/hubspot-emulator.md), so a
 * test fails if this goes back.
 */
function pickModified(object: string, names: Set<string>): string | undefined {
  const order = object === 'contacts' ? ['lastmodifieddate', 'hs_lastmodifieddate'] : ['hs_lastmodifieddate', 'lastmodifieddate'];
  return order.find((candidate) => names.has(candidate));
}
