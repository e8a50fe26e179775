import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from './index.js';
import { call, manualClock } from './test-support.js';

/** The custom object of the schemas guide's walkthrough, reduced: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/schemas/guide */
const PROJECTS = {
  name: 'projects',
  labels: { singular: 'Project', plural: 'Projects' },
  primaryDisplayProperty: 'project_name',
  requiredProperties: ['project_name'],
  searchableProperties: ['project_name'],
  secondaryDisplayProperties: ['status'],
  properties: [
    { name: 'project_name', label: 'Project name', type: 'string', fieldType: 'text' },
    { name: 'budget', label: 'Budget', type: 'number', fieldType: 'number' },
    {
      name: 'status',
      label: 'Status',
      type: 'enumeration',
      fieldType: 'select',
      options: [
        { label: 'Planned', value: 'planned' },
        { label: 'Active', value: 'active' },
      ],
    },
  ],
  associatedObjects: ['COMPANY', 'CONTACT'],
};

describe('HubSpot emulator: custom object schemas and records', () => {
  let hubspot: HubspotEmulator;
  const clock = manualClock();

  beforeEach(async () => {
    clock.set(Date.UTC(2026, 2, 1, 12));
    hubspot = await startHubspotEmulator({ clock: clock.now, portalId: 345, burstLimit: { requests: 10_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
  });
  afterEach(async () => {
    await hubspot.close();
  });

  async function createProjects(): Promise<{ objectTypeId: string; fullyQualifiedName: string; associations: { id: string; toObjectTypeId: string }[] }> {
    const created = await call(hubspot, 'POST', '/crm/v3/schemas', PROJECTS);
    expect(created.status).toBe(201);
    return created.body;
  }

  it('creates a schema and answers it with objectTypeId, fullyQualifiedName, properties and associations; list and get agree', async () => {
    const created = await call(hubspot, 'POST', '/crm/v3/schemas', PROJECTS);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'projects',
      labels: { singular: 'Project', plural: 'Projects' },
      fullyQualifiedName: 'p345_projects',
      primaryDisplayProperty: 'project_name',
      requiredProperties: ['project_name'],
      metaType: 'PORTAL_SPECIFIC',
      archived: false,
    });
    expect(created.body.objectTypeId).toMatch(/^2-\d+$/);
    expect(created.body.objectTypeId).toBe(`2-${created.body.id}`);
    expect(created.body.properties.map((property: { name: string }) => property.name).sort()).toEqual(['budget', 'project_name', 'status']);
    expect(created.body.properties.find((property: { name: string }) => property.name === 'project_name')).toMatchObject({ groupName: 'projects_information', type: 'string' });
    expect(created.body.associations).toEqual([
      expect.objectContaining({ fromObjectTypeId: created.body.objectTypeId, toObjectTypeId: '0-2', name: 'projects_to_company' }),
      expect.objectContaining({ fromObjectTypeId: created.body.objectTypeId, toObjectTypeId: '0-1', name: 'projects_to_contact' }),
    ]);

    const list = await call(hubspot, 'GET', '/crm/v3/schemas');
    expect(list.status).toBe(200);
    expect(list.body.results).toEqual([created.body]);
    for (const name of [created.body.objectTypeId, 'p345_projects']) {
      const one = await call(hubspot, 'GET', `/crm/v3/schemas/${name}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(created.body);
    }
    expect((await call(hubspot, 'GET', '/crm-object-schemas/v3/schemas')).body.results).toHaveLength(1);
    expect((await call(hubspot, 'GET', '/crm/v3/schemas/2-999')).status).toBe(404);
  });

  it('refuses invalid schemas: bad name, missing labels, display or required properties that are not defined, unknown associated objects, a second object of the same name', async () => {
    const bad = async (body: Record<string, unknown>) => (await call(hubspot, 'POST', '/crm/v3/schemas', { ...PROJECTS, ...body })).status;
    expect(await bad({ name: '1projects' })).toBe(400);
    expect(await bad({ labels: { singular: 'Project' } })).toBe(400);
    expect(await bad({ requiredProperties: ['nope'] })).toBe(400);
    expect(await bad({ primaryDisplayProperty: 'nope' })).toBe(400);
    expect(await bad({ associatedObjects: ['SPACESHIP'] })).toBe(400);
    expect(await bad({ properties: [{ name: 'x', label: 'X', type: 'text', fieldType: 'text' }] })).toBe(400);
    expect((await call(hubspot, 'GET', '/crm/v3/schemas')).body.results).toHaveLength(0);
    await createProjects();
    expect(await bad({})).toBe(409);
  });

  it('serves records by objectTypeId, fullyQualifiedName and p_{name}, not by the base name', async () => {
    const { objectTypeId } = await createProjects();
    const created = await call(hubspot, 'POST', `/crm/v3/objects/${objectTypeId}`, { properties: { project_name: 'Apollo', budget: '1200.5', status: 'active' } });
    expect(created.status).toBe(201);
    expect(created.body.properties).toMatchObject({ project_name: 'Apollo', budget: '1200.5', status: 'active', hs_object_id: created.body.id });
    expect(typeof created.body.properties.hs_createdate).toBe('string');
    for (const name of [objectTypeId, 'p345_projects', 'p_projects']) {
      const read = await call(hubspot, 'GET', `/crm/v3/objects/${name}/${created.body.id}?properties=project_name`);
      expect(read.status).toBe(200);
      expect(read.body.properties.project_name).toBe('Apollo');
    }
    // Base names stopped working in 2025:
    // https://developers.hubspot.com/changelog/breaking-change-removed-support-for-referencing-custom-object-types-by-base-name
    expect((await call(hubspot, 'GET', `/crm/v3/objects/projects/${created.body.id}`)).status).toBe(400);
    // Defaults of a read without properties.
    const plain = await call(hubspot, 'GET', `/crm/v3/objects/${objectTypeId}/${created.body.id}`);
    expect(Object.keys(plain.body.properties).sort()).toEqual(['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id']);
  });

  it('validates custom object records: required properties, enumeration options, unknown properties', async () => {
    const { objectTypeId } = await createProjects();
    const missing = await call(hubspot, 'POST', `/crm/v3/objects/${objectTypeId}`, { properties: { budget: '5' } });
    expect(missing.status).toBe(400);
    expect(missing.body.category).toBe('VALIDATION_ERROR');
    expect(missing.body.message).toContain('project_name');
    const option = await call(hubspot, 'POST', `/crm/v3/objects/${objectTypeId}`, { properties: { project_name: 'X', status: 'cancelled' } });
    expect(option.status).toBe(400);
    expect(option.body.message).toContain('INVALID_OPTION');
    const unknown = await call(hubspot, 'POST', `/crm/v3/objects/${objectTypeId}`, { properties: { project_name: 'X', colour: 'red' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('PROPERTY_DOESNT_EXIST');
  });

  it('batch, search, properties API and v4 associations work on a custom object', async () => {
    const { objectTypeId, associations } = await createProjects();
    const company = hubspot.store.createRecord('companies', { name: 'Acme', domain: 'acme.example' });
    // Properties API: a unique property, as a connector's external-id property.
    const property = await call(hubspot, 'POST', `/crm/v3/properties/${objectTypeId}`, {
      name: 'source_id',
      label: 'Source id',
      type: 'string',
      fieldType: 'text',
      groupName: 'projects_information',
      hasUniqueValue: true,
    });
    expect(property.status).toBe(201);
    expect((await call(hubspot, 'GET', `/crm/v3/properties/p_projects`)).body.results.map((entry: { name: string }) => entry.name)).toContain('source_id');

    const batch = await call(hubspot, 'POST', `/crm/v3/objects/${objectTypeId}/batch/create`, {
      inputs: [
        { properties: { project_name: 'A', source_id: 's1' }, objectWriteTraceId: 't1' },
        { properties: { project_name: 'B', source_id: 's2' }, objectWriteTraceId: 't2' },
      ],
    });
    expect(batch.status).toBe(201);
    const [first, second] = batch.body.results as { id: string }[];
    const byUnique = await call(hubspot, 'POST', `/crm/v3/objects/${objectTypeId}/batch/read`, { idProperty: 'source_id', properties: ['project_name'], inputs: [{ id: 's2' }] });
    expect(byUnique.body.results.map((row: { id: string }) => row.id)).toEqual([second!.id]);
    const duplicate = await call(hubspot, 'POST', `/crm/v3/objects/${objectTypeId}`, { properties: { project_name: 'C', source_id: 's1' } });
    expect(duplicate.status).toBe(409);

    clock.advance(60_000);
    await call(hubspot, 'PATCH', `/crm/v3/objects/${objectTypeId}/${first!.id}`, { properties: { budget: '99' } });
    const search = await call(hubspot, 'POST', `/crm/v3/objects/${objectTypeId}/search`, {
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: String(clock.now()) }] }],
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
      properties: ['project_name', 'budget'],
      limit: 10,
    });
    expect(search.status).toBe(200);
    expect(search.body.total).toBe(1);
    expect(search.body.results[0]).toMatchObject({ id: first!.id, properties: { project_name: 'A', budget: '99' } });

    // v4: the labels of the pair are the schema's association definition (USER_DEFINED); default associations both ways.
    const labels = await call(hubspot, 'GET', `/crm/v4/associations/${objectTypeId}/companies/labels`);
    expect(labels.body.results).toEqual([{ category: 'USER_DEFINED', typeId: Number(associations[0]!.id), label: null }]);
    const linked = await call(hubspot, 'POST', `/crm/v4/associations/${objectTypeId}/companies/batch/associate/default`, { inputs: [{ from: { id: first!.id }, to: { id: company.id } }] });
    expect(linked.status).toBe(200);
    const read = await call(hubspot, 'POST', `/crm/v4/associations/p_projects/0-2/batch/read`, { inputs: [{ id: first!.id }, { id: second!.id }] });
    expect(read.status).toBe(207);
    expect(read.body.results).toEqual([{ from: { id: first!.id }, to: [{ toObjectId: Number(company.id), associationTypes: [{ category: 'USER_DEFINED', typeId: Number(associations[0]!.id), label: null }] }] }]);
    const inverse = await call(hubspot, 'GET', `/crm/v4/objects/companies/${company.id}/associations/${objectTypeId}`);
    expect(inverse.body.results.map((row: { toObjectId: number }) => String(row.toObjectId))).toEqual([first!.id]);
    // A pair without an association definition has no default type.
    const deals = await call(hubspot, 'POST', `/crm/v4/associations/${objectTypeId}/deals/batch/associate/default`, { inputs: [{ from: { id: first!.id }, to: { id: '1' } }] });
    expect(deals.status).toBe(400);
    // ...until one is created through the schemas API.
    const definition = await call(hubspot, 'POST', `/crm/v3/schemas/${objectTypeId}/associations`, { fromObjectTypeId: objectTypeId, toObjectTypeId: '0-3', name: 'projects_to_deal' });
    expect(definition.status).toBe(200);
    expect(definition.body).toMatchObject({ fromObjectTypeId: objectTypeId, toObjectTypeId: '0-3', name: 'projects_to_deal' });
    expect((await call(hubspot, 'GET', `/crm/v4/associations/${objectTypeId}/deals/labels`)).body.results).toHaveLength(1);
  });

  it('deletes a schema only once its records are gone', async () => {
    const { objectTypeId } = await createProjects();
    const record = hubspot.store.createRecord(objectTypeId, { project_name: 'X' });
    expect((await call(hubspot, 'DELETE', `/crm/v3/schemas/${objectTypeId}`)).status).toBe(400);
    await call(hubspot, 'DELETE', `/crm/v3/objects/${objectTypeId}/${record.id}`);
    expect((await call(hubspot, 'DELETE', `/crm/v3/schemas/${objectTypeId}`)).status).toBe(204);
    expect((await call(hubspot, 'GET', '/crm/v3/schemas')).body.results).toHaveLength(0);
    expect((await call(hubspot, 'GET', `/crm/v3/objects/${objectTypeId}`)).status).toBe(400);
  });
});
