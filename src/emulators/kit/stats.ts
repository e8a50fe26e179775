/** One request as the emulator saw it: tests read the log to check what a connector sent. */
export interface RequestLogEntry {
  method: string;
  path: string;
  /** The query string with its `?` (empty when none). */
  query: string;
  status: number;
  /** Clock time the request arrived (epoch ms, injected clock). */
  at: number;
  /** What the fault injector did to this request, if anything. */
  fault?: string;
  /** Budget units (tokens) the request spent; absent when it spent none. */
  cost?: number;
}

/**
 * Counters a test or a bench reads after a run. `byPath` keys are `METHOD /path` with the path as requested
 * (ids included), as the HubSpot emulator has always counted them; `tokens` is the daily-budget cost spent.
 */
export interface RequestStats {
  requests: number;
  status429: number;
  /** `METHOD /path` -> count. */
  byPath: Record<string, number>;
  /** Budget units spent by admitted requests. */
  tokens: number;
  /** `METHOD /path` -> budget units spent. */
  tokensByPath: Record<string, number>;
}

export function emptyStats(): RequestStats {
  return { requests: 0, status429: 0, byPath: {}, tokens: 0, tokensByPath: {} };
}

export function countRequest(stats: RequestStats, key: string): void {
  stats.requests++;
  stats.byPath[key] = (stats.byPath[key] ?? 0) + 1;
}

export function countCost(stats: RequestStats, key: string, cost: number): void {
  if (cost <= 0) return;
  stats.tokens += cost;
  stats.tokensByPath[key] = (stats.tokensByPath[key] ?? 0) + cost;
}
