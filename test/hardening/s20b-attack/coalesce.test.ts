/**
 * Coalesced calls (`{ coalesce: key }`) are checked before they join or start a flight (98ed2b9):
 * joiners and starters with bad options, many joiners at once, the flight's own failure, a cache,
 * close() and destroy() while a flight is in flight, callers leaving.
 */
import { describe, expect, it } from 'vitest';
import { AbortedError, InvalidOptionError, PoolClosedError } from '../../../src/index.js';
import { ALL_WATCHERS, NONE, deferred, inFlight, noUnhandled, run, shape, ticks, traced, watchName, watchedPool, type Watchers } from './helpers.js';

const ALL: Watchers = { around: true, onCallEnd: true, trace: true };

const BAD: [string, Record<string, unknown>][] = [
  ['timeout -1', { timeout: -1 }],
  ['retry null', { retry: null }],
  ['retry { attempts: null }', { retry: { attempts: null } }],
  ['hedge { delay: 5, maxHedges: null }', { hedge: { delay: 5, maxHedges: null } }],
  ['cache { ttl: -1 }', { cache: { ttl: -1 } }],
  ['cache { ttl: 5, staleIfError: 5 } without onStale', { cache: { ttl: 5, staleIfError: 5 } }],
  ['priority "bogus"', { priority: 'bogus' }],
  ['cost { requests: -1 }', { cost: { requests: -1 } }],
  ['strategy "bogus"', { strategy: 'bogus' }],
  ['deadline 0', { deadline: 0 }],
];

describe('bad joiners and starters', () => {
  it.each(BAD)('a joiner with %s is refused with InvalidOptionError under every watcher; the flight and the good joiners are untouched', async (_name, bad) => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      const flight = deferred<string>();
      let runs = 0;
      const starter = run(watched.pool, () => (runs++, flight.promise), { coalesce: 'k' });
      await ticks();
      const badJoiner = run(watched.pool, () => (runs++, 'bad'), { coalesce: 'k', ...bad });
      const goodJoiner = run(watched.pool, () => (runs++, 'good'), { coalesce: 'k' });
      flight.resolve('v');
      const [s, b, g] = await Promise.all([starter, badJoiner, goodJoiner]);
      expect({ w: watchName(w), s: shape(s), g: shape(g) }).toEqual({ w: watchName(w), s: { resolved: 'v' }, g: { resolved: 'v' } });
      expect(b.value).toBeInstanceOf(InvalidOptionError);
      expect(runs).toBe(1);
      if (w.around) expect(watched.scopes).toHaveLength(2);
      if (w.onCallEnd) expect(watched.ends.map((e) => e.source).sort()).toEqual(['shared', 'upstream', 'upstream']);
      if (w.trace) expect(traced(watched, 'start')).toBe(3);
      await watched.done();
    }
  });

  it.each(BAD)('a starter with %s starts no flight: a good caller in the same tick runs its own function', async (_name, bad) => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      const first = run(watched.pool, () => 'first', { coalesce: 'k', ...bad });
      const second = run(watched.pool, () => 'second', { coalesce: 'k' });
      const [f, s] = await Promise.all([first, second]);
      expect({ w: watchName(w), f: f.value instanceof InvalidOptionError, s: shape(s) }).toEqual({ w: watchName(w), f: true, s: { resolved: 'second' } });
      await watched.done();
    }
  });

  it('400 callers on 4 keys, every third refused, with every watcher: one function run per key, refused callers get InvalidOptionError, each onCallEnd once, nothing in flight or unhandled', async () => {
    const seen = await noUnhandled(async () => {
      const watched = watchedPool(ALL);
      const flights = [0, 1, 2, 3].map(() => deferred<string>());
      const runs = [0, 0, 0, 0];
      const calls = Array.from({ length: 400 }, (_, i) => {
        const k = i % 4;
        const bad = i % 3 === 2;
        return run(watched.pool, () => (runs[k]!++, flights[k]!.promise), bad ? { coalesce: `k${k}`, retry: { attempts: null }, method: `m${i}` } : { coalesce: `k${k}`, method: `m${i}` });
      });
      await ticks(20);
      flights.forEach((f, k) => f.resolve(`v${k}`));
      const got = await Promise.all(calls);
      got.forEach((g, i) => {
        if (i % 3 === 2) expect(g.value).toBeInstanceOf(InvalidOptionError);
        else expect(shape(g)).toEqual({ resolved: `v${i % 4}` });
      });
      expect(runs).toEqual([1, 1, 1, 1]);
      expect(watched.ends).toHaveLength(400);
      expect(watched.scopes).toHaveLength(400 - Math.floor(400 / 3));
      expect(traced(watched, 'start')).toBe(400);
      expect(inFlight(watched.pool)).toBe(0);
      await watched.done();
    });
    expect(seen).toEqual([]);
  });

  it('10 000 refused coalesced calls with distinct keys and labels leave nothing behind: a later caller of each key runs its own function', async () => {
    const watched = watchedPool(ALL);
    for (let i = 0; i < 10_000; i++) {
      const got = await run(watched.pool, () => 'x', { coalesce: `k${i}`, method: `m${i}`, cache: { ttl: 1_000, staleIfError: 5 } });
      expect(got.value).toBeInstanceOf(InvalidOptionError);
    }
    let runs = 0;
    for (const i of [0, 5_000, 9_999]) expect(shape(await run(watched.pool, () => (runs++, 'fresh'), { coalesce: `k${i}`, cache: { ttl: 1_000 } }))).toEqual({ resolved: 'fresh' });
    expect(runs).toBe(3);
    await watched.done();
  });
});

describe('the flight', () => {
  it('its own failure reaches the starter and every joiner once, the same error; the next caller starts afresh', async () => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w, {}, ['a']);
      const flight = deferred<string>();
      const starter = run(watched.pool, () => flight.promise, { coalesce: 'k' });
      await ticks();
      const joiners = [0, 1, 2].map(() => run(watched.pool, () => 'own', { coalesce: 'k' }));
      flight.reject(new Error('upstream down'));
      const all = await Promise.all([starter, ...joiners]);
      expect(new Set(all.map((s) => s.value)).size).toBe(1);
      expect(shape(all[0])).toMatchObject({ code: 'ERR_CLIENT_CALL' });
      expect(shape(await run(watched.pool, () => 'next', { coalesce: 'k' }))).toEqual({ resolved: 'next' });
      if (w.onCallEnd) expect(watched.ends.map((e) => e.source)).toEqual(['upstream', 'shared', 'shared', 'shared', 'upstream']);
      await watched.done();
    }
  });

  it('a failing flight with a cache: a stale result stands in (onStale told), for the starter and a joiner', async () => {
    const watched = watchedPool(ALL, { clock: { now: () => 0 } }, ['a']);
    const stale: number[] = [];
    const cache = { ttl: 0, staleIfError: 1_000, onStale: ({ ageMs }: { ageMs: number }) => void stale.push(ageMs) };
    expect(shape(await run(watched.pool, () => 'old', { coalesce: 'k', cache }))).toEqual({ resolved: 'old' });
    const flight = deferred<string>();
    const starter = run(watched.pool, () => flight.promise, { coalesce: 'k', cache });
    await ticks();
    const joiner = run(watched.pool, () => 'own', { coalesce: 'k', cache });
    flight.reject(new Error('down'));
    expect([shape(await starter), shape(await joiner)]).toEqual([{ resolved: 'old' }, { resolved: 'old' }]);
    expect(stale).toEqual([0, 0]);
    expect(watched.ends.map((e) => e.source)).toEqual(['upstream', 'stale', 'stale']);
    await watched.done();
  });

  it('close() while a flight is in flight: callers before close() get its value, a caller after gets PoolClosedError, close() waits for the flight and resolves', async () => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      const flight = deferred<string>();
      const starter = run(watched.pool, () => flight.promise, { coalesce: 'k' });
      await ticks();
      const joiner = run(watched.pool, () => 'own', { coalesce: 'k' });
      let closed = false;
      const closing = watched.pool.close().then(() => void (closed = true));
      const late = run(watched.pool, () => 'late', { coalesce: 'k' });
      await ticks(20);
      expect(closed).toBe(false);
      flight.resolve('v');
      await closing;
      expect({ w: watchName(w), got: [shape(await starter), shape(await joiner)] }).toEqual({ w: watchName(w), got: [{ resolved: 'v' }, { resolved: 'v' }] });
      expect((await late).value).toBeInstanceOf(PoolClosedError);
      await watched.done();
    }
  });

  it('destroy() while a flight is in flight: the starter and a joiner with a signal get PoolClosedError, nothing in flight', async () => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      const flight = deferred<string>();
      const starter = run(watched.pool, () => flight.promise, { coalesce: 'k' });
      await ticks();
      const joiner = run(watched.pool, () => 'own', { coalesce: 'k', signal: new AbortController().signal });
      await watched.pool.destroy(new Error('bye'));
      expect((await starter).value).toBeInstanceOf(PoolClosedError);
      expect((await joiner).value).toBeInstanceOf(PoolClosedError);
      expect(inFlight(watched.pool)).toBe(0);
      flight.resolve('late');
      await watched.done();
    }
  });

  it('every caller leaves (its signal aborts) while fn ignores its signal: each gets AbortedError, the client is released, close() resolves', async () => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w, {}, ['a']);
      const never = new Promise<string>(() => undefined);
      const acs = [0, 1, 2].map(() => new AbortController());
      const calls = acs.map((ac) => run(watched.pool, () => never, { coalesce: 'k', signal: ac.signal }));
      await ticks();
      acs.forEach((ac) => ac.abort(new Error('left')));
      for (const c of calls) expect((await c).value).toBeInstanceOf(AbortedError);
      await ticks(10);
      expect(inFlight(watched.pool)).toBe(0);
      await watched.pool.close();
      await watched.done();
    }
  });

  it('a starter whose signal aborts while its around hook awaits starts no flight; the next caller runs its own function', async () => {
    const gate = deferred();
    const watched = watchedPool(ALL, {}, ['a'], async (_s, next) => {
      await gate.promise;
      return next();
    });
    const ac = new AbortController();
    const starter = run(watched.pool, () => 'starter', { coalesce: 'k', signal: ac.signal });
    await ticks();
    ac.abort(new Error('left'));
    gate.resolve(undefined);
    expect((await starter).value).toBeInstanceOf(AbortedError);
    expect(shape(await run(watched.pool, () => 'next', { coalesce: 'k' }))).toEqual({ resolved: 'next' });
    await watched.done();
  });

  it('a high-priority caller does not join a normal flight; a low one does', async () => {
    const watched = watchedPool(NONE);
    const flight = deferred<string>();
    let runs = 0;
    const starter = run(watched.pool, () => (runs++, flight.promise), { coalesce: 'k' });
    await ticks();
    const high = run(watched.pool, () => (runs++, 'high'), { coalesce: 'k', priority: 'high' });
    const low = run(watched.pool, () => (runs++, 'low'), { coalesce: 'k', priority: 'low' });
    flight.resolve('v');
    expect([shape(await starter), shape(await high), shape(await low)]).toEqual([{ resolved: 'v' }, { resolved: 'high' }, { resolved: 'high' }]);
    expect(runs).toBe(2);
    await watched.done();
  });
});

describe('a warm cache or a flight answers no caller the pool refuses', () => {
  const REFUSALS: [string, (ac: AbortController) => Record<string, unknown>, string][] = [
    ['an aborted signal', (ac) => (ac.abort(new Error('x')), { signal: ac.signal }), 'ERR_ABORTED'],
    ['an aborted signal and timeout -1', (ac) => (ac.abort(new Error('x')), { signal: ac.signal, timeout: -1 }), 'ERR_ABORTED'],
    ['timeout -1', () => ({ timeout: -1 }), 'ERR_INVALID_OPTION'],
    ['retry { backoff: null }', () => ({ retry: { backoff: null } }), 'ERR_INVALID_OPTION'],
    ['hedge { delay: { quantile: 2 } }', () => ({ hedge: { delay: { quantile: 2 } } }), 'ERR_INVALID_OPTION'],
    ['maxWait -1', () => ({ maxWait: -1 }), 'ERR_INVALID_OPTION'],
    ['minHeight 5 (refused with coalesce)', () => ({ minHeight: 5 }), 'ERR_INVALID_OPTION'],
  ];

  it.each(REFUSALS)('%s: refused (not served from a warm cache) under every watcher', async (_name, make, code) => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      const cache = { ttl: 1_000 };
      expect(shape(await run(watched.pool, () => 'v', { coalesce: 'k', cache }))).toEqual({ resolved: 'v' });
      const got = await run(watched.pool, () => 'own', { coalesce: 'k', cache, ...make(new AbortController()) });
      expect({ w: watchName(w), got: shape(got) }).toMatchObject({ w: watchName(w), got: { code } });
      if (w.around) expect(watched.scopes).toHaveLength(1);
      await watched.done();
    }
  });

  it.each(REFUSALS)('%s: refused (not answered by a flight in progress) under every watcher', async (_name, make, code) => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      const flight = deferred<string>();
      const starter = run(watched.pool, () => flight.promise, { coalesce: 'k' });
      await ticks();
      const got = await run(watched.pool, () => 'own', { coalesce: 'k', ...make(new AbortController()) });
      flight.resolve('v');
      expect(shape(await starter)).toEqual({ resolved: 'v' });
      expect({ w: watchName(w), got: shape(got) }).toMatchObject({ w: watchName(w), got: { code } });
      await watched.done();
    }
  });

  it('a closed pool with a warm cache: PoolClosedError, not the cached value', async () => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      const cache = { ttl: 1_000 };
      await run(watched.pool, () => 'v', { coalesce: 'k', cache });
      await watched.pool.close();
      expect((await run(watched.pool, () => 'own', { coalesce: 'k', cache })).value).toBeInstanceOf(PoolClosedError);
      await watched.done();
    }
  });
});

describe('close({ signal }) with a stuck flight', () => {
  it('a flight whose fn never settles and ignores its signal: close({ signal }) aborted ends the starter and a joiner with PoolClosedError and resolves', async () => {
    const seen = await noUnhandled(async () => {
      const watched = watchedPool(ALL);
      const never = new Promise<string>(() => undefined);
      const starter = run(watched.pool, () => never, { coalesce: 'k' });
      await ticks();
      const joiner = run(watched.pool, () => never, { coalesce: 'k' });
      const ac = new AbortController();
      const closing = watched.pool.close({ signal: ac.signal });
      await ticks(5);
      ac.abort(new Error('enough'));
      await closing;
      expect((await starter).value).toBeInstanceOf(PoolClosedError);
      expect((await joiner).value).toBeInstanceOf(PoolClosedError);
      expect(watched.ends).toHaveLength(2);
      await watched.done();
    });
    expect(seen).toEqual([]);
  });
});

describe('coalesced callers with async around hooks', () => {
  it('300 callers on one key whose hooks await 0-4 turns before next(), every fifth refused, flights released in turn: good callers all resolve, refused ones never reach a hook, each heard once, nothing in flight, close() resolves', async () => {
    const seen = await noUnhandled(async () => {
      let turns = 0;
      const watched = watchedPool(ALL, {}, ['a', 'b'], async (_s, next) => {
        for (let i = 0; i < turns++ % 5; i++) await Promise.resolve();
        return next();
      });
      const flights: ReturnType<typeof deferred<string>>[] = [];
      const calls = Array.from({ length: 300 }, (_, i) =>
        run(
          watched.pool,
          () => {
            const f = deferred<string>();
            flights.push(f);
            return f.promise;
          },
          i % 5 === 4 ? { coalesce: 'k', hedge: { delay: 5, maxHedges: null } } : { coalesce: 'k' },
        ),
      );
      for (let round = 0; round < 20; round++) {
        await ticks(3);
        for (const f of flights.splice(0)) f.resolve(`v${round}`);
      }
      const got = await Promise.all(calls);
      got.forEach((g, i) => {
        if (i % 5 === 4) expect(g.value).toBeInstanceOf(InvalidOptionError);
        else expect(g.ok).toBe(true);
      });
      expect(watched.scopes).toHaveLength(240);
      expect(watched.ends).toHaveLength(300);
      expect(traced(watched, 'start')).toBe(300);
      expect(inFlight(watched.pool)).toBe(0);
      await watched.pool.close();
      await watched.done();
    });
    expect(seen).toEqual([]);
  });
});
