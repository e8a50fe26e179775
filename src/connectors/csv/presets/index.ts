import type { FieldType, PresetVendor } from '../../../core/schema.js';
import type { CsvObjectConfig } from '../config.js';
import { hubspotPreset } from './hubspot.js';
import { pipedrivePreset } from './pipedrive.js';
import { salesforcePreset } from './salesforce.js';
import { DETECTION_THRESHOLD, type PresetInput, type PresetObject, type VendorPreset } from './types.js';
import { zohoPreset } from './zoho.js';

export { salesforceId18 } from './salesforce.js';
export { zohoId } from './zoho.js';
export { DETECTION_THRESHOLD, type PresetColumn, type PresetInput, type PresetObject } from './types.js';

/**
 * Vendor export presets: recognise a CSV file as the export of a CRM people leave (Pipedrive, HubSpot,
 * Salesforce, Zoho CRM) from its name, header and first rows, and say what the connector cannot infer: the
 * object's name, its id, modified and created columns, references, the types of e-mail/phone/url columns,
 * labels and meanings. The user's `source.objects.X` settings always win. See docs/connectors/csv.md.
 */

export const PRESETS: readonly VendorPreset[] = [pipedrivePreset, hubspotPreset, salesforcePreset, zohoPreset];

/** The most confident preset that fires for the file, or undefined (a generic CSV). */
export function detectPreset(input: PresetInput): PresetObject | undefined {
  let best: PresetObject | undefined;
  for (const preset of PRESETS) {
    const found = preset.detect(input);
    if (found && found.confidence >= DETECTION_THRESHOLD && (!best || found.confidence > best.confidence)) best = found;
  }
  return best;
}

/** What the CSV connector's describe() adds to a preset object: the vendor object and per-column labels and meanings. */
export interface PresetHints {
  preset: { vendor: PresetVendor; object: string };
  columns: Map<string, { label?: string; meaning?: string }>;
  /** Applied to the id column and to every reference column of the object. */
  normaliseId?: (value: string) => string;
  /**
   * The export's modified and created columns. The connector takes them like detected ones: only when their
   * sampled values read as date-times in the file's style (a `31.12.2024 14:05` without a locale is none).
   */
  modified?: string;
  created?: string;
}

export interface PresetPlan<T> {
  /** The files by object name, renamed where a preset names an object the user did not configure. */
  files: Map<string, T>;
  /** Settings per object: the user's, completed by the preset's where the user said nothing. */
  settings: Map<string, CsvObjectConfig>;
  hints: Map<string, PresetHints>;
}

/**
 * Detects the preset of every file and merges its settings under the user's. `files` maps object names to
 * what the connector read of each file (`header` cells and `sample` rows). An object the user configured
 * keeps its name; another one is renamed to the preset's name (`organizations` for a Pipedrive
 * organizations export called `export-2024-03-01.csv`) unless that name is taken. References are kept only
 * where the referenced vendor object is one of the folder's objects.
 */
export function applyPresets<T extends { file: string; header: { cells: string[] }; sample: string[][] }>(
  files: Map<string, T>,
  configured: Record<string, CsvObjectConfig>,
): PresetPlan<T> {
  const detected = new Map<string, PresetObject>();
  for (const [name, info] of files) {
    const preset = detectPreset({ fileName: info.file.split(/[\\/]/).pop() ?? info.file, header: info.header.cells.map((cell) => cell.trim()), sample: info.sample });
    if (preset) detected.set(name, preset);
  }

  // Names: the preset's unless the user configured the object or the name is taken.
  const renamed = new Map<string, T>();
  const nameOf = new Map<string, string>();
  const taken = new Set<string>([...files.keys()].filter((name) => !detected.has(name) || configured[name]));
  for (const name of files.keys()) {
    const preset = detected.get(name);
    let final = name;
    if (preset && !configured[name] && preset.name !== name && !taken.has(preset.name) && !files.has(preset.name)) final = preset.name;
    taken.add(final);
    nameOf.set(name, final);
  }
  for (const [name, info] of files) renamed.set(nameOf.get(name)!, info);

  // Vendor object -> Ferry object name (the first file of it).
  const byVendorObject = new Map<string, string>();
  for (const [name, preset] of detected) {
    const key = `${preset.vendor}\u0000${preset.object}`;
    if (!byVendorObject.has(key)) byVendorObject.set(key, nameOf.get(name)!);
  }

  const settings = new Map<string, CsvObjectConfig>();
  const hints = new Map<string, PresetHints>();
  for (const [name, preset] of detected) {
    const final = nameOf.get(name)!;
    const info = files.get(name)!;
    const user = configured[name];
    const header = info.header.cells.map((cell) => cell.trim());
    const references: NonNullable<CsvObjectConfig['references']> = {};
    const fields: Record<string, { type?: FieldType }> = {};
    const columnHints = new Map<string, { label?: string; meaning?: string }>();
    for (const [column, hint] of preset.columns) {
      if (!header.includes(column)) continue;
      if (hint.label !== undefined || hint.meaning !== undefined) {
        columnHints.set(column, { ...(hint.label !== undefined ? { label: hint.label } : {}), ...(hint.meaning !== undefined ? { meaning: hint.meaning } : {}) });
      }
      if (hint.reference) {
        const target = byVendorObject.get(`${preset.vendor}\u0000${hint.reference}`);
        // (A reference to the object itself, a parent account, is kept as well.)
        if (target) {
          references[column] = hint.listSeparator ? { object: target, listSeparator: hint.listSeparator } : target;
          continue;
        }
      }
      if (hint.type) fields[column] = { type: hint.type };
    }
    const userId = user?.id !== undefined && (user.id !== 'id' || header.includes('id')) ? user.id : undefined;
    const merged: CsvObjectConfig = {
      ...(user ?? {}),
      id: userId ?? preset.id ?? user?.id ?? 'id',
    };
    // User settings win column by column: a reference or type they set replaces the preset's.
    const userReferences = user?.references ?? {};
    const userFields = user?.fields ?? {};
    for (const column of Object.keys(userReferences)) {
      delete references[column];
      if (!userFields[column]) delete fields[column];
    }
    for (const column of Object.keys(userFields)) delete references[column];
    const allReferences = { ...references, ...userReferences };
    if (Object.keys(allReferences).length > 0) merged.references = allReferences;
    const allFields = { ...fields, ...userFields };
    if (Object.keys(allFields).length > 0) merged.fields = allFields;
    settings.set(final, merged);
    hints.set(final, {
      preset: { vendor: preset.vendor, object: preset.object },
      columns: columnHints,
      ...(preset.normaliseId ? { normaliseId: preset.normaliseId } : {}),
      ...(preset.modified !== undefined && header.includes(preset.modified) ? { modified: preset.modified } : {}),
      ...(preset.created !== undefined && header.includes(preset.created) ? { created: preset.created } : {}),
    });
  }
  for (const [name] of files) {
    const final = nameOf.get(name)!;
    if (!settings.has(final) && configured[name]) settings.set(final, configured[name]);
  }
  return { files: renamed, settings, hints };
}
