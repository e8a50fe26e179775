import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../cli/io.js';
import { main } from '../cli/main.js';
import { boundHeapGrowth, DEFAULT_HEAP_GROWING_PERCENT } from './heap.js';

describe('boundHeapGrowth', () => {
  it("bounds V8's heap growth to 20% unless told otherwise", () => {
    expect(boundHeapGrowth({}, [])).toBe(DEFAULT_HEAP_GROWING_PERCENT);
    expect(boundHeapGrowth({ FERRY_HEAP_GROWING_PERCENT: ' 35 ' }, [])).toBe(35);
    expect(boundHeapGrowth({ FERRY_HEAP_GROWING_PERCENT: '0' }, [])).toBeUndefined();
  });

  it("leaves the heap alone when the process was started with the user's own heap flags", () => {
    expect(boundHeapGrowth({}, ['--max-old-space-size=1024'])).toBeUndefined();
    expect(boundHeapGrowth({}, ['--max_old_space_size=512'])).toBeUndefined();
    expect(boundHeapGrowth({ NODE_OPTIONS: '--enable-source-maps --max-old-space-size=2048' }, [])).toBeUndefined();
    expect(boundHeapGrowth({ FERRY_HEAP_GROWING_PERCENT: 'ignored' }, ['--heap-growing-percent=50'])).toBeUndefined();
  });

  it('refuses a value that is not a whole percent, naming it', () => {
    for (const value of ['abc', '-5', '12.5', '5000']) {
      expect(() => boundHeapGrowth({ FERRY_HEAP_GROWING_PERCENT: value }, [])).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(`not "${value}"`) }),
      );
    }
  });

  it('is applied by the CLI entry point, where a bad value is a configuration error (exit 2)', async () => {
    let stderr = '';
    const io: CliIo = {
      stdout: { write: () => true, isTTY: false },
      stderr: { write: (text: string) => ((stderr += text), true), isTTY: false },
      stdin: Readable.from([]),
      cwd: process.cwd(),
      env: { FERRY_HEAP_GROWING_PERCENT: 'lots' },
    };
    expect(await main(['node', 'ferry', '--version'], io, { entry: true })).toBe(2);
    expect(stderr).toContain('FERRY_HEAP_GROWING_PERCENT must be a whole number from 0 to 1000 (0: V8\'s default), not "lots"');
  });
});
