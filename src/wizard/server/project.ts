import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Connector } from '../../core/connector.js';
import type { ProgressStream } from '../../core/progress.js';
import type { SchemaDescription } from '../../core/schema.js';
import type { Ledger } from '../../ledger/index.js';
import type { MappingProblem } from '../../project/project-file.js';
import type { ConnectionConfig, ProjectFile } from '../../project/types.js';
import { withLedger, type OpenProjectOptions } from '../../cli/open-project.js';
import { sourceValueSampler } from '../../cli/sample-values.js';
import type { ProjectSourceSettings } from '../api.js';
import { HttpError, type Scrubber } from './errors.js';
import { readSecrets } from '../../project/secrets-file.js';

export type Side = 'source' | 'target';

/** One side, connected and described (cached while its settings stay the same). */
export interface SideConnection {
  connector: Connector;
  schema: SchemaDescription;
  /** Distinct values of a field from the first pages of the object (the same sampler `ferry map` uses). */
  samples: (object: string, field: string) => Promise<string[]>;
}

export interface ProjectConnections {
  project: ProjectFile;
  source: SideConnection;
  target: SideConnection;
  /** The target schema with the fields and options the target creates on write (what validation uses). */
  plannedTarget: SchemaDescription;
  mapping: { errors: MappingProblem[]; warnings: MappingProblem[] };
}

export interface WizardProjectOptions {
  /** Absolute path of ferry.yaml (it need not exist yet). */
  projectPath: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** --state, as the CLI takes it. */
  state?: string;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * The project the wizard works on: the same ferry.yaml, secrets (environment + .ferry/secrets.env) and
 * ledger as the CLI, and connectors cached between requests while their settings do not change.
 */
export class WizardProject {
  readonly projectPath: string;
  readonly baseDir: string;
  /** Connections entered before ferry.yaml exists: written into it once both sides are there. */
  readonly pending: Partial<Record<Side, ConnectionConfig>> = {};
  /** Project-level source settings (sourceTimeZone, sourceLocale) entered before ferry.yaml exists. */
  readonly pendingProject: ProjectSourceSettings = {};
  /** Notes of the last mapping proposal. */
  notes: string[] = [];
  private readonly sides = new Map<Side, { key: string; connection: Promise<SideConnection> }>();
  private retired: { key: string; connection: Promise<SideConnection> }[] = [];

  constructor(
    private readonly options: WizardProjectOptions,
    private readonly scrub: Scrubber,
  ) {
    this.projectPath = options.projectPath;
    this.baseDir = dirname(options.projectPath);
  }

  exists(): boolean {
    return existsSync(this.projectPath);
  }

  async readText(): Promise<string | undefined> {
    try {
      return await readFile(this.projectPath, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** process.env plus the secrets file (which wins); teaches the scrubber every secret value. */
  async env(): Promise<NodeJS.ProcessEnv> {
    const secrets = await readSecrets(this.baseDir);
    const env = { ...this.options.env, ...secrets };
    const referenced = new Set<string>(Object.values(secrets));
    const text = (await this.readText()) ?? '';
    for (const match of text.matchAll(ENV_REF)) {
      const value = env[match[1]!];
      if (value) referenced.add(value);
    }
    for (const config of Object.values(this.pending)) {
      for (const match of JSON.stringify(config).matchAll(ENV_REF)) {
        const value = env[match[1]!];
        if (value) referenced.add(value);
      }
    }
    this.scrub.setSecrets(referenced);
    return env;
  }

  /** ferry.yaml parsed and validated with the secrets substituted (CONFIG_MISSING when it does not exist). */
  async load(): Promise<ProjectFile> {
    const { loadProjectFile } = await import('../../project/project-file.js');
    return loadProjectFile(this.projectPath, await this.env());
  }

  /** What `withProject` / `openProject` take, as a CLI command in the project folder would pass them. */
  async openOptions(progress?: ProgressStream): Promise<OpenProjectOptions> {
    return { configPath: this.projectPath, cwd: this.options.cwd, env: await this.env(), ...(this.options.state ? { state: this.options.state } : {}), ...(progress ? { progress } : {}) };
  }

  async withLedger<T>(work: (ledger: Ledger) => Promise<T>): Promise<T> {
    return withLedger(await this.openOptions(), work);
  }

  /** A side's connector, checked and described; cached while its (resolved) settings stay the same. */
  async side(side: Side, config: ConnectionConfig, settings?: SourceSettings): Promise<SideConnection> {
    const wide = settings ?? (await this.sourceSettings(side));
    const key = JSON.stringify([config, wide]);
    const cached = this.sides.get(side);
    if (cached?.key === key) {
      try {
        return await cached.connection;
      } catch {
        // a failed attempt is tried again
      }
    }
    if (cached) void cached.connection.then((old) => old.connector.close()).catch(() => undefined);
    const connection = this.connect(side, config, wide);
    this.sides.set(side, { key, connection });
    try {
      return await connection;
    } catch (error) {
      if (this.sides.get(side)?.connection === connection) this.sides.delete(side);
      throw error;
    }
  }

  /** Connects without caching (Connect's test): the caller closes it. */
  async connect(side: Side, config: ConnectionConfig, settings?: SourceSettings): Promise<SideConnection> {
    const { createConnector } = await import('../../connectors/registry.js');
    const wide = settings ?? (await this.sourceSettings(side));
    const connector = createConnector(config, { baseDir: this.baseDir, role: side, ...wide });
    try {
      await connector.check();
      const schema = await connector.describe();
      return { connector, schema, samples: sourceValueSampler(connector, { pages: 1, pageSize: 200, maxDistinct: 100 }) };
    } catch (error) {
      await connector.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * The project-wide source settings (`sourceTimeZone`, `sourceLocale`) as ferry.yaml holds them now, so a
   * CSV export connected here is read as the CLI reads it; none for the target, or before ferry.yaml exists
   * (or while it does not load: its error is shown on its own).
   */
  private async sourceSettings(side: Side): Promise<SourceSettings> {
    if (side !== 'source' || !this.exists()) return {};
    try {
      return sourceSettingsOf(await this.load());
    } catch {
      return {};
    }
  }

  /** Both sides connected and the mapping validated, as `ferry check` sees them. */
  async connections(): Promise<ProjectConnections> {
    if (!this.exists()) throw new HttpError(409, 'CONFIG_MISSING', `${this.projectPath} does not exist yet: connect the source and the target first (or use the demo data).`);
    const project = await this.load();
    const [source, target] = await Promise.all([this.side('source', project.source, sourceSettingsOf(project)), this.side('target', project.target, {})]);
    const { schemaWithFieldsToCreate } = await import('../../engine/plan.js');
    const { validateMapping } = await import('../../project/project-file.js');
    const { withSourceWarnings } = await import('../../project/source-warnings.js');
    const plannedTarget = target.connector.capabilities().createsMissingOnWrite ? schemaWithFieldsToCreate(project, source.schema, target.schema) : target.schema;
    return { project, source, target, plannedTarget, mapping: withSourceWarnings(validateMapping(project, source.schema, plannedTarget), project, source.schema) };
  }

  /** Writes the project back into ferry.yaml, keeping the user's comments and order; atomic. */
  async writeProject(project: ProjectFile): Promise<void> {
    const { serialiseProjectFile } = await import('../../project/project-file.js');
    const text = serialiseProjectFile(project, await this.readText());
    const temporary = `${this.projectPath}.${process.pid}.tmp`;
    await writeFile(temporary, text, 'utf8');
    await rename(temporary, this.projectPath);
  }

  /** Forgets cached connections and closes them now (e.g. after the demo data replaced the databases). */
  async forget(): Promise<void> {
    const all = [...this.sides.values(), ...this.retired];
    this.sides.clear();
    this.retired = [];
    for (const entry of all) {
      try {
        await (await entry.connection).connector.close();
      } catch {
        // closing is best effort
      }
    }
  }

  /**
   * Describes both sides afresh on the next request (after a run changed record counts); the old connectors
   * are closed a little later, so requests still using them finish first.
   */
  invalidate(): void {
    const old = [...this.sides.values()];
    this.sides.clear();
    if (old.length === 0) return;
    this.retired.push(...old);
    const timer = setTimeout(() => {
      for (const entry of old) {
        this.retired = this.retired.filter((item) => item !== entry);
        void entry.connection.then((connection) => connection.connector.close()).catch(() => undefined);
      }
    }, 30_000);
    timer.unref();
  }

  async close(): Promise<void> {
    await this.forget();
  }
}

/** What of a project reaches its source connector besides the connection's own settings. */
interface SourceSettings {
  sourceTimeZone?: string;
  sourceLocale?: string;
}

function sourceSettingsOf(project: ProjectFile): SourceSettings {
  return { sourceTimeZone: project.sourceTimeZone, ...(project.sourceLocale !== undefined ? { sourceLocale: project.sourceLocale } : {}) };
}
