import { describe, expect, it, vi } from 'vitest';
import { ClientPool, DeadlineExceededError, type Balancer } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../../helpers/promise-state.js';
import { countTrace, inFlight } from '../../helpers/watched-pool.js';
import { harness, type Hook } from './harness.js';

// Pins: what scope() checked reaches its own call through handOver/runChecked whatever else runs in the
// same synchronous stretch: a hook calling another call's next(), a call started inside a hook before its
// next(), a call started from a balancer's pick() or from onCallEnd. docs/call-pipeline.md: "a `deadline`
// counts from `run()`, time in `around` hooks included"; each call's deadline is its own.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

const hang = (): Promise<never> => new Promise(() => {});

describe('handOver reentrancy', () => {
  it("B's hook calls A's next() then its own: A keeps its deadline (100 from its run), B its own (1000 from its run)", async () => {
    let heldA: { next: () => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void } | undefined;
    const hook: Hook = (scope, next) => {
      if (scope.options.method === 'A') return new Promise((resolve, reject) => { heldA = { next, resolve, reject }; });
      // B: A's next() first, then B's own, in one synchronous stretch.
      heldA!.next().then(heldA!.resolve, heldA!.reject);
      return next();
    };
    const h = harness([hook]);
    let fnA = 0;
    const a = state(h.pool.run(() => { fnA++; return hang(); }, { method: 'A', deadline: 100 }));
    await h.advance(50);
    const b = state(h.pool.run(hang, { method: 'B', deadline: 1_000 }));
    await turns();
    expect(fnA).toBe(1);
    expect(inFlight(h.pool)).toBe(2);
    await h.advance(49);
    expect(a()).toBe('pending');
    await h.advance(1);
    expect(errorOf(a())).toBeInstanceOf(DeadlineExceededError);
    expect((errorOf(a()) as DeadlineExceededError).deadlineMs).toBe(100);
    await h.advance(949);
    expect(b()).toBe('pending');
    await h.advance(1);
    expect(errorOf(b())).toBeInstanceOf(DeadlineExceededError);
    expect((errorOf(b()) as DeadlineExceededError).deadlineMs).toBe(1_000);
    expect(h.ends.sort()).toEqual(['DeadlineExceededError', 'DeadlineExceededError']);
    expect(inFlight(h.pool)).toBe(0);
    await h.pool.close();
  });

  it('a call run inside a hook before its next(), then the outer next(): each its own deadline', async () => {
    let inner: Promise<unknown> | undefined;
    const h = harness([(scope, next) => {
      if (scope.options.method === 'outer') {
        inner = h.pool.run(hang, { method: 'inner', deadline: 30 });
        inner.catch(() => undefined);
      }
      return next();
    }]);
    const outer = state(h.pool.run(hang, { method: 'outer', deadline: 60 }));
    const innerSeen = state(inner!);
    await h.advance(30);
    expect(errorOf(innerSeen())).toBeInstanceOf(DeadlineExceededError);
    expect(outer()).toBe('pending');
    await h.advance(30);
    expect((errorOf(outer()) as DeadlineExceededError).deadlineMs).toBe(60);
    await h.pool.close();
  });

  it("a call started from a balancer's pick() inside another call's handOver: each call keeps its own deadline (no options or coalesced)", async () => {
    let clockT = 0;
    let nested: Promise<unknown>[] = [];
    let starting = true;
    const picker: Balancer<string> = {
      pick: (ready) => {
        if (starting) {
          starting = false;
          const p1 = pool.run(hang); // no options: EMPTY_OPTIONS, pool deadline
          const p2 = pool.run(hang, { coalesce: 'k', deadline: 500 });
          p1.catch(() => undefined);
          p2.catch(() => undefined);
          nested = [p1, p2];
        }
        return ready[0]!;
      },
    };
    const g = gate();
    const pool: ClientPool<string> = new ClientPool<string>({ strategy: picker, deadline: 200, clock: { now: () => clockT } });
    pool.use({ name: 'held', around: async (scope, next) => { if (scope.options.method === 'first') await g.promise; return next(); } });
    pool.add('a', { name: 'a' });
    const first = state(pool.run(hang, { method: 'first' }));
    const step = async (ms: number): Promise<void> => {
      for (let i = 0; i < ms; i++) { clockT++; await vi.advanceTimersByTimeAsync(1); }
      await turns();
    };
    await step(150);
    g.open(); // first's next() at 150: its pick starts the two nested calls
    await turns();
    expect(nested).toHaveLength(2);
    const n1 = state(nested[0]!);
    const n2 = state(nested[1]!);
    await step(50); // 200: first's deadline (from its run at 0)
    expect((errorOf(first()) as DeadlineExceededError).deadlineMs).toBe(200);
    expect(n1()).toBe('pending');
    await step(149);
    expect(n1()).toBe('pending');
    await step(1); // 350 = 150 + 200
    expect(errorOf(n1())).toBeInstanceOf(DeadlineExceededError);
    expect(n2()).toBe('pending');
    await step(300); // 650 = 150 + 500
    expect((errorOf(n2()) as DeadlineExceededError).deadlineMs).toBe(500);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
  });

  it('onCallEnd starting a held call: each call heard once, trace start/asyncEnd once each', async () => {
    const trace = countTrace();
    try {
      const ends: string[] = [];
      const pool = new ClientPool<string>({});
      let again = true;
      const later: Promise<unknown>[] = [];
      pool.use({
        name: 'ends',
        onCallEnd: (e) => {
          ends.push(e.method);
          if (again) {
            again = false;
            const p = pool.run(() => 'second', { method: 'second' });
            later.push(p);
          }
        },
      });
      pool.use({ name: 'hook', around: async (_s, next) => { await Promise.resolve(); return next(); } });
      pool.add('a', { name: 'a' });
      await expect(pool.run(() => 'first', { method: 'first' })).resolves.toBe('first');
      await turns();
      await expect(later[0]).resolves.toBe('second');
      await turns();
      expect(ends).toEqual(['first', 'second']);
      expect(trace.counts).toEqual({ start: 2, asyncEnd: 2 });
      expect(inFlight(pool)).toBe(0);
      await pool.close();
    } finally {
      trace.unsubscribe();
    }
  });
});
