import { describe, expect, it } from 'vitest';
import type { RunOptions } from '../../../src/index.js';
import { settle, watchedPool, WATCHED } from './helpers.js';

// The same call with nothing watching and with each watch (pass-through hooks): the same outcome, the
// same error class, code, message, and cause.

const throwing = (key: string): object => Object.defineProperty({ method: 'get' }, key, { enumerable: true, get: () => {
  throw new Error(`${key} unreadable`);
} });

const INPUTS: [string, () => unknown][] = [
  ['no options', () => undefined],
  ['null', () => null],
  ['a number', () => 7],
  ['an array', () => ['method']],
  ['an unknown key', () => ({ method: 'get', retries: 2 })],
  ['an error key', () => ({ error: new Error('x') })],
  ['a throwing method', () => throwing('method')],
  ['a throwing signal', () => throwing('signal')],
  ['a throwing retry', () => throwing('retry')],
  ['a throwing hedge', () => throwing('hedge')],
  ['a Proxy whose ownKeys throws', () => new Proxy({}, { ownKeys: () => {
    throw new Error('keys');
  } })],
  ['a bad timeout', () => ({ timeout: -1 })],
  ['a bad retry', () => ({ retry: { attempts: 0 } })],
  ['a bad hedge', () => ({ hedge: { delay: -5 } })],
  ['a bad cost', () => ({ cost: { requests: -1 } })],
  ['cache without coalesce', () => ({ cache: { ttl: 5 } })],
  ['minHeight with coalesce', () => ({ coalesce: 'k', minHeight: 1 })],
  ['label only', () => ({ method: 'get', traceId: 't', retry: false })],
  ['a timeout', () => ({ method: 'get', timeout: 100 })],
];

function shape(r: { ok: boolean; value: unknown }): unknown {
  if (r.ok) return { ok: true, value: r.value };
  const e = r.value as Error & { code?: string };
  return { ok: false, name: e.constructor.name, code: e.code, message: e.message, cause: e.cause instanceof Error ? e.cause.message : e.cause };
}

describe.each(WATCHED)('watched by %s or by nothing, the caller gets the same', (watch) => {
  it.each(INPUTS)('%s', async (_name, make) => {
    const plain = watchedPool('nothing');
    const watched = watchedPool(watch);
    const a = await settle(plain.pool.run((c) => c, make() as RunOptions<string>));
    const b = await settle(watched.pool.run((c) => c, make() as RunOptions<string>));
    expect(shape(b)).toEqual(shape(a));
    await plain.done();
    await watched.done();
  });
});
