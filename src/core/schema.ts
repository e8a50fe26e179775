/**
 * The vendor-neutral description of a CRM's data: what `Connector.describe()` returns.
 *
 * Value conventions (every connector converts to and from these):
 * - `datetime`: ISO-8601 UTC with milliseconds, `2024-03-01T10:00:00.000Z`.
 * - `date`: `YYYY-MM-DD`, never shifted by a time zone.
 * - `number` / `integer`: JS numbers; `boolean`: true/false.
 * - `reference`: the referenced record's id as a string; `reference-list`: sorted array of id strings.
 * - `enum`: the option's value (not its label).
 * - empty is `null` (never `''` for non-text types).
 */
export const FIELD_TYPES = [
  'string',
  'text',
  'email',
  'phone',
  'url',
  'number',
  'integer',
  'boolean',
  'date',
  'datetime',
  'enum',
  'reference',
  'reference-list',
  'json',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

export type FieldValue = string | number | boolean | null | string[];

export interface PicklistOption {
  value: string;
  label?: string;
}

export interface FieldSchema {
  name: string;
  label?: string;
  type: FieldType;
  required?: boolean;
  unique?: boolean;
  readOnly?: boolean;
  maxLength?: number;
  options?: PicklistOption[];
  /**
   * For a field with `options` on an object with `variants`: the option values each variant makes available,
   * by variant id, when that is fewer than `options` (a variant not listed offers every option). A value outside
   * its record's variant list is refused by the target even though it is one of `options`.
   */
  variantOptions?: Record<string, string[]>;
  /** For `reference` and `reference-list` fields: the object referred to. */
  reference?: { object: string };
  /**
   * What the field means whatever it is called, when the source knows it (set by the CSV connector's vendor
   * export presets, e.g. `email`, `phone`, `firstname`, `fullname`, `owner`, `status`, `stage`, `amount`,
   * `currency`, `closedate`, `title`, `body`, `timestamp`). `ferry map` uses it before name similarity.
   */
  meaning?: string;
}

/** The order of a numeric date: `31.12.2024` day first (`dmy`), `12/31/2024` month first (`mdy`), `2024/12/31` (`ymd`). */
export type DateOrder = 'dmy' | 'mdy' | 'ymd';

/** The CRM whose export a CSV source was recognised as (src/connectors/csv/presets). */
export type PresetVendor = 'pipedrive' | 'hubspot' | 'salesforce' | 'zoho';

export interface ObjectSchema {
  name: string;
  label?: string;
  fields: FieldSchema[];
  /** The field that holds the last-modified instant, if the object has one. */
  modifiedField?: string;
  /**
   * A field named like a last-modified field but not taken as one because its values do not read as
   * date-times (`17.03.2024 14:05` with no locale set): the field, a value that did not read, and the
   * numeric date orders that would read every sampled value (none when no order does). Set by the CSV
   * connector, for the NO_MODIFIED_FIELD warning (src/project/source-warnings.ts).
   */
  unreadModifiedField?: { field: string; sample: string; readableAs: DateOrder[] };
  createdField?: string;
  /** Field the connector stamps with the source record's id on create, when supported. */
  externalIdField?: string;
  /** Record count when cheap to get. */
  count?: number;
  /**
   * Groups of fields of which a create needs at least one each (HubSpot contacts: one of email, firstname,
   * lastname). Fields required on their own are `FieldSchema.required`.
   */
  requiredAnyOf?: string[][];
  /**
   * The object's records are link rows of a many-to-many relation (a SQL join table exposed as an object): each
   * links the records its two `reference` fields name, and those two fields together are what identifies it.
   * `ferry map` pairs such an object only with a target object that refers to the target objects of both sides
   * (a deal's contacts into Salesforce's OpportunityContactRole), never by its name.
   */
  junction?: { fields: [string, string] };
  /** Set when the object is a recognised vendor export: the vendor and its own name of the object (`organization`). */
  preset?: { vendor: PresetVendor; object: string };
  /** Set when some picklists' values depend on the record's variant (FieldSchema.variantOptions). */
  variants?: ObjectVariants;
}

/** One kind of record of an object whose picklists may offer fewer values (a Salesforce record type). */
export interface RecordVariant {
  id: string;
  label?: string;
}

/**
 * The variants of an object's records: which field holds a record's variant, what the vendor calls one (for
 * messages), and the variant a create without that field gets.
 */
export interface ObjectVariants {
  field: string;
  /** `record type`. */
  kind: string;
  default?: string;
  list: RecordVariant[];
}

export interface SchemaDescription {
  objects: ObjectSchema[];
}

export function findObject(schema: SchemaDescription, name: string): ObjectSchema | undefined {
  return schema.objects.find((object) => object.name === name);
}

export function findField(object: ObjectSchema, name: string): FieldSchema | undefined {
  return object.fields.find((field) => field.name === name);
}

/** The label of a variant for messages: `"Renewal" (012...)`, or the id alone. */
export function variantLabel(object: ObjectSchema, id: string): string {
  const label = object.variants?.list.find((variant) => variant.id === id)?.label;
  return label ? `${JSON.stringify(label)} (${id})` : id;
}

/**
 * For each value of `values` that some variants of the object make available in `field` and others do not:
 * the value and the variants that lack it. Values every variant offers (or none does) are left out.
 */
export function valuesLimitedByVariant(object: ObjectSchema, field: FieldSchema, values: string[]): { value: string; missingIn: string[]; availableIn: string[] }[] {
  const byVariant = field.variantOptions;
  if (!object.variants || !byVariant) return [];
  const all = new Set((field.options ?? []).map((option) => option.value));
  const result: { value: string; missingIn: string[]; availableIn: string[] }[] = [];
  for (const value of new Set(values)) {
    const missingIn: string[] = [];
    const availableIn: string[] = [];
    for (const variant of object.variants.list) {
      const allowed = byVariant[variant.id];
      if (allowed ? allowed.includes(value) : all.has(value)) availableIn.push(variant.id);
      else missingIn.push(variant.id);
    }
    if (missingIn.length > 0 && availableIn.length > 0) result.push({ value, missingIn, availableIn });
  }
  return result;
}
