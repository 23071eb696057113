// Attack: docs/priority-shedding.md "Tested": "The same test with the reserve turned off sees 10" low
// calls in flight, and with the default reserve no more than 8. Both, on virtual time.
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

async function simulate(reserve: number): Promise<{ maxLowInFlight: number; highOk: number; highFailed: number; inFlight: number }> {
  const pool = new ClientPool<Backend>({ clock: dateClock, maxWait: 1_000, reserve });
  pool.add({ id: 'db' }, { maxInFlight: 10 });
  let lowInFlight = 0;
  let maxLowInFlight = 0;
  let highOk = 0;
  let highFailed = 0;
  const offer = (priority: 'high' | 'normal' | 'low'): void => {
    pool
      .run(async () => {
        if (priority === 'low') maxLowInFlight = Math.max(maxLowInFlight, ++lowInFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (priority === 'low') lowInFlight--;
      }, { priority })
      .then(
        () => {
          if (priority === 'high') highOk++;
        },
        () => {
          if (priority === 'high') highFailed++;
        },
      );
  };
  for (let t = 0; t < 5_000; t++) {
    if (t % 100 === 0) for (let i = 0; i < 10; i++) offer('high');
    if (t % 100 === 50) for (let i = 0; i < 10; i++) offer('normal');
    for (let i = 0; i < (t % 10 < 3 ? 2 : 1); i++) offer('low');
    await vi.advanceTimersByTimeAsync(1);
  }
  await vi.advanceTimersByTimeAsync(2_000);
  return { maxLowInFlight, highOk, highFailed, inFlight: pool.members()[0]!.inFlight };
}

describe('the documented overload figures', () => {
  it('reserve 0: low calls reach all 10 slots', async () => {
    const result = await simulate(0);
    expect(result.maxLowInFlight).toBe(10);
    expect(result.inFlight).toBe(0);
  }, 60_000);

  it('reserve 0.2: low calls hold at most 8, high calls succeed >= 99 %', async () => {
    const result = await simulate(0.2);
    expect(result.maxLowInFlight).toBeLessThanOrEqual(8);
    expect(result.highOk / (result.highOk + result.highFailed)).toBeGreaterThanOrEqual(0.99);
    expect(result.inFlight).toBe(0);
  }, 60_000);
});
