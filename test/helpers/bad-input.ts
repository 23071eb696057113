/**
 * Helpers for the bad-input tables beside each feature: every public option and argument with wrong values
 * gives the documented typed error, naming the option and the bad value, in the documented way (a
 * synchronous API throws, an asynchronous one rejects), and the pool keeps working.
 */
import { afterEach, expect } from 'vitest';
import { ClientPool, hasErrorCode, InvalidOptionError, type PoolOptions } from '../../src/index.js';

export interface Fake {
  readonly id: string;
  ping(): string;
  readonly label: string;
}

export const fake = (id: string): Fake => ({ id, label: `client ${id}`, ping: () => `pong ${id}` });

/** The error thrown by `f`, or undefined. */
export function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** An InvalidOptionError naming `option` and, when given, carrying `value`, with the documented code and message. */
export function expectInvalid(error: unknown, option: string, ...value: [unknown?]): void {
  expect(error).toBeInstanceOf(InvalidOptionError);
  const e = error as InvalidOptionError;
  expect(e.code).toBe('ERR_INVALID_OPTION');
  expect(hasErrorCode(e, 'ERR_INVALID_OPTION')).toBe(true);
  expect(e.option).toBe(option);
  expect(e.message.startsWith(`${option} must be `)).toBe(true);
  if (value.length > 0) expect(e.value).toEqual(value[0]);
}

const pools: ClientPool<Fake>[] = [];

/** Close, after each test, the pools made by {@link workingPool} (call once per file). */
export function closeWorkingPools(): void {
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
  });
}

/** A pool with one client `ok`, and a check that it still works and counted nothing for the bad input. */
export function workingPool(options: PoolOptions<Fake> = {}): { pool: ClientPool<Fake>; stillWorks: () => Promise<void> } {
  const pool = new ClientPool<Fake>(options);
  pools.push(pool);
  pool.add(fake('ok'), { name: 'ok' });
  const stillWorks = async (): Promise<void> => {
    expect(pool.members().map((m) => [m.name, m.inFlight, m.successes, m.failures, m.cancelled, m.state.kind])).toEqual([['ok', 0, 0, 0, 0, 'closed']]);
    await expect(pool.run((client) => client.id)).resolves.toBe('ok');
    expect(pool.members()[0]).toMatchObject({ successes: 1, failures: 0, inFlight: 0 });
  };
  return { pool, stillWorks };
}
