import { describe, expect, it } from 'vitest';
import { ClientPool, PoolClosedError, type Limiter } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22 #2, fixed in session 22): destroy(reason) ends a call that waits for a client slot (maxInFlight), for a
// pool-wide token (a Limiter whose take() never answers) or for a height (minHeight) with a
// PoolClosedError that has no cause: the reason is lost. README: `destroy(reason?)` "ends every attempt
// in flight now (PoolClosedError, reason as cause)"; docs/call-pipeline.md's table: "pool.destroy(reason)
// / close({ signal }) aborted | cancelled | PoolClosedError (reason as cause)". The same destroy(reason)
// gives the reason to a call held in an around hook (PoolShutdown.destroy ends held calls first, "calls
// held in around hooks hear the reason too") and to an attempt in flight (controls). Cause:
// PoolShutdown.destroy() calls close() first, whose core.close() aborts every wait with a plain
// PoolClosedError before core.destroy(error) runs. No time is involved (maxWait 60 s, never reached).

useUnhandledGuard({ time: 'real', quietWarnings: true });

type Setup = { pool: ClientPool<string>; options: Record<string, unknown>; block?: boolean };
const never = new Promise<never>(() => undefined);

const WAITS: Record<string, () => Setup> = {
  'a client slot (maxInFlight)': () => {
    const pool = new ClientPool<string>({ maxWait: 60_000 });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    return { pool, options: {}, block: true };
  },
  'a token from a limiter that never answers': () => {
    const deaf: Limiter = { take: () => never, tryTake: () => false };
    const pool = new ClientPool<string>({ maxWait: 60_000, limit: deaf });
    pool.add('a', { name: 'a' });
    return { pool, options: {} };
  },
  'a height (minHeight)': () => {
    const pool = new ClientPool<string>({ maxWait: 60_000 });
    pool.add('a', { name: 'a' });
    return { pool, options: { minHeight: 100 } };
  },
};

describe('destroy(reason) and calls waiting before a client', () => {
  for (const [what, setup] of Object.entries(WAITS)) for (const hooked of [false, true]) {
    it(`waiting for ${what}${hooked ? ', past an around hook' : ''}: PoolClosedError with the reason as cause`, async () => {
      const { pool, options, block } = setup();
      if (hooked) pool.use({ name: 'h', around: (_s, next) => next() });
      // The blocker honours call.signal, so destroy() ends it too.
      if (block === true) void pool.run((_c, call) => new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('x'))))).catch(() => undefined);
      const seen = state(pool.run(() => 'v', options));
      await turns(3);
      expect(seen()).toBe('pending');
      const reason = new Error('shutting down');
      await pool.destroy(reason);
      await turns(3);
      const s = seen();
      expect(s).toMatchObject({ ok: false });
      const error = (s as { value: unknown }).value;
      expect(error).toBeInstanceOf(PoolClosedError);
      expect((error as Error).cause).toBe(reason);
    });
  }

  it('control: a call held in its around hook and an attempt in flight both get the reason', async () => {
    const pool = new ClientPool<string>();
    let i = 0;
    pool.use({ name: 'h', around: async (_s, next) => { if (i++ === 0) await never; return next(); } });
    pool.add('a', { name: 'a' });
    const held = state(pool.run(() => 'v'));
    const inFlight = state(pool.run((_c, call) => new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('x')))), { timeout: 60_000 }));
    await turns(3);
    const reason = new Error('shutting down');
    await pool.destroy(reason);
    await turns(3);
    for (const s of [held(), inFlight()]) {
      expect((s as { value: unknown }).value).toBeInstanceOf(PoolClosedError);
      expect(((s as { value: Error }).value).cause).toBe(reason);
    }
  });
});
