import { hostname } from 'node:os';
import { FerryError } from '../core/errors.js';
import { RELEASED_HOLDER, type Sync, type SyncMode, type SyncQueue, type SyncStore } from '../ledger/sync.js';
import type { CycleOutcome } from './cycle.js';
import { systemTimer, type SyncTimer } from './timer.js';

/** Why a sync stopped. */
export type SyncStopReason = 'cutover' | 'wizard' | 'requested' | 'signal' | 'until' | 'error' | 'process-gone';

export type SyncEvent =
  | { type: 'started'; sync: Sync }
  | { type: 'cycle-started'; cycle: number; dueAt: string; startedAt: string }
  | { type: 'cycle-finished'; cycle: number; outcome: CycleOutcome; startedAt: string; finishedAt: string; nextDueAt: string; skipped: number }
  | { type: 'stopped'; reason: string };

export interface SyncLoopOptions {
  store: SyncStore;
  intervalMs: number;
  mode: SyncMode;
  onConflict: string;
  /** No cycle starts after this instant (epoch ms). */
  untilMs?: number;
  /** Runs one cycle (runSyncCycle with the project's engine); `signal` asks it to pause after the current page. */
  cycle: (signal: AbortSignal, sync: Sync) => Promise<CycleOutcome>;
  timer?: SyncTimer;
  /** Stop now (Ctrl-C, SIGTERM): the cycle in progress pauses after its page, resumable like any run. */
  signal?: AbortSignal;
  /** How often the loop reads the ledger for a stop request while it waits for the next tick. */
  pollMs?: number;
  onEvent?: (event: SyncEvent) => void;
  /** Kept by the workers (`ferry sync --queue`): any worker takes the schedule over when this process is gone. */
  queue?: SyncQueue;
  /**
   * Go on with this sync (a worker taking over the schedule of one whose keeper is gone, after `claim`)
   * instead of starting a new one: its ticks, counts and stop request are the row's.
   */
  adopt?: Sync;
  /**
   * What `signal` means: `stop` (default) ends the sync; `release` (a worker that stops) lets go of it, so
   * another worker takes it over, and a cycle it was waiting for goes on and is recorded by that worker.
   */
  onSignal?: 'stop' | 'release';
}

export interface SyncSummary {
  syncId: number;
  cycles: number;
  failedCycles: number;
  skippedTicks: number;
  reason: string;
  last: CycleOutcome | null;
}

export const DEFAULT_POLL_MS = 2000;

/**
 * A sync on another host whose process no longer heartbeats for this long is taken as gone (60 s;
 * FERRY_SYNC_STALE_MS sets it, e.g. for the tests of the workers' take-over).
 */
export function staleAfterMs(): number {
  const set = Number(process.env.FERRY_SYNC_STALE_MS);
  return Number.isInteger(set) && set >= 500 ? set : 60_000;
}

/** Wall-clock heartbeat: the loop's liveness for other processes, kept apart from the injected scheduling clock. */
function heartbeatMs(): number {
  return Math.min(15_000, Math.max(250, Math.floor(staleAfterMs() / 4)));
}

/** Errors that waiting does not fix (the CLI's exit code 2): the loop stops on them instead of retrying. */
const CONFIGURATION_CODES: ReadonlySet<string> = new Set(['USAGE', 'CONFIG_MISSING', 'CONFIG_INVALID', 'MAPPING_INVALID']);

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Whether the process running `sync` is still there: on this host, by its pid; elsewhere, by its heartbeat
 * (wall clock, written every HEARTBEAT_MS even while a cycle runs).
 */
export function syncAlive(sync: Sync, nowMs: number = Date.now()): boolean {
  if (sync.state === 'stopped') return false;
  const [host, pidText] = sync.holder.split(':');
  const pid = Number(pidText);
  if (host === hostname() && Number.isInteger(pid)) {
    if (pid === process.pid) return true;
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    }
  }
  return nowMs - Date.parse(sync.heartbeatAt) <= staleAfterMs();
}

/**
 * Marks syncs whose process is gone as stopped; returns those still alive, and those the workers keep
 * (`ferry sync --queue`), which wait for a worker to take them over instead of stopping.
 */
export async function settleActiveSyncs(store: SyncStore): Promise<Sync[]> {
  const alive: Sync[] = [];
  for (const sync of await store.active()) {
    if (syncAlive(sync) || sync.queue) alive.push(sync);
    else await store.stopped(sync.id, new Date().toISOString(), 'process-gone');
  }
  return alive;
}

/** `ferry sync --queue --detach`: a sync the workers keep from its first tick; nothing runs here. */
export async function scheduleDetachedSync(store: SyncStore, options: Pick<SyncLoopOptions, 'intervalMs' | 'mode' | 'onConflict' | 'untilMs'> & { queue: SyncQueue; nowMs?: number }): Promise<Sync> {
  await refuseSecondSync(store);
  const at = iso(options.nowMs ?? Date.now());
  return store.create({
    startedAt: at,
    intervalMs: options.intervalMs,
    mode: options.mode,
    onConflict: options.onConflict,
    untilAt: options.untilMs === undefined ? null : iso(options.untilMs),
    holder: RELEASED_HOLDER,
    heartbeatAt: new Date(0).toISOString(),
    queue: options.queue,
  });
}

async function refuseSecondSync(store: SyncStore): Promise<void> {
  const alive = await settleActiveSyncs(store);
  if (alive.length === 0) return;
  const other = alive[0]!;
  const where = syncAlive(other)
    ? `process ${other.holder.split(':')[1]} on ${other.holder.split(':')[0]}`
    : 'kept by the workers; none has taken it over yet (is a `ferry worker` running?)';
  throw new FerryError('LEDGER_LOCKED', `Sync ${other.id} is already running on this ledger (${where}, since ${other.startedAt}). Stop it first (\`ferry cutover\`, or Ctrl-C in its terminal).`);
}

/**
 * Continuous sync in-process: a cycle on every tick (start, start + interval, ...) until stopped.
 *
 * - Back-pressure: cycles run one after the other, never two at once. Ticks that fall due while a cycle
 *   runs are skipped (and counted in `skippedTicks`); the next cycle starts on the first tick after it.
 * - A cycle that fails (an error, not per-record failures) is recorded as failed and retried on the next
 *   tick: its delta run was left `interrupted`, so the next cycle resumes it. Configuration errors (exit
 *   code 2: a mapping that no longer fits, no full migration yet) stop the loop instead, since waiting does
 *   not fix them.
 * - It stops between cycles on a stop request in the ledger (`ferry cutover`, the wizard), past `untilMs`,
 *   or at once on `signal` (the current cycle pauses after its page and is resumed by the next sync or
 *   delta with the same flags).
 *
 * State lives in the ledger's `syncs` row, so another process can show it and ask it to stop. A queue
 * scheduler can keep that row and call the same cycle function from jobs instead of this loop.
 */
export async function runSyncLoop(options: SyncLoopOptions): Promise<SyncSummary> {
  const timer = options.timer ?? systemTimer;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const { store, adopt } = options;
  if (!adopt) await refuseSecondSync(store);
  const holder = `${hostname()}:${process.pid}`;
  const start = adopt ? Date.parse(adopt.startedAt) : timer.now();
  const sync =
    adopt ??
    (await store.create({
      startedAt: iso(start),
      intervalMs: options.intervalMs,
      mode: options.mode,
      onConflict: options.onConflict,
      untilAt: options.untilMs === undefined ? null : iso(options.untilMs),
      holder,
      ...(options.queue ? { queue: options.queue } : {}),
    }));
  options.onEvent?.({ type: 'started', sync });
  const heartbeat = setInterval(() => {
    store.heartbeat(sync.id, new Date().toISOString()).catch(() => undefined);
  }, heartbeatMs());
  heartbeat.unref();
  const pause = new AbortController();
  const onAbort = () => pause.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) pause.abort();

  // Taken over: on from the tick the row says is next (one long past runs at once; the ones missed meanwhile are skipped).
  let tick = adopt?.nextDueAt ? Math.max(0, Math.ceil((Date.parse(adopt.nextDueAt) - start) / options.intervalMs)) : 0;
  let cycles = adopt?.cycles ?? 0;
  let failedCycles = adopt?.failedCycles ?? 0;
  let skippedTicks = adopt?.skippedTicks ?? 0;
  let last: CycleOutcome | null = null;
  let reason: string | undefined;
  const stopReason = async (): Promise<string | undefined> => {
    if (pause.signal.aborted) return 'signal';
    const current = await store.get(sync.id);
    if (current?.stopRequested) return current.stopReason ?? 'requested';
    return undefined;
  };
  try {
    for (;;) {
      const dueMs = start + tick * options.intervalMs;
      if (options.untilMs !== undefined && dueMs > options.untilMs) {
        reason = 'until';
        break;
      }
      // Wait for the tick, reading the ledger for a stop request every pollMs.
      while ((reason = await stopReason()) === undefined && timer.now() < dueMs) {
        await timer.sleep(Math.min(pollMs, dueMs - timer.now()), pause.signal);
      }
      if (reason !== undefined) break;
      cycles += 1;
      const startedMs = timer.now();
      options.onEvent?.({ type: 'cycle-started', cycle: cycles, dueAt: iso(dueMs), startedAt: iso(startedMs) });
      const outcome = await options.cycle(pause.signal, sync);
      if (outcome.status === 'paused' && options.onSignal === 'release' && pause.signal.aborted) {
        // Let go while waiting for a queued cycle: it goes on on the workers, and the next keeper records it.
        reason = 'signal';
        break;
      }
      last = outcome;
      const finishedMs = timer.now();
      const failed = outcome.status === 'failed';
      if (failed) failedCycles += 1;
      await store.recordCycle(
        sync.id,
        {
          runId: outcome.runId,
          startedAt: iso(startedMs),
          finishedAt: iso(finishedMs),
          status: outcome.status,
          created: outcome.totals.created,
          updated: outcome.totals.updated,
          conflicts: outcome.totals.conflicts,
          failed: outcome.totals.failed,
          error: outcome.error ? `${outcome.error.code}: ${outcome.error.message}` : null,
        },
        failed,
      );
      // The first tick after the cycle ended; ticks passed meanwhile are skipped, never run late or twice.
      const next = Math.max(tick + 1, Math.floor((finishedMs - start) / options.intervalMs) + 1);
      const skipped = next - tick - 1;
      skippedTicks += skipped;
      tick = next;
      const nextDueMs = start + tick * options.intervalMs;
      await store.schedule(sync.id, { nextDueAt: iso(nextDueMs), skippedTicks });
      options.onEvent?.({ type: 'cycle-finished', cycle: cycles, outcome, startedAt: iso(startedMs), finishedAt: iso(finishedMs), nextDueAt: iso(nextDueMs), skipped });
      if (outcome.status === 'paused') {
        reason = 'signal';
        break;
      }
      if (failed && outcome.error && CONFIGURATION_CODES.has(outcome.error.code)) {
        reason = 'error';
        break;
      }
    }
  } finally {
    clearInterval(heartbeat);
    options.signal?.removeEventListener('abort', onAbort);
    if (reason === 'signal' && options.onSignal === 'release') {
      await store.release(sync.id, holder);
      options.onEvent?.({ type: 'stopped', reason: 'released' });
    } else {
      await store.stopped(sync.id, iso(timer.now()), reason ?? 'error');
      options.onEvent?.({ type: 'stopped', reason: reason ?? 'error' });
    }
  }
  return { syncId: sync.id, cycles, failedCycles, skippedTicks, reason: reason ?? 'error', last };
}

/**
 * Asks every running sync of the ledger to stop after its current cycle and waits until each has
 * stopped (or its process is gone). Returns the syncs it stopped.
 */
export async function stopRunningSyncs(
  store: SyncStore,
  reason: SyncStopReason,
  options: { timer?: SyncTimer; pollMs?: number; onWaiting?: (sync: Sync) => void } = {},
): Promise<Sync[]> {
  const timer = options.timer ?? systemTimer;
  const stopped: Sync[] = [];
  for (const sync of await settleActiveSyncs(store)) {
    await store.requestStop(sync.id, reason);
    options.onWaiting?.(sync);
    for (;;) {
      const current = await store.get(sync.id);
      if (!current || current.state === 'stopped') break;
      if (!syncAlive(current)) {
        await store.stopped(sync.id, iso(timer.now()), 'process-gone');
        break;
      }
      await timer.sleep(options.pollMs ?? DEFAULT_POLL_MS);
    }
    stopped.push((await store.get(sync.id)) ?? sync);
  }
  return stopped;
}
