import type { FieldType, PresetVendor } from '../../../core/schema.js';

/**
 * What a vendor preset knows about one column of a recognised export. Everything is a hint the CSV
 * connector applies only where the user's settings (`source.objects.X`) say nothing.
 */
export interface PresetColumn {
  /** The vendor's label without the entity prefix (`Person - Email - Work` → `Email - Work`). */
  label?: string;
  /** FieldSchema.meaning (`email`, `firstname`, `owner`, ...). */
  meaning?: string;
  /**
   * A type the connector's inference cannot be trusted with: semantic text types (email, phone, url) and
   * `string` for ids and codes. Dates and numbers are left to inference, which reads the file's locale.
   */
  type?: FieldType;
  /** A reference to another vendor object (the vendor's name of it, e.g. `organization`). */
  reference?: string;
  /** The reference cell holds several ids separated by this (HubSpot's `Associated Company IDs`). */
  listSeparator?: string;
}

export interface PresetObject {
  vendor: PresetVendor;
  /** The vendor's own name of the object, singular (`organization`, `person`, `opportunity`). */
  object: string;
  /** The Ferry object name the preset proposes for the file (`organizations`), unless the user named it. */
  name: string;
  /** 0..1: how sure the detection is. Below DETECTION_THRESHOLD a preset is not used. */
  confidence: number;
  id?: string;
  modified?: string;
  created?: string;
  columns: Map<string, PresetColumn>;
  /** Rewrites an id as the vendor's canonical form (Salesforce 15 → 18 characters, Zoho without `zcrm_`). */
  normaliseId?: (value: string) => string;
}

/** What a detector sees of one file: its name, the header cells and a sample of rows. */
export interface PresetInput {
  fileName: string;
  header: string[];
  sample: string[][];
}

export interface VendorPreset {
  vendor: PresetVendor;
  detect(input: PresetInput): PresetObject | undefined;
}

/** A preset is used only at or above this confidence; a generic CSV scores far below it. */
export const DETECTION_THRESHOLD = 0.6;

/** The non-empty sampled values of one column. */
export function columnValues(input: PresetInput, column: string): string[] {
  const index = input.header.indexOf(column);
  if (index === -1) return [];
  return input.sample.map((row) => row[index]?.trim() ?? '').filter((value) => value !== '');
}

/** `Deal - Expected close date` → `dealexpectedclosedate`: compared without case, spaces or punctuation. */
export function squash(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}
