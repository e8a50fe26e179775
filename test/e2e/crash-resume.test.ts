import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordFigures, SCALE } from '../reliability/figures.js';
import { random, runChild as runEngineChild, type ChildResult } from '../support/child.js';
import { CLEAN, compareCopy } from '../support/compare.js';
import { BACKENDS, count, createFixture, seedTargetUsers, type Db, type Fixture } from '../support/crm-fixture.js';

async function seedMany(db: Db, companies: number, contactsPerCompany: number): Promise<void> {
  const t = '2026-01-01T00:00:00.000Z';
  await db.run(`INSERT INTO owners (id, email, first_name, last_name, updated_at) VALUES (1, 'ann@acme.test', 'Ann', 'Owner', ?), (2, 'bob@acme.test', 'Bob', 'Owner', ?)`, [t, t]);
  let contact = 0;
  for (let company = 1; company <= companies; company++) {
    // Every fifth company is the child of the one before it: parent references point both ways in read order.
    const parent = company % 5 === 0 ? company - 1 : null;
    await db.run(`INSERT INTO companies (id, name, domain, parent_company_id, owner_id, updated_at) VALUES (?, ?, ?, NULL, ?, ?)`, [company, `Company ${company}`, `c${company}.test`, 1 + (company % 2), t]);
    if (parent) await db.run(`UPDATE companies SET parent_company_id = ? WHERE id = ?`, [parent, company]);
    for (let index = 0; index < contactsPerCompany; index++) {
      contact += 1;
      await db.run(`INSERT INTO contacts (id, first_name, last_name, email, company_id, owner_id, updated_at) VALUES (?, ?, 'Person', ?, ?, 1, ?)`, [contact, `P${contact}`, `p${contact}@c${company}.test`, company, t]);
    }
    await db.run(`INSERT INTO deals (id, name, amount, stage, company_id, updated_at) VALUES (?, ?, 100, 'Open', ?, ?)`, [company, `Deal ${company}`, company, t]);
    await db.run(`INSERT INTO deal_contacts (deal_id, contact_id) VALUES (?, ?)`, [company, contact]);
    await db.run(`INSERT INTO notes (id, body, deal_id, updated_at) VALUES (?, 'note', ?, ?)`, [company, company, t]);
  }
}

function runChild(fixture: Fixture, projectPath: string, command: string, env: Record<string, string>, args: string[] = [], killAfterMs?: number): Promise<ChildResult> {
  return runEngineChild(projectPath, fixture.dir, command, env, args, killAfterMs);
}

/** No duplicate, nothing missing, every relation right: compared through the external-id column. */
async function expectExactCopy(fixture: Fixture, companies: number, contacts: number): Promise<void> {
  expect(await count(fixture.target, 'companies')).toBe(companies);
  expect(await count(fixture.target, 'contacts')).toBe(contacts);
  expect(await count(fixture.target, 'deals')).toBe(companies);
  expect(await count(fixture.target, 'notes')).toBe(companies);
  expect(await count(fixture.target, 'deal_contacts')).toBe(companies);
  const duplicates = await fixture.target.all(`SELECT ferry_source_id FROM contacts GROUP BY ferry_source_id HAVING COUNT(*) > 1`);
  expect(duplicates).toEqual([]);
  const wrongCompany = await fixture.target.all(
    `SELECT c.id FROM contacts c JOIN companies co ON co.id = c.company_id WHERE co.name <> 'Company ' || CAST(((CAST(c.ferry_source_id AS INTEGER) - 1) / 3 + 1) AS TEXT)`,
  );
  expect(wrongCompany).toEqual([]);
  const wrongParent = await fixture.target.all(
    `SELECT c.id FROM companies c LEFT JOIN companies p ON p.id = c.parent_id WHERE (CAST(c.ferry_source_id AS INTEGER) % 5 = 0) <> (p.id IS NOT NULL)`,
  );
  expect(wrongParent).toEqual([]);
  const dealsWithoutContact = await fixture.target.all(`SELECT d.id FROM deals d LEFT JOIN deal_contacts dc ON dc.deal_id = d.id WHERE dc.deal_id IS NULL`);
  expect(dealsWithoutContact).toEqual([]);
}

for (const backend of BACKENDS) {
  describe(`crash and resume on ${backend}`, () => {
    let fixture: Fixture | undefined;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('a full migration killed right after target writes, before the ledger records them, resumes with no duplicate and nothing missing', async () => {
      fixture = await createFixture(backend);
      const companies = 40 * SCALE;
      await seedMany(fixture.source, companies, 3);
      await seedTargetUsers(fixture.target);
      const projectPath = join(fixture.dir, 'project.json');
      writeFileSync(projectPath, JSON.stringify({ ...fixture.project, options: { ...fixture.project.options, pageSize: 7 } }));
      const next = random(backend === 'sqlite' ? 11 : 12);
      let kills = 0;
      for (let attempt = 0; attempt < 60 * SCALE; attempt++) {
        const killAfterWrites = 1 + Math.floor(next() * 10);
        const result = await runChild(fixture, projectPath, 'migrate', { FERRY_TEST_KILL_AFTER_WRITES: String(killAfterWrites) });
        if (result.signal === 'SIGKILL') {
          kills += 1;
          continue;
        }
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({ status: 'completed', resumed: true });
        break;
      }
      expect(kills).toBeGreaterThanOrEqual(3);
      await expectExactCopy(fixture, companies, companies * 3);
      recordFigures(`crash after writes ${backend}`, { killPoints: kills, recordsChecked: companies * 6, lost: 0, duplicated: 0 });
      // A delta afterwards finds nothing left to do.
      const delta = await runChild(fixture, projectPath, 'delta', {});
      const counts = JSON.parse(delta.stdout) as { counts: Record<string, { created: number; updated: number }> };
      for (const objectCounts of Object.values(counts.counts)) expect(objectCounts).toMatchObject({ created: 0, updated: 0 });
    });

    it('a full migration killed during its source reads (before and after a page read) resumes to an exact copy', async () => {
      fixture = await createFixture(backend);
      const companies = 20 * SCALE;
      await seedMany(fixture.source, companies, 3);
      await seedTargetUsers(fixture.target);
      const projectPath = join(fixture.dir, 'project.json');
      writeFileSync(projectPath, JSON.stringify({ ...fixture.project, options: { ...fixture.project.options, pageSize: 7 } }));
      const next = random(backend === 'sqlite' ? 51 : 52);
      let kills = 0;
      let finished = false;
      for (let attempt = 0; attempt < 80 * SCALE && !finished; attempt++) {
        const point = `read:${2 + Math.floor(next() * 4)}:${next() < 0.5 ? 'before' : 'after'}`;
        const result = await runChild(fixture, projectPath, 'migrate', { FERRY_TEST_KILL_AT: point });
        if (result.signal === 'SIGKILL') {
          kills += 1;
          continue;
        }
        expect(result.stderr).toBe('');
        expect(JSON.parse(result.stdout)).toMatchObject({ status: 'completed', resumed: true });
        finished = true;
      }
      expect(finished).toBe(true);
      expect(kills).toBeGreaterThanOrEqual(3);
      const comparison = await compareCopy(fixture);
      expect(comparison).toMatchObject(CLEAN);
      await expectExactCopy(fixture, companies, companies * 3);
      recordFigures(`crash during reads ${backend}`, { killPoints: kills, recordsChecked: comparison.records, lost: 0, duplicated: 0 });
    }, 600_000);

    it('a run killed while it makes a new ledger (after each of a sample of its schema statements) leaves a ledger the next run opens, and resumes to an exact copy', async () => {
      fixture = await createFixture(backend);
      const companies = 8;
      await seedMany(fixture.source, companies, 3);
      await seedTargetUsers(fixture.target);
      const projectPath = join(fixture.dir, 'project.json');
      writeFileSync(projectPath, JSON.stringify(fixture.project));
      // The first statements, then a seeded sample of the rest. A new ledger runs 19; on PostgreSQL Kysely
      // makes its two migration tables outside the migrations' transaction, so once they exist a run has 17.
      const next = random(backend === 'sqlite' ? 31 : 32);
      const points = [1, 2, 3, ...Array.from({ length: 4 }, () => 4 + Math.floor(next() * 11)), 15].sort((a, b) => a - b);
      let kills = 0;
      for (const point of points) {
        const result = await runChild(fixture, projectPath, 'migrate', { FERRY_TEST_KILL_SCHEMA: String(point) });
        expect(result.signal, `kill after schema statement ${point}: ${result.stderr}`).toBe('SIGKILL');
        kills += 1;
      }
      const result = await runChild(fixture, projectPath, 'migrate', {});
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ status: 'completed' });
      await expectExactCopy(fixture, companies, companies * 3);
      recordFigures(`crash while making the ledger ${backend}`, { killPoints: kills, recordsChecked: companies * 6, lost: 0, duplicated: 0 });
    });

    it('a full migration killed at random moments resumes to an exact copy', async () => {
      fixture = await createFixture(backend);
      const companies = 30 * SCALE;
      await seedMany(fixture.source, companies, 3);
      await seedTargetUsers(fixture.target);
      const projectPath = join(fixture.dir, 'project.json');
      writeFileSync(projectPath, JSON.stringify({ ...fixture.project, options: { ...fixture.project.options, pageSize: 5 } }));
      const next = random(backend === 'sqlite' ? 21 : 22);
      let finished = false;
      let kills = 0;
      const killed = 6 * SCALE;
      const outcomes: string[] = [];
      for (let attempt = 0; attempt < killed + 2 && !finished; attempt++) {
        const result = await runChild(fixture, projectPath, 'migrate', {}, [], attempt < killed ? 600 + Math.floor(next() * 1500) : undefined);
        if (result.signal === 'SIGKILL') kills += 1;
        finished = result.code === 0;
        outcomes.push(`attempt ${attempt}: ${result.signal ?? `exit ${result.code}`} ${result.stderr.trim()}`);
      }
      expect(finished, outcomes.join('\n')).toBe(true);
      await expectExactCopy(fixture, companies, companies * 3);
      recordFigures(`crash at random ${backend}`, { killPoints: kills, recordsChecked: companies * 6, lost: 0, duplicated: 0 });
    });
  });
}

for (const backend of BACKENDS) {
  describe(`time zones on ${backend}`, () => {
  let fixtures: Fixture[] = [];
  afterEach(async () => {
    for (const fixture of fixtures) await fixture.cleanup();
    fixtures = [];
  });

  it('the same migration gives the same target whatever the machine time zone', async () => {
    const snapshots: unknown[] = [];
    for (const zone of ['Pacific/Kiritimati', 'America/St_Johns']) {
      const fixture = await createFixture(backend);
      fixtures.push(fixture);
      await seedMany(fixture.source, 5, 2);
      await fixture.source.run(`UPDATE contacts SET updated_at = '2026-03-29 01:30:00', birthday = '1980-02-29' WHERE id = 1`);
      await fixture.source.run(`UPDATE contacts SET birthday = '2001-12-31' WHERE id = 2`);
      await seedTargetUsers(fixture.target);
      const projectPath = join(fixture.dir, 'project.json');
      writeFileSync(projectPath, JSON.stringify(fixture.project));
      const result = await runChild(fixture, projectPath, 'migrate', { TZ: zone });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      snapshots.push({
        contacts: await fixture.target.all(
          `SELECT firstname, lastname, email, ${backend === 'postgres' ? "to_char(date_of_birth, 'YYYY-MM-DD')" : 'date_of_birth'} AS date_of_birth, company_id, owner_id, ferry_source_id FROM contacts ORDER BY CAST(ferry_source_id AS INTEGER)`,
        ),
        deals: await fixture.target.all('SELECT dealname, amount, dealstage, company_id FROM deals ORDER BY id'),
      });
    }
    expect(snapshots[0]).toEqual(snapshots[1]);
    expect((snapshots[0] as { contacts: { date_of_birth: string | null }[] }).contacts.slice(0, 2).map((row) => row.date_of_birth)).toEqual(['1980-02-29', '2001-12-31']);
  });
});
}
