import { CommanderError } from 'commander';
import { FerryError, toFerryError } from '../core/errors.js';
import type { RunStatus } from '../ledger/index.js';

/** The CLI's exit codes (docs/cli.md). */
export const EXIT = {
  /** Every record went through. */
  ok: 0,
  /** A fatal error stopped the command. */
  fatal: 1,
  /** Usage or configuration error: nothing was run. */
  usage: 2,
  /** The run finished, but some records failed (or verify found problems). */
  recordsFailed: 3,
} as const;

/** Exit code of a run that returned: failures of single records give 3, a run that did not finish gives 1. */
export function exitCodeForRunStatus(status: RunStatus): number {
  switch (status) {
    case 'completed':
      return EXIT.ok;
    case 'completed_with_failures':
      return EXIT.recordsFailed;
    default:
      return EXIT.fatal;
  }
}

/**
 * Turns whatever stopped a command into a FerryError and its exit code. Commander's usage errors are
 * USAGE (2); `--help` and `--version` are not errors (0).
 */
export function classifyError(error: unknown): { error: FerryError; exitCode: number } {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return { error: new FerryError('USAGE', error.message), exitCode: EXIT.ok };
    // Commander shows the help when no command is given and reports "(outputHelp)": say what is missing instead.
    const message = error.code === 'commander.help' ? 'No command given; `ferry --help` lists the commands.' : error.message.replace(/^error:\s*/i, '');
    return { error: new FerryError('USAGE', message, { commanderCode: error.code }), exitCode: EXIT.usage };
  }
  const ferry = error instanceof FerryError ? error : toFerryError(error);
  return { error: ferry, exitCode: ferry.exitCode };
}
