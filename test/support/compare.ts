import type { Ledger } from '../../src/ledger/index.js';
import type { Db, Fixture } from './crm-fixture.js';

/**
 * Exact comparison of the fixture's source, target and ledger (crm-fixture.ts schema): every source record
 * has a link to an existing target record with the right values and relations, no target record is
 * there twice or without a link, and no create is left pending. Used after crashes and resumes.
 */
export interface Comparison {
  /** Source records compared (owners excluded: they are only matched). */
  records: number;
  /** Source records without a link or whose linked target record does not exist. */
  missing: string[];
  /** Target records beyond one per source record (no link points at them, or two source records of one object share one without being merged). */
  duplicated: string[];
  /** References that point to the wrong target record, or are absent. */
  brokenRelations: string[];
  /** Fields whose target value differs from the source's. */
  wrongValues: string[];
  /** Links still pending, or create intents left (a create whose outcome was never settled). */
  pending: string[];
}

const STAGES: Record<string, string> = { Open: 'open', 'Closed Won': 'closedwon', 'Closed Lost': 'closedlost' };

type Row = Record<string, unknown>;

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const number = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export async function linksOf(ledger: Ledger, object: string): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for await (const page of ledger.iterateLinks(object)) for (const link of page) out.set(link.sourceId, link.state === 'linked' ? link.targetId : null);
  return out;
}

export async function compareCopy(fixture: Fixture): Promise<Comparison> {
  const session = await fixture.open();
  try {
    return await compareWith(fixture.source, fixture.target, session.ledger);
  } finally {
    await session.close();
  }
}

async function compareWith(source: Db, target: Db, ledger: Ledger): Promise<Comparison> {
  const result: Comparison = { records: 0, missing: [], duplicated: [], brokenRelations: [], wrongValues: [], pending: [] };
  const links: Record<string, Map<string, string | null>> = {};
  for (const object of ['owners', 'companies', 'contacts', 'deals', 'notes']) {
    links[object] = await linksOf(ledger, object);
    for await (const page of ledger.iterateLinks(object)) for (const link of page) if (link.state === 'pending') result.pending.push(`${object} ${link.sourceId}`);
    // This release's intents (one row per batch of creates in flight): none may be left after a resume.
    for (const intent of await ledger.createIntents(object)) result.pending.push(`${object} intent ${intent.id} (${intent.sourceIds.join(', ')})`);
  }
  const targetOf = (object: string, sourceId: unknown): string | null => (sourceId === null || sourceId === undefined ? null : (links[object]!.get(String(sourceId)) ?? null));

  const checks: {
    object: string;
    table: string;
    fields: [string, string, (value: unknown) => unknown][];
    references: [string, string, string][];
  }[] = [
    { object: 'companies', table: 'companies', fields: [['name', 'name', text], ['domain', 'domain', text]], references: [['parent_company_id', 'parent_id', 'companies'], ['owner_id', 'owner_id', 'owners']] },
    {
      object: 'contacts',
      table: 'contacts',
      fields: [['first_name', 'firstname', text], ['last_name', 'lastname', text], ['email', 'email', text], ['job_title', 'jobtitle', text]],
      references: [['company_id', 'company_id', 'companies'], ['owner_id', 'owner_id', 'owners']],
    },
    { object: 'deals', table: 'deals', fields: [['name', 'dealname', text], ['amount', 'amount', number], ['stage', 'dealstage', (value) => STAGES[String(value)] ?? value]], references: [['company_id', 'company_id', 'companies']] },
    { object: 'notes', table: 'notes', fields: [['body', 'body', text]], references: [['contact_id', 'contact_id', 'contacts'], ['deal_id', 'deal_id', 'deals'], ['company_id', 'company_id', 'companies']] },
  ];
  for (const check of checks) {
    const sourceRows = await source.all<Row>(`SELECT * FROM ${check.table} ORDER BY id`);
    const targetRows = new Map((await target.all<Row>(`SELECT * FROM ${check.table}`)).map((row) => [String(row.id), row]));
    const objectLinks = links[check.object]!;
    const claimed = new Map<string, string[]>();
    for (const [sourceId, targetId] of objectLinks) if (targetId) claimed.set(targetId, [...(claimed.get(targetId) ?? []), sourceId]);
    for (const row of sourceRows) {
      result.records += 1;
      const name = `${check.object} ${String(row.id)}`;
      const targetId = objectLinks.get(String(row.id));
      const targetRow = targetId ? targetRows.get(targetId) : undefined;
      if (!targetRow) {
        result.missing.push(name);
        continue;
      }
      for (const [sourceField, targetField, convert] of check.fields) {
        const want = convert(row[sourceField]);
        const got = text(targetRow[targetField]) === null ? null : convert(targetRow[targetField]);
        if (want !== got) result.wrongValues.push(`${name}.${targetField}: ${JSON.stringify(got)} instead of ${JSON.stringify(want)}`);
      }
      for (const [sourceField, targetField, referenced] of check.references) {
        const want = targetOf(referenced, row[sourceField]);
        const got = text(targetRow[targetField]);
        if (want !== got) result.brokenRelations.push(`${name}.${targetField}: ${got} instead of ${want}`);
      }
    }
    for (const [targetId, row] of targetRows) {
      const owners = claimed.get(targetId) ?? [];
      if (owners.length === 0) result.duplicated.push(`${check.table} ${targetId} (source ${text(row.ferry_source_id)}) has no link`);
      else if (owners.length > 1) result.duplicated.push(`${check.table} ${targetId} is linked from ${check.object} ${owners.join(', ')}`);
    }
  }
  const sourcePairs = await source.all<Row>('SELECT deal_id, contact_id FROM deal_contacts');
  const targetPairs = new Set((await target.all<Row>('SELECT deal_id, contact_id FROM deal_contacts')).map((row) => `${text(row.deal_id)}:${text(row.contact_id)}`));
  for (const pair of sourcePairs) {
    const key = `${targetOf('deals', pair.deal_id)}:${targetOf('contacts', pair.contact_id)}`;
    if (!targetPairs.delete(key)) result.brokenRelations.push(`deal ${text(pair.deal_id)} - contact ${text(pair.contact_id)} missing`);
  }
  for (const extra of targetPairs) result.duplicated.push(`deal_contacts ${extra} has no source pair`);
  return result;
}

/**
 * Every row of the fixture's target tables (ordered), to compare a target with an earlier state of it
 * exactly. Left out: `updated_at`, which the target stamps on every write as a CRM does (an undo restores
 * values, not the target's own modification time), and an empty `ferry_source_id` (the column Ferry adds).
 */
export async function targetSnapshot(db: Db): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  const strip = (row: Row): Row => {
    const { updated_at: _updated, ...rest } = row;
    if (rest.ferry_source_id === null) delete rest.ferry_source_id;
    return rest;
  };
  for (const table of ['users', 'companies', 'contacts', 'deals', 'notes']) out[table] = (await db.all<Row>(`SELECT * FROM ${table} ORDER BY id`)).map(strip);
  out.deal_contacts = await db.all<Row>('SELECT * FROM deal_contacts ORDER BY deal_id, contact_id');
  return out;
}

/** The ledger's links of every object, as `object source -> target (state, origin)` lines. */
export async function ledgerLinks(fixture: Fixture): Promise<string[]> {
  const session = await fixture.open();
  try {
    const out: string[] = [];
    for (const object of ['owners', 'companies', 'contacts', 'deals', 'notes']) {
      for await (const page of session.ledger.iterateLinks(object)) {
        for (const link of page) out.push(`${object} ${link.sourceId} -> ${link.targetId} (${link.state}, ${link.origin})`);
      }
    }
    return out.sort();
  } finally {
    await session.close();
  }
}

export const CLEAN: Omit<Comparison, 'records'> = { missing: [], duplicated: [], brokenRelations: [], wrongValues: [], pending: [] };
