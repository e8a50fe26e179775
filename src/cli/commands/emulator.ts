import { Option, type Command } from 'commander';
import { formatNumber } from '../../report/index.js';
import { integer, positiveInteger, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

const BURST_TIERS = ['100', '190', '250'] as const;

/** Resolves when the process is asked to stop (Ctrl-C or a service manager's SIGTERM). */
export function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
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

export function registerEmulatorCommand(program: Command, context: CommandContext): void {
  const emulator = program.command('emulator').description('run a local emulator of a CRM vendor API (for demos and tests)');
  emulator
    .command('hubspot')
    .description('serve an emulator of the HubSpot CRM API on 127.0.0.1 until stopped (Ctrl-C)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer('--port'), 0)
    .addOption(new Option('--seed <data>', 'load a small sample CRM (owners, companies, contacts, deals, notes, tasks)').choices(['sample']))
    .option('--sample-seed <seed>', 'seed of the sample data: the same seed gives the same records', integer('--sample-seed'), 42)
    .option('--sample-size <contacts>', 'number of sample contacts (the other objects scale with it)', positiveInteger('--sample-size'), 40)
    .option('--token <token>', 'the bearer token the emulator accepts (a private app\'s)', 'emulator-token')
    .option('--oauth-token <token>', 'also accept this token as an OAuth app\'s: no daily limit, no -Daily rate-limit headers')
    .addOption(new Option('--burst <requests>', 'burst limit per 10 seconds (HubSpot tiers: 100, 190, 250)').choices(BURST_TIERS).default('100'))
    .option('--search-index-delay <ms>', 'delay before writes show up in search results', integer('--search-index-delay'), 0)
    .action(
      async (options: { port: number; seed?: 'sample'; sampleSeed: number; sampleSize: number; token: string; oauthToken?: string; burst: string; searchIndexDelay: number }) => {
        const { startHubspotEmulator } = await import('../../emulators/hubspot/index.js');
        const hubspot = await startHubspotEmulator({
          port: options.port,
          token: options.token,
          oauthToken: options.oauthToken,
          seed: options.seed === 'sample' ? { sample: { seed: options.sampleSeed, contacts: options.sampleSize } } : undefined,
          burstLimit: { requests: Number(options.burst), intervalMs: 10_000 },
          searchIndexDelayMs: options.searchIndexDelay,
        });
        context.out.line(`HubSpot emulator listening on ${hubspot.url}`);
        context.out.line(`  token: ${hubspot.token}  (send it as "Authorization: Bearer <token>")`);
        if (hubspot.seeded) {
          context.out.line(`  sample data: ${Object.entries(hubspot.seeded).map(([object, count]) => `${object} ${formatNumber(count)}`).join(', ')}`);
        }
        context.out.line('Press Ctrl-C to stop.');
        if (context.out.json) context.io.stdout.write(`${JSON.stringify({ event: 'listening', url: hubspot.url, seeded: hubspot.seeded ?? null })}\n`);
        await untilStopped();
        await hubspot.close();
        context.out.line(`Stopped after ${formatNumber(hubspot.stats.requests)} requests (${formatNumber(hubspot.stats.status429)} answered 429).`);
        context.finish({ exitCode: EXIT.ok, json: { command: 'emulator hubspot', url: hubspot.url, requests: hubspot.stats.requests, status429: hubspot.stats.status429 } });
      },
    );
}
