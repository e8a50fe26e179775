/**
 * An executable reference model of the migration semantics (shared/design/semantics.md and the choices in
 * docs/concepts.md), for the model-based test: pure, in memory, written from the documents rather than
 * from the engine's code. It knows two objects — companies (matched by domain) and contacts (matched by
 * e-mail, referring to a company) — and predicts, after every run, every target record and field.
 *
 * Target records are named by what a person could tell them by: `c:<source id>` for a record Ferry
 * created (the target holds the source id in its external-id column) and `h:<row id>` for one a person
 * made by hand. References in the target are compared as those names.
 */

export type ObjectName = 'companies' | 'contacts';
export const OBJECTS: readonly ObjectName[] = ['companies', 'contacts'];
export type Value = string | null;
export type Policy = 'source-wins' | 'target-wins' | 'skip-record';

export interface SourceRecord {
  id: string;
  /** Modification time in whole minutes after the epoch of the history. */
  at: number;
  fields: Record<string, Value>;
}

export interface ModelLink {
  targetKey: string;
  origin: 'created' | 'matched' | 'merged';
  /** The mapped source values (references as source ids) the target reflects; undefined: never written through. */
  fingerprint?: string;
  /** Target field -> the value Ferry last wrote (or found there already equal to the source). */
  written: Record<string, Value>;
  /** A reference whose record was not in the target at the record's last write, and the run that said so. */
  missingReference?: { id: string; run: number };
}

/** What the target refuses on a write (its required fields, unique values): such a record fails alone. */
export interface TargetRules {
  /** The value the target keeps for a value written to it (HubSpot lower-cases e-mails). */
  store(field: string, value: Value): Value;
  refusesCreate(object: ObjectName, fields: Record<string, Value>, others: Iterable<Record<string, Value>>): boolean;
  refusesUpdate(object: ObjectName, fields: Record<string, Value>, others: Iterable<Record<string, Value>>): boolean;
}

export interface Mode {
  create: boolean;
  update: boolean;
  policy: Policy;
}

/** Source field -> target field, per object: what the project file maps. */
export const FIELD_MAP: Record<ObjectName, Record<string, string>> = {
  companies: { name: 'name', domain: 'domain' },
  contacts: { first_name: 'firstname', email: 'email', job_title: 'jobtitle', company_id: 'company_id' },
};
/** Reference fields (target field -> referenced source object). */
const REFERENCES: Record<ObjectName, Record<string, ObjectName>> = { companies: {}, contacts: { company_id: 'companies' } };

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const isEmpty = (value: Value | undefined) => value === null || value === undefined || value === '';

/** semantics.md "Matching": e-mail trimmed and lower-cased, domains without `www.`; invalid is no key. */
export function matchKey(object: ObjectName, fields: Record<string, Value>): string | undefined {
  if (object === 'contacts') {
    const email = fields.email?.trim().toLowerCase();
    return email && EMAIL.test(email) ? email : undefined;
  }
  // A domain needs a dot: `Acme` is no domain, so no key (never matches, never makes duplicates).
  const domain = fields.domain?.trim().toLowerCase().replace(/^www\./, '');
  return domain && /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain) ? domain : undefined;
}

/** Equal as the target field's kind compares: empty is empty, e-mails regardless of case. */
function same(field: string, a: Value | undefined, b: Value | undefined): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (isEmpty(a) || isEmpty(b)) return false;
  if (field === 'email') return a!.trim().toLowerCase() === b!.trim().toLowerCase();
  return a === b;
}

/** The mapped values of a source record (target field -> value, references as source ids), or why it cannot be mapped. */
export function mapRecord(object: ObjectName, record: SourceRecord): { values: Record<string, Value> } | { error: string } {
  const values: Record<string, Value> = {};
  for (const [sourceField, targetField] of Object.entries(FIELD_MAP[object])) values[targetField] = record.fields[sourceField] ?? null;
  if (object === 'contacts' && values.email !== null && values.email !== undefined) {
    const email = values.email.trim();
    if (!EMAIL.test(email)) return { error: `email ${JSON.stringify(values.email)} is not an e-mail address` };
    values.email = email;
  }
  return { values };
}

const fingerprintOf = (values: Record<string, Value>) => JSON.stringify(Object.keys(values).sort().map((key) => [key, values[key] ?? null]));

/** a is newer than b: later modification, then the higher id. */
const newer = (a: SourceRecord, b: SourceRecord) => a.at > b.at || (a.at === b.at && Number(a.id) > Number(b.id));

export class Model {
  constructor(private readonly rules: TargetRules) {}

  readonly source: Record<ObjectName, Map<string, SourceRecord>> = { companies: new Map(), contacts: new Map() };
  /** Target records by name (`c:<source id>` or `h:<row id>`). */
  readonly target: Record<ObjectName, Map<string, Record<string, Value>>> = { companies: new Map(), contacts: new Map() };
  readonly links: Record<ObjectName, Map<string, ModelLink>> = { companies: new Map(), contacts: new Map() };
  private readonly issues: Record<ObjectName, Map<string, { kind: 'ambiguous' } | { kind: 'duplicate'; leader: string }>> = {
    companies: new Map(),
    contacts: new Map(),
  };
  /** High-water marks of the last run that created / updated (semantics: the lower bound per kind of change). */
  lastCreate?: number;
  lastUpdate?: number;
  private runs = 0;
  /** Per record, the runs whose failure (an error, not a warning) of it is still open: what `retry <run>` re-reads. */
  private readonly failed: Record<ObjectName, Map<string, Set<number>>> = { companies: new Map(), contacts: new Map() };
  /** The conflict policy of each run (a retry keeps its run's). */
  private readonly policies = new Map<number, Policy>();
  /** How often each interesting case came up: shows the histories reach them (printed by the test). */
  readonly events = new Map<string, number>();
  private event(name: string): void {
    this.events.set(name, (this.events.get(name) ?? 0) + 1);
  }

  /** The state before each run not undone, newest last; `clean` while nobody changed the target since. */
  private readonly before: { state: string; clean: boolean }[] = [];

  // ---- undo (semantics: "undo <run> deletes the records that run created and restores the fields it changed")

  /** People changed the target: runs before now can no longer be undone to an exact earlier state. */
  targetChanged(): void {
    for (const entry of this.before) entry.clean = false;
  }

  /** Whether the newest run not undone can be undone with nothing in the target changed since (the only undo the model predicts). */
  canUndo(): boolean {
    return this.before.at(-1)?.clean === true;
  }

  /** Undo of the newest run: the target and the ledger as they were before it; the source stays as it is. */
  undo(): void {
    const entry = this.before.pop()!;
    const state = JSON.parse(entry.state) as ReturnType<Model['capture']>;
    for (const object of OBJECTS) {
      this.target[object].clear();
      for (const [name, fields] of state.target[object]) this.target[object].set(name, fields);
      this.links[object].clear();
      for (const [id, link] of state.links[object]) this.links[object].set(id, link);
      this.issues[object].clear();
      for (const [id, issue] of state.issues[object]) this.issues[object].set(id, issue);
      this.failed[object].clear();
      for (const [id, runs] of state.failed[object]) this.failed[object].set(id, new Set(runs));
    }
    this.lastCreate = state.lastCreate;
    this.lastUpdate = state.lastUpdate;
    this.event('run undone');
  }

  private capture() {
    const entries = <T>(map: Record<ObjectName, Map<string, T>>) =>
      Object.fromEntries(OBJECTS.map((object) => [object, [...map[object].entries()]])) as Record<ObjectName, [string, T][]>;
    const failed = Object.fromEntries(OBJECTS.map((object) => [object, [...this.failed[object].entries()].map(([id, runs]) => [id, [...runs]])]));
    return { target: entries(this.target), links: entries(this.links), issues: entries(this.issues), failed: failed as Record<ObjectName, [string, number[]][]>, lastCreate: this.lastCreate, lastUpdate: this.lastUpdate };
  }

  private fail(object: ObjectName, id: string, run: number): void {
    const runs = this.failed[object].get(id) ?? new Set<number>();
    runs.add(run);
    this.failed[object].set(id, runs);
  }

  /** A write of the record went through: its failures of earlier runs are settled (not this run's own). */
  private settle(object: ObjectName, id: string, run: number): void {
    const runs = this.failed[object].get(id);
    if (!runs) return;
    for (const other of [...runs]) if (other !== run) runs.delete(other);
    if (runs.size === 0) this.failed[object].delete(id);
  }

  // ---- a run

  /** A full migration (both modes) or a delta, as one atomic step: the model has no crashes, the engine must not show them. */
  run(kind: 'full' | 'delta', mode: Mode, highWaterMark: number): number {
    const run = ++this.runs;
    this.before.push({ state: JSON.stringify(this.capture()), clean: true });
    const bounds = [mode.create ? this.lastCreate : undefined, mode.update ? this.lastUpdate : undefined].filter((bound): bound is number => bound !== undefined);
    // Lookback is a second and instants are whole minutes: the window is `at >= lower bound`.
    const lowerBound = kind === 'full' ? -Infinity : Math.min(...bounds);
    for (const object of OBJECTS) {
      const window = [...this.source[object].values()].filter((record) => record.at >= lowerBound);
      this.match(object, window);
      this.write(object, window, mode, run);
    }
    this.reattach(mode, run);
    this.policies.set(run, mode.policy);
    if (mode.create) this.lastCreate = highWaterMark;
    if (mode.update) this.lastUpdate = highWaterMark;
    return run;
  }

  /**
   * A demo (semantics: "a small sample per object, with the related records that the sample needs"): the
   * first `size` records of each object in the source's order, plus the companies the sampled contacts
   * refer to; matched and written like a full run, but no reference is attached later and the windows stay.
   */
  demo(size: number): number {
    const run = ++this.runs;
    this.before.push({ state: JSON.stringify(this.capture()), clean: true });
    const first = (object: ObjectName) => [...this.source[object].values()].sort((a, b) => a.at - b.at || Number(a.id) - Number(b.id)).slice(0, size);
    const contacts = first('contacts');
    const companyIds = new Set(first('companies').map((record) => record.id));
    // What a sampled contact refers to comes along, even when the contact itself cannot be mapped.
    for (const contact of contacts) {
      const company = contact.fields.company_id;
      if (company) companyIds.add(company);
    }
    const sample: Record<ObjectName, SourceRecord[]> = {
      companies: [...companyIds].map((id) => this.source.companies.get(id)).filter((record): record is SourceRecord => record !== undefined),
      contacts,
    };
    const mode: Mode = { create: true, update: true, policy: 'source-wins' };
    for (const object of OBJECTS) {
      this.match(object, [...this.source[object].values()]);
      this.write(object, sample[object], mode, run);
    }
    return run;
  }

  /**
   * `retry <run>` (semantics: "re-attempts only that run's failed records, in dependency order"): the
   * records with an open failure or warning of that run are read again and written in both modes with
   * that run's conflict policy, whether or not they changed; no matching, no window; then references.
   * Returns whether the run had anything to retry.
   */
  retry(of: number): number {
    const run = ++this.runs;
    this.before.push({ state: JSON.stringify(this.capture()), clean: true });
    const mode: Mode = { create: true, update: true, policy: this.policies.get(of) ?? 'source-wins' };
    this.policies.set(run, mode.policy);
    for (const object of OBJECTS) {
      const ids = new Set<string>();
      for (const [id, runs] of this.failed[object]) if (runs.has(of)) ids.add(id);
      for (const [id, link] of this.links[object]) if (link.missingReference?.run === of) ids.add(id);
      const records: SourceRecord[] = [];
      for (const id of ids) {
        const record = this.source[object].get(id);
        if (record) records.push(record);
        else {
          // Gone from the source: its failures are settled, and this run reports it gone.
          this.settle(object, id, run);
          this.fail(object, id, run);
          const link = this.links[object].get(id);
          if (link) delete link.missingReference;
        }
      }
      for (let count = 0; count < records.length; count++) this.event('record retried');
      this.write(object, records, mode, run, true);
    }
    this.reattach(mode, run);
    return run;
  }

  /** `ferry match`: refresh matching of every source record, nothing written. */
  matchOnly(): void {
    ++this.runs;
    for (const object of OBJECTS) this.match(object, [...this.source[object].values()]);
    // Undo takes back what its run linked; links made by this run stay: the earlier states no longer are what an undo restores.
    this.targetChanged();
  }

  // ---- matching (semantics: Matching; concepts.md: source duplicates, refresh matching)

  private match(object: ObjectName, window: SourceRecord[]): void {
    const links = this.links[object];
    const byId = [...window].sort((a, b) => Number(a.id) - Number(b.id));
    // Duplicate groups: records of the window sharing a key (linked ones lead nothing new but join).
    const members = new Map<string, SourceRecord[]>();
    for (const record of byId) {
      const key = matchKey(object, record.fields);
      if (key !== undefined) members.set(key, [...(members.get(key) ?? []), record]);
    }
    const groups = new Map<string, { newest: string; linkedSource?: string; linkedTarget?: string }>();
    for (const [key, list] of members) {
      if (list.length < 2) continue;
      const newest = list.reduce((best, record) => (newer(record, best) ? record : best));
      const linked = list.find((record) => links.has(record.id));
      groups.set(key, { newest: newest.id, ...(linked ? { linkedSource: linked.id, linkedTarget: links.get(linked.id)!.targetKey } : {}) });
    }
    const candidates = byId.filter((record) => !links.has(record.id));
    const isFollower = (record: SourceRecord) => {
      const group = groups.get(matchKey(object, record.fields) ?? '\u0000');
      return group !== undefined && group.linkedSource === undefined && group.newest !== record.id;
    };
    const owned = new Set([...links.values()].map((link) => link.targetKey));
    const ordered = [...candidates.filter((record) => !isFollower(record)), ...candidates.filter(isFollower)];
    for (const record of ordered) {
      this.issues[object].delete(record.id);
      const key = matchKey(object, record.fields);
      if (key === undefined) continue;
      const group = groups.get(key);
      if (group?.linkedTarget !== undefined && group.linkedSource !== record.id) {
        links.set(record.id, { targetKey: group.linkedTarget, origin: 'merged', written: {} });
        continue;
      }
      if (group && group.newest !== record.id) {
        this.issues[object].set(record.id, { kind: 'duplicate', leader: group.newest });
        continue;
      }
      const targets = [...this.target[object].entries()].filter(([, fields]) => matchKey(object, fields) === key).map(([name]) => name);
      if (targets.length === 0) continue;
      if (targets.length > 1) {
        this.issues[object].set(record.id, { kind: 'ambiguous' });
        continue;
      }
      const targetKey = targets[0]!;
      // A target record another source record is linked to: this one is its duplicate (merged).
      links.set(record.id, { targetKey, origin: owned.has(targetKey) ? 'merged' : 'matched', written: {} });
      this.event(owned.has(targetKey) ? 'matched a record linked to another (merged)' : 'matched an existing target record');
      owned.add(targetKey);
      if (group) Object.assign(group, { linkedSource: record.id, linkedTarget: targetKey });
    }
  }

  // ---- writing (semantics: Full migration, Delta migration; concepts.md: modes, conflicts, duplicates)

  private write(object: ObjectName, window: SourceRecord[], mode: Mode, run: number, force = false): void {
    const links = this.links[object];
    const groups = new Set<string>();
    const deferred: { id: string; leader: string }[] = [];
    const ordered = [...window].sort((a, b) => a.at - b.at || Number(a.id) - Number(b.id));
    for (const record of ordered) {
      const mapped = mapRecord(object, record);
      if ('error' in mapped) {
        this.event('record not mappable (failed)');
        this.fail(object, record.id, run);
        continue; // failed, with the field and value
      }
      const link = links.get(record.id);
      if (!link) {
        const issue = this.issues[object].get(record.id);
        if (issue?.kind === 'ambiguous') {
          this.event('ambiguous match held back');
          this.fail(object, record.id, run);
          continue;
        }
        if (issue?.kind === 'duplicate') {
          const leader = links.get(issue.leader);
          if (leader) {
            links.set(record.id, { targetKey: leader.targetKey, origin: 'merged', written: {} });
            if (mode.create) groups.add(leader.targetKey);
          } else if (mode.create) deferred.push({ id: record.id, leader: issue.leader });
          continue;
        }
        if (mode.create) this.create(object, record, mapped.values, run);
        continue;
      }
      // A record never written through is new to the modes: its first write belongs to a run that creates.
      const neverWritten = link.fingerprint === undefined;
      if (neverWritten ? !mode.create : !mode.update) {
        if (neverWritten) this.event('linked record left to a run that creates');
        continue;
      }
      if (!force && !neverWritten && link.fingerprint === fingerprintOf(mapped.values)) continue; // unchanged
      if (this.isGroup(object, record.id)) {
        groups.add(link.targetKey);
        continue;
      }
      this.update(object, record.id, link, mapped.values, fingerprintOf(mapped.values), mode, run, false, []);
    }
    for (const { id, leader } of deferred) {
      const leaderLink = links.get(leader);
      if (!leaderLink) {
        this.fail(object, id, run); // its leader failed: reported, merged once the leader is migrated
        continue;
      }
      links.set(id, { targetKey: leaderLink.targetKey, origin: 'merged', written: {} });
      groups.add(leaderLink.targetKey);
    }
    for (const targetKey of groups) {
      this.event('merged group written');
      this.writeGroup(object, targetKey, mode, run, false);
    }
  }

  private isGroup(object: ObjectName, sourceId: string): boolean {
    const link = this.links[object].get(sourceId)!;
    if (link.origin === 'merged') return true;
    return [...this.links[object].entries()].some(([id, other]) => id !== sourceId && other.targetKey === link.targetKey);
  }

  /** Target values of mapped values: references through the links; a missing one is left out and named. */
  private translate(object: ObjectName, values: Record<string, Value>): { translated: Record<string, Value>; missing: { field: string; id: string }[] } {
    const translated = { ...values };
    const missing: { field: string; id: string }[] = [];
    for (const [field, referenced] of Object.entries(REFERENCES[object])) {
      const id = values[field];
      if (id === null || id === undefined) continue;
      const link = this.links[referenced].get(id);
      if (link) translated[field] = link.targetKey;
      else {
        delete translated[field];
        missing.push({ field, id });
      }
    }
    return { translated, missing };
  }

  private create(object: ObjectName, record: SourceRecord, values: Record<string, Value>, run: number): void {
    const { translated, missing } = this.translate(object, values);
    const fields: Record<string, Value> = {};
    for (const field of Object.values(FIELD_MAP[object])) fields[field] = this.rules.store(field, translated[field] ?? null);
    if (this.rules.refusesCreate(object, fields, this.target[object].values())) {
      this.event('create refused by the target');
      this.fail(object, record.id, run);
      return;
    }
    this.settle(object, record.id, run);
    if (missing.length > 0) this.event('created without a missing reference');
    const targetKey = `c:${record.id}`;
    this.target[object].set(targetKey, fields);
    this.links[object].set(record.id, {
      targetKey,
      origin: 'created',
      fingerprint: fingerprintOf(values),
      written: translated,
      ...(missing[0] ? { missingReference: { id: missing[0].id, run } } : {}),
    });
  }

  /**
   * One write to a linked record: per field, what Ferry wrote last, the source now and the target now
   * (semantics: Conflicts); a matched record gets only its empty fields until Ferry wrote them
   * (fill-empty); `referencesOnly` attaches references and leaves the rest, fingerprint included.
   */
  private update(
    object: ObjectName,
    sourceId: string,
    link: ModelLink,
    values: Record<string, Value>,
    fingerprint: string | undefined,
    mode: Mode,
    run: number,
    referencesOnly: boolean,
    members: { id: string; link: ModelLink; fingerprint: string }[],
  ): void {
    const target = this.target[object].get(link.targetKey)!;
    const { translated, missing } = this.translate(object, values);
    const proposed: [string, Value][] = Object.entries(translated);
    // A reference Ferry wrote before whose record is not in the target: written empty.
    for (const { field } of missing) if (field in link.written) proposed.push([field, null]);
    const updateAll = link.origin !== 'matched';
    const fields: Record<string, Value> = {};
    const synced: Record<string, Value> = {};
    for (const [field, next] of proposed) {
      if (referencesOnly && !(field in REFERENCES[object])) continue;
      const now = target[field] ?? null;
      if (!(field in link.written)) {
        if (updateAll) {
          if (!same(field, next, now)) fields[field] = next;
          else synced[field] = next; // Ferry's field from now on (e.g. a create whose answer was lost)
        } else if (isEmpty(now) && !isEmpty(next)) fields[field] = next;
        continue;
      }
      const last = link.written[field] ?? null;
      if (same(field, next, now)) {
        if (!same(field, last, now)) synced[field] = next;
        continue;
      }
      if (same(field, next, last)) continue; // changed only in the target: kept
      if (!same(field, now, last)) this.event(`conflict settled by ${mode.policy}`);
      if (same(field, now, last) || mode.policy === 'source-wins') fields[field] = next;
      else if (mode.policy === 'skip-record') return; // nothing of it written; reported again when read again
    }
    const others = [...this.target[object].entries()].filter(([name]) => name !== link.targetKey).map(([, other]) => other);
    const stored = Object.fromEntries(Object.entries(fields).map(([field, value]) => [field, this.rules.store(field, value)]));
    if (Object.keys(fields).length > 0 && this.rules.refusesUpdate(object, { ...target, ...stored }, others)) {
      this.event('update refused by the target');
      this.fail(object, sourceId, run);
      return;
    }
    if (referencesOnly && Object.keys(fields).length > 0) this.event('reference attached later');
    if (Object.keys(synced).length > 0) this.event('target value taken as written');
    Object.assign(target, stored);
    link.written = { ...link.written, ...synced, ...fields };
    if (!referencesOnly && fingerprint !== undefined) link.fingerprint = fingerprint;
    if (missing[0]) link.missingReference = { id: missing[0].id, run };
    else delete link.missingReference;
    // The write settles the failures of earlier runs of every record it stands for (a references-only
    // write settles only missing references).
    for (const member of members) {
      if (!referencesOnly) member.link.fingerprint = member.fingerprint;
      delete member.link.missingReference;
      if (!referencesOnly) this.settle(object, member.id, run);
    }
    if (!referencesOnly) this.settle(object, sourceId, run);
  }

  /** A merged group's record gets, field by field, the newest member's non-empty value (concepts.md). */
  private writeGroup(object: ObjectName, targetKey: string, mode: Mode, run: number, referencesOnly: boolean): void {
    const group = [...this.links[object].entries()].filter(([, link]) => link.targetKey === targetKey);
    const leader = group.find(([, link]) => link.origin !== 'merged') ?? group[0]!;
    const read: { id: string; link: ModelLink; record: SourceRecord; values: Record<string, Value> }[] = [];
    for (const [id, link] of group) {
      if (!(mode.create || link.fingerprint !== undefined || link.origin !== 'merged')) continue; // joins in a run that creates
      const record = this.source[object].get(id);
      if (!record) continue;
      const mapped = mapRecord(object, record);
      if ('error' in mapped) {
        this.fail(object, id, run);
        continue;
      }
      read.push({ id, link, record, values: mapped.values });
    }
    if (read.length === 0) return;
    // A member whose values changed since the group's last write is newer than those that did not, whatever
    // the times say (concepts.md, "Source duplicates"): the times here are whole minutes and tie often.
    const changed = (entry: (typeof read)[number]) => entry.link.fingerprint !== undefined && entry.link.fingerprint !== fingerprintOf(entry.values);
    const newestFirst = [...read].sort((a, b) =>
      changed(a) !== changed(b) ? (changed(a) ? -1 : 1) : newer(a.record, b.record) ? -1 : newer(b.record, a.record) ? 1 : 0,
    );
    const merged: Record<string, Value> = {};
    for (const { values } of newestFirst) {
      for (const [field, value] of Object.entries(values)) if (!(field in merged) || (isEmpty(merged[field]) && !isEmpty(value))) merged[field] = value;
    }
    const own = read.find(({ id }) => id === leader[0]);
    const members = read.filter(({ id }) => id !== leader[0]).map(({ id, link, values }) => ({ id, link, fingerprint: fingerprintOf(values) }));
    this.update(object, leader[0], leader[1], merged, own ? fingerprintOf(own.values) : leader[1].fingerprint, mode, run, referencesOnly, members);
  }

  /** Every run attaches the references left missing by earlier runs whose record exists now (concepts.md). */
  private reattach(mode: Mode, run: number): void {
    for (const object of OBJECTS) {
      const groups = new Set<string>();
      for (const [id, link] of [...this.links[object].entries()].sort(([a], [b]) => Number(a) - Number(b))) {
        const missing = link.missingReference;
        if (!missing || missing.run === run) continue;
        const referenced = Object.values(REFERENCES[object])[0];
        if (!referenced || !this.links[referenced].has(missing.id)) continue;
        const record = this.source[object].get(id);
        if (!record) {
          delete link.missingReference; // gone from the source: settled, and reported gone
          this.settle(object, id, run);
          this.fail(object, id, run);
          continue;
        }
        const mapped = mapRecord(object, record);
        if ('error' in mapped) {
          this.fail(object, id, run);
          continue;
        }
        if (this.isGroup(object, id)) groups.add(link.targetKey);
        else this.update(object, id, link, mapped.values, undefined, mode, run, true, []);
      }
      for (const targetKey of groups) this.writeGroup(object, targetKey, mode, run, true);
    }
  }
}
