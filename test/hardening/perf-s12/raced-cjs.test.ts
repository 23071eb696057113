// The CommonJS build: raced calls (timeout, signal) settle the same, counted once, inFlight back to 0.
import { describe, expect, it, vi } from 'vitest';
import { useCjsCopy } from '../../helpers/cjs-copy.js';
import { registersThenThrows } from './helpers.js';

const cjs = useCjsCopy();

describe('raced calls in the CommonJS build', () => {
  it('a timed success, a timeout and an abort: value, ERR_TIMEOUT, ERR_ABORTED; one success, one failure, one cancelled', async () => {
    vi.useFakeTimers();
    try {
      const pool = new cjs.current.ClientPool<{ id: string }>({ clock: { now: () => Date.now() } });
      pool.add({ id: 'a' }, { name: 'a' });
      const controller = new AbortController();
      const settle = (p: Promise<unknown>): Promise<unknown> => p.then((v) => v, (e: { code: string }) => e.code);
      const ok = settle(pool.run((c) => c.id, { timeout: 10 }));
      const timed = settle(pool.run(() => new Promise(() => {}), { timeout: 10 }));
      const aborted = settle(pool.run(() => new Promise(() => {}), { signal: controller.signal }));
      await vi.advanceTimersByTimeAsync(1);
      controller.abort('stop');
      await vi.advanceTimersByTimeAsync(10);
      expect([await ok, await timed, await aborted]).toEqual(['a', 'ERR_TIMEOUT', 'ERR_ABORTED']);
      expect(pool.members()[0]).toMatchObject({ successes: 1, failures: 1, cancelled: 1, inFlight: 0 });
      await pool.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a function returning a settled promise whose own then registers then throws: ERR_CLIENT_CALL with a timeout, as without', async () => {
    const pool = new cjs.current.ClientPool<{ id: string }>();
    pool.add({ id: 'a' }, { name: 'a' });
    const settle = (p: Promise<unknown>): Promise<unknown> => p.then((v) => ({ value: v }), (e: { code: string }) => ({ code: e.code }));
    expect(await settle(pool.run(registersThenThrows))).toEqual({ code: 'ERR_CLIENT_CALL' });
    expect(await settle(pool.run(registersThenThrows, { timeout: 1_000 }))).toEqual({ code: 'ERR_CLIENT_CALL' });
    await pool.close();
  });
});
