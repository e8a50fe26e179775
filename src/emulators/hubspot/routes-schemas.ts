import { HubspotHttpError, badRequest, notFound } from './errors.js';
import { newProperty, propertyCreateError } from './routes-metadata.js';
import type { CustomObjectSchema, PropertyDefinition } from './schema.js';
import type { HandlerContext, HandlerResult } from './routes.js';

/**
 * Custom object schemas (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/schemas/guide,
 * https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/schemas/create-schema.md). Served under
 * `/crm/v3/schemas` (the path of the custom objects guide) and `/crm-object-schemas/v3/schemas` (the path of the
 * current reference pages). Shapes follow the official SDK (codegen/crm/schemas/models in
 * github.com/HubSpot/hubspot-api-nodejs): the create body is an `ObjectSchemaEgg` (name, labels, properties,
 * requiredProperties, searchableProperties, primaryDisplayProperty, secondaryDisplayProperties,
 * associatedObjects), answers are `ObjectSchema`s (id, objectTypeId `2-{id}`, fullyQualifiedName
 * `p{portalId}_{name}`, properties, associations `[{id, fromObjectTypeId, toObjectTypeId, name}]`), the list is
 * `{results}` without paging.
 */

// "The name can only contain letters, numbers, and underscores, and the first character must be a letter."
// https://developers.hubspot.com/docs/api-reference/latest/crm/objects/schemas/guide
const OBJECT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

type Input = Record<string, unknown>;

function strings(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw badRequest(`${field} must be an array of property names`);
  return value as string[];
}

/** The schema as the API answers it: its user-defined properties and its association definitions. */
function publicSchema(ctx: HandlerContext, schema: CustomObjectSchema): Record<string, unknown> {
  const properties = [...ctx.store.properties(schema.objectTypeId).values()].filter((definition) => !definition.hubspotDefined && !definition.archived);
  return { ...schema, properties, associations: ctx.store.customAssociations.get(schema.objectTypeId) ?? [] };
}

/** A live custom schema by objectTypeId, fullyQualifiedName (or `p_{name}`); 404 otherwise. */
function schemaOf(ctx: HandlerContext, raw: string): CustomObjectSchema {
  const type = ctx.store.resolveType(raw);
  const schema = type === undefined ? undefined : ctx.store.customSchemas.get(type);
  if (!schema || schema.archived) throw notFound(`Unable to find object type ${raw}`);
  return schema;
}

export function listSchemas(ctx: HandlerContext): HandlerResult {
  const archived = ctx.query.get('archived') === 'true';
  const results = [...ctx.store.customSchemas.values()].filter((schema) => schema.archived === archived).map((schema) => publicSchema(ctx, schema));
  return { status: 200, body: { results } };
}

export function getSchema(ctx: HandlerContext, raw: string): HandlerResult {
  return { status: 200, body: publicSchema(ctx, schemaOf(ctx, raw)) };
}

export function createSchema(ctx: HandlerContext): HandlerResult {
  const input = (ctx.body ?? {}) as Input;
  const name = input.name;
  if (typeof name !== 'string' || !OBJECT_NAME.test(name)) {
    throw badRequest(`Object name ${JSON.stringify(name)} is invalid: use letters, numbers and underscores, starting with a letter.`);
  }
  if ([...ctx.store.customSchemas.values()].some((schema) => !schema.archived && schema.name.toLowerCase() === name.toLowerCase())) {
    // 409 for a second object of the same name: *assumed* (HubSpot documents that names are unique, not the answer).
    throw new HubspotHttpError(409, 'OBJECT_ALREADY_EXISTS', `An object type named '${name}' already exists.`, { context: { name: [name] } });
  }
  const labels = input.labels as { singular?: unknown; plural?: unknown } | undefined;
  if (typeof labels?.singular !== 'string' || labels.singular === '' || typeof labels.plural !== 'string' || labels.plural === '') {
    throw badRequest('labels.singular and labels.plural are required');
  }
  if (!Array.isArray(input.properties)) throw badRequest('properties must be an array of property definitions');
  const group = `${name}_information`;
  const now = new Date(ctx.store.clock()).toISOString();
  const reserved = new Set(['hs_object_id', 'hs_createdate', 'hs_lastmodifieddate']);
  const properties: PropertyDefinition[] = [];
  for (const raw of input.properties as Input[]) {
    const property = { groupName: group, ...raw };
    const error = propertyCreateError(property, new Set([group]), (candidate) => reserved.has(candidate) || properties.some((definition) => definition.name === candidate));
    if (error) throw error;
    properties.push(newProperty(property, now));
  }
  const names = new Set(properties.map((definition) => definition.name));
  const requiredProperties = strings(input.requiredProperties, 'requiredProperties');
  const searchableProperties = strings(input.searchableProperties, 'searchableProperties');
  const secondaryDisplayProperties = strings(input.secondaryDisplayProperties, 'secondaryDisplayProperties');
  const primaryDisplayProperty = typeof input.primaryDisplayProperty === 'string' ? input.primaryDisplayProperty : undefined;
  for (const [field, list] of [
    ['requiredProperties', requiredProperties],
    ['searchableProperties', searchableProperties],
    ['secondaryDisplayProperties', secondaryDisplayProperties],
    ['primaryDisplayProperty', primaryDisplayProperty === undefined ? [] : [primaryDisplayProperty]],
  ] as const) {
    const unknown = list.filter((property) => !names.has(property));
    if (unknown.length > 0) throw badRequest(`${field} names properties that are not defined on ${name}: ${unknown.join(', ')}`, { context: { properties: unknown } });
  }
  // associatedObjects: "CONTACT", "COMPANY", ... or object type ids ("0-1", "2-123"); an unknown one is a 400.
  const associatedTypes: string[] = [];
  for (const raw of strings(input.associatedObjects, 'associatedObjects')) {
    const type = ctx.store.resolveType(raw);
    if (!type) throw badRequest(`associatedObjects: unknown object type ${raw}`);
    associatedTypes.push(type);
  }
  const schema = ctx.store.addCustomObject(
    {
      name,
      labels: { singular: labels.singular, plural: labels.plural },
      ...(typeof input.description === 'string' ? { description: input.description } : {}),
      ...(primaryDisplayProperty !== undefined ? { primaryDisplayProperty } : {}),
      requiredProperties,
      searchableProperties,
      secondaryDisplayProperties,
    },
    properties,
    associatedTypes,
  );
  return { status: 201, body: publicSchema(ctx, schema) };
}

/**
 * POST /crm/v3/schemas/{objectType}/associations `{fromObjectTypeId, toObjectTypeId, name?}` -> the new
 * `AssociationDefinition` (SDK: `CoreApi.createAssociation`, `AssociationDefinitionEgg`).
 */
export function createSchemaAssociation(ctx: HandlerContext, raw: string): HandlerResult {
  const schema = schemaOf(ctx, raw);
  const input = (ctx.body ?? {}) as Input;
  const from = typeof input.fromObjectTypeId === 'string' ? ctx.store.resolveType(input.fromObjectTypeId) : undefined;
  const to = typeof input.toObjectTypeId === 'string' ? ctx.store.resolveType(input.toObjectTypeId) : undefined;
  if (from !== schema.objectTypeId) throw badRequest(`fromObjectTypeId must be ${schema.objectTypeId}`);
  if (!to) throw badRequest(`toObjectTypeId ${String(input.toObjectTypeId)} is not an object type`);
  const definition = ctx.store.addCustomAssociation(from, to, typeof input.name === 'string' ? input.name : undefined);
  return { status: 200, body: definition };
}

/**
 * DELETE /crm/v3/schemas/{objectType}: archives the schema. HubSpot only deletes a custom object once all its
 * records are deleted; a schema with live records is refused (400, wording *assumed*).
 */
export function archiveSchema(ctx: HandlerContext, raw: string): HandlerResult {
  const schema = schemaOf(ctx, raw);
  if (ctx.store.count(schema.objectTypeId) > 0) throw badRequest(`Object type ${schema.name} still has records; delete them before deleting the object type.`);
  schema.archived = true;
  schema.updatedAt = new Date(ctx.store.clock()).toISOString();
  return { status: 204 };
}
