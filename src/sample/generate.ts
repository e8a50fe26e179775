import { FerryError } from '../core/errors.js';
import {
  DEFAULT_BASE_TIME,
  LIFECYCLE_STAGES,
  SOURCE_ACTIVITY_TYPE_SPELLINGS,
  SOURCE_CALL_OUTCOMES,
  SOURCE_DEAL_STAGES,
  SOURCE_DEAL_STAGE_VARIANTS,
  SOURCE_EMAIL_OUTCOMES,
  SOURCE_MEETING_OUTCOMES,
  SOURCE_TABLES,
  type SourceActivityType,
  type SourceTable,
} from './constants.js';
import { Random, hash32 } from './random.js';

export type SampleValue = string | number | null;
export type SampleRow = Record<string, SampleValue>;

export interface SampleOptions {
  seed: number;
  /** Number of contacts; the other tables scale from it. */
  size: number;
  /** Every timestamp derives from this instant (default 2026-01-15T09:00:00.000Z). */
  baseTime?: string;
}

/** Row counts of the entity tables (deal_contacts has 1-3 rows per deal). */
export type SampleCounts = Record<Exclude<SourceTable, 'deal_contacts'>, number>;

export function sampleCounts(size: number): SampleCounts {
  return {
    owners: Math.max(3, Math.floor(size / 200)),
    companies: Math.max(1, Math.floor(size / 4)),
    contacts: size,
    deals: Math.floor(size / 3),
    notes: Math.floor(size / 2),
    tasks: Math.floor(size / 3),
    activities: Math.floor(size / 2),
  };
}

/** What every row function needs: the seed, the base time and the id ranges references point into. */
export interface SampleContext {
  seed: number;
  baseMillis: number;
  counts: SampleCounts;
}

export function sampleContext(options: SampleOptions): SampleContext {
  if (!Number.isSafeInteger(options.seed)) throw new FerryError('USAGE', `Sample seed must be an integer, got ${options.seed}`);
  if (!Number.isSafeInteger(options.size) || options.size < 1) {
    throw new FerryError('USAGE', `Sample size must be a positive integer, got ${options.size}`);
  }
  const baseTime = options.baseTime ?? DEFAULT_BASE_TIME;
  const baseMillis = Date.parse(baseTime);
  if (Number.isNaN(baseMillis)) throw new FerryError('USAGE', `Invalid baseTime ${baseTime}`);
  return { seed: options.seed, baseMillis, counts: sampleCounts(options.size) };
}

// ---- vocabulary -----------------------------------------------------------------------------------------

const FIRST_NAMES = [
  'James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Susan',
  'Richard', 'Jessica', 'Joseph', 'Sarah', 'Thomas', 'Karen', 'Daniel', 'Nancy', 'Emma', 'Liam', 'Olivia', 'Noah', 'Jane',
];
const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor', 'Thomas', 'Moore',
  'Martin', 'Jackson', 'Thompson', 'White', 'Harris', 'Clark', 'Lewis', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott',
];
/** Names that break naive code: accents, CJK, RTL, emoji with zero-width joiners. */
export const UNICODE_FIRST_NAMES = ['José', 'Zoë', '李雷', 'محمد', '👩‍💻 Ana', 'Renée', 'Søren', 'Łukasz', 'Ngọc Anh', 'Ægir'];
const UNICODE_LAST_NAMES = ['García', 'Müller', '王', 'العلي', 'Øster', 'Nguyễn', 'Dvořák', "O'Brien", 'Ångström', 'Kowalczyk'];
const COMPANY_WORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli', 'Vandelay', 'Soylent', 'Tyrell', 'Cyberdyne', 'Aperture'];
const COMPANY_NOUNS = ['Systems', 'Logistics', 'Labs', 'Foods', 'Partners', 'Robotics', 'Energy', 'Media', 'Health', 'Capital'];
const COMPANY_SUFFIXES = ['Inc', 'LLC', 'GmbH', 'Ltd', 'SA', 'BV', ''];
const INDUSTRIES = ['Software', 'Manufacturing', 'Retail', 'Finance', 'Healthcare', 'Education', 'Logistics', 'Media', null];
const JOB_TITLES = ['CEO', 'CTO', 'Head of Sales', 'Account Manager', 'Engineer', 'Marketing Lead', 'Buyer', 'Office Manager', null];
const PRODUCTS = ['Platform licence', 'Support renewal', 'Onboarding', 'Expansion', 'Pilot', 'Hardware refresh'];
const CURRENCIES = ['USD', 'USD', 'USD', 'EUR', 'EUR', 'GBP'];
const TASK_SUBJECTS = ['Call back', 'Send proposal', 'Follow up on invoice', 'Schedule demo', 'Prepare contract', 'Check in'];
const NOTE_SENTENCES = [
  'Spoke with them about the renewal.',
  'They want a discount for a two-year term.',
  'Met at the trade fair, interested in the API.',
  'Sent the pricing sheet, waiting for feedback.',
  'Budget approved for Q3 🎉.',
  'Asked to be contacted after the holidays.',
  'Escalated to support: login issues since Monday.',
];
const FREE_MAIL = ['gmail.com', 'yahoo.com', 'outlook.com'];
const TIE_SECONDS = [7 * 86400, 30 * 86400, 90 * 86400];
const YEAR_SECONDS = 365 * 86400;

// ---- helpers --------------------------------------------------------------------------------------------

/** A naive (zone-less) timestamp `YYYY-MM-DD HH:MM:SS`, as legacy CRMs store them; wall time is UTC. */
export function naiveTimestamp(millis: number): string {
  const iso = new Date(millis).toISOString();
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms === '000' ? '' : `.${ms}`}`;
}

function dateOnly(millis: number): string {
  return new Date(millis).toISOString().slice(0, 10);
}

/** Position 0-99 of a row in its table's mess pattern; the pattern is shifted per seed. */
export function sampleSlot(context: SampleContext, table: string, index: number): number {
  return (index + (hash32(context.seed, table, 'slot') % 100)) % 100;
}

function timestamps(context: SampleContext, random: Random, tie: boolean): { created_at: string; updated_at: string } {
  const updated = tie
    ? context.baseMillis - random.pick(TIE_SECONDS) * 1000
    : context.baseMillis - random.int(60, YEAR_SECONDS) * 1000;
  const created = updated - random.int(0, 2 * YEAR_SECONDS) * 1000;
  return { created_at: naiveTimestamp(created), updated_at: naiveTimestamp(updated) };
}

function ascii(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();
}

function recase(email: string, random: Random): string {
  const [local = '', domain = ''] = email.split('@');
  const styles = [
    () => email.toUpperCase(),
    () => `${local.charAt(0).toUpperCase()}${local.slice(1)}@${domain.toUpperCase()}`,
    () => `${local}@${domain.charAt(0).toUpperCase()}${domain.slice(1)}`,
  ];
  const recased = random.pick(styles)();
  return recased === email ? email.toUpperCase() : recased;
}

// ---- rows -----------------------------------------------------------------------------------------------

export function ownerRow(context: SampleContext, id: number): SampleRow {
  const random = Random.for(context.seed, 'owners', id);
  const first = random.pick(FIRST_NAMES);
  const last = random.pick(LAST_NAMES);
  return {
    id,
    email: `${first}.${last}.${id}@legacy-crm.example`.toLowerCase(),
    first_name: first,
    last_name: last,
    ...timestamps(context, random, false),
  };
}

/** The clean domain of a company (before the mess is applied). */
function companyBase(context: SampleContext, id: number): { name: string; domain: string; random: Random } {
  const random = Random.for(context.seed, 'companies', id);
  const word = random.pick(COMPANY_WORDS);
  const noun = random.pick(COMPANY_NOUNS);
  const suffix = random.pick(COMPANY_SUFFIXES);
  const name = `${word} ${noun}${suffix ? ` ${suffix}` : ''}`;
  return { name: id % 7 === 0 ? `${name} ${id}` : name, domain: `${word}${noun}${id}.com`.toLowerCase(), random };
}

/** A company's domain normalised as matching does (lower case, no scheme, no `www.`), or null. */
export function companyDomain(context: SampleContext, id: number): string | null {
  return sampleSlot(context, 'companies', id) === 4 ? null : companyBase(context, id).domain;
}

export function companyRow(context: SampleContext, id: number): SampleRow {
  const { name, domain, random } = companyBase(context, id);
  const position = sampleSlot(context, 'companies', id);
  let messy: string | null = domain;
  if (position === 0) messy = domain.toUpperCase();
  else if (position === 1) messy = `${domain.charAt(0).toUpperCase()}${domain.slice(1, 5)}${domain.slice(5).toUpperCase()}`;
  else if (position === 2) messy = `https://www.${domain.charAt(0).toUpperCase()}${domain.slice(1)}/`;
  else if (position === 3) messy = `www.${domain}`;
  else if (position === 4) messy = null;
  else if (position === 5) messy = ` ${domain} `;
  const parent = id > 1 && random.chance(0.1) ? random.int(1, id - 1) : null;
  const revenue = random.chance(0.8) ? random.int(50, 500_000) * 1000 + random.int(0, 99) / 100 : null;
  return {
    id,
    name: position === 7 ? `Ñandú Café & Söhne ${id}` : name,
    domain: messy,
    phone: random.chance(0.7) ? `+1 ${random.int(200, 999)}-${random.int(200, 999)}-${String(random.int(0, 9999)).padStart(4, '0')}` : null,
    industry: random.pick(INDUSTRIES),
    parent_company_id: parent,
    owner_id: random.int(1, context.counts.owners),
    annual_revenue: revenue,
    ...timestamps(context, random, position === 6),
  };
}

function contactNames(context: SampleContext, id: number, random: Random): { first: string | null; last: string | null } {
  const position = sampleSlot(context, 'contacts', id);
  let first: string | null = random.pick(FIRST_NAMES);
  let last: string | null = random.pick(LAST_NAMES);
  if (position >= 7 && position <= 9) {
    const index = (Math.floor(id / 100) * 3 + position - 7) % UNICODE_FIRST_NAMES.length;
    first = UNICODE_FIRST_NAMES[index]!;
    last = UNICODE_LAST_NAMES[index]!;
  }
  if (position === 2) first = null;
  if (position === 3) last = null;
  if (position === 4) last = '';
  return { first, last };
}

/** A contact's e-mail exactly as stored in the source (messy). */
export function contactEmail(context: SampleContext, id: number): string | null {
  const random = Random.for(context.seed, 'contacts', id, 'email');
  const position = sampleSlot(context, 'contacts', id);
  if ((position === 0 || position === 1) && id > 1) {
    // Duplicate of an earlier contact, differently cased.
    const original = contactEmail(context, random.int(1, id - 1));
    if (original && original.includes('@') && !original.endsWith('@')) return recase(original.trim(), random);
  }
  const names = contactNames(context, id, Random.for(context.seed, 'contacts', id));
  const local = [ascii(names.first ?? ''), ascii(names.last ?? '')].filter(Boolean).join('.') || 'contact';
  if (position === 5) return 'not-an-email';
  if (position === 6) return `${local}@`;
  if (position === 10) return null;
  const domain = random.chance(0.3) ? random.pick(FREE_MAIL) : (companyDomain(context, random.int(1, context.counts.companies)) ?? 'example.com');
  const email = `${local}.${id}@${domain}`;
  if (position === 12) return ` ${recase(email, random)} `;
  return email;
}

export function contactRow(context: SampleContext, id: number): SampleRow {
  const random = Random.for(context.seed, 'contacts', id);
  const { first, last } = contactNames(context, id, random);
  const position = sampleSlot(context, 'contacts', id);
  const birthday = random.chance(0.4) ? dateOnly(Date.UTC(1950, 0, 1) + random.int(0, 50 * 365) * 86400000) : null;
  return {
    id,
    first_name: first,
    last_name: last,
    email: contactEmail(context, id),
    phone: random.chance(0.6) ? `(${random.int(200, 999)}) ${random.int(200, 999)}-${String(random.int(0, 9999)).padStart(4, '0')}` : null,
    job_title: random.pick(JOB_TITLES),
    company_id: random.chance(0.85) ? random.int(1, context.counts.companies) : null,
    owner_id: random.chance(0.95) ? random.int(1, context.counts.owners) : null,
    birthday,
    lifecycle_stage: random.chance(0.9) ? random.pick(LIFECYCLE_STAGES) : null,
    ...timestamps(context, random, position === 11),
  };
}

export function dealRow(context: SampleContext, id: number): SampleRow {
  const random = Random.for(context.seed, 'deals', id);
  const position = sampleSlot(context, 'deals', id);
  const variants = Object.keys(SOURCE_DEAL_STAGE_VARIANTS);
  const stage = position < 8 ? variants[(Math.floor(id / 100) + position) % variants.length]! : random.pick(SOURCE_DEAL_STAGES);
  const companyId = position === 10 ? null : random.int(1, context.counts.companies);
  const title = companyId === null ? 'Unassigned' : companyBase(context, companyId).name;
  return {
    id,
    name: `${title} - ${random.pick(PRODUCTS)}`,
    amount: position === 8 ? null : random.int(500, 250_000) + random.int(0, 99) / 100,
    currency: position === 9 ? 'usd' : random.pick(CURRENCIES),
    stage,
    close_date: dateOnly(context.baseMillis + random.int(-180, 180) * 86400000),
    company_id: companyId,
    owner_id: random.int(1, context.counts.owners),
    ...timestamps(context, random, position === 11),
  };
}

/** Contact ids of a deal: 1-3 distinct contacts, ascending. */
export function dealContactIds(context: SampleContext, dealId: number): number[] {
  const random = Random.for(context.seed, 'deal_contacts', dealId);
  const wanted = Math.min(random.int(1, 3), context.counts.contacts);
  const ids = new Set<number>();
  while (ids.size < wanted) ids.add(random.int(1, context.counts.contacts));
  return [...ids].sort((a, b) => a - b);
}

/** Exactly one of company, contact and deal (a deal only when there are deals). */
function parentOf(context: SampleContext, random: Random): { company_id: number | null; contact_id: number | null; deal_id: number | null } {
  const roll = random.next();
  if (roll < 0.2 && context.counts.deals > 0) return { company_id: null, contact_id: null, deal_id: random.int(1, context.counts.deals) };
  if (roll < 0.5) return { company_id: random.int(1, context.counts.companies), contact_id: null, deal_id: null };
  return { company_id: null, contact_id: random.int(1, context.counts.contacts), deal_id: null };
}

function longNote(random: Random): string {
  const parts = ['<div class="imported-email"><p><b>From:</b> sales@legacy-crm.example</p>'];
  let length = parts[0]!.length;
  while (length < 12_000) {
    const part = `<p>${random.pick(NOTE_SENTENCES)} ${random.pick(NOTE_SENTENCES)}</p>\n<ul><li>${random.pick(PRODUCTS)}</li><li>&amp; more &lt;details&gt;</li></ul>\n`;
    parts.push(part);
    length += part.length;
  }
  parts.push('</div>');
  return parts.join('');
}

export function noteRow(context: SampleContext, id: number): SampleRow {
  const random = Random.for(context.seed, 'notes', id);
  const position = sampleSlot(context, 'notes', id);
  let body: string;
  if (position === 0 || position === 1) body = longNote(random);
  else if (position === 2) body = `<p>${random.pick(NOTE_SENTENCES)}</p><br/><p>Call: ${random.int(200, 999)}-${random.int(1000, 9999)}</p>`;
  else body = Array.from({ length: random.int(1, 4) }, () => random.pick(NOTE_SENTENCES)).join(position === 3 ? '\r\n' : ' ');
  return {
    id,
    body,
    ...parentOf(context, random),
    owner_id: random.int(1, context.counts.owners),
    ...timestamps(context, random, position === 4),
  };
}

export function taskRow(context: SampleContext, id: number): SampleRow {
  const random = Random.for(context.seed, 'tasks', id);
  const position = sampleSlot(context, 'tasks', id);
  const due = context.baseMillis + random.int(-60 * 24, 60 * 24) * 3600_000 + random.int(0, 3) * 15 * 60_000;
  return {
    id,
    subject: random.pick(TASK_SUBJECTS),
    status: random.chance(0.6) ? 'done' : 'open',
    due_date: naiveTimestamp(due),
    ...parentOf(context, random),
    owner_id: random.int(1, context.counts.owners),
    ...timestamps(context, random, position === 4),
  };
}

const ACTIVITY_SUBJECTS: Record<SourceActivityType, readonly string[]> = {
  call: ['Discovery call', 'Follow-up call', 'Renewal check-in', 'Support callback'],
  meeting: ['Kick-off', 'Quarterly business review', 'Product demo', 'Contract walkthrough'],
  email: ['Your quote', 'Re: contract draft', 'Meeting notes', 'Invoice question'],
};

/** The activity's type (before its spelling): about 45% calls, 25% meetings, 30% e-mails. */
export function activityType(context: SampleContext, id: number): SourceActivityType {
  const roll = Random.for(context.seed, 'activities', id, 'type').next();
  return roll < 0.45 ? 'call' : roll < 0.7 ? 'meeting' : 'email';
}

/**
 * A logged call, meeting or e-mail. Durations are whole minutes (calls 1-60, meetings 30/45/60); meetings
 * have an end time, calls and e-mails a direction; the outcome column holds each type's own words. Mess: the
 * type in several spellings, a call without a duration, an e-mail without a body.
 */
export function activityRow(context: SampleContext, id: number): SampleRow {
  const random = Random.for(context.seed, 'activities', id);
  const position = sampleSlot(context, 'activities', id);
  const type = activityType(context, id);
  const spellings = SOURCE_ACTIVITY_TYPE_SPELLINGS[type];
  const spelling = spellings[position % spellings.length]!;
  const future = type === 'meeting' && random.chance(0.15);
  const when = context.baseMillis + (future ? random.int(1, 30 * 24) : -random.int(1, 180 * 24)) * 3600_000 + random.int(0, 3) * 15 * 60_000;
  const minutes = type === 'call' ? (position === 5 ? null : random.int(1, 60)) : type === 'meeting' ? random.pick([30, 45, 60]) : null;
  let outcome: string;
  if (type === 'call') outcome = random.pick(SOURCE_CALL_OUTCOMES);
  else if (type === 'meeting') outcome = future ? 'Scheduled' : random.pick(SOURCE_MEETING_OUTCOMES.filter((value) => value !== 'Scheduled'));
  else outcome = random.chance(0.9) ? 'Sent' : SOURCE_EMAIL_OUTCOMES[1];
  return {
    id,
    type: spelling,
    subject: random.pick(ACTIVITY_SUBJECTS[type]),
    body: type === 'email' && position === 6 ? null : random.pick(NOTE_SENTENCES),
    direction: type === 'meeting' ? null : random.chance(0.6) ? 'outbound' : 'inbound',
    duration_minutes: minutes,
    outcome,
    activity_date: naiveTimestamp(when),
    end_time: type === 'meeting' ? naiveTimestamp(when + (minutes ?? 0) * 60_000) : null,
    ...parentOf(context, random),
    owner_id: random.int(1, context.counts.owners),
    ...timestamps(context, random, position === 4),
  };
}

const ROW_FUNCTIONS = {
  owners: ownerRow,
  companies: companyRow,
  contacts: contactRow,
  deals: dealRow,
  notes: noteRow,
  tasks: taskRow,
  activities: activityRow,
} as const;

export function* tableRows(context: SampleContext, table: SourceTable): Generator<SampleRow> {
  if (table === 'deal_contacts') {
    for (let dealId = 1; dealId <= context.counts.deals; dealId++) {
      for (const contactId of dealContactIds(context, dealId)) yield { deal_id: dealId, contact_id: contactId };
    }
    return;
  }
  const row = ROW_FUNCTIONS[table];
  for (let id = 1; id <= context.counts[table]; id++) yield row(context, id);
}

export interface SampleData {
  readonly context: SampleContext;
  readonly counts: SampleCounts;
  /** Rows of one table, generated lazily (nothing is kept in memory). */
  rows(table: SourceTable): Generator<SampleRow>;
  /** Every row of every table, tables in dependency order. */
  [Symbol.iterator](): Generator<{ table: SourceTable; row: SampleRow }>;
}

/** The sample SOURCE data ("legacy CRM"): deterministic from the seed, streamed table by table. */
export function generateSampleData(options: SampleOptions): SampleData {
  const context = sampleContext(options);
  return {
    context,
    counts: context.counts,
    rows: (table) => tableRows(context, table),
    *[Symbol.iterator]() {
      for (const table of SOURCE_TABLES) for (const row of tableRows(context, table)) yield { table, row };
    },
  };
}
