/**
 * The two paging styles vendor list endpoints use, as loops over one page-fetching callback:
 * cursor paging (the answer names the next page's cursor; HubSpot `paging.next.after`, Pipedrive v2
 * `additional_data.next_cursor`) and offset paging (`start`/`limit` with a "more" flag; Pipedrive v1
 * `additional_data.pagination`). A guard stops a server that never says "last page".
 */
const MAX_PAGES = 100_000;

export interface CursorPage<T> {
  items: T[];
  /** The next page's cursor; absent, null or '' on the last page. */
  next?: string | null;
}

/** Every item of a cursor-paged list, page by page. */
export async function* cursorPages<T>(fetchPage: (cursor: string | undefined) => Promise<CursorPage<T>>, first?: string): AsyncGenerator<T[]> {
  let cursor = first;
  for (let guard = 0; guard < MAX_PAGES; guard += 1) {
    const page = await fetchPage(cursor);
    yield page.items;
    if (!page.next) return;
    cursor = page.next;
  }
  throw new Error(`paging did not end after ${MAX_PAGES} pages`);
}

export interface OffsetPage<T> {
  items: T[];
  /** Whether more items follow (`more_items_in_collection`). */
  more: boolean;
  /** Where the next page starts when the server says so (`next_start`); else start + items. */
  nextStart?: number;
}

/** Every item of an offset-paged list, page by page. */
export async function* offsetPages<T>(fetchPage: (start: number) => Promise<OffsetPage<T>>, first = 0): AsyncGenerator<T[]> {
  let start = first;
  for (let guard = 0; guard < MAX_PAGES; guard += 1) {
    const page = await fetchPage(start);
    yield page.items;
    if (!page.more || page.items.length === 0) return;
    start = page.nextStart ?? start + page.items.length;
  }
  throw new Error(`paging did not end after ${MAX_PAGES} pages`);
}

/** Collects every page of a paged list. */
export async function collect<T>(pages: AsyncGenerator<T[]>): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...page);
  return items;
}
