// Attack: priorities under overload on a gradient2 adaptive cap (virtual time): a low call starts only
// below floor(cap x (1 - reserve)) of the cap as it is then, and nothing leaks.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { dateClock } from '../../helpers/fake-time.js';

interface Backend {
  readonly id: string;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe.each(['gradient2', 'aimd'] as const)('%s cap under 3x overload', (adaptive) => {
  it('low calls start only outside the reserve of the cap at their start; every call ends; inFlight back to 0', async () => {
    const reserve = 0.25;
    const pool = new ClientPool<Backend>({ clock: dateClock, maxWait: 500, reserve });
    pool.add({ id: 'db' }, { name: 'db', maxInFlight: adaptive === 'aimd' ? { adaptive, initial: 8, min: 2, max: 40, timeout: 40 } : { adaptive, initial: 8, min: 2, max: 40 } });
    const violations: string[] = [];
    const outcomes = new Map<string, number>();
    let open = 0;
    let inFlight = 0;
    const offer = (priority: 'high' | 'normal' | 'low'): void => {
      open++;
      pool
        .run(async () => {
          inFlight++;
          const member = pool.members()[0]!;
          if (priority === 'low' && member.inFlight > Math.floor(member.maxInFlight! * (1 - reserve))) violations.push(`low started at ${member.inFlight}/${member.maxInFlight}`);
          // Latency grows with load: the knee at 10 in flight.
          await new Promise((resolve) => setTimeout(resolve, 10 + Math.max(0, inFlight - 10) * 5));
          inFlight--;
        }, { priority })
        .then(
          () => outcomes.set(`${priority}:ok`, (outcomes.get(`${priority}:ok`) ?? 0) + 1),
          (e: unknown) => outcomes.set(`${priority}:${(e as { code?: string }).code}`, (outcomes.get(`${priority}:${(e as { code?: string }).code}`) ?? 0) + 1),
        )
        .finally(() => open--);
    };
    for (let t = 0; t < 5_000; t++) {
      if (t % 10 === 0) offer('high');
      if (t % 10 === 5) offer('normal');
      if (t % 2 === 0) offer('low');
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(5_000);
    expect(open).toBe(0);
    expect(violations.slice(0, 3)).toEqual([]);
    expect(pool.members()[0]!.inFlight).toBe(0);
    for (const key of outcomes.keys()) expect(['high:ok', 'normal:ok', 'low:ok', 'low:ERR_SHED', 'high:ERR_CONCURRENCY_LIMITED', 'normal:ERR_CONCURRENCY_LIMITED']).toContain(key);
    expect(outcomes.get('high:ok') ?? 0).toBeGreaterThan(0.9 * 500);
  }, 60_000);
});
