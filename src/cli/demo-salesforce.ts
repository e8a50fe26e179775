import type { SalesforceEmulator } from '../emulators/salesforce/index.js';
import { Random } from '../sample/index.js';

/**
 * `ferry demo --source salesforce`: the "legacy CRM" is Salesforce, played by the Salesforce emulator started
 * in-process with its sample org (src/emulators/salesforce, `seed: sample`); and, later, the edits people make
 * in Salesforce (straight into the emulator's store, as in its UI: no run knows of them).
 */

/** The variable the demo's ferry.yaml reads the access token from (never a literal token in the file). */
export const DEMO_SALESFORCE_TOKEN_VARIABLE = 'FERRY_DEMO_SALESFORCE_TOKEN';
/** The emulator's access token: not a secret (it only opens the local emulator), but still kept out of ferry.yaml. */
export const DEMO_SALESFORCE_TOKEN = 'ferry-demo-salesforce-token';
/** The objects the demo reads: those the demo's new CRM has a place for. */
export const DEMO_SALESFORCE_OBJECTS = ['User', 'Account', 'Contact', 'Opportunity', 'Task', 'Note'];

export const demoSalesforceSourceYaml = (url: string): string => `source:
  # The "legacy CRM": Salesforce, played by Ferry's local emulator of the Salesforce REST API (started by
  # \`ferry demo --source salesforce\` with its sample org; it stops when the demo ends, or at Ctrl-C with
  # --keep). A real org signs in with the JWT bearer flow instead (clientId, username, privateKey:
  # docs/connectors/salesforce.md).
  connector: salesforce
  instanceUrl: ${url}
  accessToken: \${${DEMO_SALESFORCE_TOKEN_VARIABLE}}
  objects: [${DEMO_SALESFORCE_OBJECTS.join(', ')}]
`;

/** Contacts in the emulator's sample org for a demo of `size` contacts (the sample org stays small). */
export const demoSalesforceContacts = (size: number): number => Math.max(20, Math.min(size, 300));

export interface SalesforceEdits {
  created: Record<string, string[]>;
  changed: Record<string, string[]>;
  changedFields: Record<string, string[]>;
}

/**
 * People at work in Salesforce: new accounts, contacts and opportunities, and contacts renamed, accounts renamed,
 * opportunities renamed. Seeded, so the story is the same every time.
 */
export function editInSalesforce(emulator: SalesforceEmulator, options: { seed: number; newRecords: number; changedRecords: number }): SalesforceEdits {
  const store = emulator.store;
  const random = Random.for(options.seed, 'salesforce-edits');
  const created: Record<string, string[]> = { Account: [], Contact: [], Opportunity: [] };
  const changed: Record<string, string[]> = { Contact: [], Account: [], Opportunity: [] };
  const live = (name: string) => store.records(store.requireObject(name)).map((record) => record.id);
  const owners = store.records(store.requireObject('User')).filter((record) => record.row.data.IsActive === true).map((record) => record.id);
  const newAccounts = Math.max(1, Math.floor(options.newRecords / 4));
  for (let n = 0; n < newAccounts; n++) created.Account!.push(store.create('Account', { Name: `New Salesforce Account ${n + 1}`, OwnerId: random.pick(owners) }).id);
  const newContacts = Math.max(1, options.newRecords - 2 * newAccounts);
  for (let n = 0; n < newContacts; n++) {
    created.Contact!.push(store.create('Contact', { FirstName: 'New', LastName: `Contact ${n + 1}`, Email: `new.contact${n + 1}@salesforce-demo.example`, AccountId: random.pick(live('Account')), OwnerId: random.pick(owners) }).id);
  }
  for (let n = 0; n < newAccounts; n++) {
    created.Opportunity!.push(store.create('Opportunity', { Name: `New opportunity ${n + 1}`, StageName: 'Prospecting', CloseDate: '2031-06-30', AccountId: random.pick(created.Account!), OwnerId: random.pick(owners) }).id);
  }
  const changedContacts = Math.max(1, options.changedRecords - 2 * Math.floor(options.changedRecords / 4));
  const changedOthers = Math.floor(options.changedRecords / 4);
  for (const [name, count, edit] of [
    ['Contact', changedContacts, (n: number) => ({ LastName: `Renamed in Salesforce ${n}` })],
    ['Account', changedOthers, (n: number) => ({ Name: `Renamed Account ${n}` })],
    ['Opportunity', changedOthers, (n: number) => ({ Name: `Renamed opportunity ${n}` })],
  ] as const) {
    const ids = live(name).filter((id) => !created[name]!.includes(id));
    for (let n = 0; n < count && ids.length > 0; n++) {
      const [id] = ids.splice(random.int(0, ids.length - 1), 1);
      store.update(id!, edit(n + 1));
      changed[name]!.push(id!);
    }
  }
  return { created, changed, changedFields: { Contact: ['LastName', 'FirstName', 'Name'], Account: ['Name'], Opportunity: ['Name'] } };
}
