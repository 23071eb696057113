// What a user's function returns (thenables, Proxies, promise subclasses, a native promise with an own
// `then`, a synchronous throw) and settles that throw (a state-change listener, `isFailure`), through each
// path that holds an attempt after 4241126..eab8d3b: the lane, the first lane ({ method }), a hold (an
// onOutcome hook), a race ({ timeout }, { signal }), retries, a custom balancer. Counters exact after each.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, ConsecutiveBreaker, type PoolMember, type PoolOptions, type RunOptions } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake', quietWarnings: true });

interface Fake {
  readonly id: string;
}

const code = async (call: Promise<unknown>): Promise<string> => {
  try {
    return `value ${String(await call)}`;
  } catch (error) {
    return `error ${(error as { code?: string }).code ?? String(error)}`;
  }
};

interface PathSpec {
  readonly name: string;
  readonly options: RunOptions<Fake> | undefined;
  readonly observed?: boolean;
  readonly balancer?: boolean;
}
const PATHS: readonly PathSpec[] = [
  { name: 'no options (the lane)', options: undefined },
  { name: '{ method } (the first lane)', options: { method: 'get' } },
  { name: 'an onOutcome hook (hold)', options: undefined, observed: true },
  { name: '{ timeout } (a race)', options: { timeout: 60_000 } },
  { name: '{ signal } (a race)', options: { signal: new AbortController().signal } },
  { name: '{ retry } (the first lane, retries)', options: { retry: { attempts: 2 } } },
  { name: 'a custom balancer (the lane, its pick)', options: undefined, balancer: true },
];

function poolFor(path: PathSpec, extra: PoolOptions<Fake> = {}): ClientPool<Fake> {
  const pool = new ClientPool<Fake>({ ...extra, ...(path.balancer === true ? { strategy: { pick: (ready: readonly PoolMember<Fake>[]) => ready[0]! } } : {}) });
  if (path.observed === true) pool.use({ name: 'observer', execute: (call, next) => next(call), onOutcome: () => {} });
  pool.add({ id: 'a' }, { name: 'a' });
  return pool;
}

class Sub<V> extends Promise<V> {}

const RETURNS: readonly (readonly [string, () => unknown, string])[] = [
  ['a plain value', () => 'v', 'value v'],
  ['a thenable that resolves', () => ({ then: (ok: (v: string) => void) => ok('t') }), 'value t'],
  ['a thenable that resolves and then rejects', () => ({ then: (ok: (v: string) => void, no: (e: unknown) => void) => (ok('t'), no(new Error('late'))) }), 'value t'],
  ['a thenable whose then throws', () => ({ then: () => { throw new Error('then threw'); } }), 'error ERR_CLIENT_CALL'],
  ['a promise subclass', () => Sub.resolve('s'), 'value s'],
  ['a Proxy of a promise', () => new Proxy(Promise.resolve('p'), {}), 'error ERR_CLIENT_CALL'],
  ['a native promise with an own then that answers', () => Object.assign(Promise.resolve('x'), { then: (ok: (v: string) => void) => ok('own') }), 'value own'],
  ['a native promise with an own then that throws', () => Object.assign(Promise.resolve('x'), { then: () => { throw new Error('own then'); } }), 'error ERR_CLIENT_CALL'],
  ['a synchronous throw', () => { throw new Error('sync'); }, 'error ERR_CLIENT_CALL'],
  ['a rejected promise', () => Promise.reject(new Error('down')), 'error ERR_CLIENT_CALL'],
];

describe('what the function returns, by path', () => {
  for (const path of PATHS) {
    it(`${path.name}: each kind of return answers as the same on every path, the client freed, successes and failures exact`, async () => {
      const seen: string[] = [];
      for (const [, fn, want] of RETURNS) {
        const pool = poolFor(path, { retry: false });
        const out = await code(pool.run(fn, path.options?.retry !== undefined ? { ...path.options, retry: false } : path.options));
        seen.push(out);
        const ok = out.startsWith('value') ? 1 : 0;
        expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: ok, failures: 1 - ok });
        expect(out).toBe(want);
        await pool.close();
      }
      expect(seen).toEqual(RETURNS.map(([, , want]) => want));
    });
  }
});

describe('a settle that throws, at a probe', () => {
  for (const path of PATHS) {
    it(`${path.name}: a state-change listener that throws at half-open->closed: the probe still answers, the circuit closes, counters exact`, async () => {
      const clock = new ManualClock();
      const pool = new ClientPool<Fake>({ clock, retry: false, breaker: ({ clock: c }) => new ConsecutiveBreaker({ maxFailures: 1, cooldown: 10 }, c) });
      if (path.observed === true) pool.use({ name: 'observer', execute: (call, next) => next(call), onOutcome: () => {} });
      pool.add({ id: 'a' }, { name: 'a' });
      const changes: string[] = [];
      pool.onStateChange((c) => {
        changes.push(`${c.from.kind}->${c.to.kind}`);
        if (c.to.kind === 'closed') throw new Error('listener');
      });
      const options = path.options?.retry !== undefined ? { ...path.options, retry: false as const } : path.options;
      expect(await code(pool.run(() => Promise.reject(new Error('down')), options))).toBe('error ERR_CLIENT_CALL');
      clock.advance(10);
      expect(await code(pool.run(() => 'probe', options))).toBe('value probe');
      expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 1, failures: 1 });
      expect(await code(pool.run(() => 'after', options))).toBe('value after');
      await pool.close();
    });

    it(`${path.name}: an isFailure that throws at a probe's failure: the call rejects once, the client freed, no probe slot kept`, async () => {
      const clock = new ManualClock();
      let throws = false;
      const pool = new ClientPool<Fake>({
        clock,
        retry: false,
        isFailure: () => {
          if (throws) throw new Error('isFailure threw');
          return true;
        },
        breaker: ({ clock: c }) => new ConsecutiveBreaker({ maxFailures: 1, cooldown: 10 }, c),
      });
      if (path.observed === true) pool.use({ name: 'observer', execute: (call, next) => next(call), onOutcome: () => {} });
      pool.add({ id: 'a' }, { name: 'a' });
      const options = path.options?.retry !== undefined ? { ...path.options, retry: false as const } : path.options;
      await code(pool.run(() => Promise.reject(new Error('down')), options));
      clock.advance(10);
      throws = true;
      const out = await code(pool.run(() => Promise.reject(new Error('still down')), options));
      expect(out.startsWith('error ')).toBe(true);
      expect(pool.members()[0]!.inFlight).toBe(0);
      // The probe was answered (a failure, or no verdict): the circuit is not stuck half-open with its slot taken.
      clock.advance(1_000);
      throws = false;
      expect(await code(pool.run(() => 'later', options))).toBe('value later');
      await pool.close();
    });
  }
});

describe('close() and aborts around a probe', () => {
  for (const path of PATHS) {
    it(`${path.name}: close() while a probe is in flight waits for it; the probe answers, close resolves, then calls are refused`, async () => {
      const clock = new ManualClock();
      const pool = new ClientPool<Fake>({ clock, retry: false, breaker: ({ clock: c }) => new ConsecutiveBreaker({ maxFailures: 1, cooldown: 10 }, c) });
      if (path.observed === true) pool.use({ name: 'observer', execute: (call, next) => next(call), onOutcome: () => {} });
      pool.add({ id: 'a' }, { name: 'a' });
      const options = path.options?.retry !== undefined ? { ...path.options, retry: false as const } : path.options;
      await code(pool.run(() => Promise.reject(new Error('down')), options));
      clock.advance(10);
      let answer!: (v: string) => void;
      const probe = code(pool.run(() => new Promise<string>((resolve) => (answer = resolve)), options));
      await vi.advanceTimersByTimeAsync(0);
      let closed = false;
      const closing = pool.close().then(() => (closed = true));
      await vi.advanceTimersByTimeAsync(5);
      expect(closed).toBe(false);
      answer('probe');
      expect(await probe).toBe('value probe');
      await closing;
      expect(closed).toBe(true);
      expect(await code(pool.run(() => 'x', options))).toBe('error ERR_POOL_CLOSED');
    });

    it(`${path.name}: a signal aborted inside the probe's function: raced calls fail with the abort; the circuit is not left stuck half-open`, async () => {
      const clock = new ManualClock();
      const pool = new ClientPool<Fake>({ clock, retry: false, breaker: ({ clock: c }) => new ConsecutiveBreaker({ maxFailures: 1, cooldown: 10 }, c) });
      if (path.observed === true) pool.use({ name: 'observer', execute: (call, next) => next(call), onOutcome: () => {} });
      pool.add({ id: 'a' }, { name: 'a' });
      await code(pool.run(() => Promise.reject(new Error('down'))));
      clock.advance(10);
      const controller = new AbortController();
      const options = { ...path.options, retry: false as const, signal: controller.signal };
      const out = await code(
        pool.run(() => {
          controller.abort(new Error('caller left'));
          return new Promise<string>((resolve) => setTimeout(() => resolve('late'), 5));
        }, options),
      );
      expect(out).toBe('error ERR_ABORTED');
      await vi.advanceTimersByTimeAsync(10);
      expect(pool.members()[0]!.inFlight).toBe(0);
      clock.advance(1_000);
      expect(await code(pool.run(() => 'later'))).toBe('value later');
      await pool.close();
    });
  }
});

describe('close() and destroy() from inside the function, by path', () => {
  for (const path of PATHS) {
    for (const action of ['close', 'destroy'] as const) {
      for (const answer of ['resolves', 'rejects'] as const) {
        it(`${path.name}: ${action}() called by the function, which then ${answer}: the caller hears one answer, the client is freed, ${action}() resolves, no unhandled rejection`, async () => {
          const pool = poolFor(path, { retry: false });
          let done: Promise<void> | undefined;
          const options = path.options?.retry !== undefined ? { ...path.options, retry: false as const } : path.options;
          const out = code(
            pool.run(() => {
              done = action === 'close' ? pool.close() : pool.destroy();
              return answer === 'resolves' ? Promise.resolve('v') : Promise.reject(new Error('down'));
            }, options),
          );
          await vi.advanceTimersByTimeAsync(10);
          const raced = path.options?.timeout !== undefined || path.options?.signal !== undefined;
          const result = await out;
          if (action === 'close') expect(result).toBe(answer === 'resolves' ? 'value v' : 'error ERR_CLIENT_CALL');
          // destroy(): a raced call fails at once with it; any other waits for the function (documented),
          // and its failure after the destroy is the destroy's, not a failure of the client.
          else expect(result).toBe(raced || answer === 'rejects' ? 'error ERR_POOL_CLOSED' : 'value v');
          await done;
          expect(pool.members()).toEqual([]);
        });
      }
    }
  }
});
