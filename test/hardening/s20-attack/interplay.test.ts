import { describe, expect, it } from 'vitest';
import { AbortedError, CallbackError, ClientPool, InvalidOptionError, PoolClosedError, type CallEnd, type RunOptions } from '../../../src/index.js';
import { describe_, inFlight, noUnhandled, settle, watchedPool } from './helpers.js';

const REFUSED: [string, Record<string, unknown>][] = [
  ['timeout -1', { timeout: -1 }],
  ['priority "bogus"', { priority: 'bogus' }],
  ['retry { attempts: "x" }', { retry: { attempts: 'x' } }],
  ['hedge { delay: NaN }', { hedge: { delay: Number.NaN } }],
  ['strategy "bogus"', { strategy: 'bogus' }],
  ['deadline 2^31', { deadline: 2 ** 31 }],
  ['cost { tokens: -1 }', { cost: { tokens: -1 } }],
];

describe('hooks that answer or throw cannot change a refusal', () => {
  it.each(REFUSED)('%s: a caching hook (no next) and a throwing hook both leave the InvalidOptionError of an unwatched pool', async (_name, options) => {
    const plain = new ClientPool<string>();
    plain.add('a');
    const expected = await settle(plain.run((c) => c, options));
    for (const around of [() => Promise.resolve('cached'), () => { throw new Error('hook broke'); }, () => Promise.reject(new Error('hook rejected'))]) {
      const pool = new ClientPool<string>();
      pool.use({ name: 'h', around });
      pool.add('a');
      const got = await settle(pool.run((c) => c, options));
      expect(describe_(got)).toEqual(describe_(expected));
      expect(got.value).toBeInstanceOf(InvalidOptionError);
      await pool.close();
    }
    await plain.close();
  });

  it('control: a throwing hook fails a valid call with CallbackError (the hook ran)', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'h', around: () => { throw new Error('hook broke'); } });
    pool.add('a');
    const got = await settle(pool.run((c) => c, { timeout: 10 }));
    expect(got.value).toBeInstanceOf(CallbackError);
    await pool.close();
  });
});

describe('quorum with hooks', () => {
  it.each(REFUSED.filter(([n]) => !n.startsWith('retry') && !n.startsWith('hedge')))('quorum with %s: the same InvalidOptionError as unwatched, onCallEnd once, no around hook', async (_name, options) => {
    const plain = watchedPool('nothing');
    const w = watchedPool('all');
    const expected = await settle(plain.pool.quorum((c) => c, { of: 2, ...options }));
    const got = await settle(w.pool.quorum((c) => c, { of: 2, ...options }));
    expect(describe_(got)).toEqual(describe_(expected));
    expect(expected.ok).toBe(false);
    expect(w.scopes).toHaveLength(0);
    expect(w.ends).toHaveLength(1);
    expect(w.ends[0]!.error).toBe(got.value);
    await Promise.all([plain.done(), w.done()]);
  });

  it('a valid quorum is heard once by onCallEnd and is not seen by around hooks (documented)', async () => {
    const w = watchedPool('all');
    expect(await w.pool.quorum(() => 'same', { of: 2, timeout: 2 ** 31 - 1 })).toBe('same');
    expect(w.scopes).toHaveLength(0);
    expect(w.ends).toHaveLength(1);
    await w.done();
  });
});

describe('close(), destroy() and aborts from inside hooks', () => {
  it.each(['close', 'destroy'] as const)('an onCallEnd hook that calls %s() when it hears a refused call: close resolves, nothing unhandled, nothing in flight', async (how) => {
    const pool = new ClientPool<string>();
    const ends: CallEnd<string>[] = [];
    let closing: Promise<void> | undefined;
    pool.use({ name: 'ends', onCallEnd: (end) => { ends.push(end); closing ??= how === 'close' ? pool.close() : pool.destroy(new Error('stop')); } });
    pool.use({ name: 'around', around: (_s, next) => next() });
    pool.add('a');
    const unhandled = await noUnhandled(async () => {
      const got = await settle(pool.run((c) => c, { timeout: -1 }));
      expect(got.value).toBeInstanceOf(InvalidOptionError);
      await closing;
      const after = await settle(pool.run((c) => c, { timeout: -1 }));
      expect(after.value).toBeInstanceOf(PoolClosedError);
    });
    expect(unhandled).toEqual([]);
    expect(ends).toHaveLength(2);
    expect(inFlight(pool)).toBe(0);
  });

  it.each(['close', 'destroy'] as const)('an around hook that calls %s() before next(): the caller gets PoolClosedError and close resolves', async (how) => {
    const pool = new ClientPool<string>();
    let closing: Promise<void> | undefined;
    pool.use({ name: 'around', around: (_s, next) => { closing = how === 'close' ? pool.close() : pool.destroy(); return next(); } });
    pool.add('a');
    const unhandled = await noUnhandled(async () => {
      const got = await settle(pool.run((c) => c, { timeout: 100 }));
      expect(got.value).toBeInstanceOf(PoolClosedError);
      await closing;
    });
    expect(unhandled).toEqual([]);
  });

  it('close() while a valid call is held in an around hook, with refused calls arriving: a refused call started before close() gets InvalidOptionError, one after gets PoolClosedError, nothing unhandled', async () => {
    const pool = new ClientPool<string>();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    pool.use({ name: 'around', around: async (scope, next) => { if (scope.method === 'slow') await gate; return next(); } });
    pool.add('a');
    const unhandled = await noUnhandled(async () => {
      const slow = settle(pool.run((c) => c, { method: 'slow' }));
      const refused = settle(pool.run((c) => c, { timeout: -1 }));
      const closing = pool.close();
      const afterClose = settle(pool.run((c) => c, { timeout: -1 }));
      expect((await refused).value).toBeInstanceOf(InvalidOptionError);
      expect((await afterClose).value).toBeInstanceOf(PoolClosedError);
      release();
      await slow;
      await closing;
    });
    expect(unhandled).toEqual([]);
    expect(inFlight(pool)).toBe(0);
  });

  it('an around hook that aborts the caller\'s signal before next(): AbortedError, no attempt left', async () => {
    const pool = new ClientPool<string>();
    const controller = new AbortController();
    pool.use({ name: 'around', around: (_s, next) => { controller.abort(new Error('hook aborted')); return next(); } });
    pool.add('a');
    const got = await settle(pool.run((c) => c, { signal: controller.signal, timeout: 100 }));
    expect(got.value).toBeInstanceOf(AbortedError);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
  });

  it('an already-aborted signal with timeout -1 and a hook: the same error as unwatched (AbortedError is checked first there)', async () => {
    const controller = new AbortController();
    controller.abort();
    const plain = watchedPool('nothing');
    const w = watchedPool('all');
    const expected = await settle(plain.pool.run((c) => c, { signal: controller.signal, timeout: -1 }));
    const got = await settle(w.pool.run((c) => c, { signal: controller.signal, timeout: -1 }));
    expect(describe_(got)).toEqual(describe_(expected));
    expect(w.ends).toHaveLength(1);
    await Promise.all([plain.done(), w.done()]);
  });
});

describe('hooks that misbehave or change the pool', () => {
  it('an around hook that calls next() twice runs the function once', async () => {
    const pool = new ClientPool<string>();
    let runs = 0;
    pool.use({ name: 'twice', around: async (_s, next) => { await next(); return next(); } });
    pool.add('a');
    const unhandled = await noUnhandled(async () => {
      await settle(pool.run(() => { runs++; return 'x'; }, { method: 'm' }));
    });
    expect(runs).toBe(1);
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('an around hook that calls next() late (after a turn of the loop) still runs the call once', async () => {
    const pool = new ClientPool<string>();
    let runs = 0;
    pool.use({ name: 'late', around: async (_s, next) => { await new Promise((r) => setImmediate(r)); return next(); } });
    pool.add('a');
    expect(await pool.run(() => { runs++; return 'x'; }, { timeout: 100 })).toBe('x');
    expect(runs).toBe(1);
    await pool.close();
  });

  it('an around hook added with use() during a call is not run for that call; later refused calls reach neither hook', async () => {
    const pool = new ClientPool<string>();
    const seen: string[] = [];
    let added = false;
    pool.use({ name: 'first', around: (scope, next) => {
      seen.push(`first:${scope.method}`);
      if (!added) {
        added = true;
        pool.use({ name: 'second', around: (s, n) => { seen.push(`second:${s.method}`); return n(); } });
      }
      return next();
    } });
    pool.add('a');
    expect(await pool.run((c) => c, { method: 'one' })).toBe('a');
    expect(await pool.run((c) => c, { method: 'two' })).toBe('a');
    const refused = await settle(pool.run((c) => c, { method: 'three', timeout: -1 }));
    expect(refused.value).toBeInstanceOf(InvalidOptionError);
    expect(seen).toEqual(['first:one', 'first:two', 'second:two']);
    await pool.close();
  });

  it('400 concurrent calls, every other one refused, with every watcher: each refused call gets InvalidOptionError, the others resolve, nothing unhandled, nothing in flight', async () => {
    const w = watchedPool('all');
    const unhandled = await noUnhandled(async () => {
      const calls = Array.from({ length: 400 }, (_, i) => settle(w.pool.run((c) => c, (i % 2 === 0 ? { method: `m${i}`, timeout: -i - 1 } : { method: `m${i}`, timeout: i + 1 }) as RunOptions<string>)));
      const got = await Promise.all(calls);
      got.forEach((g, i) => expect(g.ok).toBe(i % 2 === 1));
    });
    expect(unhandled).toEqual([]);
    expect(w.scopes).toHaveLength(200);
    expect(w.ends).toHaveLength(400);
    expect(w.trace.filter((e) => e.kind === 'start')).toHaveLength(400);
    expect(inFlight(w.pool)).toBe(0);
    await w.done();
  });
});

describe('proxy', () => {
  it('pool.proxy() with bad run options throws InvalidOptionError when made, with or without hooks', () => {
    for (const withHook of [false, true]) {
      const pool = new ClientPool<{ get(k: string): Promise<string> }>();
      if (withHook) pool.use({ name: 'h', around: (_s, next) => next() });
      pool.add({ get: (k) => Promise.resolve(k) });
      expect(() => pool.proxy({ run: { timeout: -1 } })).toThrow(InvalidOptionError);
      expect(() => pool.proxy({ methods: { get: { priority: 'bogus' as never } } })).toThrow(InvalidOptionError);
      void pool.close();
    }
  });

  it('a proxy call with valid options runs the around hook once, labelled by the method', async () => {
    const pool = new ClientPool<{ get(k: string): Promise<string> }>();
    const seen: string[] = [];
    pool.use({ name: 'h', around: (s, next) => { seen.push(s.method); return next(); } });
    pool.add({ get: (k) => Promise.resolve(k) });
    const proxy = pool.proxy({ run: { timeout: 2 ** 31 - 1 }, methods: { get: { retry: false } } });
    expect(await proxy.get('x')).toBe('x');
    expect(seen).toEqual(['get']);
    await pool.close();
  });
});

describe('options read once, whatever watches', () => {
  it.each(['nothing', 'around', 'onCallEnd', 'trace', 'all'] as const)('watched by %s: a top-level timeout getter answering -1 is read once and refused', async (watch) => {
    const w = watchedPool(watch);
    let reads = 0;
    const options = { get timeout() { reads++; return -1; } };
    const got = await settle(w.pool.run((c) => c, options));
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    expect(reads).toBe(1);
    expect(w.scopes).toHaveLength(0);
    await w.done();
  });
});

describe('refusals inside the pipeline are still heard once', () => {
  it.each(['onCallEnd', 'trace', 'all'] as const)('cost over a limit\'s burst, watched by %s: onCallEnd and the trace hear the InvalidOptionError once', async (watch) => {
    const w = watchedPool(watch, { limit: { tokens: { rate: 10, burst: 10 } } });
    const got = await settle(w.pool.run((c) => c, { cost: { tokens: 100 } }));
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    if (watch !== 'trace') expect(w.ends.map((e) => e.error)).toEqual([got.value]);
    if (watch !== 'onCallEnd') expect(w.trace.filter((e) => e.kind === 'error')).toHaveLength(1);
    expect(inFlight(w.pool)).toBe(0);
    await w.done();
  });
});
