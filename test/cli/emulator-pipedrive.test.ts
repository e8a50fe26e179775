import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENTRY = join(import.meta.dirname, '../../src/cli/entry.ts');

describe('ferry emulator pipedrive', () => {
  it('serves the seeded Pipedrive emulator on a free port until stopped, then reports requests and tokens', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'emulator', 'pipedrive', '--port', '0', '--seed', 'sample', '--sample-size', '6', '--token', 'cli-token', '--plan', 'lite'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC' },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (match && stdout.includes('Press Ctrl-C')) resolve(match[1]!);
      });
      child.on('close', (code) => reject(new Error(`ended early (${code}): ${stdout}${stderr}`)));
    });
    expect(stdout).toContain('API token: cli-token');
    expect(stdout).toMatch(/sample data: users 3, pipelines 1, stages 5, organizations 2, persons 6, deals 5/);
    const response = await fetch(`${url}/api/v2/persons?limit=500`, { headers: { 'x-api-token': 'cli-token' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ratelimit-limit')).toBe('20');
    expect(((await response.json()) as { data: unknown[] }).data).toHaveLength(6);
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    expect(await closed).toBe(0);
    expect(stdout).toContain('Stopped after 1 requests (0 answered 429, 10 tokens spent).');
  });
});
