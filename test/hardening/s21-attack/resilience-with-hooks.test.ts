import { describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientCallError, ClientPool, PoolClosedError, type CallEnd } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { errorOf, state } from '../../helpers/promise-state.js';

// Pins retries and hedges behind an around hook: the hook runs once per call (not per attempt); close()
// during a backoff ends the call with its last error, destroy(reason) during a hedge with
// PoolClosedError (reason as cause); an abort ends every attempt; onCallEnd hears once; inFlight back to 0.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

function hookedPool(options: ConstructorParameters<typeof ClientPool<string>>[0], ends: CallEnd<string>[], hookRuns: { n: number }): ClientPool<string> {
  // Backoffs at half their range: full jitter (`random() * delay`) may otherwise retry within the 1 ms
  // a test advances before it closes the pool.
  const pool = new ClientPool<string>({ random: () => 0.5, ...options });
  pool.use({ name: 'h', around: async (_s, next) => { hookRuns.n++; await Promise.resolve(); return next(); }, onCallEnd: (end) => void ends.push(end) });
  pool.add('a');
  pool.add('b');
  pool.add('c');
  return pool;
}

describe('retry and hedge behind an around hook', () => {
  it('retries run inside one hook run; the last success answers', async () => {
    const ends: CallEnd<string>[] = [];
    const hookRuns = { n: 0 };
    const pool = hookedPool({ retry: { attempts: 3 } }, ends, hookRuns);
    let attempts = 0;
    const call = state(pool.run((c) => { attempts++; if (attempts < 3) throw new Error('down'); return c; }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(call()).toMatchObject({ ok: true });
    expect(attempts).toBe(3);
    expect(hookRuns.n).toBe(1);
    expect(ends).toHaveLength(1);
    await pool.close();
  });

  it('close() during a backoff: the last error (not PoolClosedError), close resolves, inFlight 0', async () => {
    const ends: CallEnd<string>[] = [];
    const pool = hookedPool({ retry: { attempts: 3 } }, ends, { n: 0 });
    let attempts = 0;
    const call = state(pool.run(() => { attempts++; throw new Error('down'); }));
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toBe(1);
    await pool.close();
    await vi.advanceTimersByTimeAsync(1);
    expect(errorOf(call())).toBeInstanceOf(ClientCallError);
    expect(attempts).toBe(1);
    expect(ends).toHaveLength(1);
  });

  it('destroy(reason) while a first attempt and its hedge are in flight: PoolClosedError with the reason', async () => {
    const ends: CallEnd<string>[] = [];
    const pool = hookedPool({ hedge: { delay: 10 } }, ends, { n: 0 });
    let attempts = 0;
    const call = state(pool.run((_c, c) => { attempts++; return new Promise((_, reject) => c.signal.addEventListener('abort', () => reject(new Error('cut')))); }));
    await vi.advanceTimersByTimeAsync(20);
    expect(attempts).toBe(2);
    await pool.destroy('stop');
    await vi.advanceTimersByTimeAsync(1);
    const error = errorOf(call());
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as PoolClosedError).cause).toBe('stop');
    expect(ends).toHaveLength(1);
  });

  it('an abort while a hedge is in flight ends both attempts: AbortedError, inFlight 0', async () => {
    const ends: CallEnd<string>[] = [];
    const pool = hookedPool({ hedge: { delay: 10 } }, ends, { n: 0 });
    const ac = new AbortController();
    let cut = 0;
    const call = state(pool.run((_c, c) => new Promise((_, reject) => c.signal.addEventListener('abort', () => (cut++, reject(new Error('cut'))))), { signal: ac.signal }));
    await vi.advanceTimersByTimeAsync(20);
    expect(pool.members().reduce((n, m) => n + m.inFlight, 0)).toBe(2);
    ac.abort();
    await vi.advanceTimersByTimeAsync(1);
    expect(errorOf(call())).toBeInstanceOf(AbortedError);
    expect(cut).toBe(2);
    expect(pool.members().reduce((n, m) => n + m.inFlight, 0)).toBe(0);
    expect(ends).toHaveLength(1);
    await pool.close();
  });

  it('onCallEnd durationMs counts the time held in the hook (injected clock)', async () => {
    let t = 0;
    const ends: CallEnd<string>[] = [];
    const pool = new ClientPool<string>({ clock: { now: () => t } });
    pool.use({ name: 'h', around: async (_s, next) => { await new Promise((resolve) => setTimeout(resolve, 500)); return next(); }, onCallEnd: (end) => void ends.push(end) });
    pool.add('a');
    const ac = new AbortController();
    const call = state(pool.run((c) => c, { signal: ac.signal }));
    t = 300;
    await vi.advanceTimersByTimeAsync(300);
    ac.abort();
    await vi.advanceTimersByTimeAsync(300);
    expect(errorOf(call())).toBeInstanceOf(AbortedError);
    expect(ends.map((e) => e.durationMs)).toEqual([300]);
    await pool.close();
  });
});
