import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnector } from '../../src/connectors/registry.js';
import type { Connector } from '../../src/core/connector.js';
import { ProgressStream } from '../../src/core/progress.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { Engine } from '../../src/engine/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { proposeMapping } from '../../src/project/propose-mapping.js';
import type { ProjectFile } from '../../src/project/types.js';
import { generateCrm, VENDORS, writeExport, type Vendor } from '../support/vendor-exports.js';
import { createSqlTarget, proposalLines, scoreProposal, seedHubspotOwners, type TargetKind } from '../support/vendor-standard.js';

/**
 * The unedited proposal for each preset vendor's export, into HubSpot (the emulator) and into a SQL "new
 * CRM": which standard fields it maps right (test/support/vendor-standard.ts lists them). In process and
 * quick; test/e2e/vendor-exports.test.ts runs the same exports through the CLI.
 */
const SEED = 12;

describe.each(VENDORS)('the unedited proposal for a %s export', (vendor: Vendor) => {
  let dir: string;
  let hubspot: HubspotEmulator;
  const proposals = new Map<TargetKind, { project: ProjectFile; notes: string[] }>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `ferry-proposal-${vendor}-`));
    const { first } = generateCrm(SEED);
    mkdirSync(join(dir, 'export'));
    for (const [file, content] of Object.entries(writeExport(vendor, first, '2024-03-01'))) writeFileSync(join(dir, 'export', file), content);
    createSqlTarget(join(dir, 'target.db'));
    hubspot = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000, seed: seedHubspotOwners });
    const sourceConfig = { connector: 'csv', path: 'export' };
    const targets: Record<TargetKind, ProjectFile['target']> = {
      hubspot: { connector: 'hubspot', accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 },
      sqlite: { connector: 'sql', dialect: 'sqlite', path: 'target.db' },
    };
    for (const kind of ['hubspot', 'sqlite'] as TargetKind[]) {
      const source: Connector = createConnector(sourceConfig, { baseDir: dir, role: 'source' });
      const target: Connector = createConnector(targets[kind], { baseDir: dir, role: 'target' });
      const ledger = await Ledger.open(join(dir, `state-${kind}.db`));
      try {
        const sourceSchema = await source.describe();
        const targetSchema = await target.describe();
        const draft = new Engine({
          project: { version: 1, source: sourceConfig, target: targets[kind], sourceTimeZone: 'UTC', objects: [], options: { demoSampleSize: 5, pageSize: 100 } },
          source,
          target,
          ledger,
          progress: new ProgressStream(),
          sourceSchema,
          targetSchema,
        });
        const proposal = await proposeMapping({
          sourceSchema,
          targetSchema,
          source: sourceConfig,
          target: targets[kind],
          sampleValues: (object, field) => draft.sampleSourceValues(object, field),
          targetRecords: async (object) => (await target.read(object, { limit: 100 })).records,
        });
        proposals.set(kind, proposal);
      } finally {
        await source.close();
        await target.close();
        await ledger.close();
      }
    }
  }, 60_000);

  afterAll(async () => {
    await hubspot?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['hubspot', 'sqlite'] as TargetKind[]) {
    it(`maps the standard fields into ${kind} without edits`, () => {
      const { project, notes } = proposals.get(kind)!;
      const score = scoreProposal(project, vendor, kind);
      // The coordinator's closing note quotes these numbers.
      console.log(`[presets] ${vendor} → ${kind}: ${score.right} of ${score.total} standard fields mapped right by the unedited proposal`);
      expect(score.missing, `proposal:\n${proposalLines(project).join('\n')}\nnotes:\n${notes.join('\n')}`).toEqual([]);
    });
  }

  it('fills the owner table by name where the target has the owner, and leaves the other one for the user', () => {
    const { project, notes } = proposals.get('hubspot')!;
    const tables = project.objects.flatMap((mapping) => mapping.fields.filter((field) => field.target === 'hubspot_owner_id' && field.transform.kind === 'map'));
    if (vendor === 'salesforce') {
      // Salesforce owners are User records: matched to HubSpot owners by e-mail, no table.
      expect(tables).toEqual([]);
      expect(project.objects.find((mapping) => mapping.source === 'users')).toMatchObject({ target: 'owners', matchOnly: true, matchKeys: [{ source: 'Email', target: 'email', kind: 'email' }] });
      return;
    }
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) {
      const transform = table.transform as Extract<typeof table.transform, { kind: 'map' }>;
      expect(transform.unmapped).toBe('default');
      expect(transform.default).toBeNull();
      for (const [name, id] of Object.entries(transform.values)) {
        if (name === 'Jonas Becker') expect(id).toBeNull();
        else expect(typeof id, name).toBe('string');
      }
    }
    expect(notes.some((note) => note.includes('"Jonas Becker"'))).toBe(true);
  });
});
