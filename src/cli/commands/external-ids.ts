import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { ExternalIdPlan } from '../../core/connector.js';
import { FerryError } from '../../core/errors.js';
import { formatTable } from '../../report/index.js';
import { projectOptions, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectEnv, resolveProjectPath } from '../open-project.js';

/**
 * `ferry external-ids [--dry-run]`: gives every target object the mapping creates records in its external-id
 * field (the stamp that makes a create found again after a lost answer), creating the missing ones where the
 * target connector can (Salesforce: Tooling API + field-level security). `--dry-run` lists what exists and what
 * would be created, and changes nothing. Only the target is connected.
 */

export interface ExternalIdView extends ExternalIdPlan {
  /** After the command (not with --dry-run): `created` when this command made the field. */
  result?: 'created' | 'exists' | 'skipped';
}

export function registerExternalIdsCommand(program: Command, context: CommandContext): void {
  program
    .command('external-ids')
    .description('create the external-id field (Salesforce: Ferry_Source_Id__c) on the target objects the mapping creates records in; --dry-run lists what it would create')
    .option('--dry-run', 'list what exists and what would be created, change nothing')
    .action(async (options: { dryRun?: boolean }, command: Command) => {
      const { loadProjectFile } = await import('../../project/project-file.js');
      const { createConnector } = await import('../../connectors/registry.js');
      const projectOpts = projectOptions(context, command);
      const projectPath = resolveProjectPath(projectOpts);
      const baseDir = dirname(projectPath);
      const project = await loadProjectFile(projectPath, await projectEnv(baseDir, projectOpts.env));
      const connector = createConnector(project.target, { baseDir, role: 'target' });
      try {
        if (!connector.capabilities().externalId || !connector.ensureExternalId) {
          throw new FerryError('USAGE', `The target (${connector.kind}) keeps no external ids: there is nothing to create.`);
        }
        await connector.check();
        // Owners and other matchOnly objects are never created, so they need no stamp (as in a run).
        const objects = [...new Set(project.objects.filter((mapping) => !mapping.matchOnly).map((mapping) => mapping.target))];
        const views: ExternalIdView[] = [];
        for (const object of objects) {
          const plan: ExternalIdPlan = connector.planExternalId
            ? await connector.planExternalId(object)
            : { object, field: '', action: 'create', automatic: true, detail: `the ${connector.kind} connector makes it when a run starts writing ${object}` };
          const view: ExternalIdView = { ...plan };
          if (!options.dryRun && plan.action !== 'unsupported' && plan.action !== 'conflict') {
            const field = await connector.ensureExternalId(object, { create: true });
            view.result = plan.action === 'exists' ? 'exists' : field ? 'created' : 'skipped';
            if (field) view.field = field;
          }
          views.push(view);
        }
        const out = context.out;
        out.line(`Target (${connector.kind}): external-id fields of ${objects.length} object${objects.length === 1 ? '' : 's'}${options.dryRun ? ' (dry run: nothing changed)' : ''}`);
        out.line(
          formatTable(
            [{ header: 'object' }, { header: 'field' }, { header: options.dryRun ? 'plan' : 'result' }, { header: 'detail' }],
            views.map((view) => [view.object, view.field, options.dryRun ? view.action : (view.result ?? view.action), view.result === 'created' ? view.detail.replace(/^would create/, 'created').replace(', then grant', ', granted') : view.detail]),
          ),
        );
        const conflicts = views.filter((view) => view.action === 'conflict');
        for (const view of conflicts) out.warn(`${view.object}: ${view.detail}`);
        context.finish({ exitCode: conflicts.length > 0 ? EXIT.recordsFailed : EXIT.ok, json: { command: 'external-ids', connector: connector.kind, dryRun: options.dryRun === true, objects: views } });
      } finally {
        await connector.close();
      }
    });
}
