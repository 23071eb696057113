import { describe, expect, it } from 'vitest';
import { AbortedError, ClientCallError, ClientPool, hasErrorCode } from '../../src/index.js';

const retry = { attempts: 3, backoff: { initial: 0, max: 0 } };

describe('an AbortedError the function throws is a failure of its client, not the caller leaving', () => {
  it("a nested pool's abort (its own signal ended it) is retried on the next client, and each client hears a failure", async () => {
    const inner = new ClientPool<object>();
    inner.add({});
    const outer = new ClientPool<object>();
    outer.add({}, { name: 'a' });
    outer.add({}, { name: 'b' });
    let attempts = 0;
    const error = await outer
      .run(
        () => {
          attempts++;
          const controller = new AbortController();
          const nested = inner.run(() => new Promise(() => {}), { signal: controller.signal });
          controller.abort(new Error('inner deadline'));
          return nested;
        },
        { retry: { ...retry, retryOn: () => true } },
      )
      .catch((e: unknown) => e);
    expect(attempts).toBe(3);
    // The caller did not abort: it gets a failure of the client, the nested pool's abort as its cause.
    expect(error).toBeInstanceOf(ClientCallError);
    expect((error as ClientCallError).cause).toBeInstanceOf(AbortedError);
    expect(outer.members().map((m) => [m.name, m.failures, m.cancelled])).toEqual([
      ['a', 2, 0],
      ['b', 1, 0],
    ]);
    await inner.close();
    await outer.close();
  });

  it('by the default retry rule too: the outcome is a failure, so it is retried', async () => {
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a' });
    pool.add({}, { name: 'b' });
    let attempts = 0;
    const value = await pool.run(
      () => {
        if (++attempts === 1) throw new AbortedError('a dependency gave up');
        return 'second';
      },
      { retry },
    );
    expect(value).toBe('second');
    expect(attempts).toBe(2);
  });

  it("the caller's own abort still ends the retries at once, cancelled, the client hearing nothing", async () => {
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a' });
    pool.add({}, { name: 'b' });
    const controller = new AbortController();
    let attempts = 0;
    const call = pool.run(
      () => {
        attempts++;
        return new Promise(() => {});
      },
      { retry: { ...retry, retryOn: () => true }, signal: controller.signal },
    );
    controller.abort('user left');
    const error = await call.catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_ABORTED')).toBe(true);
    expect((error as Error).cause).toBe('user left');
    expect(attempts).toBe(1);
    expect(pool.members().map((m) => m.failures + m.cancelled)).toEqual([1, 0]);
    expect(pool.members()[0]!.cancelled).toBe(1);
    await pool.close();
  });

  it('a hedged call: a function AbortedError on one attempt leaves the call to the others, not ended as the caller', async () => {
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a' });
    pool.add({}, { name: 'b' });
    let attempts = 0;
    let hedged!: () => void;
    const hedgeStarted = new Promise<void>((resolve) => (hedged = resolve));
    let answer!: (value: string) => void;
    const value = pool.run(
      async () => {
        if (++attempts === 1) {
          await hedgeStarted;
          throw new AbortedError('dependency aborted');
        }
        hedged();
        return new Promise<string>((resolve) => (answer = resolve));
      },
      { hedge: { delay: 1 } },
    );
    await hedgeStarted;
    await new Promise((resolve) => setImmediate(resolve));
    answer('hedge');
    await expect(value).resolves.toBe('hedge');
    await pool.close();
  });
});
