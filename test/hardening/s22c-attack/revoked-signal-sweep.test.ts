import { describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { turns } from '../../helpers/promise-state.js';

// Was s22c #5's related crash (fixed in session 22): a Proxy of a real signal, revoked in the turn its call
// ended (before the pool's signal table is swept), made SignalWatches.sweep throw an uncaught TypeError
// (a setImmediate), and destroy() throw it synchronously. Now the listener that cannot be removed is said
// in a CLIENTPOOL_SIGNAL_UNREACHABLE warning, nothing is thrown, and the signal behind the proxy aborting
// later ends nothing and throws nothing.

describe('a caller signal (a Proxy of a real one) revoked before the pool sweeps its listener', () => {
  for (const end of ['sweep', 'destroy'] as const) {
    it(`${end}: no uncaught error, a warning, the pool closes`, async () => {
      const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      const uncaught: unknown[] = [];
      const onUncaught = (error: unknown): void => void uncaught.push(error);
      process.on('uncaughtException', onUncaught);
      try {
        const pool = new ClientPool<string>();
        pool.use({ name: 'pass', around: (_s, next) => next() });
        pool.add('a', { name: 'a' });
        const ac = new AbortController();
        const { proxy, revoke } = Proxy.revocable(ac.signal, {});
        expect(await pool.run(() => 'v', { signal: proxy })).toBe('v');
        revoke();
        if (end === 'sweep') await turns(5);
        await pool.destroy();
        ac.abort('later');
        await turns(5);
        expect(uncaught).toEqual([]);
        expect(warnings.mock.calls.some(([, options]) => (options as { code?: string } | undefined)?.code === 'CLIENTPOOL_SIGNAL_UNREACHABLE')).toBe(true);
      } finally {
        process.off('uncaughtException', onUncaught);
        warnings.mockRestore();
      }
    });
  }
});
