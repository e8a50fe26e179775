import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnector, createSourceConnector } from '../../src/connectors/registry.js';
import type { Connector } from '../../src/core/connector.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine, type DeltaOptions } from '../../src/engine/index.js';
import { Ledger } from '../../src/ledger/index.js';
import type { ProjectFile } from '../../src/project/types.js';
import { runChild } from '../support/child.js';
import { createFixture, type Backend, type Fixture } from '../support/crm-fixture.js';
import { Model, OBJECTS, type ObjectName, type Value } from './model.js';
import { hubspotTarget, pipedriveTarget, salesforceTarget, sqlTarget, type TargetSide } from './targets.js';
import type { History, Step } from './history.js';

const DEMO_SIZE = 2;
const EPOCH = Date.parse('2026-03-01T00:00:00.000Z');
const instant = (minute: number) => new Date(EPOCH + minute * 60_000).toISOString();

/** What the real engine does with a history, next to what the model says it must do. */
export class ModelRun {
  readonly model: Model;
  private clock = 0;
  private nextSourceId = 1;
  /** Hand-made target rows in creation order, per object (what `target-edit` picks among, with Ferry's). */
  private readonly project: ProjectFile;
  steps = 0;
  runs = 0;
  crashes = 0;
  /** The engine's and the model's numbers of the runs not undone, newest last (what `undo` undoes, `retry` picks from). */
  private readonly runIds: { engine: number; model: number }[] = [];

  private constructor(
    private readonly fixture: Fixture,
    private readonly side: TargetSide,
    /** Killed runs are child processes killed with SIGKILL (else an answer is lost in-process). */
    private readonly sigkill: boolean,
  ) {
    this.model = new Model(side.rules);
    this.project = { ...fixture.project, target: side.config, options: { ...fixture.project.options, pageSize: 2 }, objects: side.objects };
  }

  /** `sqlite` / `postgres`: SQL source and target on that database; `hubspot` / `pipedrive` / `salesforce`: SQLite source, that emulator as target. */
  static async start(backend: Backend | 'hubspot' | 'pipedrive' | 'salesforce', options: { sigkill?: boolean } = {}): Promise<ModelRun> {
    const fixture = await createFixture(backend === 'hubspot' || backend === 'pipedrive' || backend === 'salesforce' ? 'sqlite' : backend);
    const side = backend === 'hubspot' ? await hubspotTarget() : backend === 'pipedrive' ? await pipedriveTarget() : backend === 'salesforce' ? await salesforceTarget() : sqlTarget(fixture);
    return new ModelRun(fixture, side, options.sigkill ?? process.env.FERRY_MODEL_SIGKILL === '1');
  }

  private stored(fields: Record<string, Value>): Record<string, Value> {
    return Object.fromEntries(Object.entries(fields).map(([field, value]) => [field, this.side.rules.store(field, value)]));
  }

  async close(): Promise<void> {
    await this.side.close();
    await this.fixture.cleanup();
  }

  /** Plays a whole history, comparing the target with the model after every run; returns the first divergence. */
  async play(history: History): Promise<string | undefined> {
    for (const step of history.setup) await this.apply(step);
    if (history.demo) {
      this.runs += 1;
      const session = await this.openEngine(null);
      try {
        const engine = (await session.engine.demo({ sampleSize: DEMO_SIZE })).runId;
        this.runIds.push({ engine, model: this.model.demo(DEMO_SIZE) });
      } finally {
        await session.close();
      }
      const divergence = await this.compare();
      if (divergence) return `after the demo: ${divergence}`;
    }
    const full = await this.runEngine('full', { createNew: true, updateChanged: true }, history.fullCrashAt);
    if (full) return `after step ${history.setup.length + 1} (ferry migrate): ${full}`;
    for (const [index, step] of history.later.entries()) {
      const divergence = await this.apply(step);
      if (divergence) return `after step ${history.setup.length + 2 + index}: ${divergence}`;
    }
    return undefined;
  }

  private async apply(step: Step): Promise<string | undefined> {
    this.steps += 1;
    const { source } = this.fixture;
    const model = this.model;
    const pickOf = (object: ObjectName, pick: number) => {
      const ids = [...model.source[object].keys()];
      return ids.length === 0 ? undefined : ids[pick % ids.length]!;
    };
    switch (step.t) {
      case 'tick':
        this.clock += step.minutes;
        return undefined;
      case 'source-company': {
        const id = String(this.nextSourceId++);
        await source.run('INSERT INTO companies (id, name, domain, updated_at) VALUES (?, ?, ?, ?)', [Number(id), step.name, step.domain, instant(this.clock)]);
        model.source.companies.set(id, { id, at: this.clock, fields: { name: step.name, domain: step.domain } });
        return undefined;
      }
      case 'source-company-edit': {
        const id = pickOf('companies', step.pick);
        if (!id) return undefined;
        await source.run(`UPDATE companies SET ${step.field} = ?, updated_at = ? WHERE id = ?`, [step.value, instant(this.clock), Number(id)]);
        const record = model.source.companies.get(id)!;
        record.fields[step.field] = step.value;
        record.at = this.clock;
        return undefined;
      }
      case 'source-contact': {
        const id = String(this.nextSourceId++);
        const company = step.company === null ? null : (pickOf('companies', step.company) ?? null);
        await source.run('INSERT INTO contacts (id, first_name, email, job_title, company_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
          Number(id),
          step.first,
          step.email,
          step.title,
          company === null ? null : Number(company),
          instant(this.clock),
        ]);
        model.source.contacts.set(id, { id, at: this.clock, fields: { first_name: step.first, email: step.email, job_title: step.title, company_id: company } });
        return undefined;
      }
      case 'source-contact-edit': {
        const id = pickOf('contacts', step.pick);
        if (!id) return undefined;
        const value = step.field === 'company_id' ? (step.company === null ? null : (pickOf('companies', step.company) ?? null)) : step.value;
        await source.run(`UPDATE contacts SET ${step.field} = ?, updated_at = ? WHERE id = ?`, [
          step.field === 'company_id' && value !== null ? Number(value) : value,
          instant(this.clock),
          Number(id),
        ]);
        const record = model.source.contacts.get(id)!;
        record.fields[step.field] = value;
        record.at = this.clock;
        return undefined;
      }
      case 'source-contact-delete': {
        const id = pickOf('contacts', step.pick);
        if (!id) return undefined;
        await source.run('DELETE FROM contacts WHERE id = ?', [Number(id)]);
        model.source.contacts.delete(id);
        return undefined;
      }
      case 'target-company': {
        const id = await this.side.insert('companies', { name: step.name, domain: step.domain });
        if (id === undefined) return undefined; // the target refused it: nothing happened
        model.targetChanged();
        model.target.companies.set(`h:${id}`, this.stored({ name: step.name, domain: step.domain }));
        return undefined;
      }
      case 'target-contact': {
        const id = await this.side.insert('contacts', { firstname: step.first, email: step.email, jobtitle: step.title });
        if (id === undefined) return undefined;
        model.targetChanged();
        model.target.contacts.set(`h:${id}`, this.stored({ firstname: step.first, email: step.email, jobtitle: step.title, company_id: null }));
        return undefined;
      }
      case 'target-edit': {
        const rows = await this.side.rows(step.object);
        const names = [...model.target[step.object].keys()].sort();
        if (names.length === 0) return undefined;
        const name = names[step.pick % names.length]!;
        const row = rows.find((candidate) => candidate.name === name);
        if (!row) return `target record ${step.object} ${name} is missing before an edit`;
        if (!(await this.side.edit(step.object, row.id, step.field, step.value))) return undefined;
        model.targetChanged();
        model.target[step.object].get(name)![step.field] = this.side.rules.store(step.field, step.value);
        return undefined;
      }
      case 'delta':
        // After the full migration was undone, a person migrates again (a delta is refused until then).
        if (model.lastCreate === undefined || model.lastUpdate === undefined) return this.runEngine('full', { createNew: true, updateChanged: true }, step.crashAt);
        return this.runEngine('delta', { createNew: step.create, updateChanged: step.update, onConflict: step.policy }, step.crashAt);
      case 'retry': {
        if (this.runIds.length === 0) return undefined;
        const of = this.runIds[step.pick % this.runIds.length]!;
        this.runs += 1;
        const session = await this.openEngine(null);
        try {
          const engine = (await session.engine.retry(of.engine)).runId;
          this.runIds.push({ engine, model: this.model.retry(of.model) });
        } finally {
          await session.close();
        }
        return this.compare();
      }
      case 'both-edit': {
        const linked = [...model.links.contacts.entries()].filter(([id]) => model.source.contacts.has(id));
        if (linked.length === 0) return undefined;
        const [id, link] = linked[step.pick % linked.length]!;
        const sourceStep: Step = { t: 'source-contact-edit', pick: [...model.source.contacts.keys()].indexOf(id), field: step.field, value: step.sourceValue, company: null };
        await this.apply(sourceStep);
        this.steps -= 1;
        const row = (await this.side.rows('contacts')).find((candidate) => candidate.name === link.targetKey);
        if (!row) return `target record contacts ${link.targetKey} is missing before an edit`;
        const field = step.field === 'first_name' ? 'firstname' : 'jobtitle';
        if (!(await this.side.edit('contacts', row.id, field, step.targetValue))) return undefined;
        model.targetChanged();
        model.target.contacts.get(link.targetKey)![field] = this.side.rules.store(field, step.targetValue);
        return undefined;
      }
      case 'source-move': {
        await this.apply({ t: 'source-company', name: step.name, domain: step.domain });
        const companies = [...model.source.companies.keys()];
        this.steps -= 1;
        await this.apply({ t: 'source-contact-edit', pick: step.pick, field: 'company_id', value: null, company: companies.length - 1 });
        this.steps -= 1;
        return undefined;
      }
      case 'match': {
        this.runs += 1;
        const session = await this.openEngine(null);
        try {
          await session.engine.match();
        } finally {
          await session.close();
        }
        this.model.matchOnly();
        return this.compare();
      }
      case 'undo': {
        if (!model.canUndo()) return undefined;
        const runId = this.runIds.pop()!.engine;
        const session = await this.openEngine(null);
        try {
          const result = await session.engine.undo(runId);
          if (result.status !== 'completed') return `undo of run ${runId} ended ${result.status}`;
        } catch (error) {
          return `undo of run ${runId} was refused: ${String(error)}`;
        } finally {
          await session.close();
        }
        model.undo();
        return this.compare();
      }
    }
  }

  /** One run of the real engine (killed at a write and resumed, when asked), then the comparison. */
  private async runEngine(kind: 'full' | 'delta', options: DeltaOptions, crashAt: number | null): Promise<string | undefined> {
    this.runs += 1;
    const highWaterMark = this.clock;
    const attempt = async (crash: number | null) => {
      const session = await this.openEngine(crash);
      try {
        return kind === 'full' ? await session.engine.migrate() : await session.engine.delta(options);
      } finally {
        await session.close();
      }
    };
    if (crashAt !== null && this.sigkill) {
      // The real thing, on demand: a child process SIGKILLed right before or after a write reaches the
      // target, or right after a ledger commit; the same command then resumes in this process.
      const projectPath = join(this.fixture.dir, 'model-project.json');
      writeFileSync(projectPath, JSON.stringify(this.project));
      const point = [`write:${crashAt + 1}:after`, `write:${crashAt + 1}:before`, undefined][crashAt % 3];
      const child = await runChild(projectPath, this.fixture.dir, kind === 'full' ? 'migrate' : 'delta', {
        FERRY_TEST_SOURCE_NOW: instant(highWaterMark),
        FERRY_TEST_DELTA: JSON.stringify(options),
        ...(point ? { FERRY_TEST_KILL_AT: point } : { FERRY_TEST_KILL_LEDGER: `transaction:${crashAt + 1}` }),
      });
      let engine: number;
      if (child.signal === 'SIGKILL') {
        this.crashes += 1;
        engine = (await attempt(null)).runId;
      } else if (child.code !== 0 && child.code !== 3) return `the child run failed: ${child.stderr}${child.stdout}`;
      else engine = (JSON.parse(child.stdout) as { runId: number }).runId;
      this.runIds.push({ engine, model: this.model.run(kind, { create: options.createNew, update: options.updateChanged, policy: options.onConflict ?? 'source-wins' }, highWaterMark) });
      return this.compare();
    }
    let engine: number;
    try {
      engine = (await attempt(crashAt)).runId;
    } catch (error) {
      if (!(error instanceof LostAnswer) && !String(error).includes(LOST_ANSWER)) throw error;
      this.crashes += 1;
      // The same command again resumes the interrupted run.
      const resumed = await attempt(null);
      if (!resumed.resumed) return 'the command after an interrupted run did not resume it';
      engine = resumed.runId;
    }
    this.runIds.push({ engine, model: this.model.run(kind, { create: options.createNew, update: options.updateChanged, policy: options.onConflict ?? 'source-wins' }, highWaterMark) });
    return this.compare();
  }

  private async openEngine(crashAt: number | null): Promise<{ engine: Engine; close(): Promise<void> }> {
    const dir = this.fixture.dir;
    const ledger = await Ledger.open(this.fixture.ledgerLocation, { baseDir: dir });
    const source = createSourceConnector(this.project, { baseDir: dir });
    source.now = () => Promise.resolve(instant(this.clock));
    const target = createConnector(this.project.target, { baseDir: dir, role: 'target' });
    if (crashAt !== null) loseAnswer(target, crashAt);
    const engine = new Engine({ project: this.project, source, target, ledger, progress: new ProgressStream() });
    return {
      engine,
      async close() {
        await source.close();
        await target.close();
        await ledger.close();
      },
    };
  }

  /** Every target record and field against the model's, references compared by the names of their records. */
  private async compare(): Promise<string | undefined> {
    const companies = await this.side.rows('companies');
    const companyName = new Map(companies.map((row) => [String(row.id), row.name]));
    for (const object of OBJECTS) {
      const rows = object === 'companies' ? companies : await this.side.rows(object);
      const actual = new Map<string, Record<string, Value>>();
      for (const row of rows) {
        if (actual.has(row.name)) return `${object}: two target records for ${row.name} (a duplicate)`;
        const fields = { ...row.fields };
        if (object === 'contacts' && fields.company_id !== null) fields.company_id = companyName.get(fields.company_id!) ?? `?${fields.company_id}`;
        actual.set(row.name, fields);
      }
      const expected = this.model.target[object];
      const problems: string[] = [];
      for (const name of new Set([...expected.keys(), ...actual.keys()])) {
        const want = expected.get(name);
        const got = actual.get(name);
        if (!want) problems.push(`${object} ${name} exists in the target but the model has no such record: ${JSON.stringify(got)}`);
        else if (!got) problems.push(`${object} ${name} is missing in the target; the model has ${JSON.stringify(want)}`);
        else {
          for (const field of Object.keys(want)) {
            if ((want[field] ?? null) !== (got[field] ?? null)) problems.push(`${object} ${name}.${field}: target has ${JSON.stringify(got[field])}, the model says ${JSON.stringify(want[field])}`);
          }
        }
      }
      if (problems.length > 0) return problems.join('\n');
    }
    return undefined;
  }
}

const LOST_ANSWER = 'the answer to this write was lost (simulated crash)';
class LostAnswer extends Error {
  constructor() {
    super(LOST_ANSWER);
  }
}

/** The `crashAt`-th create or update call reaches the target, then its answer is lost and the process "dies". */
function loseAnswer(target: Connector, crashAt: number): void {
  let calls = 0;
  const create = target.create.bind(target);
  const update = target.update.bind(target);
  target.create = async (object, inputs) => {
    const results = await create(object, inputs);
    if (calls++ === crashAt) throw new LostAnswer();
    return results;
  };
  target.update = async (object, inputs) => {
    const results = await update(object, inputs);
    if (calls++ === crashAt) throw new LostAnswer();
    return results;
  };
}
