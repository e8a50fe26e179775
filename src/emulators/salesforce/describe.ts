import { makeId } from './ids.js';
import type { FieldDef, FieldType, ObjectDef } from './schema.js';
import type { SalesforceStore, SfRecord } from './store.js';

/**
 * Describe answers (REST API Developer Guide, "sObject Describe" and "Describe Global";
 * field properties as the DescribeFieldResult of the SOAP API Developer Guide:
 * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_describesobjects_describesobjectresult.htm).
 */
const SOAP_TYPES: Record<FieldType, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  picklist: 'xsd:string',
  multipicklist: 'xsd:string',
  boolean: 'xsd:boolean',
  int: 'xsd:int',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
  base64: 'xsd:base64Binary',
};

const MASTER_RECORD_TYPE = '012000000000000AAA';

function urls(object: ObjectDef, version: string): Record<string, string> {
  const base = `/services/data/v${version}/sobjects/${object.name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
}

export function objectSummary(object: ObjectDef, version: string): Record<string, unknown> {
  return {
    activateable: false,
    createable: object.createable,
    custom: object.custom,
    customSetting: false,
    deletable: object.createable,
    deprecatedAndHidden: false,
    feedEnabled: false,
    hasSubtypes: false,
    isSubtype: false,
    keyPrefix: object.keyPrefix,
    label: object.label,
    labelPlural: object.labelPlural,
    layoutable: true,
    mergeable: ['Account', 'Contact', 'Lead'].includes(object.name),
    mruEnabled: true,
    name: object.name,
    queryable: true,
    replicateable: true,
    retrieveable: true,
    searchable: true,
    triggerable: true,
    undeletable: object.createable,
    updateable: object.createable,
    urls: urls(object, version),
  };
}

export function fieldDescribe(definition: FieldDef): Record<string, unknown> {
  const numeric = ['int', 'double', 'currency', 'percent'].includes(definition.type);
  return {
    aggregatable: definition.type !== 'textarea',
    autoNumber: false,
    byteLength: definition.length * 3,
    calculated: definition.calculated,
    caseSensitive: false,
    createable: definition.createable,
    custom: definition.custom,
    defaultValue: definition.type === 'picklist' ? null : definition.defaultValue ?? null,
    defaultedOnCreate: definition.defaultedOnCreate,
    dependentPicklist: false,
    digits: definition.type === 'int' ? 9 : 0,
    externalId: definition.externalId,
    filterable: definition.type !== 'textarea' || definition.length <= 255,
    groupable: !numeric && definition.type !== 'textarea' && definition.type !== 'datetime',
    htmlFormatted: false,
    idLookup: definition.name === 'Id' || definition.externalId || (definition.name === 'Username'),
    label: definition.label,
    length: definition.length,
    name: definition.name,
    nameField: definition.nameField,
    namePointing: definition.referenceTo.length > 1,
    nillable: definition.nillable,
    picklistValues: definition.picklistValues.map((value) => ({ active: true, defaultValue: value === definition.defaultValue, label: value, validFor: null, value })),
    polymorphicForeignKey: definition.referenceTo.length > 1,
    precision: definition.precision,
    referenceTo: definition.referenceTo,
    relationshipName: definition.relationshipName,
    restrictedPicklist: definition.restrictedPicklist,
    scale: definition.scale,
    soapType: SOAP_TYPES[definition.type],
    sortable: definition.type !== 'textarea' || definition.length <= 255,
    type: definition.type,
    unique: definition.unique,
    updateable: definition.updateable,
  };
}

export function describeObject(store: SalesforceStore, object: ObjectDef, version: string): Record<string, unknown> {
  const childRelationships: Record<string, unknown>[] = [];
  for (const child of store.schema.objects.values()) {
    for (const definition of child.fields) {
      if (!definition.referenceTo.includes(object.name) || ['CreatedById', 'LastModifiedById', 'OwnerId'].includes(definition.name)) continue;
      childRelationships.push({
        cascadeDelete: ['Contact.AccountId', 'Opportunity.AccountId', 'OpportunityContactRole.OpportunityId', 'Note.ParentId', 'Task.WhatId', 'Event.WhatId'].includes(`${child.name}.${definition.name}`),
        childSObject: child.name,
        deprecatedAndHidden: false,
        field: definition.name,
        relationshipName: child.custom || definition.custom ? `${child.name.replace(/__c$/, '')}s__r` : child.labelPlural.replace(/\s/g, ''),
      });
    }
  }
  const recordTypeInfos = recordTypeList(store, object).map(({ id, record, master, isDefault }) => ({
    active: master || record?.row.data.IsActive === true,
    available: true,
    defaultRecordTypeMapping: isDefault,
    developerName: master ? 'Master' : record!.row.data.DeveloperName,
    master,
    name: master ? 'Master' : record!.row.data.Name,
    recordTypeId: id,
    urls: { layout: `/services/data/v${version}/sobjects/${object.name}/describe/layouts/${id}` },
  }));
  // Field-level security of fields created through the Tooling API: left out until granted, read-only with Read alone.
  const fields = object.fields.flatMap((definition) => {
    const access = store.fieldAccess(object, definition);
    if (access === 'none') return [];
    const described = fieldDescribe(definition);
    return [access === 'read' ? { ...described, createable: false, updateable: false } : described];
  });
  return { ...objectSummary(object, version), fields, childRelationships, recordTypeInfos };
}

/** The object's record types and Master last (as describe and describeLayout list them), with the integration user's default. */
function recordTypeList(store: SalesforceStore, object: ObjectDef): { id: string; record?: SfRecord; master: boolean; isDefault: boolean }[] {
  const defaultId = store.defaultRecordType(object);
  return [
    ...store.recordTypes(object).map((record) => ({ id: record.id, record, master: false, isDefault: record.id === defaultId })),
    { id: MASTER_RECORD_TYPE, master: true, isDefault: defaultId === undefined },
  ];
}

/** A page layout with its sections left empty: the emulator has no layouts, only their record type mappings. */
function emptyLayout(object: ObjectDef, index: number): Record<string, unknown> {
  return {
    buttonLayoutSection: null,
    detailLayoutSections: [],
    editLayoutSections: [],
    feedView: null,
    highlightsPanelLayoutSection: null,
    id: makeId('00h', object.keyPrefix.charCodeAt(0) * 1000 + index + 1),
    multirowEditLayoutSections: [],
    offlineLinks: [],
    quickActionList: { quickActionListItems: [] },
    relatedContent: null,
    relatedLists: [],
    saveOptions: [],
  };
}

/**
 * `GET /sobjects/{object}/describe/layouts/` (REST API Developer Guide, "sObject Layouts"; DescribeLayoutResult
 * of the SOAP API Developer Guide: `layouts`, `recordTypeMappings`, `recordTypeSelectorRequired`): every record
 * type's mapping, Master last, with `picklistsForRecordType`: each picklist field's values available in that
 * record type (`picklistName`, `picklistValues` as in describe). For an object with more than one record type
 * `layouts` is null ("A GET request for objects that have more than one record type defined returns null for
 * the layouts section"); the layouts themselves are served empty.
 */
export function describeLayouts(store: SalesforceStore, object: ObjectDef, version: string): Record<string, unknown> {
  const list = recordTypeList(store, object);
  const picklists = object.fields.filter((definition) => definition.type === 'picklist' || definition.type === 'multipicklist');
  const recordTypeMappings = list.map(({ id, record, master, isDefault }) => ({
    active: master || record?.row.data.IsActive === true,
    available: true,
    defaultRecordTypeMapping: isDefault,
    developerName: master ? 'Master' : record!.row.data.DeveloperName,
    layoutId: emptyLayout(object, 0).id,
    master,
    name: master ? 'Master' : record!.row.data.Name,
    picklistsForRecordType: picklists.map((definition) => ({
      picklistName: definition.name,
      picklistValues: store.picklistValuesFor(definition, master ? undefined : id).map((value) => ({ active: true, defaultValue: value === definition.defaultValue, label: value, validFor: null, value })),
    })),
    recordTypeId: id,
    urls: { layout: `/services/data/v${version}/sobjects/${object.name}/describe/layouts/${id}` },
  }));
  return {
    layouts: list.length > 1 ? null : [emptyLayout(object, 0)],
    recordTypeMappings,
    recordTypeSelectorRequired: [list.length > 2],
  };
}

/** `GET /sobjects/{object}/describe/layouts/{recordTypeId}`: the record type's layout (empty), or undefined for an unknown id. */
export function describeLayoutOf(store: SalesforceStore, object: ObjectDef, recordTypeId: string): Record<string, unknown> | undefined {
  const known = recordTypeList(store, object).some((each) => each.id === recordTypeId || each.id.slice(0, 15) === recordTypeId.slice(0, 15));
  return known ? emptyLayout(object, 0) : undefined;
}
