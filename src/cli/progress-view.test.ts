import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { emptyCounts, ProgressStream } from '../core/progress.js';
import { chooseDemoFolder } from './demo-story.js';
import { Output, type CliIo } from './io.js';
import { attachProgressView } from './progress-view.js';

function capture(json: boolean): { out: Output; stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    stdin: Readable.from([]),
    cwd: '/',
    env: {},
  };
  return { out: new Output(io, json), stdout: () => stdout, stderr: () => stderr };
}

function emitRun(progress: ProgressStream): void {
  progress.emit({ type: 'run-started', runId: '7', kind: 'full', objects: ['companies'], resumed: true, dryRun: false });
  progress.emit({ type: 'object-started', runId: '7', object: 'companies', total: 10 });
  progress.emit({ type: 'object-progress', runId: '7', object: 'companies', processed: 5, total: 10, counts: { ...emptyCounts(), read: 5 } });
  progress.emit({ type: 'message', runId: '7', level: 'warn', text: 'source deletions seen: 2' });
  progress.emit({ type: 'object-finished', runId: '7', object: 'companies', counts: { ...emptyCounts(), read: 10, created: 8, failed: 2 } });
}

describe('progress view', () => {
  it("prints a queued run's parts line when a part starts, changes hands or records a page, not when nothing changed", () => {
    const { out, stdout } = capture(false);
    const progress = new ProgressStream();
    const view = attachProgressView(progress, out);
    const parts = (read: number, worker = 'host-a:41') =>
      progress.emit({
        type: 'parts',
        runId: '7',
        total: 2,
        done: 1,
        parts: [
          { key: 'companies', object: 'companies', state: 'done', read: 30 },
          { key: 'contacts', object: 'contacts', state: 'running', worker, read },
        ],
      });
    parts(0);
    parts(5);
    parts(5);
    parts(5, 'host-b:77');
    view.stop();
    expect(stdout().split('\n').filter(Boolean)).toEqual([
      '  parts: 1/2 done; writing contacts on host-a:41',
      '  parts: 1/2 done; writing contacts on host-a:41 (5 read)',
      '  parts: 1/2 done; writing contacts on host-b:77 (5 read)',
    ]);
  });

  it('without a terminal prints one line per finished object, from the progress events alone', () => {
    const { out, stdout, stderr } = capture(false);
    const progress = new ProgressStream();
    let clock = 0;
    const view = attachProgressView(progress, out, undefined, () => (clock += 1000));
    emitRun(progress);
    view.stop();
    expect(stdout()).toContain('Resuming unfinished run 7 (full)');
    expect(stdout()).toMatch(/companies: 10 read, 8 created, 2 failed \(\d+\.\d s, \d+ records\/s\)/);
    expect(stderr()).toBe('warn: source deletions seen: 2\n');
    expect(view.shown.has('source deletions seen: 2')).toBe(true);
  });

  it("names the files a run copied and their size in an object's line (attachments)", () => {
    const { out, stdout } = capture(false);
    const progress = new ProgressStream();
    const view = attachProgressView(progress, out, undefined, () => 1000);
    progress.emit({ type: 'object-started', runId: '8', object: 'notes' });
    progress.emit({ type: 'object-finished', runId: '8', object: 'notes', counts: { ...emptyCounts(), read: 3, created: 3, files: 4, fileBytes: 3 * 2 ** 20 } });
    progress.emit({ type: 'object-started', runId: '8', object: 'tasks' });
    progress.emit({ type: 'object-finished', runId: '8', object: 'tasks', counts: { ...emptyCounts(), read: 1, created: 1 } });
    view.stop();
    expect(stdout()).toContain('notes: 3 read, 3 created, 4 files (3 MB)');
    expect(stdout()).toMatch(/tasks: 1 read, 1 created \(/);
  });

  it('with --json prints nothing on stdout', () => {
    const { out, stdout, stderr } = capture(true);
    const progress = new ProgressStream();
    const view = attachProgressView(progress, out);
    emitRun(progress);
    view.stop();
    expect(stdout()).toBe('');
    expect(stderr()).toContain('source deletions seen');
  });
});

describe('demo folder', () => {
  it('uses ferry-demo, then ferry-demo-2, -3 when the previous ones are not empty', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ferry-demo-folder-'));
    try {
      expect(chooseDemoFolder(cwd)).toBe(join(cwd, 'ferry-demo'));
      mkdirSync(join(cwd, 'ferry-demo'));
      expect(chooseDemoFolder(cwd)).toBe(join(cwd, 'ferry-demo'));
      writeFileSync(join(cwd, 'ferry-demo', 'x'), '');
      expect(chooseDemoFolder(cwd)).toBe(join(cwd, 'ferry-demo-2'));
      mkdirSync(join(cwd, 'ferry-demo-2'));
      writeFileSync(join(cwd, 'ferry-demo-2', 'x'), '');
      expect(chooseDemoFolder(cwd)).toBe(join(cwd, 'ferry-demo-3'));
      expect(chooseDemoFolder(cwd, 'other')).toBe(join(cwd, 'other'));
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
