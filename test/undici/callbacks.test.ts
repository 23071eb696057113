// Every user callback of poolDispatcher, broken every way (a throw, garbage, a promise that rejects, a
// getter that throws), against real loopback origins: no crash, no call left in flight, no hang.
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackError, InvalidOptionError, type MiddlewareFunction } from '../../src/index.js';
import { poolDispatcher, type PoolDispatcher, type PoolDispatcherOptions, type Upstream } from '../../src/undici/index.js';
import { brokenCallbacks, callbackWarning, falloutOf, inFlight, throwingGetter } from '../helpers/broken-callbacks.js';
import { startOrigin, stopOrigins, type Origin } from './origins.js';

const dispatchers: PoolDispatcher[] = [];

afterEach(async () => {
  await Promise.allSettled(dispatchers.splice(0).map((d) => d.destroy()));
  await stopOrigins();
});

function over(origins: Origin[], options: Omit<PoolDispatcherOptions, 'origins'>): PoolDispatcher {
  const dispatcher = poolDispatcher({ ...options, origins: origins.map((o) => o.url) });
  dispatchers.push(dispatcher);
  return dispatcher;
}

describe('poolDispatcher: a broken label', () => {
  it.each(brokenCallbacks)('one that %s labels the request by its method, the request succeeds, and one warning says so', async (_how, label) => {
    const a = await startOrigin('a');
    const seen: string[] = [];
    const spy: MiddlewareFunction<Upstream> = (call, next) => (seen.push(call.method), next(call));
    const dispatcher = over([a], { label: label as never, pool: { middleware: [spy] } });
    const fallout = await falloutOf(async () => {
      for (const method of ['GET', 'DELETE']) {
        const response = await request('http://service.invalid/x', { dispatcher, method });
        expect([response.statusCode, await response.body.text()]).toEqual([200, 'a /x']);
      }
    });
    expect(seen).toEqual(['GET', 'DELETE']);
    expect(fallout).toEqual({ warnings: [callbackWarning('label')], unhandled: [] });
    expect(inFlight(dispatcher.pool)).toEqual([0]);
  });
});

describe('poolDispatcher: a broken isFailureStatus', () => {
  it.each(brokenCallbacks.filter(([how]) => how !== 'returns an empty string'))('one that %s fails the request with a CallbackError, not counted against the origin, and nothing left in flight', async (how, isFailureStatus) => {
    const a = await startOrigin('a');
    const dispatcher = over([a], { isFailureStatus: isFailureStatus as never });
    let error: unknown;
    const fallout = await falloutOf(async () => {
      error = await request('http://service.invalid/x', { dispatcher }).catch((e: unknown) => e);
    });
    expect(error).toBeInstanceOf(CallbackError);
    expect(error).toMatchObject({ code: 'ERR_CALLBACK', callback: 'isFailureStatus' });
    if (how === 'throws') expect((error as CallbackError).cause).toMatchObject({ message: 'callback broke' });
    expect(dispatcher.pool.members().map((m) => [m.failures, m.inFlight])).toEqual([[0, 0]]);
    expect(fallout).toEqual({ warnings: [], unhandled: [] });
  });
});

describe('poolDispatcher: a broken factory', () => {
  it.each([
    [
      'throws',
      () => {
        throw new Error('factory broke');
      },
    ],
    ['returns a promise that rejects', () => Promise.reject(new Error('async factory broke'))],
    ['returns undefined', () => undefined],
    [
      'returns an object whose dispatch getter throws',
      () =>
        Object.defineProperty({}, 'dispatch', {
          get() {
            throw new Error('getter broke');
          },
        }),
    ],
  ])('one that %s is refused at construction with a CallbackError, leaving no unhandled rejection', async (_how, factory) => {
    const fallout = await falloutOf(() => {
      expect(() => poolDispatcher({ origins: ['http://127.0.0.1:9'], factory: factory as never })).toThrow(expect.objectContaining({ code: CallbackError.code, callback: 'the factory' }));
    });
    expect(fallout.unhandled).toEqual([]);
  });
});

describe('poolDispatcher: options whose getters throw', () => {
  it.each(['origins', 'pool', 'factory', 'idempotentMethods', 'bufferBody', 'isFailureStatus', 'label', 'serviceOrigin', 'fallback'])('the %s getter throwing is refused as an InvalidOptionError naming options, with the throw as cause', (key) => {
    const { options, cause } = throwingGetter(key, { origins: ['http://127.0.0.1:9'] });
    expect(() => dispatchers.push(poolDispatcher(options as PoolDispatcherOptions))).toThrow(expect.objectContaining({ code: InvalidOptionError.code, option: 'options', cause }));
  });

  it('an origin entry whose getter throws is refused the same way', () => {
    const { options: entry, cause } = throwingGetter('weight', { origin: 'http://127.0.0.1:9' });
    expect(() => poolDispatcher({ origins: [entry as never] })).toThrow(expect.objectContaining({ code: InvalidOptionError.code, cause }));
  });
});
