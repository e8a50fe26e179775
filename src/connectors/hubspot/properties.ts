import { isHttpError } from '../../core/http.js';
import type { ApiClient } from '../kit/index.js';
import type { FieldValue } from '../../core/schema.js';
import { parseDate, parseInstant } from '../../core/time.js';
import type { ObjectModel } from './model.js';
import type { HubspotPage } from './transport.js';
import type { HubspotProperty } from './values.js';

/**
 * `createMissingProperties: true`: before a write, properties the records name but the object lacks are
 * created, and enumeration values that are not among a property's options are added to it. Shapes, with
 * their sources:
 *
 * - Create a property: `POST /crm/v3/properties/{objectType}` with `name`, `label`, `type`, `fieldType`,
 *   `groupName` (required) and optional `description`, `options`; `type` and `fieldType` must be a valid
 *   pair: string/text, number/number, date/date, datetime/date, bool/booleancheckbox.
 *   https://developers.hubspot.com/docs/api/crm/properties ("Property type and fieldType values"),
 *   https://developers.hubspot.com/docs/api-reference/latest/crm/properties/create-property.md
 * - Property groups: `GET /crm/v3/properties/{objectType}/groups`, create with
 *   `POST /crm/v3/properties/{objectType}/groups` `{ name, label, displayOrder }` (name and label required;
 *   displayOrder -1 = after the positive ones). "If your integration creates custom properties, a custom
 *   property group will make it easy to identify that data."
 *   https://developers.hubspot.com/docs/api-reference/crm-properties-v3/groups/post-crm-v3-properties-objectType-groups
 * - New enumeration options: `PATCH /crm/v3/properties/{objectType}/{propertyName}` with `options`, which
 *   REPLACES the list: send every option to keep, plus the new ones ("you must include all of the options
 *   that you want to use with the property; there is no way to append or remove a single option").
 *   https://developers.hubspot.com/docs/api-reference/crm-properties-v3/core/patch-crm-v3-properties-objectType-propertyName,
 *   https://legacydocs.hubspot.com/docs/methods/contacts/v2/update_contact_property
 */

/** The property group Ferry creates its properties in. */
export const FERRY_GROUP = { name: 'ferry', label: 'Ferry', displayOrder: -1 };

const PROPERTY_NAME = /^[a-z][a-z0-9_]*$/;

type Inferred = 'string' | 'number' | 'bool' | 'date' | 'datetime';

interface PropertySpec {
  type: string;
  fieldType: string;
  options?: { label: string; value: string; displayOrder: number; hidden: boolean }[];
}

const SPECS: Record<Inferred, PropertySpec> = {
  string: { type: 'string', fieldType: 'text' },
  number: { type: 'number', fieldType: 'number' },
  date: { type: 'date', fieldType: 'date' },
  datetime: { type: 'datetime', fieldType: 'date' },
  bool: {
    type: 'bool',
    fieldType: 'booleancheckbox',
    options: [
      { label: 'Yes', value: 'true', displayOrder: 0, hidden: false },
      { label: 'No', value: 'false', displayOrder: 1, hidden: false },
    ],
  },
};

/** The HubSpot type a value asks for: number, boolean, `YYYY-MM-DD`, ISO date-time, otherwise text. */
export function inferType(value: FieldValue): Inferred | undefined {
  if (value === null || value === '') return undefined;
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'string';
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && parseDate(value)) return 'date';
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value) && parseInstant(value)) return 'datetime';
  return 'string';
}

/** One type for all values a write gives a new property: they agree, a date among date-times is a date-time, else text. */
export function inferPropertySpec(values: FieldValue[]): PropertySpec {
  const types = new Set(values.map(inferType).filter((type): type is Inferred => type !== undefined));
  if (types.size === 1) return SPECS[[...types][0]!];
  if (types.size === 2 && types.has('date') && types.has('datetime')) return SPECS.datetime;
  return SPECS.string;
}

/** `favourite_colour` -> `Favourite colour`. */
export function labelFor(name: string): string {
  const words = name.replace(/_+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Deal stages and pipelines are options of the pipelines API, not of the properties API. */
function optionsFromPipelines(object: ObjectModel, name: string): boolean {
  return object.name === 'deals' && (name === 'dealstage' || name === 'pipeline');
}

export class HubspotPropertyManager {
  private readonly groups = new Map<string, Promise<void>>();
  /** Why a property could not be created (`object.property` -> HubSpot's message), for the record's error. */
  readonly failures = new Map<string, string>();

  constructor(
    private readonly client: ApiClient,
    private readonly externalIdProperty: string,
  ) {}

  /**
   * Creates the properties and enumeration options `records` need on `object`. Returns true when the
   * object's schema changed (the caller reloads its model). Properties HubSpot refuses to create stay
   * missing: the write then fails as UNKNOWN_FIELD with HubSpot's reason.
   */
  async ensure(object: ObjectModel, records: Record<string, FieldValue>[]): Promise<boolean> {
    const missing = new Map<string, FieldValue[]>();
    const options = new Map<string, Set<string>>();
    for (const fields of records) {
      for (const [name, value] of Object.entries(fields)) {
        if (object.associations.has(name)) continue;
        const field = object.properties.get(name);
        if (!field) {
          if (name === this.externalIdProperty || !PROPERTY_NAME.test(name)) continue;
          missing.set(name, [...(missing.get(name) ?? []), value]);
          continue;
        }
        if (field.type !== 'enum' || field.readOnly || optionsFromPipelines(object, name)) continue;
        const known = new Set((field.options ?? []).map((option) => option.value));
        for (const item of Array.isArray(value) ? value : [value]) {
          if (item === null || item === '') continue;
          const text = String(item);
          if (known.has(text)) continue;
          const wanted = options.get(name) ?? new Set<string>();
          wanted.add(text);
          options.set(name, wanted);
        }
      }
    }
    let changed = false;
    if (missing.size > 0) await this.ensureGroup(object.type);
    for (const [name, values] of missing) {
      if (await this.createProperty(object, name, values)) changed = true;
    }
    for (const [name, values] of options) {
      if (await this.addOptions(object, name, [...values])) changed = true;
    }
    return changed;
  }

  private ensureGroup(objectType: string): Promise<void> {
    let pending = this.groups.get(objectType);
    if (!pending) {
      pending = (async () => {
        const groups = await this.client.get<HubspotPage<{ name: string }>>(`/crm/v3/properties/${objectType}/groups`);
        if ((groups.body.results ?? []).some((group) => group.name === FERRY_GROUP.name)) return;
        // 409: created meanwhile (another run, or a lost answer retried): fine.
        await this.client.post(`/crm/v3/properties/${objectType}/groups`, FERRY_GROUP, { accept: [409] });
      })();
      this.groups.set(objectType, pending);
      pending.catch(() => this.groups.delete(objectType));
    }
    return pending;
  }

  private async createProperty(object: ObjectModel, name: string, values: FieldValue[]): Promise<boolean> {
    const spec = inferPropertySpec(values);
    try {
      await this.client.post(
        `/crm/v3/properties/${object.type}`,
        {
          name,
          label: labelFor(name),
          description: 'Created by Ferry for migrated data.',
          groupName: FERRY_GROUP.name,
          ...spec,
        },
        { accept: [409] },
      );
      // 201, or 409 when it exists already (created meanwhile): either way the model is reloaded.
      return true;
    } catch (error) {
      if (isHttpError(error) && error.status >= 400 && error.status < 500) {
        const body = error.body as { message?: string } | undefined;
        this.failures.set(`${object.name}.${name}`, body?.message ?? error.message);
        return false;
      }
      throw error;
    }
  }

  private async addOptions(object: ObjectModel, name: string, values: string[]): Promise<boolean> {
    // The options are read fresh (hidden ones included): the PATCH replaces the whole list.
    const current = await this.client.get<HubspotProperty & { modificationMetadata?: { readOnlyOptions?: boolean } }>(`/crm/v3/properties/${object.type}/${encodeURIComponent(name)}`);
    if (current.body.modificationMetadata?.readOnlyOptions || current.body.externalOptions) return false;
    const existing = current.body.options ?? [];
    const known = new Set(existing.map((option) => option.value));
    const added = values.filter((value) => !known.has(value));
    if (added.length === 0) return true;
    const next = [
      ...existing.map((option, index) => ({ label: option.label ?? option.value, value: option.value, displayOrder: option.displayOrder ?? index, hidden: option.hidden === true })),
      ...added.map((value, index) => ({ label: value, value, displayOrder: existing.length + index, hidden: false })),
    ];
    try {
      await this.client.patch(`/crm/v3/properties/${object.type}/${encodeURIComponent(name)}`, { options: next });
      return true;
    } catch (error) {
      if (isHttpError(error) && error.status >= 400 && error.status < 500) {
        const body = error.body as { message?: string } | undefined;
        this.failures.set(`${object.name}.${name}`, body?.message ?? error.message);
        return false;
      }
      throw error;
    }
  }
}
