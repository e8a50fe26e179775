import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nowIso } from '../../src/core/time.js';
import { applySourceChanges } from '../../src/sample/index.js';
import { writeSyncScene } from '../support/sync-scene.js';
import { ferry } from './run-cli.js';

const children: ReturnType<typeof spawn>[] = [];
const ENTRY = join(import.meta.dirname, '..', '..', 'src', 'cli', 'entry.ts');

/** `ferry sync` in its own process; resolves `firstCycle` once it has printed its first cycle. */
function syncProcess(cwd: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), ENTRY, 'sync', ...args], { cwd, env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onCycle: () => void = () => undefined;
  let onClose: (error: Error) => void = () => undefined;
  const firstCycle = new Promise<void>((resolve, reject) => {
    onCycle = resolve;
    onClose = reject;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (/Cycle 1 /.test(stdout)) onCycle();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      onClose(new Error(`ferry sync ended (${code}) before its first cycle:\n${stdout}\n${stderr}`));
      resolve({ code, stdout, stderr });
    }),
  );
  firstCycle.catch(() => undefined); // awaited by the tests that need it
  children.push(child);
  return { child, firstCycle, done };
}

/** `ferry sync`, `ferry sync --status` and `ferry cutover` through the CLI, on the SQLite demo scene. */
describe('ferry sync and ferry cutover', () => {
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-sync-cli-'));
    await writeSyncScene(dir, { seed: 11, size: 40 });
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses bad flags with a usage error and needs a full migration first', async () => {
    const bad = await ferry(dir, ['sync', '--every', '5 minutes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--every must be a duration such as 30s, 5m or 1h, got "5 minutes"');
    expect((await ferry(dir, ['sync'])).stderr).toContain('ferry sync needs --every <duration>');
    const both = await ferry(dir, ['sync', '--every', '5m', '--until', '2026-03-02T18:00:00Z', '--until-cutover']);
    expect(both.code).toBe(2);
    expect((await ferry(dir, ['sync', '--every', '5m', '--until', 'tomorrow'])).stderr).toContain('--until must be an ISO instant with a zone');
    // Without a full migration the first cycle cannot run: a configuration error stops the sync at once.
    const early = await ferry(dir, ['sync', '--every', '1h', '--json']);
    expect(early.json()).toMatchObject({ command: 'sync', cycles: 1, failedCycles: 1, reason: 'error', last: { status: 'failed', error: { code: 'USAGE' } } });
    expect(early.code).toBe(1);
    const status = (await ferry(dir, ['sync', '--status', '--json'])).json<{ status: { state: string; stopReason: string } }>();
    expect(status.status).toMatchObject({ state: 'stopped', stopReason: 'error' });
  });

  it('syncs until --until, shows the state, and cuts over with a clean verify (exit 0), or exit 3 when verify is not clean', async () => {
    expect((await ferry(dir, ['migrate', '--json'])).code).toBe(0);
    const changes = await applySourceChanges(join(dir, 'source.db'), { seed: 3, newRecords: { contacts: 3, companies: 1 }, changedRecords: { contacts: 4 }, at: nowIso() });
    // --every 1h with --until a minute from now: the first tick is now, the second is past --until.
    const until = new Date(Date.now() + 60_000).toISOString();
    const sync = await ferry(dir, ['sync', '--every', '1h', '--until', until]);
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/Sync 1: a both delta every 1h \(on conflict: source-wins\), until /);
    expect(sync.stdout).toMatch(/Cycle 1 \(run 2\): created 4, updated 4, conflicts 0, failed 0\. Next at /);
    expect(sync.stdout).toContain('Sync stopped (until).');

    const status = await ferry(dir, ['sync', '--status']);
    expect(status.stdout).toContain('Sync 1: stopped, every 1h, mode both, on conflict source-wins;');
    expect(status.stdout).toMatch(/Last cycle: run 2, .* completed: created 4, updated 4, conflicts 0, failed 0\./);
    expect(status.stdout).toContain('Stopped ');

    // More source changes after the last cycle, and a person's edit in the target.
    await applySourceChanges(join(dir, 'source.db'), { seed: 4, newRecords: { contacts: 2 }, changedRecords: { contacts: 2 }, at: nowIso() });
    const jane = changes.created.contacts[0]!;
    const target = new SqliteDatabase(join(dir, 'target.db'));
    const ledger = new SqliteDatabase(join(dir, '.ferry', 'state.db'), { readonly: true });
    const targetId = (ledger.prepare(`SELECT target_id FROM links WHERE object = 'contacts' AND source_id = ?`).get(String(jane)) as { target_id: string }).target_id;
    ledger.close();
    target.prepare('UPDATE contacts SET jobtitle = ? WHERE id = ?').run('Edited by hand', Number(targetId));

    const cutover = await ferry(dir, ['cutover', '--json']);
    const result = cutover.json<Record<string, unknown>>();
    expect(result).toMatchObject({
      command: 'cutover',
      ok: true,
      stoppedSyncs: [],
      lastCycle: { runId: 2 },
      since: { runId: 2 },
      final: { runId: 3, status: 'completed', totals: { created: 2, failed: 0 } },
      targetEditCount: 1,
      targetEdits: [{ object: 'contacts', sourceId: String(jane), targetId, fields: [{ field: 'jobtitle', value: 'Edited by hand' }] }],
      verify: { ok: true, issues: [] },
    });
    expect(cutover.code).toBe(0);

    // A record Ferry created is deleted in the target: verify is not clean, and the cut-over says so.
    target.prepare('DELETE FROM contacts WHERE id = ?').run(Number(targetId));
    target.close();
    const broken = await ferry(dir, ['cutover']);
    expect(broken.code).toBe(3);
    expect(broken.stdout).toContain('No sync was running: the cut-over runs alone.');
    // The first cut-over's final delta is now the run this one picks up from, not the sync's last cycle.
    expect(broken.stdout).toMatch(/Changed in the source since the last run \(run 3, /);
    expect(broken.stdout).toMatch(/Verify: 1 problem\(s\); `ferry verify` lists them\./);
  });

  it('a sync in another process stops on SIGTERM, and is stopped by `ferry cutover` through the ledger', async () => {
    expect((await ferry(dir, ['migrate', '--json'])).code).toBe(0);
    const first = syncProcess(dir, ['--every', '1h']);
    await first.firstCycle;
    const running = (await ferry(dir, ['sync', '--status', '--json'])).json<{ status: { state: string }; alive: boolean }>();
    expect(running).toMatchObject({ status: { state: 'running' }, alive: true });
    // A second sync on the same ledger is refused while the first is alive.
    const second = await ferry(dir, ['sync', '--every', '1h']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Sync 1 is already running on this ledger/);
    first.child.kill('SIGTERM');
    const ended = await first.done;
    expect(ended.stdout).toContain('Sync stopped (signal).');
    expect(ended.code).toBe(0);
    expect((await ferry(dir, ['sync', '--status', '--json'])).json()).toMatchObject({ status: { id: 1, state: 'stopped', stopReason: 'signal' }, alive: false });

    // The cut-over asks the running sync (another process) to stop, waits for it, then runs the final delta.
    const third = syncProcess(dir, ['--every', '1h', '--json']);
    // (--json prints nothing until the end, so wait for the sync's first cycle in the ledger instead.)
    for (;;) {
      const status = (await ferry(dir, ['sync', '--status', '--json'])).json<{ status: { id: number; cycles: number } | null }>();
      if (status.status?.id === 2 && status.status.cycles >= 1) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Changes after that cycle: the final delta brings them.
    await applySourceChanges(join(dir, 'source.db'), { seed: 8, newRecords: { contacts: 2 }, changedRecords: { contacts: 1 }, at: nowIso() });
    const cutover = await ferry(dir, ['cutover']);
    expect(cutover.stdout).toContain('Asked sync 2 to stop after its current cycle; waiting for it...');
    expect(cutover.stdout).toContain('Sync 2 stopped.');
    expect(cutover.stdout).toMatch(/Changed in the source since the last cycle \(run \d+, /);
    expect(cutover.stdout).toMatch(/Final delta \(run \d+, both\): created 2, updated 1, conflicts 0, failed 0\./);
    expect(cutover.stdout).toContain('Verify: clean.');
    expect(cutover.code).toBe(0);
    const result = await third.done;
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ command: 'sync', syncId: 2, reason: 'cutover', cycles: 1 });
    expect(result.code).toBe(0);
  }, 60_000);

  it("uses the project's options.onConflict unless --on-conflict says otherwise, and ferry map keeps it", async () => {
    const path = join(dir, 'ferry.yaml');
    const text = readFileSync(path, 'utf8');
    expect(text).not.toMatch(/^options:/m);
    writeFileSync(path, `${text}\noptions:\n  onConflict: target-wins\n`);
    expect((await ferry(dir, ['map', '--json'])).code).toBe(0);
    expect(readFileSync(path, 'utf8')).toMatch(/^options:\n {2}onConflict: target-wins$/m);
    expect((await ferry(dir, ['migrate', '--json'])).code).toBe(0);
    const until = new Date(Date.now() + 60_000).toISOString();
    const fromProject = await ferry(dir, ['sync', '--every', '1h', '--until', until, '--json']);
    expect(fromProject.json()).toMatchObject({ sync: { onConflict: 'target-wins' }, reason: 'until' });
    const fromFlag = await ferry(dir, ['sync', '--every', '1h', '--until', until, '--on-conflict', 'skip-record']);
    expect(fromFlag.stdout).toContain('(on conflict: skip-record)');
    const checked = await ferry(dir, ['check']);
    writeFileSync(path, readFileSync(path, 'utf8').replace('onConflict: target-wins', 'onConflict: nobody-wins'));
    const invalid = await ferry(dir, ['sync', '--every', '1h']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/options.onConflict.*nobody-wins|nobody-wins.*onConflict/s);
    expect(checked.code).toBe(0);
  });
});
