import { InvalidArgumentError, type Command } from 'commander';
import type { CliIo, Outcome, Output } from './io.js';
import type { OpenProjectOptions } from './open-project.js';

/** Options every command accepts (program level). */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
  state?: string;
}

/** What a command handler gets besides its own arguments. */
export interface CommandContext {
  io: CliIo;
  out: Output;
  /** Records the command's result: its exit code and the one object --json prints. */
  finish(outcome: Outcome): void;
  /** The process is Ferry's own (bin/ferry.js, src/cli/entry.ts), not a test calling main(): a long-running command may end it. */
  exitWhenDone?: boolean;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

export function projectOptions(context: CommandContext, command: Command): OpenProjectOptions {
  const globals = globalOptions(command);
  return { configPath: globals.config, state: globals.state, cwd: context.io.cwd, env: context.io.env };
}

/** Commander argument parser for run ids and counts: a positive integer, or a usage error (exit 2). */
export function positiveInteger(what: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${what} must be a positive whole number, got "${value}".`);
    }
    return Number(value);
  };
}

export function integer(what: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${what} must be a whole number, got "${value}".`);
    }
    return Number(value);
  };
}
