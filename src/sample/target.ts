import { TARGET_DEAL_STAGES, TARGET_TASK_STATUSES, TARGET_TABLES, type TargetTable } from './constants.js';
import {
  companyDomain,
  companyRow,
  contactEmail,
  contactRow,
  ownerRow,
  sampleContext,
  sampleSlot,
  type SampleContext,
  type SampleOptions,
  type SampleRow,
} from './generate.js';
import { Random } from './random.js';

/**
 * The demo TARGET ("new CRM"): what a company that already started using the new CRM has in it.
 * - users: one per source owner with the same e-mail (ids shifted), plus two target-only users;
 * - companies: ~10% of the source companies (same domain, written differently: case, `www.`, scheme,
 *   whitespace), plus target-only companies;
 * - contacts: ~10% of the source contacts with a valid e-mail (differently cased / padded), three
 *   *ambiguous* e-mails held by two target contacts each, plus target-only contacts;
 * - a few target-only deals (with contacts), notes and tasks.
 * Target-only records come first in id order, so their references never need a count of the rest.
 */
export interface DemoTargetData {
  readonly context: SampleContext;
  readonly counts: { targetOnlyUsers: number; targetOnlyCompanies: number; targetOnlyContacts: number; deals: number; notes: number; tasks: number };
  /** Source contact ids whose e-mail two target contacts share. */
  readonly ambiguousContactIds: number[];
  rows(table: TargetTable): Generator<SampleRow>;
  [Symbol.iterator](): Generator<{ table: TargetTable; row: SampleRow }>;
}

const TARGET_ONLY_USERS = [
  { email: 'admin@new-crm.example', name: 'New CRM Admin' },
  { email: 'integration@new-crm.example', name: 'Integration User' },
];
const YEAR_MS = 365 * 86400_000;

function isoTimestamps(context: SampleContext, random: Random): { created_at: string; updated_at: string } {
  const updated = context.baseMillis - random.int(1, 200) * 86400_000 - random.int(0, 86399) * 1000;
  const created = updated - random.int(0, YEAR_MS / 1000) * 1000;
  return { created_at: new Date(created).toISOString(), updated_at: new Date(updated).toISOString() };
}

/** A usable e-mail (what matching would accept), normalised: trimmed and lower-cased. */
export function normalisedEmail(email: string | null): string | undefined {
  const text = email?.trim().toLowerCase();
  if (!text || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) return undefined;
  return text;
}

function emailVariant(email: string, random: Random): string {
  const [local = '', domain = ''] = email.split('@');
  const variants = [
    `  ${email.toUpperCase()}`,
    `${local.charAt(0).toUpperCase()}${local.slice(1)}@${domain.toUpperCase()} `,
    `${local}@${domain.charAt(0).toUpperCase()}${domain.slice(1)}`,
    ` ${local.toUpperCase()}@${domain}`,
  ];
  return random.pick(variants);
}

function domainVariant(domain: string, random: Random): string {
  const variants = [domain.toUpperCase(), ` ${domain} `, `https://${domain}`, `www.${domain.charAt(0).toUpperCase()}${domain.slice(1)}`, `http://www.${domain}/`];
  return random.pick(variants);
}

export function generateDemoTarget(options: SampleOptions): DemoTargetData {
  const context = sampleContext(options);
  const { seed, counts: source } = context;
  const counts = {
    targetOnlyUsers: TARGET_ONLY_USERS.length,
    targetOnlyCompanies: Math.max(2, Math.floor(source.companies * 0.05)),
    targetOnlyContacts: Math.max(3, Math.floor(source.contacts * 0.05)),
    deals: Math.max(2, Math.floor(source.deals * 0.02)),
    notes: Math.max(2, Math.floor(source.notes * 0.02)),
    tasks: Math.max(2, Math.floor(source.tasks * 0.02)),
  };
  const userOf = (ownerId: number | null) => (ownerId === null ? null : ownerId + counts.targetOnlyUsers);
  /** A source contact usable for overlap: valid e-mail, and not one of the duplicate-e-mail rows. */
  const usableContact = (id: number) => {
    const slot = sampleSlot(context, 'contacts', id);
    return slot !== 0 && slot !== 1 && normalisedEmail(contactEmail(context, id)) !== undefined;
  };

  const ambiguous: number[] = [];
  for (let k = 1; k <= 3 && source.contacts >= 4; k++) {
    for (let id = Math.floor((source.contacts * k) / 4); id <= source.contacts; id++) {
      if (usableContact(id) && !ambiguous.includes(id)) {
        ambiguous.push(id);
        break;
      }
    }
  }
  const overlapsCompany = (id: number) => companyDomain(context, id) !== null && Random.for(seed, 'target-company', id).chance(0.1);
  const overlapsContact = (id: number) => !ambiguous.includes(id) && Random.for(seed, 'target-contact', id).chance(0.1) && usableContact(id);

  // Target id of each overlapping source company (about companies / 10 entries).
  let companyIds: Map<number, number> | undefined;
  const targetCompanyIds = () => {
    if (!companyIds) {
      companyIds = new Map();
      let next = counts.targetOnlyCompanies;
      for (let id = 1; id <= source.companies; id++) if (overlapsCompany(id)) companyIds.set(id, ++next);
    }
    return companyIds;
  };

  function* users(): Generator<SampleRow> {
    let id = 0;
    for (const user of TARGET_ONLY_USERS) {
      id += 1;
      yield { id, email: user.email, name: user.name, ...isoTimestamps(context, Random.for(seed, 'target-users', id)) };
    }
    for (let ownerId = 1; ownerId <= source.owners; ownerId++) {
      const owner = ownerRow(context, ownerId);
      id += 1;
      yield { id, email: owner.email ?? null, name: `${owner.first_name} ${owner.last_name}`, ...isoTimestamps(context, Random.for(seed, 'target-users', id)) };
    }
  }

  function* companies(): Generator<SampleRow> {
    let id = 0;
    for (let k = 1; k <= counts.targetOnlyCompanies; k++) {
      const random = Random.for(seed, 'target-only-company', k);
      id += 1;
      yield {
        id,
        name: `Newco ${k} ${random.pick(['Studio', 'Works', 'Group'])}`,
        domain: `newco-${k}.example`,
        phone: null,
        industry: random.pick(['Software', 'Retail', null]),
        parent_id: null,
        owner_id: random.int(1, counts.targetOnlyUsers + source.owners),
        annual_revenue: null,
        ...isoTimestamps(context, random),
      };
    }
    const ids = targetCompanyIds();
    for (let sourceId = 1; sourceId <= source.companies; sourceId++) {
      if (!ids.has(sourceId)) continue;
      const random = Random.for(seed, 'target-company-row', sourceId);
      const company = companyRow(context, sourceId);
      id += 1;
      yield {
        id,
        name: random.chance(0.3) ? String(company.name).toUpperCase() : (company.name ?? null),
        domain: domainVariant(companyDomain(context, sourceId)!, random),
        phone: random.chance(0.5) ? (company.phone ?? null) : null,
        industry: random.chance(0.5) ? (company.industry ?? null) : null,
        parent_id: null,
        owner_id: userOf(company.owner_id as number | null),
        annual_revenue: random.chance(0.5) ? (company.annual_revenue ?? null) : null,
        ...isoTimestamps(context, random),
      };
    }
  }

  function* contacts(): Generator<SampleRow> {
    let id = 0;
    for (let k = 1; k <= counts.targetOnlyContacts; k++) {
      const random = Random.for(seed, 'target-only-contact', k);
      id += 1;
      yield {
        id,
        firstname: random.pick(['Alex', 'Sam', 'Kim', 'Chris']),
        lastname: `Only${k}`,
        email: `person${k}@target-only.example`,
        phone: null,
        jobtitle: random.pick(['Buyer', 'CFO', null]),
        company_id: random.int(1, counts.targetOnlyCompanies),
        owner_id: random.int(1, counts.targetOnlyUsers + source.owners),
        date_of_birth: null,
        lifecycle_stage: 'lead',
        ...isoTimestamps(context, random),
      };
    }
    const ids = targetCompanyIds();
    const fromSource = function* (sourceId: number, copies: number): Generator<SampleRow> {
      const contact = contactRow(context, sourceId);
      const email = normalisedEmail(contact.email as string)!;
      for (let copy = 0; copy < copies; copy++) {
        const random = Random.for(seed, 'target-contact-row', sourceId, copy);
        id += 1;
        const companyId = contact.company_id === null ? null : (ids.get(contact.company_id as number) ?? null);
        yield {
          id,
          firstname: contact.first_name ?? null,
          lastname: copy === 0 ? (contact.last_name ?? null) : `${String(contact.last_name ?? '')} (2)`.trim(),
          email: copy === 0 ? emailVariant(email, random) : email.toUpperCase(),
          phone: random.chance(0.4) ? (contact.phone ?? null) : null,
          jobtitle: random.chance(0.3) ? 'Customer (imported 2025)' : random.chance(0.5) ? (contact.job_title ?? null) : null,
          company_id: companyId,
          owner_id: userOf(contact.owner_id as number | null),
          date_of_birth: random.chance(0.5) ? (contact.birthday ?? null) : null,
          lifecycle_stage: random.chance(0.5) ? (contact.lifecycle_stage ?? null) : 'customer',
          ...isoTimestamps(context, random),
        };
      }
    };
    for (let sourceId = 1; sourceId <= source.contacts; sourceId++) {
      if (ambiguous.includes(sourceId)) yield* fromSource(sourceId, 2);
      else if (overlapsContact(sourceId)) yield* fromSource(sourceId, 1);
    }
  }

  function* deals(): Generator<SampleRow> {
    for (let id = 1; id <= counts.deals; id++) {
      const random = Random.for(seed, 'target-deal', id);
      yield {
        id,
        dealname: `Target-only deal ${id}`,
        amount: random.int(1000, 90_000),
        currency: 'EUR',
        dealstage: random.pick(TARGET_DEAL_STAGES),
        closedate: new Date(context.baseMillis + random.int(-90, 90) * 86400_000).toISOString().slice(0, 10),
        company_id: random.int(1, counts.targetOnlyCompanies),
        owner_id: random.int(1, counts.targetOnlyUsers + source.owners),
        ...isoTimestamps(context, random),
      };
    }
  }

  function* dealContacts(): Generator<SampleRow> {
    for (let dealId = 1; dealId <= counts.deals; dealId++) {
      const random = Random.for(seed, 'target-deal-contacts', dealId);
      const first = random.int(1, counts.targetOnlyContacts);
      const second = random.int(1, counts.targetOnlyContacts);
      for (const contactId of [...new Set([first, second])].sort((a, b) => a - b)) yield { deal_id: dealId, contact_id: contactId };
    }
  }

  const parent = (random: Random) =>
    random.chance(0.5)
      ? { company_id: random.int(1, counts.targetOnlyCompanies), contact_id: null, deal_id: null }
      : { company_id: null, contact_id: random.int(1, counts.targetOnlyContacts), deal_id: null };

  function* notes(): Generator<SampleRow> {
    for (let id = 1; id <= counts.notes; id++) {
      const random = Random.for(seed, 'target-note', id);
      yield { id, body: `Logged in the new CRM (${id}).`, ...parent(random), owner_id: 1, ...isoTimestamps(context, random) };
    }
  }

  function* tasks(): Generator<SampleRow> {
    for (let id = 1; id <= counts.tasks; id++) {
      const random = Random.for(seed, 'target-task', id);
      yield {
        id,
        subject: `Target-only task ${id}`,
        status: random.pick(TARGET_TASK_STATUSES),
        due_at: new Date(context.baseMillis + random.int(1, 30) * 86400_000).toISOString(),
        ...parent(random),
        owner_id: 1,
        ...isoTimestamps(context, random),
      };
    }
  }

  const generators: Record<TargetTable, () => Generator<SampleRow>> = {
    users,
    companies,
    contacts,
    deals,
    deal_contacts: dealContacts,
    notes,
    tasks,
  };
  return {
    context,
    counts,
    ambiguousContactIds: ambiguous,
    rows: (table) => generators[table](),
    *[Symbol.iterator]() {
      for (const table of TARGET_TABLES) for (const row of generators[table]()) yield { table, row };
    },
  };
}
