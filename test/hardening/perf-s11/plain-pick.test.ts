import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type Balancer, type Breaker, type CircuitState, type PoolMember, seededRandom } from '../../../src/index.js';
import { dateClock, useFakeTime } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';

useFakeTime();
vi.setConfig({ testTimeout: 5_000 });

type Client = { name: string };

function counting(pick: (ready: readonly PoolMember<Client>[]) => unknown): Balancer<Client> & { picks: number } {
  const balancer = {
    picks: 0,
    pick(ready: readonly PoolMember<Client>[]): PoolMember<Client> {
      balancer.picks++;
      return pick(ready) as PoolMember<Client>;
    },
  };
  return balancer;
}

/** Unhandled rejections seen while `body` runs and a few (fake) turns after. */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): number => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await body();
    await vi.advanceTimersByTimeAsync(20);
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

function inFlights(pool: ClientPool<Client>): number[] {
  return pool.members().map((m) => m.inFlight);
}

describe('a balancer that answers badly, for a plain call', () => {
  const cases: [string, (ready: readonly PoolMember<Client>[]) => unknown][] = [
    ['throws', () => {
      throw new Error('pick failed');
    }],
    ['returns a stranger', () => ({ name: 'x', slot: 0 })],
    ['returns a Proxy of a ready member', (ready) => new Proxy(ready[0]!, {})],
    ['returns a promise', (ready) => Promise.resolve(ready[0])],
    ['returns undefined', () => undefined],
    ['returns a Proxy whose slot getter throws', () => new Proxy({}, { get: () => { throw new Error('trap'); } })],
  ];
  for (const [what, pick] of cases) {
    it(`rejects with a CallbackError and asks it once per call when it ${what}`, async () => {
      const balancer = counting(pick);
      const pool = new ClientPool<Client>({ strategy: balancer, clock: dateClock });
      pool.add({ name: 'a' }, { name: 'a' });
      pool.add({ name: 'b' }, { name: 'b' });
      const unhandled = await unhandledDuring(async () => {
        const plain = pool.run(() => 1);
        await expect(plain).rejects.toMatchObject({ code: 'ERR_CALLBACK' });
        expect(balancer.picks).toBe(1);
        await expect(pool.run(() => 1, {})).rejects.toMatchObject({ code: 'ERR_CALLBACK' });
        expect(balancer.picks).toBe(2);
      });
      expect(unhandled).toEqual([]);
      expect(inFlights(pool)).toEqual([0, 0]);
      await pool.close();
    });
  }
});

describe('how often the balancer is asked for a plain call', () => {
  it('once per call with clients warming up after a trip (slowStart) and the order of round robin kept', async () => {
    const picked: string[] = [];
    let next = 0;
    const balancer = counting((ready) => {
      const member = ready[next++ % ready.length]!;
      picked.push(member.name);
      return member;
    });
    const pool = new ClientPool<Client>({ strategy: balancer, clock: dateClock, slowStart: { window: 10_000, minShare: 1 }, breaker: { maxFailures: 1, cooldown: 100 } });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    await expect(pool.run((c) => (c.name === 'a' ? Promise.reject(new Error('down')) : Promise.resolve(1)))).rejects.toBeDefined();
    await vi.advanceTimersByTimeAsync(150);
    // a's probe closes the circuit; it warms up from then on.
    for (let i = 0; i < 6; i++) await pool.run(() => i);
    const plainPicks = balancer.picks;
    const plainOrder = picked.slice();
    expect(plainOrder.length).toBe(plainPicks);
    expect(inFlights(pool)).toEqual([0, 0]);
    await pool.close();
  });

  it('once per call for a plain call and for the same call with empty options, with per-client caps and tiers', async () => {
    const runs: number[] = [];
    for (const options of [undefined, {}]) {
      let next = 0;
      const balancer = counting((ready) => ready[next++ % ready.length]);
      const pool = new ClientPool<Client>({ strategy: balancer, clock: dateClock });
      pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
      pool.add({ name: 'b' }, { name: 'b', maxInFlight: 1 });
      pool.add({ name: 'c' }, { name: 'c', tier: 1 });
      const held = [deferred<number>(), deferred<number>(), deferred<number>()];
      const calls = held.map((d) => pool.run(() => d.promise, options));
      await vi.advanceTimersByTimeAsync(0);
      expect(inFlights(pool)).toEqual([1, 1, 1]);
      for (const d of held) d.resolve(1);
      await Promise.all(calls);
      expect(inFlights(pool)).toEqual([0, 0, 0]);
      runs.push(balancer.picks);
      await pool.close();
    }
    expect(runs[0]).toBe(runs[1]);
  });
});

/** A breaker of our own that says closed and answers `acquire` with `admission()`. */
function breakerSaying(admission: () => false | 'call' | 'probe', extra: Partial<Breaker> = {}): Breaker {
  const state: CircuitState = { kind: 'closed' };
  return {
    state,
    acquire: admission,
    canAcquire: () => true,
    success: () => {},
    failure: () => {},
    release: () => {},
    ...extra,
  };
}

describe('a breaker of its own, for a plain call', () => {
  it('that throws in acquire: the call is refused or served elsewhere, never thrown, inFlight back to 0', async () => {
    const pool = new ClientPool<Client>({
      clock: dateClock,
      breaker: () =>
        breakerSaying(() => {
          throw new Error('acquire failed');
        }),
    });
    pool.add({ name: 'a' }, { name: 'a' });
    const warnings: unknown[] = [];
    const onWarning = (w: unknown): number => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const unhandled = await unhandledDuring(async () => {
        let result: Promise<unknown> | undefined;
        expect(() => (result = pool.run(() => 1))).not.toThrow();
        const outcome = await result!.then((v) => ({ v }), (e: unknown) => e);
        const withEmpty = await pool.run(() => 1, {}).then((v) => ({ v }), (e: unknown) => e);
        expect(outcome).toEqual(withEmpty);
      });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
    expect(inFlights(pool)).toEqual([0]);
    await pool.destroy();
  });

  it('that refuses while its state says closed sends the call to the other client', async () => {
    const pool = new ClientPool<Client>({ clock: dateClock, breaker: (() => { let n = 0; return () => breakerSaying(() => (n++ === 0 ? false : 'call')); })() });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    const served: string[] = [];
    await pool.run((c) => served.push(c.name));
    await pool.run((c) => served.push(c.name));
    expect(served.length).toBe(2);
    expect(inFlights(pool)).toEqual([0, 0]);
    await pool.destroy();
  });

  it('that answers probe while closed is told success with probe and released nothing twice', async () => {
    const told: string[] = [];
    const pool = new ClientPool<Client>({ clock: dateClock, breaker: () => breakerSaying(() => 'probe', { success: (a) => void told.push(`success ${a}`), release: (a) => void told.push(`release ${a}`) }) });
    pool.add({ name: 'a' }, { name: 'a' });
    await expect(pool.run(() => 1)).resolves.toBe(1);
    await expect(pool.run(() => 2, {})).resolves.toBe(2);
    expect(told).toEqual(['success probe', 'success probe']);
    expect(inFlights(pool)).toEqual([0]);
    await pool.destroy();
  });

  it('whose success throws: the call still resolves, inFlight back to 0, a warning only', async () => {
    const pool = new ClientPool<Client>({ clock: dateClock, breaker: () => breakerSaying(() => 'call', { success: () => { throw new Error('success failed'); } }) });
    pool.add({ name: 'a' }, { name: 'a' });
    const unhandled = await unhandledDuring(async () => {
      await expect(pool.run(() => 1)).resolves.toBe(1);
      await expect(pool.run(() => 2)).resolves.toBe(2);
    });
    expect(unhandled).toEqual([]);
    expect(inFlights(pool)).toEqual([0]);
    expect(pool.members()[0]!.successes).toBe(2);
    await pool.destroy();
  });
});

describe('a state-change listener that removes the client during the pick', () => {
  it('never has the client called after its close hook ran', async () => {
    const closed = new Set<string>();
    const calledAfterClose: string[] = [];
    const pool = new ClientPool<Client>({ clock: dateClock, breaker: { maxFailures: 1, cooldown: 100 } });
    pool.add({ name: 'a' }, { name: 'a', close: (c) => void closed.add(c.name) });
    pool.add({ name: 'b' }, { name: 'b', close: (c) => void closed.add(c.name) });
    await expect(pool.run((c) => (c.name === 'a' ? Promise.reject(new Error('down')) : Promise.resolve(1)))).rejects.toBeDefined();
    pool.onStateChange((change) => {
      if (change.to.kind === 'half-open') void pool.remove(change.client);
    });
    await vi.advanceTimersByTimeAsync(150);
    for (let i = 0; i < 4; i++) {
      await pool.run((c) => {
        if (closed.has(c.name)) calledAfterClose.push(c.name);
        return 1;
      });
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(calledAfterClose).toEqual([]);
    expect(pool.members().map((m) => m.name)).toEqual(['b']);
    expect(inFlights(pool)).toEqual([0]);
    await pool.destroy();
  });
});

describe('panic (maxEjectedPercent) and plain calls', () => {
  it('spreads plain calls over every client once too many are out, as calls with empty options do', async () => {
    const served: string[][] = [];
    for (const options of [undefined, {}]) {
      const pool = new ClientPool<Client>({ clock: dateClock, random: seededRandom(7), maxEjectedPercent: 30, breaker: { maxFailures: 1, cooldown: 10_000 } });
      pool.add({ name: 'a' }, { name: 'a' });
      pool.add({ name: 'b' }, { name: 'b' });
      pool.add({ name: 'c' }, { name: 'c' });
      await pool.run(() => Promise.reject(new Error('down')), options).catch(() => {});
      const names: string[] = [];
      for (let i = 0; i < 6; i++) await pool.run((c) => names.push(c.name), options);
      served.push(names);
      expect(inFlights(pool)).toEqual([0, 0, 0]);
      await pool.destroy();
    }
    expect(served[0]).toEqual(served[1]);
  });
});
