import { describe, expect, it, vi } from 'vitest';
import { tracingChannel } from 'node:diagnostics_channel';
import { ClientPool, type PoolOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns } from '../../helpers/promise-state.js';

// Pins: a call held in its around hook ends at its deadline whichever layer gives the deadline (the
// call's, its method's, the pool's), at the boundary and not a tick before, with onCallEnd and the
// `clientpool:call` trace hearing it once and nothing left in flight; a hook calling next() before
// the deadline runs the call. docs/call-pipeline.md: "its `deadline` (from `run()`) with
// `DeadlineExceededError` when it passes".

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

interface Held {
  readonly seen: () => unknown;
  readonly runs: () => number;
  readonly ends: string[];
  readonly advance: (ms: number) => Promise<void>;
  readonly open: () => void;
  readonly pool: ClientPool<string>;
}

function heldCall(poolOptions: Partial<PoolOptions<string>>, runOptions: object): Held {
  let t = 0;
  const pool = new ClientPool<string>({ ...poolOptions, clock: { now: () => t } });
  const hook = gate();
  const ends: string[] = [];
  pool.use({ name: 'ends', onCallEnd: (e) => { ends.push(e.error?.name ?? 'ok'); } });
  pool.use({ name: 'lock', around: async (_s, next) => { await hook.promise; return next(); } });
  pool.add('a');
  let n = 0;
  const call = state(pool.run((c) => (n++, c), runOptions));
  const seen = (): unknown => { const s = call(); return s === 'pending' ? s : s.ok ? s.value : (s.value as Error).name; };
  return {
    seen,
    runs: () => n,
    ends,
    pool,
    open: hook.open,
    advance: async (ms) => {
      t += ms;
      await vi.advanceTimersByTimeAsync(ms);
      await turns();
    },
  };
}

describe('a held call and where its deadline comes from', () => {
  const cases: [string, Partial<PoolOptions<string>>, object][] = [
    ['the call', {}, { deadline: 100 }],
    ['its method', { methods: { get: { deadline: 100 } } }, { method: 'get' }],
    ['the pool', { deadline: 100 }, {}],
    ['the call, shorter than the pool', { deadline: 10_000 }, { deadline: 100 }],
    ['the call, with retries', {}, { deadline: 100, retry: { attempts: 3 } }],
    ['the call, with a hedge', {}, { deadline: 100, hedge: { delay: 10 } }],
    ['the call, coalesced', {}, { deadline: 100, coalesce: 'k' }],
    ['the call, coalesced and cached', {}, { deadline: 100, coalesce: 'k', cache: { ttl: 1_000 } }],
  ];
  for (const [name, poolOptions, runOptions] of cases) {
    it(`${name}: pending at 99 ms, DeadlineExceededError at 100 ms, heard once, fn never runs`, async () => {
      const h = heldCall(poolOptions, runOptions);
      await h.advance(99);
      expect(h.seen()).toBe('pending');
      await h.advance(1);
      expect(h.seen()).toBe('DeadlineExceededError');
      h.open();
      await turns();
      expect(h.runs()).toBe(0);
      expect(h.ends).toEqual(['DeadlineExceededError']);
      expect(h.pool.members()[0]?.inFlight).toBe(0);
      await h.pool.close();
    });
  }

  it('a hook that calls next() at 99 ms runs the call; its deadline still bounds the attempt', async () => {
    const h = heldCall({}, { deadline: 100 });
    await h.advance(99);
    h.open();
    await turns();
    expect(h.seen()).toBe('a');
    expect(h.runs()).toBe(1);
    expect(h.ends).toEqual(['ok']);
    await h.pool.close();
  });

  it('a lock released by a timer set before run(), due at the deadline itself: refused, fn never runs', async () => {
    let t = 0;
    const pool = new ClientPool<string>({ clock: { now: () => t } });
    const lock = gate();
    // Registered before the call's deadline timer: it fires first at 100 ms, the clock already there.
    setTimeout(() => lock.open(), 100);
    pool.use({ name: 'lock', around: async (_s, next) => { await lock.promise; return next(); } });
    pool.add('a');
    let runs = 0;
    const call = state(pool.run((c) => (runs++, c), { deadline: 100 }));
    t = 100;
    await vi.advanceTimersByTimeAsync(100);
    await turns();
    expect(call()).toMatchObject({ ok: false, value: { name: 'DeadlineExceededError' } });
    expect(runs).toBe(0);
    await pool.close();
  });

  it('a stalled loop (the clock 10 ms past the deadline when the timers fire): the hook calling next() in that timer phase is refused, fn never runs', async () => {
    let t = 0;
    const pool = new ClientPool<string>({ clock: { now: () => t } });
    // Set after run()'s deadline timer, due at the same time: the held call's expiry is deferred past the
    // loop's I/O (late timer), and next() comes before it.
    pool.use({ name: 'lock', around: async (_s, next) => { await new Promise((resolve) => setTimeout(resolve, 100)); return next(); } });
    pool.add('a');
    let runs = 0;
    const call = state(pool.run((c) => (runs++, c), { deadline: 100 }));
    await turns(1);
    t = 110;
    await vi.advanceTimersByTimeAsync(100);
    await turns();
    expect(call()).toMatchObject({ ok: false, value: { name: 'DeadlineExceededError' } });
    expect(runs).toBe(0);
    await pool.close();
  });

  it('the trace hears a held call ended at its deadline once (start, asyncEnd)', async () => {
    const channel = tracingChannel('clientpool:call');
    const seen = { start: 0, asyncEnd: 0 };
    const subscribers = { start: () => { seen.start++; }, end: () => undefined, asyncStart: () => undefined, asyncEnd: () => { seen.asyncEnd++; }, error: () => undefined };
    channel.subscribe(subscribers);
    try {
      const h = heldCall({}, { deadline: 100 });
      await h.advance(100);
      h.open();
      await turns();
      expect(h.seen()).toBe('DeadlineExceededError');
      expect(seen).toEqual({ start: 1, asyncEnd: 1 });
      await h.pool.close();
    } finally {
      channel.unsubscribe(subscribers);
    }
  });

  it('close() after a held call ended at its deadline does not wait for its hook', async () => {
    const h = heldCall({}, { deadline: 100 });
    await h.advance(100);
    const closed = state(h.pool.close());
    await turns();
    expect(closed()).toEqual({ ok: true, value: undefined });
    h.open();
    await turns();
    expect(h.runs()).toBe(0);
  });
});
