import { Option, type Command } from 'commander';
import { formatNumber } from '../../report/index.js';
import { integer, positiveInteger, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

const BURST_TIERS = ['100', '190', '250'] as const;
const PIPEDRIVE_PLANS = ['lite', 'growth', 'premium', 'ultimate'] as const;

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
  emulator
    .command('pipedrive')
    .description('serve an emulator of the Pipedrive API (v2, and v1 where v2 has nothing) on 127.0.0.1 until stopped (Ctrl-C)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer('--port'), 0)
    .addOption(new Option('--seed <data>', 'load a sample company (users, organizations, persons, deals, activities, notes, custom fields)').choices(['sample']))
    .option('--sample-seed <seed>', 'seed of the sample data: the same seed gives the same records', integer('--sample-seed'), 42)
    .option('--sample-size <persons>', 'number of sample persons (the other objects scale with it)', positiveInteger('--sample-size'), 20)
    .option('--token <token>', 'the API token the emulator accepts (x-api-token header or api_token query parameter)', 'emulator-token')
    .option('--oauth-token <token>', 'the OAuth access token the emulator accepts (Authorization: Bearer)', 'emulator-oauth-token')
    .addOption(new Option('--plan <plan>', 'the company plan: burst limit per 2 s and daily token budget multiplier').choices(PIPEDRIVE_PLANS).default('growth'))
    .option('--seats <seats>', 'seats, for the daily token budget (30,000 x plan multiplier x seats)', positiveInteger('--seats'), 1)
    .option('--daily-budget <tokens>', 'override the daily token budget', positiveInteger('--daily-budget'))
    .option('--search-index-delay <ms>', 'delay before new records show up in search results', integer('--search-index-delay'), 0)
    .action(
      async (options: { port: number; seed?: 'sample'; sampleSeed: number; sampleSize: number; token: string; oauthToken: string; plan: (typeof PIPEDRIVE_PLANS)[number]; seats: number; dailyBudget?: number; searchIndexDelay: number }) => {
        const { startPipedriveEmulator } = await import('../../emulators/pipedrive/index.js');
        const pipedrive = await startPipedriveEmulator({
          port: options.port,
          token: options.token,
          oauthToken: options.oauthToken,
          seed: options.seed === 'sample' ? { sample: { seed: options.sampleSeed, persons: options.sampleSize } } : undefined,
          plan: options.plan,
          seats: options.seats,
          dailyBudget: options.dailyBudget,
          searchIndexDelayMs: options.searchIndexDelay,
        });
        context.out.line(`Pipedrive emulator listening on ${pipedrive.url}  (API v2 under /api/v2, v1 under /api/v1)`);
        context.out.line(`  API token: ${pipedrive.token}  (send it as "x-api-token: <token>" or ?api_token=<token>)`);
        context.out.line(`  OAuth token: ${pipedrive.oauthToken}  (send it as "Authorization: Bearer <token>")`);
        if (pipedrive.seeded) {
          context.out.line(`  sample data: ${Object.entries(pipedrive.seeded).map(([object, count]) => `${object} ${formatNumber(count)}`).join(', ')}`);
        }
        context.out.line('Press Ctrl-C to stop.');
        if (context.out.json) context.io.stdout.write(`${JSON.stringify({ event: 'listening', url: pipedrive.url, seeded: pipedrive.seeded ?? null })}\n`);
        await untilStopped();
        await pipedrive.close();
        context.out.line(`Stopped after ${formatNumber(pipedrive.stats.requests)} requests (${formatNumber(pipedrive.stats.status429)} answered 429, ${formatNumber(pipedrive.stats.tokens)} tokens spent).`);
        context.finish({ exitCode: EXIT.ok, json: { command: 'emulator pipedrive', url: pipedrive.url, requests: pipedrive.stats.requests, status429: pipedrive.stats.status429, tokens: pipedrive.stats.tokens } });
      },
    );
  emulator
    .command('salesforce')
    .description('serve an emulator of the Salesforce REST API (OAuth token endpoint, SOQL, collections, Bulk API 2.0) on 127.0.0.1 until stopped (Ctrl-C)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer('--port'), 0)
    .addOption(new Option('--seed <data>', 'load a sample org (users, accounts, contacts, leads, opportunities with contact roles, tasks, events, notes)').choices(['sample']))
    .option('--sample-seed <seed>', 'seed of the sample data: the same seed gives the same records', integer('--sample-seed'), 42)
    .option('--sample-size <contacts>', 'number of sample contacts (the other objects scale with it)', positiveInteger('--sample-size'), 40)
    .option('--access-token <token>', 'a ready access token acting as the integration user', 'emulator-access-token')
    .option('--api-version <version>', 'the newest API version served (vNN.N paths up to it)', '62.0')
    .option('--daily-api-requests <requests>', 'the org\'s daily API allocation (rolling 24 hours)', positiveInteger('--daily-api-requests'), 100_000)
    .action(async (options: { port: number; seed?: 'sample'; sampleSeed: number; sampleSize: number; accessToken: string; apiVersion: string; dailyApiRequests: number }) => {
      const { startSalesforceEmulator } = await import('../../emulators/salesforce/index.js');
      const salesforce = await startSalesforceEmulator({
        port: options.port,
        accessToken: options.accessToken,
        latestVersion: options.apiVersion,
        dailyApiRequests: options.dailyApiRequests,
        seed: options.seed === 'sample' ? { sample: { seed: options.sampleSeed, contacts: options.sampleSize } } : undefined,
      });
      context.out.line(`Salesforce emulator listening on ${salesforce.url}  (REST API under /services/data/v${salesforce.latestVersion})`);
      context.out.line(`  access token: ${salesforce.accessToken}  (send it as "Authorization: Bearer <token>"; user ${salesforce.username})`);
      context.out.line(`  in ferry.yaml: connector: salesforce, instanceUrl: ${salesforce.url}, accessToken: \${SALESFORCE_ACCESS_TOKEN} (the token above in that variable)`);
      if (salesforce.seeded) {
        context.out.line(`  sample data: ${Object.entries(salesforce.seeded).map(([object, count]) => `${object} ${formatNumber(count)}`).join(', ')}`);
      }
      context.out.line('Press Ctrl-C to stop.');
      if (context.out.json) context.io.stdout.write(`${JSON.stringify({ event: 'listening', url: salesforce.url, seeded: salesforce.seeded ?? null })}\n`);
      await untilStopped();
      await salesforce.close();
      context.out.line(`Stopped after ${formatNumber(salesforce.stats.requests)} requests (${formatNumber(salesforce.limits.used())} API calls counted).`);
      context.finish({ exitCode: EXIT.ok, json: { command: 'emulator salesforce', url: salesforce.url, requests: salesforce.stats.requests, apiCalls: salesforce.limits.used() } });
    });
}
