import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { describe_, settle } from './helpers.js';

// CallPlanner.scope() validates the call's retry, hedge and cost objects before the hooks; readRunOptions
// copies only the top level, so a nested object's getters run once per check. Found by helper-90: #run
// validated them again, so a getter answering a bad value first and a good one second turned a refusal into
// a call that runs (fixed in 98ed2b9: the refusal is kept), and a valid cost getter was read twice with an
// around hook (fixed since: scope() hands what it checked to the call, CallPlanner.handOver).

function pool(withHook: boolean): { pool: ClientPool<string>; hooks: { n: number } } {
  const p = new ClientPool<string>();
  const hooks = { n: 0 };
  if (withHook) p.use({ name: 'around', around: (_s, next) => { hooks.n++; return next(); } });
  p.add('a', { name: 'a' });
  return { pool: p, hooks };
}

function flaky(key: string, first: unknown, later: unknown): { object: Record<string, unknown>; reads: () => number } {
  let reads = 0;
  const object = {};
  Object.defineProperty(object, key, { enumerable: true, get: () => (++reads === 1 ? first : later) });
  return { object: object, reads: () => reads };
}

const CASES: [string, () => { options: object; reads: () => number }][] = [
  ['retry.attempts "x" then 2', () => { const f = flaky('attempts', 'x', 2); return { options: { retry: f.object }, reads: f.reads }; }],
  ['hedge.delay -1 then 5', () => { const f = flaky('delay', -1, 5); return { options: { hedge: f.object }, reads: f.reads }; }],
  ['strategy.usesLatency true then false', () => { const f = flaky('usesLatency', true, false); f.object['pick'] = (r: unknown[]) => r[0]; return { options: { strategy: f.object }, reads: f.reads }; }],
  ['cost.tokens -1 then 1', () => { const f = flaky('tokens', -1, 1); return { options: { cost: f.object }, reads: f.reads }; }],
];

describe.each(CASES)('a nested getter answering %s', (_name, make) => {
  it('control: without hooks the call is refused with InvalidOptionError, the getter read once', async () => {
    const { pool: p } = pool(false);
    const { options, reads } = make();
    const got = await settle(p.run((c) => c, options));
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    expect(reads()).toBe(1);
    await p.close();
  });

  it('a valid cost object with a getter is read once per call with an around hook, as without', async () => {
    const counts: number[] = [];
    for (const withHook of [false, true]) {
      const { pool: p } = pool(withHook);
      let reads = 0;
      const cost = { get requests() { reads++; return 1; } };
      expect(await p.run((c) => c, { cost })).toBe('a');
      counts.push(reads);
      await p.close();
    }
    expect(counts).toEqual([1, 1]);
  });

  it('with an around hook the call is refused the same way (InvalidOptionError), not run', async () => {
    const plain = pool(false);
    const hooked = pool(true);
    const a = make();
    const b = make();
    const expected = await settle(plain.pool.run((c) => c, a.options));
    const got = await settle(hooked.pool.run((c) => c, b.options));
    expect(describe_(got)).toEqual(describe_(expected));
    await Promise.all([plain.pool.close(), hooked.pool.close()]);
  });

  it('with an around hook the nested getter is read once per call, as without', async () => {
    const hooked = pool(true);
    const { options, reads } = make();
    await settle(hooked.pool.run((c) => c, options));
    expect(reads()).toBe(1);
    await hooked.pool.close();
  });
});

describe('nested getters that always answer', () => {
  it('a bad retry object with a getter is read once per call with an around hook, as without', async () => {
    const counts: number[] = [];
    for (const withHook of [false, true]) {
      const { pool: p } = pool(withHook);
      let reads = 0;
      const retry = { get attempts() { reads++; return 0; } };
      const got = await settle(p.run((c) => c, { retry }));
      expect(got.value).toBeInstanceOf(InvalidOptionError);
      counts.push(reads);
      await p.close();
    }
    expect(counts).toEqual([1, 1]);
  });

  it('control: a valid retry object with a getter is read once (its policy is cached) with or without hooks', async () => {
    const counts: number[] = [];
    for (const withHook of [false, true]) {
      const { pool: p } = pool(withHook);
      let reads = 0;
      const retry = { get attempts() { reads++; return 2; } };
      expect(await p.run((c) => c, { retry })).toBe('a');
      counts.push(reads);
      await p.close();
    }
    expect(counts).toEqual([1, 1]);
  });
});
