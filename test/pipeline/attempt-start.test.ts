import { describe, expect, it } from 'vitest';
import { ClientPool, type Middleware } from '../../src/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';

/** Middleware that hears each attempt's duration (a 3-parameter onOutcome: timed) and each call's. */
function durations(): Middleware<object> & { attempts: number[]; calls: number[] } {
  const attempts: number[] = [];
  const calls: number[] = [];
  return {
    name: 'durations',
    attempts,
    calls,
    onOutcome(_call, _outcome, ms) {
      attempts.push(ms);
    },
    onCallEnd(end) {
      calls.push(end.durationMs);
    },
  };
}

describe("an attempt's duration: from when it holds its client", () => {
  it('with nothing to wait for, lasts as long as its call', async () => {
    const clock = new ManualClock();
    const heard = durations();
    const pool = new ClientPool<object>({ clock, middleware: [heard] });
    pool.add({});
    await pool.run(() => {
      clock.advance(50);
      return Promise.resolve('v');
    }, { method: 'get' });
    expect(heard.attempts).toEqual([50]);
    expect(heard.calls).toEqual([50]);
    await pool.close();
  });

  it('leaves out a wait for a client, which its call includes', async () => {
    const clock = new ManualClock();
    const heard = durations();
    const pool = new ClientPool<object>({ clock, middleware: [heard], maxWait: 10_000 });
    pool.add({}, { maxInFlight: 1 });
    const first = deferred<string>();
    const holding = pool.run(() => first.promise);
    const waiting = pool.run(() => {
      clock.advance(20);
      return Promise.resolve('second');
    });
    clock.advance(30);
    first.resolve('first');
    await expect(holding).resolves.toBe('first');
    await expect(waiting).resolves.toBe('second');
    // The first: 30 ms on its client. The second: 30 ms in line, then 20 ms on the client.
    expect(heard.attempts).toEqual([30, 20]);
    expect(heard.calls).toEqual([30, 50]);
    await pool.close();
  });

  it('leaves out the time an `around` hook takes before the journey', async () => {
    const clock = new ManualClock();
    const heard = durations();
    const pool = new ClientPool<object>({
      clock,
      middleware: [
        heard,
        {
          name: 'slow around',
          around: async (_scope, proceed) => {
            await Promise.resolve();
            clock.advance(40);
            return proceed();
          },
        },
      ],
    });
    pool.add({});
    await pool.run(() => {
      clock.advance(10);
      return Promise.resolve('v');
    });
    expect(heard.attempts).toEqual([10]);
    expect(heard.calls).toEqual([50]);
    await pool.close();
  });
});
