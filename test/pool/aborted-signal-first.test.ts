import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool, InvalidOptionError } from '../../src/index.js';

// A call checks its signal before the values of its other options (readRunOptions, CallPlanner): an
// already-aborted call is refused with AbortedError whichever option is bad, with or without around
// hooks. Options that cannot be read at all (a throwing getter) are refused as such: the signal is not known.

const BAD: [string, Record<string, unknown>][] = [
  ['maxWait -1', { maxWait: -1 }],
  ['key 5', { key: 5 }],
  ['method ""', { method: '' }],
  ['traceId ""', { traceId: '' }],
  ['coalesce ""', { coalesce: '' }],
  ['minHeight -1', { minHeight: -1 }],
  ['cache without coalesce', { cache: { ttl: 5 } }],
  ['timeout -1', { timeout: -1 }],
  ['priority "bogus"', { priority: 'bogus' }],
  ['retry null', { retry: null }],
];

function poolWith(hooks: boolean): ClientPool<string> {
  const pool = new ClientPool<string>();
  if (hooks) pool.use({ name: 'around', around: (_scope, next) => next() });
  pool.add('a');
  return pool;
}

describe.each([false, true])('an already-aborted call (around hooks: %s)', (hooks) => {
  it.each(BAD)('with %s: AbortedError, the signal\'s reason as cause', async (_name, bad) => {
    const pool = poolWith(hooks);
    const reason = new Error('gone');
    const got = await pool.run((c) => c, { signal: AbortSignal.abort(reason), ...bad }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(AbortedError);
    expect((got as AbortedError).cause).toBe(reason);
    await pool.close();
  });

  it('control: with a live signal, maxWait -1 is InvalidOptionError', async () => {
    const pool = poolWith(hooks);
    const got = await pool.run((c) => c, { signal: new AbortController().signal, maxWait: -1 }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('control: options with a throwing getter beside an aborted signal are InvalidOptionError', async () => {
    const pool = poolWith(hooks);
    const options = { signal: AbortSignal.abort(), get timeout(): number { throw new Error('no'); } };
    expect(await pool.run((c) => c, options).catch((e: unknown) => e)).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('control: a signal that is not an AbortSignal is InvalidOptionError', async () => {
    const pool = poolWith(hooks);
    const got = await pool.run((c) => c, { signal: { aborted: true } as never, maxWait: -1 }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });
});
