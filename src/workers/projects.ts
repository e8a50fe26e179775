import { FerryError } from '../core/errors.js';

/**
 * Several projects in one PostgreSQL database (docs/workers.md): the ledger's URL names the project with
 * `?project=<name>`. Each project's ledger is then its own schema (`ferry_project_<name>`, reached through
 * the connection's search_path), its runs go through its own queues (`ferry-runs-<name>`,
 * `ferry-parts-<name>`) that only its own workers take from, and its part leases are keyed by it. What a
 * project shares with the others is the database and the rate-limit buckets of the accounts they use
 * (an account's limit is the vendor's, whoever sends).
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

/** The project a PostgreSQL ledger URL names, or undefined (the database's one unnamed project). */
export function projectOf(location: string): string | undefined {
  if (!/^postgres(ql)?:\/\//i.test(location)) return undefined;
  let value: string | null;
  try {
    value = new URL(location).searchParams.get('project');
  } catch {
    return undefined;
  }
  if (value === null || value === '') return undefined;
  if (!NAME.test(value)) {
    throw new FerryError('USAGE', `The ledger URL's project=${JSON.stringify(value)} is not a project name: use letters, digits, _ and - (at most 40, starting with a letter or digit).`, { field: 'project', value });
  }
  return value;
}

export function projectSchema(project: string): string {
  return `ferry_project_${project.toLowerCase().replaceAll('-', '_')}`;
}

/** The URL the ledger opens: a named project's connections work in its own schema. */
export function projectLedgerUrl(location: string): string {
  const project = projectOf(location);
  if (project === undefined) return location;
  const url = new URL(location);
  if (url.searchParams.has('options')) {
    throw new FerryError('USAGE', 'A ledger URL with project= cannot also set options=: the project sets the connection\'s search_path to its own schema.');
  }
  url.searchParams.set('options', `-c search_path=${projectSchema(project)}`);
  return url.toString();
}

/** Creates a named project's schema (its ledger's tables go there). */
export async function ensureProjectSchema(location: string): Promise<void> {
  const project = projectOf(location);
  if (project === undefined) return;
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${projectSchema(project)}`);
  } catch (error) {
    // Two processes creating it at once: the other one did.
    if ((error as { code?: string }).code !== '23505' && (error as { code?: string }).code !== '42P06') throw error;
  } finally {
    await client.end();
  }
}

/** The queues of a project's runs and their parts. */
export function queueNames(location: string): { runs: string; parts: string } {
  const project = projectOf(location);
  return project === undefined ? { runs: 'ferry-runs', parts: 'ferry-parts' } : { runs: `ferry-runs-${project}`, parts: `ferry-parts-${project}` };
}

/** A run's key in the tables projects share (part leases): its run id, with its project's name. */
export function runKey(location: string, runId: number): string {
  const project = projectOf(location);
  return project === undefined ? String(runId) : `${project}/${runId}`;
}
