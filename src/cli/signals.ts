/**
 * How Ferry's long-running commands answer Ctrl-C and a service manager's SIGTERM. One place, so that
 * `migrate`, `sync`, the emulators and `serve` agree on what a first and a second signal mean.
 */

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Resolves when the process is asked to stop (Ctrl-C or a service manager's SIGTERM). */
export function untilStopped(): Promise<StopSignal> {
  return new Promise((resolve) => {
    const stop = (signal: StopSignal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

/**
 * Runs `work` with a signal that a first Ctrl-C (or SIGTERM, when listed) aborts — the work stops after
 * the page it is writing, recorded and resumable — after `warn` has said so. A second signal exits at once
 * with 130: still resumable, because the ledger is written before each write.
 */
export async function withGracefulStop<T>(
  signals: readonly StopSignal[],
  warn: () => void,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    warn();
  };
  for (const name of signals) process.on(name, onSignal);
  try {
    return await work(stop.signal);
  } finally {
    for (const name of signals) process.off(name, onSignal);
  }
}
