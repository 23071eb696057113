import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { SignalWatch, SignalWatches } from '../../src/pipeline/signal-watch.js';
import { TimedWatcher } from '../../src/pipeline/timed-watcher.js';

class Probe extends TimedWatcher {
  reasons: unknown[] = [];
  override expire(): void {}
  override aborted(reason: unknown): void {
    this.reasons.push(reason);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SignalWatches: one listener per caller signal', () => {
  it('many watchers of one signal add one abort listener, and every one hears the abort once', () => {
    const watches = new SignalWatches();
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const probes = Array.from({ length: 50 }, () => new Probe());
    for (const probe of probes) watches.join(controller.signal, probe);
    controller.abort('gone');
    expect(add).toHaveBeenCalledTimes(1);
    expect(probes.every((probe) => probe.reasons.length === 1 && probe.reasons[0] === 'gone')).toBe(true);
  });

  it('a watch left empty drops its listener on the next turn, or at once with sweep(), leaving no immediate', () => {
    vi.useFakeTimers();
    const watches = new SignalWatches();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const probe = new Probe();
    watches.join(controller.signal, probe);
    // Leaving schedules the sweep; sweep() runs it now and cancels the immediate.
    SignalWatch.leave(probe);
    expect(vi.getTimerCount()).toBe(1);
    watches.sweep();
    expect(remove).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a signal whose watch was swept, joined again, listens again and ends its watcher on abort', () => {
    vi.useFakeTimers();
    const watches = new SignalWatches();
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const first = new Probe();
    watches.join(controller.signal, first);
    SignalWatch.leave(first);
    watches.sweep();
    const second = new Probe();
    watches.join(controller.signal, second);
    controller.abort('late');
    expect(add).toHaveBeenCalledTimes(2);
    expect(second.reasons).toEqual(['late']);
    expect(first.reasons).toEqual([]);
  });

  it('a signal that aborted, joined again, ends the new watcher at once (its watch is forgotten)', () => {
    const watches = new SignalWatches();
    const controller = new AbortController();
    watches.join(controller.signal, new Probe());
    controller.abort('gone');
    const late = new Probe();
    watches.join(controller.signal, late);
    expect(late.reasons).toEqual(['gone']);
  });

  it('calls alternating between two signals each end on their own signal', () => {
    const watches = new SignalWatches();
    const a = new AbortController();
    const b = new AbortController();
    const onA = [new Probe(), new Probe()];
    const onB = [new Probe(), new Probe()];
    for (let i = 0; i < 2; i++) {
      watches.join(a.signal, onA[i]!);
      watches.join(b.signal, onB[i]!);
    }
    b.abort('b');
    expect(onB.map((p) => p.reasons)).toEqual([['b'], ['b']]);
    expect(onA.map((p) => p.reasons)).toEqual([[], []]);
    a.abort('a');
    expect(onA.map((p) => p.reasons)).toEqual([['a'], ['a']]);
  });

  it('a watch emptied by many calls in one turn is swept once, with one immediate', () => {
    vi.useFakeTimers();
    const watches = new SignalWatches();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    for (let i = 0; i < 100; i++) {
      const probe = new Probe();
      watches.join(controller.signal, probe);
      SignalWatch.leave(probe);
    }
    expect(vi.getTimerCount()).toBe(1);
    vi.runAllTimers();
    expect(remove).toHaveBeenCalledTimes(1);
    // Emptied again after the sweep: noted again, so its listener is dropped again on the next turn.
    const again = new Probe();
    watches.join(controller.signal, again);
    SignalWatch.leave(again);
    vi.runAllTimers();
    expect(remove).toHaveBeenCalledTimes(2);
  });
});

describe('the pool closing', () => {
  it('leaves no timer or immediate behind, even when its last calls emptied a caller signal watch just before', async () => {
    // Found by the token-bucket property (test/hardening/properties.test.ts): the last waits to end left
    // their signals' watches empty, and the sweep of their listeners was still scheduled after close().
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const pool = new ClientPool<{ id: number }>({ clock: { now: () => Date.now() }, limit: { rate: 6, burst: 7 }, maxWait: 716, breaker: false });
    pool.add({ id: 0 }, { name: 'c0', limit: { rate: 14, burst: 1 } });
    const results: Promise<unknown>[] = [];
    const call = async (): Promise<void> => {
      results.push(pool.run(() => undefined, { signal: new AbortController().signal }).catch((error: unknown) => error));
      await Promise.resolve();
    };
    await call();
    await call();
    await vi.advanceTimersByTimeAsync(3);
    for (let i = 0; i < 9; i++) await call();
    let isSettled = false;
    void Promise.all(results).then(() => (isSettled = true));
    for (let i = 0; i < 4 && !isSettled; i++) await vi.advanceTimersByTimeAsync(717);
    expect(isSettled).toBe(true);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
