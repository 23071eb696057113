import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';

afterEach(() => { vi.useRealTimers(); });

describe('explore', () => {
  it('run after close with timeout and signal', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<{ id: number }>({ timeout: 100_000 });
    pool.add({ id: 1 });
    await pool.close();
    console.log('after close', vi.getTimerCount());
    const c = new AbortController();
    const r = await pool.run(() => Promise.resolve(1), { signal: c.signal, timeout: 5000 }).catch((e: unknown) => e);
    console.log('run after close', (r as Error).name, vi.getTimerCount(), getEventListeners(c.signal, 'abort').length);
    await vi.advanceTimersByTimeAsync(0);
    console.log('turn', vi.getTimerCount(), getEventListeners(c.signal, 'abort').length);
  });
  it('destroy with calls in flight', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<{ id: number }>({ timeout: 100_000 });
    pool.add({ id: 1 });
    const c = new AbortController();
    const p = pool.run(() => new Promise(() => {}), { signal: c.signal }).catch((e: unknown) => e);
    const q = pool.run(() => new Promise(() => {}), { retry: { attempts: 3 } , timeout: 50}).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60);
    console.log('before destroy', vi.getTimerCount());
    await pool.destroy();
    console.log('destroyed', (await p as Error).name, (await q as Error).name, vi.getTimerCount(), getEventListeners(c.signal, 'abort').length);
    await vi.advanceTimersByTimeAsync(0);
    console.log('turn', vi.getTimerCount(), getEventListeners(c.signal, 'abort').length);
  });
});
