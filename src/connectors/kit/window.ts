/**
 * The modified-since window every API connector reads deltas through, with ties handled: records come in
 * (modified, tie order) order; every page is a NEW query whose lower bound is the last modified time read, so
 * a record modified while the read goes on moves behind the bound and is read again instead of shifting
 * offsets, and no query pages past a vendor's cap on results per query. The lower bound is inclusive
 * (`modifiedSince` is), and nothing at a boundary is read twice: a page ends before the first record of the
 * look-ahead's time unless all of them fit, and a run of records sharing one time that fills a whole page
 * is read by the vendor's tie order (HubSpot: id ranges; Pipedrive: its cursor over that second).
 *
 * Times are epoch milliseconds in the vendor's resolution (`unitMs`: 1 for HubSpot, 1000 for Pipedrive,
 * which answers and filters update times to the second); "after t" is "from t + unitMs".
 */

/** Where a delta read stands: from time `t` (`x`: strictly after it), or inside the run of records at `t`. */
export type WindowCursor = { p: 'r'; t: number; x: boolean } | { p: 't'; t: number; i?: string };

export function isWindowCursor(value: unknown): value is WindowCursor {
  if (typeof value !== 'object' || value === null) return false;
  const cursor = value as { p?: unknown; t?: unknown; x?: unknown };
  return typeof cursor.t === 'number' && ((cursor.p === 'r' && typeof cursor.x === 'boolean') || cursor.p === 't');
}

export interface WindowSource<Row> {
  /** A row's modified time (epoch ms, in the vendor's resolution). */
  time(row: Row): number;
  /** Up to `limit` rows modified at or after `since` (after it when `exclusive`), by modified time ascending. */
  range(since: number, exclusive: boolean, limit: number): Promise<Row[]>;
  /**
   * Rows modified exactly at `at`, in a stable tie order, continuing after `after` (from an earlier call);
   * up to `limit` rows, and `after` for the rest when there may be more.
   */
  tie(at: number, after: string | undefined, limit: number): Promise<{ rows: Row[]; after?: string }>;
}

export interface WindowPage<Row> {
  rows: Row[];
  next?: WindowCursor;
}

/** The first cursor of a window starting at `since` (inclusive). */
export function windowStart(since: number): WindowCursor {
  return { p: 'r', t: since, x: false };
}

/** One page of the window from `cursor`: at most `limit` rows, and the cursor of the rest. */
export async function readWindow<Row>(source: WindowSource<Row>, cursor: WindowCursor, limit: number): Promise<WindowPage<Row>> {
  if (cursor.p === 'r') {
    const rows = await source.range(cursor.t, cursor.x, limit + 1);
    if (rows.length <= limit) return { rows };
    const lookahead = source.time(rows[limit]!);
    const page = rows.slice(0, limit);
    const last = source.time(page[page.length - 1]!);
    // Every record at `last` is in the page when the look-ahead is later: go on strictly after it.
    if (last < lookahead) return { rows: page, next: { p: 'r', t: last, x: true } };
    // The page ends inside a run at `lookahead`: stop before that run and read it from its start.
    const before = page.filter((row) => source.time(row) < lookahead);
    if (before.length > 0) return { rows: before, next: { p: 'r', t: lookahead, x: false } };
    // The whole page is one run of equal times: read that run in tie order.
    return readWindow(source, { p: 't', t: lookahead }, limit);
  }
  const tie = await source.tie(cursor.t, cursor.i, limit);
  if (tie.after === undefined) return { rows: tie.rows, next: { p: 'r', t: cursor.t, x: true } };
  return { rows: tie.rows, next: { p: 't', t: cursor.t, i: tie.after } };
}
