import { describe, expect, it, vi } from 'vitest';
import { ClientPool, DeadlineExceededError, PoolClosedError, AbortedError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../../helpers/promise-state.js';
import { countTrace, inFlight } from '../../helpers/watched-pool.js';

// Pins: a held call's deadline on a clock that throws or returns NaN (the pool guards its clock: the last
// good reading; "the timer has the last word"), onCallEnd's durationMs for a held call ended at its
// deadline, and 10 000 held calls (own deadlines, one shared signal) ended by close() or by one abort:
// each once, onCallEnd and the trace once per call, nothing left. docs/call-pipeline.md: "A clock that
// stands still while timers run ... still ends every deadline, since the timer has the last word".

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

async function tick(ms: number, clock?: { t: number }): Promise<void> {
  for (let i = 0; i < ms; i++) {
    if (clock) clock.t++;
    await vi.advanceTimersByTimeAsync(1);
  }
  await turns();
}

describe('odd clocks', () => {
  const clocks: [string, (c: { t: number; bad: boolean }) => number][] = [
    ['throws once the call is held', (c) => { if (c.bad) throw new Error('clock'); return c.t; }],
    ['returns NaN once the call is held', (c) => (c.bad ? Number.NaN : c.t)],
    ['returns a string once the call is held', (c) => (c.bad ? ('12' as unknown as number) : c.t)],
    ['throws from the start', () => { throw new Error('clock'); }],
  ];
  for (const [name, now] of clocks) {
    it(`a clock that ${name}: the held call ends at its deadline (timer), fn never runs after a late next()`, async () => {
      const c = { t: 0, bad: false };
      const pool = new ClientPool<string>({ clock: { now: () => now(c) } });
      const g = gate();
      let fnRuns = 0;
      let fromNext: unknown;
      pool.use({ name: 'h', around: async (_s, next) => { await g.promise; return next().catch((e: unknown) => { fromNext = e; throw e; }); } });
      pool.add('a');
      const seen = state(pool.run(() => { fnRuns++; return 'v'; }, { deadline: 100 }));
      c.bad = true;
      await tick(99, c);
      expect(seen()).toBe('pending');
      await tick(1, c);
      const err = errorOf(seen());
      expect(err).toBeInstanceOf(DeadlineExceededError);
      g.open();
      await turns();
      expect(fromNext).toBe(err);
      expect(fnRuns).toBe(0);
      await pool.close();
    });
  }

  it('onCallEnd durationMs of a held call ended at its deadline is the deadline (injected clock)', async () => {
    const c = { t: 0 };
    const pool = new ClientPool<string>({ clock: { now: () => c.t } });
    const durations: number[] = [];
    pool.use({ name: 'ends', onCallEnd: (e) => void durations.push(e.durationMs) });
    pool.use({ name: 'h', around: () => new Promise(() => undefined) });
    pool.add('a');
    const seen = state(pool.run(() => 'v', { deadline: 100 }));
    await tick(100, c);
    expect(errorOf(seen())).toBeInstanceOf(DeadlineExceededError);
    expect(durations).toEqual([100]);
    await pool.close();
  });
});

describe('10 000 held calls', () => {
  const N = 10_000;
  for (const how of ['close()', 'destroy(reason)', 'one abort'] as const) {
    it(`ended by ${how}: each caller once, onCallEnd and the trace ${N} each, fn never runs, nothing held`, async () => {
      const trace = countTrace();
      try {
        const c = { t: 0 };
        const pool = new ClientPool<string>({ clock: { now: () => c.t } });
        let ends = 0;
        let hooks = 0;
        let fnRuns = 0;
        const nexts: (() => Promise<unknown>)[] = [];
        pool.use({ name: 'ends', onCallEnd: () => { ends++; } });
        pool.use({ name: 'h', around: (_s, next) => { hooks++; nexts.push(next); return new Promise(() => undefined); } });
        pool.add('a');
        const ac = new AbortController();
        const calls: Promise<unknown>[] = [];
        for (let i = 0; i < N; i++) calls.push(pool.run(() => { fnRuns++; return i; }, { signal: ac.signal, deadline: 1_000 + (i % 50) }));
        expect(hooks).toBe(N);
        const settled = Promise.allSettled(calls);
        let closing: Promise<void> | undefined;
        if (how === 'close()') closing = pool.close();
        else if (how === 'destroy(reason)') closing = pool.destroy('why');
        else ac.abort('why');
        const results = await settled;
        const kind = how === 'one abort' ? AbortedError : PoolClosedError;
        expect(results.every((r) => r.status === 'rejected' && r.reason instanceof kind)).toBe(true);
        if (how !== 'close()') expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).cause === 'why')).toBe(true);
        await turns();
        expect(ends).toBe(N);
        expect(trace.counts).toEqual({ start: N, asyncEnd: N });
        // Late next()s: every one refused with its caller's own error, fn never runs.
        const late = await Promise.allSettled(nexts.map((n) => n()));
        expect(late.every((r, i) => r.status === 'rejected' && r.reason === (results[i] as PromiseRejectedResult).reason)).toBe(true);
        expect(fnRuns).toBe(0);
        await tick(2_000, c);
        expect(ends).toBe(N);
        expect(inFlight(pool)).toBe(0);
        await (closing ?? pool.close());
      } finally {
        trace.unsubscribe();
      }
    });
  }
});
