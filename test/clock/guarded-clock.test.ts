import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { guardedClock } from '../../src/clock.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('a clock of the user\'s', () => {
  it('that throws once: the call completes, nothing is left in flight, close() resolves', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    let failNext = true;
    let time = 0;
    const clock = {
      now: () => {
        if (failNext) {
          failNext = false;
          throw new Error('clock read failed');
        }
        return (time += 1);
      },
    };
    const pool = new ClientPool<object>({ clock, measureLatency: true });
    pool.add({}, { name: 'a' });
    await expect(pool.run(() => Promise.resolve('v'))).resolves.toBe('v');
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 1 });
    await pool.close();
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, '12' as unknown as number])('that reads %s: a timeout still fires', async (reading) => {
    vi.useFakeTimers();
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const pool = new ClientPool<object>({ clock: { now: () => reading }, timeout: 50 });
    pool.add({}, { name: 'a' });
    const call = pool.run(() => new Promise(() => {})).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect(await call).toMatchObject({ code: 'ERR_TIMEOUT' });
    await pool.destroy();
  });

  it('bad readings become the last good one, reported once per run of them', () => {
    const readings = [5, Number.NaN, Number.NaN, 7, Number.NaN];
    const warn = vi.fn();
    const clock = guardedClock({ now: () => readings.shift()! }, warn);
    expect([clock.now(), clock.now(), clock.now(), clock.now(), clock.now()]).toEqual([5, 5, 5, 7, 7]);
    expect(warn).toHaveBeenCalledTimes(2);
  });
});
