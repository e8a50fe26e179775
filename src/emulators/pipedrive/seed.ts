import { Random } from '../../sample/random.js';
import type { PipedriveStore } from './store.js';

export interface SeedCounts {
  users: number;
  pipelines: number;
  stages: number;
  organizations: number;
  persons: number;
  deals: number;
  participants: number;
  activities: number;
  notes: number;
  products: number;
  customFields: number;
}

const FIRST = ['Aino', 'Bruno', 'Chloé', 'Dmitri', 'Eva', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kaisa', 'Luca', 'Maja', 'Nils', 'Olga', 'Pekka', 'Quinn', 'Rosa', 'Sami', 'Tove'];
const LAST = ['Virtanen', 'Schmidt', 'Dubois', 'Ivanov', 'Nieminen', 'Haddad', 'Berg', 'Tanaka', 'García', 'Weber', 'Laine', 'Rossi', 'Nowak', 'Jensen', 'Petrova', 'Korhonen'];
const COMPANIES = ['Aurora Oy', 'Baltic Freight', 'Cobalt Labs', 'Delta Foods', 'Evergreen GmbH', 'Fjord Analytics', 'Granite & Co', 'Helio Energy', 'Iris Health', 'Juniper Retail', 'Kestrel Air', 'Lumen Media'];
const LOST_REASONS = ['Price too high', 'Chose a competitor', 'No budget', 'No response'];
const ACTIVITY_KINDS = ['call', 'meeting', 'task', 'email'] as const;

/**
 * A small sample company, the same for the same seed, on top of the new company (its admin user and default
 * pipeline with five stages): two more users, organizations,
 * persons with labelled e-mails and phones, deals spread over the stages with won and lost ones (lost with a
 * reason), deal participants, activities of types call/meeting/task/email, notes pinned to deals, persons and
 * organizations, products, and custom fields of the main types (enum, set, monetary, date, varchar) with
 * values. Every record goes through the store's validated writes, as an API client's would.
 */
export function seedSample(store: PipedriveStore, options: { seed?: number; persons?: number } = {}): SeedCounts {
  const random = new Random(options.seed ?? 42);
  const personCount = options.persons ?? 20;
  store.addUser({ name: 'Sam Seller', email: 'sam.seller@example.com' });
  store.addUser({ name: 'Robin Rep', email: 'robin.rep@example.com' });
  const userIds = store.users.liveRows().map((user) => user.id);
  const pipeline = store.table('pipelines').liveRows()[0]!;
  const stageIds = store
    .table('stages')
    .liveRows()
    .filter((stage) => stage.data.pipeline_id === pipeline.id)
    .map((stage) => stage.id);

  const tier = store.addCustomField('organizations', { field_name: 'Tier', field_type: 'enum', options: [{ label: 'Gold' }, { label: 'Silver' }, { label: 'Bronze' }] });
  const source = store.addCustomField('persons', { field_name: 'Lead source', field_type: 'enum', options: [{ label: 'Web' }, { label: 'Referral' }, { label: 'Event' }] });
  const linkedin = store.addCustomField('persons', { field_name: 'LinkedIn', field_type: 'varchar' });
  const contract = store.addCustomField('deals', { field_name: 'Contract value', field_type: 'monetary' });
  const interests = store.addCustomField('deals', { field_name: 'Products of interest', field_type: 'set', options: [{ label: 'CRM' }, { label: 'Analytics' }, { label: 'Support' }, { label: 'Training' }] });
  const renewal = store.addCustomField('deals', { field_name: 'Renewal date', field_type: 'date' });

  const orgCount = Math.max(2, Math.ceil(personCount / 3));
  const orgIds: number[] = [];
  for (let index = 0; index < orgCount; index++) {
    const name = COMPANIES[index % COMPANIES.length]! + (index >= COMPANIES.length ? ` ${Math.floor(index / COMPANIES.length) + 1}` : '');
    orgIds.push(
      store.create('organizations', {
        name,
        owner_id: random.pick(userIds),
        address: { value: `${random.int(1, 99)} Harbour Street, Helsinki`, locality: 'Helsinki', country: 'Finland' },
        custom_fields: { [tier.field_code]: random.pick(tier.options!).id },
      }).id,
    );
  }

  const personIds: number[] = [];
  for (let index = 0; index < personCount; index++) {
    const first = FIRST[index % FIRST.length]!;
    const last = random.pick(LAST);
    const email = `${first.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}.${last.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}${index}@example.com`;
    const emails = [{ value: email, primary: true, label: 'work' }];
    if (random.chance(0.3)) emails.push({ value: `${first.toLowerCase()}${index}@home.example`, primary: false, label: 'home' });
    personIds.push(
      store.create('persons', {
        name: `${first} ${last}`,
        owner_id: random.pick(userIds),
        org_id: random.chance(0.85) ? random.pick(orgIds) : null,
        emails,
        phones: random.chance(0.7) ? [{ value: `+358 40 ${random.int(100, 999)} ${random.int(1000, 9999)}`, label: 'mobile', primary: true }] : [],
        custom_fields: { [source.field_code]: random.pick(source.options!).id, ...(random.chance(0.5) ? { [linkedin.field_code]: `https://linkedin.example/in/${first.toLowerCase()}${index}` } : {}) },
      }).id,
    );
  }

  const products = ['CRM seat', 'Analytics add-on', 'Onboarding package'].map(
    (name, index) => store.create('products', { name, code: `P-${index + 1}`, unit: 'piece', prices: [{ price: 100 * (index + 1), currency: 'EUR' }] }).id,
  );

  const dealCount = Math.max(3, Math.round(personCount * 0.75));
  const dealIds: number[] = [];
  let participants = 0;
  for (let index = 0; index < dealCount; index++) {
    const personId = random.pick(personIds);
    const person = store.find('persons', personId)!;
    const roll = random.next();
    const status = roll < 0.2 ? 'won' : roll < 0.35 ? 'lost' : 'open';
    const deal = store.create('deals', {
      title: `${person.data.name} – ${random.pick(['Renewal', 'Expansion', 'New licence', 'Pilot'])}`,
      owner_id: random.pick(userIds),
      person_id: personId,
      org_id: person.data.org_id,
      pipeline_id: pipeline.id,
      stage_id: random.pick(stageIds),
      value: random.int(5, 200) * 100,
      currency: 'EUR',
      status,
      ...(status === 'lost' ? { lost_reason: random.pick(LOST_REASONS) } : {}),
      expected_close_date: `2026-${String(random.int(1, 12)).padStart(2, '0')}-${String(random.int(1, 28)).padStart(2, '0')}`,
      custom_fields: {
        [contract.field_code]: { value: random.int(1, 50) * 1000, currency: 'EUR' },
        [interests.field_code]: [random.pick(interests.options!).id],
        ...(random.chance(0.5) ? { [renewal.field_code]: `2027-0${random.int(1, 9)}-15` } : {}),
      },
    });
    dealIds.push(deal.id);
    if (random.chance(0.4)) {
      const other = random.pick(personIds);
      if (other !== personId) {
        store.addParticipant(deal.id, { person_id: other });
        participants++;
      }
    }
  }

  let activities = 0;
  for (const dealId of dealIds) {
    const deal = store.find('deals', dealId)!;
    const count = random.int(1, 2);
    for (let index = 0; index < count; index++) {
      const type = random.pick(ACTIVITY_KINDS);
      store.create('activities', {
        type,
        subject: `${type === 'email' ? 'E-mail' : type[0]!.toUpperCase() + type.slice(1)} about ${deal.data.title}`,
        owner_id: deal.data.owner_id,
        deal_id: dealId,
        org_id: deal.data.org_id,
        participants: [{ person_id: deal.data.person_id, primary: true }],
        due_date: `2026-0${random.int(1, 9)}-${String(random.int(10, 28))}`,
        due_time: `${String(random.int(8, 16)).padStart(2, '0')}:00`,
        duration: '00:30',
        done: random.chance(0.5),
        note: random.chance(0.5) ? '<p>Agenda sent.</p>' : null,
      });
      activities++;
    }
  }

  let notes = 0;
  for (const dealId of dealIds.filter(() => random.chance(0.5))) {
    store.writeNote({ content: `<p>Call summary for deal ${dealId}: next step agreed.</p>`, deal_id: dealId, pinned_to_deal_flag: random.chance(0.3) ? 1 : 0 });
    notes++;
  }
  for (const personId of personIds.filter(() => random.chance(0.25))) {
    store.writeNote({ content: '<p>Prefers e-mail over phone.</p>', person_id: personId, pinned_to_person_flag: 1 });
    notes++;
  }
  for (const orgId of orgIds.filter(() => random.chance(0.3))) {
    store.writeNote({ content: '<p>Framework agreement signed.</p>', org_id: orgId });
    notes++;
  }

  return {
    users: userIds.length,
    pipelines: 1,
    stages: stageIds.length,
    organizations: orgIds.length,
    persons: personIds.length,
    deals: dealIds.length,
    participants,
    activities,
    notes,
    products: products.length,
    customFields: 6,
  };
}
