import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FerryError, isFerryError } from '../../core/errors.js';
import { HttpError, type Clock } from '../../core/http.js';
import { RequestBudget } from './budget.js';
import { collect, cursorPages, offsetPages } from './paging.js';
import { readWindow, windowStart, type WindowCursor, type WindowPage, type WindowSource } from './window.js';
import { createIdempotent, findExternalIds, writeEach } from './writes.js';

/** An in-memory vendor: rows with (time, id), served by the hooks the window needs, `cap` rows per query at most. */
class MemoryVendor {
  rows = new Map<number, number>();
  queries = 0;

  constructor(private readonly unitMs: number) {}

  source(): WindowSource<{ id: number; time: number }> {
    const sorted = () => [...this.rows].map(([id, time]) => ({ id, time })).sort((a, b) => a.time - b.time || a.id - b.id);
    return {
      time: (row) => row.time,
      range: async (since, exclusive, limit) => {
        this.queries += 1;
        const from = exclusive ? since + this.unitMs : since;
        return sorted()
          .filter((row) => row.time >= from)
          .slice(0, limit);
      },
      tie: async (at, after, limit) => {
        this.queries += 1;
        const run = sorted().filter((row) => row.time === at && (after === undefined || row.id > Number(after)));
        const rows = run.slice(0, limit);
        return run.length > limit ? { rows, after: String(rows[rows.length - 1]!.id) } : { rows };
      },
    };
  }
}

describe('modified window with ties (model-based)', () => {
  it('reads every record once in (time, id) order whatever the ties and page sizes, and re-reads a record edited while paging', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 0, maxLength: 60 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 6 }),
        fc.option(fc.nat({ max: 59 }), { nil: undefined }),
        async (seconds, limit, sinceSecond, editIndex) => {
          const vendor = new MemoryVendor(1000);
          seconds.forEach((second, index) => vendor.rows.set(index + 1, second * 1000));
          const since = sinceSecond * 1000;
          const seen: { id: number; time: number }[] = [];
          let cursor: WindowCursor | undefined = windowStart(since);
          let edited: number | undefined;
          for (let guard = 0; cursor && guard < 1000; guard += 1) {
            const page: WindowPage<{ id: number; time: number }> = await readWindow(vendor.source(), cursor, limit);
            expect(page.rows.length).toBeLessThanOrEqual(limit);
            seen.push(...page.rows);
            // After the first page, someone edits a record already read: it moves to "now" (after everything).
            if (edited === undefined && editIndex !== undefined && seen.length > 0 && page.next) {
              edited = seen[editIndex % seen.length]!.id;
              vendor.rows.set(edited, 10_000);
            }
            cursor = page.next;
          }
          expect(cursor).toBeUndefined();
          const expected = seconds.map((second, index) => ({ id: index + 1, time: second * 1000 })).filter((row) => row.time >= since);
          for (const row of expected) {
            const times = seen.filter((candidate) => candidate.id === row.id).length;
            expect(times, `record ${row.id}`).toBe(row.id === edited ? 2 : 1);
          }
          for (const row of seen) expect(row.time).toBeGreaterThanOrEqual(since);
          for (let index = 1; index < seen.length; index += 1) {
            const [a, b] = [seen[index - 1]!, seen[index]!];
            // Order holds within what was read before and after the edit (the edited record comes last).
            if (b.id !== edited) expect(a.time < b.time || (a.time === b.time && a.id < b.id) || a.id === edited).toBe(true);
          }
        },
      ),
      { seed: 20261207, numRuns: 200 },
    );
  });
});

describe('paging helpers', () => {
  it('cursor and offset paging read every page and stop on the last', async () => {
    const items = Array.from({ length: 23 }, (_, index) => index);
    const byCursor = await collect(cursorPages(async (cursor) => {
      const start = Number(cursor ?? 0);
      return { items: items.slice(start, start + 5), next: start + 5 < items.length ? String(start + 5) : null };
    }));
    expect(byCursor).toEqual(items);
    const byOffset = await collect(offsetPages(async (start) => ({ items: items.slice(start, start + 7), more: start + 7 < items.length, nextStart: start + 7 })));
    expect(byOffset).toEqual(items);
  });
});

describe('request budget', () => {
  const route = { method: 'POST' as const, path: '/api/v2/persons' };

  it('charges answered requests (not 429s), follows the vendor\'s count, and stops before the reserve', () => {
    const budget = new RequestBudget({ vendor: 'Vendor', unit: 'tokens', cost: () => 5, reserve: 10, resetsWhen: 'at midnight' });
    budget.check(route); // unknown remaining: no stop
    budget.charge(route, 200);
    budget.charge(route, 429);
    expect(budget.usage()).toMatchObject({ spent: 5, byRoute: { 'POST /api/v2/persons': 5 } });
    budget.observe(20, 100);
    budget.check(route);
    budget.charge(route, 201);
    budget.check(route); // 15 left: the request leaves the reserve of 10
    budget.charge(route, 201);
    expect(budget.usage().remaining).toBe(10);
    let error: unknown;
    try {
      budget.check(route);
    } catch (caught) {
      error = caught;
    }
    expect(isFerryError(error) && error.code).toBe('RATE_LIMITED');
    expect((error as FerryError).details).toMatchObject({ resumable: true, remaining: 10, unit: 'tokens' });
    expect((error as FerryError).message).toContain('10 tokens left of 100, 10 kept in reserve, the next request costs 5');
    // A request to an absolute URL (a signed download link the API handed out) is not an API request: it
    // passes at the reserve and costs nothing.
    const download = { method: 'GET' as const, path: '/signed/abc', absolute: true };
    budget.check(download);
    budget.charge(download, 200);
    expect(budget.usage()).toMatchObject({ spent: 15, remaining: 10 });
  });

  it('counts requests in flight as pending, so concurrent requests cannot all pass against the same remaining', () => {
    const budget = new RequestBudget({ vendor: 'Vendor', unit: 'tokens', cost: () => 5, reserve: 10, resetsWhen: 'at midnight' });
    budget.observe(22, undefined);
    const first = budget.reserve(route);
    const second = budget.reserve(route); // 22 - 5 pending - 5 = 12 >= 10
    expect(() => budget.reserve(route)).toThrow(/daily API budget reached/); // 22 - 10 pending - 5 < 10
    first();
    first(); // releasing twice releases once
    second();
    expect(() => budget.reserve(route)).not.toThrow();
  });
});

describe('one-record-per-request writes', () => {
  const clock: Clock = { now: () => 0, sleep: async () => undefined };

  it('attributes each result to its input, fails a record alone on a record-level error, and stops on a run-level one', async () => {
    const results = await writeEach([1, 2, 3, 4], 3, async (input) => {
      if (input === 2) throw new FerryError('INVALID_VALUE', 'two is bad', { field: 'x' });
      await new Promise((resolve) => setTimeout(resolve, (5 - input) * 2));
      return { ok: true, id: `id-${input}` };
    });
    expect(results).toEqual([{ ok: true, id: 'id-1' }, { ok: false, error: { code: 'INVALID_VALUE', message: 'two is bad' } }, { ok: true, id: 'id-3' }, { ok: true, id: 'id-4' }]);
    await expect(writeEach([1, 2], 1, async () => {
      throw new FerryError('AUTH_FAILED', 'no');
    })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('a create whose answer was lost is looked up before it is sent again; a 429 is sent again without look-up', async () => {
    const store: string[] = [];
    let attempt = 0;
    let lookups = 0;
    const id = await createIdempotent({
      send: async () => {
        attempt += 1;
        if (attempt === 1) throw new HttpError('RATE_LIMITED', 'slow down', 429, undefined, { method: 'POST', path: '/x' });
        store.push('written');
        if (attempt === 2) throw new FerryError('TRANSIENT', 'socket hang up');
        return `new-${attempt}`;
      },
      lookup: async () => {
        lookups += 1;
        return store.length > 0 ? 'found-1' : undefined;
      },
      retries: 3,
      clock,
    });
    expect(id).toBe('found-1');
    expect(store).toHaveLength(1);
    expect(lookups).toBe(1);
    // Without a look-up a lost answer is not sent again (it could duplicate the record).
    await expect(createIdempotent({ send: async () => Promise.reject(new FerryError('TRANSIENT', 'lost')), retries: 3, clock })).rejects.toMatchObject({ code: 'TRANSIENT' });
  });
});

describe('external-id look-up by listing', () => {
  it('reads pages only until every wanted id is found, the first holder wins, missing ids stay out', async () => {
    const rows = Array.from({ length: 30 }, (_, index) => ({ id: index + 1, stamp: index === 25 ? 'src-3' : `src-${index}` }));
    let pagesRead = 0;
    const pages = cursorPages(async (cursor) => {
      pagesRead += 1;
      const start = Number(cursor ?? 0);
      return { items: rows.slice(start, start + 10), next: start + 10 < rows.length ? String(start + 10) : null };
    });
    const found = await findExternalIds(pages, ['src-3', 'src-12'], (row) => row.stamp, (row) => String(row.id));
    expect(Object.fromEntries(found)).toEqual({ 'src-3': '4', 'src-12': '13' });
    expect(pagesRead).toBe(2);
    const missing = await findExternalIds(cursorPages(async () => ({ items: rows.slice(0, 5) })), ['nope'], (row) => row.stamp, (row) => String(row.id));
    expect(missing.size).toBe(0);
  });
});
