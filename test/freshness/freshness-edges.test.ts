import { describe, expect, it, vi } from 'vitest';
import { AllCircuitsOpenError, ClientPool, InvalidOptionError, type Call, type RunOptions } from '../../src/index.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';

interface Node {
  readonly name: string;
  height: number;
  calls: number;
}
const node = (name: string, height: number): Node => ({ name, height, calls: 0 });
const serve = (n: Node): number => {
  n.calls++;
  return n.height;
};
const only = (name: string): { pick(ready: readonly { readonly name: string }[]): never } => ({ pick: (ready) => ready.find((m) => m.name === name) as never });

/** One `Call` per client, kept after its call, through which the test reports that client's height. */
async function calls(pool: ClientPool<Node>, names: readonly string[]): Promise<Map<string, Call<Node>>> {
  const kept = new Map<string, Call<Node>>();
  for (const name of names) await pool.run((_n, call) => void kept.set(name, call), { strategy: only(name) });
  return kept;
}

useFakeTime();

describe('freshness under re-entrant listeners', () => {
  it('a listener that reports a height while the pool is being placed leaves every client placed against the final head', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock, freshness: { maxLag: 2, corroboration: 1 } });
    for (const name of ['a', 'b', 'c']) pool.add(node(name, 100), { name });
    const stash = await calls(pool, ['a', 'b', 'c']);
    for (const call of stash.values()) call.reportHeight(100);
    await vi.advanceTimersByTimeAsync(0);
    let reported = false;
    pool.onFreshnessChange(({ freshness }) => {
      if (freshness === 'lagging' && !reported) {
        reported = true;
        stash.get('b')!.reportHeight(120);
      }
    });
    stash.get('c')!.reportHeight(103);
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.members().map((m) => [m.name, m.height, m.freshness, m.lag])).toEqual([
      ['a', 100, 'lagging', 20],
      ['b', 120, 'fresh', 0],
      ['c', 103, 'lagging', 17],
    ]);
    await pool.close();
  });

  it('a listener that removes clients while the pool is being placed leaves the rest placed against the head they make', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock, freshness: { height: (n) => n.height, interval: 100, maxLag: 3 } });
    for (const [name, height] of [['a', 100], ['b', 100], ['c', 50], ['d', 50]] as const) pool.add(node(name, height), { name });
    // On the first client found lagging, the two at the head go: no client is in sync with it any more.
    pool.onFreshnessChange(({ freshness }) => {
      if (freshness === 'lagging' && pool.size === 4) {
        void pool.remove('a');
        void pool.remove('b');
      }
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.members().map((m) => [m.name, m.freshness, m.lag])).toEqual([
      ['c', 'fresh', 0],
      ['d', 'fresh', 0],
    ]);
    await expect(pool.run(serve)).resolves.toBe(50);
    await pool.close();
  });

});

describe('minHeight with tiers, busy clients and an empty pool', () => {
  it('is served by a later tier when only it has the height', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock, freshness: { height: (n) => n.height, interval: 100 } });
    for (const [name, height, tier] of [['p0', 95, 0], ['p1', 95, 0], ['s0', 100, 1], ['s1', 100, 1]] as const) pool.add(node(name, height), { name, tier });
    await vi.advanceTimersByTimeAsync(0);
    await expect(pool.run(serve, { minHeight: 100, maxWait: 500 })).resolves.toBe(100);
    // Without minHeight, tier 0 serves as before.
    await expect(pool.run(serve)).resolves.toBe(95);
    await pool.close();
  });


  it('waits for the client at its height that is busy, rather than failing at once', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock, freshness: { height: (n) => n.height, interval: 10 } });
    pool.add(node('a', 100), { name: 'a' });
    pool.add(node('c', 101), { name: 'c', maxInFlight: 1 });
    await vi.advanceTimersByTimeAsync(10);
    const busy = pool.run((n) => new Promise<number>((resolve) => setTimeout(() => resolve(serve(n)), 50)), { strategy: only('c') });
    const read = pool.run(serve, { minHeight: 101, maxWait: 1_000 }).then((height) => ({ height, at: Date.now() }));
    await vi.advanceTimersByTimeAsync(100);
    await busy;
    expect(await read).toEqual({ height: 101, at: expect.any(Number) as unknown });
    expect((await read).at).toBeGreaterThanOrEqual(60);
    await pool.close();
  });

  it('a waiter for a height no client in sync has does not hold up plain calls behind it', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock, freshness: { height: (n) => n.height, interval: 10 } });
    pool.add(node('a', 100), { name: 'a' });
    pool.add(node('c', 101), { name: 'c', maxInFlight: 1 });
    await vi.advanceTimersByTimeAsync(10);
    const busy = pool.run((n) => new Promise<number>((resolve) => setTimeout(() => resolve(serve(n)), 500)), { strategy: only('c') });
    const read = pool.run(serve, { minHeight: 101, maxWait: 1_000 });
    const plain = pool.run(serve, { strategy: only('a') }).then(() => Date.now());
    await vi.advanceTimersByTimeAsync(20);
    expect(await plain).toBeLessThan(30);
    await vi.advanceTimersByTimeAsync(600);
    await busy;
    await expect(read).resolves.toBe(101);
    await pool.close();
  });

  it('an empty pool fails a minHeight call at once with NoClientsError', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock });
    await expect(pool.run(serve, { minHeight: 5, maxWait: 10_000 })).rejects.toMatchObject({ code: 'ERR_NO_CLIENTS' });
    await pool.close();
  });

  it('a getter that hides minHeight from the check cannot slip it into a shared flight', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock });
    pool.add(node('a', 1), { name: 'a' });
    let reads = 0;
    // A getter that answers undefined first: the attack this pins (the types would refuse it).
    const options = {
      coalesce: 'k',
      get minHeight(): number | undefined {
        return reads++ === 0 ? undefined : 5;
      },
    };
    // The shared flight runs without minHeight: served at once, not after a wait for height 5.
    await expect(pool.run(serve, options as RunOptions<Node>)).resolves.toBe(1);
    await pool.close();
  });

  it('is refused with coalesce: a shared or cached answer knows nothing of its height', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock });
    pool.add(node('a', 1));
    await expect(pool.run(serve, { minHeight: 5, coalesce: 'k' })).rejects.toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });
});

describe('height polls over time', () => {
  it('a height whose polls keep failing becomes unknown and stops holding the head', async () => {
    let frozen = false;
    const pool = new ClientPool<Node>({
      clock: dateClock,
      freshness: { height: (n) => (frozen && n.name !== 'c' ? new Promise<number>(() => {}) : n.height), interval: 100, timeout: 5, maxLag: 3 },
    });
    const nodes = [node('a', 100), node('b', 100), node('c', 100)];
    for (const n of nodes) pool.add(n, { name: n.name });
    await vi.advanceTimersByTimeAsync(100);
    frozen = true;
    nodes[2]!.height = 110;
    await vi.advanceTimersByTimeAsync(400);
    expect(pool.members().map((m) => [m.name, m.height, m.freshness])).toEqual([
      ['a', undefined, 'unknown'],
      ['b', undefined, 'unknown'],
      ['c', 110, 'unknown'],
    ]);
    await expect(pool.run(serve, { minHeight: 110 })).resolves.toBe(110);
    await pool.close();
  });

  it('a poll that answers something that is no height counts as failing: the stale height stops holding the head', async () => {
    let garbage = false;
    const pool = new ClientPool<Node>({ clock: dateClock, freshness: { height: (n) => (garbage && n.name !== 'c' ? Number.NaN : n.height), interval: 100, maxLag: 3 } });
    const nodes = [node('a', 100), node('b', 100), node('c', 100)];
    for (const n of nodes) pool.add(n, { name: n.name });
    await vi.advanceTimersByTimeAsync(100);
    garbage = true;
    nodes[2]!.height = 200;
    await vi.advanceTimersByTimeAsync(400);
    expect(pool.members().map((m) => [m.name, m.height, m.freshness])).toEqual([
      ['a', undefined, 'unknown'],
      ['b', undefined, 'unknown'],
      ['c', 200, 'unknown'],
    ]);
    await expect(pool.run(serve, { minHeight: 200 })).resolves.toBe(200);
    await pool.close();
  });

  it('a client added to a running pool is polled at once, and leaves the rotation before it serves a read', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock, freshness: { height: (n) => n.height, interval: 1_000, maxLag: 3 } });
    for (const n of [node('a', 1_000), node('b', 1_000)]) pool.add(n, { name: n.name });
    await vi.advanceTimersByTimeAsync(0);
    const late = node('late', 5);
    pool.add(late, { name: 'late' });
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 30; i++) await pool.run(serve);
    expect(late.calls).toBe(0);
    expect(pool.members().find((m) => m.name === 'late')?.freshness).toBe('lagging');
    await pool.close();
  });

  it('the poll of a removed client is aborted before its close hook runs', async () => {
    const signals = new Map<string, AbortSignal>();
    const pool = new ClientPool<Node>({
      clock: dateClock,
      freshness: {
        height: (n, signal) => {
          signals.set(n.name, signal);
          return new Promise<number>(() => {});
        },
        interval: 100,
        timeout: 10_000,
      },
    });
    let abortedBeforeClose: boolean | undefined;
    pool.add(node('a', 1), { name: 'a', close: () => void (abortedBeforeClose = signals.get('a')?.aborted) });
    await vi.advanceTimersByTimeAsync(0);
    expect(signals.get('a')?.aborted).toBe(false);
    await pool.remove('a');
    expect(abortedBeforeClose).toBe(true);
    await pool.close();
  });
});

describe('errors of a pool whose clients are out of sync', () => {
  it('AllCircuitsOpenError names a lagging client as lagging, and it sets no retry time', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock, breaker: { maxFailures: 1, cooldown: 5_000 }, freshness: { height: (n) => n.height, interval: 100, maxLag: 3 } });
    for (const n of [node('a', 100), node('b', 100), node('c', 90)]) pool.add(n, { name: n.name });
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 0; i < 2; i++) await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    const error = await pool.run(serve).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllCircuitsOpenError);
    expect((error as AllCircuitsOpenError).message).toContain('c (lagging of the head)');
    expect((error as AllCircuitsOpenError).retryAfterMs).toBeGreaterThan(4_000);
    await pool.close();
  });
});

describe('picky waits that no client can end', () => {
  it('a minHeight wait ends at once when the only client at the height is removed while the others are busy', async () => {
    const heights: Record<string, number> = { a: 103, b: 100, c: 100 };
    const pool = new ClientPool<Node>({ clock: dateClock, maxWait: 2_000, freshness: { maxLag: 5, height: (n) => heights[n.name]!, interval: 60_000 } });
    for (const name of ['a', 'b', 'c']) pool.add(node(name, heights[name]!), { name, maxInFlight: 1 });
    await vi.advanceTimersByTimeAsync(0);
    const release: (() => void)[] = [];
    const hold = (minHeight?: number): Promise<unknown> => pool.run(() => new Promise<void>((resolve) => release.push(resolve)), minHeight === undefined ? {} : { minHeight });
    const held = [hold(103), hold(), hold()];
    const read = pool.run(serve, { minHeight: 103 }).then(
      () => ({ at: Date.now() }),
      (error: unknown) => ({ error, at: Date.now() }),
    );
    await vi.advanceTimersByTimeAsync(20);
    const removed = pool.remove('a');
    await vi.advanceTimersByTimeAsync(20);
    const { error, at } = (await read) as { error?: { code: string; highest: number }; at: number };
    expect(error).toMatchObject({ code: 'ERR_HEIGHT_NOT_REACHED', highest: 100 });
    expect(at).toBeLessThan(100);
    for (const resolve of release) resolve();
    await Promise.all(held);
    await removed;
    await pool.close();
  });

  it('a minHeight wait is not refused by the tokens of clients it would not take', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock, freshness: { height: (n) => n.height, interval: 60_000 } });
    pool.add(node('a', 103), { name: 'a', maxInFlight: 1 });
    pool.add(node('b', 100), { name: 'b', limit: { rate: 1, burst: 1 } });
    await vi.advanceTimersByTimeAsync(0);
    await pool.run(serve, { strategy: only('b') });
    let releaseA!: () => void;
    const busy = pool.run(() => new Promise<void>((resolve) => (releaseA = resolve)), { strategy: only('a') });
    // b's next token is 1 s away, past maxWait; a frees its slot at 150 ms.
    const read = pool.run(serve, { minHeight: 103, maxWait: 300 });
    await vi.advanceTimersByTimeAsync(150);
    releaseA();
    await busy;
    await vi.advanceTimersByTimeAsync(10);
    await expect(read).resolves.toBe(103);
    await pool.close();
  });
});
