import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Connector } from '../core/connector.js';
import type { SchemaDescription } from '../core/schema.js';
import type { ProjectFile } from '../project/types.js';
import { sourceValueSampler } from './sample-values.js';

export interface MappingSummary {
  objects: { source: string; target: string; fields: number; valueMaps: number; matchKeys: number }[];
  valueMaps: number;
}

export function summariseMapping(project: ProjectFile): MappingSummary {
  const objects = project.objects.map((mapping) => ({
    source: mapping.source,
    target: mapping.target,
    fields: mapping.fields.length,
    valueMaps: mapping.fields.filter((field) => field.transform.kind === 'map').length,
    matchKeys: mapping.matchKeys.length,
  }));
  return { objects, valueMaps: objects.reduce((sum, object) => sum + object.valueMaps, 0) };
}

/** The first page of a target object's records (the owner table matches owner names against them); none on error. */
function targetRecordReader(target: Connector): (object: string) => Promise<import('../core/connector.js').CrmRecord[]> {
  return async (object) => {
    try {
      return (await target.read(object, { limit: 500 })).records;
    } catch {
      return [];
    }
  };
}

/**
 * `ferry map`'s work, shared with the demo story: proposes a mapping from both schemas and sample source
 * values, keeps what the user already wrote (`existing`, `existingText` with its comments), and writes
 * the file atomically (a crash never leaves half a ferry.yaml).
 */
export async function proposeAndWrite(input: {
  projectPath: string;
  existing?: ProjectFile;
  source: Connector;
  /** The target connector: its owners are read for the owner table (presets helper). */
  target?: Connector;
  sourceSchema: SchemaDescription;
  targetSchema: SchemaDescription;
  sourceConfig: ProjectFile['source'];
  targetConfig: ProjectFile['target'];
  pageSize?: number;
}): Promise<{ project: ProjectFile; notes: string[]; summary: MappingSummary }> {
  const { proposeMapping } = await import('../project/propose-mapping.js');
  const { serialiseProjectFile } = await import('../project/project-file.js');
  const proposal = await proposeMapping({
    sourceSchema: input.sourceSchema,
    targetSchema: input.targetSchema,
    sampleValues: sourceValueSampler(input.source, { pageSize: input.pageSize }),
    ...(input.target ? { targetRecords: targetRecordReader(input.target) } : {}),
    existing: input.existing,
    source: input.sourceConfig,
    target: input.targetConfig,
  });
  let existingText: string | undefined;
  try {
    existingText = await readFile(input.projectPath, 'utf8');
  } catch {
    existingText = undefined;
  }
  const text = serialiseProjectFile(proposal.project, existingText);
  const temporary = `${input.projectPath}.${process.pid}.tmp`;
  await writeFile(temporary, text, 'utf8');
  await rename(temporary, input.projectPath);
  return { project: proposal.project, notes: proposal.notes, summary: summariseMapping(proposal.project) };
}
