import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AllCircuitsOpenError, ClientPool, seededRandom, type HealthChange } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

interface Fake {
  readonly id: string;
}

describe('outlier protection: maxEjectedPercent', () => {
  it('past the cap, traffic spreads over every client instead of the last one', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, random: seededRandom(3), maxEjectedPercent: 50, breaker: { maxFailures: 1, cooldown: 60_000 } });
    for (const id of ['a', 'b', 'c', 'd']) pool.add({ id }, { name: id });
    // Open a, b, c (3 of 4 = 75 % > 50 %).
    for (const id of ['a', 'b', 'c']) await pool.run(() => Promise.reject(new Error(id)), { strategy: { pick: (ready) => ready.find((m) => m.name === id)! } }).catch(() => 0);
    expect(pool.members().filter((m) => m.state.kind === 'open')).toHaveLength(3);
    const served = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const id = await pool.run((client) => client.id);
      served.set(id, (served.get(id) ?? 0) + 1);
    }
    expect([...served.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const count of served.values()) expect(count).toBeGreaterThan(50);
  });

  it('at exactly the cap, traffic stays on the clients still in', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, random: seededRandom(3), maxEjectedPercent: 50, breaker: { maxFailures: 1, cooldown: 60_000 } });
    for (const id of ['a', 'b', 'c', 'd']) pool.add({ id }, { name: id });
    // Open a and b: 2 of 4 = 50 %, at the cap and not past it.
    for (const id of ['a', 'b']) await pool.run(() => Promise.reject(new Error(id)), { strategy: { pick: (ready) => ready.find((m) => m.name === id)! } }).catch(() => 0);
    expect(pool.members().filter((m) => m.state.kind === 'open')).toHaveLength(2);
    const served = new Set<string>();
    for (let i = 0; i < 200; i++) served.add(await pool.run((client) => client.id));
    expect([...served].sort()).toEqual(['c', 'd']);
  });

  it('at 100 % (the default) every open circuit fails fast as the original did', async () => {
    const pool = new ClientPool<Fake>({ breaker: { maxFailures: 1 } });
    pool.add({ id: 'a' });
    await pool.run(() => Promise.reject(new Error('x'))).catch(() => 0);
    await expect(pool.run(() => 1)).rejects.toBeInstanceOf(AllCircuitsOpenError);
  });

  it('validates the percentage', () => {
    expect(() => new ClientPool({ maxEjectedPercent: 150 })).toThrow(/maxEjectedPercent must be a number from 0 to 100, got 150/);
  });
});

describe('slow start', () => {
  it('a client back from an open circuit ramps its share up over the window', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, random: seededRandom(11), slowStart: { window: 10_000, minShare: 0.1 }, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b' });
    await pool.run(() => Promise.reject(new Error('a down'))).catch(() => 0); // round robin: a first
    clock.advance(1_000);
    await pool.run(() => 'probe', { strategy: { pick: (ready) => ready.find((m) => m.name === 'a') ?? ready[0]! } }); // a closes
    const shareOfA = async (): Promise<number> => {
      let a = 0;
      for (let i = 0; i < 1_000; i++) if ((await pool.run((client) => client.id)) === 'a') a++;
      return a / 1_000;
    };
    const early = await shareOfA();
    clock.advance(5_000);
    const middle = await shareOfA();
    clock.advance(5_000);
    const full = await shareOfA();
    expect(early).toBeLessThan(0.2);
    expect(middle).toBeGreaterThan(early);
    expect(middle).toBeLessThan(0.45);
    expect(full).toBeCloseTo(0.5, 1);
  });

  it('a client back from an open circuit gets minShare of its picks from the first moment', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, random: seededRandom(7), slowStart: { window: 10_000, minShare: 0.5 }, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b' });
    await pool.run(() => Promise.reject(new Error('a down'))).catch(() => 0); // round robin: a first
    clock.advance(1_000);
    await pool.run(() => 'probe', { strategy: { pick: (ready) => ready.find((m) => m.name === 'a') ?? ready[0]! } }); // a closes
    let a = 0;
    // The clock stands still: the share is minShare of a's round-robin half throughout.
    for (let i = 0; i < 1_000; i++) if ((await pool.run((client) => client.id)) === 'a') a++;
    expect(a / 1_000).toBeGreaterThan(0.15);
    expect(a / 1_000).toBeLessThan(0.4);
  });

  it('the first clients of a pool take their full share at once', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, slowStart: { window: 10_000 } });
    pool.add({ id: 'a' });
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) served.add(await pool.run((client) => client.id));
    expect([...served]).toEqual(['a']);
  });
});

describe('active health checks', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('marks a failing client down after unhealthyThreshold checks and back after healthyThreshold', async () => {
    const healthy = new Set(['a', 'b']);
    const pool = new ClientPool<Fake>({
      clock: { now: () => Date.now() },
      healthCheck: {
        check: (client) => {
          if (!healthy.has(client.id)) throw new Error(`${client.id} unhealthy`);
        },
        interval: 1_000,
        unhealthyThreshold: 2,
        healthyThreshold: 3,
      },
    });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b' });
    const changes: HealthChange[] = [];
    pool.onHealthChange((change) => changes.push(change));
    healthy.delete('a');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(changes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(changes).toEqual([{ client: 'a', isDown: true }]);
    for (let i = 0; i < 6; i++) expect(await pool.run((client) => client.id)).toBe('b');
    healthy.add('a');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(changes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(changes).toEqual([{ client: 'a', isDown: true }, { client: 'a', isDown: false }]);
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) served.add(await pool.run((client) => client.id));
    expect([...served].sort()).toEqual(['a', 'b']);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a check that hangs fails by its timeout, and the error lists a down client', async () => {
    const pool = new ClientPool<Fake>({
      clock: { now: () => Date.now() },
      healthCheck: { check: () => new Promise(() => undefined), interval: 10_000, timeout: 100, unhealthyThreshold: 1 },
    });
    pool.add({ id: 'a' }, { name: 'a' });
    const round = pool.checkHealth();
    await vi.advanceTimersByTimeAsync(100);
    await round;
    const error = await pool.run(() => 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllCircuitsOpenError);
    expect((error as AllCircuitsOpenError).clients).toEqual([{ name: 'a', state: 'down', retryAfterMs: 0 }]);
    await pool.close();
  });

  it('the check timer does not keep the process alive and stops on close', async () => {
    const pool = new ClientPool<Fake>({ healthCheck: { check: () => true, interval: 1_000 } });
    expect(vi.getTimerCount()).toBe(1);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('validates its options', () => {
    expect(() => new ClientPool({ healthCheck: { check: 'ping' as unknown as () => void } })).toThrow(/healthCheck.check must be a function, got "ping"/);
    expect(() => new ClientPool({ healthCheck: { check: () => true, interval: 0 } })).toThrow(/healthCheck.interval must be a duration in ms > 0 and <= 2147483647, got 0/);
  });
});
