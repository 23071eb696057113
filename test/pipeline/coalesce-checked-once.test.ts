import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool, DeadlineExceededError, InvalidOptionError, PoolClosedError, type RunOptions } from '../../src/index.js';

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

describe('a coalesced call aborted or closed by a getter read by its check (no hooks)', () => {
  it.each([
    ['cache.ttl', (ac: AbortController) => ({ cache: { get ttl() { ac.abort(); return 1_000; } } })],
    ['retry.attempts', (ac: AbortController) => ({ retry: { get attempts() { ac.abort(); return 2; } } })],
    ['cost.requests', (ac: AbortController) => ({ cost: { get requests() { ac.abort(); return 1; } } })],
  ])('a %s getter that aborts the signal: AbortedError, fn never runs, no flight left', async (_name, make) => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const ac = new AbortController();
    let runs = 0;
    const got = await pool.run((c) => (runs++, c), { coalesce: 'k', signal: ac.signal, ...make(ac) }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(AbortedError);
    expect(runs).toBe(0);
    expect(await pool.run(() => 'fresh', { coalesce: 'k' })).toBe('fresh');
    await pool.close();
  });

  it('a joiner whose getter aborts its signal: AbortedError for it, the flight answers its starter', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    let release!: (value: string) => void;
    const starter = pool.run(() => new Promise<string>((resolve) => (release = resolve)), { coalesce: 'k' });
    const ac = new AbortController();
    const joiner = pool.run(() => 'own', { coalesce: 'k', signal: ac.signal, cost: { get requests() { ac.abort(); return 1; } } }).catch((e: unknown) => e);
    expect(await joiner).toBeInstanceOf(AbortedError);
    release('v');
    expect(await starter).toBe('v');
    await pool.close();
  });

  it('a cost getter that closes the pool: PoolClosedError, fn never runs', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    let runs = 0;
    const got = await pool.run((c) => (runs++, c), { coalesce: 'k', cost: { get requests() { void pool.close(); return 1; } } }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(PoolClosedError);
    expect(runs).toBe(0);
  });
});

describe('coalesced calls sharing a signal', () => {
  it('30 flights (30 keys) on one signal add one abort listener, none once they settle', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const ac = new AbortController();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const calls = Array.from({ length: 30 }, (_, i) => pool.run(async (c) => { await gate; return c; }, { coalesce: `k${i}`, signal: ac.signal }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    open();
    await Promise.all(calls);
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await pool.close();
  });

  it('its abort makes every caller on it leave its flight with AbortedError, and the flights are aborted', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const ac = new AbortController();
    const aborted: boolean[] = [];
    const calls = Array.from({ length: 3 }, (_, i) => pool.run((_c, call) => new Promise<string>((_resolve, reject) => call.signal.addEventListener('abort', () => { aborted.push(true); reject(new Error('stopped')); })), { coalesce: `k${i}`, signal: ac.signal }).catch((e: unknown) => e));
    await new Promise((resolve) => setImmediate(resolve));
    ac.abort();
    for (const got of await Promise.all(calls)) expect(got).toBeInstanceOf(AbortedError);
    expect(aborted).toHaveLength(3);
    await pool.close();
  });
});
