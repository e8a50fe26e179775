import { FerryError } from '../../core/errors.js';
import type { RouteInfo } from '../../core/http.js';

/**
 * A daily request budget counted in the vendor's units (Pipedrive: tokens, each endpoint has a cost;
 * HubSpot: requests, cost 1 each). Every response the vendor admitted is charged (a 429 is not: refused
 * requests spend nothing); what the vendor's headers say is left replaces our own count, since other
 * integrations spend the same company budget. Before each request the budget checks that the request
 * leaves at least `reserve` units: otherwise the run stops with RATE_LIMITED `resumable` *before* the
 * budget is spent, so the account keeps working for its people and the same command resumes tomorrow.
 */
export interface BudgetOptions {
  vendor: string;
  /** The unit's name in messages, e.g. `tokens`. */
  unit: string;
  /** What one request costs. */
  cost: (route: RouteInfo) => number;
  /**
   * Units kept back (never spent by Ferry), or a function of the day's limit as last known (Salesforce: a share
   * of the org's allocation the user leaves to everyone else).
   */
  reserve: number | ((limit: number | undefined) => number);
  /** The day's budget when known from the settings (headers, when the vendor sends them, win). */
  limit?: number;
  /** When the budget renews, for the message (e.g. "at midnight in the Pipedrive company's time zone"). */
  resetsWhen: string;
}

export interface BudgetUsage {
  unit: string;
  /** Units this connection spent. */
  spent: number;
  /** Left today, as the vendor last said (or the configured limit minus our spending); undefined when unknown. */
  remaining?: number;
  limit?: number;
  byRoute: Record<string, number>;
}

function routeKey(route: RouteInfo): string {
  return `${route.method} ${route.path.replace(/\/\d+(?=\/|$)/g, '/:id')}`;
}

export class RequestBudget {
  spent = 0;
  private remaining: number | undefined;
  /** Costs of requests checked and sent but not answered yet (several are in flight at once). */
  private pending = 0;
  private limit: number | undefined;
  private readonly byRoute: Record<string, number> = {};

  constructor(private readonly options: BudgetOptions) {
    this.limit = options.limit;
    this.remaining = options.limit;
  }

  /** What `route` costs; nothing for an absolute URL (a signed download link is not an API request). */
  costOf(route: RouteInfo): number {
    return route.absolute ? 0 : this.options.cost(route);
  }

  /** Throws RATE_LIMITED (resumable) when this request would eat into the reserve. */
  check(route: RouteInfo): void {
    if (this.remaining === undefined) return;
    const cost = this.costOf(route);
    if (cost === 0 || this.remaining - this.pending - cost >= this.reserveNow()) return;
    throw this.exhausted(route, cost);
  }

  /**
   * check() for a request about to be sent, counting its cost as pending until `release` (called when its
   * call ends, answered or not), so concurrent requests cannot all pass against the same remaining.
   */
  reserve(route: RouteInfo): () => void {
    this.check(route);
    const cost = this.remaining === undefined ? 0 : this.costOf(route);
    this.pending += cost;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pending -= cost;
    };
  }

  private reserveNow(): number {
    const { reserve } = this.options;
    return typeof reserve === 'function' ? reserve(this.limit) : reserve;
  }

  exhausted(route: RouteInfo, cost?: number): FerryError {
    const { vendor, unit } = this.options;
    const left = this.remaining === undefined ? '' : ` (${this.remaining} ${unit} left${this.limit !== undefined ? ` of ${this.limit}` : ''}, ${this.reserveNow()} kept in reserve${cost !== undefined ? `, the next request costs ${cost}` : ''})`;
    return new FerryError(
      'RATE_LIMITED',
      `${vendor} daily API budget reached${left}: the run stops here, before the budget is spent, and is resumable: running the same command again after the budget renews (${this.options.resetsWhen}) resumes the run where it stopped.`,
      { path: route.path, resumable: true, spent: this.spent, remaining: this.remaining ?? null, unit },
    );
  }

  /** Charges an answered request (not a 429: the vendor refused it and it cost nothing). */
  charge(route: RouteInfo, status: number): void {
    if (status === 429) return;
    const cost = this.costOf(route);
    this.spent += cost;
    const key = routeKey(route);
    this.byRoute[key] = (this.byRoute[key] ?? 0) + cost;
    if (this.remaining !== undefined) this.remaining -= cost;
  }

  /** What the vendor's headers said (after this response was charged by the vendor). */
  observe(remaining: number | undefined, limit: number | undefined): void {
    if (limit !== undefined) this.limit = limit;
    if (remaining !== undefined) this.remaining = remaining;
  }

  usage(): BudgetUsage {
    return { unit: this.options.unit, spent: this.spent, remaining: this.remaining, limit: this.limit, byRoute: { ...this.byRoute } };
  }
}
