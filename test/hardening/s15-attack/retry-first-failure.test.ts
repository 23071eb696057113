// A call with retries whose first attempt fails, every way it can, in every way a pool can be set up
// around it (retry from the pool, a method, the call; middleware, onOutcome, an attempt-start subscriber,
// hooked balancers, a pool limit, a timeout or signal that races it): the retry policy is applied once.
import { describe, expect, it, vi } from 'vitest';
import { hasErrorCode } from '../../../src/index.js';
import { describeEnd, harness, settled, WAYS, type Fake } from './harness.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake' });

const RETRY = { attempts: 3, backoff: { initial: 10, max: 10, jitter: 'none' as const } };

/** A function failing `failures` times (how `fail` says), then answering its client's id. */
function failing(failures: number, fail: (client: Fake) => unknown, calls: string[]): (client: Fake) => unknown {
  return (client) => {
    calls.push(client.id);
    if (calls.length <= failures) return fail(client);
    return client.id;
  };
}

const FAILURES: readonly { name: string; fail: (client: Fake) => unknown }[] = [
  {
    name: 'throws synchronously',
    fail: () => {
      throw new Error('sync');
    },
  },
  { name: 'rejects', fail: () => Promise.reject(new Error('async')) },
  {
    name: 'throws a non-Error',
    fail: () => {
      throw 'a string';
    },
  },
  { name: 'rejects after a delay', fail: () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 30)) },
];

describe('a retried call whose first attempt fails', () => {
  for (const way of WAYS) {
    for (const { name, fail } of FAILURES) {
      it(`${way}: a first attempt that ${name} is retried once on another client, which answers`, async () => {
        const h = harness(way, RETRY);
        const calls: string[] = [];
        const result = await settled(h.pool.run(failing(1, fail, calls), h.options));
        h.dispose();
        expect(describeEnd(result)).toBe('value b');
        expect(calls).toEqual(['a', 'b']);
        expect(h.pool.members().map((m) => m.inFlight)).toEqual([0, 0, 0]);
        if (way === 'onOutcome-hook') expect(h.outcomes).toEqual(['1:a:failure', '2:b:success']);
        if (way === 'attempt-start-subscriber') expect(h.starts).toEqual(['1:a', '2:b']);
        await h.pool.close();
      });

      it(`${way}: a call whose every attempt ${name} makes exactly 3 attempts and gives the last error`, async () => {
        const h = harness(way, RETRY);
        const calls: string[] = [];
        const result = await settled(h.pool.run(failing(99, fail, calls), h.options));
        h.dispose();
        expect(calls).toEqual(['a', 'b', 'c']);
        expect(describeEnd(result)).toMatch(/^error ERR_CLIENT_(CALL|PANIC) cause /);
        expect(h.pool.members().map((m) => [m.inFlight, m.failures])).toEqual([[0, 1], [0, 1], [0, 1]]);
        if (way === 'onOutcome-hook') expect(h.outcomes).toEqual(['1:a:failure', '2:b:failure', '3:c:failure']);
        await h.pool.close();
      });
    }

    it(`${way}: a retry refused by the retry budget says so, with the first attempt's error as cause`, async () => {
      const h = harness(way, RETRY, ['a', 'b'], { retryBudget: { ratio: 0, reserve: 0 } });
      const calls: string[] = [];
      const result = await settled(h.pool.run(failing(99, () => Promise.reject(new Error('down')), calls), h.options));
      h.dispose();
      expect(describeEnd(result)).toBe('error ERR_RETRY_BUDGET cause ERR_CLIENT_CALL');
      expect(calls).toEqual(['a']);
      expect(h.pool.retryBudget?.refused).toBe(1);
      expect(h.pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
      await h.pool.close();
    });

    it(`${way}: an error isFailure does not count is not retried`, async () => {
      const h = harness(way, RETRY, ['a', 'b'], { isFailure: () => false });
      const calls: string[] = [];
      const result = await settled(h.pool.run(failing(99, () => Promise.reject(new Error('404')), calls), h.options));
      h.dispose();
      expect(describeEnd(result)).toBe('error ERR_CLIENT_CALL cause 404');
      expect(calls).toEqual(['a']);
      await h.pool.close();
    });

    it(`${way}: retryOn saying no keeps the first error, and is asked once`, async () => {
      let asked = 0;
      const h = harness(way, { ...RETRY, retryOn: () => (asked++, false) }, ['a', 'b']);
      const calls: string[] = [];
      const result = await settled(h.pool.run(failing(99, () => Promise.reject(new Error('down')), calls), h.options));
      h.dispose();
      expect(describeEnd(result)).toBe('error ERR_CLIENT_CALL cause down');
      expect(calls).toEqual(['a']);
      expect(asked).toBe(1);
      await h.pool.close();
    });

    it(`${way}: a first pick that finds every circuit open is refused, not retried`, async () => {
      const h = harness(way, RETRY, ['a', 'b'], { breaker: { maxFailures: 1, cooldown: 60_000 } });
      // Open both circuits with calls that do not retry.
      for (let i = 0; i < 2; i++) await settled(h.pool.run(() => Promise.reject(new Error('x')), { retry: false }));
      const calls: string[] = [];
      const result = await settled(h.pool.run(failing(0, () => undefined, calls), h.options));
      h.dispose();
      expect(describeEnd(result)).toMatch(/^error ERR_ALL_CIRCUITS_OPEN/);
      expect(calls).toEqual([]);
      expect(h.pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
      await h.pool.close();
    });

    it(`${way}: a first attempt whose client's circuit opens by it is retried on the other client`, async () => {
      const h = harness(way, RETRY, ['a', 'b'], { breaker: { maxFailures: 1, cooldown: 60_000 } });
      const calls: string[] = [];
      const result = await settled(h.pool.run(failing(1, () => Promise.reject(new Error('x')), calls), h.options));
      h.dispose();
      expect(describeEnd(result)).toBe('value b');
      expect(h.pool.members().map((m) => m.state.kind)).toEqual(['open', 'closed']);
      await h.pool.close();
    });

    it(`${way}: a first attempt that waits for a client and is refused (maxWait) fails with ConcurrencyLimitedError, not retried`, async () => {
      const h = harness(way, RETRY, ['a'], { maxWait: 20 }, { maxInFlight: 1 });
      let release!: () => void;
      const busy = h.pool.run(() => new Promise<string>((resolve) => (release = () => resolve('busy'))), { retry: false });
      const calls: string[] = [];
      const result = await settled(h.pool.run(failing(0, () => undefined, calls), h.options), 1_000);
      expect(describeEnd(result)).toBe('error ERR_CONCURRENCY_LIMITED');
      expect(calls).toEqual([]);
      release();
      expect(await busy).toBe('busy');
      h.dispose();
      expect(h.pool.members().map((m) => m.inFlight)).toEqual([0]);
      await h.pool.close();
    });

    it(`${way}: close() during the first attempt: the attempt's failure is not retried on a closing pool, close() resolves`, async () => {
      const h = harness(way, RETRY);
      const calls: string[] = [];
      const call = h.pool.run(failing(99, () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 30)), calls), h.options);
      await vi.advanceTimersByTimeAsync(5);
      const closing = h.pool.close();
      const result = await settled(call);
      h.dispose();
      expect(calls).toEqual(['a']);
      expect(describeEnd(result)).toBe('error ERR_CLIENT_CALL cause late');
      const closed = await settled(closing);
      expect(closed.isSettled && closed.error === undefined).toBe(true);
    });

    it(`${way}: close() during the backoff ends the call with its last error, close() resolves`, async () => {
      const h = harness(way, { attempts: 3, backoff: { initial: 1_000, max: 1_000, jitter: 'none' } });
      const calls: string[] = [];
      const call = h.pool.run(failing(99, () => Promise.reject(new Error('down')), calls), h.options);
      const observed = settled(call, 100);
      await vi.advanceTimersByTimeAsync(10);
      const closing = h.pool.close();
      const result = await observed;
      h.dispose();
      expect(calls).toEqual(['a']);
      expect(describeEnd(result)).toBe('error ERR_CLIENT_CALL cause down');
      const closed = await settled(closing);
      expect(closed.isSettled && closed.error === undefined).toBe(true);
    });

    it(`${way}: destroy() during the first attempt ends it with PoolClosedError (the reason as cause), not retried`, async () => {
      const h = harness(way, RETRY);
      const calls: string[] = [];
      // The function follows its call's signal, so destroy() can end it for its caller whatever the way.
      const call = h.pool.run((client, c) => {
        calls.push(client.id);
        return new Promise((_, reject) => c.signal.addEventListener('abort', () => reject(c.signal.reason as Error)));
      }, h.options);
      const observed = settled(call, 100);
      await vi.advanceTimersByTimeAsync(5);
      const destroying = h.pool.destroy(new Error('shutdown'));
      const result = await observed;
      h.dispose();
      expect(calls).toEqual(['a']);
      expect(describeEnd(result)).toBe('error ERR_POOL_CLOSED cause shutdown');
      expect(h.pool.members().map((m) => m.inFlight).every((n) => n === 0)).toBe(true);
      const destroyed = await settled(destroying);
      expect(destroyed.isSettled && destroyed.error === undefined).toBe(true);
    });

    it(`${way}: destroy() during the backoff ends the call, no retry starts`, async () => {
      const h = harness(way, { attempts: 3, backoff: { initial: 1_000, max: 1_000, jitter: 'none' } });
      const calls: string[] = [];
      const call = h.pool.run(failing(99, () => Promise.reject(new Error('down')), calls), h.options);
      const observed = settled(call, 2_000);
      await vi.advanceTimersByTimeAsync(10);
      await h.pool.destroy(new Error('shutdown'));
      const result = await observed;
      h.dispose();
      expect(calls).toEqual(['a']);
      expect(result.isSettled).toBe(true);
      expect(hasErrorCode(result.error, 'ERR_CLIENT_CALL') || hasErrorCode(result.error, 'ERR_POOL_CLOSED')).toBe(true);
    });
  }
});
