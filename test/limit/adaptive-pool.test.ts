// Adaptive concurrency limits wired into the pool (issue 15 §2): `add(client, { maxInFlight: { adaptive } })`
// admits calls below the learned limit, reports each attempt that reached the client, and moves the cap.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AimdLimit, ClientPool } from '../../src/index.js';
import { dateClock } from '../helpers/fake-time.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { recordWarnings } from '../helpers/warnings.js';

interface Backend {
  readonly id: string;
}

describe('adaptive maxInFlight in the pool', () => {
  it('starts at `initial`, reported by members() as maxInFlight', () => {
    const pool = new ClientPool<Backend>();
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: { adaptive: 'aimd', initial: 4, min: 1, max: 10 } });
    expect(pool.members()[0]!.maxInFlight).toBe(4);
  });

  it('aimd: failures cut the cap, and calls over it fail fast with ERR_CONCURRENCY_LIMITED', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Backend>({ clock, breaker: false, maxWait: 0 });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: { adaptive: 'aimd', initial: 8, min: 2, max: 10, backoff: 0.5 } });
    // AIMD cuts at most once per round trip: space the failures out.
    for (let i = 0; i < 3; i++) {
      await pool.run(() => {
        clock.advance(10);
        throw new Error('503');
      }).catch(() => undefined);
      clock.advance(100);
    }
    const cap = pool.members()[0]!.maxInFlight!;
    expect(cap).toBe(2);
    // Two calls hold the client; the third finds it at its cap.
    const held = [0, 1].map(() => pool.run(() => new Promise((resolve) => setTimeout(resolve, 5))));
    await expect(pool.run(() => 'over')).rejects.toMatchObject({ code: 'ERR_CONCURRENCY_LIMITED' });
    await Promise.all(held);
  });

  it('aimd: successes while the limit is in use raise the cap, and a waiting call is served at once when it rises', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Backend>({ clock, maxWait: 60_000 });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: { adaptive: 'aimd', initial: 1, min: 1, max: 4 } });
    let release!: () => void;
    const first = pool.run(() => new Promise<void>((resolve) => (release = resolve)));
    let isServed = false;
    const second = pool.run(() => {
      isServed = true;
    });
    await Promise.resolve();
    expect(isServed).toBe(false);
    clock.advance(5);
    release();
    await first;
    await second;
    expect(isServed).toBe(true);
    expect(pool.members()[0]!.maxInFlight).toBeGreaterThanOrEqual(2);
  });

  it('cancelled attempts tell the limit nothing', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Backend>({ clock, breaker: false });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: { adaptive: 'aimd', initial: 8, min: 1, max: 10, backoff: 0.5 } });
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const call = pool.run(() => new Promise(() => {}), { signal: controller.signal });
      controller.abort(new Error('caller left'));
      await expect(call).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      clock.advance(100);
    }
    expect(pool.members()[0]!.maxInFlight).toBe(8);
  });

  it('each client gets its own controller: one client\'s failures do not move another\'s cap', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Backend>({ clock, breaker: false, strategy: 'round-robin' });
    const options = { adaptive: 'aimd', initial: 8, min: 1, max: 10, backoff: 0.5 } as const;
    pool.add({ id: 'bad' }, { name: 'bad', maxInFlight: options });
    pool.add({ id: 'good' }, { name: 'good', maxInFlight: options });
    for (let i = 0; i < 6; i++) {
      await pool.run((backend) => {
        clock.advance(10);
        if (backend.id === 'bad') throw new Error('503');
      }).catch(() => undefined);
      clock.advance(100);
    }
    const caps = Object.fromEntries(pool.members().map((m) => [m.name, m.maxInFlight]));
    expect(caps['bad']).toBeLessThan(8);
    expect(caps['good']).toBeGreaterThanOrEqual(8);
  });

  it.each([
    [{ adaptive: 'vegas' }, 'maxInFlight.adaptive'],
    [{ adaptive: 'aimd', min: 0 }, 'maxInFlight.min'],
    [{ adaptive: 'aimd', min: 5, max: 2 }, 'maxInFlight'],
    [{ adaptive: 'gradient2', smoothing: Number.NaN }, 'maxInFlight.smoothing'],
    [{ adaptive: 'aimd', bakoff: 0.5 }, 'maxInFlight.bakoff'],
  ])('refuses %j by name', (maxInFlight, option) => {
    const pool = new ClientPool<Backend>();
    expect(() => pool.add({ id: 'a' }, { maxInFlight: maxInFlight as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: expect.stringContaining(option) as string }));
    expect(pool.size).toBe(0);
  });
});

describe('gradient2 in the pool, on a backend whose latency doubles above 8 in flight (virtual time)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('under 4x the load 8 in flight serve, the cap settles in [6, 12], admitted calls stay within 2x the unloaded latency, the excess fails fast; after a failure burst it is back in [6, 12] within 5 windows', async () => {
    const pool = new ClientPool<Backend>({ clock: dateClock, maxWait: 0, breaker: false });
    pool.add({ id: 'db' }, { name: 'db', maxInFlight: { adaptive: 'gradient2', min: 1, max: 100, initial: 4 } });
    let inFlight = 0;
    let isFailing = false;
    const query = async (): Promise<void> => {
      inFlight++;
      try {
        await new Promise((resolve) => setTimeout(resolve, isFailing ? 5 : inFlight > 8 ? 40 : 20));
        if (isFailing) throw new Error('503');
      } finally {
        inFlight--;
      }
    };
    let latencies: number[] = [];
    let refused = 0;
    const offer = (): void => {
      const start = Date.now();
      pool.run(query).then(
        () => latencies.push(Date.now() - start),
        (error: unknown) => {
          if ((error as { code?: string }).code === 'ERR_CONCURRENCY_LIMITED') refused++;
        },
      );
    };
    const cap = (): number => pool.members()[0]!.maxInFlight!;
    /** `ms` of 1 600 calls/s (8 in each 5 ms, spread 2, 2, 2, 1, 1), sampling the cap every 100 ms. */
    const run = async (ms: number): Promise<number[]> => {
      const caps: number[] = [];
      for (let t = 0; t < ms; t++) {
        for (let i = 0; i < (t % 5 < 3 ? 2 : 1); i++) offer();
        await vi.advanceTimersByTimeAsync(1);
        if (t % 100 === 0) caps.push(cap());
      }
      return caps;
    };
    // 8 in flight at 20 ms serve 400 calls/s: 1 600/s is 4x that.
    await run(20_000);
    latencies = [];
    refused = 0;
    const settled = (await run(20_000)).sort((a, b) => a - b);
    const median = settled[Math.floor(settled.length / 2)]!;
    expect(median).toBeGreaterThanOrEqual(6);
    expect(median).toBeLessThanOrEqual(12);
    latencies.sort((a, b) => a - b);
    // The unloaded latency is 20 ms.
    expect(latencies[Math.floor(latencies.length * 0.99)]).toBeLessThanOrEqual(40);
    expect(refused).toBeGreaterThan(latencies.length);
    // A failure burst drives the cap down; once it ends, 5 windows (of 1 s) bring it back.
    isFailing = true;
    await run(10_000);
    expect(cap()).toBeLessThan(6);
    isFailing = false;
    await run(5_000);
    expect(cap()).toBeGreaterThanOrEqual(6);
    expect(cap()).toBeLessThanOrEqual(12);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(pool.members()[0]!.inFlight).toBe(0);
  }, 120_000);
});

describe('a controller that throws', () => {
  it('is reported as a CLIENTPOOL_CALLBACK_ERROR warning; the call is not failed and the cap stays', async () => {
    const warnings = recordWarnings();
    vi.spyOn(AimdLimit.prototype, 'onSample').mockImplementation(() => {
      throw new Error('controller broke');
    });
    try {
      const pool = new ClientPool<Backend>();
      pool.add({ id: 'a' }, { name: 'a', maxInFlight: { adaptive: 'aimd', initial: 5 } });
      await expect(pool.run(() => 'ok')).resolves.toBe('ok');
      expect(warnings.map((w) => w.code)).toEqual(['CLIENTPOOL_CALLBACK_ERROR']);
      expect(warnings[0]!.text).toContain('controller broke');
      expect(pool.members()[0]!).toMatchObject({ maxInFlight: 5, inFlight: 0 });
    } finally {
      vi.restoreAllMocks();
    }
  });
});
