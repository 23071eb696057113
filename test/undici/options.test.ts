import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackError, ClientPool, InvalidOptionError } from '../../src/index.js';
import { poolDispatcher, type PoolDispatcher, type Upstream } from '../../src/undici/index.js';
import { thrownBy } from '../helpers/bad-input.js';

const made: PoolDispatcher[] = [];
afterEach(async () => {
  await Promise.allSettled(made.splice(0).map((d) => d.close()));
});

function refused(options: unknown): InvalidOptionError {
  const error = thrownBy(() => made.push(poolDispatcher(options as never)));
  expect(error).toBeInstanceOf(InvalidOptionError);
  return error as InvalidOptionError;
}

describe('poolDispatcher options', () => {
  it.each([
    ['no options', undefined, 'options'],
    ['an unknown key', { origins: ['http://a'], orgins: [] }, 'options.orgins'],
    ['origins not an array', { origins: 'http://a' }, 'origins'],
    ['no origins and no pool', { origins: [] }, 'origins'],
    ['an origin with a path', { origins: ['http://a/api'] }, 'origins[0]'],
    ['an origin with a query', { origins: ['http://a?x=1'] }, 'origins[0]'],
    ['an origin with credentials', { origins: ['http://u:p@a'] }, 'origins[0]'],
    ['a non-http origin', { origins: ['ftp://a'] }, 'origins[0]'],
    ['an unparsable origin', { origins: ['not a url'] }, 'origins[0]'],
    ['an origin entry without origin', { origins: [{ weight: 2 }] }, 'origins[0].origin'],
    ['an origin entry with close', { origins: [{ origin: 'http://a', close: () => {} }] }, 'origins[0].close'],
    ['a bad add option', { origins: [{ origin: 'http://a', weight: -1 }] }, 'weight'],
    ['a duplicate origin', { origins: ['http://a', 'http://a:80'] }, 'name'],
    ['a factory that is not a function', { origins: ['http://a'], factory: 1 }, 'factory'],
    ['isFailureStatus not a function', { origins: ['http://a'], isFailureStatus: true }, 'isFailureStatus'],
    ['label not a function', { origins: ['http://a'], label: 'x' }, 'label'],
    ['idempotentMethods not an array', { origins: ['http://a'], idempotentMethods: 'GET' }, 'idempotentMethods'],
    ['an empty method', { origins: ['http://a'], idempotentMethods: [''] }, 'idempotentMethods[0]'],
    ['a serviceOrigin with a path', { origins: ['http://a'], serviceOrigin: 'http://api/v1' }, 'serviceOrigin'],
    ['a fallback that is not a dispatcher', { origins: ['http://a'], fallback: {} }, 'fallback'],
    ['bad pool options', { origins: ['http://a'], pool: { timout: 5 } }, 'pool.timout'],
    ['a negative bufferBody', { origins: ['http://a'], bufferBody: -1 }, 'bufferBody'],
    ['a fractional bufferBody', { origins: ['http://a'], bufferBody: 1.5 }, 'bufferBody'],
  ])('refuses %s, naming the option', (_what, options, option) => {
    expect(refused(options).option).toBe(option);
  });

  it('reports a factory that throws as a CallbackError with the cause', () => {
    const cause = new Error('boom');
    expect(() => poolDispatcher({ origins: ['http://a'], factory: () => { throw cause; } })).toThrow(expect.objectContaining({ code: CallbackError.code, cause }));
  });

  it('closes what it made when an origin is refused', async () => {
    const pools: Pool[] = [];
    expect(() => poolDispatcher({ origins: ['http://a', 'ftp://b'], factory: (o) => (pools.push(new Pool(o)), pools.at(-1)!) })).toThrow(InvalidOptionError);
    // 'ftp://b' is refused before any dispatcher is made.
    expect(pools).toEqual([]);
    expect(() => poolDispatcher({ origins: ['http://a', { origin: 'http://b', weight: 0 }], factory: (o) => (pools.push(new Pool(o)), pools.at(-1)!) })).toThrow(InvalidOptionError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(pools.map((p) => p.destroyed)).toEqual([true, true]);
  });

  it('leaves a pool of the caller\'s as it was when an origin is refused', () => {
    const pool = new ClientPool<Upstream>();
    expect(() => poolDispatcher({ origins: ['http://127.0.0.1:9', { origin: 'http://127.0.0.1:10', weight: 0 }], pool })).toThrow(InvalidOptionError);
    expect(pool.size).toBe(0);
  });

  it('takes a pool of the caller\'s, adds the origins to it, and owns it', async () => {
    const pool = new ClientPool<Upstream>({ timeout: 1_000 });
    const dispatcher = poolDispatcher({ origins: ['http://127.0.0.1:9', { origin: new URL('http://127.0.0.1:10'), weight: 3, tier: 1 }], pool });
    expect(dispatcher.pool).toBe(pool);
    expect(pool.members().map((m) => [m.name, m.weight, m.tier])).toEqual([['http://127.0.0.1:9', 1, 0], ['http://127.0.0.1:10', 3, 1]]);
    await dispatcher.close();
    expect(pool.isClosed).toBe(true);
  });
});
