import { dirname, isAbsolute, resolve } from 'node:path';
import type { Connector } from '../core/connector.js';
import { FerryError } from '../core/errors.js';
import { ProgressStream } from '../core/progress.js';
import type { SchemaDescription } from '../core/schema.js';
import type { Engine } from '../engine/engine.js';
import { Ledger } from '../ledger/index.js';
import type { MappingProblem } from '../project/project-file.js';
import type { ProjectFile } from '../project/types.js';

export const DEFAULT_CONFIG = 'ferry.yaml';
export const DEFAULT_STATE = '.ferry/state.db';

export interface OpenProjectOptions {
  /** --config: the project file (default ./ferry.yaml), relative to `cwd`. */
  configPath?: string;
  /** --state: overrides the project's `state` (a SQLite path relative to `cwd`, or a postgres:// URL). */
  state?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Progress stream handed to the engine (one is made when absent). */
  progress?: ProgressStream;
}

export interface ProjectConnections {
  projectPath: string;
  /** The project file's folder: relative paths inside it resolve against this. */
  baseDir: string;
  project: ProjectFile;
  source: Connector;
  target: Connector;
  sourceSchema: SchemaDescription;
  targetSchema: SchemaDescription;
  mapping: { errors: MappingProblem[]; warnings: MappingProblem[] };
  close(): Promise<void>;
}

export interface OpenProject extends ProjectConnections {
  ledger: Ledger;
  engine: Engine;
  progress: ProgressStream;
}

export function resolveProjectPath(options: Pick<OpenProjectOptions, 'configPath' | 'cwd'>): string {
  return resolve(options.cwd, options.configPath ?? DEFAULT_CONFIG);
}

/** Where the ledger lives: --state (relative to the working directory) over the project's `state` (relative to the project folder). */
export function resolveStateLocation(options: Pick<OpenProjectOptions, 'state' | 'cwd'>, project: ProjectFile | undefined, baseDir: string): string {
  const isUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);
  if (options.state) return isUrl(options.state) || isAbsolute(options.state) ? options.state : resolve(options.cwd, options.state);
  const location = project?.state ?? DEFAULT_STATE;
  return isUrl(location) || isAbsolute(location) ? location : resolve(baseDir, location);
}

/** The mapping's errors as one message that lists every problem (exit 2). */
export function mappingError(problems: MappingProblem[], projectPath: string): FerryError {
  const lines = problems.map((problem) => `  - ${problem.object}${problem.field ? `.${problem.field}` : ''}: ${problem.message} [${problem.code}]`);
  return new FerryError(
    'MAPPING_INVALID',
    `The mapping in ${projectPath} does not fit the schemas (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}\n` +
      'Fix ferry.yaml (or run `ferry map` to propose the missing parts), then `ferry check`.',
    { problems },
  );
}

async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  // Newest first, and every one of them even when one fails: a connector pool left open keeps the process alive.
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch {
      // closing is best effort
    }
  }
}

/**
 * The variables `${NAME}` in ferry.yaml may name: the project's secrets file (`.ferry/secrets.env`, written
 * by the wizard, mode 0600) under the environment, so a variable set in the shell wins over the file.
 */
export async function projectEnv(baseDir: string, env: NodeJS.ProcessEnv = process.env): Promise<NodeJS.ProcessEnv> {
  const { readSecrets } = await import('../project/secrets-file.js');
  return { ...(await readSecrets(baseDir)), ...env };
}

/**
 * Loads the project file, builds and checks both connectors and describes both schemas. Used as is by
 * `ferry map` and `ferry check` (which must work while the mapping is still incomplete); `openProject`
 * adds the ledger and the engine.
 */
export async function openConnections(options: OpenProjectOptions): Promise<ProjectConnections> {
  const { loadProjectFile, validateMapping } = await import('../project/project-file.js');
  const { createConnector, createSourceConnector } = await import('../connectors/registry.js');
  const projectPath = resolveProjectPath(options);
  const baseDir = dirname(projectPath);
  const project = await loadProjectFile(projectPath, await projectEnv(dirname(projectPath), options.env));
  const closers: (() => Promise<void>)[] = [];
  try {
    const source = createSourceConnector(project, { baseDir });
    closers.push(() => source.close());
    const target = createConnector(project.target, { baseDir, role: 'target' });
    closers.push(() => target.close());
    await Promise.all([source.check(), target.check()]);
    const [sourceSchema, targetSchema] = await Promise.all([source.describe(), target.describe()]);
    // Fields and options the target will create on write (its settings ask for it) count as present.
    const { schemaWithFieldsToCreate } = await import('../engine/plan.js');
    const planned = target.capabilities().createsMissingOnWrite ? schemaWithFieldsToCreate(project, sourceSchema, targetSchema) : targetSchema;
    const { withSourceWarnings } = await import('../project/source-warnings.js');
    const mapping = withSourceWarnings(validateMapping(project, sourceSchema, planned), project, sourceSchema);
    return { projectPath, baseDir, project, source, target, sourceSchema, targetSchema, mapping, close: () => closeAll(closers) };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

/**
 * Everything a run needs: project, connectors (checked), schemas, a valid mapping (MAPPING_INVALID with
 * every problem listed otherwise), the ledger and the engine. Call `close()` when done (`withProject` does).
 */
export async function openProject(options: OpenProjectOptions): Promise<OpenProject> {
  const connections = await openConnections(options);
  const closers: (() => Promise<void>)[] = [() => connections.close()];
  try {
    if (connections.mapping.errors.length > 0) throw mappingError(connections.mapping.errors, connections.projectPath);
    const ledger = await openLedger(resolveStateLocation(options, connections.project, connections.baseDir), connections.baseDir);
    closers.push(() => ledger.close());
    const { Engine } = await import('../engine/engine.js');
    const progress = options.progress ?? new ProgressStream();
    const engine = new Engine({
      project: connections.project,
      source: connections.source,
      target: connections.target,
      ledger,
      progress,
      sourceSchema: connections.sourceSchema,
      targetSchema: connections.targetSchema,
    });
    return { ...connections, ledger, engine, progress, close: () => closeAll(closers) };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

/** Opens the project, runs `work`, and closes connectors and ledger whatever happens. */
export async function withProject<T>(options: OpenProjectOptions, work: (project: OpenProject) => Promise<T>): Promise<T> {
  const opened = await openProject(options);
  try {
    return await work(opened);
  } finally {
    await opened.close();
  }
}

/**
 * Only the ledger (`ferry runs`, `ferry report`): with --state the project file is not needed at all,
 * otherwise its `state` says where the ledger is.
 */
export async function withLedger<T>(options: OpenProjectOptions, work: (ledger: Ledger) => Promise<T>): Promise<T> {
  const { location, baseDir } = await ledgerLocation(options);
  const ledger = await openLedger(location, baseDir);
  try {
    return await work(ledger);
  } finally {
    await ledger.close();
  }
}

/**
 * Opens the ledger at a resolved location; a PostgreSQL URL naming a project (`?project=`) opens that
 * project's own schema in the database (src/workers/projects.ts).
 */
export async function openLedger(location: string, baseDir: string): Promise<Ledger> {
  if (/^postgres(ql)?:\/\//i.test(location) && /[?&]project=/.test(location)) {
    const { ensureProjectSchema, projectLedgerUrl } = await import('../workers/projects.js');
    await ensureProjectSchema(location);
    return Ledger.open(projectLedgerUrl(location), { baseDir });
  }
  return Ledger.open(location, { baseDir });
}

/** Where the ledger is (unredacted: a postgres:// URL keeps its password) and the folder relative paths start from. */
export async function ledgerLocation(options: OpenProjectOptions): Promise<{ location: string; baseDir: string }> {
  if (options.state) return { location: resolveStateLocation(options, undefined, options.cwd), baseDir: options.cwd };
  const { loadProjectFile } = await import('../project/project-file.js');
  const projectPath = resolveProjectPath(options);
  const baseDir = dirname(projectPath);
  const project = await loadProjectFile(projectPath, await projectEnv(baseDir, options.env));
  return { location: resolveStateLocation(options, project, baseDir), baseDir };
}
