import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, CallbackError, TimeoutError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';
import { rig, messageOf, type Hook, type Rig } from '../../helpers/around-rig.js';

// Pins: a hook that catches next()'s error and answers with a fallback within the same turn (microtasks
// only) gets its fallback to the caller, for the caller's abort, the deadline, a timeout and retries'
// last error; onCallEnd and the trace hear the fallback once. A hook that answers in the same synchronous
// block as the abort wins. A fallback that takes a turn of the loop (setImmediate) is overridden by the
// last resort, as docs/call-pipeline.md says ("A hook that hangs after `next()` (a slow flush, a
// fallback) does not keep a caller that has a signal or a deadline: one turn of the event loop after").

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

let r: Rig | undefined;
afterEach(async () => {
  await r?.done();
  r = undefined;
});

const hang = (): Promise<never> => new Promise<never>(() => undefined);
const quickFallback: Hook = async (_s, next) => {
  try {
    return await next();
  } catch (error) {
    await Promise.resolve();
    await Promise.resolve();
    return `fallback for ${(error as Error).name}`;
  }
};
const syncFallback: Hook = (_s, next) => next().catch((error: unknown) => `fallback for ${(error as Error).name}`);
const oneTurnFallback: Hook = async (_s, next) => {
  try {
    return await next();
  } catch (error) {
    await new Promise((resolve) => setImmediate(resolve));
    return `fallback for ${(error as Error).name}`;
  }
};

describe('quick fallbacks reach the caller', () => {
  for (const [name, hook] of [['quick', quickFallback], ['sync catch', syncFallback]] as const) {
    it(`${name}: the caller's abort while fn hangs`, async () => {
      const ac = new AbortController();
      r = rig([hook]);
      const seen = state(r.pool.run(hang, { signal: ac.signal }));
      await turns();
      ac.abort('why');
      await turns();
      expect(seen()).toEqual({ ok: true, value: 'fallback for AbortedError' });
      expect(r.ends).toHaveLength(1);
      expect(r.ends[0]!.error).toBeUndefined();
      expect(r.traceEnds).toEqual([{ result: 'fallback for AbortedError' }]);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
      expect(inFlight(r.pool)).toBe(0);
    });

    it(`${name}: the deadline while fn hangs`, async () => {
      r = rig([hook]);
      const seen = state(r.pool.run(hang, { deadline: 100 }));
      await turns();
      await r.advance(100);
      await turns();
      expect(seen()).toEqual({ ok: true, value: 'fallback for DeadlineExceededError' });
      expect(r.ends).toHaveLength(1);
    });

    it(`${name}: a timeout under a deadline and a signal`, async () => {
      const ac = new AbortController();
      r = rig([hook]);
      const seen = state(r.pool.run(hang, { timeout: 30, deadline: 100, signal: ac.signal }));
      await turns();
      await r.advance(30);
      await turns();
      expect(seen()).toEqual({ ok: true, value: 'fallback for TimeoutError' });
    });

    it(`${name}: retries' last error with a deadline`, async () => {
      r = rig([hook]);
      const seen = state(r.pool.run(() => Promise.reject(new Error('down')), { retry: { attempts: 3, backoff: { initial: 50 } }, deadline: 1000 }));
      for (let i = 0; i < 300; i++) {
        await r.advance(1);
        await turns(1);
      }
      await turns();
      expect(seen()).toEqual({ ok: true, value: 'fallback for ClientCallError' });
    });

    it(`${name}: the deadline cuts a retry backoff short`, async () => {
      r = rig([hook]);
      const seen = state(r.pool.run(() => Promise.reject(new Error('down')), { retry: { attempts: 3, backoff: { initial: 50 } }, deadline: 60 }));
      for (let i = 0; i < 100; i++) {
        await r.advance(1);
        await turns(1);
      }
      await turns();
      expect(seen()).toEqual({ ok: true, value: 'fallback for DeadlineExceededError' });
    });
  }
});

describe('a hook that turns next() error into its own', () => {
  class Mine extends Error {
    override readonly name = 'Mine';
  }
  const transform: Hook = async (_s, next) => {
    try {
      return await next();
    } catch (error) {
      throw new Mine(`wrapped ${(error as Error).name}`, { cause: error });
    }
  };
  it('abort: the caller gets the hook error, heard once', async () => {
    const ac = new AbortController();
    r = rig([transform]);
    const seen = state(r.pool.run(hang, { signal: ac.signal }));
    await turns();
    ac.abort('why');
    await turns();
    const error = errorOf(seen());
    // A hook's own non-pool error reaches the caller as a CallbackError naming the hook (aroundFailure).
    expect(error).toBeInstanceOf(CallbackError);
    const mine = (error as Error).cause;
    expect(mine).toBeInstanceOf(Mine);
    expect((mine as Error).cause).toBeInstanceOf(AbortedError);
    expect(r.ends.map((e) => e.error)).toEqual([error]);
    expect(r.traceEnds).toEqual([error]);
  });
  it('deadline: the caller gets the hook error', async () => {
    r = rig([transform]);
    const seen = state(r.pool.run(hang, { deadline: 100 }));
    await turns();
    await r.advance(100);
    await turns();
    const error = errorOf(seen());
    expect(error).toBeInstanceOf(CallbackError);
    const mine = (error as Error).cause;
    expect(mine).toBeInstanceOf(Mine);
    expect(messageOf((mine as Error).cause)).toBe('call deadline of 100 ms exceeded on client a');
  });
});

describe('a hook answering at the moment of the abort', () => {
  it('the hook answers in the same synchronous block as the abort: its answer', async () => {
    const slow = gate();
    const ac = new AbortController();
    r = rig([async (_s, next) => { const v = await next(); await slow.promise; return v; }]);
    const seen = state(r.pool.run(() => 'v', { signal: ac.signal }));
    await turns();
    slow.open();
    ac.abort('same moment');
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'v' });
    expect(r.ends).toHaveLength(1);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('the abort comes first in the block, then the hook answers: its answer', async () => {
    const slow = gate();
    const ac = new AbortController();
    r = rig([async (_s, next) => { const v = await next(); await slow.promise; return v; }]);
    const seen = state(r.pool.run(() => 'v', { signal: ac.signal }));
    await turns();
    ac.abort('first');
    slow.open();
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'v' });
  });
});

describe('a fallback that takes a turn (documented: the last resort wins)', () => {
  it('abort: AbortedError with the reason as cause, heard once; the late fallback is dropped', async () => {
    const ac = new AbortController();
    r = rig([oneTurnFallback]);
    const seen = state(r.pool.run(hang, { signal: ac.signal }));
    await turns();
    ac.abort('why');
    await turns();
    const error = errorOf(seen());
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).cause).toBe('why');
    expect(r.ends.map((e) => e.error)).toEqual([error]);
    expect(r.traceEnds).toEqual([error]);
  });

  it('deadline: the one-turn fallback reaches the caller (the call\'s own deadline comes 2 ms after the attempts\' since session 21)', async () => {
    r = rig([oneTurnFallback]);
    const seen = state(r.pool.run(hang, { deadline: 100 }));
    await turns();
    await r.advance(100);
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'fallback for DeadlineExceededError' });
    expect(r.ends).toHaveLength(1);
  });

  it('a timeout with no deadline and no abort: nothing overrides the slow fallback', async () => {
    const ac = new AbortController();
    r = rig([oneTurnFallback]);
    const seen = state(r.pool.run(hang, { timeout: 30, signal: ac.signal }));
    await turns();
    await r.advance(30);
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'fallback for TimeoutError' });
    expect(TimeoutError).toBeDefined();
  });
});
