import { createInterface } from 'node:readline/promises';

/** A stream the CLI writes to: process.stdout / process.stderr, or a collector in tests. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Everything the CLI touches outside itself, so tests can run `main` in-process with captured output,
 * a chosen working directory and environment, and no terminal.
 */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env };
}

/**
 * What a command prints. With --json, stdout carries exactly one JSON object (written by `main` at the
 * end) and human text goes nowhere; warnings still reach stderr, which scripts can ignore.
 */
export class Output {
  constructor(
    readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** Human output on stdout; silent with --json. */
  line(text = ''): void {
    if (!this.json) this.io.stdout.write(`${text}\n`);
  }

  /** Warnings and notes that must not pollute stdout. */
  warn(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** True when stdout is a terminal a person watches (progress bars, prompts). */
  get interactive(): boolean {
    return !this.json && this.io.stdout.isTTY === true;
  }

  /** Asks a question on stderr and reads one line from stdin (only when stdin is a terminal). */
  async ask(question: string): Promise<string | undefined> {
    if (this.io.stdin.isTTY !== true) return undefined;
    const readline = createInterface({ input: this.io.stdin, output: this.io.stderr as NodeJS.WritableStream, terminal: true });
    try {
      return (await readline.question(question)).trim();
    } finally {
      readline.close();
    }
  }
}

/** The result of one command: its exit code and the one JSON object --json prints. */
export interface Outcome {
  exitCode: number;
  json: Record<string, unknown>;
}
