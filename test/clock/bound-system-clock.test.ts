import { afterEach, describe, expect, it, vi } from 'vitest';
import { boundSystemClock, guardedClock } from '../../src/clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('a pool\'s default clock', () => {
  it('reads performance.now() of the performance object there was when it was made', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const clock = guardedClock(undefined, () => {});
    const start = clock.now();
    vi.advanceTimersByTime(250);
    expect(clock.now() - start).toBe(250);
    // Fakes installed after it was made are not seen: install them first, or pass a clock.
    vi.useRealTimers();
    expect(clock.now() - start).toBe(250);
  });

  it('follows a performance.now() replaced on that same object (fake timers that patch the method)', () => {
    const clock = boundSystemClock();
    const spy = vi.spyOn(performance, 'now').mockReturnValue(42);
    try {
      expect(clock.now()).toBe(42);
    } finally {
      spy.mockRestore();
    }
    expect(clock.now()).not.toBe(42);
  });
});
