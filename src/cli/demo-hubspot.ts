import type { Connector } from '../core/connector.js';
import type { HubspotStore } from '../emulators/hubspot/store.js';
import { generateDemoTarget, normalisedEmail, Random, type SampleRow } from '../sample/index.js';

/**
 * `ferry demo --target hubspot`: the "new CRM" is HubSpot, played by the HubSpot emulator started in-process
 * (src/emulators/hubspot). This file sets the scene there: an account already in use, with owners whose
 * e-mails are the legacy CRM's owners', some of the same companies (by domain) and contacts (by e-mail), plus
 * records of its own; and, later, edits "people" make in HubSpot.
 */

/** The variable the demo's ferry.yaml reads the token from (never a literal token in the file). */
export const DEMO_HUBSPOT_TOKEN_VARIABLE = 'FERRY_DEMO_HUBSPOT_TOKEN';
/** The emulator's token: not a secret (it only opens the local emulator), but still kept out of ferry.yaml. */
export const DEMO_HUBSPOT_TOKEN = 'ferry-demo-token';
/**
 * HubSpot allows 100 requests per 10 s by default (190/250 on bigger plans): a 1,000-contact migration would
 * spend minutes waiting. The demo's emulator allows far more, and the demo's ferry.yaml paces the connector
 * to match (the connector's maximum settings).
 */
export const DEMO_EMULATOR_LIMITS = { burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 };
export const DEMO_CONNECTOR_PACING = { burstLimit: 1000, searchPerSecond: 50 };

export const demoHubspotTargetYaml = (url: string): string => `target:
  # The "new CRM": HubSpot, played by Ferry's local emulator of the HubSpot API (started by \`ferry demo
  # --target hubspot\`; it stops when the demo ends unless --keep). It already holds some of the same
  # owners, companies and contacts.
  connector: hubspot
  baseUrl: ${url}
  accessToken: \${${DEMO_HUBSPOT_TOKEN_VARIABLE}}
  # Raised for the demo: the emulator allows far more than HubSpot's default 100 requests / 10 s.
  # Against a real account, set burstLimit to your plan's limit (100, 190 or 250) and drop searchPerSecond.
  burstLimit: ${DEMO_CONNECTOR_PACING.burstLimit}
  searchPerSecond: ${DEMO_CONNECTOR_PACING.searchPerSecond}
`;

/**
 * ferry.yaml's target for `ferry demo --target hubspot --hubspot-url URL`: an account the user runs (an emulator
 * started apart, a sandbox), its token in the variable the user named, paced at the account's burst limit.
 */
export const externalHubspotTargetYaml = (url: string, tokenVariable: string, burstLimit: number): string => `target:
  # The "new CRM": the HubSpot API at ${url} (given with --hubspot-url: an emulator started apart or a
  # sandbox account), used as it is.
  connector: hubspot
  baseUrl: ${url}
  accessToken: \${${tokenVariable}}
  # The account's burst limit per 10 s (--hubspot-burst; HubSpot's tiers: 100, 190, 250).
  burstLimit: ${burstLimit}
`;

function text(row: SampleRow, column: string): string | undefined {
  const value = row[column];
  if (value === null || value === undefined) return undefined;
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

/** What a person would type into HubSpot's domain field: no scheme, no path (case and `www.` as typed). */
function hubspotDomain(domain: string | undefined): string | undefined {
  const cleaned = domain
    ?.trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '');
  return cleaned || undefined;
}

/**
 * Fills the emulator's store with the account "already in use": the demo target of the sample generator
 * (the same records `ferry demo` puts in target.db) as HubSpot holds them. HubSpot keeps one contact per
 * e-mail, so the target's shared-e-mail pairs become one contact each.
 */
export function seedDemoHubspot(store: HubspotStore, options: { seed: number; size: number }): Record<string, number> {
  const target = generateDemoTarget({ seed: options.seed, size: options.size });
  const counts = { owners: 0, companies: 0, contacts: 0 };
  for (const row of target.rows('users')) {
    const email = normalisedEmail(text(row, 'email') ?? null);
    if (!email) continue;
    const [firstName, ...rest] = (text(row, 'name') ?? '').split(' ');
    store.addOwner({ email, firstName: firstName ?? '', lastName: rest.join(' ') });
    counts.owners += 1;
  }
  for (const row of target.rows('companies')) {
    const properties: Record<string, string> = {};
    const name = text(row, 'name');
    const domain = hubspotDomain(text(row, 'domain'));
    const phone = text(row, 'phone');
    if (name) properties.name = name;
    if (domain) properties.domain = domain;
    if (phone) properties.phone = phone;
    if (!name && !domain) continue;
    if (tryCreate(store, 'companies', properties)) counts.companies += 1;
  }
  const emails = new Set<string>();
  for (const row of target.rows('contacts')) {
    const email = normalisedEmail(text(row, 'email') ?? null);
    if (email && emails.has(email)) continue;
    const properties: Record<string, string> = {};
    for (const [column, property] of [
      ['firstname', 'firstname'],
      ['lastname', 'lastname'],
      ['phone', 'phone'],
      ['jobtitle', 'jobtitle'],
    ] as const) {
      const value = text(row, column);
      if (value) properties[property] = value;
    }
    if (email) properties.email = email;
    if (Object.keys(properties).length === 0) continue;
    if (tryCreate(store, 'contacts', properties)) {
      counts.contacts += 1;
      if (email) emails.add(email);
    }
  }
  return counts;
}

/** A record HubSpot would refuse (say, an odd phone) is simply not part of the scene. */
function tryCreate(store: HubspotStore, objectType: string, properties: Record<string, string>): boolean {
  try {
    store.createRecord(objectType, properties);
    return true;
  } catch {
    return false;
  }
}

const NEW_TITLES = ['VP Sales', 'Chief of Staff', 'Procurement Lead', 'Head of Operations', 'Founder'];

/** Where the story's "people in HubSpot" make their edits: the in-process emulator's store, or an account's API. */
export interface HubspotEditor {
  /** Live record ids of an object, in ascending id order. */
  ids(objectType: string): Promise<string[]>;
  update(objectType: string, id: string, properties: Record<string, string>): Promise<void>;
}

/** Edits straight into the emulator's store, as in HubSpot's UI. */
export function storeEditor(store: HubspotStore): HubspotEditor {
  return {
    ids: async (objectType) =>
      [...store.table(objectType).values()]
        .filter((record) => !record.archived)
        .map((record) => record.id)
        .sort((a, b) => Number(a) - Number(b)),
    update: async (objectType, id, properties) => {
      store.updateRecord(objectType, id, properties);
    },
  };
}

/**
 * Edits through the account's API (an emulator started apart or a sandbox: its store is out of reach), with the
 * HubSpot connector itself but outside any run, so the ledger does not know of them: to the next delta they
 * are edits someone made in HubSpot.
 */
export function connectorEditor(connector: Connector): HubspotEditor {
  return {
    ids: async (objectType) => {
      const ids: string[] = [];
      let after: string | undefined;
      do {
        const page = await connector.read(objectType, { limit: 100, after, fields: [] });
        ids.push(...page.records.map((record) => record.id));
        after = page.next;
      } while (after);
      return ids.sort((a, b) => Number(a) - Number(b));
    },
    update: async (objectType, id, properties) => {
      const [result] = await connector.update(objectType, [{ id, fields: properties }]);
      if (result && !result.ok) throw new Error(`HubSpot refused the demo's edit of ${objectType} ${id}: ${result.error.message}`);
    },
  };
}

/**
 * People at work in HubSpot: a contact's job title or phone, a company's phone. `avoid` holds HubSpot ids that
 * must not be touched (the records kept for the certain conflicts).
 */
export async function editInHubspot(editor: HubspotEditor, options: { seed: number; count: number; avoid: Set<string> }): Promise<number> {
  const random = Random.for(options.seed, 'hubspot-edits');
  const companies = Math.floor(options.count / 3);
  let edited = 0;
  for (const [objectType, count] of [
    ['contacts', options.count - companies],
    ['companies', companies],
  ] as const) {
    const ids = (await editor.ids(objectType)).filter((id) => !options.avoid.has(id));
    for (let n = 0; n < count && ids.length > 0; n++) {
      const [id] = ids.splice(random.int(0, ids.length - 1), 1);
      const properties: Record<string, string> =
        objectType === 'contacts'
          ? random.chance(0.5)
            ? { jobtitle: `${random.pick(NEW_TITLES)} (edited in HubSpot)` }
            : { phone: `+44 20 7946 ${String(random.int(0, 9999)).padStart(4, '0')}` }
          : { phone: `+49 30 ${random.int(1_000_000, 9_999_999)}` };
      await editor.update(objectType, id!, properties);
      edited += 1;
    }
  }
  return edited;
}
