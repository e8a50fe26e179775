import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `ferry demo --target hubspot`: the demo story with the HubSpot emulator started in-process as the target,
 * through the real CLI (a child process from source, as in cli.test.ts).
 */
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRY = join(ROOT, 'src', 'cli', 'entry.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ENV: NodeJS.ProcessEnv = { ...process.env, TZ: 'Pacific/Kiritimati', NO_COLOR: '1' };
delete ENV.FERRY_DEMO_HUBSPOT_TOKEN;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function ferry(cwd: string, args: string[], env: NodeJS.ProcessEnv = ENV): Promise<Result> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', TSX, ENTRY, ...args], { cwd, env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

interface Totals {
  created: number;
  updated: number;
  conflicts: number;
  failed: number;
  deleted: number;
}

interface DemoJson {
  command: string;
  story: boolean;
  target: string;
  folder: string;
  seconds: number;
  next: string[];
  emulator: { url: string; kept: boolean };
  steps: {
    scene: { target: Record<string, number>; emulator: string };
    match: { totals: { matched: number } };
    full: { totals: Totals };
    delta: { totals: Totals };
    verify: { objects: Record<string, { checked: number; missing: number; brokenReferences: number }> };
  };
}

describe('ferry demo --target hubspot', () => {
  let dir: string;
  let result: Result;
  let demo: DemoJson;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-demo-hubspot-'));
    result = await ferry(dir, ['demo', '--target', 'hubspot', '--json']);
    const lines = result.stdout.split('\n').filter((line) => line.trim() !== '');
    expect(lines, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toHaveLength(1);
    demo = JSON.parse(lines[0]!) as DemoJson;
  }, 180_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells the whole story into the emulator: matches, creates, and a delta with updates and conflicts', () => {
    expect([0, 3]).toContain(result.code);
    expect(demo).toMatchObject({ command: 'demo', story: true, target: 'hubspot', emulator: { kept: false } });
    expect(demo.emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The account already held owners, companies and contacts; matching linked some of them.
    expect(demo.steps.scene.target.owners).toBeGreaterThan(0);
    expect(demo.steps.scene.target.companies).toBeGreaterThan(0);
    expect(demo.steps.scene.target.contacts).toBeGreaterThan(0);
    expect(demo.steps.match.totals.matched).toBeGreaterThan(0);
    expect(demo.steps.full.totals.created).toBeGreaterThan(0);
    expect(demo.steps.delta.totals.created).toBeGreaterThan(0);
    expect(demo.steps.delta.totals.updated).toBeGreaterThan(0);
    expect(demo.steps.delta.totals.conflicts).toBeGreaterThan(0);
    expect(demo.steps.delta.totals.deleted).toBe(0);
    // Well under the time budget (the emulator's limits are raised for the demo).
    expect(demo.seconds).toBeLessThan(60);
  });

  it('verify finds nothing missing and no broken link in HubSpot', () => {
    const objects = Object.entries(demo.steps.verify.objects);
    expect(objects.length).toBeGreaterThanOrEqual(5);
    for (const [object, summary] of objects) {
      expect({ object, missing: summary.missing, brokenReferences: summary.brokenReferences }).toEqual({ object, missing: 0, brokenReferences: 0 });
    }
  });

  it('writes a ferry.yaml for HubSpot with the token from an environment variable, never a literal', () => {
    const text = readFileSync(join(demo.folder, 'ferry.yaml'), 'utf8');
    expect(text).toContain('connector: hubspot');
    expect(text).toContain(`baseUrl: ${demo.emulator.url}`);
    expect(text).toContain('accessToken: ${FERRY_DEMO_HUBSPOT_TOKEN}');
    expect(text).not.toContain('ferry-demo-token');
    // The mapping ferry map proposed uses HubSpot's association and owner fields.
    for (const field of ['primary_company', 'associated_contacts', 'associated_companies', 'associated_deals', 'hubspot_owner_id', 'dealstage', 'hs_note_body']) {
      expect(text, field).toContain(field);
    }
    expect(existsSync(join(demo.folder, 'target.db'))).toBe(false);
    expect(demo.next).toContain('export FERRY_DEMO_HUBSPOT_TOKEN=ferry-demo-token');
  });

  it('the ledger commands it suggests work after the emulator stopped', async () => {
    const runs = await ferry(demo.folder, ['runs', '--json'], { ...ENV, FERRY_DEMO_HUBSPOT_TOKEN: 'ferry-demo-token' });
    expect(runs.code, runs.stderr).toBe(0);
    expect((JSON.parse(runs.stdout) as { runs: { kind: string }[] }).runs.map((run) => run.kind)).toEqual(['match', 'demo', 'full', 'delta']);
  });

  it('--keep keeps the emulator running until Ctrl-C, so the next commands work against it', async () => {
    const child = spawn(process.execPath, ['--import', TSX, ENTRY, 'demo', '--target', 'hubspot', '--keep', '--size', '120', '--dir', 'kept'], { cwd: dir, env: ENV });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      await new Promise<void>((done, fail) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('Press Ctrl-C to stop it.')) done();
        });
        child.on('exit', () => fail(new Error(`demo exited early\n${stdout}\n${stderr}`)));
      });
      expect(stdout).toContain('npx ferry delta --create-new --update-changed --dry-run');
      const folder = join(dir, 'kept');
      const check = await ferry(folder, ['delta', '--create-new', '--update-changed', '--dry-run', '--json'], { ...ENV, FERRY_DEMO_HUBSPOT_TOKEN: 'ferry-demo-token' });
      expect(check.stderr).not.toMatch(/AUTH_FAILED|ECONNREFUSED/);
      const delta = JSON.parse(check.stdout) as { command: string; totals: Totals };
      expect(delta.command).toBe('delta');
      expect(delta.totals.created).toBe(0);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 120_000);
});

describe('ferry demo --target hubspot --hubspot-url (an emulator started apart, as a sandbox account would be)', () => {
  let dir: string;
  let emulator: ReturnType<typeof spawn>;
  let emulatorOut = '';
  let url: string;
  const TOKEN = 'apart-token';
  const withToken = { ...ENV, HUBSPOT_TOKEN: TOKEN };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-demo-hubspot-url-'));
    // `ferry emulator hubspot` on a free port, in its own process: the demo reaches it only through its URL.
    emulator = spawn(process.execPath, ['--import', TSX, ENTRY, 'emulator', 'hubspot', '--port', '0', '--burst', '250', '--token', TOKEN], { cwd: dir, env: ENV });
    url = await new Promise<string>((done, fail) => {
      emulator.stdout!.on('data', (chunk: Buffer) => {
        emulatorOut += chunk.toString();
        const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(emulatorOut);
        if (found) done(found[1]!);
      });
      emulator.on('exit', () => fail(new Error(`emulator exited early: ${emulatorOut}`)));
    });
  }, 60_000);

  afterAll(() => {
    emulator.kill('SIGINT');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start without the token variable, and writes nothing', async () => {
    const refused = await ferry(dir, ['demo', '--target', 'hubspot', '--hubspot-url', url, '--dir', 'no-token']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('$HUBSPOT_TOKEN');
    expect(existsSync(join(dir, 'no-token'))).toBe(false);
    const keep = await ferry(dir, ['demo', '--target', 'hubspot', '--hubspot-url', url, '--keep', '--dir', 'kept'], withToken);
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain('drop --keep');
  });

  it('tells the whole story into that account, paced at its burst limit (no 429), and leaves it ready for the next commands', async () => {
    const result = await ferry(dir, ['demo', '--target', 'hubspot', '--hubspot-url', url, '--hubspot-burst', '250', '--size', '60', '--dir', 'apart', '--json'], withToken);
    const lines = result.stdout.split('\n').filter((line) => line.trim() !== '');
    expect(lines, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toHaveLength(1);
    const demo = JSON.parse(lines[0]!) as DemoJson & { hubspot: { url: string; external: boolean }; steps: { scene: { hubspot: string } } };
    expect([0, 3]).toContain(result.code);
    expect(demo).toMatchObject({ command: 'demo', target: 'hubspot', hubspot: { url, external: true } });
    expect(demo).not.toHaveProperty('emulator');
    // Used as it is: a fresh emulator holds nothing.
    expect(demo.steps.scene).toMatchObject({ hubspot: url, target: { owners: 0, companies: 0, contacts: 0, deals: 0 } });
    expect(demo.steps.full.totals.created).toBeGreaterThan(0);
    expect(demo.steps.delta.totals.created).toBeGreaterThan(0);
    expect(demo.steps.delta.totals.updated).toBeGreaterThan(0);
    // The edits "in HubSpot" went through the account's API, and the delta saw them as conflicts.
    expect(demo.steps.delta.totals.conflicts).toBeGreaterThan(0);
    for (const [object, summary] of Object.entries(demo.steps.verify.objects)) {
      expect({ object, missing: summary.missing, brokenReferences: summary.brokenReferences }).toEqual({ object, missing: 0, brokenReferences: 0 });
    }
    const text = readFileSync(join(demo.folder, 'ferry.yaml'), 'utf8');
    expect(text).toContain(`baseUrl: ${url}`);
    expect(text).toContain('accessToken: ${HUBSPOT_TOKEN}');
    expect(text).toContain('burstLimit: 250');
    expect(text).not.toContain(TOKEN);
    expect(demo.next.join('\n')).not.toContain(TOKEN);
    expect(demo.next).toContain('npx ferry delta --create-new --update-changed --dry-run');

    // The account keeps the migrated records: the next commands work against it.
    const delta = await ferry(demo.folder, ['delta', '--create-new', '--update-changed', '--dry-run', '--json'], withToken);
    expect(delta.stderr).not.toMatch(/AUTH_FAILED|ECONNREFUSED/);
    expect((JSON.parse(delta.stdout) as { totals: Totals }).totals.created).toBe(0);

    emulator.kill('SIGINT');
    await new Promise((done) => emulator.on('exit', done));
    expect(emulatorOut).toMatch(/Stopped after \d+ requests \(0 answered 429\)/);
  }, 120_000);
});
