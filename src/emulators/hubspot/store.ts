import { HubspotHttpError, notFound, validationError, type PropertyProblem } from './errors.js';
import {
  ASSOCIATION_TYPES,
  OBJECT_TYPES,
  customDefaultProperties,
  customObjectInfo,
  defaultDealPipeline,
  defaultGroups,
  defaultProperties,
  type AssociationType,
  type CustomAssociationDefinition,
  type CustomObjectSchema,
  type ObjectTypeInfo,
  type Pipeline,
  type PropertyDefinition,
  type PropertyGroup,
} from './schema.js';
import { formatValue, normaliseValue } from './values.js';
import type { RequestLogEntry } from '../kit/index.js';

export interface StoredRecord {
  id: string;
  objectType: string;
  /** Property values as stored (dates as epoch-ms strings); absent = no value. */
  properties: Map<string, string>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
  /** Search sees the current state from this instant on (search index delay). */
  searchableAt: number;
  /** What search sees before `searchableAt` (undefined: the record is not in the index yet). */
  indexed?: { properties: Map<string, string>; updatedAt: number; archived: boolean };
}

export interface Owner {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  userId: number;
  userIdIncludingInactive: number;
  type: 'PERSON';
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

/** The request log is the kit's (`store.requests` is the server's log). */
export type { RequestLogEntry };

export interface PublicRecord {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  objectWriteTraceId?: string;
  associations?: Record<string, { results: { id: string; type: string }[] }>;
}

export interface WriteOptions {
  /** Tests and seeds: allow server-set properties (createdate etc.), as a HubSpot import would. */
  allowReadOnly?: boolean;
  associations?: { to: { id: string }; types: { associationCategory?: string; associationTypeId: number }[] }[];
}

/** Server-set properties callers may not write (hs_object_id, modification dates). */
function isReadOnly(definition: PropertyDefinition): boolean {
  return definition.modificationMetadata.readOnlyValue;
}

/**
 * The account's data: records, properties, owners, pipelines and associations. All timestamps come from the
 * injected clock. Used by the HTTP handlers and, directly, by tests that act "as a person in the HubSpot UI".
 */
export class HubspotStore {
  readonly records = new Map<string, Map<string, StoredRecord>>();
  readonly propertyDefinitions = new Map<string, Map<string, PropertyDefinition>>();
  readonly propertyGroups = new Map<string, Map<string, PropertyGroup>>();
  readonly owners: Owner[] = [];
  readonly pipelines = new Map<string, Pipeline[]>();
  readonly requests: RequestLogEntry[] = [];
  /** `${type}:${id}` -> `${toType}:${toId}` -> association type ids (both directions are stored). */
  private readonly associations = new Map<string, Map<string, Set<number>>>();
  /** type -> unique property -> value -> record id. */
  private readonly uniqueIndex = new Map<string, Map<string, Map<string, string>>>();
  private nextId = 1_000_001;
  private nextOwnerId = 50_000_001;
  /** Object types by store key: the plural name for standard objects, the objectTypeId for custom ones. */
  private readonly objectTypes = new Map<string, ObjectTypeInfo>();
  /** Custom object schemas by objectTypeId. */
  readonly customSchemas = new Map<string, CustomObjectSchema>();
  /** Association definitions of custom objects, by the custom object's objectTypeId. */
  readonly customAssociations = new Map<string, CustomAssociationDefinition[]>();
  private readonly associationTypeList: AssociationType[] = [...ASSOCIATION_TYPES];
  private nextCustomObjectId = 1_000_001;
  private nextAssociationTypeId = 1_001;
  /** The account (hub) id: part of custom objects' fullyQualifiedName `p{portalId}_{name}`. */
  readonly portalId: number;
  searchIndexDelayMs: number;

  constructor(
    readonly clock: () => number,
    options: { searchIndexDelayMs?: number; portalId?: number } = {},
  ) {
    this.searchIndexDelayMs = options.searchIndexDelayMs ?? 0;
    this.portalId = options.portalId ?? 7_878_787;
    for (const [type, info] of Object.entries(OBJECT_TYPES)) this.objectTypes.set(type, info);
    for (const type of Object.keys(OBJECT_TYPES)) {
      this.records.set(type, new Map());
      this.propertyDefinitions.set(type, new Map(defaultProperties(type).map((definition) => [definition.name, definition])));
      this.propertyGroups.set(type, new Map(defaultGroups(type).map((group) => [group.name, group])));
    }
    this.pipelines.set('deals', [defaultDealPipeline()]);
  }

  // ---- object types ---------------------------------------------------------------------------------------

  /** The type's description; `objectType` is a store key (see resolveType). */
  info(objectType: string): ObjectTypeInfo {
    const info = this.objectTypes.get(objectType);
    if (!info) throw new HubspotHttpError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${objectType}`);
    return info;
  }

  /**
   * The store key of a type as a path names it, or undefined. Standard objects: plural, singular or object type
   * id (`contacts`, `contact`, `0-1`). Custom objects: objectTypeId (`2-123`), fullyQualifiedName (`p345_vendor`)
   * or the short-hand `p_{name}`, NOT the base name: HubSpot stopped accepting it in 2025
   * (https://developers.hubspot.com/changelog/breaking-change-removed-support-for-referencing-custom-object-types-by-base-name).
   */
  resolveType(raw: string): string | undefined {
    const text = raw.toLowerCase();
    for (const info of Object.values(OBJECT_TYPES)) {
      if (text === info.name || text === info.singular || text === info.objectTypeId) return info.name;
    }
    for (const schema of this.customSchemas.values()) {
      if (schema.archived) continue;
      if (text === schema.objectTypeId || text === schema.fullyQualifiedName.toLowerCase() || text === `p_${schema.name.toLowerCase()}`) return schema.objectTypeId;
    }
    return undefined;
  }

  associationType(fromType: string, typeId: number): AssociationType | undefined {
    return this.associationTypeList.find((type) => type.fromType === fromType && type.typeId === typeId);
  }

  associationTypesBetween(fromType: string, toType: string): AssociationType[] {
    return this.associationTypeList.filter((type) => type.fromType === fromType && type.toType === toType);
  }

  /**
   * Registers a custom object type with its (already validated) properties and associations to `associatedTypes`
   * (store keys). Each association gets a pair of USER_DEFINED type ids, one per direction.
   */
  addCustomObject(
    input: Omit<CustomObjectSchema, 'id' | 'objectTypeId' | 'fullyQualifiedName' | 'metaType' | 'archived' | 'createdAt' | 'updatedAt'>,
    properties: PropertyDefinition[],
    associatedTypes: string[],
  ): CustomObjectSchema {
    const now = new Date(this.clock()).toISOString();
    const id = String(this.nextCustomObjectId++);
    const schema: CustomObjectSchema = {
      ...input,
      id,
      objectTypeId: `2-${id}`,
      fullyQualifiedName: `p${this.portalId}_${input.name}`,
      metaType: 'PORTAL_SPECIFIC',
      archived: false,
      createdAt: now,
      updatedAt: now,
    };
    const type = schema.objectTypeId;
    const info = customObjectInfo(schema);
    this.customSchemas.set(type, schema);
    this.objectTypes.set(type, info);
    this.records.set(type, new Map());
    const definitions = new Map(customDefaultProperties(schema).map((definition) => [definition.name, definition]));
    for (const definition of properties) definitions.set(definition.name, definition);
    this.propertyDefinitions.set(type, definitions);
    this.propertyGroups.set(type, new Map([[info.defaultGroup, { name: info.defaultGroup, label: `${schema.labels.singular} information`, displayOrder: 0, archived: false }]]));
    this.customAssociations.set(type, []);
    for (const toType of associatedTypes) this.addCustomAssociation(type, toType);
    return schema;
  }

  /** A new association definition between a custom object and another type (both directions). */
  addCustomAssociation(fromType: string, toType: string, name?: string): CustomAssociationDefinition {
    const from = this.info(fromType);
    const to = this.info(toType);
    const existing = (this.customAssociations.get(fromType) ?? []).find((definition) => definition.toObjectTypeId === to.objectTypeId);
    if (existing) return existing;
    const typeId = this.nextAssociationTypeId++;
    const inverseTypeId = this.nextAssociationTypeId++;
    const v3Name = name ?? `${from.singular}_to_${to.singular}`;
    this.associationTypeList.push(
      { fromType, toType, typeId, inverseTypeId, label: null, v3Name, isDefault: true, category: 'USER_DEFINED' },
      { fromType: toType, toType: fromType, typeId: inverseTypeId, inverseTypeId: typeId, label: null, v3Name: `${to.singular}_to_${from.singular}`, isDefault: true, category: 'USER_DEFINED' },
    );
    const now = new Date(this.clock()).toISOString();
    const definition: CustomAssociationDefinition = { id: String(typeId), fromObjectTypeId: from.objectTypeId, toObjectTypeId: to.objectTypeId, name: v3Name, createdAt: now, updatedAt: now };
    this.customAssociations.get(fromType)?.push(definition);
    return definition;
  }

  // ---- metadata -------------------------------------------------------------------------------------------

  properties(objectType: string): Map<string, PropertyDefinition> {
    return this.propertyDefinitions.get(objectType)!;
  }

  property(objectType: string, name: string): PropertyDefinition | undefined {
    return this.properties(objectType).get(name);
  }

  /** Properties whose values must be unique: `hasUniqueValue` ones, plus contacts' e-mail (HubSpot dedupes by it). */
  uniqueProperties(objectType: string): string[] {
    const names = [...this.properties(objectType).values()].filter((definition) => definition.hasUniqueValue && !definition.archived).map((definition) => definition.name);
    if (objectType === 'contacts') names.push('email');
    return names;
  }

  addOwner(owner: { email: string; firstName?: string; lastName?: string }): Owner {
    const now = new Date(this.clock()).toISOString();
    const id = String(this.nextOwnerId++);
    const created: Owner = {
      id,
      email: owner.email,
      firstName: owner.firstName ?? '',
      lastName: owner.lastName ?? '',
      userId: Number(id) - 40_000_000,
      userIdIncludingInactive: Number(id) - 40_000_000,
      type: 'PERSON',
      createdAt: now,
      updatedAt: now,
      archived: false,
    };
    this.owners.push(created);
    return created;
  }

  private pipelineContext(objectType: string, current: Map<string, string>, changes: Map<string, string>) {
    const ownerIds = new Set(this.owners.filter((owner) => !owner.archived).map((owner) => owner.id));
    if (objectType !== 'deals') return { ownerIds };
    const pipelines = this.pipelines.get('deals') ?? [];
    const pipelineId = changes.get('pipeline') ?? current.get('pipeline') ?? 'default';
    const pipeline = pipelines.find((candidate) => candidate.id === pipelineId);
    return {
      ownerIds,
      pipelineIds: new Set(pipelines.map((candidate) => candidate.id)),
      stageIds: new Set(pipeline?.stages.map((stage) => stage.id) ?? []),
    };
  }

  // ---- records --------------------------------------------------------------------------------------------

  table(objectType: string): Map<string, StoredRecord> {
    return this.records.get(objectType)!;
  }

  get(objectType: string, id: string): StoredRecord | undefined {
    return this.table(objectType).get(id);
  }

  /** Live (not archived) record by id, or by a unique property value when `idProperty` is given. */
  find(objectType: string, id: string, idProperty?: string): StoredRecord | undefined {
    if (idProperty && idProperty !== 'hs_object_id') {
      const key = idProperty === 'email' ? id.trim().toLowerCase() : id;
      const recordId = this.uniqueIndex.get(objectType)?.get(idProperty)?.get(key);
      return recordId === undefined ? undefined : this.get(objectType, recordId);
    }
    const record = this.get(objectType, id);
    return record && !record.archived ? record : undefined;
  }

  count(objectType: string, options: { archived?: boolean } = {}): number {
    let count = 0;
    for (const record of this.table(objectType).values()) if (record.archived === (options.archived ?? false)) count++;
    return count;
  }

  /**
   * Validates a set of property writes against the schema. Collects every problem (HubSpot reports all invalid
   * properties of an input at once) and throws VALIDATION_ERROR, or returns the normalised changes.
   */
  prepareChanges(objectType: string, input: Record<string, unknown>, current: Map<string, string>, options: WriteOptions = {}): Map<string, string> {
    const problems: PropertyProblem[] = [];
    const raw = new Map<string, unknown>(Object.entries(input ?? {}));
    const changes = new Map<string, string>();
    // pipeline first: the stage check depends on it
    const ordered = [...raw.keys()].sort((a, b) => (a === 'pipeline' ? -1 : b === 'pipeline' ? 1 : 0));
    for (const name of ordered) {
      const definition = this.property(objectType, name);
      if (!definition || definition.archived) {
        problems.push({ name, code: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
        continue;
      }
      // "Read-only and non-existent properties will result in an error."
      // https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/update-contact
      if (isReadOnly(definition) && !options.allowReadOnly) {
        problems.push({ name, code: 'READ_ONLY_VALUE', message: `${name} is a read only property; its value cannot be set.` });
        continue;
      }
      const normalised = normaliseValue(definition, raw.get(name), this.pipelineContext(objectType, current, changes));
      if ('problem' in normalised) problems.push(normalised.problem);
      else changes.set(name, normalised.value);
    }
    if (problems.length > 0) throw validationError(problems);
    return changes;
  }

  requireOnCreate(objectType: string, values: Map<string, string>): void {
    const info = this.info(objectType);
    const has = (name: string) => (values.get(name) ?? '') !== '';
    const problems: PropertyProblem[] = [];
    for (const name of info.required ?? []) {
      if (!has(name)) problems.push({ name, code: 'REQUIRED_PROPERTY', message: `${name} is required` });
    }
    if (info.requiredAnyOf && !info.requiredAnyOf.some(has)) {
      problems.push({ name: info.requiredAnyOf[0]!, code: 'REQUIRED_PROPERTY', message: `One of ${info.requiredAnyOf.join(', ')} is required` });
    }
    if (problems.length > 0) throw validationError(problems);
  }

  /**
   * Unique values: a second contact with the same e-mail is refused with 409 `{status:"error", message: "Contact
   * already exists. Existing ID: N", correlationId, category:"CONFLICT"}` and no `context`, as live HubSpot answers
   * (https://github.com/HubSpot/hubspot-api-nodejs/issues/545, https://github.com/HubSpot/hubspot-api-python/issues/51).
   * The same answer, naming no property, is given for custom `hasUniqueValue` properties, whose wording HubSpot
   * does not document (assumption: see docs/connectors/hubspot-emulator.md): a client cannot tell from it which
   * property collided.
   */
  checkUnique(objectType: string, values: Map<string, string>, selfId?: string): void {
    const index = this.uniqueIndex.get(objectType);
    for (const name of this.uniqueProperties(objectType)) {
      const value = values.get(name);
      if (value === undefined || value === '') continue;
      const existing = index?.get(name)?.get(value);
      if (existing !== undefined && existing !== selfId) {
        const label = this.info(objectType).singular;
        throw new HubspotHttpError(409, 'CONFLICT', `${label.charAt(0).toUpperCase()}${label.slice(1)} already exists. Existing ID: ${existing}`);
      }
    }
  }

  private indexUnique(record: StoredRecord, before: Map<string, string> | undefined): void {
    let index = this.uniqueIndex.get(record.objectType);
    if (!index) {
      index = new Map();
      this.uniqueIndex.set(record.objectType, index);
    }
    for (const name of this.uniqueProperties(record.objectType)) {
      let byValue = index.get(name);
      if (!byValue) {
        byValue = new Map();
        index.set(name, byValue);
      }
      const old = before?.get(name);
      if (old !== undefined && byValue.get(old) === record.id) byValue.delete(old);
      const value = record.properties.get(name);
      if (!record.archived && value !== undefined && value !== '') byValue.set(value, record.id);
    }
  }

  /** Called before a write: keeps what search saw until the index catches up. */
  private beforeWrite(record: StoredRecord): void {
    const now = this.clock();
    if (this.searchIndexDelayMs <= 0) return;
    if (now >= record.searchableAt) {
      record.indexed = { properties: new Map(record.properties), updatedAt: record.updatedAt, archived: record.archived };
    }
  }

  private touch(record: StoredRecord, now: number): void {
    record.updatedAt = now;
    for (const name of this.info(record.objectType).modifiedProperties) record.properties.set(name, String(now));
    record.searchableAt = now + this.searchIndexDelayMs;
  }

  /** Creates a record after validating it. Throws HubspotHttpError (400/409) on invalid input. */
  create(objectType: string, input: Record<string, unknown>, options: WriteOptions = {}): StoredRecord {
    const changes = this.prepareChanges(objectType, input, new Map(), options);
    this.requireOnCreate(objectType, changes);
    this.checkUnique(objectType, changes);
    const associations = this.resolveAssociations(objectType, options.associations ?? []);
    const now = this.clock();
    const info = this.info(objectType);
    const id = String(this.nextId++);
    const properties = new Map<string, string>();
    for (const [name, value] of changes) if (value !== '') properties.set(name, value);
    const createdAt = properties.has(info.createdProperty) ? Number(properties.get(info.createdProperty)) : now;
    properties.set(info.createdProperty, String(createdAt));
    properties.set('hs_object_id', id);
    if (objectType === 'deals' && !properties.has('pipeline')) properties.set('pipeline', 'default');
    const record: StoredRecord = { id, objectType, properties, createdAt, updatedAt: now, archived: false, searchableAt: now };
    this.touch(record, now);
    this.table(objectType).set(id, record);
    this.indexUnique(record, undefined);
    for (const association of associations) this.associate(objectType, id, association.type.toType, association.toId, association.type.typeId);
    return record;
  }

  /** Updates a live record; bumps the modification timestamps even when no value changes (as HubSpot does). */
  update(objectType: string, id: string, input: Record<string, unknown>, options: WriteOptions & { idProperty?: string } = {}): StoredRecord {
    const record = this.find(objectType, id, options.idProperty);
    if (!record) throw notFound();
    const changes = this.prepareChanges(objectType, input, record.properties, options);
    this.checkUnique(objectType, changes, record.id);
    this.beforeWrite(record);
    const before = new Map(record.properties);
    for (const [name, value] of changes) {
      if (value === '') record.properties.delete(name);
      else record.properties.set(name, value);
    }
    this.touch(record, this.clock());
    this.indexUnique(record, before);
    return record;
  }

  archive(objectType: string, id: string): boolean {
    const record = this.get(objectType, id);
    if (!record || record.archived) return false;
    this.beforeWrite(record);
    const now = this.clock();
    record.archived = true;
    record.archivedAt = now;
    record.searchableAt = now + this.searchIndexDelayMs;
    this.indexUnique(record, new Map(record.properties));
    return true;
  }

  // ---- "as a person would" helpers for tests ----------------------------------------------------------------

  /** Creates a record as someone in the HubSpot UI would (validated; server-set dates may be given). */
  createRecord(objectType: string, properties: Record<string, unknown>, options: WriteOptions = {}): StoredRecord {
    return this.create(objectType, properties, { allowReadOnly: true, ...options });
  }

  /** Edits a record as someone in the HubSpot UI would: values change and hs_lastmodifieddate moves to now. */
  updateRecord(objectType: string, id: string, properties: Record<string, unknown>): StoredRecord {
    return this.update(objectType, id, properties);
  }

  // ---- associations ---------------------------------------------------------------------------------------

  resolveAssociations(objectType: string, inputs: NonNullable<WriteOptions['associations']>): { type: AssociationType; toId: string }[] {
    const resolved: { type: AssociationType; toId: string }[] = [];
    for (const input of inputs) {
      for (const spec of input.types ?? []) {
        const type = this.associationType(objectType, Number(spec.associationTypeId));
        if (!type) throw new HubspotHttpError(400, 'VALIDATION_ERROR', `${spec.associationTypeId} is not a valid association type id for ${objectType}`);
        const toId = String(input.to?.id ?? '');
        if (!this.find(type.toType, toId)) {
          throw new HubspotHttpError(400, 'VALIDATION_ERROR', `${this.info(type.toType).singular} ${toId} does not exist; association cannot be created`);
        }
        resolved.push({ type, toId });
      }
    }
    return resolved;
  }

  private edge(fromType: string, fromId: string, toType: string, toId: string, create: boolean): Set<number> | undefined {
    const key = `${fromType}:${fromId}`;
    let targets = this.associations.get(key);
    if (!targets) {
      if (!create) return undefined;
      targets = new Map();
      this.associations.set(key, targets);
    }
    const toKey = `${toType}:${toId}`;
    let types = targets.get(toKey);
    if (!types && create) {
      types = new Set();
      targets.set(toKey, types);
    }
    return types;
  }

  /**
   * Associates two records with `typeId` (from `fromType`'s side) and the inverse type from the other side. A
   * labelled type (primary) also adds the unlabeled one: every association has the unlabeled type
   * (https://developers.hubspot.com/docs/api/crm/associations "Unlabeled ... will always be returned").
   */
  associate(fromType: string, fromId: string, toType: string, toId: string, typeId: number): void {
    const type = this.associationType(fromType, typeId);
    if (!type || type.toType !== toType) throw new HubspotHttpError(400, 'VALIDATION_ERROR', `${typeId} is not a valid association type from ${fromType} to ${toType}`);
    const types = [type];
    if (!type.isDefault) {
      const unlabeled = this.associationTypeList.find((candidate) => candidate.fromType === fromType && candidate.toType === toType && candidate.isDefault);
      if (unlabeled) types.push(unlabeled);
    }
    for (const each of types) {
      this.edge(fromType, fromId, toType, toId, true)!.add(each.typeId);
      this.edge(toType, toId, fromType, fromId, true)!.add(each.inverseTypeId);
    }
  }

  /** Removes every association between the two records, both directions. */
  dissociate(fromType: string, fromId: string, toType: string, toId: string): void {
    this.associations.get(`${fromType}:${fromId}`)?.delete(`${toType}:${toId}`);
    this.associations.get(`${toType}:${toId}`)?.delete(`${fromType}:${fromId}`);
  }

  /** Live associated records of `toType`: id -> type ids, in ascending id order. */
  associationsOf(fromType: string, fromId: string, toType: string): [string, number[]][] {
    const targets = this.associations.get(`${fromType}:${fromId}`);
    if (!targets) return [];
    const found: [string, number[]][] = [];
    for (const [key, types] of targets) {
      const [type, id] = key.split(':') as [string, string];
      if (type !== toType || types.size === 0 || !this.find(type, id)) continue;
      found.push([id, [...types].sort((a, b) => a - b)]);
    }
    return found.sort((a, b) => Number(a[0]) - Number(b[0]));
  }

  // ---- output ---------------------------------------------------------------------------------------------

  /**
   * The record as the v3 API returns it. Requested properties without a value come back as null; `hs_object_id`,
   * the create date and the modification date are always included.
   */
  toPublic(
    record: StoredRecord,
    requested: string[] | undefined,
    options: { associations?: string[]; view?: { properties: Map<string, string>; updatedAt: number; archived: boolean } } = {},
  ): PublicRecord {
    const info = this.info(record.objectType);
    const view = options.view ?? record;
    const names = new Set(requested && requested.length > 0 ? requested : info.defaultProperties);
    for (const name of ['hs_object_id', info.createdProperty, ...info.modifiedProperties.slice(0, 1)]) names.add(name);
    const properties: Record<string, string | null> = {};
    for (const name of names) {
      const definition = this.property(record.objectType, name);
      if (!definition) continue; // reads ignore unknown property names
      const value = view.properties.get(name);
      properties[name] = value === undefined ? null : formatValue(definition, value);
    }
    const result: PublicRecord = {
      id: record.id,
      properties,
      createdAt: new Date(record.createdAt).toISOString(),
      updatedAt: new Date(view.updatedAt).toISOString(),
      archived: view.archived,
    };
    if (record.archived && record.archivedAt !== undefined && !options.view) result.archivedAt = new Date(record.archivedAt).toISOString();
    if (options.associations && options.associations.length > 0) {
      const associations: NonNullable<PublicRecord['associations']> = {};
      for (const requestedType of options.associations) {
        const toType = requestedType;
        const found = this.associationsOf(record.objectType, record.id, toType);
        if (found.length === 0) continue;
        const results: { id: string; type: string }[] = [];
        for (const [id, typeIds] of found) {
          for (const typeId of typeIds) results.push({ id, type: this.associationType(record.objectType, typeId)?.v3Name ?? String(typeId) });
        }
        associations[toType] = { results };
      }
      if (Object.keys(associations).length > 0) result.associations = associations;
    }
    return result;
  }
}
