// Shared by the perf-s12 attack's tests: pools on fake time, outcomes as plain values, counts as strings.
import { vi } from 'vitest';
import { ClientPool, type AddOptions, type PoolOptions } from '../../../src/index.js';
import { dateClock } from '../../helpers/fake-time.js';

export interface Fake {
  readonly id: string;
}

/** A pool of `n` clients named c0, c1, ... on the fake clock. */
export function poolOf(n = 1, options: PoolOptions<Fake> = {}, add: AddOptions<Fake> = {}): ClientPool<Fake> {
  const pool = new ClientPool<Fake>({ clock: dateClock, ...options });
  for (let i = 0; i < n; i++) pool.add({ id: `c${i}` }, { ...add, name: `c${i}` });
  return pool;
}

/** What the caller saw: `{ value }` or `{ code }`. */
export function outcome(promise: Promise<unknown>): Promise<{ value?: unknown; code?: string }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ code: (error as { code?: string }).code ?? String(error) }),
  );
}

/** Each client's counts: `name:s<successes>f<failures>c<cancelled>r<refused>i<inFlight>`. */
export function counts(pool: ClientPool<Fake>): string[] {
  return pool.members().map((m) => `${m.name}:s${m.successes}f${m.failures}c${m.cancelled}r${m.refused}i${m.inFlight}`);
}

/** Let every queued promise job run. */
export async function jobs(n = 30): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

/** Move fake time on by `ms` and let the jobs it queued run. */
export async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await jobs();
}

export const hang = (): Promise<never> => new Promise<never>(() => {});

/** A settled native promise whose own `then` registers the reactions, then throws. */
export function registersThenThrows(): Promise<number> {
  const promise = Promise.resolve(3);
  // eslint-disable-next-line @typescript-eslint/no-floating-promises -- defineProperty returns the promise it was given
  Object.defineProperty(promise, 'then', {
    value(this: Promise<number>, onFulfilled: (v: number) => unknown, onRejected: (e: unknown) => unknown) {
      void Promise.prototype.then.call(this, onFulfilled, onRejected);
      throw new Error('then threw after registering');
    },
  });
  return promise;
}
