import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, HeightNotReachedError, InvalidOptionError, type FreshnessChange } from '../../src/index.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';

/** A node that knows its height, and counts the calls it served. */
class Node {
  calls = 0;
  constructor(
    readonly name: string,
    public height: number,
  ) {}
}

/** A pool over nodes at `heights`, heights polled every 100 ms (fake time). */
function poolOf(heights: readonly number[], freshness: { maxLag?: number; corroboration?: number } = {}): { pool: ClientPool<Node>; nodes: Node[] } {
  const pool = new ClientPool<Node>({ clock: dateClock, freshness: { height: (node) => node.height, interval: 100, timeout: 50, ...freshness } });
  const nodes = heights.map((height, i) => new Node(`n${i}`, height));
  for (const node of nodes) pool.add(node, { name: node.name });
  return { pool, nodes };
}

const serve = (node: Node): number => {
  node.calls++;
  return node.height;
};

describe('height-aware routing', () => {
  useFakeTime();

  it('sends calls only to clients at the corroborated head, flagging a lone far-ahead node', async () => {
    const { pool, nodes } = poolOf([100, 100, 95, 10_000_000], { maxLag: 3 });
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 0; i < 10_000; i++) await pool.run(serve);
    expect(nodes.map((n) => n.calls)).toEqual([5_000, 5_000, 0, 0]);
    const members = pool.members();
    expect(members.map((m) => m.freshness)).toEqual(['fresh', 'fresh', 'lagging', 'ahead']);
    expect(members.map((m) => m.lag)).toEqual([0, 0, 5, 100 - 10_000_000]);
    expect(members.map((m) => m.height)).toEqual([100, 100, 95, 10_000_000]);
    await pool.close();
  });

  it('a client exactly maxLag behind or ahead of the head is in sync; one more is out', async () => {
    // Three clients make the head: 100.
    const { pool } = poolOf([100, 100, 100, 97, 103, 96, 104], { maxLag: 3, corroboration: 3 });
    await vi.advanceTimersByTimeAsync(100);
    expect(pool.members().map((m) => m.freshness)).toEqual(['fresh', 'fresh', 'fresh', 'fresh', 'fresh', 'lagging', 'ahead']);
    await pool.close();
  });

  it('panic routing spreads calls over open clients, never over a stale one', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock, maxEjectedPercent: 25, breaker: { maxFailures: 1, cooldown: 60_000 }, freshness: { height: (node) => node.height, interval: 100, maxLag: 3 } });
    const nodes = [new Node('a', 100), new Node('b', 90), new Node('c', 100), new Node('d', 100)];
    for (const node of nodes) pool.add(node, { name: node.name });
    await vi.advanceTimersByTimeAsync(100);
    // c and d fail once each and open: two of four out, over the 25 % panic threshold.
    const failing = (node: Node): number => {
      node.calls++;
      if (node.name === 'c' || node.name === 'd') throw new Error('down');
      return node.height;
    };
    for (let i = 0; i < 200; i++) await pool.run(failing).catch(() => undefined);
    expect(pool.members().filter((m) => m.state.kind === 'open').map((m) => m.name)).toEqual(['c', 'd']);
    expect(nodes[1]!.calls).toBe(0);
    expect(nodes[2]!.calls + nodes[3]!.calls).toBeGreaterThan(2);
    await pool.close();
  });

  it('a minHeight call never reaches a client below it', async () => {
    const { pool, nodes } = poolOf([100, 100, 95]);
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 0; i < 1_000; i++) expect(await pool.run(serve, { minHeight: 100 })).toBe(100);
    expect(nodes[2]!.calls).toBe(0);
    await pool.close();
  });

  it('a lagging client comes back once it catches up, and listeners hear both moves', async () => {
    const { pool, nodes } = poolOf([100, 100, 90], { maxLag: 3 });
    const changes: FreshnessChange[] = [];
    pool.onFreshnessChange((change) => changes.push(change));
    await vi.advanceTimersByTimeAsync(100);
    expect(changes.filter((c) => c.client === 'n2')).toEqual([{ client: 'n2', freshness: 'lagging', height: 90, head: 100 }]);
    nodes[2]!.height = 99;
    await vi.advanceTimersByTimeAsync(100);
    expect(changes.filter((c) => c.client === 'n2').at(-1)).toEqual({ client: 'n2', freshness: 'fresh', height: 99, head: 100 });
    for (let i = 0; i < 30; i++) await pool.run(serve);
    expect(nodes[2]!.calls).toBe(10);
    await pool.close();
  });

  it('with fewer clients reporting than the corroboration, nobody is excluded', async () => {
    const { pool, nodes } = poolOf([100, 5], { maxLag: 3, corroboration: 3 });
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 0; i < 10; i++) await pool.run(serve);
    expect(nodes.map((n) => n.calls)).toEqual([5, 5]);
    expect(pool.members().map((m) => m.freshness)).toEqual(['unknown', 'unknown']);
    await pool.close();
  });

  it('a corroboration of 1 follows the highest client', async () => {
    const { pool, nodes } = poolOf([100, 50], { maxLag: 3, corroboration: 1 });
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 0; i < 10; i++) await pool.run(serve);
    expect(nodes.map((n) => n.calls)).toEqual([10, 0]);
    await pool.close();
  });

  it('removing a client the head rested on keeps the head while another client is still at it', async () => {
    const { pool, nodes } = poolOf([100, 100, 90], { maxLag: 3 });
    await vi.advanceTimersByTimeAsync(100);
    await pool.remove('n0');
    // Alone at 100, n1 no longer corroborates the head by count; the head does not drop while it is in sync.
    expect(pool.members().map((m) => [m.name, m.freshness])).toEqual([
      ['n1', 'fresh'],
      ['n2', 'lagging'],
    ]);
    for (let i = 0; i < 4; i++) await pool.run(serve);
    expect(nodes[2]!.calls).toBe(0);
    await pool.close();
  });

  it('heights going back (nodes restarting at 0) do not drag the head down nor push the good node out', async () => {
    const { pool, nodes } = poolOf([100, 100, 99], { maxLag: 3 });
    await vi.advanceTimersByTimeAsync(100);
    nodes[0]!.height = nodes[1]!.height = 0;
    await vi.advanceTimersByTimeAsync(100);
    expect(pool.members().map((m) => m.freshness)).toEqual(['lagging', 'lagging', 'fresh']);
    await expect(pool.run(serve, { minHeight: 99 })).resolves.toBe(99);
    await pool.close();
  });

  it('once no client is in sync with the head any more (a chain reset), the head follows the clients down', async () => {
    const { pool, nodes } = poolOf([100, 100, 99], { maxLag: 3 });
    await vi.advanceTimersByTimeAsync(100);
    for (const node of nodes) node.height = 5;
    await vi.advanceTimersByTimeAsync(100);
    expect(pool.members().map((m) => [m.freshness, m.lag])).toEqual([
      ['fresh', 0],
      ['fresh', 0],
      ['fresh', 0],
    ]);
    await pool.close();
  });


});

describe('minHeight picks, on real time', () => {
  it('property: no pick is ever below minHeight, whatever the heights', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 50 }), async (heights, minHeight) => {
        const pool = new ClientPool<Node>({ maxWait: 0 });
        const nodes = heights.map((height, i) => new Node(`n${i}`, height));
        for (const node of nodes) pool.add(node, { name: node.name });
        // Heights from the calls themselves.
        for (let i = 0; i < nodes.length; i++) await pool.run((node, call) => call.reportHeight(node.height));
        for (let i = 0; i < 20; i++) {
          const result = await pool.run(serve, { minHeight }).catch((error: unknown) => error);
          if (result instanceof HeightNotReachedError) expect(Math.max(...heights)).toBeLessThan(minHeight);
          else expect(result).toBeGreaterThanOrEqual(minHeight);
        }
        await pool.close();
      }),
      { numRuns: 100 },
    );
  });
});

describe('minHeight waits (read-your-writes)', () => {
  useFakeTime();

  it('waits until a client in sync reaches the height, then reads from it', async () => {
    const { pool, nodes } = poolOf([100, 100]);
    await vi.advanceTimersByTimeAsync(100);
    const read = pool.run(serve, { minHeight: 101, maxWait: 1_000 });
    await vi.advanceTimersByTimeAsync(100);
    nodes[1]!.height = 101;
    await vi.advanceTimersByTimeAsync(100);
    await expect(read).resolves.toBe(101);
    expect(nodes[0]!.calls).toBe(0);
    await pool.close();
  });

  it('fails with HeightNotReachedError after maxWait', async () => {
    const { pool } = poolOf([100, 100]);
    await vi.advanceTimersByTimeAsync(100);
    const read = pool.run(serve, { minHeight: 200, maxWait: 250 });
    const settled = expect(read).rejects.toMatchObject({ code: 'ERR_HEIGHT_NOT_REACHED', minHeight: 200, highest: 100 });
    await vi.advanceTimersByTimeAsync(250);
    await settled;
    await pool.close();
  });

  it('a height reported by a call releases the waiter', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock });
    const node = new Node('a', 0);
    pool.add(node, { name: 'a' });
    const read = pool.run(serve, { minHeight: 7, maxWait: 1_000 });
    await pool.run((n, call) => call.reportHeight(7n));
    await expect(read).resolves.toBe(0);
    await pool.close();
  });

  it('an abort while waiting rejects with ERR_ABORTED at once', async () => {
    const { pool } = poolOf([100, 100]);
    await vi.advanceTimersByTimeAsync(100);
    const controller = new AbortController();
    const read = pool.run(serve, { minHeight: 200, maxWait: 10_000, signal: controller.signal });
    controller.abort(new Error('gone'));
    await expect(read).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await pool.close();
  });

  it('close() while waiting rejects with ERR_POOL_CLOSED and leaves no timer', async () => {
    const { pool } = poolOf([100, 100]);
    await vi.advanceTimersByTimeAsync(100);
    const read = pool.run(serve, { minHeight: 200, maxWait: 10_000 });
    const settled = expect(read).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    await pool.close();
    await settled;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the call deadline cuts the wait: ERR_DEADLINE_EXCEEDED', async () => {
    const { pool } = poolOf([100, 100]);
    await vi.advanceTimersByTimeAsync(100);
    const read = pool.run(serve, { minHeight: 200, maxWait: 10_000, deadline: 300 });
    const settled = expect(read).rejects.toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED' });
    await vi.advanceTimersByTimeAsync(300);
    await settled;
    await pool.close();
  });
});

describe('freshness input', () => {
  it.each([
    [{ maxLag: -1 }, 'freshness.maxLag'],
    [{ maxLag: Number.NaN }, 'freshness.maxLag'],
    [{ corroboration: 0 }, 'freshness.corroboration'],
    [{ corroboration: 1.5 }, 'freshness.corroboration'],
    [{ corroboration: 1_001 }, 'freshness.corroboration'],
    [{ height: 'x' }, 'freshness.height'],
    [{ interval: 100 }, 'freshness.height'],
    [{ height: (): number => 1, interval: 0 }, 'freshness.interval'],
    [{ height: (): number => 1, timeout: 2 ** 31 }, 'freshness.timeout'],
    [{ maxlag: 3 }, 'freshness.maxlag'],
  ])('refuses freshness %o naming %s', (freshness, option) => {
    expect(() => new ClientPool({ freshness: freshness as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option }));
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 53, -1n, 2n ** 53n, '5'])('refuses minHeight %s', async (minHeight) => {
    const pool = new ClientPool<Node>();
    pool.add(new Node('a', 1));
    await expect(pool.run(serve, { minHeight: minHeight as number })).rejects.toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('a bad reportHeight throws InvalidOptionError out of the function, and the height stays', async () => {
    const pool = new ClientPool<Node>();
    pool.add(new Node('a', 1), { name: 'a' });
    await expect(pool.run((n, call) => call.reportHeight(-5))).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'reportHeight' });
    expect(pool.members()[0]!.height).toBeUndefined();
    await pool.close();
  });
});

describe('height polls', () => {
  useFakeTime();

  it('a poll that answers no height is warned of and leaves the height as it was', async () => {
    const warnings: unknown[] = [];
    const onWarning = (warning: unknown): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      let answer: unknown = 10;
      const pool = new ClientPool<Node>({ clock: dateClock, freshness: { height: () => answer as number, interval: 100 } });
      pool.add(new Node('a', 0), { name: 'a' });
      await vi.advanceTimersByTimeAsync(100);
      answer = 'eleven';
      await vi.advanceTimersByTimeAsync(100);
      expect(pool.members()[0]!.height).toBe(10);
      await pool.close();
      await vi.advanceTimersByTimeAsync(0);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'CLIENTPOOL_CALLBACK_ERROR' }));
  });

  it('a poll that never answers times out, and close() leaves no timer', async () => {
    const pool = new ClientPool<Node>({ clock: dateClock, freshness: { height: () => new Promise<number>(() => {}), interval: 100, timeout: 50 } });
    pool.add(new Node('a', 0), { name: 'a' });
    await vi.advanceTimersByTimeAsync(500);
    expect(pool.members()[0]!.height).toBeUndefined();
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
