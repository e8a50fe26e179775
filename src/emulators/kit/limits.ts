/**
 * Rate-limit primitives shared by the emulators: rolling request windows and daily budgets, both keyed (per
 * token, per account...) and both read from an injected clock. A vendor composes them in its own order and
 * turns a decision into its own headers and 429 body; the kit knows no header names.
 *
 * - `RollingWindow`: at most `requests` admitted requests per key in any `intervalMs` (a sliding log, not a
 *   fixed bucket: a request leaves the window exactly `intervalMs` after it was admitted).
 * - `DailyBudget`: `budget` units per key per day, a request spending its `cost` (1 for request-counting
 *   vendors, a token cost for token-based ones). The day starts at UTC midnight plus `dayStartOffsetMs`.
 * - `RateLimiter`: checks the budget first, then the named windows in order; a refused request is counted
 *   nowhere (neither window nor budget), as HubSpot and Pipedrive document for refused calls.
 */
export interface WindowLimit {
  requests: number;
  intervalMs: number;
}

export interface WindowState {
  limit: number;
  intervalMs: number;
  /** Admitted requests still inside the window. */
  used: number;
  remaining: number;
  /** Milliseconds until the oldest request leaves the window (0 when it is empty). */
  resetInMs: number;
}

const DAY = 86_400_000;

export class RollingWindow {
  private readonly stamps = new Map<string, number[]>();

  constructor(public limit: WindowLimit) {}

  private current(key: string, now: number): number[] {
    const kept = (this.stamps.get(key) ?? []).filter((stamp) => stamp > now - this.limit.intervalMs);
    this.stamps.set(key, kept);
    return kept;
  }

  /** Requests admitted within the last `ms` (at most the window): HubSpot's per-second header needs it. */
  usedWithin(key: string, ms: number, now: number): number {
    return this.current(key, now).filter((stamp) => stamp > now - ms).length;
  }

  full(key: string, now: number): boolean {
    return this.current(key, now).length >= this.limit.requests;
  }

  record(key: string, now: number): void {
    this.current(key, now).push(now);
  }

  state(key: string, now: number): WindowState {
    const stamps = this.current(key, now);
    const { requests, intervalMs } = this.limit;
    return {
      limit: requests,
      intervalMs,
      used: stamps.length,
      remaining: Math.max(0, requests - stamps.length),
      resetInMs: stamps.length === 0 ? 0 : stamps[0]! + intervalMs - now,
    };
  }

  clear(): void {
    this.stamps.clear();
  }
}

export interface BudgetState {
  budget: number;
  used: number;
  remaining: number;
  /** Milliseconds until the next day starts and the budget is whole again. */
  resetInMs: number;
}

export class DailyBudget {
  private readonly usage = new Map<string, { day: number; used: number }>();

  constructor(
    public budget: number,
    readonly dayStartOffsetMs = 0,
  ) {}

  private day(now: number): number {
    return Math.floor((now - this.dayStartOffsetMs) / DAY);
  }

  private entry(key: string, now: number): { day: number; used: number } {
    const day = this.day(now);
    let usage = this.usage.get(key);
    if (!usage || usage.day !== day) {
      usage = { day, used: 0 };
      this.usage.set(key, usage);
    }
    return usage;
  }

  /** True if spending `cost` now would go over the budget. A cost-0 request is never refused. */
  wouldExceed(key: string, cost: number, now: number): boolean {
    if (cost <= 0) return false;
    return this.entry(key, now).used + cost > this.budget;
  }

  spend(key: string, cost: number, now: number): void {
    this.entry(key, now).used += cost;
  }

  state(key: string, now: number): BudgetState {
    const usage = this.entry(key, now);
    return {
      budget: this.budget,
      used: usage.used,
      remaining: Math.max(0, this.budget - usage.used),
      resetInMs: (usage.day + 1) * DAY + this.dayStartOffsetMs - now,
    };
  }

  /** Forgets every key's usage (the midnight reset, without moving the clock); optionally a new budget. */
  reset(budget?: number): void {
    this.usage.clear();
    if (budget !== undefined) this.budget = budget;
  }
}

export interface LimitRequest {
  /** Budget key (e.g. the company for Pipedrive, the token for HubSpot). */
  budgetKey: string;
  /** Window key (e.g. the token). */
  windowKey: string;
  /** What the request spends of the daily budget. */
  cost: number;
  /** Names of the windows this request counts against, checked in this order. */
  windows: string[];
}

export interface LimitDecision {
  allowed: boolean;
  /** `budget`, or the name of the window that refused the request. */
  refusedBy?: string;
  /** When the refusing limit frees up, in milliseconds (the budget: the next day). */
  retryAfterMs?: number;
  /** State after the decision (after counting an admitted request). */
  budget: BudgetState;
  windows: Record<string, WindowState>;
}

export class RateLimiter {
  constructor(
    readonly windows: Record<string, RollingWindow>,
    readonly budget: DailyBudget,
    private readonly clock: () => number,
  ) {}

  private window(name: string): RollingWindow {
    const window = this.windows[name];
    if (!window) throw new Error(`no rate-limit window named ${name}`);
    return window;
  }

  /** Current state without counting anything (for headers of answers that were not admitted, e.g. faults). */
  peek(request: Omit<LimitRequest, 'cost'>): LimitDecision {
    const now = this.clock();
    return {
      allowed: true,
      budget: this.budget.state(request.budgetKey, now),
      windows: Object.fromEntries(request.windows.map((name) => [name, this.window(name).state(request.windowKey, now)])),
    };
  }

  admit(request: LimitRequest): LimitDecision {
    const now = this.clock();
    if (this.budget.wouldExceed(request.budgetKey, request.cost, now)) {
      const state = this.peek(request);
      return { ...state, allowed: false, refusedBy: 'budget', retryAfterMs: state.budget.resetInMs };
    }
    for (const name of request.windows) {
      const window = this.window(name);
      if (window.full(request.windowKey, now)) {
        const state = this.peek(request);
        return { ...state, allowed: false, refusedBy: name, retryAfterMs: state.windows[name]!.resetInMs };
      }
    }
    for (const name of request.windows) this.window(name).record(request.windowKey, now);
    this.budget.spend(request.budgetKey, request.cost, now);
    return this.peek(request);
  }
}
