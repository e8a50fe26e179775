import type { PipedriveEmulator } from '../emulators/pipedrive/index.js';
import { Random } from '../sample/index.js';

/**
 * `ferry demo --source pipedrive`: the "legacy CRM" is Pipedrive, played by the Pipedrive emulator started
 * in-process with its sample company (src/emulators/pipedrive, `seed: sample`); and, later, the edits people
 * make in Pipedrive (straight into the emulator's store, as in its UI: no run knows of them).
 */

/** The variable the demo's ferry.yaml reads the API token from (never a literal token in the file). */
export const DEMO_PIPEDRIVE_TOKEN_VARIABLE = 'FERRY_DEMO_PIPEDRIVE_TOKEN';
/** The emulator's token: not a secret (it only opens the local emulator), but still kept out of ferry.yaml. */
export const DEMO_PIPEDRIVE_TOKEN = 'ferry-demo-pipedrive-token';
/** Pipedrive's burst limits would make the demo wait; the emulator allows more and the connector is paced to match. */
export const DEMO_PIPEDRIVE_LIMITS = { burstLimit: { requests: 100_000, intervalMs: 2000 } };
export const DEMO_PIPEDRIVE_PACING = 1000;

export const demoPipedriveSourceYaml = (url: string): string => `source:
  # The "legacy CRM": Pipedrive, played by Ferry's local emulator of the Pipedrive API (started by \`ferry demo
  # --source pipedrive\` with its sample company; it stops when the demo ends).
  connector: pipedrive
  baseUrl: ${url}
  apiToken: \${${DEMO_PIPEDRIVE_TOKEN_VARIABLE}}
  # Raised for the demo: the emulator allows far more than Pipedrive's burst limits.
  burstLimit: ${DEMO_PIPEDRIVE_PACING}
`;

/** Persons in the emulator's sample company for a demo of `size` contacts (the sample company stays small). */
export const demoPipedrivePersons = (size: number): number => Math.max(20, Math.min(size, 300));

export interface PipedriveEdits {
  created: Record<string, number[]>;
  changed: Record<string, number[]>;
  changedFields: Record<string, string[]>;
  /** Deleted in Pipedrive (soft-deleted, as its DELETE does): the delta reports them and deletes nothing. */
  deleted: Record<string, number[]>;
}

/**
 * People at work in Pipedrive: new organizations, persons and deals, and persons renamed, organizations renamed,
 * deals retitled, a person and a deal deleted. Seeded, so the story is the same every time.
 */
export function editInPipedrive(emulator: PipedriveEmulator, options: { seed: number; newRecords: number; changedRecords: number }): PipedriveEdits {
  const store = emulator.store;
  const random = Random.for(options.seed, 'pipedrive-edits');
  const created: Record<string, number[]> = { organizations: [], persons: [], deals: [] };
  const changed: Record<string, number[]> = { persons: [], organizations: [], deals: [] };
  const ownerIds = store.users.liveRows().map((user) => user.id);
  const live = (entity: 'persons' | 'organizations' | 'deals') => store.table(entity).liveRows().map((row) => row.id);
  const newOrgs = Math.max(1, Math.floor(options.newRecords / 4));
  for (let n = 0; n < newOrgs; n++) created.organizations!.push(store.create('organizations', { name: `New Pipedrive Org ${n + 1}`, owner_id: random.pick(ownerIds) }).id);
  const newPersons = Math.max(1, options.newRecords - 2 * newOrgs);
  for (let n = 0; n < newPersons; n++) {
    const org = random.pick([...live('organizations')]);
    created.persons!.push(
      store.create('persons', { name: `New Person ${n + 1}`, owner_id: random.pick(ownerIds), org_id: org, emails: [{ value: `new.person${n + 1}@pipedrive-demo.example`, primary: true, label: 'work' }] }).id,
    );
  }
  for (let n = 0; n < newOrgs; n++) created.deals!.push(store.create('deals', { title: `New deal ${n + 1}`, value: 1000 * (n + 2), currency: 'EUR', owner_id: random.pick(ownerIds), person_id: random.pick(created.persons!) }).id);
  const changedPersons = Math.max(1, options.changedRecords - 2 * Math.floor(options.changedRecords / 4));
  const changedOthers = Math.floor(options.changedRecords / 4);
  for (const [entity, count, edit] of [
    ['persons', changedPersons, (id: number) => ({ name: `Renamed in Pipedrive ${id}` })],
    ['organizations', changedOthers, (id: number) => ({ name: `Renamed Org ${id}` })],
    ['deals', changedOthers, (id: number) => ({ title: `Retitled deal ${id}` })],
  ] as const) {
    const ids = live(entity).filter((id) => !created[entity]!.includes(id));
    for (let n = 0; n < count && ids.length > 0; n++) {
      const [id] = ids.splice(random.int(0, ids.length - 1), 1);
      store.update(entity, id!, edit(id!));
      changed[entity]!.push(id!);
    }
  }
  // Someone cleans up: a person and a deal nobody else touched are deleted.
  const deleted: Record<string, number[]> = { persons: [], deals: [] };
  for (const entity of ['persons', 'deals'] as const) {
    const ids = live(entity).filter((id) => !created[entity]!.includes(id) && !changed[entity]!.includes(id));
    if (ids.length === 0) continue;
    const id = ids[random.int(0, ids.length - 1)]!;
    store.remove(entity, id);
    deleted[entity]!.push(id);
  }
  return { created, changed, changedFields: { persons: ['name', 'first_name', 'last_name'], organizations: ['name'], deals: ['title'] }, deleted };
}

/** Records the "new CRM" already holds that are also in Pipedrive, so the story's match step links them. */
export interface SharedWithPipedrive {
  /** Pipedrive's users, by e-mail: the new CRM's owners are the same people (owners are matched by e-mail). */
  owners: { email: string; firstName: string; lastName: string }[];
  /** Organizations typed into the new CRM by hand: the same names (companies are matched by domain, then name). */
  companies: { name: string }[];
  /** Persons typed into the new CRM by hand: the same e-mails as typed (upper case, spaces), other spellings of the name. */
  contacts: { email: string; firstname: string; lastname: string }[];
}

const splitName = (name: string): [string, string] => {
  const [first, ...rest] = name.trim().split(/\s+/);
  return [first ?? '', rest.join(' ')];
};

/** Seeded choice of the Pipedrive records the new CRM already has (a few organizations, a few persons, every user). */
export function sharedWithPipedrive(emulator: PipedriveEmulator, options: { seed: number; companies?: number; contacts?: number }): SharedWithPipedrive {
  const random = Random.for(options.seed, 'pipedrive-shared');
  const store = emulator.store;
  const owners = store.users.liveRows().map((user) => {
    const [firstName, lastName] = splitName(user.data.name);
    return { email: user.data.email, firstName, lastName };
  });
  const organizations = store.table('organizations').liveRows();
  const companies: SharedWithPipedrive['companies'] = [];
  const orgPool = [...organizations];
  for (let n = 0; n < (options.companies ?? 3) && orgPool.length > 0; n++) {
    const [org] = orgPool.splice(random.int(0, orgPool.length - 1), 1);
    companies.push({ name: String(org!.data.name) });
  }
  const contacts: SharedWithPipedrive['contacts'] = [];
  const personPool = store
    .table('persons')
    .liveRows()
    .filter((person) => (person.data.emails as { value: string; primary: boolean }[] | undefined)?.some((email) => email.primary && email.value));
  for (let n = 0; n < (options.contacts ?? 6) && personPool.length > 0; n++) {
    const [person] = personPool.splice(random.int(0, personPool.length - 1), 1);
    const email = (person!.data.emails as { value: string; primary: boolean }[]).find((item) => item.primary)!.value;
    const [firstname, lastname] = splitName(String(person!.data.name ?? ''));
    // As a person would have typed it: the e-mail in capitals with a stray space, the name in other case.
    contacts.push({ email: n % 2 === 0 ? ` ${email.toUpperCase()}` : email, firstname: firstname.toUpperCase(), lastname });
  }
  return { owners, companies, contacts };
}

/** Adds the shared records to the SQLite "new CRM" (target.db); returns how many rows each table gained. */
export async function addSharedToSqlite(path: string, shared: SharedWithPipedrive): Promise<Record<string, number>> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path);
  try {
    const at = '2025-11-03T09:00:00.000Z';
    const added = { users: 0, companies: 0, contacts: 0 };
    db.transaction(() => {
      const user = db.prepare('INSERT OR IGNORE INTO users (email, name, created_at, updated_at) VALUES (?, ?, ?, ?)');
      for (const owner of shared.owners) added.users += user.run(owner.email, `${owner.firstName} ${owner.lastName}`.trim(), at, at).changes;
      const company = db.prepare('INSERT INTO companies (name, created_at, updated_at) VALUES (?, ?, ?)');
      for (const row of shared.companies) added.companies += company.run(row.name, at, at).changes;
      const contact = db.prepare('INSERT INTO contacts (firstname, lastname, email, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
      for (const row of shared.contacts) added.contacts += contact.run(row.firstname, row.lastname, row.email, at, at).changes;
    })();
    return added;
  } finally {
    db.close();
  }
}

/** Adds the shared records to the HubSpot emulator's store (HubSpot keeps e-mails trimmed and lower-cased). */
export function addSharedToHubspot(store: import('../emulators/hubspot/store.js').HubspotStore, shared: SharedWithPipedrive): Record<string, number> {
  const added = { owners: 0, companies: 0, contacts: 0 };
  const known = new Set([...store.owners.values()].map((owner) => owner.email.toLowerCase()));
  for (const owner of shared.owners) {
    if (known.has(owner.email.toLowerCase())) continue;
    store.addOwner(owner);
    added.owners += 1;
  }
  for (const row of shared.companies) {
    store.createRecord('companies', { name: row.name });
    added.companies += 1;
  }
  for (const row of shared.contacts) {
    store.createRecord('contacts', { email: row.email.trim().toLowerCase(), firstname: row.firstname, lastname: row.lastname });
    added.contacts += 1;
  }
  return added;
}
