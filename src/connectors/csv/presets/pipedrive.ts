import type { PresetColumn, PresetInput, PresetObject, VendorPreset } from './types.js';
import { squash } from './types.js';

/**
 * Pipedrive's spreadsheet export (list view → "Export filter results", CSV or Excel). Every column is
 * `Entity - Field` (`Person - Name`, `Person - Email - Work`, `Deal - Expected close date`); an export of one
 * entity may carry columns of related entities (a deals export with `Person - Email - Work`,
 * `Organization - ID`). Activity and note exports also come with plain headers (`ID`, `Subject`, `Deal ID`,
 * `Add time`, `Update time`, `Content`). Sources and assumptions: docs/connectors/csv.md, "Pipedrive".
 */

interface Entity {
  /** The header prefix. */
  prefix: string;
  object: string;
  name: string;
}

const ENTITIES: Entity[] = [
  { prefix: 'Organization', object: 'organization', name: 'organizations' },
  { prefix: 'Person', object: 'person', name: 'people' },
  { prefix: 'Deal', object: 'deal', name: 'deals' },
  { prefix: 'Activity', object: 'activity', name: 'activities' },
  { prefix: 'Note', object: 'note', name: 'notes' },
  { prefix: 'Lead', object: 'lead', name: 'leads' },
  { prefix: 'Product', object: 'product', name: 'products' },
];

const PREFIXED = /^(Organization|Person|Deal|Activity|Note|Lead|Product) - (.+)$/;

const MODIFIED_LABELS = ['updatetime', 'lastupdate', 'updated', 'updatedtime'];
const CREATED_LABELS = ['addtime', 'created', 'dealcreated', 'creationtime', 'createdtime'];

/** Plain-header references of activity and note exports. */
const PLAIN_REFERENCES: Record<string, string> = {
  dealid: 'deal',
  personid: 'person',
  organizationid: 'organization',
  orgid: 'organization',
  leadid: 'lead',
};

/** Meaning and type of a field of the file's own entity, from its label (the part after `Entity - `). */
function ownColumn(entity: Entity, label: string): PresetColumn {
  const key = squash(label);
  const column: PresetColumn = { label };
  const email = /^email(?: - (.+))?$/i.exec(label);
  if (email) {
    column.type = 'email';
    return column;
  }
  const phone = /^phone(?: - (.+))?$/i.exec(label);
  if (phone) {
    column.type = 'phone';
    if (phone[1] && squash(phone[1]) === 'mobile') column.meaning = 'mobile';
    return column;
  }
  if (key === 'website' || key === 'linkedinprofile' || key === 'url') {
    column.type = 'url';
    if (key === 'website') column.meaning = 'website';
    return column;
  }
  if (key === 'owner' || key === 'assignedtouser' || key === 'user') column.meaning = 'owner';
  else if (key === 'firstname') column.meaning = 'firstname';
  else if (key === 'lastname') column.meaning = 'lastname';
  else if (key === 'name' && entity.object === 'person') column.meaning = 'fullname';
  else if (key === 'name' || (key === 'title' && entity.object === 'deal') || (key === 'subject' && entity.object === 'activity')) column.meaning = 'title';
  else if (key === 'title' || key === 'jobtitle') column.meaning = 'jobtitle';
  else if (key === 'value' && entity.object === 'deal') column.meaning = 'amount';
  else if (key === 'currency' || key === 'currencyofvalue') column.meaning = 'currency';
  else if (key === 'expectedclosedate' || key === 'closedate') column.meaning = 'closedate';
  else if (key === 'status' || key === 'done') column.meaning = 'status';
  else if (key === 'stage') column.meaning = 'stage';
  else if (key === 'content' || key === 'note' || key === 'description') column.meaning = 'body';
  else if (key === 'type') column.meaning = 'type';
  else if (key === 'duedate') column.meaning = 'duedate';
  else if (key === 'industry') column.meaning = 'industry';
  else if (key === 'annualrevenue') column.meaning = 'revenue';
  else if (key === 'numberofemployees') column.meaning = 'employees';
  return column;
}

/**
 * Of the own entity's e-mail (or phone) columns, the primary one gets the plain meaning: Work first, then the
 * unlabelled one, then Home, then the rest. Related entities' columns (label `Person - Email - Work` on a deal)
 * never do.
 */
function markPrimary(columns: Map<string, PresetColumn>, type: 'email' | 'phone'): void {
  const word = type === 'email' ? /^email/i : /^phone/i;
  const candidates = [...columns.values()].filter((column) => column.type === type && column.meaning === undefined && column.label !== undefined && word.test(column.label));
  const rank = (label: string): number => {
    const kind = squash(label.replace(word, ''));
    return kind === 'work' ? 0 : kind === '' ? 1 : kind === 'home' ? 2 : 3;
  };
  candidates.sort((x, y) => rank(x.label!) - rank(y.label!));
  if (candidates[0]) candidates[0].meaning = type;
}

export const pipedrivePreset: VendorPreset = {
  vendor: 'pipedrive',
  detect(input: PresetInput): PresetObject | undefined {
    const cells = input.header.map((cell) => cell.trim());
    const prefixed = cells.map((cell) => PREFIXED.exec(cell));
    const prefixedCount = prefixed.filter((match) => match !== null).length;
    if (prefixedCount >= 2 && prefixedCount / cells.length >= 0.6) return detectPrefixed(cells, prefixed, prefixedCount);
    return detectPlain(input, cells);
  },
};

function detectPrefixed(cells: string[], prefixed: (RegExpExecArray | null)[], prefixedCount: number): PresetObject | undefined {
  // The file's own entity: the one whose `X - ID` column comes first; without any ID column, the most frequent.
  const counts = new Map<string, number>();
  for (const match of prefixed) if (match) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
  const idColumns = cells.filter((cell) => / - ID$/.test(cell) && PREFIXED.test(cell));
  const byCount = [...counts.entries()].sort((x, y) => y[1] - x[1]);
  const ownPrefix = idColumns.length > 0 ? byCount.find(([prefix]) => idColumns[0]!.startsWith(`${prefix} - `) && counts.get(prefix)! >= byCount[0]![1] / 2)?.[0] ?? idColumns[0]!.split(' - ')[0]! : byCount[0]![0];
  const entity = ENTITIES.find((candidate) => candidate.prefix === ownPrefix)!;
  const columns = new Map<string, PresetColumn>();
  let id: string | undefined;
  let modified: string | undefined;
  let created: string | undefined;
  cells.forEach((cell, index) => {
    const match = prefixed[index];
    if (!match) {
      // Unprefixed time stamps of the row's own entity (`Update time`, `Add time`).
      const key = squash(cell);
      if (MODIFIED_LABELS.includes(key) && modified === undefined) modified = cell;
      else if (CREATED_LABELS.includes(key) && created === undefined) created = cell;
      return;
    }
    const [, prefix, label] = match as unknown as [string, string, string];
    if (prefix !== entity.prefix) {
      // A related entity's column: its ID is a reference, anything else is that entity's data, kept by its full label.
      const other = ENTITIES.find((candidate) => candidate.prefix === prefix)!;
      if (squash(label) === 'id') columns.set(cell, { label: `${prefix} ID`, reference: other.object, type: 'string' });
      else columns.set(cell, { label: cell, ...(/^email/i.test(label) ? { type: 'email' as const } : /^phone/i.test(label) ? { type: 'phone' as const } : {}) });
      return;
    }
    const key = squash(label);
    if (key === 'id') {
      id ??= cell;
      columns.set(cell, { label: 'ID', type: 'string' });
      return;
    }
    if (MODIFIED_LABELS.includes(key) && modified === undefined) {
      modified = cell;
      columns.set(cell, { label, meaning: 'modified' });
      return;
    }
    if (CREATED_LABELS.includes(key) && created === undefined) {
      created = cell;
      columns.set(cell, { label, meaning: entity.object === 'note' ? 'timestamp' : 'created' });
      return;
    }
    // `Organization` / `Contact person` on a deal or person are names of the related records, not ids.
    columns.set(cell, ownColumn(entity, label));
  });
  markPrimary(columns, 'email');
  markPrimary(columns, 'phone');
  const share = prefixedCount / cells.length;
  return {
    vendor: 'pipedrive',
    object: entity.object,
    name: entity.name,
    // Entity prefixes on most columns plus the entity's own ID column are as sure as a header gets.
    confidence: Math.min(1, 0.5 + share * 0.3 + (id ? 0.2 : 0)),
    ...(id !== undefined ? { id } : {}),
    ...(modified !== undefined ? { modified } : {}),
    ...(created !== undefined ? { created } : {}),
    columns,
  };
}

/** Activity and note exports with plain headers: `ID`, `Subject`/`Content`, `Deal ID`, `Add time`, `Update time`. */
function detectPlain(input: PresetInput, cells: string[]): PresetObject | undefined {
  const keys = cells.map(squash);
  const has = (key: string) => keys.includes(key);
  const references = keys.filter((key) => key in PLAIN_REFERENCES).length;
  if (!has('id') || !has('addtime') || !has('updatetime') || references === 0) return undefined;
  const activity = has('subject') && (has('duedate') || has('done') || has('markedasdonetime'));
  const note = has('content') && !activity;
  if (!activity && !note) return undefined;
  const entity = ENTITIES.find((candidate) => candidate.object === (activity ? 'activity' : 'note'))!;
  const columns = new Map<string, PresetColumn>();
  cells.forEach((cell, index) => {
    const key = keys[index]!;
    const reference = PLAIN_REFERENCES[key];
    if (key === 'id') columns.set(cell, { label: 'ID', type: 'string' });
    else if (reference) columns.set(cell, { label: cell, reference, type: 'string' });
    else if (key === 'addtime') columns.set(cell, { label: cell, meaning: entity.object === 'note' ? 'timestamp' : 'created' });
    else if (key === 'updatetime') columns.set(cell, { label: cell, meaning: 'modified' });
    else if (key === 'user' || key === 'assignedtouser') columns.set(cell, { label: cell, meaning: 'owner' });
    else columns.set(cell, ownColumn(entity, cell));
  });
  void input;
  return {
    vendor: 'pipedrive',
    object: entity.object,
    name: entity.name,
    // Plain headers are less distinctive than `Entity - Field`: ID, both time stamps, a Pipedrive reference and the entity's own columns.
    confidence: 0.7,
    id: cells[keys.indexOf('id')]!,
    modified: cells[keys.indexOf('updatetime')]!,
    created: cells[keys.indexOf('addtime')]!,
    columns,
  };
}
