import { describe, expect, it } from 'vitest';
import { forEachConcurrently } from './concurrency.js';

/** A promise the test resolves or rejects by hand, so the order of events is exact. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('forEachConcurrently', () => {
  it('keeps at most `limit` calls in flight and starts items in order', async () => {
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const done = forEachConcurrently([0, 1, 2, 3, 4], 2, async (item) => {
      started.push(item);
      await gates[item]!.promise;
    });
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    for (const gate of gates) gate.resolve();
    await done;
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('after a failure starts nothing new, waits for the calls in flight, then throws the first error', async () => {
    const gates = Array.from({ length: 4 }, () => deferred());
    const started: number[] = [];
    const finished: number[] = [];
    const done = forEachConcurrently([0, 1, 2, 3], 2, async (item) => {
      started.push(item);
      await gates[item]!.promise;
      finished.push(item);
    });
    let settled = false;
    done.catch(() => undefined).finally(() => (settled = true));
    await tick();
    gates[0]!.reject(new Error('first'));
    await tick();
    expect(settled).toBe(false); // item 1 is still in flight
    gates[1]!.reject(new Error('second'));
    await expect(done).rejects.toThrow('first');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([]);
  });

  it('does nothing for no items', async () => {
    await forEachConcurrently([], 3, () => Promise.reject(new Error('never')));
  });
});
