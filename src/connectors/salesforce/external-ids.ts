import type { ExternalIdPlan } from '../../core/connector.js';
import { FerryError, type ErrorCode } from '../../core/errors.js';
import type { ApiClient } from '../kit/index.js';
import type { SalesforceSettings } from './config.js';
import type { SalesforceModel } from './model.js';

/**
 * Creating the external-id field (`Ferry_Source_Id__c`) where the user allows it (`createExternalIdFields`,
 * or `ferry external-ids`), in two steps (docs/connectors/salesforce.md, "External-id field"):
 *
 * 1. Tooling API `POST /tooling/sobjects/CustomField` with `FullName: 'Account.Ferry_Source_Id__c'` and
 *    `Metadata` `{label, type: 'Text', length: 80, externalId: true, unique: true, caseSensitive: false}`
 *    (Tooling API Developer Guide "CustomField"; Metadata API Developer Guide "CustomField" for the
 *    metadata's fields and the `Object.Field__c` full name). Task and Event share their custom fields, which
 *    are defined on `Activity`. A field that already exists (an earlier attempt whose answer was lost)
 *    answers `DUPLICATE_DEVELOPER_NAME`, which counts as done: the request is safe to send again.
 * 2. Field-level security: a new field is visible to no one until granted, so a `FieldPermissions` record
 *    (`ParentId` = the `permissionSet`'s id, `SobjectType`, `Field: 'Account.Ferry_Source_Id__c'`,
 *    `PermissionsRead`, `PermissionsEdit`) is created through the REST sObject API (Object Reference
 *    "FieldPermissions": records exist only for permission sets; Edit needs Read), or updated when one
 *    without Edit exists.
 *
 * Then the object is described again, so the run upserts on the field.
 */

/** Objects that cannot have custom fields: classic notes, Lightning notes and their links, record types. */
const NO_CUSTOM_FIELDS = new Set(['Note', 'ContentNote', 'ContentDocumentLink', 'RecordType']);
/** Task and Event custom fields are activity custom fields, defined on Activity. */
const ACTIVITIES = ['Task', 'Event'];

interface SfError {
  errorCode?: string;
  message?: string;
}

type Row = Record<string, unknown> & { Id: string };

export interface ExternalIdDeps {
  settings: SalesforceSettings;
  model: SalesforceModel;
  client: () => Promise<ApiClient>;
  path: (rest: string) => string;
  query: (soql: string) => Promise<Row[]>;
  soqlString: (value: string) => string;
  /** `target` / `source`: the prefix of setting names in messages. */
  configPath?: string;
}

function errorsOf(body: unknown): SfError[] {
  return Array.isArray(body) ? body.filter((item): item is SfError => typeof item === 'object' && item !== null) : [];
}

function errorText(errors: SfError[]): string {
  return errors.map((error) => `${error.errorCode ?? 'ERROR'}: ${error.message ?? ''}`).join('; ') || 'no reason given';
}

export class SalesforceExternalIds {
  constructor(private readonly deps: ExternalIdDeps) {}

  private get prefix(): string {
    return this.deps.configPath ? `${this.deps.configPath}.` : '';
  }

  /** `Account.Ferry_Source_Id__c`, or `Activity.Ferry_Source_Id__c` for Task and Event. */
  fullName(object: string): string {
    return `${ACTIVITIES.includes(object) ? 'Activity' : object}.${this.deps.settings.externalIdField}`;
  }

  async plan(objectName: string): Promise<ExternalIdPlan> {
    const model = await this.deps.model.object(objectName);
    const field = this.deps.settings.externalIdField;
    const object = model.name;
    const automatic = this.deps.settings.createExternalIdFields && !this.deps.settings.readOnly;
    if (model.externalId) return { object, field: model.externalId, action: 'exists', automatic, detail: `${object}.${model.externalId} is an External ID field: creates are upserts on it` };
    if (model.externalIdUnmarked) {
      return { object, field: model.externalIdUnmarked, action: 'conflict', automatic, detail: `${object}.${model.externalIdUnmarked} exists but is not marked External ID, so Ferry cannot upsert on it and will not change it: an admin marks it External ID and Unique (Setup > Object Manager > ${object} > Fields & Relationships), or ${this.prefix}externalIdField names another field` };
    }
    if (NO_CUSTOM_FIELDS.has(object) || !model.createable) {
      return { object, field, action: 'unsupported', automatic, detail: `${object} cannot have custom fields: its creates are sent once, without an external id (a lost answer stops the run and the engine lists the records to check)` };
    }
    const permissionSet = this.deps.settings.permissionSet;
    const fullName = this.fullName(object);
    const grants = (ACTIVITIES.includes(object) ? ACTIVITIES : [object]).map((each) => `${each}.${field}`).join(' and ');
    return {
      object,
      field,
      action: 'create',
      automatic,
      detail: `would create ${fullName} (Text(80), External ID, Unique, case-insensitive) with the Tooling API${object !== fullName.split('.')[0] ? ` (the activity field Task and Event share)` : ''}, then grant Read and Edit on ${grants} to ${permissionSet ? `permission set ${permissionSet}` : `the permission set named in ${this.prefix}permissionSet (not set yet: creating needs it)`}`,
    };
  }

  /**
   * The external-id field of the object, created (with its field-level security) when it is missing and
   * `create` (the user's explicit request) or `createExternalIdFields` allows it; undefined when the object
   * has none and none may or can be created.
   */
  async ensure(objectName: string, create: boolean): Promise<string | undefined> {
    const plan = await this.plan(objectName);
    if (plan.action === 'exists') return plan.field;
    if (plan.action === 'unsupported') return undefined;
    if (!create && !this.deps.settings.createExternalIdFields) return undefined;
    if (this.deps.settings.readOnly) return undefined;
    const object = plan.object;
    const field = this.deps.settings.externalIdField;
    if (plan.action === 'conflict') throw new FerryError('SCHEMA_MISMATCH', `Salesforce ${plan.detail}`, { object, field: plan.field });
    const permissionSet = this.deps.settings.permissionSet;
    if (!permissionSet) {
      throw new FerryError('CONFIG_INVALID', `${this.prefix}permissionSet: is needed to create ${object}.${field}: the API name of the integration user's permission set, which Ferry grants Read and Edit on the field (a new field is visible to no one until granted)`, { object, field, path: `${this.prefix}permissionSet` });
    }
    // The permission set first: a wrong name stops before anything is created.
    const parentId = await this.permissionSetId(permissionSet, object, field);
    await this.createField(object, this.fullName(object));
    for (const sobject of ACTIVITIES.includes(object) ? ACTIVITIES : [object]) await this.grant(parentId, permissionSet, sobject, field);
    // Task and Event share the field: the other's cached describe is stale too.
    if (ACTIVITIES.includes(object)) for (const sibling of ACTIVITIES) if (sibling !== object) this.deps.model.forget(sibling);
    const fresh = await this.deps.model.object(object, true);
    if (!fresh.externalId) {
      throw new FerryError('SCHEMA_MISMATCH', `Salesforce ${object}: ${this.fullName(object)} was created and granted to permission set ${permissionSet}, but describe does not show it to the integration user: assign permission set ${permissionSet} to the integration user (or name the one it has in ${this.prefix}permissionSet) and run again`, { object, field });
    }
    return fresh.externalId;
  }

  private refusal(what: string, object: string, field: string, status: number, errors: SfError[]): FerryError {
    const codes = errors.map((error) => error.errorCode ?? '');
    // The answers are taken as they come (to read Salesforce's refusal), so the API limits are told apart here:
    // a 403 REQUEST_LIMIT_EXCEEDED is the org's allocation or its concurrent limit, never a missing permission.
    if (codes.includes('REQUEST_LIMIT_EXCEEDED')) {
      return new FerryError('RATE_LIMITED', `Salesforce refused to ${what} for ${object}.${field}: ${errorText(errors)}. The run stops here and is resumable: run the same command again when the org's API limits have room.`, { object, field, status, resumable: true });
    }
    const permission = status === 401 || status === 403 || codes.some((code) => /INSUFFICIENT_ACCESS|NOT_AUTHORIZED|INVALID_ACCESS/.test(code));
    const code: ErrorCode = permission ? 'AUTH_FAILED' : 'SCHEMA_MISMATCH';
    const hint = permission
      ? `The integration user needs "Customize Application" (with "Modify Metadata Through Metadata API Functions" or "Modify All Data") to create fields, and "View Setup and Configuration" with "Manage Profiles and Permission Sets" to grant them, in its permission set; or an admin adds ${object}.${field} by hand (Text(80), External ID, Unique, case-insensitive, Edit access for the integration user: docs/connectors/salesforce.md, Setup step 4) and runs again.`
      : `An admin can add ${object}.${field} by hand instead (Text(80), External ID, Unique, case-insensitive, Edit access for the integration user: docs/connectors/salesforce.md, Setup step 4).`;
    return new FerryError(code, `Salesforce refused to ${what} for ${object}.${field} (${status} ${errorText(errors)}). ${hint}`, { object, field, status, errorCode: codes[0] ?? '' });
  }

  private async permissionSetId(name: string, object: string, field: string): Promise<string> {
    const rows = await this.deps.query(`SELECT Id, Name FROM PermissionSet WHERE Name = ${this.deps.soqlString(name)}`);
    if (rows.length === 0) {
      throw new FerryError('CONFIG_INVALID', `${this.prefix}permissionSet: Salesforce has no permission set with the API name "${name}" (needed to grant access to ${object}.${field}); Setup > Permission Sets shows the API names`, { object, field, path: `${this.prefix}permissionSet` });
    }
    return rows[0]!.Id;
  }

  /** Tooling API create; a field that exists already (a resend after a lost answer) is done. */
  private async createField(object: string, fullName: string): Promise<void> {
    const client = await this.deps.client();
    const field = this.deps.settings.externalIdField;
    const answer = await client.request<unknown>('POST', this.deps.path('/tooling/sobjects/CustomField'), {
      body: {
        FullName: fullName,
        Metadata: {
          label: field.replace(/__c$/, '').replace(/_/g, ' '),
          description: 'Id of the source record this record was migrated from (set by Ferry; used to find records again after an interrupted run).',
          type: 'Text',
          length: 80,
          externalId: true,
          unique: true,
          caseSensitive: false,
          required: false,
        },
      },
      accept: [400, 403, 404],
    });
    if (answer.status >= 200 && answer.status < 300) return;
    const errors = errorsOf(answer.body);
    if (errors.some((error) => error.errorCode === 'DUPLICATE_DEVELOPER_NAME' || /already a field named/i.test(error.message ?? ''))) return;
    throw this.refusal(`create the field ${fullName} (Tooling API)`, object, field, answer.status, errors);
  }

  /** Read and Edit on `sobject.field` for the permission set: created, or updated when a record without Edit exists. */
  private async grant(parentId: string, permissionSet: string, sobject: string, field: string): Promise<void> {
    const client = await this.deps.client();
    const name = `${sobject}.${field}`;
    // Object Reference "FieldPermissions": SobjectType and Field must both be in the SELECT, and the field
    // given as SobjectType.Field with its object in the filter.
    const existing = async () => (await this.deps.query(`SELECT Id, SobjectType, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE ParentId = ${this.deps.soqlString(parentId)} AND SobjectType = ${this.deps.soqlString(sobject)} AND Field = ${this.deps.soqlString(name)}`))[0];
    const what = `grant Read and Edit to permission set ${permissionSet}`;
    let row = await existing();
    if (!row) {
      const answer = await client.request<unknown>('POST', this.deps.path('/sobjects/FieldPermissions'), { body: { ParentId: parentId, SobjectType: sobject, Field: name, PermissionsRead: true, PermissionsEdit: true }, accept: [400, 403, 404] });
      if (answer.status >= 200 && answer.status < 300) return;
      const errors = errorsOf(answer.body);
      // Sent again after a lost answer: the first one made it.
      row = errors.some((error) => error.errorCode === 'DUPLICATE_VALUE') ? await existing() : undefined;
      if (!row) throw this.refusal(what, sobject, field, answer.status, errors);
    }
    if (row.PermissionsRead === true && row.PermissionsEdit === true) return;
    const answer = await client.request<unknown>('PATCH', this.deps.path(`/sobjects/FieldPermissions/${row.Id}`), { body: { PermissionsRead: true, PermissionsEdit: true }, accept: [400, 403, 404] });
    if (answer.status >= 200 && answer.status < 300) return;
    throw this.refusal(what, sobject, field, answer.status, errorsOf(answer.body));
  }
}
