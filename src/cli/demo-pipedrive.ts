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
}

/**
 * People at work in Pipedrive: new organizations, persons and deals, and persons renamed, organizations renamed,
 * deals retitled. Seeded, so the story is the same every time.
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
  for (let n = 0; n < newOrgs; n++) created.deals!.push(store.create('deals', { title: `New deal ${n + 1}`, owner_id: random.pick(ownerIds), person_id: random.pick(created.persons!) }).id);
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
  return { created, changed, changedFields: { persons: ['name', 'first_name', 'last_name'], organizations: ['name'], deals: ['title'] } };
}
