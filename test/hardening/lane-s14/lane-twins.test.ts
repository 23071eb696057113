// Regression tests for the pick stage's lane (commit 6d5be63): the same scenario on two pools built
// alike, one making its calls with no options (`pool.run(fn)`, the lane), the other with `{ cost: {} }`
// (the full `select()`); the two must serve the same clients, end the same, and leave the same members().
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, seededRandom, type Balancer, type PoolMember, type RunOptions } from '../../../src/index.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';
import { unhandledDuring } from '../../helpers/unhandled.js';
import { recordWarnings } from '../../helpers/warnings.js';
import { ending } from '../../helpers/outcomes.js';
import { poolClosingInItsPick } from './closing-balancer.js';

interface Fake {
  readonly id: number;
}

type Fn = (client: Fake, call: { readonly clientName: string; pauseClient(ms: number): void }) => unknown;

/** One side of a twin: its pool, how it runs a call, and what it saw. */
interface Side {
  readonly pool: ClientPool<Fake>;
  readonly clock: ManualClock;
  /** Runs `fn` the side's way: no options, or `{ cost: {} }`. */
  readonly run: (fn: Fn) => Promise<unknown>;
  readonly log: string[];
}

const FULL: RunOptions<Fake> = { cost: {} };

/**
 * Runs `scenario` on a pool of the lane and on one of the full pick, built by `make` (given a clock and
 * the side's log), and checks the two logs and members() match; returns the lane's log.
 */
async function twin(make: (clock: ManualClock, log: string[]) => ClientPool<Fake>, scenario: (side: Side) => Promise<void>): Promise<string[]> {
  const sides = (['lane', 'full'] as const).map((which) => {
    const clock = new ManualClock();
    const log: string[] = [];
    const pool = make(clock, log);
    const run = (fn: Fn): Promise<unknown> => (which === 'lane' ? pool.run(fn) : pool.run(fn, FULL));
    return { pool, clock, run, log };
  });
  for (const side of sides) await scenario(side);
  expect(sides[0]!.log).toEqual(sides[1]!.log);
  expect(sides[0]!.pool.members()).toEqual(sides[1]!.pool.members());
  return sides[0]!.log;
}

/** A function that logs the client it ran on and answers with its name. */
const answer =
  (log: string[]): Fn =>
  (_client, call) => {
    log.push(`ran ${call.clientName}`);
    return Promise.resolve(call.clientName);
  };

const fail =
  (log: string[]): Fn =>
  (_client, call) => {
    log.push(`ran ${call.clientName}`);
    return Promise.reject(new Error('down'));
  };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the lane goes where the full pick goes', () => {
  it('round robin over three clients, with failures opening a circuit and its cooldown ending', async () => {
    const log = await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 100 } });
        for (let i = 0; i < 3; i++) pool.add({ id: i }, { name: `c${i}` });
        return pool;
      },
      async ({ run, log, clock }) => {
        for (let i = 0; i < 4; i++) log.push(await ending(run(answer(log))));
        log.push(await ending(run(fail(log))));
        for (let i = 0; i < 4; i++) log.push(await ending(run(answer(log))));
        clock.advance(100);
        for (let i = 0; i < 4; i++) log.push(await ending(run(answer(log))));
      },
    );
    expect(log.filter((l) => l.startsWith('error'))).toEqual(['error ERR_CLIENT_CALL']);
  });

  it('panic routing (maxEjectedPercent) starts and ends as the full pick says', async () => {
    await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock, random: seededRandom(7), maxEjectedPercent: 50, breaker: { maxFailures: 1, cooldown: 100 } });
        for (let i = 0; i < 3; i++) pool.add({ id: i }, { name: `c${i}` });
        return pool;
      },
      async ({ run, log, clock }) => {
        for (let i = 0; i < 2; i++) log.push(await ending(run(fail(log))));
        for (let i = 0; i < 6; i++) log.push(await ending(run(answer(log))));
        clock.advance(150);
        for (let i = 0; i < 6; i++) log.push(await ending(run(answer(log))));
      },
    );
  });

  it('slow start after a circuit closes draws the same clients (seeded)', async () => {
    await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock, random: seededRandom(3), slowStart: { window: 1_000 }, breaker: { maxFailures: 1, cooldown: 100 } });
        for (let i = 0; i < 3; i++) pool.add({ id: i }, { name: `c${i}` });
        return pool;
      },
      async ({ run, log, clock }) => {
        log.push(await ending(run(answer(log))));
        log.push(await ending(run(fail(log))));
        clock.advance(100);
        for (let i = 0; i < 20; i++) {
          clock.advance(30);
          log.push(await ending(run(answer(log))));
        }
      },
    );
  });

  it('measureLatency: the same clients, and the same latencies', async () => {
    await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock, measureLatency: true, strategy: 'least-in-flight' });
        for (let i = 0; i < 2; i++) pool.add({ id: i }, { name: `c${i}` });
        return pool;
      },
      async ({ run, log, clock }) => {
        const slow = deferred<string>();
        const held = run((_client, call) => {
          log.push(`ran ${call.clientName}`);
          return slow.promise;
        });
        for (let i = 0; i < 3; i++) {
          clock.advance(10);
          log.push(await ending(run(answer(log))));
        }
        clock.advance(40);
        slow.resolve('slow');
        log.push(await ending(held));
      },
    );
  });

  it('call.pauseClient inside the function takes the client out for the next calls, and back after', async () => {
    const log = await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock });
        for (let i = 0; i < 2; i++) pool.add({ id: i }, { name: `c${i}` });
        return pool;
      },
      async ({ run, log, clock }) => {
        log.push(
          await ending(
            run((_client, call) => {
              log.push(`ran ${call.clientName}`);
              call.pauseClient(100);
              return Promise.resolve('paused');
            }),
          ),
        );
        for (let i = 0; i < 3; i++) log.push(await ending(run(answer(log))));
        clock.advance(100);
        for (let i = 0; i < 3; i++) log.push(await ending(run(answer(log))));
      },
    );
    expect(log.slice(0, 8)).toEqual(['ran c0', 'value paused', 'ran c1', 'value c1', 'ran c1', 'value c1', 'ran c1', 'value c1']);
  });

  it('tiers: the failover tier serves only while the first has no ready client', async () => {
    const log = await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 100 } });
        pool.add({ id: 0 }, { name: 'primary' });
        pool.add({ id: 1 }, { name: 'backup', tier: 1 });
        return pool;
      },
      async ({ run, log, clock }) => {
        log.push(await ending(run(answer(log))));
        log.push(await ending(run(fail(log))));
        log.push(await ending(run(answer(log))));
        clock.advance(100);
        log.push(await ending(run(answer(log))));
        log.push(await ending(run(answer(log))));
      },
    );
    expect(log).toEqual(['ran primary', 'value primary', 'ran primary', 'error ERR_CLIENT_CALL', 'ran backup', 'value backup', 'ran primary', 'value primary', 'ran primary', 'value primary']);
  });

  it('an adaptive maxInFlight client: the same admissions and the same learned limit', async () => {
    await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock, maxWait: 0 });
        pool.add({ id: 0 }, { name: 'a', maxInFlight: { adaptive: 'aimd', initial: 2, min: 1, max: 4 } });
        return pool;
      },
      async ({ run, log, clock }) => {
        const gate = deferred<string>();
        const held = [0, 1, 2].map(() => ending(run(() => gate.promise)));
        clock.advance(5);
        gate.resolve('x');
        log.push(...(await Promise.all(held)));
        for (let i = 0; i < 3; i++) log.push(await ending(run(fail(log))));
      },
    );
  });

  it('FIFO: a plain call goes in line behind a high-priority call waiting for a capped client', async () => {
    const log = await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock, maxWait: 1_000 });
        pool.add({ id: 0 }, { name: 'a', maxInFlight: 1 });
        return pool;
      },
      async ({ pool, run, log }) => {
        const first = deferred<string>();
        const running = pool.run(() => first.promise);
        const high = pool.run(() => {
          log.push('high');
          return Promise.resolve('high');
        }, { priority: 'high' });
        first.resolve('first');
        await running;
        const later = run(() => {
          log.push('later');
          return Promise.resolve('later');
        });
        await Promise.all([high, later]);
      },
    );
    expect(log).toEqual(['high', 'later']);
  });
});

describe('what the function sees of its call and of the pool', () => {
  it('members() read inside the function, and call.signal aborted by destroy(), as in the full pick', async () => {
    const log = await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock });
        for (let i = 0; i < 2; i++) pool.add({ id: i }, { name: `c${i}` });
        return pool;
      },
      async ({ pool, run, log }) => {
        const gate = deferred<string>();
        let signal: AbortSignal | undefined;
        const held = run((_client, call) => {
          log.push(pool.members().map((m) => `${m.name}:${m.inFlight}:${m.state.kind}`).join(' '));
          signal = (call as unknown as { signal: AbortSignal }).signal;
          return gate.promise;
        });
        log.push(`aborted before: ${String(signal?.aborted)}`);
        await pool.destroy('stop');
        log.push(`aborted after: ${String(signal?.aborted)}`);
        gate.resolve('late');
        log.push(await ending(held));
      },
    );
    expect(log).toEqual(['c0:1:closed c1:0:closed', 'aborted before: false', 'aborted after: true', 'value late']);
  });
});

describe('picky calls waiting (a quorum needing a client at its cap)', () => {
  it('a plain call is served at once by another client, in the lane as in the full pick; the quorum is served when its client frees', async () => {
    const log = await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock, maxWait: 1_000 });
        pool.add({ id: 0 }, { name: 'a', maxInFlight: 1 });
        pool.add({ id: 1 }, { name: 'b' });
        return pool;
      },
      async ({ pool, run, log }) => {
        const first = deferred<string>();
        const busy = pool.run(() => first.promise, { strategy: { pick: (ready) => ready.find((m) => m.name === 'a')! } });
        const quorum = pool.quorum((_client, call) => {
          log.push(`quorum on ${call.clientName}`);
          return Promise.resolve(1);
        }, { of: 2, agree: 2 });
        log.push(await ending(run(answer(log))));
        first.resolve('first');
        await busy;
        log.push(await ending(quorum));
        log.push(await ending(run(answer(log))));
      },
    );
    expect(log.slice(0, 3)).toEqual(['quorum on b', 'ran b', 'value b']);
  });
});

describe('states changed by user code while a call is in the lane', () => {
  it('remove(), add() and use() called synchronously inside the function', async () => {
    await twin(
      (clock, log) => {
        const pool = new ClientPool<Fake>({ clock });
        pool.add({ id: 0 }, { name: 'a', close: () => void log.push('closed a') });
        pool.add({ id: 1 }, { name: 'b' });
        return pool;
      },
      async ({ pool, run, log }) => {
        const gate = deferred<string>();
        const held = run((_client, call) => {
          log.push(`ran ${call.clientName}`);
          void pool.remove(call.clientName);
          pool.add({ id: 2 }, { name: 'c' });
          pool.use({ name: 'watch', onOutcome: (c, o) => void log.push(`heard ${c.clientName} ${o.kind}`) });
          return gate.promise;
        });
        log.push(await ending(run(answer(log))));
        gate.resolve('done');
        log.push(await ending(held));
        log.push(await ending(run(answer(log))));
        await pool.close();
        log.push('pool closed');
      },
    );
  });

  it('close() and destroy() called synchronously inside the function: the call keeps its answer, close() resolves', async () => {
    for (const end of ['close', 'destroy'] as const) {
      const log = await twin(
        (clock, log) => {
          const pool = new ClientPool<Fake>({ clock });
          pool.add({ id: 0 }, { name: 'a', close: () => void log.push('closed a') });
          return pool;
        },
        async ({ pool, run, log }) => {
          let closing: Promise<void> | undefined;
          const result = ending(
            run((_client, call) => {
              log.push(`ran ${call.clientName}`);
              closing = end === 'close' ? pool.close() : pool.destroy();
              return Promise.resolve('answer');
            }),
          );
          log.push(await result);
          await closing;
          log.push(await ending(run(answer(log))));
          log.push(`inFlight ${pool.members().length}`);
        },
      );
      expect(log).toEqual(['ran a', 'closed a', 'value answer', 'error ERR_POOL_CLOSED', 'inFlight 0']);
    }
  });

  it('an onStateChange listener that removes the client as its probe closes its circuit', async () => {
    await twin(
      (clock, log) => {
        const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 100 } });
        pool.add({ id: 0 }, { name: 'a', close: () => void log.push('closed a') });
        pool.add({ id: 1 }, { name: 'b' });
        pool.onStateChange(({ client, to }) => {
          log.push(`${client} ${to.kind}`);
          if (client === 'a' && to.kind === 'closed') void pool.remove('a');
        });
        return pool;
      },
      async ({ run, log, clock }) => {
        log.push(await ending(run(fail(log))));
        clock.advance(100);
        for (let i = 0; i < 4; i++) log.push(await ending(run(answer(log))));
        await new Promise((resolve) => setImmediate(resolve));
      },
    );
  });

  it('a balancer whose pick closes the pool: the function never runs, close() resolves, later calls get PoolClosedError', async () => {
    // Which error the call gets differs (ERR_NO_CLIENTS in the plain pick, ERR_CALLBACK in select()):
    // pre-existing-faults.test.ts. Here: what both do alike.
    for (const options of [undefined, FULL]) {
      const { pool, closing } = poolClosingInItsPick<Fake>({ id: 0 });
      let ran = false;
      const first = await ending(
        pool.run(() => {
          ran = true;
          return Promise.resolve(1);
        }, options),
      );
      expect(first).toMatch(/^error ERR_/);
      expect(ran).toBe(false);
      await closing();
      expect(await ending(pool.run(() => 1, options))).toBe('error ERR_POOL_CLOSED');
    }
  });

  it('a custom breaker that throws from acquire() and success(): the same typed errors, the client given back', async () => {
    const warnings = recordWarnings();
    await twin(
      (clock) => {
        let n = 0;
        const CLOSED = { kind: 'closed' } as const;
        const pool = new ClientPool<Fake>({
          clock,
          breaker: () => ({
            state: CLOSED,
            acquire: () => {
              if (++n % 3 === 0) throw new Error('acquire broke');
              return 'call' as const;
            },
            canAcquire: () => true,
            success: () => {
              throw new Error('success broke');
            },
            failure: () => {},
            release: () => {},
          }),
        });
        pool.add({ id: 0 }, { name: 'a' });
        return pool;
      },
      async ({ run, log }) => {
        for (let i = 0; i < 6; i++) log.push(await ending(run(answer(log))));
      },
    );
    expect(warnings.every((w) => w.code === 'CLIENTPOOL_CALLBACK_ERROR')).toBe(true);
  });
});

describe('calls started from inside user code', () => {
  it('a call started synchronously inside the function goes where the full pick sends it', async () => {
    await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock });
        for (let i = 0; i < 3; i++) pool.add({ id: i }, { name: `c${i}` });
        return pool;
      },
      async ({ run, log }) => {
        const outer = run((_client, call) => {
          log.push(`outer on ${call.clientName}`);
          return run(answer(log)).then((inner) => `${call.clientName}>${String(inner)}`);
        });
        log.push(await ending(outer));
        log.push(await ending(run(answer(log))));
      },
    );
  });

  it("a call started from inside the balancer's pick (re-entrant) goes where the full pick sends it", async () => {
    // Each side's balancer is told how its side runs calls, by the side's log.
    const boxes = new WeakMap<string[], { run?: (fn: Fn) => Promise<unknown>; depth: number }>();
    await twin(
      (clock, log) => {
        const box: { run?: (fn: Fn) => Promise<unknown>; depth: number } = { depth: 0 };
        let next = 0;
        const balancer: Balancer<Fake> = {
          pick: (ready) => {
            if (box.depth === 0 && box.run !== undefined) {
              box.depth++;
              void ending(box.run(answer(log))).then((e) => void log.push(`inner ${e}`));
              box.depth--;
            }
            return ready[next++ % ready.length]!;
          },
        };
        const pool = new ClientPool<Fake>({ clock, strategy: balancer });
        for (let i = 0; i < 3; i++) pool.add({ id: i }, { name: `c${i}` });
        boxes.set(log, box);
        return pool;
      },
      async ({ run, log }) => {
        boxes.get(log)!.run = run;
        for (let i = 0; i < 3; i++) log.push(await ending(run(answer(log))));
        await new Promise((resolve) => setImmediate(resolve));
      },
    );
  });

  it('an onStateChange listener that starts a call as a circuit opens', async () => {
    await twin(
      (clock, log) => {
        const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 100 } });
        for (let i = 0; i < 2; i++) pool.add({ id: i }, { name: `c${i}` });
        pool.onStateChange(({ client, to }) => {
          log.push(`${client} ${to.kind}`);
          if (to.kind === 'open') void ending(pool.run(answer(log))).then((e) => void log.push(`from listener ${e}`));
        });
        return pool;
      },
      async ({ run, log }) => {
        log.push(await ending(run(fail(log))));
        await new Promise((resolve) => setImmediate(resolve));
        for (let i = 0; i < 2; i++) log.push(await ending(run(answer(log))));
      },
    );
  });

  it('a health check run from inside the function marks the running client down: later calls avoid it', async () => {
    await twin(
      (clock) => {
        const down = new Set<number>([0]);
        const pool = new ClientPool<Fake>({ clock, healthCheck: { check: (client) => (down.has(client.id) ? Promise.reject(new Error('down')) : Promise.resolve()), interval: 1_000_000, unhealthyThreshold: 1, healthyThreshold: 1 } });
        for (let i = 0; i < 2; i++) pool.add({ id: i }, { name: `c${i}` });
        return pool;
      },
      async ({ pool, run, log }) => {
        let checked: Promise<void> | undefined;
        log.push(
          await ending(
            run((_client, call) => {
              log.push(`ran ${call.clientName}`);
              checked = pool.checkHealth();
              return checked.then(() => call.clientName);
            }),
          ),
        );
        await checked;
        for (let i = 0; i < 3; i++) log.push(await ending(run(answer(log))));
        await pool.close();
      },
    );
  });

  it("a breaker whose acquire() adds a client of a lower tier: the call goes on, the new tier serves next", async () => {
    await twin(
      (clock) => {
        const box: { pool?: ClientPool<Fake>; armed: boolean } = { armed: true };
        const CLOSED = { kind: 'closed' } as const;
        const pool = (box.pool = new ClientPool<Fake>({
          clock,
          breaker: () => ({
            state: CLOSED,
            acquire: () => {
              if (box.armed && box.pool!.size === 1) {
                box.armed = false;
                box.pool!.add({ id: 7 }, { name: 'low', tier: -1 });
              }
              return 'call' as const;
            },
            canAcquire: () => true,
            success: () => {},
            failure: () => {},
            release: () => {},
          }),
        }));
        pool.add({ id: 0 }, { name: 'a' });
        return pool;
      },
      async ({ run, log }) => {
        for (let i = 0; i < 3; i++) log.push(await ending(run(answer(log))));
      },
    );
  });
});

describe('what the function returns, in the lane as in the full pick', () => {
  class SubPromise<V> extends Promise<V> {}
  const returns: readonly (readonly [string, () => unknown])[] = [
    ['a plain value', () => 42],
    ['undefined', () => undefined],
    ['a thenable that resolves', () => ({ then: (resolve: (v: unknown) => void) => resolve('thenable') })],
    ['a thenable that rejects', () => ({ then: (_: unknown, reject: (e: unknown) => void) => reject(new Error('thenable')) })],
    ['a thenable whose then throws', () => ({ then: () => { throw new Error('then threw'); } })],
    ['a Promise subclass', () => SubPromise.resolve('sub')],
    ['an object inheriting Promise.prototype', () => Object.create(Promise.prototype) as unknown],
    ['a native promise with a throwing own then', () => Object.assign(Promise.resolve(1), { then: () => { throw new Error('own then'); } })],
    ['a rejected promise of a non-Error', () => Promise.reject('a string')],
  ];
  for (const [name, make] of returns) {
    it(`${name}: the same ending, inFlight back to 0, no unhandled rejection`, async () => {
      const unhandled = await unhandledDuring(async () => {
        await twin(
          (clock) => {
            const pool = new ClientPool<Fake>({ clock });
            pool.add({ id: 0 }, { name: 'a' });
            return pool;
          },
          async ({ pool, run, log }) => {
            log.push(await ending(run(() => make())));
            log.push(`inFlight ${pool.members()[0]!.inFlight}`);
            await pool.close();
          },
        );
      });
      expect(unhandled).toEqual([]);
    });
  }

  it('a function that throws synchronously (an Error, then a non-Error): ERR_CLIENT_CALL and ERR_CLIENT_PANIC', async () => {
    const log = await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock });
        pool.add({ id: 0 }, { name: 'a' });
        return pool;
      },
      async ({ run, log }) => {
        log.push(await ending(run(() => { throw new Error('sync'); })));
        log.push(await ending(run(() => { throw 7; })));
      },
    );
    expect(log).toEqual(['error ERR_CLIENT_CALL', 'error ERR_CLIENT_PANIC']);
  });
});

describe("what a custom balancer's pick returns", () => {
  const other = new ClientPool<Fake>();
  other.add({ id: 50 }, { name: 'elsewhere' });
  let foreign: PoolMember<Fake> | undefined;
  other.run(() => 1, { strategy: { pick: (ready) => (foreign = ready[0]!) } }).catch(() => undefined);

  const picks: readonly (readonly [string, (ready: readonly PoolMember<Fake>[]) => PoolMember<Fake>])[] = [
    ['a stranger', () => ({ name: 'x' }) as unknown as PoolMember<Fake>],
    ['an object with a fake readyIndex', () => ({ name: 'x', readyIndex: 0 }) as unknown as PoolMember<Fake>],
    ['a copy of a member', (ready) => ({ ...ready[0]! })],
    ['a Proxy of a member', (ready) => new Proxy(ready[0]!, {})],
    ['a member of another pool', () => foreign!],
    ['undefined', () => undefined as unknown as PoolMember<Fake>],
    ['a promise of a member', (ready) => Promise.resolve(ready[0]!) as unknown as PoolMember<Fake>],
    ['a throw', () => { throw new Error('pick broke'); }],
    ['a Proxy whose readyIndex getter throws', () => new Proxy({}, { get: () => { throw new Error('trap'); } }) as PoolMember<Fake>],
  ];
  for (const [name, pick] of picks) {
    it(`${name}: CallbackError, the function not run, nothing held`, async () => {
      const log = await twin(
        (clock) => {
          const pool = new ClientPool<Fake>({ clock, strategy: { pick } });
          pool.add({ id: 0 }, { name: 'a' });
          return pool;
        },
        async ({ pool, run, log }) => {
          log.push(await ending(run(answer(log))));
          log.push(`inFlight ${pool.members()[0]!.inFlight}`);
        },
      );
      expect(log).toEqual(['error ERR_CALLBACK', 'inFlight 0']);
    });
  }

  it('a member of the tier that no longer serves: CallbackError', async () => {
    const log = await twin(
      (clock) => {
        let kept: PoolMember<Fake> | undefined;
        const pool = new ClientPool<Fake>({ clock, strategy: { pick: (ready) => (kept ??= ready[0]!) } });
        pool.add({ id: 1 }, { name: 'backup', tier: 1 });
        return pool;
      },
      async ({ pool, run, log }) => {
        log.push(await ending(run(answer(log))));
        pool.add({ id: 0 }, { name: 'primary' });
        log.push(await ending(run(answer(log))));
      },
    );
    expect(log).toEqual(['ran backup', 'value backup', 'error ERR_CALLBACK']);
  });
});

describe('observers that join and leave mid-call', () => {
  it('an onCallEnd hook joining mid-call: the call in flight ends as it would, later calls are heard', async () => {
    await twin(
      (clock) => {
        const pool = new ClientPool<Fake>({ clock });
        pool.add({ id: 0 }, { name: 'a' });
        return pool;
      },
      async ({ pool, run, log }) => {
        const gate = deferred<string>();
        const held = run(() => gate.promise);
        pool.use({ name: 'ends', onCallEnd: (end) => void log.push(`end ${end.error?.code ?? "ok"}`) });
        gate.resolve('x');
        log.push(await ending(held));
        log.push(await ending(run(answer(log))));
      },
    );
  });

  it('attempt:start and attempt:end subscribers leaving mid-call: nothing published after they left, the call ends', async () => {
    const heard: string[] = [];
    const onStart = (): void => void heard.push('start');
    const onEnd = (): void => void heard.push('end');
    subscribe('clientpool:attempt:start', onStart);
    subscribe('clientpool:attempt:end', onEnd);
    const pool = new ClientPool<Fake>();
    pool.add({ id: 0 }, { name: 'a' });
    const gate = deferred<string>();
    const held = pool.run(() => gate.promise);
    unsubscribe('clientpool:attempt:start', onStart);
    unsubscribe('clientpool:attempt:end', onEnd);
    gate.resolve('x');
    expect(await held).toBe('x');
    expect(await pool.run(() => 'again')).toBe('again');
    expect(heard).toEqual(['start']);
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 2 });
    await pool.close();
  });

  it('destroy() with lane calls in flight: the clients are released, close hooks run, each caller keeps its answer', async () => {
    await twin(
      (clock, log) => {
        const pool = new ClientPool<Fake>({ clock });
        for (let i = 0; i < 2; i++) pool.add({ id: i }, { name: `c${i}`, close: () => void log.push(`closed c${i}`) });
        return pool;
      },
      async ({ pool, run, log }) => {
        const gates = [deferred<string>(), deferred<string>()];
        const held = gates.map((gate) => ending(run(() => gate.promise)));
        await pool.destroy('stop');
        log.push('destroyed');
        gates[0]!.resolve('late');
        gates[1]!.reject(new Error('late'));
        log.push(...(await Promise.all(held)));
      },
    );
  });
});
