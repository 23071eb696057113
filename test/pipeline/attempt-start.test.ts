import { describe, expect, it } from 'vitest';
import { ClientPool, type Middleware } from '../../src/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';

/** A manual clock that counts its readings. */
class CountingClock extends ManualClock {
  reads = 0;
  override now(): number {
    this.reads++;
    return super.now();
  }
}

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

describe('the start of a first attempt that waited for nothing', () => {
  it('is its call start: the attempt lasts as long as the call', async () => {
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

  it('costs no clock reading of its own: the call start, the attempt end, the call end', async () => {
    const clock = new CountingClock();
    const pool = new ClientPool<object>({ clock, middleware: [durations()] });
    pool.add({});
    await pool.run(() => Promise.resolve('warm'));
    const before = clock.reads;
    await pool.run(() => Promise.resolve('v'));
    expect(clock.reads - before).toBe(3);
    await pool.close();
  });

  it('is read anew when the attempt waited for a client: its duration leaves the wait out', async () => {
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

  it('is read anew under an `around` hook, which may take its time before the journey', async () => {
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
