/**
 * The sync loop's sense of time, injected so tests run many cycles without waiting (and so a queue
 * scheduler can replace the in-process waiting altogether). Only scheduling reads it: when a cycle is
 * due, what is recorded as a cycle's start and end. Runs keep their own clock (the source's, or nowIso).
 */
export interface SyncTimer {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemTimer: SyncTimer = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timeout = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/**
 * Virtual time: `sleep` moves the clock forward at once, and `advance` lets work "take" time (a slow
 * cycle). Deterministic; what the tests use.
 */
export class VirtualTimer implements SyncTimer {
  constructor(private at: number) {}

  now(): number {
    return this.at;
  }

  advance(ms: number): void {
    this.at += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!signal?.aborted) this.at += Math.max(0, ms);
    // Let other tasks (a stop request written by the test) run, as real waiting would.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** `30s`, `5m`, `1h`, `500ms`, `1h30m` as milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (!/^(\d+(ms|s|m|h))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(amount) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}

/** 300000 -> `5m`, 90000 -> `1m30s`. */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join('');
}
