// Attack: limit and cost names that collide with Object.prototype members, and hostile cost objects.
import { describe, expect, it } from 'vitest';
import { ClientPool, TokenBucket, type Limiter } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';

interface Key {
  readonly id: string;
}

/** A shared limiter that records every n it is asked for. */
function recordingLimiter(): Limiter & { taken: unknown[]; adjusted: unknown[] } {
  const taken: unknown[] = [];
  const adjusted: unknown[] = [];
  return {
    taken,
    adjusted,
    take: (n: number) => {
      taken.push(n);
      return Promise.resolve();
    },
    adjust: (n: number) => {
      adjusted.push(n);
    },
  };
}

describe('limit names that are Object.prototype members', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf'])('a shared client limit named %s costs nothing to a call whose cost does not name it', async (name) => {
    const shared = recordingLimiter();
    const pool = new ClientPool<Key>({ clock: new ManualClock() });
    pool.add({ id: 'k' }, { limit: { requests: { rate: 10 }, [name]: shared } });
    await expect(pool.run(() => 'ok', { cost: { tokens: 5 } })).resolves.toBe('ok');
    // A name the cost does not give costs nothing: the limiter is never asked for a function.
    expect(shared.taken).toEqual([]);
  });

  it.each(['constructor', 'toString'])('an in-memory client limit named %s does not fail a call whose cost does not name it', async (name) => {
    const pool = new ClientPool<Key>({ clock: new ManualClock() });
    pool.add({ id: 'k' }, { limit: { requests: { rate: 10 }, [name]: { rate: 100 } } });
    await expect(pool.run(() => 'ok')).resolves.toBe('ok');
    await expect(pool.run(() => 'ok', { cost: { tokens: 5 } })).resolves.toBe('ok');
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it.each(['constructor', 'toString'])('a pool-wide shared limit named %s costs nothing to a plain call', async (name) => {
    const shared = recordingLimiter();
    const pool = new ClientPool<Key>({ clock: new ManualClock(), limit: { requests: { rate: 10 }, [name]: shared } });
    pool.add({ id: 'k' });
    await expect(pool.run(() => 'ok')).resolves.toBe('ok');
    expect(shared.taken.every((n) => typeof n === 'number')).toBe(true);
  });

  it.each(['constructor', 'toString'])('settling a limit named %s that the cost did not reserve charges the full amount', async (name) => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 100, per: 1_000, clock });
    const pool = new ClientPool<Key>({ clock });
    pool.add({ id: 'k' }, { limit: { requests: { rate: 10 }, [name]: bucket } });
    await pool.run((_key, call) => call.settle({ [name]: 30 }));
    expect(bucket.available).toBe(70);
  });

  it('a cost named __proto__ (from JSON) is refused or counted, never silently dropped while a limit of that name exists', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, maxWait: 0 });
    const limit = JSON.parse('{"__proto__": {"rate": 10}}') as Record<string, { rate: number }>;
    let error: unknown;
    try {
      pool.add({ id: 'k' }, { limit });
    } catch (e) {
      error = e;
    }
    if (error !== undefined) {
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION' });
      return;
    }
    const cost = JSON.parse('{"__proto__": 10}') as Record<string, number>;
    await pool.run(() => 'a', { cost });
    // The limit of 10 was spent by that call: the next one of the same cost waits (maxWait 0: refused).
    await expect(pool.run(() => 'b', { cost })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
  });
});

describe('hostile cost and settle objects', () => {
  it('a settle object whose getter throws fails settle() with InvalidOptionError naming settle.<name>', async () => {
    const pool = new ClientPool<Key>({ clock: new ManualClock() });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 100 } } });
    let thrown: unknown;
    await pool.run((_key, call) => {
      try {
        call.settle({
          get tokens(): number {
            throw new Error('getter broke');
          },
        });
      } catch (error) {
        thrown = error;
      }
    }, { cost: { tokens: 10 } });
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it('a settle Proxy whose ownKeys trap throws fails settle() with InvalidOptionError naming settle', async () => {
    const pool = new ClientPool<Key>({ clock: new ManualClock() });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 100 } } });
    let thrown: unknown;
    const hostile = new Proxy({}, {
      ownKeys() {
        throw new Error('ownKeys broke');
      },
    });
    await pool.run((_key, call) => {
      try {
        call.settle(hostile);
      } catch (error) {
        thrown = error;
      }
    }, { cost: { tokens: 10 } });
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'settle' });
  });

  it('a cost whose getter throws rejects the call with ERR_INVALID_OPTION and leaks nothing', async () => {
    const pool = new ClientPool<Key>({ clock: new ManualClock() });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 100 } } });
    const cost = {
      get tokens(): number {
        throw new Error('getter broke');
      },
    };
    await expect(pool.run(() => 'x', { cost })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(pool.members()[0]!.inFlight).toBe(0);
    expect(pool.members()[0]!.quota).toEqual({ tokens: 100 });
  });

  it('a cost getter is read once: a getter answering 1 then 1e9 cannot reserve 1 and be judged as 1e9', async () => {
    const pool = new ClientPool<Key>({ clock: new ManualClock() });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 100 } } });
    let reads = 0;
    const cost = {
      get tokens(): number {
        reads++;
        return reads === 1 ? 10 : 1e9;
      },
    };
    await pool.run(() => 'x', { cost });
    expect(pool.members()[0]!.quota).toEqual({ tokens: 90 });
  });

  it('an empty-string limit name is counted like any other name', async () => {
    const pool = new ClientPool<Key>({ clock: new ManualClock(), maxWait: 0 });
    pool.add({ id: 'k' }, { limit: { '': { rate: 10 } } });
    await pool.run(() => 'x', { cost: { '': 10 } });
    await expect(pool.run(() => 'y', { cost: { '': 10 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
  });
});
