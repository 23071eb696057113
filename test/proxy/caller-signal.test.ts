// pool.proxy() with the `signal` option when the caller puts its own signal in the options object: the
// client gets the attempt's signal, which follows the caller's, the run's, the timeout and a lost hedge;
// a caller's abort is a cancellation (AbortedError), never a failure of the client.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool } from '../../src/index.js';

/** A client whose request waits for its signal, and reports the signal it got. */
class Http {
  readonly signals: AbortSignal[] = [];
  request(options: { readonly path: string; readonly signal?: AbortSignal }): Promise<string> {
    const { signal } = options;
    if (signal === undefined) return Promise.resolve(`no signal for ${options.path}`);
    this.signals.push(signal);
    if (options.path !== '/hang') return Promise.resolve(`ok ${options.path}`);
    return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('request aborted')), { once: true }));
  }
}

describe("pool.proxy(): the caller's own signal in the options object", () => {
  it('a run signal and the caller signal both cancel the call; either one is a cancellation', async () => {
    for (const which of ['caller', 'run'] as const) {
      const http = new Http();
      const pool = new ClientPool<Http>();
      pool.add(http, { name: 'a' });
      const run = new AbortController();
      const own = new AbortController();
      const pending = pool.proxy({ signal: { request: 0 }, run: { signal: run.signal } }).request({ path: '/hang', signal: own.signal });
      await Promise.resolve();
      (which === 'caller' ? own : run).abort(new Error(`${which} left`));
      await expect(pending, which).rejects.toBeInstanceOf(AbortedError);
      expect(http.signals[0]?.aborted, which).toBe(true);
      expect(pool.members()[0], which).toMatchObject({ failures: 0, cancelled: 1 });
    }
  });

  it('leaves no listener on a long-lived run signal or the caller signal once calls settle', async () => {
    const http = new Http();
    const pool = new ClientPool<Http>();
    pool.add(http, { name: 'a' });
    const shutdown = new AbortController();
    const own = new AbortController();
    const proxy = pool.proxy({ signal: { request: 0 }, run: { signal: shutdown.signal } });
    for (let i = 0; i < 20; i += 1) await expect(proxy.request({ path: `/${i}`, signal: own.signal })).resolves.toBe(`ok /${i}`);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(own.signal, 'abort')).toHaveLength(0);
    expect(http.signals.every((signal) => signal !== own.signal)).toBe(true); // the attempt's signal each time
  });
});
