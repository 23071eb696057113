import { describe, expect, it } from 'vitest';
import { CONFIGURATIONS, runScenario, scenarios, type DriveOptions } from '../bench/simulation/index.js';

// The fault simulation of bench/simulation on a short run: 5 s of virtual time, one black-holed backend.
const DRIVE: DriveOptions = { seed: 7, durationMs: 5_000, rate: 200, backends: 5, drainMs: 10_000, stepMs: 1_000 };
const blackHole = scenarios(DRIVE.durationMs).find((s) => s.id === 'black-hole')!;
const config = (id: string) => CONFIGURATIONS.find((c) => c.id === id)!;

describe('fault simulation', () => {
  it('is deterministic: the same seed gives the same results', async () => {
    const first = await runScenario(blackHole, config('tuned-p2c'), DRIVE);
    const second = await runScenario(blackHole, config('tuned-p2c'), DRIVE);
    expect(second).toEqual(first);
    const other = await runScenario(blackHole, config('tuned-p2c'), { ...DRIVE, seed: 8 });
    expect(other).not.toEqual(first);
  });

  it('keeps success above 99.9 % with a black-holed backend (tuned configurations)', async () => {
    for (const id of ['tuned-p2c', 'tuned-lif']) {
      const result = await runScenario(blackHole, config(id), DRIVE);
      expect(result.calls).toBeGreaterThan(900);
      expect(result.hung).toBe(0);
      expect(result.successes / result.calls).toBeGreaterThanOrEqual(0.999);
      // Something did reach the black hole and was retried elsewhere.
      expect(result.faultyShare).toBeGreaterThan(0);
      expect(result.extraLoad).toBeGreaterThan(0);
    }
  });

  it('shows the hang without a timeout', async () => {
    const result = await runScenario(blackHole, config('rr-no-timeout'), DRIVE);
    expect(result.hung).toBeGreaterThan(0);
    expect(result.p99).toBe(Number.POSITIVE_INFINITY);
  });
});
