import { describe, expect, it } from 'vitest';
import { AbortedError, DeadlineExceededError, PoolClosedError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';
import { harness, type Hook } from './harness.js';

// Pins: a hook's next() called twice across the end of its held call, next() right after a synchronous
// abort/close inside the hook, close() racing next() in one microtask, and a released call (in flight)
// being ended by the attempt machinery, not by the held machinery. docs/call-pipeline.md: "A hook that goes
// on later gets that refusal from its `next()`; nobody waits for it, and `fn` never runs. A hook that has
// called `next()` is in flight: `close()` waits for its attempt, as for any."

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

describe('next() twice across the end', () => {
  it('first next() before an abort (in flight), second after: one fn, AbortedError through the attempt, both next() the same promise', async () => {
    const ac = new AbortController();
    const g = gate();
    const nexts: Promise<unknown>[] = [];
    let fnRuns = 0;
    const h = harness([(_s, next) => { const p = next(); nexts.push(p); void g.promise.then(() => nexts.push(next())); return p; }]);
    const seen = state(h.pool.run((_c, call) => { fnRuns++; return new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('stopped')))); }, { signal: ac.signal }));
    await turns();
    expect(fnRuns).toBe(1);
    ac.abort('why');
    await turns();
    expect(errorOf(seen())).toBeInstanceOf(AbortedError);
    expect((errorOf(seen()) as Error).cause).toBe('why');
    g.open();
    await turns();
    expect(nexts[1]).toBe(nexts[0]);
    expect(fnRuns).toBe(1);
    expect(h.ends).toEqual(['AbortedError']);
    expect(inFlight(h.pool)).toBe(0);
    await h.pool.close();
  });

  it('first next() after close() (refused), second too: the very error of the caller, fn never runs', async () => {
    const g = gate();
    const got: unknown[] = [];
    let fnRuns = 0;
    const h = harness([async (_s, next) => { await g.promise; await next().catch((e: unknown) => got.push(e)); await next().catch((e: unknown) => got.push(e)); return 'x'; }]);
    const seen = state(h.pool.run(() => { fnRuns++; return 1; }));
    await turns();
    const closing = h.pool.destroy('gone');
    await turns();
    const err = errorOf(seen());
    expect(err).toBeInstanceOf(PoolClosedError);
    g.open();
    await turns();
    await closing;
    expect(got).toHaveLength(2);
    expect(got[0]).toBe(err);
    expect(got[1]).toBe(err);
    expect(fnRuns).toBe(0);
    expect(h.ends).toEqual(['PoolClosedError']);
  });

  it('the deadline ends it, then next() twice: same DeadlineExceededError object both times', async () => {
    const g = gate();
    const got: unknown[] = [];
    let fnRuns = 0;
    const h = harness([async (_s, next) => { await g.promise; await next().catch((e: unknown) => got.push(e)); await next().catch((e: unknown) => got.push(e)); return 'x'; }]);
    const seen = state(h.pool.run(() => { fnRuns++; return 1; }, { deadline: 50 }));
    await h.advance(50);
    const err = errorOf(seen());
    expect(err).toBeInstanceOf(DeadlineExceededError);
    g.open();
    await turns();
    expect(got).toEqual([err, err]);
    expect(got[0]).toBe(err);
    expect(fnRuns).toBe(0);
    await h.pool.close();
  });
});

describe('synchronous ends inside the hook, then next() at once', () => {
  const sync: [string, (ac: AbortController, close: () => void) => void, unknown][] = [
    ['abort with a string reason', (ac) => ac.abort('r'), AbortedError],
    ['abort with undefined reason', (ac) => ac.abort(undefined), AbortedError],
    ['abort with an object reason', (ac) => ac.abort({ why: 1 }), AbortedError],
    ['close()', (_ac, close) => close(), PoolClosedError],
  ];
  for (const [name, end, kind] of sync) {
    it(`${name} then next() in the same synchronous stretch: refused with the caller's error, fn never runs, inner hook skipped`, async () => {
      const ac = new AbortController();
      let fnRuns = 0;
      let inner = 0;
      let fromNext: unknown;
      let closing: Promise<void> | undefined;
      const outer: Hook = (_s, next) => {
        end(ac, () => { closing = h.pool.close(); });
        const p = next();
        p.catch((e: unknown) => { fromNext = e; });
        return p;
      };
      const innerHook: Hook = (_s, next) => { inner++; return next(); };
      const h = harness([outer, innerHook]);
      const seen = state(h.pool.run(() => { fnRuns++; return 1; }, { signal: ac.signal }));
      await turns();
      const err = errorOf(seen());
      expect(err).toBeInstanceOf(kind);
      if (kind === AbortedError) {
        expect((err as Error).cause).toBe(ac.signal.reason);
      }
      expect(fromNext).toBe(err);
      expect(fnRuns).toBe(0);
      expect(inner).toBe(0);
      expect(h.ends).toEqual([(err as Error).name]);
      await (closing ?? h.pool.close());
    });
  }
});

describe('close() racing next() in one microtask', () => {
  for (const order of ['close first', 'next first'] as const) {
    it(`${order}: the caller's result agrees with whether fn ran; close() waits for a released call`, async () => {
      const g = gate();
      const fnGate = gate();
      let fnRuns = 0;
      let closing: Promise<void> | undefined;
      const h = harness([async (_s, next) => {
        await g.promise;
        if (order === 'close first') {
          closing = h.pool.close();
          return next();
        }
        const p = next();
        closing = h.pool.close();
        return p;
      }]);
      const seen = state(h.pool.run(async () => { fnRuns++; await fnGate.promise; return 'v'; }));
      await turns();
      g.open();
      await turns();
      const closed = state(closing!);
      if (order === 'close first') {
        expect(errorOf(seen())).toBeInstanceOf(PoolClosedError);
        expect(fnRuns).toBe(0);
      } else {
        expect(seen()).toBe('pending');
        expect(closed()).toBe('pending');
        expect(fnRuns).toBe(1);
        fnGate.open();
        await turns();
        expect(seen()).toEqual({ ok: true, value: 'v' });
      }
      fnGate.open();
      await turns();
      expect(closed()).toEqual({ ok: true, value: undefined });
      expect(h.ends).toHaveLength(1);
      expect(inFlight(h.pool)).toBe(0);
    });
  }
});

describe('a released call is in the pipeline, not held', () => {
  it('deadline after next(): ended by the attempt timer (DeadlineExceededError), call.signal aborted, fn once, onCallEnd once', async () => {
    let fnRuns = 0;
    let callAborted = false;
    const h = harness([async (_s, next) => { await Promise.resolve(); return next(); }]);
    const seen = state(h.pool.run((_c, call) => { fnRuns++; call.signal.addEventListener('abort', () => { callAborted = true; }); return new Promise(() => {}); }, { deadline: 100 }));
    await h.advance(99);
    expect(seen()).toBe('pending');
    await h.advance(1);
    expect(errorOf(seen())).toBeInstanceOf(DeadlineExceededError);
    expect(callAborted).toBe(true);
    expect(fnRuns).toBe(1);
    expect(h.ends).toEqual(['DeadlineExceededError']);
    expect(inFlight(h.pool)).toBe(0);
    await h.pool.close();
  });

  it('deadline during a retry backoff after next(): DeadlineExceededError at the deadline, no attempt after it', async () => {
    let fnRuns = 0;
    const h = harness([async (_s, next) => { await Promise.resolve(); return next(); }]);
    const seen = state(h.pool.run(() => { fnRuns++; throw new Error('boom'); }, { deadline: 100, retry: { attempts: 3, backoff: { initial: 150, max: 150, jitter: 'none' } } }));
    await h.advance(100);
    expect(fnRuns).toBe(1);
    expect(seen()).not.toBe('pending');
    expect(errorOf(seen())).toBeInstanceOf(DeadlineExceededError);
    await h.advance(200);
    expect(fnRuns).toBe(1);
    expect(h.ends).toEqual(['DeadlineExceededError']);
    await h.pool.close();
  });

  it('hedge after next(), then the caller aborts: both attempts end, AbortedError once, inFlight 0', async () => {
    const ac = new AbortController();
    let fnRuns = 0;
    let aborts = 0;
    const h = harness([async (_s, next) => { await Promise.resolve(); return next(); }]);
    const seen = state(h.pool.run((_c, call) => { fnRuns++; call.signal.addEventListener('abort', () => { aborts++; }); return new Promise(() => {}); }, { signal: ac.signal, hedge: { delay: 5 } }));
    await h.advance(10);
    expect(fnRuns).toBe(2);
    expect(inFlight(h.pool)).toBe(2);
    ac.abort();
    await turns();
    expect(errorOf(seen())).toBeInstanceOf(AbortedError);
    expect(aborts).toBe(2);
    expect(inFlight(h.pool)).toBe(0);
    expect(h.ends).toEqual(['AbortedError']);
    await h.pool.close();
  });

  it('a deadline of 2^31-1 ms on a held call: still held after 10 s, runs when released', async () => {
    const g = gate();
    let fnRuns = 0;
    const h = harness([async (_s, next) => { await g.promise; return next(); }]);
    const seen = state(h.pool.run(() => { fnRuns++; return 'v'; }, { deadline: 2 ** 31 - 1 }));
    h.clock.t += 10_000;
    await turns();
    expect(seen()).toBe('pending');
    g.open();
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'v' });
    expect(fnRuns).toBe(1);
    await h.pool.close();
  });
});
