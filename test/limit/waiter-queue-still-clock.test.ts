import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimitedError } from '../../src/index.js';
import { WaiterQueue } from '../../src/limit/waiter-queue.js';

// The queue on an injected clock that does not move with the fake timers: one standing still (a manual
// clock never advanced), one held back for a single timer (a TokenBucket's steady clock after a step
// back). The owner has a token once its clock reads `tokenAt`, and asks to be woken then.

interface StillOwner {
  readonly queue: WaiterQueue<string, string>;
  /** Fake time (Date.now()) of each wake, serve and refusal. */
  readonly wakes: number[];
  readonly served: number[];
  readonly refused: number[];
  /** The owner's clock. */
  read: () => number;
}

function owner(tokenAt: number): StillOwner {
  const o: StillOwner = { queue: undefined as never, wakes: [], served: [], refused: [], read: () => 0 };
  const queue = new WaiterQueue<string, string>({
    clock: { now: () => o.read() },
    wake: () => {
      o.wakes.push(Date.now());
      if (queue.head === undefined) return;
      if (o.read() >= tokenAt) {
        o.served.push(Date.now());
        queue.serve('token');
      } else queue.wakeAt(tokenAt);
    },
    late: (_waiter, retryAfterMs) => {
      o.refused.push(Date.now());
      return new RateLimitedError(retryAfterMs, 'test');
    },
  });
  Object.assign(o, { queue });
  return o;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('WaiterQueue on a clock that does not move with the timers', () => {
  it('on a clock standing still, a waiter is refused at its very deadline by the timers alone, with four timers in all', async () => {
    const o = owner(1_000);
    const spy = vi.spyOn(globalThis, 'setTimeout');
    let waiter: unknown = 'pending';
    o.queue.push('a', 1, 5_000).catch((error: unknown) => (waiter = error));
    o.queue.wakeAt(1_000);
    await vi.advanceTimersByTimeAsync(10_000);
    // Timers: the push's (for its deadline, replaced by the wake at once), then at 1 000, 2 000 and 5 000.
    // The first timer (at 1 000) finds the clock unmoved: not yet time for the owner, on its clock. The second
    // makes it a clock standing still: the owner is woken on the timers' time (2 000), its next wake (which
    // its clock has not reached) passed over, and the timer set for the deadline on the timers' time.
    expect(waiter).toBeInstanceOf(RateLimitedError);
    expect({ wakes: o.wakes, refused: o.refused, timers: spy.mock.calls.length, left: vi.getTimerCount() }).toEqual({ wakes: [2_000, 5_000], refused: [5_000], timers: 4, left: 0 });
    spy.mockRestore();
  });

  it('on a clock standing still, a wake time the clock has reached (a client back) still wakes the owner at once', async () => {
    let tokenAt = 1_000;
    const wakes: number[] = [];
    const queue = new WaiterQueue<string, string>({
      clock: { now: () => 0 },
      wake: () => {
        wakes.push(Date.now());
        if (queue.head !== undefined && tokenAt <= 0) queue.serve('token');
        else queue.wakeAt(tokenAt);
      },
      late: (_waiter, ms) => new RateLimitedError(ms, 'test'),
    });
    const waiter = queue.push('a', 1, 5_000);
    queue.wakeAt(1_000);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(wakes).toEqual([2_000]);
    // The owner's token is there now on its own clock, which still reads 0: it asks for a wake at 0.
    tokenAt = 0;
    queue.wakeAt(0);
    await vi.advanceTimersByTimeAsync(0);
    await expect(waiter).resolves.toBe('token');
    expect(wakes).toEqual([2_000, 2_500]);
  });

  for (const zeroTimerFirst of [false, true]) {
    it(`a clock held back for one timer, then moving again, is not one standing still: the owner is woken at its own time${zeroTimerFirst ? ' (a 0 ms wake first, which tells nothing of the clock)' : ''}`, async () => {
      const o = owner(100);
      // Reads 0 until fake time 100, then moves with the timers 100 ms behind them (a step back of 100 ms).
      o.read = () => Math.max(0, Date.now() - 100);
      const waiter = o.queue.push('a', 1, 1_000);
      if (zeroTimerFirst) {
        o.queue.wakeAt(0);
        await vi.advanceTimersByTimeAsync(0);
      } else o.queue.wakeAt(100);
      await vi.advanceTimersByTimeAsync(250);
      await expect(waiter).resolves.toBe('token');
      // The timer at 100 finds its clock at 0 (not its time yet); the next, at 200, finds it at 100: served.
      // (Taken for a clock standing still, the timers' time would pass over its wake: served at its deadline.)
      expect({ wakes: o.wakes.filter((t) => t > 0), served: o.served }).toEqual({ wakes: [200], served: [200] });
    });
  }
});
