/**
 * A connection's settings as the Connect form names them (src/connectors/specs.ts): a dotted name is a nested
 * key of the side's block in ferry.yaml (`oauth.clientId` is `oauth: { clientId }`), and a `formOnly` choice
 * (HubSpot's and Pipedrive's `auth`: a token or an OAuth app) is never written, but read back from which of
 * the settings it governs the block holds.
 */
import type { ConnectorSettingSpecEntry, ConnectorSpecEntry } from '../../connectors/specs.js';

type Settings = Record<string, unknown>;

/** The value at a setting's name (nested for a dotted name), or undefined. */
export function settingAt(settings: Settings | undefined, name: string): unknown {
  let value: unknown = settings;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Settings)[part];
  }
  return value;
}

/** Sets a setting (creating the nested blocks a dotted name needs). */
export function setSetting(settings: Settings, name: string, value: unknown): void {
  const parts = name.split('.');
  let block = settings;
  for (const part of parts.slice(0, -1)) {
    const inner = block[part];
    // A copy, so the block read from ferry.yaml (or a pending side) is not changed in place.
    block[part] = inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? { ...(inner as Settings) } : {};
    block = block[part] as Settings;
  }
  block[parts.at(-1)!] = value;
}

/** Removes a setting, and the nested blocks it leaves empty. */
export function deleteSetting(settings: Settings, name: string): void {
  const [head, ...rest] = name.split('.');
  if (rest.length === 0) {
    delete settings[head!];
    return;
  }
  const inner = settings[head!];
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return;
  const copy = { ...(inner as Settings) };
  deleteSetting(copy, rest.join('.'));
  if (Object.keys(copy).length === 0) delete settings[head!];
  else settings[head!] = copy;
}

/**
 * A form-only choice's value from the settings present (`has`): the last option whose governed settings are
 * there (the most specific: HubSpot's oauth block beside an accessToken reads as OAuth), else the first option.
 */
export function choiceFrom(spec: ConnectorSpecEntry, choice: ConnectorSettingSpecEntry, has: (name: string) => boolean): string | undefined {
  const options = choice.options ?? [];
  for (const option of [...options].reverse()) {
    if (spec.settings.some((setting) => setting.when?.setting === choice.name && setting.when.values.includes(option) && has(setting.name))) return option;
  }
  return options[0];
}

/** Whether a setting has a value in the block (an empty text is none). */
export function hasSetting(settings: Settings | undefined, name: string): boolean {
  const value = settingAt(settings, name);
  return value !== undefined && value !== null && value !== '';
}
