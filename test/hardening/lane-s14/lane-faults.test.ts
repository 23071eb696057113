// Faults of the pick stage's lane (commit 6d5be63), each pinned by a test that FAILS on that commit: a
// call with no options (`pool.run(fn)`) that behaves otherwise than the same call through the full pick
// stage. Each test says what the right behaviour is; every one of them passed on the commit before
// (ee5fa35), whose pick stage had no lane.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { ClientPool, roundRobin, type Balancer, type Limiter, type PoolMember, type RunOptions } from '../../../src/index.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';
import { ending } from '../../helpers/outcomes.js';

interface Fake {
  readonly id: number;
}

/** Both ways of making the same call: no options (the lane), and options that say nothing new (the full pick). */
const WAYS: readonly (readonly [string, RunOptions<Fake> | undefined])[] = [
  ['with no options (the lane)', undefined],
  ["with { method: 'unknown' } (the full pick)", { method: 'unknown' }],
];

describe("a call with no options keeps the 'unknown' method's own options", () => {
  // `methods.unknown` is the entry of every call with no `method`: its cost and priority are the plan of
  // `pool.run(fn)`. The lane does not test `plan.isPlainPick`, so it takes the default cost and priority.
  for (const [name, options] of WAYS) {
    it(`takes methods.unknown's cost of each client's own limit, ${name}`, async () => {
      const pool = new ClientPool<Fake>({ methods: { unknown: { cost: { requests: 3 } } }, maxWait: 0, clock: new ManualClock() });
      pool.add({ id: 0 }, { name: 'a', limit: { rate: 1, burst: 3 } });
      const endings: string[] = [];
      for (let i = 0; i < 3; i++) endings.push(await ending(pool.run((_client, call) => call.clientName, options)));
      // Right: one call of cost 3 empties a bucket of 3; the next two are refused. The lane serves all three.
      expect(endings).toEqual(['value a', 'error ERR_RATE_LIMITED', 'error ERR_RATE_LIMITED']);
      await pool.close();
    });

    it(`keeps methods.unknown's low priority out of the reserve, ${name}`, async () => {
      const pool = new ClientPool<Fake>({ methods: { unknown: { priority: 'low' } }, maxWait: 100, reserve: 0.5 });
      pool.add({ id: 0 }, { name: 'a', maxInFlight: 2 });
      const answer = deferred<string>();
      const calls = [pool.run(() => answer.promise, options), pool.run(() => answer.promise, options)].map(ending);
      answer.resolve('x');
      // Right: a low call may use 1 of the 2 slots (reserve 0.5); the second is shed. The lane runs both.
      expect(await Promise.all(calls)).toEqual(['value x', 'error ERR_SHED']);
      await pool.close();
    });
  }
});

describe('destroy() from a balancer hook run by the pick', () => {
  // The lane calls `fn` without `invokeStep`'s test of `destroyError`: its comment says nothing can end a
  // new attempt between run() and the function, but the pick runs the balancer's `onInFlight` and
  // `onUnready` hooks (user code) after the lane looked at its flag.
  for (const [name, options] of WAYS) {
    it(`refuses the call, never calling its function, when onInFlight destroys the pool, ${name}`, async () => {
      const box: { pool?: ClientPool<Fake>; armed: boolean } = { armed: false };
      const order: string[] = [];
      const balancer: Balancer<Fake> = {
        pick: (ready) => ready[0]!,
        onInFlight: (member) => {
          if (!box.armed || member.inFlight !== 1) return;
          box.armed = false;
          order.push('destroy');
          box.pool!.destroy().catch(() => undefined);
        },
      };
      const pool = (box.pool = new ClientPool<Fake>({ strategy: balancer }));
      pool.add({ id: 0 }, { name: 'a', close: () => void order.push('close hook') });
      box.armed = true;
      const result = await ending(
        pool.run(() => {
          order.push('fn');
          return Promise.resolve(1);
        }, options),
      );
      await pool.close();
      // Right: destroy() ended the call before its function ran: PoolClosedError, and the client is never
      // called after destroy() (the lane calls it, after its close hook was released to run).
      expect(result).toBe('error ERR_POOL_CLOSED');
      expect(order).not.toContain('fn');
    });

    it(`refuses the call, never calling its function, when onUnready (the client at its cap) destroys the pool, ${name}`, async () => {
      const box: { pool?: ClientPool<Fake>; armed: boolean } = { armed: false };
      let ran = false;
      const balancer: Balancer<Fake> = {
        pick: (ready) => ready[0]!,
        onUnready: () => {
          if (!box.armed) return;
          box.armed = false;
          // destroy() from here also meets the roster mid-move (a TypeError of its own: pre-existing-faults.test.ts).
          box.pool!.destroy().catch(() => undefined);
        },
      };
      const pool = (box.pool = new ClientPool<Fake>({ strategy: balancer }));
      pool.add({ id: 0 }, { name: 'a', maxInFlight: 1 });
      box.armed = true;
      const result = await ending(
        pool.run(() => {
          ran = true;
          return Promise.resolve(1);
        }, options),
      );
      expect(result).toBe('error ERR_POOL_CLOSED');
      expect(ran).toBe(false);
    });
  }
});

describe('observers that join inside the pick', () => {
  // The lane tests `attemptStartChannel.hasSubscribers`, `tracksPlain` and `isTimed` before the balancer's
  // pick; the full pick tests them in `hold()`, after it. What the balancer's pick turns on is missed.
  for (const [name, options] of WAYS) {
    it(`publishes the start of an attempt whose end it publishes, to a subscriber joining in the balancer's pick, ${name}`, async () => {
      const heard: string[] = [];
      const onStart = (): void => void heard.push('start');
      const onEnd = (): void => void heard.push('end');
      let armed = true;
      const balancer: Balancer<Fake> = {
        pick: (ready) => {
          if (armed) {
            armed = false;
            subscribe('clientpool:attempt:start', onStart);
            subscribe('clientpool:attempt:end', onEnd);
          }
          return ready[0]!;
        },
      };
      const pool = new ClientPool<Fake>({ strategy: balancer });
      pool.add({ id: 0 }, { name: 'a' });
      try {
        await pool.run(() => Promise.resolve(1), options);
      } finally {
        unsubscribe('clientpool:attempt:start', onStart);
        unsubscribe('clientpool:attempt:end', onEnd);
      }
      // Right: every end published has its start (the lane publishes the end alone).
      expect(heard).toEqual(['start', 'end']);
      await pool.close();
    });

    it(`tells an onOutcome hook added in the balancer's pick that destroy() cancelled the call, ${name}`, async () => {
      const box: { pool?: ClientPool<Fake> } = {};
      const heard: string[] = [];
      let armed = true;
      const balancer: Balancer<Fake> = {
        pick: (ready) => {
          if (armed) {
            armed = false;
            box.pool!.use({ name: 'watch', onOutcome: (_call, outcome) => void heard.push(outcome.kind) });
          }
          return ready[0]!;
        },
      };
      const pool = (box.pool = new ClientPool<Fake>({ strategy: balancer }));
      pool.add({ id: 0 }, { name: 'a' });
      const answer = deferred<string>();
      const running = ending(pool.run(() => answer.promise, options));
      await Promise.resolve();
      const destroyed = pool.destroy();
      answer.resolve('late');
      await running;
      await destroyed;
      // Right: the hook was in the pool when the attempt took its client, so it hears how it ended
      // (destroy() tracks it); in the lane it hears nothing at all.
      expect(heard).toEqual(['cancelled']);
    });

    it(`times a call whose balancer's pick turned timing on (an adaptive client joining), ${name}`, async () => {
      const clock = new ManualClock();
      const box: { pool?: ClientPool<Fake> } = {};
      let armed = true;
      const balancer: Balancer<Fake> = {
        pick: (ready) => {
          if (armed) {
            armed = false;
            box.pool!.add({ id: 9 }, { name: 'z', tier: 5, maxInFlight: { adaptive: 'aimd' } });
          }
          return ready[0]!;
        },
      };
      const pool = (box.pool = new ClientPool<Fake>({ strategy: balancer, clock }));
      pool.add({ id: 0 }, { name: 'a' });
      const answer = deferred<string>();
      const running = pool.run(() => answer.promise, options);
      clock.advance(50);
      answer.resolve('x');
      await running;
      // Right: timed from when it held its client, as the full pick does (the lane leaves it untimed: 0).
      expect(pool.members().find((m) => m.name === 'a')!.latencyMs).toBe(50);
      await pool.close();
    });
  }
});

describe("the balancer's pick validated by readyIndex", () => {
  for (const [name, options] of WAYS) {
    it(`refuses, with CallbackError and without calling the function, a stranger the balancer wrote into the array it was given, ${name}`, async () => {
      // A balancer that writes into `ready` (a JavaScript one; TypeScript types it readonly) and returns
      // what it wrote: `ready[picked.readyIndex] === picked` holds for it, so #pick takes it as a member.
      const balancer: Balancer<Fake> = {
        pick: (ready) => {
          const fake = { readyIndex: 0, name: 'fake', client: { id: 99 } } as unknown as PoolMember<Fake>;
          (ready as PoolMember<Fake>[])[0] = fake;
          return fake;
        },
      };
      const pool = new ClientPool<Fake>({ strategy: balancer });
      pool.add({ id: 0 }, { name: 'a' });
      let ran = false;
      const result = await ending(
        pool.run(() => {
          ran = true;
          return Promise.resolve(1);
        }, options),
      );
      // Right (the README: "a throw or a stranger fails the call with CallbackError"): ERR_CALLBACK. Now a
      // raw TypeError (reading `breaker.acquire` of the fake) escapes untyped.
      expect(result).toBe('error ERR_CALLBACK');
      expect(ran).toBe(false);
    });
  }
});

describe('roundRobin() as an object to build on', () => {
  // roundRobin() became a class instance: `pick` lives on the prototype and reads a private field of `this`.
  it('keeps working when its pick is called detached from the object', () => {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the point: a pick taken off its object
    const { pick } = roundRobin<Fake>();
    const member = { name: 'x' } as unknown as PoolMember<Fake>;
    // Right (as before, and as randomBalancer() still does): the member. Now: TypeError reading #next.
    expect(pick([member])).toBe(member);
  });

  it('can be spread into a balancer with hooks of its own', () => {
    // Right (as before): the spread keeps `pick`. Now `{ ...roundRobin() }` has no pick and the pool refuses it.
    const balancer = { ...roundRobin<Fake>(), onReady: (): void => {} } as Balancer<Fake>;
    expect(typeof balancer.pick).toBe('function');
    const pool = new ClientPool<Fake>({ strategy: balancer });
    pool.add({ id: 0 }, { name: 'a' });
    return expect(pool.run((_client, call) => call.clientName)).resolves.toBe('a');
  });
});

describe('a call with no options on a closed pool with a pool-wide limit', () => {
  // run() no longer refuses a closing pool before the pipeline ("a closing pool refuses the call in its
  // pick"), but with a pool-wide `limit` the pool-token stage comes before the pick: it asks the limiter,
  // which close() has closed already (a Redis bucket: a round trip on a closed connection).
  for (const [name, options] of WAYS) {
    it(`rejects with PoolClosedError and never asks the closed limiter for a token, ${name}`, async () => {
      const asked: string[] = [];
      let isClosed = false;
      const limiter: Limiter = {
        take: () => {
          asked.push('take');
          return isClosed ? Promise.reject(new Error('limiter closed')) : Promise.resolve();
        },
        tryTake: () => {
          asked.push('tryTake');
          if (isClosed) throw new Error('limiter closed');
          return true;
        },
        close: () => {
          isClosed = true;
        },
      };
      const pool = new ClientPool<Fake>({ limit: limiter });
      pool.add({ id: 0 }, { name: 'a' });
      await pool.close();
      const result = await ending(pool.run(() => 1, options));
      // Right (as before): ERR_POOL_CLOSED at once, the limiter untouched. The lane's entry asks the closed
      // limiter's tryTake() and fails with ERR_CALLBACK (the limiter's throw).
      expect(result).toBe('error ERR_POOL_CLOSED');
      expect(asked).toEqual([]);
    });
  }
});
