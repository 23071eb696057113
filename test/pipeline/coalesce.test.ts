import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientPool, hasErrorCode, type RunOptions } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';
import { unhandledDuring } from '../helpers/unhandled.js';

/** A pool of one client; `fn` makes an upstream call (counted) that settles when the test says. */
function upstream(): { pool: ClientPool<object>; fn: () => Promise<string>; calls: () => number; answer: (value: string) => void; fail: (error: Error) => void } {
  const gate = deferred<string>();
  let calls = 0;
  const pool = new ClientPool<object>();
  pool.add({});
  return {
    pool,
    fn: () => {
      calls++;
      return gate.promise;
    },
    calls: () => calls,
    answer: (value) => gate.resolve(value),
    fail: (error) => gate.reject(error),
  };
}

describe('coalesce: overlapping calls with one key share one journey', () => {
  it('100 concurrent identical calls make one upstream call, and each gets its value', async () => {
    const u = upstream();
    const results = Array.from({ length: 100 }, () => u.pool.run(u.fn, { coalesce: 'slot' }));
    u.answer('v');
    expect(await Promise.all(results)).toEqual(Array(100).fill('v'));
    expect(u.calls()).toBe(1);
    // Over: the next call with the key makes its own.
    await u.pool.run(u.fn, { coalesce: 'slot' });
    expect(u.calls()).toBe(2);
    await u.pool.close();
  });

  it('the error reaches every caller, as the caller of one journey gets it', async () => {
    const u = upstream();
    const results = Array.from({ length: 3 }, () => u.pool.run(u.fn, { coalesce: 'k' }).catch((e: unknown) => e));
    u.fail(new Error('down'));
    const errors = await Promise.all(results);
    expect(errors.every((e) => hasErrorCode(e, 'ERR_CLIENT_CALL'))).toBe(true);
    expect(new Set(errors).size).toBe(1);
    expect(u.calls()).toBe(1);
    await u.pool.close();
  });

  it('different keys, and calls without a key, are not shared', async () => {
    const u = upstream();
    const results = [u.pool.run(u.fn, { coalesce: 'a' }), u.pool.run(u.fn, { coalesce: 'b' }), u.pool.run(u.fn)];
    expect(u.calls()).toBe(3);
    u.answer('v');
    await Promise.all(results);
    await u.pool.close();
  });

  it('a caller that aborts leaves alone: the others still get the value, and the upstream call is not aborted', async () => {
    const u = upstream();
    const leaving = new AbortController();
    let upstreamSignal: AbortSignal | undefined;
    const first = u.pool.run((client, call) => {
      upstreamSignal = call.signal;
      return u.fn();
    }, { coalesce: 'k', signal: leaving.signal });
    const staying = u.pool.run(u.fn, { coalesce: 'k' });
    leaving.abort(new Error('caller left'));
    await expect(first).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(upstreamSignal?.aborted).toBe(false);
    u.answer('v');
    await expect(staying).resolves.toBe('v');
    await u.pool.close();
  });

  it('once every caller has aborted, the shared call is aborted too, and nothing is left unhandled', async () => {
    const u = upstream();
    const controllers = [new AbortController(), new AbortController()];
    let upstreamSignal: AbortSignal | undefined;
    const unhandled = await unhandledDuring(async () => {
      const calls = controllers.map((controller) =>
        u.pool.run((client, call) => {
          upstreamSignal = call.signal;
          return u.fn();
        }, { coalesce: 'k', signal: controller.signal }).catch((e: unknown) => e),
      );
      for (const controller of controllers) controller.abort(new Error('gone'));
      const errors = await Promise.all(calls);
      expect(errors.map((e) => (e as { code: string }).code)).toEqual(['ERR_ABORTED', 'ERR_ABORTED']);
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(unhandled).toEqual([]);
    expect(upstreamSignal?.aborted).toBe(true);
    expect(u.pool.members()[0]!.inFlight).toBe(0);
    await u.pool.close();
  });

  it('a caller whose signal is aborted already is refused at once and joins nothing', async () => {
    const u = upstream();
    await expect(u.pool.run(u.fn, { coalesce: 'k', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(u.calls()).toBe(0);
    await u.pool.close();
  });

  it.each<[unknown, string]>([
    ['', 'empty'],
    [42, 'a number'],
  ])('refuses coalesce %j (%s) with InvalidOptionError naming coalesce', async (value) => {
    const u = upstream();
    await expect(u.pool.run(u.fn, { coalesce: value } as unknown as RunOptions<object>)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'coalesce' });
    await u.pool.close();
  });
});

describe('coalesce, as a property: every caller gets the one result of its key, one upstream call per overlapping group', () => {
  it('holds for any mix of keys', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 30 }), async (keys) => {
        const pool = new ClientPool<object>();
        pool.add({});
        const gates = new Map<string, ReturnType<typeof deferred<string>>>();
        let upstreamCalls = 0;
        const results = keys.map((key) =>
          pool.run(() => {
            upstreamCalls++;
            const gate = deferred<string>();
            gates.set(key, gate);
            return gate.promise;
          }, { coalesce: key }),
        );
        expect(upstreamCalls).toBe(new Set(keys).size);
        for (const [key, gate] of gates) gate.resolve(`value of ${key}`);
        expect(await Promise.all(results)).toEqual(keys.map((key) => `value of ${key}`));
        await pool.close();
      }),
      { numRuns: 50 },
    );
  });
});
