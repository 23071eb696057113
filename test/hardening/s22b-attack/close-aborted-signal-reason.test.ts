import { describe, expect, it } from 'vitest';
import { ClientPool, PoolClosedError, type Limiter } from '../../../src/index.js';
import { gate, state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22b #3, fixed in session 22): `close({ signal })` with a signal that has ALREADY aborted is documented to be destroy(signal.reason)
// at once (src/bounded-close.ts: "the close turns into destroy(signal.reason); at once when it has aborted
// already"; docs/call-pipeline.md: "when the signal aborts, it becomes destroy(signal.reason) ... every call
// destroy() ends, and every wait it ends when it is the first to close, gets PoolClosedError with the reason
// as its cause"). But PoolShutdown.close(options) first runs core.close() with a plain PoolClosedError (ending
// the calls held in around hooks and every wait), and only then destroyOnAbort() calls destroy(reason): the
// held calls and the waits get a PoolClosedError with NO cause, while the attempts in flight get the reason.
// Nothing else closed the pool first: with the signal aborted before close() was called, this close is the
// destroy and is the first to close. Fix: when the signal has aborted already, close with destroy's error
// (call this.destroy(signal.reason) before core.close()).
// Controls: destroy(reason) gives the reason to the same calls; the attempt in flight gets it in both.

useUnhandledGuard({ time: 'real', quietWarnings: true });

const never = new Promise<never>(() => undefined);
const honour = (_c: string, call: { signal: AbortSignal }): Promise<never> => new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('aborted'))));

type Kind = 'held in its around hook' | 'waiting for a client slot' | 'waiting for a pool token';

async function scenario(kind: Kind, stop: (pool: ClientPool<string>, reason: Error) => Promise<void>): Promise<{ error: unknown; inFlightError: unknown; reason: Error }> {
  const reason = new Error('shutting down');
  const hookGate = gate();
  const deaf = { take: () => never, tryTake: () => false } as unknown as Limiter;
  const pool = new ClientPool<string>({ maxWait: 60_000, ...(kind === 'waiting for a pool token' ? { limit: deaf } : {}) });
  if (kind === 'held in its around hook') {
    pool.use({
      name: 'slow-lock',
      around: async (scope, next) => {
        if (scope.options.method === 'held') await hookGate.promise;
        return next();
      },
    });
  }
  pool.add('a', { name: 'a', maxInFlight: 1 });
  const inFlight = kind === 'waiting for a pool token' ? undefined : state(pool.run(honour, { method: 'first' }));
  const seen = state(pool.run(() => 'v', { method: 'held' }));
  await turns(3);
  expect(seen()).toBe('pending');
  await stop(pool, reason);
  await turns(3);
  const s = seen();
  if (s === 'pending' || s.ok) throw new Error(`expected a rejection, saw ${JSON.stringify(s)}`);
  const f = inFlight?.();
  return { error: s.value, inFlightError: f === undefined || f === 'pending' || f.ok ? undefined : f.value, reason };
}

const KINDS: Kind[] = ['held in its around hook', 'waiting for a client slot', 'waiting for a pool token'];

describe('close({ signal }) whose signal has aborted already', () => {
  for (const kind of KINDS) {
    it(`a call ${kind}: PoolClosedError with the signal's reason as cause`, async () => {
      const { error, reason } = await scenario(kind, (pool, r) => pool.close({ signal: AbortSignal.abort(r) }));
      expect(error).toBeInstanceOf(PoolClosedError);
      expect((error as Error).cause).toBe(reason);
    });

    it(`control: destroy(reason), a call ${kind}: the reason as cause`, async () => {
      const { error, reason } = await scenario(kind, (pool, r) => pool.destroy(r));
      expect(error).toBeInstanceOf(PoolClosedError);
      expect((error as Error).cause).toBe(reason);
    });
  }

  it('control: the attempt in flight gets the reason from close({ signal: aborted })', async () => {
    const { inFlightError, reason } = await scenario('waiting for a client slot', (pool, r) => pool.close({ signal: AbortSignal.abort(r) }));
    expect(inFlightError).toBeInstanceOf(PoolClosedError);
    expect((inFlightError as Error).cause).toBe(reason);
  });
});
