import { afterAll, describe, expect, it } from 'vitest';
import { ADAPTIVE_CAP, admissionCandidates, HEADROOM, isZero, LIMIT_SETTLE, PLAIN, PLAIN_AGAIN, ROWS, runAdmissionBench, type AdmissionRow } from '../../bench/admission.js';
import { beforeAfter, SOURCES } from '../../bench/before-after.js';
import { call, defaultPool } from '../../bench/core.js';
import type { Candidate } from '../../bench/harness.js';
import { overloadChecks } from '../../bench/simulation/admission-report.js';
import { runSimulation } from '../../bench/simulation/index.js';
import { OVERLOAD_CONFIGURATIONS, runOverload } from '../../bench/simulation/overload.js';
import { QUOTA_CONFIGURATIONS, runQuotas } from '../../bench/simulation/quotas.js';
import { runShedding, SHEDDING_CONFIGURATIONS, sheddingTargetLines } from '../../bench/simulation/shedding.js';

// The admission-control benches of issue 15 at a tiny size: the per-call rows answer as a plain call does,
// and the overload and token-quota scenarios run on a short stretch of virtual time.

const CALLS = 400;

async function results(run: () => unknown): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < CALLS; i++) out.push(await run());
  return out;
}

describe('bench: admission-control rows', () => {
  let candidates: Candidate[] = [];
  afterAll(() => Promise.all(candidates.map((c) => c.close?.())));

  it('every row answers as direct pool.run calls do: same values, same round robin', async () => {
    candidates = admissionCandidates();
    expect(candidates.map((c) => c.name)).toEqual(ROWS.map((r) => r.name));
    const direct = defaultPool();
    const expected = await results(() => direct.run(call));
    for (const candidate of candidates) expect(await results(candidate.run), candidate.name).toEqual(expected);
    await direct.close();
  });

  it('measures every row as a ratio to the plain call of the same rounds', async () => {
    const result = await runAdmissionBench({ iterations: 200, rounds: 3, allocationIterations: 0, allocationRounds: 0, command: 'test' });
    expect(result.rows.find((r) => r.name === PLAIN)!.ratio).toBe(1);
    for (const name of [PLAIN_AGAIN, LIMIT_SETTLE, HEADROOM, ADAPTIVE_CAP]) expect(result.rows.find((r) => r.name === name)!.ratio).toBeGreaterThan(0);
    expect(result.markdown).toContain('| row | stage | ns/call | spread | bytes/call | x plain | extra ns/call | zero when off? |');
    expect(result.markdown).toContain('Command: `test`');
  });

  it('an off row costs nothing within 5 %, or within twice the A/A drift when that is larger', () => {
    const row = (ratio: number): AdmissionRow => ({ name: 'x', nsPerCall: 100, spread: 0, rounds: [100], kind: 'off', ratio });
    expect(isZero(row(1.04), 0)).toBe(true);
    expect(isZero(row(1.06), 0)).toBe(false);
    expect(isZero(row(1.15), 0.08)).toBe(true);
    expect(isZero(row(0.9), 0.01)).toBe(false);
  });
});

describe('fault simulation: overload against concurrency caps', () => {
  const SHORT = { seed: 3, durationMs: 12_000 };
  const configuration = (id: string) => OVERLOAD_CONFIGURATIONS.find((c) => c.id === id)!;

  it('a static cap of 8 holds the unloaded latency under 4x load and refuses the excess at once', async () => {
    const none = await runOverload(configuration('no-cap'), SHORT);
    const capped = await runOverload(configuration('static-8'), SHORT);
    expect(none.failedFast).toBe(0);
    expect(none.limitMedian).toBeUndefined();
    expect(capped.limitMedian).toBe(8);
    expect(capped.failedFast / capped.overloadCalls).toBeGreaterThan(0.5);
    expect(capped.failFastMax).toBeLessThanOrEqual(1);
    expect(capped.admittedP50).toBeLessThan(none.admittedP50);
    expect(capped.admittedP99).toBeLessThanOrEqual(2 * capped.unloadedP99);
    expect(capped.hung).toBe(0);
    expect(overloadChecks([capped])[0]).toEqual({ configuration: 'static-8', isSettled: true, isP99Met: true, isFailFast: true, isRecovered: true });
  });

  it('an adaptive limit is read from members() and is the same for the same seed', async () => {
    const first = await runOverload(configuration('gradient2'), SHORT);
    expect(first.limitMedian).toBeGreaterThanOrEqual(1);
    expect(first.failedFast).toBeGreaterThan(0);
    expect(await runOverload(configuration('gradient2'), SHORT)).toEqual(first);
  });
});

describe('fault simulation: token quotas', () => {
  const SHORT = { seed: 3, durationMs: 180_000, load: 2 };
  const configuration = (id: string) => QUOTA_CONFIGURATIONS.find((c) => c.id === id)!;

  it('per-key token limits turn the provider\'s 429s into local refusals and split the calls about 1 : 4', async () => {
    const none = await runQuotas(configuration('none'), SHORT);
    const limited = await runQuotas(configuration('headroom'), SHORT);
    const rejected = (r: typeof none): number => r.keys.reduce((sum, k) => sum + k.rejected, 0);
    expect(rejected(none)).toBeGreaterThan(rejected(limited));
    expect(limited.refusedLocally).toBeGreaterThan(0);
    const [a, b] = limited.keys;
    expect(b!.served / a!.served).toBeGreaterThan(2.5);
    expect(b!.served / a!.served).toBeLessThan(6);
    expect(limited.hung).toBe(0);
  });

  it('settle() lets the keys use more of their quota than the reservations alone', async () => {
    const reserved = await runQuotas(configuration('rr'), SHORT);
    const settled = await runQuotas(configuration('rr-settle'), SHORT);
    expect(reserved.usedTokens / reserved.reservedTokens).toBeLessThan(0.8);
    expect(settled.utilisation).toBeGreaterThan(reserved.utilisation);
  });
});

describe('fault simulation report: admission sections', () => {
  it('adds the overload and token-quota sections and their target lines', async () => {
    const result = await runSimulation({ seed: 3, durationMs: 6_000, scenarios: ['overload', 'quotas'] });
    expect(result.results).toEqual([]);
    expect(result.admission.map((r) => r.id)).toEqual(['overload', 'quotas']);
    expect(result.markdown).toContain('### 1. Overload: one backend whose latency doubles above 8 in flight (issue 15)');
    expect(result.markdown).toContain('### 2. Token quotas: two API keys of 10 000 (key-a) and 40 000 (key-b) tokens a minute (issue 15)');
    expect(result.markdown).toMatch(/- overload: the limit settles in \[6, 12\], \*\*static maxInFlight: 8\*\*: median 8 \(8–8\)/);
    expect(result.markdown).toMatch(/\n\| 2x \| no limits, round-robin \| [^\n]+\|\n/);
  });
});

describe('fault simulation: priority shedding', () => {
  it('with priorities under 3x overload high calls all succeed, low ones are shed, and with a reserve of 0.2 low never holds more than 8 of 10 slots', async () => {
    // One after another: each run installs its own fake clock.
    const byId: Record<string, Awaited<ReturnType<typeof runShedding>>> = {};
    for (const c of SHEDDING_CONFIGURATIONS) byId[c.id] = await runShedding(c, { seed: 3, durationMs: 5_000 });
    const share = (id: string, priority: string, field: 'ok' | 'shed'): number => {
      const c = byId[id]!.classes.find((k) => k.priority === priority)!;
      return c[field] / c.calls;
    };
    expect(share('priority-reserve', 'high', 'ok')).toBeGreaterThanOrEqual(0.99);
    expect(share('priority-reserve', 'low', 'shed')).toBeGreaterThan(0.5);
    expect(byId['priority-reserve']!.maxLowInFlight).toBeLessThanOrEqual(8);
    expect(byId['priority']!.maxLowInFlight).toBeGreaterThan(8);
    // Without priorities, high calls wait in the one line with everyone else, and many miss their maxWait.
    expect(share('fifo', 'high', 'ok')).toBeLessThan(0.9);
    for (const result of Object.values(byId)) expect(result.hung).toBe(0);
    expect(sheddingTargetLines(Object.values(byId)).every((line) => line.endsWith('✅ met'))).toBe(true);
  });
});

describe('bench: the plain call before and after, a process per build', () => {
  it('alternates one process per build and compares each with the first', () => {
    const result = beforeAfter(
      [
        { label: 'a', dir: SOURCES },
        { label: 'b', dir: SOURCES },
      ],
      { pairs: 1, iterations: 300, rounds: 2, command: 'test' },
    );
    expect(result.builds.map((b) => [b.label, b.ns.length])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(result.builds.every((b) => b.ns[0]! > 0)).toBe(true);
    expect(result.ratios.map((r) => r.label)).toEqual(['b']);
    expect(result.markdown).toContain('| build | dir | ns/call per process | median | A/A drift in a process (median) |');
    expect(result.markdown).toMatch(/- \*\*b \/ a\*\*: \d+\.\d\dx/);
  });
});
