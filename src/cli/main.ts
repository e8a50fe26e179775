import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { boundHeapGrowth } from '../core/heap.js';
import { registerEmulatorCommand } from './commands/emulator.js';
import { registerExternalIdsCommand } from './commands/external-ids.js';
import { registerFieldsCommand } from './commands/fields.js';
import { registerLedgerCommands } from './commands/ledger.js';
import { registerProjectCommands } from './commands/project.js';
import { registerRunCommands } from './commands/run.js';
import { registerSampleDataCommand } from './commands/sample-data.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSyncCommands } from './commands/sync.js';
import { registerJobsCommand, registerWorkerCommand } from './commands/worker.js';
import type { CommandContext } from './context.js';
import { classifyError, EXIT } from './exit-codes.js';
import { Output, processIo, type CliIo, type Outcome } from './io.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The commander program with every command; output goes through `context`. */
export function buildProgram(context: CommandContext): Command {
  const program = new Command('ferry')
    .description('Ferry: CRM migrations you can repeat, resume and undo (map, match, demo, migrate, delta).')
    .version(version(), '-V, --version')
    .option('--config <path>', 'project file (default: ./ferry.yaml)')
    .option('--json', 'print exactly one JSON object on stdout (progress and prose go nowhere)')
    .option('--state <path|url>', "ledger location: a SQLite file or postgres:// URL (overrides the project's state)")
    // Usage errors must come back as exit code 2 instead of ending the process, and with --json they are
    // reported as one JSON object, so commander's own printing is routed through `context`.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => {
        if (!context.out.json) context.io.stdout.write(text);
      },
      writeErr: (text) => {
        if (!context.out.json) context.io.stderr.write(text);
      },
      outputError: () => {
        // printed by main() once, with the same wording in text and JSON
      },
    })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  registerProjectCommands(program, context);
  registerFieldsCommand(program, context);
  registerExternalIdsCommand(program, context);
  registerRunCommands(program, context);
  registerSyncCommands(program, context);
  registerWorkerCommand(program, context);
  registerJobsCommand(program, context);
  registerLedgerCommands(program, context);
  registerSampleDataCommand(program, context);
  registerEmulatorCommand(program, context);
  registerServeCommand(program, context);
  return program;
}

export interface MainOptions {
  /** The process is Ferry's own (`bin/ferry.js`): bound V8's heap growth (src/core/heap.ts). */
  entry?: boolean;
}

/**
 * Runs the CLI. `argv` is process.argv (node, script, args...). Returns the exit code: 0 every record
 * went through, 3 the run finished with failed records (or verify found problems), 2 usage or
 * configuration error, 1 a fatal error stopped the command.
 */
export async function main(argv: string[], io: CliIo = processIo(), options: MainOptions = {}): Promise<number> {
  const args = argv.slice(2);
  const json = args.includes('--json');
  const out = new Output(io, json);
  let outcome: Outcome | undefined;
  const context: CommandContext = {
    io,
    out,
    finish: (result) => {
      outcome = result;
    },
    ...(options.entry ? { exitWhenDone: true } : {}),
  };
  const program = buildProgram(context);
  try {
    if (options.entry) {
      boundHeapGrowth(io.env);
      // `ferry runs | head`: the reader went away; stop quietly as other command-line tools do, not with a
      // stack trace. (A run writes its state to the ledger before every write, so it resumes if stopped.)
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
        throw error;
      });
    }
    await program.parseAsync(argv);
  } catch (thrown) {
    const { error, exitCode } = classifyError(thrown);
    if (exitCode === EXIT.ok) return EXIT.ok; // --help, --version
    if (json) io.stdout.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
    else {
      io.stderr.write(`Error: ${error.message}\n`);
      if (error.code === 'USAGE' && error.details.commanderCode !== undefined && error.details.commanderCode !== 'commander.help') io.stderr.write('Run `ferry --help` for the commands and their flags.\n');
    }
    return exitCode;
  }
  if (!outcome) return EXIT.ok;
  if (json) io.stdout.write(`${JSON.stringify(outcome.json)}\n`);
  return outcome.exitCode;
}
