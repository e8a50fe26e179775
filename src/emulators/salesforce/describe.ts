import type { FieldDef, FieldType, ObjectDef } from './schema.js';
import type { SalesforceStore } from './store.js';

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
  const recordTypes = store.records(store.requireObject('RecordType')).filter((record) => record.row.data.SobjectType === object.name);
  const recordTypeInfos = [
    ...recordTypes.map((record, index) => ({ active: record.row.data.IsActive === true, available: true, defaultRecordTypeMapping: index === 0, developerName: record.row.data.DeveloperName, master: false, name: record.row.data.Name, recordTypeId: record.id, urls: { layout: `/services/data/v${version}/sobjects/${object.name}/describe/layouts/${record.id}` } })),
    { active: true, available: true, defaultRecordTypeMapping: recordTypes.length === 0, developerName: 'Master', master: true, name: 'Master', recordTypeId: MASTER_RECORD_TYPE, urls: { layout: `/services/data/v${version}/sobjects/${object.name}/describe/layouts/${MASTER_RECORD_TYPE}` } },
  ];
  // Field-level security of fields created through the Tooling API: left out until granted, read-only with Read alone.
  const fields = object.fields.flatMap((definition) => {
    const access = store.fieldAccess(object, definition);
    if (access === 'none') return [];
    const described = fieldDescribe(definition);
    return [access === 'read' ? { ...described, createable: false, updateable: false } : described];
  });
  return { ...objectSummary(object, version), fields, childRelationships, recordTypeInfos };
}
