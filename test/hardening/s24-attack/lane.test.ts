// The lane as a new user meets it: plain calls, odd return values, close/destroy at each point, state
// changed inside the pick. Relative imports: the same file runs in /work/main and in /tmp/s24base.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, PoolClosedError, type Balancer, type PoolMember } from '../../../src/index.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';
import { ending } from '../../helpers/outcomes.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake', quietWarnings: true });

interface Fake {
  readonly id: string;
}

function pool3(options: ConstructorParameters<typeof ClientPool<Fake>>[0] = {}): ClientPool<Fake> {
  const pool = new ClientPool<Fake>({ clock: new ManualClock(), ...options });
  for (const id of ['a', 'b', 'c']) pool.add({ id }, { name: id });
  return pool;
}

const inFlight = (pool: ClientPool<Fake>): number => pool.members().reduce((s, m) => s + m.inFlight, 0);
const counts = (pool: ClientPool<Fake>): string => pool.members().map((m) => `${m.name}:${m.inFlight}/${m.successes}/${m.failures}/${m.cancelled}`).join(' ');

describe('plain run(fn): odd return values', () => {
  it.each([
    ['a value', (): unknown => 42, 'value 42'],
    ['a promise', (): unknown => Promise.resolve(42), 'value 42'],
    ['a thenable', (): unknown => ({ then: (r: (v: number) => void) => r(42) }), 'value 42'],
    ['a Promise subclass', (): unknown => { class P<V> extends Promise<V> {} return P.resolve(42); }, 'value 42'],
    ['undefined', (): unknown => undefined, 'value undefined'],
    ['a rejected promise', (): unknown => Promise.reject(new Error('x')), 'error ERR_CLIENT_CALL'],
    ['a sync throw', (): unknown => { throw new Error('x'); }, 'error ERR_CLIENT_CALL'],
  ] as const)('%s: the call ends as the function did, each client settled', async (_name, fn, expected) => {
    const pool = pool3();
    expect(await ending(pool.run(fn as never))).toBe(expected);
    expect(inFlight(pool)).toBe(0);
    const m = pool.members();
    expect(m.reduce((s, x) => s + x.successes + x.failures, 0)).toBe(1);
    await pool.close();
  });

  it('a promise whose then is patched to throw: the call fails, the client is not left in flight', async () => {
    const pool = pool3();
    const p = Promise.resolve(1);
    (p as { then: unknown }).then = () => {
      throw new Error('then threw');
    };
    const result = await ending(pool.run(() => p));
    expect(result).toMatch(/^error /);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
  });

  it('a promise whose then is patched but works: called once, the value passes', async () => {
    const pool = pool3();
    const p = Promise.resolve(7);
    const original = p.then.bind(p);
    let calls = 0;
    (p as { then: unknown }).then = (a: never, b: never) => {
      calls++;
      return original(a, b);
    };
    expect(await pool.run(() => p)).toBe(7);
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
  });
});

describe('close() and destroy() around a lane call', () => {
  for (const how of ['close', 'destroy'] as const) {
    it(`${how}() inside fn: a plain held call still gets its value (documented), nothing left in flight`, async () => {
      const pool = pool3();
      const d = deferred<string>();
      let ended: Promise<void> | undefined;
      const call = pool.run(() => {
        ended = how === 'close' ? pool.close() : pool.destroy(new Error('gone'));
        return d.promise;
      });
      await vi.advanceTimersByTimeAsync(0);
      d.resolve('late');
      const result = await ending(call);
      // destroy(): a call with no timeout, signal or around hook is "the one thing destroy cannot end for its
      // caller" (docs/call-pipeline.md): its client is released, its promise is the function's.
      expect(result).toBe('value late');
      await ended;
      expect(inFlight(pool)).toBe(0);
      expect(pool.isClosed).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    });

    it(`${how}() in the then handler of a finished lane call`, async () => {
      const pool = pool3();
      const r = await pool.run(() => 'x').then(async (v) => {
        await (how === 'close' ? pool.close() : pool.destroy());
        return v;
      });
      expect(r).toBe('x');
      expect(counts(pool)).toBe('');
      await expect(pool.run(() => 'y')).rejects.toBeInstanceOf(PoolClosedError);
    });

    it(`${how}() before run(): every kind of call refused with PoolClosedError`, async () => {
      const pool = pool3();
      void (how === 'close' ? pool.close() : pool.destroy());
      const fn = vi.fn(() => 'x');
      for (const options of [undefined, {}, { method: 'm' }, { retry: { attempts: 2 } }, { timeout: 5 }, { key: 'k' }, { priority: 'high' as const }]) {
        await expect(pool.run(fn, options)).rejects.toBeInstanceOf(PoolClosedError);
      }
      expect(fn).not.toHaveBeenCalled();
    });
  }
});

describe('state changed inside the pick', () => {
  it('a balancer that closes the pool in pick: that call and later ones are refused, none runs, nothing left', async () => {
    // eslint-disable-next-line prefer-const -- assigned after the balancer that closes over it
    let pool!: ClientPool<Fake>;
    let closes = 0;
    const balancer: Balancer<Fake> = {
      pick: (ready: readonly PoolMember<Fake>[]) => {
        if (closes++ === 0) void pool.close();
        return ready[0]!;
      },
    };
    pool = pool3({ strategy: balancer });
    const fn = vi.fn(() => 'x');
    const first = await ending(pool.run(fn));
    const second = await ending(pool.run(fn));
    // Same in base and main (see NOTES.md): the call whose pick closed the pool is refused.
    expect([first, second]).toEqual(['error ERR_POOL_CLOSED', 'error ERR_POOL_CLOSED']);
    expect(fn).not.toHaveBeenCalled();
    expect(inFlight(pool)).toBe(0);
  });

  it('a balancer that adds an onOutcome middleware in pick: the outcome of that very call is heard or not, consistently; later calls are heard', async () => {
    // eslint-disable-next-line prefer-const -- assigned after the balancer that closes over it
    let pool!: ClientPool<Fake>;
    const heard: string[] = [];
    let n = 0;
    const balancer: Balancer<Fake> = {
      pick: (ready: readonly PoolMember<Fake>[]) => {
        if (n++ === 0) pool.use({ name: 'late', onOutcome: (call, o) => heard.push(`${call.clientName} ${o.kind}`) });
        return ready[0]!;
      },
    };
    pool = pool3({ strategy: balancer });
    await pool.run(() => 'x');
    await pool.run(() => 'y');
    expect(heard.at(-1)).toBe('a success');
    expect(inFlight(pool)).toBe(0);
    await pool.close();
  });

  it('a state-change listener that subscribes to attempt:start during a probe pick: the start and the client are accounted', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 100 } });
    pool.add({ id: 'a' }, { name: 'a' });
    const starts: string[] = [];
    const listener = (m: unknown): void => void starts.push((m as { call: { clientName: string } }).call.clientName);
    let subscribed = false;
    pool.onStateChange((c) => {
      if (c.to.kind === 'half-open' && !subscribed) {
        subscribed = true;
        subscribe('clientpool:attempt:start', listener);
      }
    });
    try {
      await ending(pool.run(() => Promise.reject(new Error('x'))));
      clock.advance(150);
      expect(await pool.run(() => 'probe')).toBe('probe');
      expect(pool.members()[0]!.state).toMatchObject({ kind: 'closed' });
      expect(inFlight(pool)).toBe(0);
      expect(await pool.run(() => 'next')).toBe('next');
      expect(starts).toContain('a');
    } finally {
      unsubscribe('clientpool:attempt:start', listener);
    }
    await pool.close();
  });
});
