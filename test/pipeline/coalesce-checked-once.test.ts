import { describe, expect, it } from 'vitest';
import { ClientPool, DeadlineExceededError, InvalidOptionError, type RunOptions } from '../../src/index.js';

// A coalesced call is checked before it joins or starts a flight (CallPlanner.checked), and a flight it
// starts runs on that check (CallPlanner.runChecked): its plan, with a deadline from run(), and its
// `cache` settings. Nothing nested in its options (a cost, a cache, a per-call Balancer) is read again,
// with or without around hooks (whose scope() check is handed over the same way).

type Watch = 'none' | 'around';

function poolWith(watch: Watch): ClientPool<string> {
  const pool = new ClientPool<string>();
  if (watch === 'around') pool.use({ name: 'around', around: (_scope, next) => next() });
  pool.add('a');
  return pool;
}

describe.each(['none', 'around'] as const)('a coalesced call, watched by %s', (watch) => {
  it('reads a cache ttl getter once', async () => {
    const pool = poolWith(watch);
    let reads = 0;
    const cache = { get ttl() { reads++; return 1_000; } };
    expect(await pool.run((c) => c, { coalesce: 'k', cache })).toBe('a');
    expect(reads).toBe(1);
    await pool.close();
  });

  it('reads a cost getter once, as a call without coalesce does', async () => {
    const pool = poolWith(watch);
    let reads = 0;
    const cost = { get requests() { reads++; return 1; } };
    await pool.run((c) => c, { cost });
    expect(reads).toBe(1);
    reads = 0;
    await pool.run((c) => c, { coalesce: 'k', cost });
    expect(reads).toBe(1);
    await pool.close();
  });

  it('reads a per-call Balancer\'s usesLatency as often as a call without coalesce does', async () => {
    const pool = poolWith(watch);
    let reads = 0;
    const strategy = { pick: (ready: readonly unknown[]) => ready[0], get usesLatency() { reads++; return false; } };
    await pool.run((c) => c, { strategy } as RunOptions<string>);
    const plain = reads;
    reads = 0;
    await pool.run((c) => c, { coalesce: 'k', strategy } as RunOptions<string>);
    expect(reads).toBe(plain);
    await pool.close();
  });

  it('a starter whose cost getter answers 1, then -1: checked once, its flight runs, a joiner gets the flight\'s value', async () => {
    const pool = poolWith(watch);
    let reads = 0;
    const cost = { get requests() { return reads++ === 0 ? 1 : -1; } };
    let release!: (value: string) => void;
    const starter = pool.run(() => new Promise<string>((resolve) => (release = resolve)), { coalesce: 'k', cost });
    const joiner = pool.run(() => 'own', { coalesce: 'k' });
    await new Promise((resolve) => setImmediate(resolve));
    release('v');
    expect(await Promise.all([starter, joiner])).toEqual(['v', 'v']);
    expect(reads).toBe(1);
    await pool.close();
  });

  it('a cache ttl getter answering 1000, then -1: the call runs with 1000 (read once)', async () => {
    const pool = poolWith(watch);
    let reads = 0;
    const cache = { get ttl() { return reads++ === 0 ? 1_000 : -1; } };
    expect(await pool.run((c) => c, { coalesce: 'k', cache })).toBe('a');
    expect(reads).toBe(1);
    await pool.close();
  });

  it('control: plain cache and cost objects: the second caller is served from the cache, the source heard', async () => {
    const pool = poolWith(watch);
    const sources: string[] = [];
    pool.use({ name: 'ends', onCallEnd: (end) => void sources.push(end.source) });
    let runs = 0;
    const options = { coalesce: 'k', cache: { ttl: 1_000 }, cost: { requests: 1 } };
    expect(await pool.run(() => (runs++, 'v'), options)).toBe('v');
    expect(await pool.run(() => (runs++, 'w'), options)).toBe('v');
    expect(runs).toBe(1);
    expect(sources).toEqual(['upstream', 'cache']);
    await pool.close();
  });

  it('control: a joiner with a bad timeout is refused, though a flight with its key runs', async () => {
    const pool = poolWith(watch);
    let release!: (value: string) => void;
    const starter = pool.run(() => new Promise<string>((resolve) => (release = resolve)), { coalesce: 'k' });
    const joiner = pool.run(() => 'own', { coalesce: 'k', timeout: -1 }).catch((e: unknown) => e);
    expect(await joiner).toBeInstanceOf(InvalidOptionError);
    release('v');
    expect(await starter).toBe('v');
    await pool.close();
  });
});

describe('a coalesced call with a deadline', () => {
  it('an around hook that takes 150 of a 100 ms deadline: DeadlineExceededError, fn never runs (the deadline counts from run())', async () => {
    const clock = { t: 1_000 };
    const pool = new ClientPool<string>({ clock: { now: () => clock.t } });
    pool.use({ name: 'slow', around: (_scope, next) => { clock.t += 150; return next(); } });
    pool.add('a');
    let ran = 0;
    const got = await pool.run((c) => (ran++, c), { deadline: 100, coalesce: 'k' }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(DeadlineExceededError);
    expect(ran).toBe(0);
    await pool.close();
  });

  it('control: an around hook that takes 50 of a 100 ms deadline leaves the coalesced call to run', async () => {
    const clock = { t: 1_000 };
    const pool = new ClientPool<string>({ clock: { now: () => clock.t } });
    pool.use({ name: 'slow', around: (_scope, next) => { clock.t += 50; return next(); } });
    pool.add('a');
    expect(await pool.run((c) => c, { deadline: 100, coalesce: 'k' })).toBe('a');
    await pool.close();
  });
});
