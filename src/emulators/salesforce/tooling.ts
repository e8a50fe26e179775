import type { KitResponse } from '../kit/index.js';
import { httpError } from './errors.js';
import { makeId } from './ids.js';
import type { CustomFieldSpec, ObjectDef } from './schema.js';
import type { SalesforceStore } from './store.js';

/**
 * The Tooling API's CustomField create (`POST /services/data/vNN.N/tooling/sobjects/CustomField`), as far as a
 * migration tool uses it: `{FullName: 'Object.Name__c', Metadata: {label, type, length, externalId, unique,
 * caseSensitive, required, description}}` (Tooling API Developer Guide "CustomField"; Metadata API Developer
 * Guide "CustomField" for the fields of Metadata and the full name). Activity custom fields
 * (`Activity.Name__c`) are added to Task and Event. The new field is hidden from describe until a
 * FieldPermissions record grants it (store.fieldAccess). Error codes and texts that Salesforce's docs do not
 * print are the emulator's choice: docs/connectors/salesforce-emulator.md marks them.
 */

/** Metadata types the emulator creates, -> its field types. */
const TYPES: Record<string, CustomFieldSpec['type']> = { Text: 'string', TextArea: 'textarea', LongTextArea: 'textarea', Email: 'email', Phone: 'phone', Url: 'url', Number: 'double', Checkbox: 'boolean', Date: 'date', DateTime: 'datetime' };
/** Objects that take no custom fields. */
const NO_CUSTOM_FIELDS = new Set(['Note', 'ContentNote', 'ContentDocumentLink', 'RecordType', 'PermissionSet', 'FieldPermissions', 'User']);
const ACTIVITIES = ['Task', 'Event'];
/** The "Insufficient Privileges" page's text, as the answer of a user without "Customize Application" (assumption: code and status). */
const INSUFFICIENT = 'Insufficient Privileges: You do not have the level of access necessary to perform the operation you requested. Please contact the owner of the record or your administrator if access is necessary.';

export function createCustomField(store: SalesforceStore, body: unknown): KitResponse {
  if (!store.permissions.customizeApplication) throw httpError(403, 'INSUFFICIENT_ACCESS', INSUFFICIENT);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw httpError(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of CustomField from the request body: expected a JSON object');
  const { FullName: fullName, Metadata: metadata } = body as { FullName?: unknown; Metadata?: Record<string, unknown> };
  if (typeof fullName !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*__c$/.test(fullName)) throw httpError(400, 'FIELD_INTEGRITY_EXCEPTION', `FullName: must be Object.Field__c, got ${JSON.stringify(fullName ?? null)}`, ['FullName']);
  if (!metadata || typeof metadata !== 'object') throw httpError(400, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [Metadata]', ['Metadata']);
  const [objectName, name] = fullName.split('.') as [string, string];
  let targets: ObjectDef[];
  if (objectName.toLowerCase() === 'activity') targets = ACTIVITIES.map((each) => store.schema.object(each)!);
  else {
    const target = store.schema.object(objectName);
    if (!target) throw httpError(400, 'FIELD_INTEGRITY_EXCEPTION', `Cannot create a custom field on ${objectName}: no such object`, ['FullName']);
    if (ACTIVITIES.includes(target.name)) throw httpError(400, 'FIELD_INTEGRITY_EXCEPTION', `Cannot create a custom field on ${target.name}: activity custom fields are created on Activity (Activity.${name})`, ['FullName']);
    if (NO_CUSTOM_FIELDS.has(target.name)) throw httpError(400, 'FIELD_INTEGRITY_EXCEPTION', `Cannot create a custom field on ${target.name}`, ['FullName']);
    targets = [target];
  }
  const developerName = name.replace(/__c$/, '');
  for (const target of targets) {
    if (target.byName.has(name.toLowerCase())) throw httpError(400, 'DUPLICATE_DEVELOPER_NAME', `There is already a field named ${developerName} on ${objectName.toLowerCase() === 'activity' ? 'Activity' : target.label}.`, []);
  }
  const label = metadata.label;
  if (typeof label !== 'string' || label.trim() === '') throw httpError(400, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [label]', ['label']);
  const type = TYPES[String(metadata.type)];
  if (!type) throw httpError(400, 'FIELD_INTEGRITY_EXCEPTION', `type: ${JSON.stringify(metadata.type ?? null)} is not a field type the emulator creates (${Object.keys(TYPES).join(', ')})`, ['type']);
  const length = metadata.length;
  if (metadata.type === 'Text' && (typeof length !== 'number' || !Number.isInteger(length) || length < 1 || length > 255)) throw httpError(400, 'FIELD_INTEGRITY_EXCEPTION', 'Length: a Text field needs a length from 1 to 255', ['length']);
  const spec: CustomFieldSpec = {
    name,
    label,
    type,
    ...(typeof length === 'number' ? { length } : {}),
    externalId: metadata.externalId === true,
    unique: metadata.unique === true,
    required: metadata.required === true,
  };
  for (const target of targets) store.schema.addCustomField(target.name, spec).grantRequired = true;
  store.toolingFields += 1;
  return { status: 201, body: { id: makeId('00N', store.toolingFields), success: true, errors: [], warnings: [], infos: [] } };
}
