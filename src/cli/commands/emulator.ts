import { Option, type Command } from 'commander';
import { formatNumber } from '../../report/index.js';
import { integer, positiveInteger, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { untilStopped } from '../signals.js';

const BURST_TIERS = ['100', '190', '250'] as const;
const PIPEDRIVE_PLANS = ['lite', 'growth', 'premium', 'ultimate'] as const;

interface RunningEmulator {
  readonly url: string;
  readonly seeded?: object | undefined;
  close(): Promise<void>;
}

/**
 * The tail every `ferry emulator <vendor>` shares: print where it listens and how to authenticate, the
 * sample data, wait for Ctrl-C or SIGTERM, close, and report the vendor's own request figures.
 */
async function serveEmulator(
  context: CommandContext,
  command: string,
  emulator: RunningEmulator,
  banner: readonly string[],
  stopped: () => { line: string; json: Record<string, unknown> },
): Promise<void> {
  for (const line of banner) context.out.line(line);
  if (emulator.seeded) {
    context.out.line(`  sample data: ${Object.entries(emulator.seeded as Record<string, number>).map(([object, count]) => `${object} ${formatNumber(count)}`).join(', ')}`);
  }
  context.out.line('Press Ctrl-C to stop.');
  if (context.out.json) context.io.stdout.write(`${JSON.stringify({ event: 'listening', url: emulator.url, seeded: emulator.seeded ?? null })}\n`);
  await untilStopped();
  await emulator.close();
  const summary = stopped();
  context.out.line(summary.line);
  context.finish({ exitCode: EXIT.ok, json: { command, url: emulator.url, ...summary.json } });
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
        await serveEmulator(
          context,
          'emulator hubspot',
          hubspot,
          [`HubSpot emulator listening on ${hubspot.url}`, `  token: ${hubspot.token}  (send it as "Authorization: Bearer <token>")`],
          () => ({
            line: `Stopped after ${formatNumber(hubspot.stats.requests)} requests (${formatNumber(hubspot.stats.status429)} answered 429).`,
            json: { requests: hubspot.stats.requests, status429: hubspot.stats.status429 },
          }),
        );
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
        await serveEmulator(
          context,
          'emulator pipedrive',
          pipedrive,
          [
            `Pipedrive emulator listening on ${pipedrive.url}  (API v2 under /api/v2, v1 under /api/v1)`,
            `  API token: ${pipedrive.token}  (send it as "x-api-token: <token>" or ?api_token=<token>)`,
            `  OAuth token: ${pipedrive.oauthToken}  (send it as "Authorization: Bearer <token>")`,
          ],
          () => ({
            line: `Stopped after ${formatNumber(pipedrive.stats.requests)} requests (${formatNumber(pipedrive.stats.status429)} answered 429, ${formatNumber(pipedrive.stats.tokens)} tokens spent).`,
            json: { requests: pipedrive.stats.requests, status429: pipedrive.stats.status429, tokens: pipedrive.stats.tokens },
          }),
        );
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
      await serveEmulator(
        context,
        'emulator salesforce',
        salesforce,
        [
          `Salesforce emulator listening on ${salesforce.url}  (REST API under /services/data/v${salesforce.latestVersion})`,
          `  access token: ${salesforce.accessToken}  (send it as "Authorization: Bearer <token>"; user ${salesforce.username})`,
          `  in ferry.yaml: connector: salesforce, instanceUrl: ${salesforce.url}, accessToken: \${SALESFORCE_ACCESS_TOKEN} (the token above in that variable)`,
        ],
        () => ({
          line: `Stopped after ${formatNumber(salesforce.stats.requests)} requests (${formatNumber(salesforce.limits.used())} API calls counted).`,
          json: { requests: salesforce.stats.requests, apiCalls: salesforce.limits.used() },
        }),
      );
    });
}
