import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WaiterQueue } from '../../src/limit/waiter-queue.js';
import { ManualClock } from '../helpers/manual-clock.js';

describe('WaiterQueue with priorities', () => {
  it('serves waiters by priority, highest first, and FIFO within one, whatever the order they came in (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 40 }), async (priorities) => {
        const clock = new ManualClock();
        const queue = new WaiterQueue<number, number>({ clock, wake: () => {}, late: () => new Error('late') });
        const served: number[] = [];
        const waits = priorities.map((priority, index) => queue.push(index, 1, 1_000_000, undefined, priority).then((value) => served.push(value)));
        while (queue.head !== undefined) queue.serve(queue.head.data);
        await Promise.all(waits);
        const expected = priorities.map((priority, index) => ({ priority, index })).sort((a, b) => b.priority - a.priority || a.index - b.index).map((w) => w.index);
        expect(served).toEqual(expected);
        expect(queue.length).toBe(0);
        expect(queue.tokens).toBe(0);
      }),
    );
  });

  it('a waiter placed ahead of others is refused only when the tokens ahead of it make it late, not those behind it', () => {
    const clock = new ManualClock();
    const refused: number[] = [];
    const queue = new WaiterQueue<void, number>({ clock, perToken: 100, wake: () => {}, late: (waiter) => new Error(String(waiter.data)) });
    const pending = [
      queue.push(1, 5, 10_000, undefined, 0),
      queue.push(2, 5, 10_000, undefined, 0),
      // High priority, deadline 300 ms: 1 token ahead of it (its own) at 100 ms each.
      queue.push(3, 1, 300, undefined, 2),
    ];
    for (const [i, p] of pending.entries()) p.catch(() => refused.push(i + 1));
    // Served at 0 + 100 ms: in time. Counting the 10 tokens it passed would have put it at 1 100 ms.
    queue.refuseLate(0);
    expect(queue.head?.data).toBe(3);
    expect(queue.length).toBe(3);
    // Served at 250 + 100 ms: late.
    queue.refuseLate(250);
    expect(queue.head?.data).toBe(1);
    queue.close(new Error('end'));
    return Promise.allSettled(pending).then(() => expect(refused.sort()).toEqual([1, 2, 3]));
  });
});
