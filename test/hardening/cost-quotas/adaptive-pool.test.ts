// Attack: adaptive maxInFlight wired into the pool, with clocks that throw or step back, hostile options,
// and many clients.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type Clock } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { recordWarnings } from '../../helpers/warnings.js';
import { unhandledDuring } from '../../helpers/unhandled.js';

interface Key {
  readonly id: string;
}

describe('adaptive maxInFlight: hostile options', () => {
  it.each([
    ['a Proxy whose traps all throw', new Proxy({}, { has() { throw new Error('has'); }, get() { throw new Error('get'); }, ownKeys() { throw new Error('keys'); } }), 'maxInFlight'],
    ['an adaptive getter that throws', { get adaptive(): string { throw new Error('getter'); } }, 'maxInFlight'],
    ['min above max', { adaptive: 'aimd', min: 10, max: 5 }, 'maxInFlight.max'],
    ['a NaN backoff', { adaptive: 'aimd', backoff: Number.NaN }, 'maxInFlight.backoff'],
    ['a backoff of 1', { adaptive: 'aimd', backoff: 1 }, 'maxInFlight.backoff'],
    ['max of 2^31', { adaptive: 'gradient2', max: 2 ** 31 }, 'maxInFlight.max'],
    ['a fractional min', { adaptive: 'gradient2', min: 1.5 }, 'maxInFlight.min'],
    ['an aimd option on gradient2', { adaptive: 'gradient2', backoff: 0.9 }, 'maxInFlight.backoff'],
    ['an empty adaptive', { adaptive: '' }, 'maxInFlight.adaptive'],
    ['a __proto__ adaptive', { adaptive: '__proto__' }, 'maxInFlight.adaptive'],
    ['a windowMs of Infinity', { adaptive: 'gradient2', windowMs: Number.POSITIVE_INFINITY }, 'maxInFlight.windowMs'],
  ])('%s is refused with ERR_INVALID_OPTION naming the option', (_what, value, option) => {
    const pool = new ClientPool<Key>();
    expect(() => pool.add({ id: 'k' }, { maxInFlight: value as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option }));
    expect(pool.members()).toEqual([]);
  });
});

describe('adaptive maxInFlight: clocks', () => {
  it('a clock that throws now and then never leaks an inFlight, hangs a call or raises an unhandled rejection', async () => {
    recordWarnings();
    try {
      let reads = 0;
      const clock: Clock = {
        now: () => {
          reads++;
          if (reads % 7 === 0) throw new Error('clock broke');
          return reads;
        },
      };
      const seen = await unhandledDuring(async () => {
        let pool: ClientPool<Key> | undefined;
        try {
          pool = new ClientPool<Key>({ clock });
        } catch {
          return;
        }
        pool.add({ id: 'k' }, { maxInFlight: { adaptive: 'aimd', initial: 2, min: 1, max: 4 } });
        const results = await Promise.all(Array.from({ length: 40 }, async () => pool.run(() => 'x').catch((e: unknown) => e)));
        expect(results.length).toBe(40);
        expect(pool.members()[0]!.inFlight).toBe(0);
      });
      expect(seen).toEqual([]);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('a clock that steps back by an hour keeps the limit within [min, max] and the pool serving', async () => {
    const clock = new ManualClock();
    clock.time = 10_000_000;
    const pool = new ClientPool<Key>({ clock, maxWait: 0 });
    pool.add({ id: 'k' }, { maxInFlight: { adaptive: 'gradient2', min: 2, max: 8, initial: 4, windowSamples: 1, windowMs: 0 } });
    for (let i = 0; i < 200; i++) {
      await pool.run(async () => {
        clock.advance(i % 3 === 0 ? -3_600_000 : 10);
        return 'x';
      });
    }
    const cap = pool.members()[0]!.maxInFlight!;
    expect(cap).toBeGreaterThanOrEqual(2);
    expect(cap).toBeLessThanOrEqual(8);
    await expect(pool.run(() => 'y')).resolves.toBe('y');
  });
});

describe('adaptive maxInFlight: failures', () => {
  it('failures bring the aimd limit down to min, and members() reports it', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, breaker: false });
    pool.add({ id: 'k' }, { maxInFlight: { adaptive: 'aimd', initial: 16, min: 2, max: 32 } });
    for (let i = 0; i < 40; i++) {
      await pool.run(() => {
        clock.advance(1);
        throw new Error('5xx');
      }).catch(() => undefined);
    }
    expect(pool.members()[0]!.maxInFlight).toBe(2);
  });

  it('aborted calls (no drop) do not bring the limit down', async () => {
    const pool = new ClientPool<Key>({ breaker: false });
    pool.add({ id: 'k' }, { maxInFlight: { adaptive: 'aimd', initial: 16, min: 2, max: 32 } });
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const call = pool.run(async (_k, c) => new Promise((_resolve, reject) => c.signal.addEventListener('abort', () => reject(new Error('aborted')))), { signal: controller.signal });
      controller.abort();
      await call.catch(() => undefined);
    }
    expect(pool.members()[0]!.maxInFlight).toBe(16);
  });
});

describe('adaptive maxInFlight: many clients', () => {
  it('3 000 adaptive clients added and removed leave the pool serving, its heap roughly where it was', async () => {
    const pool = new ClientPool<Key>();
    const keys = Array.from({ length: 3_000 }, (_, i) => ({ id: String(i) }));
    for (const key of keys) pool.add(key, { maxInFlight: { adaptive: 'gradient2' } });
    for (let i = 0; i < 3_000; i++) await pool.run((k) => k.id);
    for (const key of keys) await pool.remove(key);
    expect(pool.members()).toEqual([]);
    pool.add({ id: 'last' }, { maxInFlight: { adaptive: 'aimd' } });
    await expect(pool.run((k) => k.id)).resolves.toBe('last');
  });
});

describe('adaptive maxInFlight: latency and callbacks', () => {
  it('aimd with timeout 30: answers slower than 30 ms bring the limit down, faster ones do not', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, breaker: false });
    pool.add({ id: 'slow' }, { name: 'slow', maxInFlight: { adaptive: 'aimd', initial: 10, min: 1, max: 20, timeout: 30 } });
    for (let i = 0; i < 5; i++) {
      await pool.run(() => {
        clock.advance(50);
        return 'x';
      });
    }
    expect(pool.members()[0]!.maxInFlight).toBeLessThan(10);
  });

  it('a gradient2 queueSize function that throws or returns garbage never fails a call', async () => {
    recordWarnings();
    try {
      const clock = new ManualClock();
      const pool = new ClientPool<Key>({ clock, breaker: false });
      let i = 0;
      const queueSize = (): number => {
        i++;
        if (i % 2 === 0) throw new Error('queueSize broke');
        return Number.NaN;
      };
      pool.add({ id: 'k' }, { maxInFlight: { adaptive: 'gradient2', windowSamples: 1, windowMs: 0, queueSize } });
      for (let n = 0; n < 50; n++) {
        await expect(pool.run(() => {
          clock.advance(5);
          return n;
        })).resolves.toBe(n);
      }
      const cap = pool.members()[0]!.maxInFlight!;
      expect(Number.isInteger(cap) && cap >= 1 && cap <= 1_000).toBe(true);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('calls waiting for a slot on an adaptive client at its limit are served as slots free, none hangs', async () => {
    const pool = new ClientPool<Key>({ maxWait: 5_000 });
    pool.add({ id: 'k' }, { maxInFlight: { adaptive: 'aimd', initial: 2, min: 1, max: 4 } });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return i;
    })));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(pool.members()[0]!.inFlight).toBe(0);
  });
});
