import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsvConnector } from '../../src/connectors/csv/index.js';
import { createConnector } from '../../src/connectors/registry.js';
import type { FieldValue } from '../../src/core/schema.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { parseProjectFile } from '../../src/project/project-file.js';
import { ledgerKeys } from '../../src/project/routing.js';
import type { ProjectFile } from '../../src/project/types.js';
import { linksOf } from '../support/compare.js';
import { generateCrm, salesforceId, STAGES, VENDORS, writeExport, zohoId, type Edit, type Vendor } from '../support/vendor-exports.js';
import { createSqlTarget, scoreProposal, seedHubspotOwners, type TargetKind } from '../support/vendor-standard.js';

/**
 * Issue 12's "Done when": for each preset vendor, a generated export in the vendor's format goes through the
 * real CLI: `ferry map` (the proposal unedited) → `ferry check` → `ferry migrate` → an edited second export
 * (other file names, as the vendors date their exports) → `ferry delta`, into SQLite and into the HubSpot
 * emulator. No record may fail, and every edit of the second export must arrive.
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRY = join(ROOT, 'src', 'cli', 'entry.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SEED = 12;
const TOKEN_VARIABLE = 'FERRY_TEST_HUBSPOT_TOKEN';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function ferry(cwd: string, env: Record<string, string>, ...args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', TSX, ENTRY, ...args], { cwd, env: { ...process.env, ...env, TZ: 'America/Los_Angeles', NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function json<T = Record<string, unknown>>(result: Result): T {
  const lines = result.stdout.split('\n').filter((line) => line.trim() !== '');
  expect(lines.length, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBeGreaterThan(0);
  return JSON.parse(lines[lines.length - 1]!) as T;
}

interface RunJson {
  totals: { read: number; created: number; updated: number; failed: number };
  failures?: { total: number; byCode: Record<string, number> };
}

// ---------------------------------------------------------------------------------------------------------
// What the transforms and the CSV reading these exports need (being merged from other branches).

function canParse(yaml: string): boolean {
  try {
    parseProjectFile(yaml, 'ferry.yaml', {});
    return true;
  } catch {
    return false;
  }
}

const PROJECT_HEAD = 'version: 1\nsource: { connector: csv, path: export }\ntarget: { connector: sql, dialect: sqlite, path: t.db }\n';
/** `transform: domain` and the multi-source `map` (mapping helper, h/mapping). */
const DOMAIN_TRANSFORM = canParse(`${PROJECT_HEAD}objects:\n  a:\n    target: b\n    fields:\n      w: { target: domain, transform: domain }\n`);
const MULTI_SOURCE_MAP = canParse(`${PROJECT_HEAD}objects:\n  a:\n    target: b\n    fields:\n      s: { source: [x, y], target: s, map: { won: closedwon } }\n`);

/** Decimal commas in a `;`-delimited file (csv helper, h/csv). */
async function decimalCommasRead(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-locale-probe-'));
  try {
    writeFileSync(join(dir, 'deals.csv'), 'id;value\n1;12.500,00\n2;950,50\n');
    const connector = createCsvConnector({ path: dir }, { baseDir: dir });
    const [record] = (await connector.read('deals')).records;
    return record?.fields.value === 12500;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const DECIMAL_COMMAS = await decimalCommasRead();

/**
 * What is missing on this branch for a vendor's test (empty when it can run): the proposal for HubSpot exports
 * uses no new transform; Salesforce and Zoho websites need `domain`; Pipedrive also needs the multi-source
 * map and decimal commas. Until those branches are merged the test is reported as skipped, loudly.
 */
function missingFor(vendor: Vendor): string[] {
  const missing: string[] = [];
  if (vendor !== 'hubspot' && !DOMAIN_TRANSFORM) missing.push('transform: domain (h/mapping)');
  if (vendor === 'pipedrive' && !MULTI_SOURCE_MAP) missing.push('the multi-source map (h/mapping)');
  if (vendor === 'pipedrive' && !DECIMAL_COMMAS) missing.push('decimal commas in ;-delimited files (h/csv)');
  return missing;
}

// ---------------------------------------------------------------------------------------------------------
// Where each edit lands

const SOURCE_OBJECTS: Record<Vendor, Partial<Record<Edit['kind'], string>>> = {
  pipedrive: { org: 'organizations', person: 'people', deal: 'deals', note: 'notes', activity: 'activities' },
  hubspot: { org: 'companies', person: 'contacts', deal: 'deals' },
  salesforce: { org: 'accounts', person: 'contacts', deal: 'opportunities', activity: 'tasks' },
  zoho: { org: 'accounts', person: 'contacts', deal: 'deals', activity: 'tasks' },
};
const TARGET_OBJECTS: Record<Edit['kind'], string> = { org: 'companies', person: 'contacts', deal: 'deals', note: 'notes', activity: 'tasks' };

function sourceId(vendor: Vendor, kind: Edit['kind'], n: number): string {
  switch (vendor) {
    case 'pipedrive':
      return String(n);
    case 'hubspot':
      return String({ person: 1, org: 2, deal: 3, note: 4, activity: 5 }[kind] * 1_000_000 + 10_000 + n);
    case 'salesforce':
      return salesforceId({ org: '001', person: '003', deal: '006', activity: '00T', note: '002' }[kind], n);
    case 'zoho':
      return zohoId({ org: 1, person: 2, deal: 3, activity: 4, note: 5 }[kind], n).replace(/^zcrm_/, '');
  }
}

/** The target field an edit shows in, or undefined where the mapping carries no such field (Pipedrive status into SQL). */
function targetField(vendor: Vendor, target: TargetKind, edit: Edit, targetObject: string): string | undefined {
  const hubspot = target === 'hubspot';
  switch (edit.what) {
    case 'name':
      return 'name';
    case 'email':
    case 'created':
      return edit.kind === 'deal' ? 'dealname' : 'email';
    case 'jobtitle':
      return 'jobtitle';
    case 'stage':
      return 'dealstage';
    case 'status':
      return hubspot || vendor !== 'pipedrive' ? 'dealstage' : undefined;
    case 'value':
      return 'amount';
    case 'content':
      return hubspot ? 'hs_note_body' : 'body';
    case 'subject':
      // Activities routed by type into HubSpot land in calls, meetings, e-mails or tasks (their subject's name differs).
      return hubspot ? ({ calls: 'hs_call_title', meetings: 'hs_meeting_title', emails: 'hs_email_subject' }[targetObject] ?? 'hs_task_subject') : 'subject';
    case 'phone':
      return 'phone';
  }
}

/** The value an edit must show in the target. */
function expectedValue(vendor: Vendor, target: TargetKind, edit: Edit, project: ProjectFile): FieldValue {
  if (edit.what !== 'stage' && edit.what !== 'status') return edit.value;
  const label = edit.what === 'status' ? (vendor === 'pipedrive' ? 'won' : 'Closed Won') : STAGES[vendor][edit.value as number]!;
  if (target === 'sqlite') return label;
  const mapping = project.objects.find((object) => object.target === 'deals')!.fields.find((field) => field.target === 'dealstage')!;
  if (mapping.transform.kind !== 'map') throw new Error(`dealstage is not mapped through a value map: ${JSON.stringify(mapping)}`);
  return mapping.transform.values[label] ?? null;
}

function same(actual: FieldValue | undefined, expected: FieldValue): boolean {
  if (typeof expected === 'number') return Number(actual) === expected;
  return String(actual ?? '').trim() === String(expected ?? '').trim();
}

// ---------------------------------------------------------------------------------------------------------

const cases = VENDORS.flatMap((vendor) => (['sqlite', 'hubspot'] as TargetKind[]).map((target) => ({ vendor, target })));

describe.each(cases)('a $vendor export into $target through the CLI', ({ vendor, target }) => {
  let dir: string;
  let hubspot: HubspotEmulator | undefined;
  let env: Record<string, string> = {};
  const missing = missingFor(vendor);
  const ready = missing.length === 0;

  beforeAll(async () => {
    if (!ready) {
      console.warn(`\n[presets] NOT RUN: ${vendor} → ${target} needs ${missing.join(', ')}\n`);
      return;
    }
    dir = mkdtempSync(join(tmpdir(), `ferry-${vendor}-${target}-`));
    mkdirSync(join(dir, 'export'));
    const { first } = generateCrm(SEED);
    for (const [file, content] of Object.entries(writeExport(vendor, first, '2024-03-01'))) writeFileSync(join(dir, 'export', file), content);
    let targetYaml: string;
    if (target === 'sqlite') {
      createSqlTarget(join(dir, 'target.db'));
      targetYaml = 'target:\n  connector: sql\n  dialect: sqlite\n  path: target.db\n';
    } else {
      hubspot = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000, seed: seedHubspotOwners });
      env = { [TOKEN_VARIABLE]: hubspot.token };
      targetYaml = `target:\n  connector: hubspot\n  accessToken: \${${TOKEN_VARIABLE}}\n  baseUrl: ${hubspot.url}\n  burstLimit: 1000\n  searchPerSecond: 50\n`;
    }
    writeFileSync(join(dir, 'ferry.yaml'), `version: 1\nsource:\n  connector: csv\n  path: export\n${targetYaml}sourceTimeZone: UTC\n`);
  }, 60_000);

  afterAll(async () => {
    await hubspot?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.runIf(ready)('map (unedited) → check → migrate → edited export → delta: the standard fields mapped, nothing failed, every edit arrived', async () => {
    const map = await ferry(dir, env, 'map', '--json');
    expect(map.code, map.stderr + map.stdout).toBe(0);
    const project = parseProjectFile(readFileSync(join(dir, 'ferry.yaml'), 'utf8'), join(dir, 'ferry.yaml'), env);
    const score = scoreProposal(project, vendor, target);
    console.log(`[presets] CLI ${vendor} → ${target}: ${score.right} of ${score.total} standard fields mapped right by the unedited proposal`);
    expect(score.missing).toEqual([]);

    const check = await ferry(dir, env, 'check', '--json');
    const checked = json<{ ok: boolean; mapping: { errors: unknown[] } }>(check);
    expect(checked.mapping.errors, check.stdout).toEqual([]);

    const migrate = await ferry(dir, env, 'migrate', '--json');
    const full = json<RunJson>(migrate);
    expect(migrate.code, migrate.stderr + migrate.stdout).toBe(0);
    expect(full.totals.failed, JSON.stringify(full.failures)).toBe(0);
    expect(full.totals.created).toBeGreaterThan(20);

    // The second export, a month later, under new file names.
    const { second, edits } = generateCrm(SEED);
    rmSync(join(dir, 'export'), { recursive: true });
    mkdirSync(join(dir, 'export'));
    for (const [file, content] of Object.entries(writeExport(vendor, second, '2024-04-01'))) writeFileSync(join(dir, 'export', file), content);
    const delta = await ferry(dir, env, 'delta', '--create-new', '--update-changed', '--json');
    const changed = json<RunJson>(delta);
    expect(delta.code, delta.stderr + delta.stdout).toBe(0);
    expect(changed.totals.failed, JSON.stringify(changed.failures)).toBe(0);
    expect(changed.totals.created).toBeGreaterThanOrEqual(2);

    // Every edit, looked up through the ledger's links in the target.
    const ledger = await Ledger.open(join(dir, '.ferry', 'state.db'));
    const targetConnector = createConnector(project.target, { baseDir: dir, role: 'target' });
    const arrived: string[] = [];
    const missing: string[] = [];
    try {
      for (const edit of edits) {
        const object = SOURCE_OBJECTS[vendor][edit.kind];
        if (!object) continue;
        const id = sourceId(vendor, edit.kind, edit.n);
        // The mapping that took the record: one per source object, or one of several routed ones (by its ledger name).
        const keys = ledgerKeys(project.objects);
        let link: string | null | undefined;
        let targetObject = TARGET_OBJECTS[edit.kind];
        for (const [index, mapping] of project.objects.entries()) {
          if (mapping.source !== object || link) continue;
          link = (await linksOf(ledger, keys[index]!)).get(id);
          if (link) targetObject = mapping.target;
        }
        const field = targetField(vendor, target, edit, targetObject);
        if (!field) continue;
        const expected = expectedValue(vendor, target, edit, project);
        let actual: FieldValue | undefined;
        if (link) {
          if (target === 'sqlite') {
            const db = new SqliteDatabase(join(dir, 'target.db'), { readonly: true });
            try {
              actual = (db.prepare(`SELECT ${field} AS value FROM ${targetObject} WHERE id = ?`).get(link) as { value: FieldValue } | undefined)?.value;
            } finally {
              db.close();
            }
          } else {
            const [record] = await targetConnector.readByIds(targetObject, [link], [field]);
            actual = record?.fields[field];
          }
        }
        const line = `${object} ${id} ${edit.what} → ${targetObject}.${field}: ${JSON.stringify(actual)} (expected ${JSON.stringify(expected)})`;
        if (link && same(actual, expected)) arrived.push(line);
        else missing.push(line);
      }
    } finally {
      await targetConnector.close();
      await ledger.close();
    }
    expect(missing, `arrived:\n${arrived.join('\n')}`).toEqual([]);
    expect(arrived.length).toBeGreaterThanOrEqual(6);
  }, 240_000);
});
