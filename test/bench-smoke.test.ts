// Keeps the benchmarks from rotting: every candidate builder runs a few hundred calls and must answer as a
// direct call would; each part runs once at a tiny size. Speed is not checked here (`npm run bench`).
import { afterAll, describe, expect, it } from 'vitest';
import { measureAllocations } from '../bench/allocations.js';
import { concurrencyCandidates, drive, runConcurrency } from '../bench/concurrency.js';
import { BARE, call, defaultPool } from '../bench/core.js';
import { measure, middleHalf, paired, roundByRound, table, warmFor, type Candidate } from '../bench/harness.js';
import { checkGoals, familyOf, microCandidates } from '../bench/micro.js';
import { measureIsolated, roundsAcross } from '../bench/isolated.js';
import { BODY, networkCandidates, runNetwork, startServer } from '../bench/network.js';
import { runOptional } from '../bench/optional.js';
import { scaling } from '../bench/scaling.js';
import { barChart, niceTicks } from '../bench/svg.js';
import { strategies } from '../src/index.js';

const CALLS = 400;

async function results(run: () => unknown, calls = CALLS): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < calls; i++) out.push(await run());
  return out;
}

describe('bench: micro candidates', () => {
  const candidates = microCandidates();
  afterAll(() => Promise.all(candidates.map((c) => c.close?.())));

  it('covers the comparison the issues ask for', () => {
    expect(candidates.map((c) => c.name)).toEqual([
      'bare await fn(client)',
      'floor: the least a pool can do',
      'stub: the floor plus what run() promises',
      'clientpool default',
      'clientpool run({ method })',
      'clientpool + rate limit',
      'clientpool pool.proxy().get()',
      'clientpool generated wrapper',
      'clientpool full stack (breaker + limit + prometheus)',
      'clientpool run({ timeout })',
      'clientpool run({ signal })',
      'clientpool run({ retry }), first attempt succeeds',
      'opossum breaker + RR, 10 s timeout',
      'clientpool + prometheus',
      'clientpool + naive prom-client middleware',
      'clientpool + tracing (no SDK)',
      'clientpool + otelMetrics (no SDK)',
      'cockatiel breaker + RR',
      'cockatiel bulkhead + breaker + RR',
      'opossum breaker + RR',
      'cockatiel breaker + RR + prom-client (naive)',
    ]);
    expect(candidates.map((c) => familyOf(c.name))).toEqual(['bare', 'other', 'other', ...Array<string>(9).fill('clientpool'), 'other', 'clientpool', 'other', 'clientpool', 'clientpool', ...Array<string>(4).fill('other')]);
  });

  it('every candidate answers as direct pool.run calls do: same values, same round robin', async () => {
    const direct = defaultPool();
    const expected = await results(() => direct.run(call));
    expect(expected.slice(0, 8)).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    for (const candidate of candidates) {
      const got = await results(candidate.run);
      if (candidate.name === BARE) expect(new Set(got), candidate.name).toEqual(new Set([1]));
      else expect(got, candidate.name).toEqual(expected);
    }
    await direct.close();
  });
});

describe('bench: harness', () => {
  const tiny: Candidate[] = [
    { name: 'a', run: () => Promise.resolve(1) },
    { name: 'b', run: () => new Promise((resolve) => queueMicrotask(() => resolve(2))) },
  ];

  it('measures time per round and allocations, and prints them', async () => {
    const rows = await measure(tiny, { iterations: 200, rounds: 3, warmup: 100 });
    expect(rows.map((r) => r.rounds.length)).toEqual([3, 3]);
    for (const row of rows) expect(row.nsPerCall).toBeGreaterThan(0);
    const bytes = await measureAllocations(tiny, { iterations: 2_000, rounds: 1 });
    expect(bytes.get('b')).toBeGreaterThan(0);
    const text = table(
      rows.map((r) => ({ ...r, bytesPerCall: bytes.get(r.name)! })),
      ['a'],
    );
    expect(text.split('\n')).toHaveLength(4);
    expect(text).toContain('bytes/call');
    expect(paired(rows, ['a', 'a'], (x, y) => x / y)).toBe(1);
  });

  it('measures each candidate in a process of its own: time per round and allocations', async () => {
    const rows = await measureIsolated(['clientpool default', 'cockatiel breaker + RR'], { iterations: 500, rounds: 3, warmup: 200, allocationIterations: 2_000, allocationRounds: 1 });
    expect(rows.map((r) => [r.name, r.rounds.length])).toEqual([
      ['clientpool default', 3],
      ['cockatiel breaker + RR', 3],
    ]);
    for (const row of rows) {
      expect(row.nsPerCall).toBeGreaterThan(0);
      expect(row.bytesPerCall).toBeGreaterThan(0);
    }
  }, 60_000);

  it('gives a candidate run in several processes the median of its processes in each round', async () => {
    const rows = await measureIsolated(['clientpool default'], { iterations: 300, rounds: 2, warmup: 100, allocationIterations: 1_000, allocationRounds: 1, processes: 3 });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.rounds).toHaveLength(2);
    expect(rows[0]!.processMedians).toHaveLength(3);
    expect(rows[0]!.bytesPerCall).toBeGreaterThan(0);
  }, 60_000);

  it('takes each round of a candidate from the middle of its processes, not from a lucky or unlucky one', () => {
    expect(roundsAcross([[100, 300], [150, 200], [900, 250]])).toEqual([150, 250]);
    // An even count takes the upper middle (as `median`), and the rounds every process has.
    expect(roundsAcross([[1, 9], [2]])).toEqual([2]);
  });

  it('refuses a round warm-up that is not a number of ms from 0 to 10 000, before starting any process', async () => {
    for (const roundWarmupMs of [-1, Number.NaN, 10_001]) await expect(measureIsolated(['clientpool default'], { iterations: 10, rounds: 1, allocationIterations: 0, allocationRounds: 0, roundWarmupMs })).rejects.toThrow(RangeError);
  });

  it('warms a candidate until the clock has passed the ms asked, in batches of 1 000 calls, and not at all for 0 ms', async () => {
    let calls = 0;
    const counting = { name: 'counting', run: () => calls++ };
    const reads = [0, 0, 4, 9];
    let read = 0;
    // The end is 0 + 5 ms; the clock then reads 0 and 4 (a batch each) and 9 (done).
    await warmFor(counting, 5, () => reads[Math.min(read++, reads.length - 1)]!);
    expect(calls).toBe(2_000);
    calls = 0;
    await warmFor(counting, 0, () => 7);
    expect(calls).toBe(0);
  });

  it('refuses a process count that is not a whole number of at least one', async () => {
    for (const processes of [0, 1.5, Number.NaN]) await expect(measureIsolated(['clientpool default'], { iterations: 10, rounds: 1, allocationIterations: 0, allocationRounds: 0, processes })).rejects.toThrow(RangeError);
  });

  it('says which candidate an own process could not measure', async () => {
    await expect(measureIsolated(['no such candidate'], { iterations: 10, rounds: 1, warmup: 1, allocationIterations: 0, allocationRounds: 0 })).rejects.toThrow(/no candidate named "no such candidate"/);
  }, 60_000);

  it('gives the ratio of each round in round order, and the quartiles of such ratios by nearest rank', () => {
    const row = (name: string, rounds: number[]): { name: string; nsPerCall: number; spread: number; rounds: number[] } => ({ name, nsPerCall: 0, spread: 0, rounds });
    expect(roundByRound([row('a', [100, 200, 300, 999]), row('b', [200, 200, 200])], ['a', 'b'], (a, b) => a / b)).toEqual([0.5, 1, 1.5]);
    expect(middleHalf([8, 1, 7, 2, 6, 3, 5, 4])).toBe('2.00-6.00');
    expect(middleHalf([0.7], 1)).toBe('0.7-0.7');
  });

  it('checks the goals from round-by-round ratios', () => {
    const row = (name: string, ns: number): { name: string; nsPerCall: number; spread: number; rounds: number[] } => ({ name, nsPerCall: ns, spread: 0, rounds: [ns, ns, ns] });
    const goals = checkGoals([
      row('clientpool default', 70),
      row('cockatiel breaker + RR', 100),
      row('clientpool full stack (breaker + limit + prometheus)', 200),
      row('cockatiel breaker + RR + prom-client (naive)', 1_000),
      row('clientpool run({ method })', 80),
      row('clientpool + prometheus', 180),
      row('clientpool + naive prom-client middleware', 280),
      row('clientpool run({ timeout })', 140),
      row('opossum breaker + RR, 10 s timeout', 400),
      row('clientpool run({ retry }), first attempt succeeds', 112),
      row('clientpool run({ signal })', 210),
    ]);
    expect(goals.map((g) => [g.value, g.isMet])).toEqual([
      [0.7, false],
      [2, true],
      [0.35, true],
      [1.6, false],
      [3, true],
      [0.2, true],
      [0.5, true],
    ]);
  });

  it('draws the chart', () => {
    const svg = barChart([{ name: 'a <b> & c', nsPerCall: 120, spread: 0, rounds: [120], bytesPerCall: 900 }], () => 'clientpool', 'machine');
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('a &lt;b&gt; &amp; c');
    expect(svg).toContain('120 ns · 900 B');
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(niceTicks(2466)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
  });
});

describe('bench: scaling, concurrency, network, hooks', () => {
  it('scaling covers every strategy', async () => {
    const text = await scaling([10, 100], 200, 1);
    for (const name of Object.keys(strategies)) expect(text).toContain(`| ${name} |`);
  });

  it('concurrency candidates answer correctly with many calls in flight', async () => {
    const candidates = concurrencyCandidates();
    try {
      for (const candidate of candidates) {
        const values = (await Promise.all(Array.from({ length: 8 }, () => candidate.run()))).sort();
        expect(values, candidate.name).toEqual(candidate.name === BARE ? [1, 1, 1, 1, 1, 1, 1, 1] : [1, 1, 2, 2, 3, 3, 4, 4]);
        expect(await drive(candidate.run, 50, 500)).toBeGreaterThan(0);
      }
    } finally {
      await Promise.all(candidates.map((c) => c.close?.()));
    }
    const text = await runConcurrency({ levels: [1, 10], total: () => 200, rounds: 1 });
    expect(text.split('\n').filter((line) => line.startsWith('| '))).toHaveLength(5);
  });

  it('network candidates fetch from the loopback server and close', async () => {
    const server = await startServer();
    const { candidates, close } = networkCandidates(server.origin);
    try {
      for (const candidate of candidates) expect(await results(candidate.run, 20), candidate.name).toEqual(Array<string>(20).fill(BODY));
    } finally {
      await close();
      await server.close();
    }
    const text = await runNetwork({ sequential: 20, concurrent: 40, inFlight: 4, rounds: 1, overheadNs: { default: 80, full: 250 } });
    expect(text).toContain('undici Pool');
    expect(text).toContain("clientpool's own ns/call (micro)");
  });

  it('an optional bench that is not there is reported, not thrown', async () => {
    const missing = await runOptional({ title: 'Nothing', file: 'no-such-bench.ts', export: 'run', run: (fn) => fn({}) }, { quick: true });
    expect(missing).toEqual({ title: 'Nothing', ran: false, markdown: 'Not run: no `bench/no-such-bench.ts#run()` yet (hook in bench/optional.ts).' });
    const failing = await runOptional({ title: 'Failing', file: 'harness.ts', export: 'median', run: () => Promise.reject(new Error('boom')) }, { quick: true });
    expect(failing.markdown).toBe('Failed: `bench/harness.ts#median` threw boom');
    const section = await runOptional({ title: 'Median', file: 'harness.ts', export: 'median', run: async (fn) => `## Median\n\n${String(await fn([3, 1, 2]))}` }, { quick: true });
    expect(section.markdown).toMatch(/^2\n\n\(`bench\/harness.ts#median`, \d+\.\d s\)$/);
  });
});
