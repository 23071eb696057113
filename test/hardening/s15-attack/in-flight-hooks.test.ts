// Balancers' onInFlight hooks hear every change of a member's in-flight count, whichever path the call
// took (the lane, retries, a race), including a balancer that joins after calls started.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, InvalidOptionError, type Balancer, type PoolMember } from '../../../src/index.js';
import { dateClock, settled, type Fake } from './harness.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake' });

/** A balancer keeping its own copy of each member's in-flight count from its hooks only. */
function mirroring(): { balancer: Balancer<Fake>; seen: Map<string, number>; calls: number } {
  const seen = new Map<string, number>();
  const state = { calls: 0 };
  const balancer: Balancer<Fake> = {
    pick: (ready: readonly PoolMember<Fake>[]) => {
      // Least in flight by its own copy; ties to the first.
      let best = ready[0]!;
      for (const m of ready) if ((seen.get(m.name) ?? 0) < (seen.get(best.name) ?? 0)) best = m;
      return best;
    },
    onReady: (member) => {
      seen.set(member.name, member.inFlight);
    },
    onInFlight: (member) => {
      state.calls++;
      seen.set(member.name, member.inFlight);
    },
  };
  return {
    balancer,
    seen,
    get calls() {
      return state.calls;
    },
  };
}

const snapshot = (pool: ClientPool<Fake>): Map<string, number> => new Map(pool.members().map((m) => [m.name, m.inFlight]));

describe('onInFlight hooks', () => {
  const WAYS = [
    { name: 'no options (the lane)', options: undefined },
    { name: 'a method (the first lane)', options: { method: 'get' } },
    { name: 'retries', options: { retry: { attempts: 2, backoff: { initial: 0, max: 0 } } } },
    { name: 'a timeout (raced)', options: { timeout: 10_000 } },
    { name: 'a hedge', options: { hedge: { delay: 5 } } },
  ] as const;
  for (const { name, options } of WAYS) {
    it(`${name}: the hooks' copy of every in-flight count matches the pool's, during and after the calls`, async () => {
      const m = mirroring();
      const pool = new ClientPool<Fake>({ clock: dateClock, strategy: m.balancer, retryBudget: false });
      for (const n of ['a', 'b', 'c']) pool.add({ id: n }, { name: n });
      const releases: (() => void)[] = [];
      const calls = Array.from({ length: 5 }, (_, i) =>
        pool.run(
          (client) =>
            new Promise<string>((resolve, reject) => {
              releases.push(() => (i % 2 === 0 ? resolve(client.id) : reject(new Error('down'))));
            }),
          options,
        ).catch((error: unknown) => error),
      );
      await vi.advanceTimersByTimeAsync(10);
      expect(m.seen).toEqual(snapshot(pool));
      expect([...snapshot(pool).values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      while (releases.length > 0) {
        releases.shift()!();
        await vi.advanceTimersByTimeAsync(1);
        expect(m.seen).toEqual(snapshot(pool));
      }
      await Promise.allSettled(calls);
      await vi.advanceTimersByTimeAsync(10);
      for (let i = 0; i < 10 && releases.length > 0; i++) {
        while (releases.length > 0) releases.shift()!();
        await vi.advanceTimersByTimeAsync(10);
      }
      expect(m.seen).toEqual(new Map([['a', 0], ['b', 0], ['c', 0]]));
      expect(snapshot(pool)).toEqual(new Map([['a', 0], ['b', 0], ['c', 0]]));
      await pool.close();
    });
  }

  it("a balancer by name joining through a call's strategy after calls started sees the counts of those calls", async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock });
    for (const n of ['a', 'b']) pool.add({ id: n }, { name: n });
    const releases = new Map<string, (() => void)[]>([['a', []], ['b', []]]);
    const hold = (client: Fake): Promise<string> => new Promise((resolve) => releases.get(client.id)!.push(() => resolve(client.id)));
    // Round robin: a, b, a: a has 2 in flight, b 1.
    const plain = [pool.run(hold), pool.run(hold), pool.run(hold)];
    expect(snapshot(pool)).toEqual(new Map([['a', 2], ['b', 1]]));
    // least-in-flight joins now: its first pick is b.
    const first = pool.run(hold, { strategy: 'least-in-flight' });
    await vi.advanceTimersByTimeAsync(0);
    expect(snapshot(pool)).toEqual(new Map([['a', 2], ['b', 2]]));
    // Both a calls end (told only through onInFlight, since least-in-flight joined after they started).
    releases.get('a')!.splice(0).forEach((r) => r());
    await Promise.all([plain[0], plain[2]]);
    expect(snapshot(pool)).toEqual(new Map([['a', 0], ['b', 2]]));
    const second = pool.run(hold, { strategy: 'least-in-flight' });
    await vi.advanceTimersByTimeAsync(0);
    expect(snapshot(pool)).toEqual(new Map([['a', 1], ['b', 2]]));
    releases.get('a')!.splice(0).forEach((r) => r());
    releases.get('b')!.splice(0).forEach((r) => r());
    expect((await settled(Promise.all([first, second, plain[1]]))).value).toEqual(['b', 'a', 'b']);
    await pool.close();
  });

  it('a balancer with an onInFlight hook given as a call strategy is refused with InvalidOptionError naming strategy', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock });
    pool.add({ id: 'a' }, { name: 'a' });
    const balancer: Balancer<Fake> = { pick: (ready) => ready[0]!, onInFlight: () => undefined };
    const error = await pool.run(() => 1, { strategy: balancer }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('strategy');
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it("a method's balancer with an onInFlight hook hears the calls of every method (the hook joins at construction)", async () => {
    const m = mirroring();
    const pool = new ClientPool<Fake>({ clock: dateClock, methods: { get: { strategy: m.balancer } } });
    for (const n of ['a', 'b']) pool.add({ id: n }, { name: n });
    let release!: () => void;
    const call = pool.run(() => new Promise<number>((resolve) => (release = () => resolve(1))));
    await vi.advanceTimersByTimeAsync(0);
    expect(m.seen).toEqual(snapshot(pool));
    release();
    await call;
    expect(m.seen).toEqual(new Map([['a', 0], ['b', 0]]));
    // Its own calls go by its copy: a (ties to the first) while idle.
    const got = await pool.run((client) => client.id, { method: 'get' });
    expect(got).toBe('a');
    await pool.close();
  });
});
