// A function that returns something the pool cannot simply wait on, in a call that can be ended early
// (the catch branch of holdRaced): a typed error, the client given back, no unhandled rejection; and the
// caller of a raced call sees what the caller of a plain call sees.
import { describe, expect, it, vi } from 'vitest';
import { useFakeTime } from '../../helpers/fake-time.js';
import { advance, counts, hang, jobs, outcome, poolOf, registersThenThrows } from './helpers.js';

useFakeTime();
vi.setConfig({ testTimeout: 10_000 });

/** Options that make a call raced, and the plain ones to compare with. */
const RACED = [
  ['a timeout', () => ({ timeout: 100 })],
  ['a signal', () => ({ signal: new AbortController().signal })],
  ['a timeout and a signal', () => ({ timeout: 100, signal: new AbortController().signal })],
] as const;


describe('a native promise whose own then() registers the reactions and then throws', () => {
  it('a plain call rejects ERR_CLIENT_CALL (the baseline)', async () => {
    const pool = poolOf();
    expect(await outcome(pool.run(registersThenThrows))).toEqual({ code: 'ERR_CLIENT_CALL' });
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  for (const [name, options] of RACED) {
    it(`a call with ${name} rejects ERR_CLIENT_CALL as a plain call does (and as it did before the raced fast path), and counts no success`, async () => {
      const pool = poolOf();
      const result = await outcome(pool.run(registersThenThrows, options()));
      await jobs();
      expect(result).toEqual({ code: 'ERR_CLIENT_CALL' });
      expect(counts(pool)).toEqual(['c0:s0f1c0r0i0']);
    });
  }

  it('a hedged call rejects ERR_CLIENT_CALL as a plain call does, and counts no success', async () => {
    const pool = poolOf(2);
    const result = await outcome(pool.run(registersThenThrows, { hedge: { delay: 50 } }));
    await jobs();
    expect(result).toEqual({ code: 'ERR_CLIENT_CALL' });
    expect(pool.members().map((m) => m.successes)).toEqual([0, 0]);
  });
});

describe('what is not a promise after all, in a raced call', () => {
  const cases: [string, () => unknown][] = [
    ['an object that only inherits from Promise.prototype', () => Object.create(Promise.prototype) as Promise<number>],
    ['a Proxy of a native promise', () => new Proxy(Promise.resolve(1), {})],
    ['a native promise with a throwing then of its own', () => Object.assign(Promise.resolve(1), { then: () => { throw new Error('own then'); } })],
    ['a pending native promise whose own then registers and throws', () => {
      const promise = new Promise<number>(() => {});
      return Object.assign(promise, { then(this: Promise<number>, f: (v: number) => unknown, r: (e: unknown) => unknown) { void Promise.prototype.then.call(this, f, r); throw new Error('after'); } });
    }],
  ];
  for (const [name, make] of cases) {
    for (const [raced, options] of RACED) {
      it(`${name}, with ${raced}: ERR_CLIENT_CALL once, a failure of the client, inFlight 0, no unhandled rejection, nothing left to expire`, async () => {
        const pool = poolOf();
        const unhandled: unknown[] = [];
        const listener = (reason: unknown): number => unhandled.push(reason);
        process.on('unhandledRejection', listener);
        let result: unknown;
        try {
          result = await outcome(pool.run(() => make(), options()));
          await advance(200);
          // Node reports unhandled rejections after the jobs of a macrotask: one more turn on fake time.
          await advance(1);
        } finally {
          process.off('unhandledRejection', listener);
        }
        expect(vi.getTimerCount()).toBe(0);
        expect(result).toEqual({ code: 'ERR_CLIENT_CALL' });
        expect(unhandled).toEqual([]);
        expect(counts(pool)).toEqual(['c0:s0f1c0r0i0']);
      });
    }
  }

  it('a native promise whose own then never calls back ends at its timeout, a failure of the client', async () => {
    const pool = poolOf();
    const call = outcome(pool.run(() => Object.assign(Promise.resolve(1), { then: () => undefined }), { timeout: 10 }));
    await advance(10);
    expect(await call).toEqual({ code: 'ERR_TIMEOUT' });
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0']);
  });

  it('a native promise whose own then calls back at once with a value: that value, one success', async () => {
    const pool = poolOf();
    const result = await outcome(pool.run(() => Object.assign(Promise.resolve(1), { then: (f: (v: number) => void) => f(7) }), { timeout: 10 }));
    expect(result).toEqual({ value: 7 });
    await advance(20);
    expect(counts(pool)).toEqual(['c0:s1f0c0r0i0']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a native promise whose own then rejects then fulfils at once: the rejection, one failure', async () => {
    const pool = poolOf();
    const make = (): Promise<number> => Object.assign(Promise.resolve(1), { then: (f: (v: number) => void, r: (e: unknown) => void) => { r(new Error('first')); f(7); } });
    expect(await outcome(pool.run(make, { timeout: 10 }))).toEqual({ code: 'ERR_CLIENT_CALL' });
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0']);
  });

  it('a thenable and a Promise subclass are adopted: their values, one success each', async () => {
    class Sub<V> extends Promise<V> {}
    const pool = poolOf();
    expect(await outcome(pool.run(() => ({ then: (f: (v: number) => void) => f(9) }) as unknown as Promise<number>, { timeout: 10 }))).toEqual({ value: 9 });
    expect(await outcome(pool.run(() => Sub.resolve(4), { signal: new AbortController().signal }))).toEqual({ value: 4 });
    expect(counts(pool)).toEqual(['c0:s2f0c0r0i0']);
  });

  it('a Proxy of a pending promise fails at once with ERR_CLIENT_CALL rather than waiting for its timeout', async () => {
    const pool = poolOf();
    const call = outcome(pool.run(() => new Proxy(hang(), {}), { timeout: 10_000 }));
    await jobs();
    expect(await call).toEqual({ code: 'ERR_CLIENT_CALL' });
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0']);
  });
});
