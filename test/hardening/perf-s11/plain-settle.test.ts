import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, CHANNELS, type PoolOptions, type AddOptions } from '../../../src/index.js';
import { dateClock, useFakeTime } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';

useFakeTime();
vi.setConfig({ testTimeout: 5_000 });

type Client = { name: string };

function pool2(options: PoolOptions<Client> = {}, add: AddOptions<Client> = {}): ClientPool<Client> {
  const pool = new ClientPool<Client>({ clock: dateClock, ...options });
  pool.add({ name: 'a' }, { ...add, name: 'a' });
  pool.add({ name: 'b' }, { ...add, name: 'b' });
  return pool;
}

function inFlights(pool: ClientPool<Client>): number[] {
  return pool.members().map((m) => m.inFlight);
}

function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ code: (error as { code?: string }).code }),
  );
}

/** Each with no options, then each with empty options: what a caller sees must be the same. */
const BOTH = [undefined, {}] as const;

describe('destroy() during a plain call', () => {
  it('a function that honours call.signal: the caller gets PoolClosedError, inFlight 0, counted once', async () => {
    const seen: unknown[] = [];
    for (const options of BOTH) {
      const pool = pool2();
      const call = outcome(pool.run((_c, c) => new Promise((_resolve, reject) => c.signal.addEventListener('abort', () => reject(new Error('aborted')))), options));
      await vi.advanceTimersByTimeAsync(1);
      await pool.destroy(new Error('bye'));
      const result = await call;
      expect(result).toEqual({ code: 'ERR_POOL_CLOSED' });
      seen.push([result, inFlights(pool), pool.members().map((m) => m.successes + m.failures + m.cancelled)]);
    }
    expect(seen[0]).toEqual(seen[1]);
  });

  it('a function that ignores call.signal and resolves after destroy(): same answer as with empty options, inFlight 0, no double count', async () => {
    const seen: unknown[] = [];
    for (const options of BOTH) {
      const pool = pool2();
      const d = deferred<string>();
      const call = outcome(pool.run(() => d.promise, options));
      await vi.advanceTimersByTimeAsync(1);
      const destroyed = pool.destroy(new Error('bye'));
      d.resolve('late');
      await destroyed;
      const result = await call;
      seen.push([result, inFlights(pool), pool.members().map((m) => `${m.successes}/${m.failures}/${m.cancelled}`)]);
    }
    expect(seen[0]).toEqual(seen[1]);
  });
});

describe('close() with plain calls in flight and in line', () => {
  it('ends the calls in line with PoolClosedError, lets those in flight finish, then runs the close hooks: as with empty options', async () => {
    const seen: unknown[] = [];
    for (const options of BOTH) {
      const log: string[] = [];
      const pool = pool2({ maxWait: 1_000 }, { maxInFlight: 1, close: (c) => void log.push(`close ${c.name}`) });
      const held: (() => void)[] = [];
      const calls = [0, 1, 2, 3].map((i) =>
        pool
          .run((c) => new Promise<string>((resolve) => ((log.push(`call ${i} on ${c.name}`), held.push(() => resolve(`${i}`))))), options)
          .then(
            (value) => void log.push(`#${i} ok ${value}`),
            (error: unknown) => void log.push(`#${i} ${(error as { code: string }).code}`),
          ),
      );
      await vi.advanceTimersByTimeAsync(0);
      let closed = false;
      const closing = pool.close().then(() => (closed = true));
      await vi.advanceTimersByTimeAsync(10);
      expect(closed).toBe(false);
      for (const release of held.splice(0)) release();
      await Promise.all(calls);
      await closing;
      expect(held).toEqual([]);
      seen.push(log);
    }
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[0]).toEqual(expect.arrayContaining(['#0 ok 0', '#1 ok 1', '#2 ERR_POOL_CLOSED', '#3 ERR_POOL_CLOSED', 'close a', 'close b']));
  });
});

describe('remove() of the client while a plain call is in flight', () => {
  it('resolves once the call ends, and the close hook runs after the call', async () => {
    const events: string[] = [];
    const pool = pool2({}, { close: (c) => void events.push(`close ${c.name}`) });
    const d = deferred<string>();
    const call = pool.run((c) => (events.push(`call ${c.name}`), d.promise));
    await vi.advanceTimersByTimeAsync(0);
    let removed = false;
    const removal = pool.remove('a').then(() => {
      removed = true;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(removed).toBe(false);
    d.resolve('done');
    events.push('resolved');
    await expect(call).resolves.toBe('done');
    await removal;
    expect(removed).toBe(true);
    expect(events).toEqual(['call a', 'resolved', 'close a']);
    expect(pool.members().map((m) => m.name)).toEqual(['b']);
    await pool.close();
  });
});

describe('what a plain success settles when something observes it', () => {
  it('measureLatency: true times plain calls as calls with empty options', async () => {
    const latencies: number[][] = [];
    for (const options of BOTH) {
      const pool = pool2({ measureLatency: true });
      for (let i = 0; i < 4; i++) {
        const call = pool.run(() => new Promise<number>((resolve) => setTimeout(() => resolve(i), 40)), options);
        await vi.advanceTimersByTimeAsync(40);
        await call;
      }
      latencies.push(pool.members().map((m) => m.latencyMs));
      await pool.close();
    }
    expect(latencies[0]).toEqual(latencies[1]);
    expect(latencies[0]!.every((ms) => ms > 0)).toBe(true);
  });

  it('an adaptive concurrency limit learns from plain calls as from calls with empty options', async () => {
    const caps: unknown[] = [];
    for (const options of BOTH) {
      const pool = pool2({}, { maxInFlight: { adaptive: 'gradient2', min: 2, max: 64 } });
      for (let round = 0; round < 30; round++) {
        const calls = Array.from({ length: 6 }, (_, i) => pool.run(() => new Promise<number>((resolve) => setTimeout(() => resolve(i), 10 + round)), options));
        await vi.advanceTimersByTimeAsync(200);
        await Promise.all(calls);
      }
      caps.push([pool.members().map((m) => m.maxInFlight), inFlights(pool)]);
      await pool.close();
    }
    expect(caps[0]).toEqual(caps[1]);
  });

  it('clientpool:attempt:end subscribed while a plain call is in flight hears its end, once', async () => {
    const pool = pool2();
    const d = deferred<number>();
    const call = pool.run(() => d.promise);
    await vi.advanceTimersByTimeAsync(0);
    const ends: unknown[] = [];
    const onEnd = (message: unknown): number => ends.push(message);
    subscribe(CHANNELS.attemptEnd, onEnd);
    try {
      d.resolve(1);
      await expect(call).resolves.toBe(1);
    } finally {
      unsubscribe(CHANNELS.attemptEnd, onEnd);
    }
    expect(ends).toHaveLength(1);
    expect(inFlights(pool)).toEqual([0, 0]);
    await pool.close();
  });

  it('clientpool:attempt:start subscribed for a plain call and unsubscribed before it ends: destroy() completes, the caller of a function ignoring its signal waits, as with empty options', async () => {
    const seen: unknown[] = [];
    for (const options of BOTH) {
      const pool = pool2();
      const onStart = (): void => {};
      subscribe(CHANNELS.attemptStart, onStart);
      let state = 'pending';
      void pool.run(() => new Promise(() => {}), options).then(
        () => (state = 'resolved'),
        (error: unknown) => (state = (error as { code: string }).code),
      );
      unsubscribe(CHANNELS.attemptStart, onStart);
      await vi.advanceTimersByTimeAsync(0);
      let destroyed = false;
      void pool.destroy().then(() => (destroyed = true));
      await vi.advanceTimersByTimeAsync(100);
      expect(destroyed).toBe(true);
      seen.push([state, pool.size]);
    }
    expect(seen[0]).toEqual(seen[1]);
    // The documented exception of destroy(): no timeout, no signal, a function that ignores call.signal.
    expect(seen[0]).toEqual(['pending', 0]);
  });
});

describe('middleware that misuses next() in a plain call', () => {
  it('next() twice rejects with CallbackError, the client called once, inFlight 0', async () => {
    for (const options of BOTH) {
      let calls = 0;
      const pool = pool2({ middleware: [async (call, next) => (await next(call), next(call))] });
      await expect(pool.run(() => ++calls, options)).rejects.toMatchObject({ code: 'ERR_CALLBACK' });
      expect(calls).toBe(1);
      expect(inFlights(pool)).toEqual([0, 0]);
      await pool.close();
    }
  });

  it('next() after its attempt ended (answered without waiting) never calls the client', async () => {
    for (const options of BOTH) {
      let calls = 0;
      let later: (() => Promise<unknown>) | undefined;
      const pool = pool2({ middleware: [(call, next) => ((later = () => next(call)), Promise.resolve('cached'))] });
      await expect(pool.run(() => ++calls, options)).resolves.toBe('cached');
      await expect(later!()).rejects.toMatchObject({ code: 'ERR_CALLBACK' });
      expect(calls).toBe(0);
      expect(inFlights(pool)).toEqual([0, 0]);
      await pool.close();
    }
  });
});

describe('a call\'s own plan (options of its own)', () => {
  const bad: [string, object][] = [
    ['timeout', { timeout: -1 }],
    ['timeout', { timeout: Number.NaN }],
    ['deadline', { deadline: 0 }],
    ['cost', { cost: 5 }],
    ['cost', { cost: { requests: -1 } }],
    ['priority', { priority: 'urgent' }],
    ['strategy', { strategy: 'nope' }],
  ];
  for (const [option, options] of bad) {
    it(`rejects ${JSON.stringify(options)} with InvalidOptionError naming ${option}`, async () => {
      const pool = pool2();
      let result: Promise<unknown> | undefined;
      expect(() => (result = pool.run(() => 1, options as never))).not.toThrow();
      await expect(result).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
      await expect(result).rejects.toThrow(option);
      expect(inFlights(pool)).toEqual([0, 0]);
      await pool.close();
    });
  }

  it('rejects options whose getter throws, with what it threw as the cause', async () => {
    const pool = pool2();
    const thrown = new Error('getter');
    const options = {
      get timeout(): number {
        throw thrown;
      },
    };
    await expect(pool.run(() => 1, options)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', cause: thrown });
    expect(inFlights(pool)).toEqual([0, 0]);
    await pool.close();
  });
});

describe('add() building its member', () => {
  const bad: [string, object][] = [
    ['weight', { weight: 0 }],
    ['weight', { weight: Number.NaN }],
    ['limit', { limit: { rate: -1 } }],
    ['tier', { tier: -1 }],
    ['close', { close: 'no' }],
    ['maxInFlight', { maxInFlight: 0 }],
  ];
  for (const [option, options] of bad) {
    it(`throws InvalidOptionError naming ${option} for ${JSON.stringify(options)} and leaves the pool as it was`, async () => {
      const pool = pool2();
      expect(() => pool.add({ name: 'c' }, options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining(option) }));
      expect(pool.size).toBe(2);
      expect(pool.add({ name: 'c' }, { name: 'c' })).toBe('c');
      const served = new Set<string>();
      for (let i = 0; i < 6; i++) await pool.run((c) => served.add(c.name));
      expect([...served].sort()).toEqual(['a', 'b', 'c']);
      await pool.close();
    });
  }

  it('a breaker factory that throws once: add() throws, the next add() with the same name works and serves', async () => {
    let n = 0;
    const pool = new ClientPool<Client>({
      clock: dateClock,
      breaker: () => {
        if (n++ === 1) throw new Error('factory');
        return { state: { kind: 'closed' }, acquire: () => 'call', canAcquire: () => true, success: () => {}, failure: () => {}, release: () => {} };
      },
    });
    pool.add({ name: 'a' }, { name: 'a' });
    expect(() => pool.add({ name: 'b' }, { name: 'b' })).toThrow(expect.objectContaining({ code: 'ERR_CALLBACK' }));
    expect(pool.size).toBe(1);
    expect(pool.add({ name: 'b' }, { name: 'b' })).toBe('b');
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) await pool.run((c) => served.add(c.name));
    expect([...served].sort()).toEqual(['a', 'b']);
    expect(inFlights(pool)).toEqual([0, 0]);
    await pool.close();
  });
});
