import { Option, type Command } from 'commander';
import { FerryError } from '../../core/errors.js';
import { globalOptions, integer, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { resolveProjectPath } from '../open-project.js';
import { untilStopped } from '../signals.js';

/** Tried in turn when no --port is given. */
const DEFAULT_PORT = 7420;
const PORT_ATTEMPTS = 20;

export function registerServeCommand(program: Command, context: CommandContext): void {
  program
    .command('serve')
    .description('start the migration wizard in the browser, on this machine only (prints a one-time link)')
    .option('--port <port>', `port to listen on (default ${DEFAULT_PORT}, or the next free one; 0 picks any free port)`, integer('--port'))
    .addOption(new Option('--host <host>', 'loopback address to listen on').choices(['127.0.0.1', 'localhost', '::1']).default('127.0.0.1'))
    .action(async (options: { port?: number; host: string }, command: Command) => {
      const globals = globalOptions(command);
      const projectPath = resolveProjectPath({ configPath: globals.config, cwd: context.io.cwd });
      if (options.port !== undefined && (options.port < 0 || options.port > 65_535)) throw new FerryError('USAGE', '--port must be from 0 to 65535.');
      const { startWizardServer } = await import('../../wizard/server/index.js');
      const start = (port: number) =>
        startWizardServer({ projectPath, cwd: context.io.cwd, env: context.io.env, ...(globals.state ? { state: globals.state } : {}), port, host: options.host });
      let server: Awaited<ReturnType<typeof start>> | undefined;
      if (options.port !== undefined) server = await start(options.port);
      else {
        for (let attempt = 0; !server; attempt++) {
          try {
            server = await start(DEFAULT_PORT + attempt);
          } catch (error) {
            if (attempt + 1 >= PORT_ATTEMPTS || !(error instanceof FerryError) || error.code !== 'USAGE') throw error;
          }
        }
      }
      context.out.line(`Ferry wizard for ${projectPath}`);
      context.out.line('');
      context.out.line(`  Open ${server.url}`);
      context.out.line('');
      context.out.line('The link works once (it signs this browser in); it is for you only, do not share it.');
      context.out.line('Ctrl-C stops the server; a running migration is paused and resumes from the wizard or the CLI.');
      if (context.out.json) context.out.warn(`Ferry wizard: ${server.url}`);
      const signal = await untilStopped();
      const paused = server.jobs.isActive();
      if (paused) context.out.warn('Pausing the running job at its next checkpoint...');
      await server.close();
      const job = server.jobs.current();
      if (paused && job?.status === 'paused') {
        context.out.warn(`Paused${job.runId !== undefined ? ` run ${job.runId}` : ''}: start the same step again (in the wizard or the CLI) to resume it.`);
      }
      context.finish({ exitCode: EXIT.ok, json: { command: 'serve', origin: server.origin, stoppedBy: signal, job: job ? { kind: job.kind, status: job.status, runId: job.runId } : null } });
    });
}
