import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool, type CallScope } from '../../../src/index.js';
import { collected } from '../../helpers/gc.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';

// Pins (real timers): the last resort's runAfterIO is cancelled when the hook answers first, and runs
// once when it does not; close() leaves no immediate or timer of the pool behind; the caller's signal
// keeps no listener; a settled call's fn and options are not retained by a pool still open.

useUnhandledGuard({ time: 'real', quietWarnings: true });

const immediates = (): number => process.getActiveResourcesInfo().filter((k) => k === 'Immediate').length;
const timeouts = (): number => process.getActiveResourcesInfo().filter((k) => k === 'Timeout').length;

function pool(around: (scope: CallScope<string>, next: () => Promise<unknown>) => Promise<unknown>): ClientPool<string> {
  const p = new ClientPool<string>();
  p.use({ name: 'hook', around });
  p.add('a', { name: 'a' });
  return p;
}

describe('nothing is left behind', () => {
  it('abort, then the hook answers in the same turn: the last resort is cancelled, no immediate left', async () => {
    const slow = gate();
    const ac = new AbortController();
    const p = pool(async (_s, next) => { const v = await next(); await slow.promise; return v; });
    const seen = state(p.run(() => 'v', { signal: ac.signal }));
    await turns();
    const before = immediates();
    ac.abort('x');
    expect(immediates()).toBe(before + 1);
    slow.open();
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(seen()).toEqual({ ok: true, value: 'v' });
    expect(immediates()).toBe(before);
    await p.close();
    await turns();
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(immediates()).toBe(0);
  });

  it('the last resort lets the caller go; the hook answering later changes nothing; close() leaves nothing', async () => {
    const slow = gate();
    const ac = new AbortController();
    const ends: unknown[] = [];
    const baseTimeouts = timeouts();
    const p = pool(async (_s, next) => { const v = await next(); await slow.promise; return v; });
    p.use({ name: 'ends', onCallEnd: (e) => void ends.push(e.error) });
    const seen = state(p.run(() => 'v', { signal: ac.signal, deadline: 5000 }));
    await turns();
    ac.abort('x');
    await turns();
    const error = errorOf(seen());
    expect(error).toBeInstanceOf(AbortedError);
    slow.open();
    await turns();
    expect(ends).toEqual([error]);
    expect(inFlight(p)).toBe(0);
    await p.close();
    await turns();
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(immediates()).toBe(0);
    expect(timeouts()).toBe(baseTimeouts);
  });

  it('a settled INSIDE call (signal and deadline) keeps neither fn nor its options while the pool is open', async () => {
    const ac = new AbortController();
    const p = pool(async (_s, next) => { const v = await next(); await new Promise((r) => setImmediate(r)); return v; });
    let fnRef: WeakRef<object> | undefined;
    let optionsRef: WeakRef<object> | undefined;
    await (async () => {
      const fn = (): string => 'v';
      const options = { signal: ac.signal, deadline: 5000, method: 'm' };
      fnRef = new WeakRef(fn);
      optionsRef = new WeakRef(options);
      await expect(p.run(fn, options)).resolves.toBe('v');
    })();
    expect(await collected(fnRef!)).toBe(true);
    expect(await collected(optionsRef!)).toBe(true);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await p.close();
  });
});
