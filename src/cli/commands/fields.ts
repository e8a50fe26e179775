import { dirname } from 'node:path';
import { Argument, type Command } from 'commander';
import { FerryError } from '../../core/errors.js';
import type { Connector } from '../../core/connector.js';
import type { FieldSchema, FieldValue, ObjectSchema } from '../../core/schema.js';
import { formatNumber, formatTable } from '../../report/index.js';
import { integer, projectOptions, type CommandContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { projectEnv, resolveProjectPath } from '../open-project.js';

/**
 * `ferry fields source|target [object]`: each side's objects and fields as its connector describes them,
 * for people writing the mapping by hand. Only the named side is connected (the other may not be set up
 * yet). Record counts are the connector's own (`ObjectSchema.count`, given where it is cheap); `filled` is a
 * sample: how many of the first `--sample` records read have a non-empty value in the field.
 */

const SIDES = ['source', 'target'] as const;
type Side = (typeof SIDES)[number];
const DEFAULT_SAMPLE = 100;
/** Options shown per field in the table before "+N more" (--json lists them all). */
const OPTIONS_SHOWN = 6;
const OPTIONS_WIDTH = 60;

export interface FieldView {
  name: string;
  label?: string;
  type: FieldSchema['type'];
  required: boolean;
  readOnly: boolean;
  unique: boolean;
  maxLength?: number;
  /** The object a reference field points to. */
  reference?: string;
  /** Picklist options: value and label. */
  options?: { value: string; label?: string }[];
  /** Non-empty values among the sampled records (absent with --sample 0). */
  filled?: number;
  /** This field's role on the object: modified / created timestamp, external-id stamp. */
  role?: 'modified' | 'created' | 'external-id';
}

export interface ObjectFieldsView {
  name: string;
  label?: string;
  /** Records, when the connector reports the number cheaply. */
  count?: number;
  /** Groups of fields of which a create needs at least one. */
  requiredAnyOf?: string[][];
  /** A junction object's two reference fields (ObjectSchema.junction): each record links the records they name. */
  junction?: [string, string];
  /** Records read for `filled` (fewer than asked when the object has fewer). */
  sampled?: number;
  fields: FieldView[];
}

const isEmpty = (value: FieldValue | undefined): boolean =>
  value === null || value === undefined || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0);

/** Reads up to `limit` records (first pages) and counts the non-empty values per field. */
async function sampleFilled(connector: Connector, object: string, limit: number): Promise<{ sampled: number; filled: Map<string, number> }> {
  const filled = new Map<string, number>();
  let sampled = 0;
  let after: string | undefined;
  while (sampled < limit) {
    const page = await connector.read(object, { after, limit: Math.min(limit - sampled, 500) });
    for (const record of page.records.slice(0, limit - sampled)) {
      sampled += 1;
      for (const [field, value] of Object.entries(record.fields)) if (!isEmpty(value)) filled.set(field, (filled.get(field) ?? 0) + 1);
    }
    if (!page.next || page.records.length === 0) break;
    after = page.next;
  }
  return { sampled, filled };
}

function fieldView(object: ObjectSchema, field: FieldSchema, filled: Map<string, number> | undefined): FieldView {
  const view: FieldView = { name: field.name, type: field.type, required: field.required === true, readOnly: field.readOnly === true, unique: field.unique === true };
  if (field.label !== undefined && field.label !== field.name) view.label = field.label;
  if (field.maxLength !== undefined) view.maxLength = field.maxLength;
  if (field.reference) view.reference = field.reference.object;
  if (field.options && field.options.length > 0) view.options = field.options.map((option) => (option.label !== undefined && option.label !== option.value ? { value: option.value, label: option.label } : { value: option.value }));
  if (filled) view.filled = filled.get(field.name) ?? 0;
  if (field.name === object.modifiedField) view.role = 'modified';
  else if (field.name === object.createdField) view.role = 'created';
  else if (field.name === object.externalIdField) view.role = 'external-id';
  return view;
}

/** `Close date` says nothing `close_date` does not: the table leaves such labels out (--json keeps them). */
function sameWords(label: string | undefined, name: string): boolean {
  const words = (text: string) => text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
  return label === undefined || words(label) === words(name);
}

function shorten(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** `closedwon "Closed won", closedlost "Closed lost", … +12 more`, cut to a table-friendly width. */
export function optionsText(options: FieldView['options']): string {
  if (!options || options.length === 0) return '';
  const shown = options.slice(0, OPTIONS_SHOWN).map((option) => (option.label ? `${option.value} "${option.label}"` : option.value));
  const more = options.length - shown.length;
  const text = shown.join(', ');
  const suffix = more > 0 ? `, … +${more} more` : '';
  if (text.length + suffix.length <= OPTIONS_WIDTH) return text + suffix;
  return `${shorten(text, OPTIONS_WIDTH - `, … (${options.length} options)`.length)} (${options.length} options)`;
}

function flags(field: FieldView, anyOf: string[][]): string {
  const out: string[] = [];
  if (field.required) out.push('required');
  const group = anyOf.find((names) => names.includes(field.name));
  if (group) out.push(`one of ${group.join('/')}`);
  if (field.readOnly) out.push('read-only');
  if (field.unique) out.push('unique');
  if (field.role) out.push(field.role);
  if (field.maxLength !== undefined) out.push(`max ${field.maxLength}`);
  return out.join(', ');
}

function printObject(context: CommandContext, view: ObjectFieldsView): void {
  const out = context.out;
  const facts: string[] = [`${view.fields.length} field${view.fields.length === 1 ? '' : 's'}`];
  facts.push(view.count === undefined ? 'record count not reported by the connector' : `${formatNumber(view.count)} record${view.count === 1 ? '' : 's'}`);
  if (view.sampled !== undefined) facts.push(`filled = non-empty values in the first ${formatNumber(view.sampled)} record${view.sampled === 1 ? '' : 's'} read`);
  out.line(`${view.name}${view.label && view.label !== view.name ? ` (${view.label})` : ''}: ${facts.join('; ')}`);
  for (const group of view.requiredAnyOf ?? []) out.line(`  a new record needs at least one of: ${group.join(', ')}`);
  if (view.junction) out.line(`  link records: each links the records its ${view.junction.join(' and ')} name (its id is made of the two)`);
  const labels = view.fields.map((field) => (sameWords(field.label, field.name) ? '' : shorten(field.label ?? '', 40)));
  const withLabels = labels.some((label) => label !== '');
  const columns = [
    { header: 'field' },
    ...(withLabels ? [{ header: 'label' }] : []),
    { header: 'type' },
    { header: 'flags' },
    { header: 'refers to' },
    { header: 'options' },
    ...(view.sampled !== undefined ? [{ header: 'filled', align: 'right' as const }] : []),
  ];
  out.line(
    formatTable(
      columns,
      view.fields.map((field, index) => [
        field.name,
        ...(withLabels ? [labels[index]!] : []),
        field.type,
        flags(field, view.requiredAnyOf ?? []),
        field.reference ?? '',
        optionsText(field.options),
        ...(view.sampled !== undefined ? [`${formatNumber(field.filled ?? 0)}/${formatNumber(view.sampled)}`] : []),
      ]),
    ),
  );
}

export function registerFieldsCommand(program: Command, context: CommandContext): void {
  program
    .command('fields')
    .description("list one side's objects and fields: type, required, read-only, references, options and counts (for writing the mapping by hand)")
    .addArgument(new Argument('<side>', 'which side').choices(SIDES))
    .argument('[object]', 'only this object')
    .option('--sample <n>', `records read per object to count non-empty values per field (default ${DEFAULT_SAMPLE}; 0: read none)`, integer('--sample'))
    .action(async (side: Side, objectName: string | undefined, options: { sample?: number }, command: Command) => {
      const sample = options.sample ?? DEFAULT_SAMPLE;
      if (sample < 0) throw new FerryError('USAGE', `--sample must be 0 or more, got ${sample}.`);
      const { loadProjectFile, suggest } = await import('../../project/project-file.js');
      const { createConnector, createSourceConnector } = await import('../../connectors/registry.js');
      const projectOpts = projectOptions(context, command);
      const projectPath = resolveProjectPath(projectOpts);
      const baseDir = dirname(projectPath);
      const project = await loadProjectFile(projectPath, await projectEnv(baseDir, projectOpts.env));
      // The source reads with the project's sourceTimeZone and sourceLocale, as every other command does.
      const connector = side === 'source' ? createSourceConnector(project, { baseDir }) : createConnector(project.target, { baseDir, role: 'target' });
      try {
        await connector.check();
        const schema = await connector.describe();
        let objects = schema.objects;
        if (objectName !== undefined) {
          const found = objects.find((object) => object.name === objectName);
          if (!found) {
            const names = objects.map((object) => object.name);
            const hint = suggest(objectName, names);
            throw new FerryError(
              'USAGE',
              `The ${side} (${connector.kind}) has no object "${objectName}"${hint ? ` (did you mean "${hint}"?)` : ''}; its objects: ${names.join(', ')}.`,
              { object: objectName },
            );
          }
          objects = [found];
        }
        const views: ObjectFieldsView[] = [];
        for (const object of objects) {
          const sampled = sample > 0 ? await sampleFilled(connector, object.name, sample) : undefined;
          const view: ObjectFieldsView = { name: object.name, fields: object.fields.map((field) => fieldView(object, field, sampled?.filled)) };
          if (object.label !== undefined) view.label = object.label;
          if (object.count !== undefined) view.count = object.count;
          if (object.requiredAnyOf && object.requiredAnyOf.length > 0) view.requiredAnyOf = object.requiredAnyOf;
          if (object.junction) view.junction = object.junction.fields;
          if (sampled) view.sampled = sampled.sampled;
          views.push(view);
        }
        context.out.line(`${side === 'source' ? 'Source' : 'Target'} (${connector.kind}): ${views.length} object${views.length === 1 ? '' : 's'}`);
        for (const view of views) {
          context.out.line('');
          printObject(context, view);
        }
        context.finish({ exitCode: EXIT.ok, json: { command: 'fields', side, connector: connector.kind, ...(sample > 0 ? { sample } : {}), objects: views } });
      } finally {
        await connector.close();
      }
    });
}
