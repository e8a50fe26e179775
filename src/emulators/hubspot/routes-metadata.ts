import { HubspotHttpError, badRequest, notFound, type HubspotErrorBody } from './errors.js';
import { FIELD_TYPES, PROPERTY_TYPES, type PropertyDefinition, type PropertyOption, type PropertyType } from './schema.js';
import { objectType } from './routes-objects.js';
import type { HandlerContext, HandlerResult } from './routes.js';

/**
 * Properties (https://developers.hubspot.com/docs/api/crm/properties), pipelines
 * (https://developers.hubspot.com/docs/api-reference/crm-pipelines-v3/guide) and owners
 * (https://developers.hubspot.com/docs/api/crm/owners). Shapes follow the official SDK's models
 * (codegen/crm/properties/models/Property.ts, pipelines/models/Pipeline.ts, owners/models/PublicOwner.ts).
 */

const PROPERTY_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Why a property create input is refused, or undefined. `groups` are the object's property group names and
 * `exists` tells whether a property of that name is there already.
 */
export function propertyCreateError(input: Record<string, unknown>, groups: { has(name: string): boolean }, exists: (name: string) => boolean): HubspotHttpError | undefined {
  const name = input.name;
  if (typeof name !== 'string' || !PROPERTY_NAME.test(name)) {
    return badRequest(`Property name ${JSON.stringify(name)} is invalid: use lower-case letters, digits and underscores, starting with a letter.`);
  }
  if (typeof input.label !== 'string' || input.label === '') return badRequest(`Property ${name}: label is required`);
  if (!PROPERTY_TYPES.includes(input.type as PropertyType)) return badRequest(`Property ${name}: type ${String(input.type)} is not one of ${PROPERTY_TYPES.join(', ')}`);
  if (!FIELD_TYPES.includes(input.fieldType as (typeof FIELD_TYPES)[number])) {
    return badRequest(`Property ${name}: fieldType ${String(input.fieldType)} is not one of ${FIELD_TYPES.join(', ')}`);
  }
  if (typeof input.groupName !== 'string' || !groups.has(input.groupName)) {
    return badRequest(`Property ${name}: property group ${String(input.groupName)} does not exist`);
  }
  if (exists(name)) {
    return new HubspotHttpError(409, 'OBJECT_ALREADY_EXISTS', `A property named '${name}' already exists.`, { context: { name: [name] } });
  }
  return undefined;
}

function optionsOf(raw: unknown): PropertyOption[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((option: Record<string, unknown>, index) => ({
    label: String(option.label ?? option.value ?? ''),
    value: String(option.value ?? ''),
    displayOrder: typeof option.displayOrder === 'number' ? option.displayOrder : index,
    hidden: option.hidden === true,
    ...(typeof option.description === 'string' ? { description: option.description } : {}),
  }));
}

/** A user-defined property from a validated create input (see propertyCreateError). */
export function newProperty(input: Record<string, unknown>, now: string): PropertyDefinition {
  return {
    name: input.name as string,
    label: input.label as string,
    type: input.type as PropertyType,
    fieldType: input.fieldType as string,
    groupName: input.groupName as string,
    description: typeof input.description === 'string' ? input.description : '',
    options: optionsOf(input.options),
    displayOrder: typeof input.displayOrder === 'number' ? input.displayOrder : -1,
    hasUniqueValue: input.hasUniqueValue === true,
    hidden: input.hidden === true,
    formField: input.formField === true,
    hubspotDefined: false,
    calculated: false,
    externalOptions: false,
    modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false, readOnlyOptions: false },
    createdAt: now,
    updatedAt: now,
    archived: false,
  };
}

function createProperty(ctx: HandlerContext, type: string, input: Record<string, unknown>): PropertyDefinition {
  const error = propertyCreateError(input, ctx.store.propertyGroups.get(type)!, (name) => ctx.store.property(type, name) !== undefined);
  if (error) throw error;
  const definition = newProperty(input, new Date(ctx.store.clock()).toISOString());
  ctx.store.properties(type).set(definition.name, definition);
  return definition;
}

export function listProperties(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const archived = ctx.query.get('archived') === 'true';
  return { status: 200, body: { results: [...ctx.store.properties(type).values()].filter((definition) => definition.archived === archived) } };
}

export function getProperty(ctx: HandlerContext, rawType: string, name: string): HandlerResult {
  const definition = ctx.store.property(objectType(ctx, rawType), name);
  if (!definition || definition.archived) throw notFound(`Unable to find property ${name}`);
  return { status: 200, body: definition };
}

export function postProperty(ctx: HandlerContext, rawType: string): HandlerResult {
  return { status: 201, body: createProperty(ctx, objectType(ctx, rawType), (ctx.body ?? {}) as Record<string, unknown>) };
}

/** PATCH: label, description, group, options (the list is replaced), hidden, displayOrder. */
export function patchProperty(ctx: HandlerContext, rawType: string, name: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const definition = ctx.store.property(type, name);
  if (!definition || definition.archived) throw notFound(`Unable to find property ${name}`);
  const input = (ctx.body ?? {}) as Record<string, unknown>;
  if (definition.modificationMetadata.readOnlyDefinition && (input.type !== undefined || input.fieldType !== undefined)) {
    throw badRequest(`Property ${name} is read only; its definition cannot be changed.`);
  }
  if (typeof input.label === 'string') definition.label = input.label;
  if (typeof input.description === 'string') definition.description = input.description;
  if (typeof input.groupName === 'string') definition.groupName = input.groupName;
  if (typeof input.hidden === 'boolean') definition.hidden = input.hidden;
  if (typeof input.displayOrder === 'number') definition.displayOrder = input.displayOrder;
  if (input.options !== undefined) definition.options = optionsOf(input.options);
  definition.updatedAt = new Date(ctx.store.clock()).toISOString();
  return { status: 200, body: definition };
}

export function deleteProperty(ctx: HandlerContext, rawType: string, name: string): HandlerResult {
  const definition = ctx.store.property(objectType(ctx, rawType), name);
  if (!definition || definition.archived) throw notFound(`Unable to find property ${name}`);
  if (definition.hubspotDefined) throw badRequest(`Property ${name} is defined by HubSpot and cannot be archived.`);
  definition.archived = true;
  return { status: 204 };
}

export function batchCreateProperties(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const inputs = (ctx.body as { inputs?: unknown } | undefined)?.inputs;
  if (!Array.isArray(inputs)) throw badRequest('Invalid input JSON: inputs must be an array');
  const startedAt = new Date(ctx.store.clock()).toISOString();
  const results: PropertyDefinition[] = [];
  const errors: HubspotErrorBody[] = [];
  for (const input of inputs as Record<string, unknown>[]) {
    try {
      results.push(createProperty(ctx, type, input));
    } catch (error) {
      if (!(error instanceof HubspotHttpError)) throw error;
      errors.push({ ...error.body, context: { ...(error.body.context ?? {}), name: [String(input.name)] } });
    }
  }
  const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date(ctx.store.clock()).toISOString() };
  if (errors.length === 0) return { status: 201, body };
  return { status: 207, body: { ...body, numErrors: errors.length, errors } };
}

export function batchReadProperties(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const inputs = ((ctx.body as { inputs?: { name?: string }[] } | undefined)?.inputs ?? []).map((input) => String(input.name));
  const startedAt = new Date(ctx.store.clock()).toISOString();
  const results = inputs.map((name) => ctx.store.property(type, name)).filter((definition): definition is PropertyDefinition => definition !== undefined && !definition.archived);
  return { status: 200, body: { status: 'COMPLETE', results, startedAt, completedAt: new Date(ctx.store.clock()).toISOString() } };
}

export function listGroups(ctx: HandlerContext, rawType: string): HandlerResult {
  return { status: 200, body: { results: [...ctx.store.propertyGroups.get(objectType(ctx, rawType))!.values()] } };
}

export function createGroup(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const input = (ctx.body ?? {}) as { name?: unknown; label?: unknown; displayOrder?: unknown };
  if (typeof input.name !== 'string' || !PROPERTY_NAME.test(input.name)) throw badRequest(`Group name ${JSON.stringify(input.name)} is invalid`);
  const groups = ctx.store.propertyGroups.get(type)!;
  if (groups.has(input.name)) throw new HubspotHttpError(409, 'OBJECT_ALREADY_EXISTS', `A property group named '${input.name}' already exists.`);
  const group = { name: input.name, label: typeof input.label === 'string' ? input.label : input.name, displayOrder: typeof input.displayOrder === 'number' ? input.displayOrder : -1, archived: false };
  groups.set(group.name, group);
  return { status: 201, body: group };
}

// ---- pipelines --------------------------------------------------------------------------------------------

export function listPipelines(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  return { status: 200, body: { results: ctx.store.pipelines.get(type) ?? [] } };
}

export function getPipeline(ctx: HandlerContext, rawType: string, id: string): HandlerResult {
  const pipeline = (ctx.store.pipelines.get(objectType(ctx, rawType)) ?? []).find((candidate) => candidate.id === id);
  if (!pipeline) throw notFound(`Unable to find pipeline ${id}`);
  return { status: 200, body: pipeline };
}

export function listStages(ctx: HandlerContext, rawType: string, id: string): HandlerResult {
  const pipeline = (ctx.store.pipelines.get(objectType(ctx, rawType)) ?? []).find((candidate) => candidate.id === id);
  if (!pipeline) throw notFound(`Unable to find pipeline ${id}`);
  return { status: 200, body: { results: pipeline.stages } };
}

// ---- owners -----------------------------------------------------------------------------------------------

/** GET /crm/v3/owners?limit (default 100, max 500)&after&email&archived. */
export function listOwners(ctx: HandlerContext): HandlerResult {
  const limitText = ctx.query.get('limit');
  const limit = limitText === null ? 100 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw badRequest(`limit must be between 1 and 500, got ${limitText}`);
  const offset = Number(ctx.query.get('after') ?? '0') || 0;
  const email = ctx.query.get('email')?.toLowerCase();
  const archived = ctx.query.get('archived') === 'true';
  const matching = ctx.store.owners.filter((owner) => owner.archived === archived && (email === undefined || owner.email.toLowerCase() === email));
  const page = matching.slice(offset, offset + limit);
  const body: Record<string, unknown> = { results: page };
  if (offset + limit < matching.length) {
    const after = String(offset + limit);
    body.paging = { next: { after, link: `${ctx.baseUrl}/crm/v3/owners?after=${after}&limit=${limit}` } };
  }
  return { status: 200, body };
}

export function getOwner(ctx: HandlerContext, id: string): HandlerResult {
  const owner = ctx.store.owners.find((candidate) => candidate.id === id);
  if (!owner) throw notFound(`Unable to find owner ${id}`);
  return { status: 200, body: owner };
}
