import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs test/support/engine-child.ts (one engine command in its own process); see that file for the kill and hold points. */
export const ENGINE_CHILD = join(import.meta.dirname, 'engine-child.ts');

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface HeldMessage {
  held: string;
  n: number;
  runId?: number;
}

export interface RunningChild {
  process: ChildProcess;
  /** Resolves when the child reports it holds at FERRY_TEST_HOLD_AT (rejects if it ends first). */
  held: Promise<HeldMessage>;
  /** Lets a held child go on. */
  release(): void;
  done: Promise<ChildResult>;
}

/**
 * Starts `engine-child.ts <projectPath> <baseDir> <command> [args]` with an IPC channel (for hold points).
 * `killAfterMs` kills it with SIGKILL after that long (the random-moment crash tests only).
 */
export function startChild(projectPath: string, baseDir: string, command: string, env: Record<string, string> = {}, args: string[] = [], killAfterMs?: number): RunningChild {
  const child = spawn(process.execPath, ['--import', 'tsx', ENGINE_CHILD, projectPath, baseDir, command, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const held = new Promise<HeldMessage>((resolve, reject) => {
    child.on('message', (message) => resolve(message as HeldMessage));
    void done.then((result) => reject(new Error(`the child ended (${result.code ?? result.signal}) before holding: ${result.stderr}${result.stdout}`)));
  });
  held.catch(() => undefined);
  return {
    process: child,
    held,
    release: () => {
      if (child.connected) child.send('continue');
    },
    done,
  };
}

export function runChild(projectPath: string, baseDir: string, command: string, env: Record<string, string> = {}, args: string[] = [], killAfterMs?: number): Promise<ChildResult> {
  return startChild(projectPath, baseDir, command, env, args, killAfterMs).done;
}

/** A seeded PRNG (mulberry32): kill points differ per seed but are the same on every machine. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The target records deleted more than once across all attempts (FERRY_TEST_WRITE_LOG of the children). */
export function deletedTwice(logPath: string): string[] {
  if (!existsSync(logPath)) return [];
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const line of readFileSync(logPath, 'utf8').split('\n').filter(Boolean)) {
    const entry = JSON.parse(line) as { op: string; object: string; ids: string[] };
    if (entry.op !== 'delete') continue;
    for (const id of entry.ids) {
      const key = `${entry.object} ${id}`;
      if (seen.has(key)) twice.push(key);
      seen.add(key);
    }
  }
  return twice;
}

/** How many delete calls the target answered across all attempts (FERRY_TEST_WRITE_LOG). */
export function deletes(logPath: string): number {
  if (!existsSync(logPath)) return 0;
  return readFileSync(logPath, 'utf8').split('\n').filter((line) => line.includes('"op":"delete"')).length;
}
