import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const never = (): Promise<never> => new Promise(() => {});
const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

function makePool(): ClientPool<{ id: number }> {
  const pool = new ClientPool<{ id: number }>();
  pool.add({ id: 1 });
  return pool;
}

async function settled(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => error,
  );
}

// SignalWatches caches the watch last joined (#last) and notes an emptied watch once per sweep: a call on
// a signal must always hear its abort, and no listener may stay once calls ended and the loop turned.
describe('caller signals: one listener per signal, heard by every call, gone once idle', () => {
  it('calls on one signal leave no abort listener once they ended and the loop turned', async () => {
    const pool = makePool();
    const controller = new AbortController();
    for (let i = 0; i < 100; i++) await pool.run(() => Promise.resolve(i), { signal: controller.signal });
    expect(listeners(controller.signal)).toBe(1);
    await turn();
    expect(listeners(controller.signal)).toBe(0);
    await pool.close();
  });

  it('a signal whose listener was swept, used again, ends its call on abort', async () => {
    const pool = makePool();
    const controller = new AbortController();
    await pool.run(() => Promise.resolve(0), { signal: controller.signal });
    await turn();
    expect(listeners(controller.signal)).toBe(0);
    const call = settled(pool.run(never, { signal: controller.signal }));
    await turn();
    controller.abort('bye');
    expect(await call).toMatchObject({ code: 'ERR_ABORTED', cause: 'bye' });
    await pool.close();
  });

  it('a call joining a signal whose sweep is due keeps the listener through that sweep and ends on abort', async () => {
    const pool = makePool();
    const controller = new AbortController();
    await pool.run(() => Promise.resolve(0), { signal: controller.signal });
    // The sweep is due (the watch emptied); a call joins before it runs.
    const call = settled(pool.run(never, { signal: controller.signal }));
    await turn();
    await turn();
    expect(listeners(controller.signal)).toBe(1);
    controller.abort('late');
    expect(await call).toMatchObject({ code: 'ERR_ABORTED', cause: 'late' });
    await turn();
    expect(listeners(controller.signal)).toBe(0);
    await pool.close();
  });

  it('emptied, joined, emptied again within one turn: the second emptying is still swept', async () => {
    const pool = makePool();
    const controller = new AbortController();
    await pool.run(() => Promise.resolve(0), { signal: controller.signal });
    let release!: () => void;
    const held = pool.run(() => new Promise<void>((resolve) => (release = resolve)), { signal: controller.signal });
    await turn();
    // The sweep ran while a call was in flight: it kept the listener; the call ends now, emptying again.
    release();
    await held;
    expect(listeners(controller.signal)).toBe(1);
    await turn();
    expect(listeners(controller.signal)).toBe(0);
    await pool.close();
  });

  it('two signals alternating: each call ends on its own signal only, and no listener stays', async () => {
    const pool = makePool();
    const a = new AbortController();
    const b = new AbortController();
    for (let i = 0; i < 10; i++) {
      await pool.run(() => Promise.resolve(i), { signal: a.signal });
      await pool.run(() => Promise.resolve(i), { signal: b.signal });
    }
    const onA = [settled(pool.run(never, { signal: a.signal })), settled(pool.run(never, { signal: a.signal }))];
    const onB = settled(pool.run(never, { signal: b.signal }));
    const onA2 = settled(pool.run(never, { signal: a.signal }));
    a.abort('a');
    expect(await Promise.all([...onA, onA2])).toMatchObject([{ cause: 'a' }, { cause: 'a' }, { cause: 'a' }]);
    let bSettled = false;
    void onB.then(() => (bSettled = true));
    await turn();
    expect(bSettled).toBe(false);
    b.abort('b');
    expect(await onB).toMatchObject({ code: 'ERR_ABORTED', cause: 'b' });
    await turn();
    expect([listeners(a.signal), listeners(b.signal)]).toEqual([0, 0]);
    await pool.close();
  });

  it('an aborted signal, used again, fails the call at once without starting its function', async () => {
    const pool = makePool();
    const controller = new AbortController();
    const first = settled(pool.run(never, { signal: controller.signal }));
    controller.abort('gone');
    await first;
    let started = 0;
    for (let i = 0; i < 3; i++) {
      const error = await settled(pool.run(() => ++started, { signal: controller.signal }));
      expect(error).toMatchObject({ code: 'ERR_ABORTED', cause: 'gone' });
    }
    expect(started).toBe(0);
    await pool.close();
  });

  it('AbortSignal.timeout() ends a call that ignores its signal, and AbortSignal.any() ends one on either source', async () => {
    const pool = makePool();
    const timed = AbortSignal.timeout(20);
    const byTimeout = await settled(pool.run(never, { signal: timed }));
    expect(byTimeout).toMatchObject({ code: 'ERR_ABORTED' });
    expect((byTimeout as Error).cause).toMatchObject({ name: 'TimeoutError' });
    const a = new AbortController();
    const b = new AbortController();
    const any = AbortSignal.any([a.signal, b.signal]);
    await pool.run(() => Promise.resolve(0), { signal: any });
    await turn();
    const call = settled(pool.run(never, { signal: any }));
    b.abort('from b');
    expect(await call).toMatchObject({ code: 'ERR_ABORTED', cause: 'from b' });
    await pool.close();
  });

  it('a call started from the signal\'s own abort listener (registered before the pool\'s) fails, and one on another signal runs', async () => {
    const pool = makePool();
    const controller = new AbortController();
    const other = new AbortController();
    const nested: Promise<unknown>[] = [];
    controller.signal.addEventListener('abort', () => {
      nested.push(settled(pool.run(never, { signal: controller.signal })));
      nested.push(settled(pool.run(() => Promise.resolve('other'), { signal: other.signal })));
    }, { once: true });
    const outer = settled(pool.run(never, { signal: controller.signal }));
    controller.abort('stop');
    expect(await outer).toMatchObject({ code: 'ERR_ABORTED', cause: 'stop' });
    expect(await Promise.all(nested)).toMatchObject([{ code: 'ERR_ABORTED', cause: 'stop' }, { value: 'other' }]);
    await turn();
    expect([listeners(controller.signal), listeners(other.signal)]).toEqual([0, 0]);
    await pool.close();
  });

  it('a call started from an ended call\'s signal listener, on the same caller signal, fails at once', async () => {
    const pool = makePool();
    const controller = new AbortController();
    let nested: Promise<unknown> | undefined;
    const outer = settled(
      pool.run((_client, call) => {
        call.signal.addEventListener('abort', () => {
          nested = settled(pool.run(never, { signal: controller.signal }));
        });
        return never();
      }, { signal: controller.signal }),
    );
    await turn();
    controller.abort('stop');
    expect(await outer).toMatchObject({ code: 'ERR_ABORTED' });
    expect(await nested).toMatchObject({ code: 'ERR_ABORTED', cause: 'stop' });
    await pool.close();
  });

  it('two pools sharing one signal each hear its abort, and neither keeps a listener once idle', async () => {
    const one = makePool();
    const two = makePool();
    const controller = new AbortController();
    await one.run(() => Promise.resolve(1), { signal: controller.signal });
    await two.run(() => Promise.resolve(2), { signal: controller.signal });
    await turn();
    expect(listeners(controller.signal)).toBe(0);
    const calls = [settled(one.run(never, { signal: controller.signal })), settled(two.run(never, { signal: controller.signal }))];
    controller.abort('both');
    expect(await Promise.all(calls)).toMatchObject([{ cause: 'both' }, { cause: 'both' }]);
    await Promise.all([one.close(), two.close()]);
  });

  it('destroy() from the first ended call\'s signal listener, while the caller\'s abort is still going through the calls on it', async () => {
    const pool = makePool();
    const controller = new AbortController();
    let destroyed: Promise<void> | undefined;
    const calls = Array.from({ length: 5 }, () =>
      settled(
        pool.run((_client, call) => {
          call.signal.addEventListener('abort', () => {
            destroyed ??= pool.destroy();
          });
          return never();
        }, { signal: controller.signal, timeout: 60_000 }),
      ),
    );
    await turn();
    controller.abort('stop');
    const errors = await Promise.all(calls);
    for (const error of errors) expect(error).toBeInstanceOf(Error);
    await destroyed;
    await turn();
    expect(listeners(controller.signal)).toBe(0);
  });

  it('a hedged call with both attempts on the caller\'s signal ends on its abort, both attempts cancelled, no listener left', async () => {
    const pool = new ClientPool<{ id: number }>({ retryBudget: false, strategy: 'round-robin' });
    pool.add({ id: 1 }, { name: 'a' });
    pool.add({ id: 2 }, { name: 'b' });
    const controller = new AbortController();
    const aborted: unknown[] = [];
    const call = settled(
      pool.run((_client, c) => {
        c.signal.addEventListener('abort', () => aborted.push(c.attempt), { once: true });
        return never();
      }, { signal: controller.signal, hedge: { delay: 5 } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    controller.abort('enough');
    expect(await call).toMatchObject({ code: 'ERR_ABORTED', cause: 'enough' });
    expect(aborted.sort()).toEqual([1, 2]);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await turn();
    expect(listeners(controller.signal)).toBe(0);
    await pool.close();
  });
});
