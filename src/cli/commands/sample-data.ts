import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { FerryError } from '../../core/errors.js';
import { redactUrl } from '../../ledger/index.js';
import { formatNumber } from '../../report/index.js';
import { integer, positiveInteger, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';

const FORMATS = ['sqlite', 'postgres', 'csv'] as const;
type SampleFormat = (typeof FORMATS)[number];
const DEFAULT_OUTPUT: Record<Exclude<SampleFormat, 'postgres'>, string> = { sqlite: 'sample.db', csv: 'sample-csv' };
export const DEFAULT_SAMPLE_SEED = 42;

/** Refuses to write over existing data: a sample generator must never clobber a real database. */
function assertFreshPath(path: string, format: SampleFormat): void {
  if (!existsSync(path)) return;
  if (format === 'csv' && readdirSync(path).length === 0) return;
  throw new FerryError('USAGE', `${path} already exists; choose another --output or remove it first.`, { path });
}

export function registerSampleDataCommand(program: Command, context: CommandContext): void {
  program
    .command('sample-data')
    .description('write a realistic, seeded sample CRM (owners, companies, contacts, deals, notes, tasks) with the mess real CRMs have')
    .option('--size <contacts>', 'number of contacts (the other objects scale with it)', positiveInteger('--size'), 1000)
    .option('--seed <seed>', 'seed: the same seed gives the same data', integer('--seed'), DEFAULT_SAMPLE_SEED)
    .addOption(new Option('--format <format>', 'sqlite, postgres or csv').choices(FORMATS).default('sqlite'))
    .option('--output <path|url>', 'SQLite file, CSV folder, or postgres:// URL (required for postgres; the URL may come from an env variable)')
    .option('--target-output <path|url>', 'also write a demo target ("new CRM", same format; sqlite or postgres) holding overlapping records')
    .action(async (options: { size: number; seed: number; format: SampleFormat; output?: string; targetOutput?: string }) => {
      const sample = await import('../../sample/index.js');
      const sampleOptions = { seed: options.seed, size: options.size };
      let shownOutput: string;
      let counts: Record<string, number>;
      if (options.format === 'postgres') {
        if (!options.output) throw new FerryError('USAGE', 'sample-data --format postgres needs --output postgres://... (an empty database).');
        shownOutput = redactUrl(options.output);
        counts = await sample.writeSamplePostgres(options.output, sampleOptions);
      } else {
        const path = resolve(context.io.cwd, options.output ?? DEFAULT_OUTPUT[options.format]);
        assertFreshPath(path, options.format);
        shownOutput = path;
        counts = options.format === 'sqlite' ? await sample.writeSampleSqlite(path, sampleOptions) : await sample.writeSampleCsv(path, sampleOptions);
      }
      let target: { output: string; counts: Record<string, number> } | undefined;
      if (options.targetOutput) {
        if (/^postgres(ql)?:\/\//i.test(options.targetOutput)) {
          target = { output: redactUrl(options.targetOutput), counts: await sample.createDemoTargetPostgres(options.targetOutput, sampleOptions) };
        } else {
          const path = resolve(context.io.cwd, options.targetOutput);
          assertFreshPath(path, 'sqlite');
          target = { output: path, counts: await sample.createDemoTargetSqlite(path, sampleOptions) };
        }
      }
      context.out.line(`Sample source (${options.format}, seed ${options.seed}) written to ${shownOutput}:`);
      context.out.line(`  ${Object.entries(counts).map(([table, count]) => `${table} ${formatNumber(count)}`).join(', ')}`);
      if (target) {
        context.out.line(`Demo target written to ${target.output}:`);
        context.out.line(`  ${Object.entries(target.counts).map(([table, count]) => `${table} ${formatNumber(count)}`).join(', ')}`);
      }
      context.finish({
        exitCode: EXIT.ok,
        json: { command: 'sample-data', format: options.format, output: shownOutput, seed: options.seed, size: options.size, counts, ...(target ? { target } : {}) },
      });
    });
}
