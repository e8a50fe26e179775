import Database from 'better-sqlite3';

/**
 * Working storage of one object's matching, so that matching needs memory for a page, not for the
 * object: a private SQLite database on disk (`new Database('')`: SQLite's anonymous temporary database,
 * in its temporary directory, deleted when closed; its page cache is bounded by `cache_size`). Nothing
 * in it needs to survive a crash: matching starts over from the ledger's links.
 *
 * It holds the source records that matter to matching (candidates: records without a link; with
 * `duplicates: merge`, also linked records that have a key, because they lead their duplicate group),
 * the duplicate groups (first defined key value shared by more than one record), the target index
 * (normalised key value -> up to MAX_CANDIDATES target ids, only for values some candidate has) and the
 * target records already taken by a link. docs/performance.md ("Matching") explains why.
 */

/** Most target candidates kept per key value: more than one is already ambiguous. */
const MAX_CANDIDATES = 5;
/** Candidates handed to the caller per call. */
const CHUNK = 5000;
/** SQLite's page cache for the scratch database, in KiB (negative `cache_size`): beyond it, pages go to its file. */
const CACHE_KIB = 16 * 1024;

export interface Candidate {
  /** Position in source read order. */
  seq: number;
  id: string;
  keys: (string | undefined)[];
  /** Per key: the target records with the candidate's value (at most MAX_CANDIDATES, in target read order). */
  targets: string[][];
  /** The candidate belongs to a duplicate group (first key value shared with another record). */
  grouped: boolean;
}

export interface SourceEntry {
  id: string;
  /** Modification time ('' when unknown): the newest member of a duplicate group wins. */
  at: string;
  /** The record has a link (any state): it is not a candidate. */
  linked: boolean;
  /** The target record its link points at, if any. */
  linkedTarget: string | null;
  keys: (string | undefined)[];
}

export interface GroupState {
  /** The most recently updated member (ties: highest id, then first read): its values win in a merge. */
  newestId: string;
  linkedSourceId?: string;
  linkedTargetId?: string;
}

/** a is newer than b: later modification time, then the higher id (numeric-aware). */
export const newer = (a: { at: string; id: string }, b: { at: string; id: string }): boolean =>
  a.at > b.at || (a.at === b.at && a.id.localeCompare(b.id, 'en', { numeric: true }) > 0);

type Row = Record<string, unknown>;

export class MatchScratch {
  private readonly db: Database.Database;
  private readonly keyColumns: string[];
  private readonly insertSource: Database.Statement;
  private readonly insertTarget: Database.Statement;
  private readonly targetsOf: Database.Statement;
  private readonly ownerOf: Database.Statement;
  private readonly putOwner: Database.Statement;
  private wanted: Database.Statement[] = [];
  private markHit: Database.Statement[] = [];
  private groupOf?: Database.Statement;
  private updateGroup?: Database.Statement;
  private candidatesAfter?: Database.Statement;
  private targetIdsAfter?: Database.Statement;
  candidateCount = 0;

  constructor(
    keyCount: number,
    private readonly merge: boolean,
  ) {
    this.db = new Database('');
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.pragma(`cache_size = -${CACHE_KIB}`);
    this.keyColumns = Array.from({ length: keyCount }, (_, position) => `k${position}`);
    const keys = this.keyColumns.map((column) => `, ${column} TEXT`).join('');
    this.db.exec(`
      CREATE TABLE src (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, at TEXT NOT NULL, gk TEXT, linked TEXT, candidate INTEGER NOT NULL, hits INTEGER NOT NULL DEFAULT 0${keys});
      CREATE UNIQUE INDEX src_id ON src (id);
      CREATE TABLE tgt (pos INTEGER NOT NULL, value TEXT NOT NULL, id TEXT NOT NULL);
      CREATE INDEX tgt_value ON tgt (pos, value);
      CREATE TABLE taken (target_id TEXT PRIMARY KEY, source_id TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE grp (gk TEXT PRIMARY KEY, newest TEXT NOT NULL, first_linked INTEGER, linked_source TEXT, linked_target TEXT) WITHOUT ROWID;
    `);
    // One transaction for the scratch's whole life: nothing is ever committed (close() discards it), so
    // pages are written to its file only when the cache spills, not at every statement or page.
    this.db.exec('BEGIN');
    const columns = ['id', 'at', 'gk', 'linked', 'candidate', ...this.keyColumns];
    this.insertSource = this.db.prepare(`INSERT OR IGNORE INTO src (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    this.insertTarget = this.db.prepare('INSERT INTO tgt (pos, value, id) VALUES (?, ?, ?)');
    this.targetsOf = this.db.prepare(`SELECT id FROM tgt WHERE pos = ? AND value = ? LIMIT ${MAX_CANDIDATES}`).pluck();
    this.ownerOf = this.db.prepare('SELECT source_id FROM taken WHERE target_id = ?').pluck();
    this.putOwner = this.db.prepare('INSERT OR REPLACE INTO taken (target_id, source_id) VALUES (?, ?)');
  }

  /** One page of source records, in read order. */
  addSource(entries: SourceEntry[]): void {
    for (const entry of entries) {
      const groupKey = this.merge ? entry.keys.find((key) => key !== undefined) : undefined;
      const candidate = !entry.linked;
      if (!candidate && groupKey === undefined) continue;
      // A record read twice (a connector that pages in modified order sees an edited record again) counts once.
      const { changes } = this.insertSource.run(entry.id, entry.at, groupKey ?? null, entry.linkedTarget, candidate ? 1 : 0, ...entry.keys.map((key) => (candidate ? (key ?? null) : null)));
      if (candidate && changes > 0) this.candidateCount += 1;
    }
  }

  /** After the last source page: the key indexes and the duplicate groups. */
  sourceDone(): void {
    for (const column of this.keyColumns) this.db.exec(`CREATE INDEX src_${column} ON src (${column}) WHERE ${column} IS NOT NULL`);
    this.wanted = this.keyColumns.map((column) => this.db.prepare(`SELECT 1 FROM src WHERE ${column} = ? LIMIT 1`).pluck());
    // Candidates with a target hit on key i have bit i set: only those look up their targets.
    this.markHit = this.keyColumns.map((column, position) => this.db.prepare(`UPDATE src SET hits = hits | ${1 << position} WHERE ${column} = ? AND hits & ${1 << position} = 0`));
    if (this.merge) {
      // The newest member, whatever order SQLite feeds the group in: ties of time and id go to the first read.
      type Best = { id: string; at: string; seq: number } | null;
      this.db.aggregate('ferry_newest', {
        start: null,
        step: ((best: Best, id: string, at: string, seq: number): Best => {
          const row = { id, at, seq };
          if (!best || newer(row, best) || (!newer(best, row) && seq < best.seq)) return row;
          return best;
        }) as unknown as (total: unknown, next: unknown) => unknown,
        result: (best: unknown) => (best as Best)?.id ?? null,
      });
      this.db.exec(`
        INSERT INTO grp (gk, newest, first_linked)
          SELECT gk, ferry_newest(id, at, seq), min(CASE WHEN linked IS NOT NULL THEN seq END)
          FROM src WHERE gk IS NOT NULL GROUP BY gk HAVING count(*) > 1;
        UPDATE grp SET linked_source = (SELECT id FROM src WHERE seq = grp.first_linked), linked_target = (SELECT linked FROM src WHERE seq = grp.first_linked)
          WHERE first_linked IS NOT NULL;
      `);
      this.groupOf = this.db.prepare('SELECT newest, linked_source, linked_target FROM grp WHERE gk = ?');
      this.updateGroup = this.db.prepare('UPDATE grp SET linked_source = ?, linked_target = ? WHERE gk = ?');
    }
    // A follower: a member of a group with no linked member that is not its newest (decided before any
    // linking: first_linked never changes, linked_source/linked_target do). The target index is complete before the first call, so its hits come with the candidate.
    const targets = this.keyColumns.map(
      (column, position) =>
        `, CASE WHEN s.hits & ${1 << position} THEN (SELECT json_group_array(id ORDER BY r) FROM (SELECT rowid AS r, id FROM tgt WHERE pos = ${position} AND value = s.${column} LIMIT ${MAX_CANDIDATES})) END AS t${position}`,
    );
    this.candidatesAfter = this.db.prepare(`
      SELECT s.seq, s.id, g.gk IS NOT NULL AS grouped${this.keyColumns.map((column) => `, s.${column}`).join('')}${targets.join('')}
      FROM src s LEFT JOIN grp g ON g.gk = s.gk
      WHERE s.candidate = 1 AND s.seq > ? AND (g.gk IS NOT NULL AND g.newest <> s.id AND g.first_linked IS NULL) = ?
      ORDER BY s.seq LIMIT ${CHUNK}`);
  }

  /** One page of target records (normalised keys, in read order). */
  addTarget(page: { id: string; keys: (string | undefined)[] }[]): void {
    for (const record of page) {
      record.keys.forEach((value, position) => {
        if (value === undefined || this.wanted[position]!.get(value) === undefined) return;
        // The value's first target record marks its candidates; only later ones need the list checked.
        if (this.markHit[position]!.run(value).changes === 0) {
          const known = this.targetsOf.all(position, value) as string[];
          if (known.length >= MAX_CANDIDATES || known.includes(record.id)) return;
        }
        this.insertTarget.run(position, value, record.id);
      });
    }
  }

  /** Distinct values of key `position` among the candidates, at most `limit`. */
  candidateValues(position: number, limit: number): string[] {
    const column = this.keyColumns[position]!;
    return this.db.prepare(`SELECT DISTINCT ${column} FROM src WHERE candidate = 1 AND ${column} IS NOT NULL LIMIT ?`).pluck().all(limit) as string[];
  }

  /** Distinct target ids in the index after `after` (in id order), `limit` at a time. */
  indexedTargets(after: string | undefined, limit: number): string[] {
    if (!this.targetIdsAfter) {
      this.db.exec('CREATE INDEX tgt_id ON tgt (id)');
      this.targetIdsAfter = this.db.prepare('SELECT DISTINCT id FROM tgt WHERE id > ? ORDER BY id LIMIT ?').pluck();
    }
    return this.targetIdsAfter.all(after ?? '', limit) as string[];
  }

  /** Candidates after `afterSeq` in read order: those that lead or have no duplicate, or (followers) the others. */
  candidates(afterSeq: number, followers: boolean): Candidate[] {
    return (this.candidatesAfter!.all(afterSeq, followers ? 1 : 0) as Row[]).map((row) => ({
      seq: row.seq as number,
      id: row.id as string,
      grouped: row.grouped === 1,
      keys: this.keyColumns.map((column) => (row[column] ?? undefined) as string | undefined),
      targets: this.keyColumns.map((_, position) => {
        const list = row[`t${position}`] as string | null;
        return list === null ? [] : (JSON.parse(list) as string[]);
      }),
    }));
  }

  /** The duplicate group (more than one member) of a first-key value, as it stands now. */
  group(groupKey: string): GroupState | undefined {
    const row = this.groupOf?.get(groupKey) as Row | undefined;
    if (!row) return undefined;
    return {
      newestId: row.newest as string,
      ...(row.linked_target ? { linkedSourceId: row.linked_source as string, linkedTargetId: row.linked_target as string } : {}),
    };
  }

  linkGroup(groupKey: string, sourceId: string, targetId: string): void {
    this.updateGroup?.run(sourceId, targetId, groupKey);
  }

  /** The source record a target record is linked to, if any. */
  owner(targetId: string): string | undefined {
    return (this.ownerOf.get(targetId) as string | undefined) ?? undefined;
  }

  take(targetId: string, sourceId: string): void {
    this.putOwner.run(targetId, sourceId);
  }

  close(): void {
    this.db.close();
  }
}
