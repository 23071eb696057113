import { describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';
import { ending } from '../../helpers/outcomes.js';

interface Fake { readonly id: string }
describe('destroy() while fn is running, per option kind and point', () => {
  for (const point of ['inside-fn', 'after-return'] as const) {
    for (const [name, options] of [['none', undefined], ['empty', {}], ['method', { method: 'm' }], ['retry', { retry: { attempts: 2 } }], ['timeout', { timeout: 1000 }], ['signal', { signal: new AbortController().signal }]] as const) {
      it(`${point} ${name}`, async () => {
        vi.useFakeTimers();
        const pool = new ClientPool<Fake>({ clock: new ManualClock() });
        pool.add({ id: 'a' }, { name: 'a' });
        const d = deferred<string>();
        let destroyed: Promise<void> | undefined;
        const call = pool.run(() => {
          if (point === 'inside-fn') destroyed = pool.destroy(new Error('gone'));
          return d.promise;
        }, options);
        if (point === 'after-return') destroyed = pool.destroy(new Error('gone'));
        const out = ending(call);
        await vi.advanceTimersByTimeAsync(0);
        d.resolve('late');
        // Documented (docs/call-pipeline.md, close() and destroy()): a call with no timeout and no signal keeps the function's promise.
        expect(await out).toBe(name === 'timeout' || name === 'signal' ? 'error ERR_POOL_CLOSED' : 'value late');
        expect(pool.members().reduce((s, m) => s + m.inFlight, 0)).toBe(0);
        await destroyed;
        vi.useRealTimers();
      });
    }
  }
});
