import { Readable } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as the one JSON object --json promises (throws when it is anything else). */
  json<T = Record<string, unknown>>(): T;
}

/** Runs the CLI in-process: captured output, no terminal, a chosen working directory and environment. */
export async function ferry(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    stdin: Readable.from([]),
    cwd,
    env: { PATH: process.env.PATH, ...env },
  };
  const code = await main(['node', 'ferry', ...args], io);
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      const lines = stdout.split('\n').filter((line) => line.trim() !== '');
      if (lines.length !== 1) throw new Error(`expected exactly one JSON line on stdout, got ${lines.length}:\n${stdout}\n${stderr}`);
      return JSON.parse(lines[0]!) as T;
    },
  };
}
