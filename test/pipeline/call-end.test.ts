/* eslint-disable @typescript-eslint/no-misused-promises -- an async onCallEnd where a void one is due: the misuse under test */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, type CallEnd, type Middleware, type RunOptions } from '../../src/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { unhandledDuring } from '../helpers/unhandled.js';
import { recordWarnings } from '../helpers/warnings.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A middleware that records every call end it hears, with the code of the error. */
function listener(): { middleware: Middleware<object>; ends: (Omit<CallEnd<object>, 'error' | 'options' | 'source'> & { code: string | undefined; options: unknown })[] } {
  const ends: (Omit<CallEnd<object>, 'error' | 'options' | 'source'> & { code: string | undefined; options: unknown })[] = [];
  return {
    ends,
    middleware: {
      name: 'listener',
      onCallEnd: ({ method, options, error, durationMs }) => {
        ends.push({ method, options, code: error?.code, durationMs });
      },
    },
  };
}

describe('onCallEnd: each pool.run() heard once, as its caller saw it', () => {
  it('a success: its method, no error, and its duration in ms on the pool clock', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<object>({ clock });
    pool.add({});
    const { middleware, ends } = listener();
    pool.use(middleware);
    const answer = deferred<string>();
    const options = { method: 'get_slot' };
    const call = pool.run(() => answer.promise, options);
    clock.advance(250);
    answer.resolve('v');
    await expect(call).resolves.toBe('v');
    expect(ends).toEqual([{ method: 'get_slot', options, code: undefined, durationMs: 250 }]);
    await pool.close();
  });

  it('a call retried twice is heard once, with the error its caller got and the time of every attempt and backoff', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<object>({ clock, retry: { attempts: 3, backoff: { initial: 0, max: 0, jitter: 'none' } } });
    pool.add({}, { name: 'a' });
    pool.add({}, { name: 'b' });
    const { middleware, ends } = listener();
    pool.use(middleware);
    let attempts = 0;
    const error = await pool
      .run(() => {
        attempts++;
        clock.advance(10);
        throw new Error('down');
      })
      .catch((e: unknown) => e);
    expect(attempts).toBe(3);
    expect(hasErrorCode(error, 'ERR_CLIENT_CALL')).toBe(true);
    expect(ends).toEqual([{ method: 'unknown', options: undefined, code: 'ERR_CLIENT_CALL', durationMs: 30 }]);
    await pool.close();
  });

  it('calls refused before any client are heard: no clients, and a closed pool', async () => {
    const pool = new ClientPool<object>();
    const { middleware, ends } = listener();
    pool.use(middleware);
    await expect(pool.run(() => 'v', { method: 'm' })).rejects.toMatchObject({ code: 'ERR_NO_CLIENTS' });
    const closing = pool.close();
    await expect(pool.run(() => 'v', { method: 'm' })).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    await closing;
    expect(ends.map((end) => end.code)).toEqual(['ERR_NO_CLIENTS', 'ERR_POOL_CLOSED']);
  });

  it('a call an around hook fails is heard with the error the caller got, whatever the order of use()', async () => {
    const pool = new ClientPool<object>();
    pool.add({});
    pool.use({ name: 'refuser', around: () => Promise.reject(new Error('no')) });
    const { middleware, ends } = listener();
    pool.use(middleware);
    const error = await pool.run(() => 'v').catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
    expect(ends.map((end) => end.code)).toEqual(['ERR_CALLBACK']);
    await pool.close();
  });

  it('bad options: heard with the InvalidOptionError, labelled unknown when they cannot be read', async () => {
    const pool = new ClientPool<object>();
    pool.add({});
    const { middleware, ends } = listener();
    pool.use(middleware);
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); } }) as RunOptions<object>;
    await expect(pool.run(() => 'v', hostile)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(pool.run(() => 'v', { method: 42 } as unknown as RunOptions<object>)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(ends.map(({ method, code }) => [method, code])).toEqual([['unknown', 'ERR_INVALID_OPTION'], ['unknown', 'ERR_INVALID_OPTION']]);
    await pool.close();
  });

  it('the method is read when the call starts: options changed while it runs do not relabel it', async () => {
    const pool = new ClientPool<object>();
    pool.add({});
    const { middleware, ends } = listener();
    pool.use(middleware);
    const options: { method: string } = { method: 'before' };
    const call = pool.run(() => 'v', options);
    options.method = 'after';
    await call;
    expect(ends[0]!.method).toBe('before');
    await pool.close();
  });

  it('a hook that throws, or an async one that rejects, is a warning: the caller gets its value, later hooks still hear', async () => {
    const warnings = recordWarnings();
    const pool = new ClientPool<object>();
    pool.add({});
    pool.use({ name: 'thrower', onCallEnd: () => { throw new Error('hook blew up'); } });
    pool.use({ name: 'rejecter', onCallEnd: async () => Promise.reject(new Error('async hook blew up')) });
    const { middleware, ends } = listener();
    pool.use(middleware);
    const unhandled = await unhandledDuring(async () => {
      await expect(pool.run(() => 'v')).resolves.toBe('v');
      await expect(pool.run(() => Promise.reject(new Error('x')))).rejects.toMatchObject({ code: 'ERR_CLIENT_CALL' });
    });
    expect(unhandled).toEqual([]);
    expect(ends).toHaveLength(2);
    expect(warnings.map((w) => w.code)).toEqual(['CLIENTPOOL_CALLBACK_ERROR', 'CLIENTPOOL_CALLBACK_ERROR']);
    expect(warnings.map((w) => w.text).join('\n')).toMatch(/onCallEnd[\s\S]*hook blew up[\s\S]*onCallEnd[\s\S]*async hook blew up/);
    await pool.close();
  });

  it('a middleware with only onCallEnd is accepted by use()', () => {
    const pool = new ClientPool<object>();
    expect(() => pool.use({ name: 'ends only', onCallEnd: () => undefined })).not.toThrow();
  });

  it('without an onCallEnd hook the pool reads no clock for the call', async () => {
    const clock = new ManualClock();
    const now = vi.spyOn(clock, 'now');
    const seen: unknown[] = [];
    const pool = new ClientPool<object>({ clock });
    pool.add({});
    pool.use({ name: 'attempts, untimed', onOutcome: (call, outcome) => { seen.push(call, outcome); } });
    await pool.run(() => 'v');
    expect(now).not.toHaveBeenCalled();
    const { middleware } = listener();
    pool.use(middleware);
    await pool.run(() => 'v');
    expect(now).toHaveBeenCalledTimes(2);
    await pool.close();
  });
});
