import { describe, expect, it, vi } from 'vitest';
import { ClientPool, isClientPoolError, type RunOptions } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22b #1, fixed in session 22): a retry callback (`retry.retryOn` or `retry.retryAfter`) that closes or destroys the pool leaves
// the caller's promise pending for ever. CallAttempts.#retryDelay checks `host.isClosing` BEFORE it calls
// retryOn/retryAfter; the callback closes the pool, whose #shutdown wakes `core.sleeping` at once (this call
// is not sleeping yet), then the call goes BACKING_OFF (added to `sleeping`, its backoff on the deadline
// queue) and close()'s clearTimers() drops that entry without expiring it: nothing ever wakes the call.
// README: close() "ends calls still waiting (in a backoff, ...)"; destroy() "ends every attempt ... then
// closes"; errors section: "no unhandled rejection escapes" and every call gets a clientpool error.
// Expected: the caller rejects with a clientpool error (its last error, ClientCallError, as close() gives a
// call woken in its backoff, or PoolClosedError). Control: the same close() from `isFailure` (called before
// the isClosing check) ends the call with ClientCallError.
// Fake timers (setTimeout, Date), setImmediate real: no wall-clock dependence.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

type How = 'close' | 'destroy' | 'close({ signal: aborted })';
const HOWS: How[] = ['close', 'destroy', 'close({ signal: aborted })'];

function shutDown(pool: ClientPool<string>, how: How): Promise<void> {
  if (how === 'close') return pool.close();
  if (how === 'destroy') return pool.destroy(new Error('R'));
  return pool.close({ signal: AbortSignal.abort(new Error('R')) });
}

async function scenario(where: 'retryOn' | 'retryAfter' | 'isFailure', how: How, hooked: boolean, options?: RunOptions<string>): Promise<{ seen: unknown; runs: number }> {
  const ref = { pool: undefined as unknown as ClientPool<string> };
  let closing: Promise<void> | undefined;
  const stop = (): void => {
    closing ??= shutDown(ref.pool, how);
    closing.catch(() => undefined);
  };
  const pool = (ref.pool = new ClientPool<string>({
    retry: {
      attempts: 3,
      backoff: { initial: 100, max: 100, jitter: 'none' },
      ...(where === 'retryOn' ? { retryOn: () => (stop(), true) } : {}),
      ...(where === 'retryAfter' ? { retryAfter: () => (stop(), undefined) } : {}),
    },
    ...(where === 'isFailure' ? { isFailure: () => (stop(), true) } : {}),
  }));
  if (hooked) pool.use({ name: 'pass', around: (_s, next) => next() });
  pool.add('a', { name: 'a' });
  pool.add('b', { name: 'b' });
  let runs = 0;
  const seen = state(
    pool.run(() => {
      runs++;
      throw new Error('boom');
    }, options),
  );
  await turns(5);
  await vi.advanceTimersByTimeAsync(10_000);
  await turns(5);
  await closing;
  return { seen: seen(), runs };
}

describe('a retry callback that closes the pool', () => {
  for (const where of ['retryOn', 'retryAfter'] as const) {
    for (const how of HOWS) {
      for (const hooked of [false, true]) {
        if (how === 'destroy' && hooked) continue; // destroy's endInside rescues a hooked call (control below)
        it(`${where} calling ${how}${hooked ? ', past a pass-through around hook' : ''}: the caller settles with a clientpool error`, async () => {
          const { seen, runs } = await scenario(where, how, hooked, { method: 'm' });
          expect(runs).toBe(1);
          expect(seen).not.toBe('pending');
          const s = seen as { ok: boolean; value: unknown };
          expect(s.ok).toBe(false);
          expect(isClientPoolError(s.value)).toBe(true);
        });
      }
    }
  }

  for (const options of [{ deadline: 5_000 }, { timeout: 1_000, deadline: 5_000 }, { coalesce: 'k' }, { hedge: { delay: 50 } }] as RunOptions<string>[]) {
    it(`retryOn calling close(), run with ${JSON.stringify(options)}: the caller settles within 10 s`, async () => {
      const { seen } = await scenario('retryOn', 'close', false, options);
      expect(seen).not.toBe('pending');
      expect(isClientPoolError((seen as { value: unknown }).value)).toBe(true);
    });
  }

  it('control: isFailure calling close(): the caller gets its last error (ClientCallError)', async () => {
    const { seen } = await scenario('isFailure', 'close', false);
    expect(seen).toMatchObject({ ok: false, value: { code: 'ERR_CLIENT_CALL' } });
  });

  it('retryOn calling destroy(), past a hook: its last error, as a call destroy() finds in a backoff', async () => {
    const { seen } = await scenario('retryOn', 'destroy', true);
    expect(seen).toMatchObject({ ok: false, value: { code: 'ERR_CLIENT_CALL' } });
  });
});
