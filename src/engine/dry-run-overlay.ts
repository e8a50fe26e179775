import Database from 'better-sqlite3';
import type { Link, MatchIssue } from '../ledger/index.js';

/** SQLite's page cache for the overlay, in KiB (negative `cache_size`): beyond it, pages go to its file. */
const CACHE_KIB = 8 * 1024;
/** Ids per lookup. */
const CHUNK = 500;

/**
 * What a dry run would have written to the ledger's links and match issues, so that later records of the
 * same dry run see it (a deal refers to a company the dry run "created"), without changing the ledger.
 *
 * It lives in a private SQLite database on disk (`new Database('')`: SQLite's anonymous temporary database,
 * deleted when closed, page cache bounded by `cache_size`), not in a Map: a dry run of a 293,000-row export
 * kept every would-be link with its written values in memory (659 MB). Like the real run's ledger, its size
 * grows on disk, not in the heap. Nothing in it needs to survive the process.
 */
export class DryRunOverlay {
  private db?: Database.Database;
  private statements?: {
    putLink: Database.Statement;
    putIssue: Database.Statement;
  };
  private readonly selects = new Map<string, Database.Statement>();
  /** Rows written to the overlay (links and match issue entries), for tests and the bench. */
  rows = 0;

  private open(): Database.Database {
    if (this.db) return this.db;
    const db = new Database('');
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma(`cache_size = -${CACHE_KIB}`);
    db.exec(`
      CREATE TABLE links (object TEXT NOT NULL, source_id TEXT NOT NULL, target_id TEXT, link TEXT NOT NULL, PRIMARY KEY (object, source_id)) WITHOUT ROWID;
      CREATE INDEX links_target ON links (object, target_id);
      CREATE TABLE issues (object TEXT NOT NULL, source_id TEXT NOT NULL, issue TEXT, PRIMARY KEY (object, source_id)) WITHOUT ROWID;
    `);
    this.statements = {
      putLink: db.prepare('INSERT OR REPLACE INTO links (object, source_id, target_id, link) VALUES (?, ?, ?, ?)'),
      putIssue: db.prepare('INSERT OR REPLACE INTO issues (object, source_id, issue) VALUES (?, ?, ?)'),
    };
    this.db = db;
    return db;
  }

  /** `SELECT ... WHERE object = ? AND <column> IN (the ids, as one JSON array)`, prepared once. */
  private select(table: 'links' | 'issues', column: 'source_id' | 'target_id'): Database.Statement {
    const key = `${table}:${column}`;
    let statement = this.selects.get(key);
    if (!statement) {
      const what = table === 'links' ? 'source_id, link' : 'source_id, issue';
      statement = this.open().prepare(`SELECT ${what} FROM ${table} WHERE object = ? AND ${column} IN (SELECT value FROM json_each(?))`);
      this.selects.set(key, statement);
    }
    return statement;
  }

  private *lookup<Row>(table: 'links' | 'issues', column: 'source_id' | 'target_id', object: string, ids: string[]): Generator<Row> {
    if (!this.db || ids.length === 0) return;
    for (let start = 0; start < ids.length; start += CHUNK) {
      const part = ids.slice(start, start + CHUNK);
      for (const row of this.select(table, column).all(object, JSON.stringify(part)) as Row[]) yield row;
    }
  }

  putLinks(links: Link[]): void {
    if (links.length === 0) return;
    const db = this.open();
    const put = this.statements!.putLink;
    db.transaction(() => {
      for (const link of links) put.run(link.object, link.sourceId, link.targetId, JSON.stringify(link));
    })();
    this.rows += links.length;
  }

  /** The overlay's links of these source records. */
  links(object: string, sourceIds: string[]): Map<string, Link> {
    const out = new Map<string, Link>();
    for (const row of this.lookup<{ source_id: string; link: string }>('links', 'source_id', object, sourceIds)) out.set(row.source_id, JSON.parse(row.link) as Link);
    return out;
  }

  /** The overlay's links that point at one of these target records. */
  linksToTargets(object: string, targetIds: string[]): Link[] {
    return [...this.lookup<{ link: string }>('links', 'target_id', object, targetIds)].map((row) => JSON.parse(row.link) as Link);
  }

  /** `null` for an issue the dry run cleared. */
  putIssues(object: string, issues: MatchIssue[], cleared: string[]): void {
    if (issues.length === 0 && cleared.length === 0) return;
    const db = this.open();
    const put = this.statements!.putIssue;
    db.transaction(() => {
      for (const id of cleared) put.run(object, id, null);
      for (const issue of issues) put.run(object, issue.sourceId, JSON.stringify(issue));
    })();
    this.rows += issues.length + cleared.length;
  }

  /** Per source id the overlay has an entry for: the issue, or null when the dry run cleared it. */
  issues(object: string, sourceIds: string[]): Map<string, MatchIssue | null> {
    const out = new Map<string, MatchIssue | null>();
    for (const row of this.lookup<{ source_id: string; issue: string | null }>('issues', 'source_id', object, sourceIds)) {
      out.set(row.source_id, row.issue === null ? null : (JSON.parse(row.issue) as MatchIssue));
    }
    return out;
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.statements = undefined;
    this.selects.clear();
  }
}
