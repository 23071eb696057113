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
