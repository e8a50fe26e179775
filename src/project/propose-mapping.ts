import type { CrmRecord } from '../core/connector.js';
import { valuesLimitedByVariant, variantLabel, type FieldSchema, type FieldType, type FieldValue, type ObjectSchema, type PicklistOption, type SchemaDescription } from '../core/schema.js';
import { DEFAULT_OPTIONS, DEFAULT_TIME_ZONE, editDistance, OBJECT_DEFAULTS } from './project-file.js';
import { activityTypeField, durationUnitOf, isActivityObject, isDurationField, planActivityRoutes } from './propose-activities.js';
import { describeWhere, ledgerKeys } from './routing.js';
import type { ConnectionConfig, FieldMapping, FieldTransform, MatchKey, ObjectMapping, ProjectFile } from './types.js';

/**
 * What `ferry map` does: proposes a mapping from the two schemas (names, synonyms, types, references) and,
 * for picklists, value maps from the distinct source values. An existing project is kept as the user left
 * it; only what is missing is added.
 */
export interface ProposeMappingInput {
  sourceSchema: SchemaDescription;
  targetSchema: SchemaDescription;
  /** Distinct values of a source field (the engine reads source pages). */
  sampleValues?: (object: string, field: string) => Promise<string[]>;
  /**
   * Some records of a target object (the first page is enough): the owner table matches source owner names
   * against the target's owners. Without it, every owner is left for the user to fill in.
   */
  targetRecords?: (object: string) => Promise<CrmRecord[]>;
  existing?: ProjectFile;
  source: ConnectionConfig;
  target: ConnectionConfig;
}

export interface ProposedMapping {
  project: ProjectFile;
  notes: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Names

/** Lower case without separators: `First_Name`, `first-name`, `firstName` → `firstname`. */
export function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[\s_\-.]+/g, '');
}

function singular(name: string): string {
  if (name === 'people') return 'person';
  if (name.endsWith('ies') && name.length > 4) return `${name.slice(0, -3)}y`;
  if (/(ss|sh|ch|x)es$/.test(name)) return name.slice(0, -2);
  if (name.endsWith('s') && !name.endsWith('ss') && name.length > 3) return name.slice(0, -1);
  return name;
}

const OBJECT_GROUPS: readonly (readonly string[])[] = [
  ['owner', 'user', 'member', 'employee', 'agent', 'salesrep'],
  ['company', 'organization', 'organisation', 'account', 'org'],
  ['contact', 'person', 'people'],
  ['deal', 'opportunity', 'opp', 'potential'],
  ['note', 'comment', 'memo'],
  ['task', 'activity', 'todo'],
  ['lead', 'prospect'],
  ['product', 'item'],
  // Engagement objects of their own (HubSpot's calls, meetings, emails; Salesforce's Event is a meeting).
  ['call', 'phonecall'],
  ['meeting', 'event', 'appointment'],
  ['email', 'emailmessage'],
];

function objectGroup(name: string): number {
  const key = singular(normaliseName(name));
  return OBJECT_GROUPS.findIndex((group) => group.includes(key));
}

type ObjectKind = 'users' | 'companies' | 'contacts' | 'deals' | 'notes' | 'tasks' | 'other';
const KIND_BY_GROUP: ObjectKind[] = ['users', 'companies', 'contacts', 'deals', 'notes', 'tasks', 'contacts', 'other'];

function objectKind(name: string): ObjectKind {
  const group = objectGroup(name);
  return group < 0 ? 'other' : (KIND_BY_GROUP[group] ?? 'other');
}

/** The kind of a source object: its vendor object name (presets) first, then its own name. */
function sourceKind(object: ObjectSchema): ObjectKind {
  const byPreset = object.preset ? objectKind(object.preset.object) : 'other';
  return byPreset !== 'other' ? byPreset : objectKind(object.name);
}

function objectScore(source: string, target: string): number {
  const a = normaliseName(source);
  const b = normaliseName(target);
  if (a === b) return 100;
  if (singular(a) === singular(b)) return 95;
  const group = objectGroup(source);
  if (group >= 0 && group === objectGroup(target)) return 85;
  const distance = editDistance(singular(a), singular(b));
  if (distance <= Math.max(1, Math.floor(Math.min(a.length, b.length) / 4))) return 60;
  return 0;
}

const FIELD_SYNONYMS: readonly (readonly string[])[] = [
  ['firstname', 'givenname', 'fname', 'forename'],
  ['lastname', 'surname', 'familyname', 'lname'],
  ['jobtitle', 'title', 'position', 'role'],
  ['birthday', 'dateofbirth', 'birthdate', 'dob'],
  ['closedate', 'closingdate', 'expectedclosedate', 'closedat'],
  ['stage', 'dealstage', 'pipelinestage', 'salesstage'],
  ['parentcompanyid', 'parentid', 'parentaccountid', 'parentorganizationid', 'parentorganisationid', 'parentcompany'],
  ['companyid', 'organizationid', 'organisationid', 'accountid', 'company', 'organization', 'account', 'orgid'],
  ['contactid', 'personid', 'contact', 'person'],
  ['dealid', 'opportunityid', 'deal', 'opportunity'],
  ['ownerid', 'userid', 'assignedto', 'assigneeid', 'owner', 'assignee', 'salesrepid'],
  ['body', 'content', 'note', 'notebody', 'text', 'description'],
  ['email', 'emailaddress', 'mail', 'primaryemail'],
  ['phone', 'phonenumber', 'telephone', 'tel', 'primaryphone'],
  ['domain', 'website', 'url', 'web', 'homepage', 'companydomain'],
  ['amount', 'value', 'dealvalue', 'dealamount'],
  ['annualrevenue', 'revenue', 'yearlyrevenue'],
  ['industry', 'sector'],
  ['duedate', 'dueat', 'due', 'deadline', 'duedatetime'],
  // Activities (HubSpot notes, calls, meetings): when the activity happened.
  ['timestamp', 'activitydate', 'occurredat', 'createdat'],
  ['subject', 'tasktitle', 'summary', 'calltitle', 'meetingname', 'meetingtitle', 'emailsubject'],
  // A call's or meeting's result (HubSpot hs_call_disposition "Call outcome", hs_meeting_outcome).
  ['outcome', 'disposition', 'result', 'calloutcome', 'meetingoutcome', 'callresult'],
  ['status', 'taskstatus'],
  ['currency', 'currencycode'],
  ['lifecyclestage', 'lifecycle'],
];

function fieldSynonyms(a: string, b: string): boolean {
  return FIELD_SYNONYMS.some((group) => group.includes(a) && group.includes(b));
}

/** Vendor prefixes on property names: HubSpot's `hs_` (`hs_note_body`, `hs_task_status`). */
const VENDOR_PREFIXES = ['hs'];

function stripPrefix(name: string, object: string): string {
  const prefix = singular(normaliseName(object));
  return name.startsWith(prefix) && name.length > prefix.length ? name.slice(prefix.length) : name;
}

/** The name without a vendor prefix, then without the object's name: `hs_task_subject` on tasks → `subject`. */
function bareName(rawName: string, object: string): string {
  const [first, ...rest] = rawName.split(/[_\-.\s]+/);
  const unprefixed = rest.length > 0 && first !== undefined && VENDOR_PREFIXES.includes(first.toLowerCase()) ? normaliseName(rest.join('')) : normaliseName(rawName);
  return stripPrefix(unprefixed, object);
}

const REFERENCE_TYPES: ReadonlySet<FieldType> = new Set(['reference', 'reference-list']);
/** Scores of a reference pair known only by the object it points at (no name in common). */
const REFERENCE_SAME_KIND = 55;
const REFERENCE_ANY = 50;
const TEXT_TYPES: ReadonlySet<FieldType> = new Set(['string', 'text', 'email', 'phone', 'url', 'enum']);

/** Pairs of types a proposal may connect (the converter handles these without losing meaning). */
function typesFit(from: FieldType, to: FieldType): boolean {
  if (from === to || to === 'json') return true;
  if (REFERENCE_TYPES.has(from) || REFERENCE_TYPES.has(to)) return false;
  if (TEXT_TYPES.has(to)) return TEXT_TYPES.has(from) || from === 'number' || from === 'integer';
  if (to === 'number' || to === 'integer') return from === 'number' || from === 'integer' || from === 'string';
  if (to === 'date' || to === 'datetime') return from === 'date' || from === 'datetime' || from === 'string';
  if (to === 'boolean') return from === 'string' || from === 'integer';
  return false;
}

/** Well-known meanings by type: the only e-mail field on both sides belongs together, and so on. */
function meaning(field: FieldSchema): string | undefined {
  const name = normaliseName(field.name);
  if (field.type === 'email' || name.includes('email')) return 'email';
  if (field.type === 'phone' || name.includes('phone')) return 'phone';
  if (field.type === 'url' || name.includes('domain') || name.includes('website')) return 'web';
  if (/(amount|revenue|value)$/.test(name) && (field.type === 'number' || field.type === 'integer')) return 'amount';
  if (name.endsWith('stage')) return 'stage';
  return undefined;
}

/**
 * Meanings of target fields by bare name (vendor and object prefixes off: `hs_task_subject` on tasks →
 * `subject`), compared with the `meaning` a source field carries (CSV vendor presets). Only fields of a
 * source that carries meanings are scored this way, so other sources keep the name-based proposal.
 */
const TARGET_MEANINGS: Record<string, string> = {
  email: 'email',
  emailaddress: 'email',
  phone: 'phone',
  phonenumber: 'phone',
  mobilephone: 'mobile',
  mobile: 'mobile',
  mobilephonenumber: 'mobile',
  firstname: 'firstname',
  givenname: 'firstname',
  lastname: 'lastname',
  surname: 'lastname',
  fullname: 'fullname',
  displayname: 'fullname',
  jobtitle: 'jobtitle',
  domain: 'domain',
  companydomain: 'domain',
  website: 'website',
  websiteurl: 'website',
  url: 'website',
  amount: 'amount',
  value: 'amount',
  closedate: 'closedate',
  expectedclosedate: 'closedate',
  closingdate: 'closedate',
  currency: 'currency',
  currencycode: 'currency',
  stage: 'stage',
  pipelinestage: 'stage',
  body: 'body',
  content: 'body',
  description: 'body',
  timestamp: 'timestamp',
  duedate: 'duedate',
  dueat: 'duedate',
  due: 'duedate',
  owner: 'owner',
  ownerid: 'owner',
  hubspotownerid: 'owner',
  assignedto: 'owner',
  assigneeid: 'owner',
  status: 'status',
  priority: 'priority',
  type: 'type',
  industry: 'industry',
  annualrevenue: 'revenue',
  revenue: 'revenue',
  numberofemployees: 'employees',
  employees: 'employees',
  lifecyclestage: 'lifecyclestage',
  subject: 'title',
  tasktitle: 'title',
};

/** What a target field means (for comparing with a source field's `meaning`); undefined when unknown. */
function targetMeaning(field: FieldSchema, object: ObjectSchema): string | undefined {
  if (field.meaning) return field.meaning;
  const kind = objectKind(object.name);
  const label = field.label ? normaliseName(field.label) : undefined;
  // A label that says more than the name: HubSpot tasks' hs_timestamp is the "Due date".
  if (label === 'duedate') return 'duedate';
  const bare = bareName(field.name, object.name);
  if (bare === 'name') return kind === 'contacts' || kind === 'users' ? 'fullname' : 'title';
  if (bare === 'title') return kind === 'contacts' || kind === 'users' ? 'jobtitle' : 'title';
  return TARGET_MEANINGS[bare] ?? TARGET_MEANINGS[normaliseName(field.name)];
}

/** Meanings whose source value is a list of people's names, not a reference: mapped through an owner table. */
const OWNER = 'owner';

// ---------------------------------------------------------------------------------------------------------
// Field proposals

interface Candidate {
  source: FieldSchema;
  target: FieldSchema;
  score: number;
}

function writableTargets(target: ObjectSchema): FieldSchema[] {
  const excluded = new Set([target.externalIdField, target.createdField, target.modifiedField, 'id'].filter((name): name is string => !!name));
  return target.fields.filter((field) => !field.readOnly && !excluded.has(field.name));
}

function fieldScore(
  source: FieldSchema,
  target: FieldSchema,
  sourceObject: ObjectSchema,
  targetObject: ObjectSchema,
  objectMap: Map<string, string>,
  uniqueMeaning: (field: FieldSchema, side: 'source' | 'target') => boolean,
): number {
  const sourceRef = REFERENCE_TYPES.has(source.type);
  const targetRef = REFERENCE_TYPES.has(target.type);
  if (sourceRef !== targetRef) return 0;
  const a = normaliseName(source.name);
  const b = normaliseName(target.name);
  let score = 0;
  const x = bareName(source.name, sourceObject.name);
  const y = bareName(target.name, targetObject.name);
  // The target's label says what a vendor property means (HubSpot tasks' hs_timestamp is the "Due date").
  const label = target.label ? normaliseName(target.label) : undefined;
  if (a === b) score = 100;
  else if (fieldSynonyms(a, b)) score = 90;
  else if (stripPrefix(a, sourceObject.name) === stripPrefix(b, targetObject.name) || x === y || (label !== undefined && (label === a || label === x))) score = 85;
  else if (fieldSynonyms(stripPrefix(a, sourceObject.name), stripPrefix(b, targetObject.name)) || fieldSynonyms(x, y)) score = 80;
  else if (label !== undefined && (fieldSynonyms(a, label) || fieldSynonyms(x, label))) score = 75;
  if (sourceRef) {
    const referenced = source.reference?.object;
    const wanted = target.reference?.object;
    if (!referenced || !wanted || objectMap.get(referenced) !== wanted) return 0;
    if (source.type === 'reference-list' && target.type === 'reference') return 0;
    // A reference to the right object is a good sign even under another name; one of the same cardinality
    // (a single reference into a single reference, e.g. company_id -> HubSpot's primary_company) is a better
    // one than a single id into a list (associated_companies), which the engine accepts as a one-element list.
    return Math.max(score, source.type === target.type ? REFERENCE_SAME_KIND : REFERENCE_ANY);
  }
  // A source that knows what its fields mean (a vendor export): the meaning decides before the name does. A
  // date into a text column of the same meaning is fine (SQLite has no date type; it is written ISO).
  const datesAsText = (source.type === 'date' || source.type === 'datetime') && (target.type === 'string' || target.type === 'text');
  if (!typesFit(source.type, target.type) && !(datesAsText && source.meaning !== undefined)) return 0;
  if (source.meaning !== undefined) {
    const wanted = targetMeaning(target, targetObject);
    if (wanted !== undefined) return wanted === source.meaning ? 99 : 0;
    if (datesAsText) return 0;
    if (source.label !== undefined) {
      const label = normaliseName(source.label);
      if (label === b || (target.label !== undefined && label === normaliseName(target.label))) score = Math.max(score, 95);
    }
  }
  if (score === 0) {
    const sourceMeaning = meaning(source);
    if (sourceMeaning && sourceMeaning === meaning(target) && uniqueMeaning(source, 'source') && uniqueMeaning(target, 'target')) score = 60;
  }
  // A target that declares what its fields mean (an API connector: Pipedrive deals' `title`) against a source
  // that does not: the source field's meaning read from its name the way target names are read (a deal's
  // `name` is its title).
  if (score === 0 && source.meaning === undefined && target.meaning !== undefined && targetMeaning(source, sourceObject) === target.meaning) score = 70;
  return score;
}

/** URL, e-mail or host → lower-case host without `www.` (src/project/transform.ts). */
const DOMAIN_TRANSFORM: FieldTransform = { kind: 'domain' };

function transformFor(source: FieldSchema, target: FieldSchema, sourceObject?: ObjectSchema): FieldTransform {
  // Vendor exports write several addresses of one label into one cell (`a@x.io, b@y.io`): the first one.
  if (sourceObject?.preset && source.meaning === 'email' && target.type === 'email') return { kind: 'split', separator: ',', part: 'first' };
  if (target.type === 'date' && source.type === 'datetime') return { kind: 'date' };
  if (target.type === 'datetime' && (source.type === 'date' || source.type === 'string')) return { kind: 'datetime' };
  return { kind: 'copy' };
}

const FIRST_NAMES = new Set(['firstname', 'givenname', 'fname', 'forename']);
const LAST_NAMES = new Set(['lastname', 'surname', 'familyname', 'lname']);
const FULL_NAMES = new Set(['name', 'fullname', 'displayname']);

function proposeFields(
  sourceObject: ObjectSchema,
  targetObject: ObjectSchema,
  objectMap: Map<string, string>,
  existing: FieldMapping[],
): FieldMapping[] {
  const usedSources = new Set(existing.flatMap((mapping) => mapping.source));
  const usedTargets = new Set(existing.map((mapping) => mapping.target));
  const sources = sourceObject.fields.filter((field) => field.name !== 'id' && !usedSources.has(field.name));
  const targets = writableTargets(targetObject).filter((field) => !usedTargets.has(field.name));
  const meaningCounts = (fields: FieldSchema[]): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const field of fields) {
      const key = meaning(field);
      if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  };
  const sourceMeanings = meaningCounts(sources);
  const targetMeanings = meaningCounts(targets);
  const uniqueMeaning = (field: FieldSchema, side: 'source' | 'target'): boolean => {
    const key = meaning(field);
    return key !== undefined && (side === 'source' ? sourceMeanings : targetMeanings).get(key) === 1;
  };

  const candidates: Candidate[] = [];
  for (const source of sources) {
    for (const target of targets) {
      const score = fieldScore(source, target, sourceObject, targetObject, objectMap, uniqueMeaning);
      if (score > 0) candidates.push({ source, target, score });
    }
  }
  candidates.sort(
    (x, y) =>
      y.score - x.score ||
      sourceObject.fields.indexOf(x.source) - sourceObject.fields.indexOf(y.source) ||
      targetObject.fields.indexOf(x.target) - targetObject.fields.indexOf(y.target),
  );
  const takenSources = new Set<string>();
  const takenTargets = new Set<string>();
  const proposals: FieldMapping[] = [];
  for (const candidate of candidates) {
    if (takenSources.has(candidate.source.name) || takenTargets.has(candidate.target.name)) continue;
    // A reference under an unrelated name is only taken when no other pair is as good.
    if (candidate.score === REFERENCE_ANY || candidate.score === REFERENCE_SAME_KIND) {
      const rivals = candidates.filter(
        (other) =>
          other !== candidate &&
          other.score === candidate.score &&
          (other.source === candidate.source || other.target === candidate.target) &&
          !takenSources.has(other.source.name) &&
          !takenTargets.has(other.target.name),
      );
      if (rivals.length > 0) continue;
    }
    takenSources.add(candidate.source.name);
    takenTargets.add(candidate.target.name);
    proposals.push({ source: [candidate.source.name], target: candidate.target.name, transform: transformFor(candidate.source, candidate.target, sourceObject) });
  }

  // Vendor exports (sources whose fields carry meanings): a full name split into first and last name, a
  // website written as a domain as well.
  const freeTarget = (wanted: string): FieldSchema | undefined =>
    targets.find((field) => !takenTargets.has(field.name) && !REFERENCE_TYPES.has(field.type) && targetMeaning(field, targetObject) === wanted);
  const fullNameSource = sources.find((field) => field.meaning === 'fullname' && !takenSources.has(field.name));
  const firstTarget = freeTarget('firstname');
  const lastTarget = freeTarget('lastname');
  if (fullNameSource && firstTarget && lastTarget) {
    proposals.push({ source: [fullNameSource.name], target: firstTarget.name, transform: { kind: 'split', separator: ' ', part: 'first' } });
    proposals.push({ source: [fullNameSource.name], target: lastTarget.name, transform: { kind: 'split', separator: ' ', part: 'rest' } });
    takenSources.add(fullNameSource.name);
    takenTargets.add(firstTarget.name).add(lastTarget.name);
  }
  const webSource = sources.find((field) => field.meaning === 'website');
  const domainTarget = freeTarget('domain');
  if (webSource && domainTarget && TEXT_TYPES.has(domainTarget.type)) {
    proposals.push({ source: [webSource.name], target: domainTarget.name, transform: DOMAIN_TRANSFORM });
    takenSources.add(webSource.name);
    takenTargets.add(domainTarget.name);
  }

  // first + last name -> one name field.
  const fullName = targets.find((field) => FULL_NAMES.has(normaliseName(field.name)) && !takenTargets.has(field.name) && TEXT_TYPES.has(field.type));
  const free = sources.filter((field) => !takenSources.has(field.name));
  const first = free.find((field) => FIRST_NAMES.has(normaliseName(field.name)));
  const last = free.find((field) => LAST_NAMES.has(normaliseName(field.name)));
  if (fullName && first && last) {
    proposals.push({ source: [first.name, last.name], target: fullName.name, transform: { kind: 'join', separator: ' ' } });
  }
  // Keep the source's field order: easier to read in ferry.yaml.
  const order = (mapping: FieldMapping): number => sourceObject.fields.findIndex((field) => field.name === mapping.source[0]);
  return proposals.sort((x, y) => order(x) - order(y));
}

// ---------------------------------------------------------------------------------------------------------
// Value maps

/** Values that mean the same in status and stage picklists (normalised). */
const VALUE_SYNONYMS: readonly (readonly string[])[] = [
  ['open', 'todo', 'notstarted', 'new', 'pending', 'planned'],
  ['done', 'completed', 'complete', 'closed', 'finished'],
  ['inprogress', 'started', 'working', 'ongoing', 'active'],
  ['waiting', 'deferred', 'onhold', 'blocked'],
  ['cancelled', 'canceled', 'aborted'],
  ['won', 'closedwon', 'win'],
  ['lost', 'closedlost', 'loss'],
  ['qualification', 'qualified', 'qualifiedtobuy', 'qualify'],
  ['appointment', 'appointmentscheduled', 'meeting', 'meetingscheduled', 'discovery'],
  ['contract', 'contractsent', 'negotiation', 'contracting'],
  ['high', 'urgent'],
  ['low', 'minor'],
  ['normal', 'medium'],
  // Activity types (Pipedrive `task`, HubSpot `TODO`).
  ['task', 'todo'],
  // Directions of calls and e-mails (HubSpot's INCOMING_EMAIL is a received e-mail).
  ['inbound', 'incoming', 'incomingemail', 'received'],
  ['outbound', 'outgoing'],
];
/** Weak pairs: used only when nothing better fits, and reported as guesses. */
const WEAK_VALUE_SYNONYMS: readonly (readonly string[])[] = [
  ['proposal', 'proposalsent', 'presentation', 'presentationscheduled', 'quote', 'demo'],
  ['lead', 'new', 'prospect', 'prospecting', 'appointmentscheduled'],
  ['manufacturing', 'machinery', 'industrial', 'industrialautomation'],
  // Default pipelines of the CRMs people leave (Pipedrive, Salesforce, Zoho) onto HubSpot's.
  ['contact', 'contactmade', 'firstcontact', 'appointmentscheduled'],
  ['needsanalysis', 'analysis', 'qualifiedtobuy'],
  ['valueproposition', 'proposition', 'presentationscheduled'],
  ['negotiation', 'negotiationsstarted', 'negotiationreview', 'contractsent'],
  // Salesforce's default sales process between Value Proposition (50%) and Proposal/Price Quote (75%): its
  // decision-maker stages are HubSpot's "decision maker bought in" (80%).
  ['iddecisionmakers', 'decisionmakers', 'decisionmaker', 'decisionmakerboughtin'],
  ['perceptionanalysis', 'decisionmakerboughtin'],
  // Salesforce's default task statuses that are still open, onto a target that only knows "not started" and
  // "completed": open stays open (a guess the notes show).
  ['inprogress', 'waitingonsomeoneelse', 'deferred', 'notstarted'],
  // HubSpot's direction EMAIL: an e-mail sent from the CRM or logged by BCC, i.e. an outgoing one.
  ['outbound', 'outgoing', 'sent', 'email'],
];

interface ValueChoice {
  option: string;
  score: number;
}

function valueScore(value: string, option: PicklistOption): number {
  const v = normaliseName(value);
  if (v === '') return 0;
  const names = [option.value, option.label].filter((name): name is string => !!name).map(normaliseName);
  let best = 0;
  for (const name of names) {
    if (v === name) return 100;
    if (VALUE_SYNONYMS.some((group) => group.includes(v) && group.includes(name))) best = Math.max(best, 90);
    // Every word of the value appears in the option ("Closed Won" ~ "closedwon").
    const words = value
      .toLowerCase()
      .split(/[\s_\-./]+/)
      .map(normaliseName)
      .filter((word) => word.length > 1);
    if (words.length > 1 && words.every((word) => name.includes(word))) best = Math.max(best, 80);
    // The whole value inside a longer option ("Software" ~ "COMPUTER_SOFTWARE", "Healthcare" ~ "HOSPITAL_HEALTH_CARE").
    if (v.length >= 6 && name.length > v.length && name.includes(v)) best = Math.max(best, 70);
    // Shared prefix ("Qualification" ~ "qualifiedtobuy").
    let prefix = 0;
    while (prefix < v.length && prefix < name.length && v[prefix] === name[prefix]) prefix++;
    if (prefix >= 5 && prefix >= Math.min(v.length, name.length) / 2) best = Math.max(best, 60 + Math.min(prefix, 15));
    if (WEAK_VALUE_SYNONYMS.some((group) => group.includes(v) && group.includes(name))) best = Math.max(best, 30);
    // One word of a longer value that means the option (`Negotiations Started`, `Proposal/Price Quote`): a guess.
    if (words.length > 1) {
      const stems = words.map((word) => word.replace(/s$/, ''));
      if (stems.some((word) => word.length >= 4 && [...VALUE_SYNONYMS, ...WEAK_VALUE_SYNONYMS].some((group) => group.includes(word) && group.includes(name)))) best = Math.max(best, 40);
    }
  }
  return best;
}

function chooseOption(value: string, options: PicklistOption[]): ValueChoice | undefined {
  const scored = options.map((option) => ({ option: option.value, score: valueScore(value, option) })).filter((choice) => choice.score > 0);
  scored.sort((x, y) => y.score - x.score);
  const best = scored[0];
  if (!best) return undefined;
  if (scored[1] && scored[1].score === best.score) return undefined; // a tie is no proposal
  return best;
}

/**
 * A source value's target option, also by the label of the source's option when its value is an id (Pipedrive
 * stages: value `3`, label `Pipeline / Demo Scheduled`, tried whole and by its last part after ` / `).
 */
function chooseSourceOption(value: string, sourceField: FieldSchema, options: PicklistOption[]): ValueChoice | undefined {
  const label = sourceField.options?.find((option) => option.value === value)?.label;
  const names = [value];
  if (label && label !== value) names.push(label.split(' / ').at(-1)!.trim(), label);
  let best: ValueChoice | undefined;
  for (const name of names) {
    const choice = chooseOption(name, options);
    if (choice && (!best || choice.score > best.score)) best = choice;
  }
  return best;
}

/** `"3" (Pipeline / Demo Scheduled)`: a value as the notes show it, with its source label when it is an id. */
function shownValue(value: string, sourceField: FieldSchema): string {
  const label = sourceField.options?.find((option) => option.value === value)?.label;
  return label && label !== value ? `${JSON.stringify(value)} (${label})` : JSON.stringify(value);
}

async function proposeValueMap(
  sourceObject: ObjectSchema,
  sourceField: FieldSchema,
  targetField: FieldSchema,
  sampleValues: ProposeMappingInput['sampleValues'],
  where: string,
  notes: string[],
): Promise<FieldTransform> {
  const options = targetField.options ?? [];
  const distinct = new Set<string>();
  for (const option of sourceField.options ?? []) distinct.add(option.value);
  if (sampleValues) {
    for (const value of await sampleValues(sourceObject.name, sourceField.name)) {
      if (value !== null && value !== undefined && String(value).trim() !== '') distinct.add(String(value));
    }
  } else if (!sourceField.options) {
    notes.push(`${where}: no sample values were read; fill in the value map by hand (unmapped values fail their record)`);
  }
  const values: Record<string, FieldValue> = {};
  const unmapped: string[] = [];
  const guesses: string[] = [];
  for (const value of [...distinct].sort()) {
    const choice = chooseSourceOption(value, sourceField, options);
    if (!choice) {
      unmapped.push(value);
      continue;
    }
    values[value] = choice.option;
    if (choice.score < 60) guesses.push(`${shownValue(value, sourceField)} → ${choice.option}`);
  }
  if (sourceField.meaning === 'stage') {
    for (const [value, option] of nearestStages(sourceField, values, unmapped)) {
      values[value] = option;
      unmapped.splice(unmapped.indexOf(value), 1);
      guesses.push(`${shownValue(value, sourceField)} → ${option} (the stage before it in the source's pipeline)`);
    }
  }
  if (guesses.length > 0) notes.push(`${where}: guessed ${guesses.join(', ')}; please check`);
  if (unmapped.length > 0) {
    notes.push(
      `${where}: no target option for ${unmapped.map((value) => JSON.stringify(value)).join(', ')} (options: ${options.map((option) => option.value).join(', ')}); add them to the map, or records with them fail`,
    );
  }
  return { kind: 'map', values, unmapped: 'fail' };
}

/**
 * Pipeline stages the target has no name for (Salesforce's "Id. Decision Makers" onto a pipeline without a
 * decision-maker stage): a stage takes the target stage of the nearest stage before it in the source's own
 * order (its options are the pipeline in order) that has one, never a closed one (won or lost), so a deal
 * stays open and no further along than it was. Stages with nothing mapped before them stay unmapped.
 */
function nearestStages(sourceField: FieldSchema, values: Record<string, FieldValue>, unmapped: readonly string[]): [string, string][] {
  const order = (sourceField.options ?? []).map((option) => option.value);
  const closed = (option: FieldValue) => /won|lost/i.test(String(option));
  const out: [string, string][] = [];
  for (const value of unmapped) {
    const at = order.indexOf(value);
    if (at < 0 || closed(value)) continue;
    for (let before = at - 1; before >= 0; before--) {
      const option = values[order[before]!];
      if (option !== undefined && option !== null && !closed(option)) {
        out.push([value, String(option)]);
        break;
      }
    }
  }
  return out;
}

async function distinctValues(object: string, field: FieldSchema, sampleValues: ProposeMappingInput['sampleValues']): Promise<string[]> {
  const distinct = new Set<string>();
  for (const option of field.options ?? []) distinct.add(option.value);
  if (sampleValues) {
    for (const value of await sampleValues(object, field.name)) {
      if (value !== null && value !== undefined && String(value).trim() !== '') distinct.add(String(value).trim());
    }
  }
  return [...distinct].sort();
}

/**
 * A deal's status and stage into one target stage (Pipedrive `Deal - Status` + `Deal - Stage` → HubSpot
 * `dealstage`): the multi-source value map of the mapping helper's branch. Each source field's value is
 * looked up in order, the first one found wins: `won` / `lost` from the status, otherwise the stage. Open
 * statuses are left out of the map so the stage decides.
 */
async function proposeStatusAndStage(
  sourceObject: ObjectSchema,
  targetObject: ObjectSchema,
  fields: FieldMapping[],
  sampleValues: ProposeMappingInput['sampleValues'],
  notes: string[],
): Promise<void> {
  const stageMapping = fields.find((mapping) => mapping.source.length === 1 && sourceObject.fields.find((field) => field.name === mapping.source[0])?.meaning === 'stage');
  if (!stageMapping) return;
  const target = targetObject.fields.find((field) => field.name === stageMapping.target);
  const stage = sourceObject.fields.find((field) => field.name === stageMapping.source[0])!;
  const status = sourceObject.fields.find((field) => field.meaning === 'status' && !fields.some((mapping) => mapping.source.includes(field.name)));
  if (!target || target.type !== 'enum' || !target.options || target.options.length === 0 || !status) return;
  const options = target.options;
  const values: Record<string, FieldValue> = {};
  const unmapped: string[] = [];
  for (const value of await distinctValues(sourceObject.name, status, sampleValues)) {
    const key = normaliseName(value);
    if (key !== 'won' && key !== 'lost') continue; // open (or anything else): the stage decides
    const choice = chooseOption(value, options);
    if (choice) values[value] = choice.option;
    else unmapped.push(value);
  }
  const guesses: string[] = [];
  for (const value of await distinctValues(sourceObject.name, stage, sampleValues)) {
    if (Object.hasOwn(values, value)) continue;
    const choice = chooseSourceOption(value, stage, options);
    if (choice) {
      values[value] = choice.option;
      if (choice.score < 60) guesses.push(`${shownValue(value, stage)} → ${choice.option}`);
    } else unmapped.push(value);
  }
  const where = `${sourceObject.name}.${status.name} + ${stage.name} → ${targetObject.name}.${target.name}`;
  if (guesses.length > 0) notes.push(`${where}: guessed ${guesses.join(', ')}; please check`);
  if (!sampleValues && !stage.options) notes.push(`${where}: no sample values were read; fill in the value map by hand (unmapped values fail their record)`);
  if (unmapped.length > 0) {
    notes.push(
      `${where}: no target option for ${unmapped.map((value) => JSON.stringify(value)).join(', ')} (options: ${options.map((option) => option.value).join(', ')}); add them to the map, or records with them fail`,
    );
  }
  stageMapping.source = [status.name, stage.name];
  stageMapping.transform = { kind: 'map', values, unmapped: 'fail' };
  notes.push(`${where}: won and lost from ${status.name}, otherwise the stage (the first source value found in the map wins)`);
}

/** `anna  Schmidt` → `anna schmidt`: names compared for the owner table. */
function personKey(value: string): string {
  return value.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The names and e-mail of a target owner record (HubSpot owners: firstName/lastName/email; SQL users: name/email). */
function ownerKeys(record: CrmRecord): string[] {
  const fields = record.fields;
  const text = (name: string): string | undefined => {
    const value = fields[name];
    return typeof value === 'string' && value.trim() !== '' ? value : undefined;
  };
  const keys: string[] = [];
  const first = text('firstName') ?? text('firstname') ?? text('first_name');
  const last = text('lastName') ?? text('lastname') ?? text('last_name');
  if (first && last) keys.push(personKey(`${first} ${last}`));
  for (const name of ['name', 'fullName', 'full_name', 'displayName', 'email']) {
    const value = text(name);
    if (value) keys.push(personKey(value));
  }
  return keys;
}

/**
 * Owners named by name (Pipedrive `Deal - Owner: Anna Schmidt`, HubSpot's `Contact owner`): an owner table,
 * a value map from each distinct owner name to the target owner's id. Filled where one target owner has
 * exactly that name (or e-mail); the others are written `null` for the user to fill in, and listed in a
 * note. `unmapped: default` with `default: null`: a record whose owner is not in the table (a new sales rep
 * in a later export) is written without an owner rather than failed, because an owner is the one field a
 * consultant fixes afterwards in bulk; `ferry map` lists the names so nothing is lost silently. Owners that
 * the source has as records (a Salesforce `OwnerId` into `User.csv`) are references and match by e-mail.
 */
async function proposeOwnerTable(
  sourceObject: ObjectSchema,
  targetObject: ObjectSchema,
  targetSchema: SchemaDescription,
  fields: FieldMapping[],
  existing: FieldMapping[],
  input: ProposeMappingInput,
  notes: string[],
): Promise<void> {
  const used = new Set([...fields, ...existing].flatMap((mapping) => mapping.source));
  const written = new Set([...fields, ...existing].map((mapping) => mapping.target));
  const source = sourceObject.fields.find((field) => field.meaning === OWNER && !REFERENCE_TYPES.has(field.type) && !used.has(field.name));
  const target = writableTargets(targetObject).find((field) => !written.has(field.name) && targetMeaning(field, targetObject) === OWNER);
  if (!source || !target) return;
  if (!REFERENCE_TYPES.has(target.type)) {
    if (typesFit(source.type, target.type)) fields.push({ source: [source.name], target: target.name, transform: { kind: 'copy' } });
    return;
  }
  const ownerObject = target.reference?.object;
  const owners = ownerObject && targetSchema.objects.some((object) => object.name === ownerObject) && input.targetRecords ? await input.targetRecords(ownerObject) : [];
  const byKey = new Map<string, string[]>();
  for (const owner of owners) {
    for (const key of new Set(ownerKeys(owner))) byKey.set(key, [...(byKey.get(key) ?? []), owner.id]);
  }
  const values: Record<string, FieldValue> = {};
  const open: string[] = [];
  for (const name of await distinctValues(sourceObject.name, source, input.sampleValues)) {
    const ids = byKey.get(personKey(name)) ?? [];
    if (ids.length === 1) values[name] = ids[0]!;
    else {
      values[name] = null;
      open.push(name);
    }
  }
  fields.push({ source: [source.name], target: target.name, transform: { kind: 'map', values, unmapped: 'default', default: null } });
  const where = `${sourceObject.name}.${source.name} → ${targetObject.name}.${target.name}`;
  const matched = Object.keys(values).length - open.length;
  notes.push(
    `${where}: owner table, ${matched} of ${Object.keys(values).length} owner name(s) matched to ${ownerObject ?? 'target'} by name` +
      (open.length > 0 ? `; fill in the ${ownerObject ?? 'owner'} id of ${open.map((name) => JSON.stringify(name)).join(', ')} (until then their records are written without an owner)` : ''),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Match keys

function proposeMatchKeys(kind: ObjectKind, fields: FieldMapping[], sourceObject: ObjectSchema, targetObject: ObjectSchema): MatchKey[] {
  // Match keys read the raw source field and normalise it by kind (an e-mail, a domain from a URL), so a split
  // first e-mail or a domain-transformed website keys by its source field as well.
  const keyable = new Set<string>(['copy', 'lowercase', 'trim', 'split', 'domain']);
  const direct = fields.filter((mapping) => mapping.source.length === 1 && keyable.has(mapping.transform.kind));
  const find = (test: (source: FieldSchema, target: FieldSchema) => boolean): FieldMapping | undefined =>
    direct.find((mapping) => {
      const source = sourceObject.fields.find((field) => field.name === mapping.source[0]);
      const target = targetObject.fields.find((field) => field.name === mapping.target);
      return !!source && !!target && test(source, target);
    });
  const keys: MatchKey[] = [];
  const add = (mapping: FieldMapping | undefined, keyKind: MatchKey['kind']): void => {
    if (mapping) keys.push({ source: mapping.source[0]!, target: mapping.target, kind: keyKind });
  };
  if (kind === 'contacts' || kind === 'users') {
    add(find((_source, target) => meaning(target) === 'email'), 'email');
    if (kind === 'users' && keys.length === 0) {
      // Users the target only lets us read (HubSpot owners): matched by e-mail, never written.
      const source = sourceObject.fields.find((field) => field.meaning === 'email') ?? sourceObject.fields.find((field) => meaning(field) === 'email');
      const target = targetObject.fields.find((field) => meaning(field) === 'email');
      if (source && target) keys.push({ source: source.name, target: target.name, kind: 'email' });
    }
  } else if (kind === 'companies') {
    add(find((_source, target) => meaning(target) === 'web'), 'domain');
    add(find((_source, target) => normaliseName(target.name) === 'name' || normaliseName(target.name) === 'companyname'), 'name');
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------------------
// The proposal

function pairObjects(sourceSchema: SchemaDescription, targetSchema: SchemaDescription, fixed: Map<string, string>): Map<string, string> {
  const result = new Map(fixed);
  const takenTargets = new Set(fixed.values());
  const candidates: { source: string; target: string; score: number }[] = [];
  for (const source of sourceSchema.objects) {
    // Link rows go where their two sides go (pairJunctions), not to whatever their name resembles.
    if (result.has(source.name) || source.junction) continue;
    for (const target of targetSchema.objects) {
      const score = Math.max(objectScore(source.name, target.name), source.preset ? objectScore(source.preset.object, target.name) - 1 : 0);
      if (score > 0) candidates.push({ source: source.name, target: target.name, score });
    }
  }
  candidates.sort((x, y) => y.score - x.score);
  for (const candidate of candidates) {
    if (result.has(candidate.source) || takenTargets.has(candidate.target)) continue;
    result.set(candidate.source, candidate.target);
    takenTargets.add(candidate.target);
  }
  return result;
}

/**
 * Junction objects (`ObjectSchema.junction`: the rows of a many-to-many join table, e.g. a SQL `deal_contacts`
 * asked for as an object) are paired by what they link, never by name: with the target object that refers to
 * the target objects of both sides (deals -> Opportunity and contacts -> Contact: OpportunityContactRole, with
 * OpportunityId and ContactId). Candidates are target objects with a writable reference to each (two different
 * fields); the best is one the target marks as a junction, then one whose two references are both required,
 * then the one with the fewest writable references (a link object refers to little else; a task refers to
 * contacts and deals among many others). A candidate that is neither marked, nor requires both, nor refers to
 * nothing but the two is no link object. A tie is no proposal. When the target takes these links as a list on
 * one side (a SQL target's `deals.contacts`, HubSpot's `associated_contacts`), the list is what the field
 * proposal maps, and the junction object is left out: writing both would write each link twice.
 */
function pairJunctions(sourceSchema: SchemaDescription, targetSchema: SchemaDescription, objectMap: Map<string, string>, notes: string[]): void {
  const taken = new Set(objectMap.values());
  const target = (name: string) => targetSchema.objects.find((object) => object.name === name);
  for (const source of sourceSchema.objects) {
    if (!source.junction || objectMap.has(source.name)) continue;
    const sides = source.junction.fields.map((name) => source.fields.find((field) => field.name === name)?.reference?.object);
    const [a, b] = sides.map((side) => (side === undefined ? undefined : objectMap.get(side)));
    if (a === undefined || b === undefined) continue; // reported as not mapped, like any object without a target
    const list = [
      [a, b],
      [b, a],
    ].flatMap(([owner, other]) => (target(owner!)?.fields ?? []).filter((field) => field.type === 'reference-list' && field.reference?.object === other && !field.readOnly).map((field) => `${owner}.${field.name}`));
    if (list.length > 0) {
      const sourceList = [
        [sides[0], sides[1]],
        [sides[1], sides[0]],
      ].some(([owner, other]) => sourceSchema.objects.find((object) => object.name === owner)?.fields.some((field) => field.type === 'reference-list' && field.reference?.object === other));
      notes.push(
        sourceList
          ? `${source.name}: not mapped as an object; its links go into ${list.join(' / ')} (a list), with the ${sides[0]} or ${sides[1]} record`
          : `${source.name}: not mapped; the target takes these links as a list (${list.join(' / ')}), which the source does not have: its rows are not migrated`,
      );
      continue;
    }
    const ranked = targetSchema.objects
      .filter((candidate) => candidate.name !== a && candidate.name !== b && !taken.has(candidate.name))
      .flatMap((candidate) => {
        const references = writableTargets(candidate).filter((field) => field.type === 'reference');
        const toA = references.filter((field) => field.reference?.object === a);
        const toB = references.filter((field) => field.reference?.object === b);
        const pair = toA.flatMap((x) => toB.filter((y) => y !== x).map((y) => [x, y] as const));
        if (pair.length === 0) return [];
        const required = pair.some(([x, y]) => x.required === true && y.required === true);
        const marked = candidate.junction !== undefined;
        if (!marked && !required && references.length !== 2) return [];
        return [{ name: candidate.name, rank: [marked ? 0 : 1, required ? 0 : 1, references.length] }];
      })
      .sort((x, y) => x.rank[0]! - y.rank[0]! || x.rank[1]! - y.rank[1]! || x.rank[2]! - y.rank[2]!);
    const [best, next] = ranked;
    if (!best) {
      notes.push(`${source.name}: links ${sides[0]} and ${sides[1]}; no target object refers to both ${a} and ${b}, so it is not mapped`);
      continue;
    }
    if (next && next.rank.every((value, index) => value === best.rank[index])) {
      notes.push(`${source.name}: links ${sides[0]} and ${sides[1]}; ${ranked.filter((entry) => entry.rank.every((value, index) => value === best.rank[index])).map((entry) => entry.name).join(', ')} all refer to ${a} and ${b}: not mapped, pick one by hand`);
      continue;
    }
    objectMap.set(source.name, best.name);
    taken.add(best.name);
    notes.push(`${source.name}: links ${sides[0]} and ${sides[1]}, so each of its rows becomes a ${best.name} record (it refers to ${a} and ${b})`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Activities split by type (src/project/propose-activities.ts)

/** Where one source object goes: one target, or several routed ones (each with a row filter and its key under objects). */
interface ObjectPlan {
  target: string;
  where?: Record<string, string[]>;
  key?: string;
}

/**
 * The target object(s) of a source object. An activity table whose type column holds calls, meetings or
 * e-mails, going to a target with objects for them (HubSpot), is routed: one mapping per target object,
 * each taking its type values. Source objects the project already maps keep their mapping.
 */
async function objectPlans(
  sourceObject: ObjectSchema,
  objectMap: Map<string, string>,
  targetSchema: SchemaDescription,
  sourceSchema: SchemaDescription,
  objects: ObjectMapping[],
  sampleValues: ProposeMappingInput['sampleValues'],
  notes: string[],
): Promise<ObjectPlan[]> {
  const paired = objectMap.get(sourceObject.name);
  const single = paired ? [{ target: paired }] : [];
  if (objects.some((mapping) => mapping.source === sourceObject.name) || !isActivityObject(sourceObject)) return single;
  const typeField = activityTypeField(sourceObject);
  if (!typeField) return single;
  const values = await distinctValues(sourceObject.name, typeField, sampleValues);
  // The paired target is the home of the other values only when it is not another source's own object.
  const takenByOther = paired !== undefined && [...objectMap.entries()].some(([source, target]) => source !== sourceObject.name && target === paired);
  const plan = planActivityRoutes(values, targetSchema.objects.map((object) => object.name), takenByOther ? undefined : paired);
  if (!plan) return single;
  const sourceNames = new Set(sourceSchema.objects.map((object) => object.name));
  const used = new Set(ledgerKeys(objects));
  const plans = plan.routes.map((route) => {
    let key = route.target;
    if (sourceNames.has(key) || used.has(key)) key = `${sourceObject.name}_to_${route.target}`;
    used.add(key);
    return { target: route.target, key, where: { [typeField.name]: route.values } };
  });
  notes.push(
    `${sourceObject.name}: split by ${typeField.name} into ${plans.map((entry) => entry.target).join(', ')} (one mapping each, with a row filter); ` +
      `a ${typeField.name} value none of them lists is left out of the migration (counted filtered): add it to a where` +
      (plan.unrouted.length > 0 ? `. Not routed (no target object for them): ${plan.unrouted.map((value) => JSON.stringify(value)).join(', ')}` : ''),
  );
  return plans;
}

/** Target objects that are engagements with their own required timestamp (HubSpot calls, meetings, e-mails). */
const ENGAGEMENT_OBJECTS: ReadonlySet<string> = new Set(['calls', 'meetings', 'emails']);

/** HubSpot's technical states of an engagement (a call's dialling state, an e-mail's send state). */
const ENGAGEMENT_STATES: ReadonlySet<string> = new Set(['hs_call_status', 'hs_email_status']);

/** Source date fields for an engagement's timestamp, best first (normalised names and meanings). */
const ACTIVITY_TIME_NAMES = ['timestamp', 'activitydate', 'occurredat', 'starttime', 'startdatetime', 'startdate', 'startedat', 'start', 'date', 'datetime', 'time', 'duedate', 'dueat', 'due'];

/**
 * What names and types alone miss on an engagement: its required timestamp (from the activity's own date,
 * else its start or due date), a meeting's start time from the same field, and a duration in the target's
 * unit through an explicit `duration` transform (a source unit its name does not state is assumed to be
 * minutes, and a note says so).
 */
function proposeEngagementFields(sourceObject: ObjectSchema, targetObject: ObjectSchema, fields: FieldMapping[], existing: FieldMapping[], notes: string[]): void {
  // A to-do's status (Pipedrive's Done, a task's open/done) says whether it happened, not how a call was
  // dialled or an e-mail sent (hs_call_status, hs_email_status): proposing it would fail every open one.
  for (let index = fields.length - 1; index >= 0; index--) {
    const mapping = fields[index]!;
    const sourceField = sourceObject.fields.find((candidate) => candidate.name === mapping.source[0]);
    if (ENGAGEMENT_STATES.has(mapping.target) && sourceField && (sourceField.meaning === 'status' || /^(status|done|completed|state)$/.test(bareName(sourceField.name, sourceObject.name)))) fields.splice(index, 1);
  }
  const all = () => [...existing, ...fields];
  const written = (name: string) => all().some((mapping) => mapping.target === name);
  const read = (name: string) => all().some((mapping) => mapping.source.includes(name));
  const targets = writableTargets(targetObject);
  const where = `${sourceObject.name} → ${targetObject.name}`;
  const dateLike = (field: FieldSchema) => ['date', 'datetime', 'string'].includes(field.type) && field.name !== sourceObject.modifiedField && field.name !== sourceObject.createdField;
  const rank = (field: FieldSchema): number => {
    const names = [normaliseName(field.name), bareName(field.name, sourceObject.name), field.meaning ?? ''];
    const found = ACTIVITY_TIME_NAMES.findIndex((name) => names.includes(name));
    return found < 0 ? Number.POSITIVE_INFINITY : found;
  };
  const timeSource = (): FieldSchema | undefined => {
    const start = all().find((mapping) => /start/.test(normaliseName(mapping.target)) && mapping.source.length === 1);
    const fromStart = start ? sourceObject.fields.find((field) => field.name === start.source[0]) : undefined;
    if (fromStart) return fromStart;
    return sourceObject.fields.filter((field) => dateLike(field) && rank(field) < Number.POSITIVE_INFINITY).sort((a, b) => rank(a) - rank(b))[0];
  };
  for (const target of targets.filter((field) => (field.type === 'datetime' || field.type === 'date') && !written(field.name))) {
    const isTimestamp = target.required === true;
    const isStart = /starttime$/.test(normaliseName(target.name));
    if (!isTimestamp && !isStart) continue;
    const source = timeSource();
    if (!source) continue;
    fields.push({ source: [source.name], target: target.name, transform: transformFor(source, target, sourceObject) });
    notes.push(`${where}: ${target.name} from ${source.name} (when the activity happened); check it is the right date`);
  }
  const durationTarget = targets.find((field) => isDurationField(field) && (field.type === 'number' || field.type === 'integer'));
  // A duration whose name states its unit first (Zoho exports `Call Duration` as mm:ss and `Call Duration (in seconds)`).
  const durations = sourceObject.fields.filter((field) => isDurationField(field));
  const durationSource = durations.find((field) => durationUnitOf(field, sourceObject) !== undefined) ?? durations[0];
  if (!durationTarget || !durationSource) return;
  const to = durationUnitOf(durationTarget, targetObject);
  if (!to) return;
  const stated = durationUnitOf(durationSource, sourceObject);
  const from = stated ?? 'minutes';
  const proposed = fields.find((mapping) => mapping.target === durationTarget.name);
  if (existing.some((mapping) => mapping.target === durationTarget.name) || (!proposed && read(durationSource.name))) return;
  const mapping: FieldMapping = { source: [durationSource.name], target: durationTarget.name, transform: { kind: 'duration', from, to } };
  if (proposed) Object.assign(proposed, mapping);
  else {
    fields.push(mapping);
    // In the source's field order, as the other proposals are: easier to read in ferry.yaml.
    const order = (entry: FieldMapping): number => sourceObject.fields.findIndex((candidate) => candidate.name === entry.source[0]);
    fields.sort((x, y) => order(x) - order(y));
  }
  notes.push(
    `${where}: ${durationSource.name} → ${durationTarget.name} converted from ${from}${stated ? '' : ' (assumed: the name states no unit; change `from` if it is seconds or hours)'} to ${to}; a clock text A:B is read as ${from === 'seconds' || from === 'milliseconds' ? 'minutes:seconds' : 'hours:minutes'}`,
  );
}

/** Dependency order for a readable file: users, companies, contacts, deals, then the rest. */
const KIND_ORDER: ObjectKind[] = ['users', 'companies', 'contacts', 'deals', 'other', 'tasks', 'notes'];

export async function proposeMapping(input: ProposeMappingInput): Promise<ProposedMapping> {
  const { sourceSchema, targetSchema, existing } = input;
  const notes: string[] = [];
  const existingObjects = existing?.objects ?? [];
  const fixed = new Map<string, string>();
  for (const mapping of existingObjects) if (!fixed.has(mapping.source)) fixed.set(mapping.source, mapping.target);
  const objectMap = pairObjects(sourceSchema, targetSchema, fixed);
  pairJunctions(sourceSchema, targetSchema, objectMap, notes);

  const objects: ObjectMapping[] = existingObjects.map((mapping) => ({ ...mapping, fields: [...mapping.fields], matchKeys: [...mapping.matchKeys], links: { ...mapping.links } }));
  const proposedSources = [...sourceSchema.objects].sort(
    (x, y) => KIND_ORDER.indexOf(sourceKind(x)) - KIND_ORDER.indexOf(sourceKind(y)),
  );
  for (const sourceObject of proposedSources) {
    const plans = await objectPlans(sourceObject, objectMap, targetSchema, sourceSchema, objects, input.sampleValues, notes);
    if (plans.length === 0) {
      notes.push(`${sourceObject.name}: no matching target object; not mapped (add it by hand if it should be migrated)`);
      continue;
    }
    for (const plan of plans) {
      const targetName = plan.target;
      const targetObject = targetSchema.objects.find((object) => object.name === targetName);
      if (!targetObject) continue; // an existing mapping to an object the target no longer has: ferry check reports it
      const kind = sourceObject.junction ? 'other' : sourceKind(sourceObject) === 'other' ? objectKind(targetObject.name) : sourceKind(sourceObject);
      const current = objects.find((mapping) => mapping.source === sourceObject.name && mapping.target === targetName);
      const fields = proposeFields(sourceObject, targetObject, objectMap, current?.fields ?? []);
      await proposeStatusAndStage(sourceObject, targetObject, fields, input.sampleValues, notes);
      await proposeOwnerTable(sourceObject, targetObject, targetSchema, fields, current?.fields ?? [], input, notes);
      if (ENGAGEMENT_OBJECTS.has(targetObject.name)) proposeEngagementFields(sourceObject, targetObject, fields, current?.fields ?? [], notes);
      for (const field of fields) {
        const sourceField = sourceObject.fields.find((candidate) => candidate.name === field.source[0]);
        const targetField = targetObject.fields.find((candidate) => candidate.name === field.target);
        if (!sourceField || !targetField || targetField.type !== 'enum' || !targetField.options || field.source.length !== 1) continue;
        const sameOptions =
          sourceField.type === 'enum' &&
          !!sourceField.options &&
          sourceField.options.every((option) => targetField.options!.some((target) => target.value === option.value));
        if (sameOptions) continue;
        field.transform = await proposeValueMap(sourceObject, sourceField, targetField, input.sampleValues, `${sourceObject.name}.${sourceField.name} → ${targetName}.${targetField.name}`, notes);
      }
      for (const field of fields) {
        const targetField = targetObject.fields.find((candidate) => candidate.name === field.target);
        if (field.transform.kind !== 'map' || !targetField?.variantOptions || !targetObject.variants) continue;
        const transform = field.transform;
        const limited = valuesLimitedByVariant(targetObject, targetField, Object.values(transform.values).filter((value): value is string => typeof value === 'string'));
        if (limited.length === 0) continue;
        const kind = targetObject.variants.kind;
        const sources = (value: string) => Object.keys(transform.values).filter((key) => transform.values[key] === value).map((key) => JSON.stringify(key)).join(', ');
        notes.push(
          `${sourceObject.name}.${field.source.join(' + ')} → ${targetName}.${targetField.name}: not every ${kind} offers ${limited.map((each) => `${JSON.stringify(each.value)} (from ${sources(each.value)}; not in ${each.missingIn.map((id) => variantLabel(targetObject, id)).join(', ')})`).join(', ')}; records of those ${kind}s with these values fail`,
        );
      }

      if (current) {
        current.fields.push(...fields);
        for (const field of fields) notes.push(`${sourceObject.name}: added ${field.source.join(' + ') || '(constant)'} → ${targetName}.${field.target}`);
      } else {
        const mapping: ObjectMapping = {
          source: sourceObject.name,
          target: targetName,
          fields,
          matchKeys: proposeMatchKeys(kind, fields, sourceObject, targetObject),
          matched: OBJECT_DEFAULTS.matched,
          duplicates: OBJECT_DEFAULTS.duplicates,
          ambiguous: OBJECT_DEFAULTS.ambiguous,
          matchOnly: kind === 'users',
          links: {},
        };
        if (plan.where) {
          mapping.key = plan.key;
          mapping.where = plan.where;
        }
        objects.push(mapping);
        const keys = mapping.matchKeys.map((key) => `${String(key.source)} (${key.kind})`).join(', ');
        notes.push(
          `${existing ? 'added ' : ''}${sourceObject.name} → ${targetName}${plan.where ? ` (${plan.key}: ${describeWhere(mapping)})` : ''}: ${fields.length} field(s)` +
            (keys ? `, matched by ${keys}` : ', no match key (records are created)') +
            (mapping.matchOnly ? '; link only (never created): link unmatched ones by hand under links' : ''),
        );
      }

      const mapping = objects.find((candidate) => candidate.source === sourceObject.name && candidate.target === targetName)!;
      const written = new Set(mapping.fields.map((field) => field.target));
      const read = new Set(mapping.fields.flatMap((field) => field.source));
      const missingRequired = writableTargets(targetObject).filter((field) => field.required && !written.has(field.name));
      if (missingRequired.length > 0 && !mapping.matchOnly) {
        notes.push(`${sourceObject.name} → ${targetName}: required target field(s) ${missingRequired.map((field) => field.name).join(', ')} not mapped; map them or records fail`);
      }
      const unread = sourceObject.fields.filter(
        (field) => !read.has(field.name) && field.name !== 'id' && field.name !== sourceObject.createdField && field.name !== sourceObject.modifiedField && !/^(created|updated|modified)(_?at)?$/i.test(field.name),
      );
      if (unread.length > 0 && !current) notes.push(`${sourceObject.name}: source field(s) not mapped: ${unread.map((field) => field.name).join(', ')}`);
    }
  }

  const project: ProjectFile = {
    version: 1,
    source: existing?.source ?? input.source,
    target: existing?.target ?? input.target,
    sourceTimeZone: existing?.sourceTimeZone ?? DEFAULT_TIME_ZONE,
    objects,
    options: existing ? { ...existing.options } : { ...DEFAULT_OPTIONS },
  };
  if (existing?.state !== undefined) project.state = existing.state;
  return { project, notes };
}
