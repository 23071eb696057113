import { describe, expect, it } from 'vitest';
import { CONFIGURATIONS, runScenario, runSimulation, scenarios, type DriveOptions, type RunResult } from '../bench/simulation/index.js';

// The fault simulation of bench/simulation on a short run: 5 s of virtual time, one faulty backend (b4).
const DRIVE: DriveOptions = { seed: 7, durationMs: 5_000, rate: 200, backends: 5, drainMs: 10_000, stepMs: 1_000 };
const scenario = (id: string) => scenarios(DRIVE.durationMs).find((s) => s.id === id)!;
const blackHole = scenario('black-hole');
const config = (id: string) => CONFIGURATIONS.find((c) => c.id === id)!;
const run = (scenarioId: string, configurationId: string): Promise<RunResult> => runScenario(scenario(scenarioId), config(configurationId), DRIVE);

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

describe('fault simulation: a lagging backend', () => {
  it('without freshness, round-robin answers about a fifth of the calls from the lagging node', async () => {
    const result = await run('lagging', 'rr');
    const answers = result.answers!;
    expect(answers.judged).toBe('stale');
    expect(answers.answers).toBe(result.calls);
    expect(answers.bad / answers.answers).toBeGreaterThan(0.15);
    expect(answers.bad / answers.answers).toBeLessThan(0.25);
    expect(answers.settledBad).toBeGreaterThan(0);
    expect(result.faultyFreshness).toBe('unknown');
  });

  it('with polled heights, no answer is stale after the first poll and b4 is flagged lagging', async () => {
    for (const id of ['rr-fresh-poll', 'tuned-p2c-fresh-poll']) {
      const result = await run('lagging', id);
      const answers = result.answers!;
      expect(answers.settledAnswers).toBeGreaterThan(500);
      expect(answers.settledBad).toBe(0);
      // Only before the first poll's answers can a call reach b4.
      expect(answers.lastBadAt ?? 0).toBeLessThan(1_100);
      expect(result.faultyFreshness).toBe('lagging');
      expect(result.successes).toBe(result.calls);
    }
  });

  it('with heights reported from answers, only the first answers of b4 are stale', async () => {
    for (const id of ['rr-fresh-report', 'tuned-p2c-fresh-report']) {
      const result = await run('lagging', id);
      const answers = result.answers!;
      expect(answers.settledBad).toBe(0);
      expect(answers.bad).toBeGreaterThan(0);
      expect(answers.bad).toBeLessThan(5);
      expect(answers.lastBadAt).toBeLessThan(100);
      expect(result.faultyFreshness).toBe('lagging');
    }
  });

  it('gives a caught-up backend its share back after the next poll', async () => {
    const result = await run('lagging-heals', 'rr-fresh-poll');
    expect(result.faultyFreshness).toBe('fresh');
    expect(result.recoveryMs).not.toBeNull();
    expect(result.recoveryMs).toBeLessThanOrEqual(2_000);
  });
});

describe('fault simulation: a lying backend', () => {
  it('plain run() returns the liar\'s wrong hash about a fifth of the time', async () => {
    const answers = (await run('lying', 'rr')).answers!;
    expect(answers.judged).toBe('wrong');
    expect(answers.bad / answers.answers).toBeGreaterThan(0.15);
    expect(answers.bad / answers.answers).toBeLessThan(0.25);
    expect(answers.outvoted).toBeUndefined();
  });

  it('a quorum of 2 of 3 returns no wrong answer, asks three clients per call and counts b4 outvoted', async () => {
    const result = await run('lying', 'rr-quorum');
    const answers = result.answers!;
    expect(result.successes).toBe(result.calls);
    expect(answers.bad).toBe(0);
    expect(result.extraLoad).toBeCloseTo(2, 5);
    expect(answers.outvoted).toBeGreaterThan(100);
    expect(answers.othersOutvoted).toBe(0);
    expect(result.faultyCircuit).toBe('closed');
  });

  it('with penalty and a failure-rate breaker, outvotes open the liar\'s circuit and it draws almost no requests', async () => {
    const plain = await run('lying', 'rr-quorum');
    const penalised = await run('lying', 'rr-quorum-penalty-rate');
    expect(penalised.answers!.bad).toBe(0);
    expect(penalised.faultyCircuit).toBe('open');
    expect(penalised.faultyShare!).toBeLessThan(0.01);
    expect(penalised.answers!.outvoted!).toBeGreaterThan(0);
    expect(penalised.answers!.outvoted!).toBeLessThan(plain.answers!.outvoted! / 10);
  });

  it('is deterministic for quorum reads too', async () => {
    expect(await run('lying', 'rr-quorum-penalty')).toEqual(await run('lying', 'rr-quorum-penalty'));
  });
});

describe('fault simulation report', () => {
  it('checks the stale and wrong targets and writes their rows', async () => {
    const result = await runSimulation({ seed: 7, durationMs: 5_000, scenarios: ['lagging', 'lying'] });
    expect(result.targets.stale.map((c) => c.configuration).sort()).toEqual(['rr-fresh-poll', 'rr-fresh-report', 'tuned-p2c-fresh-poll', 'tuned-p2c-fresh-report']);
    expect(result.targets.stale.every((c) => c.isMet && c.settledStale === 0)).toBe(true);
    expect(result.targets.wrong.map((c) => c.configuration).sort()).toEqual(['rr-quorum', 'rr-quorum-penalty', 'rr-quorum-penalty-rate', 'tuned-p2c-quorum']);
    expect(result.targets.wrong.every((c) => c.isMet && c.wrong === 0)).toBe(true);
    // Only the configurations each scenario names run in it.
    expect(result.results.filter((r) => r.scenario === 'lying').map((r) => r.configuration)).toEqual(['rr', 'p2c', 'tuned-p2c', 'rr-quorum', 'rr-quorum-penalty', 'rr-quorum-penalty-rate', 'tuned-p2c-quorum']);
    expect(result.markdown).toContain('stale answers <= 0.1 % after the first poll with freshness on, **round-robin + breaker + freshness (poll)**: 0.000 %');
    expect(result.markdown).toContain('0 wrong answers with a quorum read, **round-robin + breaker, quorum 2 of 3**: 0 of');
    // The plain round-robin row of the lying scenario: about a fifth wrong, no outvote count, b4 closed.
    expect(result.markdown).toMatch(/\n\| round-robin \+ breaker \| 100 % \|[^\n]*\| (19|20|21)\.\d{3} % \(\d+\) \| – \| closed \| – \|\n/);
    expect(result.svg).toContain('of the answers wrong');
  });
});
