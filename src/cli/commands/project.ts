import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { FerryError } from '../../core/errors.js';
import type { SchemaDescription } from '../../core/schema.js';
import { formatNumber, formatTable } from '../../report/index.js';
import { projectOptions, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../io.js';
import { proposeAndWrite, type MappingSummary } from '../mapping.js';
import { openConnections, resolveProjectPath } from '../open-project.js';
import { STARTER_PROJECT_FILE } from '../starter.js';

/** Objects with their field and record counts; never connection settings (they may hold secrets). */
function schemaSummary(schema: SchemaDescription): { name: string; fields: number; count?: number }[] {
  return schema.objects.map((object) => ({ name: object.name, fields: object.fields.length, ...(object.count !== undefined ? { count: object.count } : {}) }));
}

function printSchema(out: Output, title: string, schema: SchemaDescription): void {
  out.line(`${title}: ${schema.objects.length} object${schema.objects.length === 1 ? '' : 's'}`);
  out.line(
    formatTable(
      [{ header: 'object' }, { header: 'fields', align: 'right' }, { header: 'records', align: 'right' }],
      schemaSummary(schema).map((object) => [object.name, String(object.fields), object.count === undefined ? '?' : formatNumber(object.count)]),
    ),
  );
}

export function printMappingSummary(out: Output, summary: MappingSummary): void {
  out.line(
    formatTable(
      [{ header: 'source object' }, { header: 'target object' }, { header: 'fields', align: 'right' }, { header: 'value maps', align: 'right' }, { header: 'match keys', align: 'right' }],
      summary.objects.map((object) => [object.source, object.target, String(object.fields), String(object.valueMaps), String(object.matchKeys)]),
    ),
  );
}

export function registerProjectCommands(program: Command, context: CommandContext): void {
  program
    .command('init')
    .description('write a commented starter ferry.yaml')
    .option('--force', 'overwrite an existing project file')
    .action(async (options: { force?: boolean }, command: Command) => {
      const path = resolveProjectPath(projectOptions(context, command));
      if (existsSync(path) && !options.force) {
        throw new FerryError('USAGE', `${path} already exists; nothing was written. Use --force to overwrite it.`, { path });
      }
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, STARTER_PROJECT_FILE, 'utf8');
      context.out.line(`Wrote ${path}.`);
      context.out.line('Next: point source and target at your CRMs, then `ferry check` and `ferry map`.');
      context.finish({ exitCode: EXIT.ok, json: { command: 'init', path } });
    });

  program
    .command('map')
    .description('propose the mapping from both schemas and write it into ferry.yaml, keeping your edits and comments')
    .action(async (_options: unknown, command: Command) => {
      const connections = await openConnections(projectOptions(context, command));
      try {
        const { project, notes, summary } = await proposeAndWrite({
          projectPath: connections.projectPath,
          existing: connections.project,
          source: connections.source,
          target: connections.target,
          sourceSchema: connections.sourceSchema,
          targetSchema: connections.targetSchema,
          sourceConfig: connections.project.source,
          targetConfig: connections.project.target,
          pageSize: connections.project.options.pageSize,
        });
        const { validateMapping } = await import('../../project/project-file.js');
        const { sourceWarnings, withSourceWarnings } = await import('../../project/source-warnings.js');
        const problems = withSourceWarnings(validateMapping(project, connections.sourceSchema, connections.targetSchema), project, connections.sourceSchema);
        // Shown here, not only counted: a missing modified column is decided by the export, not by the mapping.
        notes.push(...sourceWarnings(project, connections.sourceSchema).map((warning) => `warning ${warning.object}: ${warning.message} [${warning.code}]`));
        context.out.line(`Mapping written to ${connections.projectPath}:`);
        printMappingSummary(context.out, summary);
        if (notes.length > 0) {
          context.out.line('');
          for (const note of notes) context.out.line(`- ${note}`);
        }
        context.out.line('');
        context.out.line(
          `${problems.errors.length} error${problems.errors.length === 1 ? '' : 's'}, ${problems.warnings.length} warning${problems.warnings.length === 1 ? '' : 's'}` +
            ' (`ferry check` lists them). Review the file, then `ferry match` and `ferry demo`.',
        );
        context.finish({
          exitCode: EXIT.ok,
          json: { command: 'map', path: connections.projectPath, objects: summary.objects, valueMaps: summary.valueMaps, notes, mapping: problems },
        });
      } finally {
        await connections.close();
      }
    });

  program
    .command('check')
    .description('validate the project file, connect to both sides, show their schemas and every mapping problem')
    .action(async (_options: unknown, command: Command) => {
      const connections = await openConnections(projectOptions(context, command));
      try {
        const { errors, warnings } = connections.mapping;
        context.out.line(`Project: ${connections.projectPath}`);
        context.out.line('');
        printSchema(context.out, `Source (${connections.source.kind}, connected)`, connections.sourceSchema);
        context.out.line('');
        printSchema(context.out, `Target (${connections.target.kind}, connected)`, connections.targetSchema);
        context.out.line('');
        context.out.line(
          `Mapping: ${connections.project.objects.length} object${connections.project.objects.length === 1 ? '' : 's'} mapped, ` +
            `${errors.length} error${errors.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}.`,
        );
        for (const [label, problems] of [
          ['error', errors],
          ['warning', warnings],
        ] as const) {
          for (const problem of problems) {
            context.out.line(`  ${label} ${problem.object}${problem.field ? `.${problem.field}` : ''}: ${problem.message} [${problem.code}]`);
          }
        }
        if (connections.project.objects.length === 0) context.out.line('Nothing is mapped yet: `ferry map` proposes a mapping.');
        context.finish({
          exitCode: errors.length > 0 ? EXIT.usage : EXIT.ok,
          json: {
            command: 'check',
            ok: errors.length === 0,
            path: connections.projectPath,
            source: { connector: connections.source.kind, objects: schemaSummary(connections.sourceSchema) },
            target: { connector: connections.target.kind, objects: schemaSummary(connections.targetSchema) },
            mapping: { objects: connections.project.objects.length, errors, warnings },
          },
        });
      } finally {
        await connections.close();
      }
    });
}
