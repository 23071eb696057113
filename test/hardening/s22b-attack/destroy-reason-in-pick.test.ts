import { describe, expect, it } from 'vitest';
import { ClientPool, PoolClosedError, type Limiter } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22b #2, fixed in session 22): destroy(reason) called from a callback the pipeline runs while the call picks its client (a
// custom balancer's pick(), a pool limit's tryTake()) ends that call with a PoolClosedError that has NO
// cause: the reason is lost. docs/call-pipeline.md ("close() and destroy()"): "every call destroy() ends
// ... gets PoolClosedError with the reason as its cause"; README destroy(reason?): "PoolClosedError,
// reason as cause". destroy() closes with its own error (PoolCore.close(error), the closing signal's
// reason), but pick-client.ts (afterPick: `context.isClosing ? new PoolClosedError() : ...`,
// pickIfWanted) and pool-token.ts (`if (context.isClosing) return Promise.reject(new PoolClosedError())`)
// make a fresh plain PoolClosedError instead of the closing reason / core.destroyError.
// Control: the same destroy from an async limiter take() reaches the call as the reason (cause).
// No time involved.

useUnhandledGuard({ time: 'real', quietWarnings: true });

const honour = (_c: string, call: { signal: AbortSignal }): Promise<never> => new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('aborted'))));

type Where = 'pick' | 'tryTake' | 'take';

async function scenario(where: Where, hooked: boolean): Promise<{ error: unknown; reason: Error; pool: ClientPool<string> }> {
  const reason = new Error('R');
  const ref = { pool: undefined as unknown as ClientPool<string> };
  let destroyed: Promise<void> | undefined;
  const destroy = (): void => void (destroyed ??= ref.pool.destroy(reason));
  const limiter = { tryTake: () => (where === 'tryTake' ? (destroy(), true) : where !== 'take'), take: () => (destroy(), Promise.resolve()) } as unknown as Limiter;
  const pool = (ref.pool = new ClientPool<string>({
    maxWait: 60_000,
    ...(where === 'pick' ? { strategy: { pick: (ready: readonly unknown[]) => (destroy(), ready[0]) } } : { limit: limiter }),
  } as never));
  if (hooked) pool.use({ name: 'pass', around: (_s, next) => next() });
  pool.add('a', { name: 'a' });
  pool.add('b', { name: 'b' });
  const seen = state(pool.run(honour, { method: 'm' }));
  await turns(6);
  await destroyed;
  const s = seen();
  if (s === 'pending' || s.ok) throw new Error(`expected a rejection, saw ${JSON.stringify(s)}`);
  return { error: s.value, reason, pool };
}

describe('destroy(reason) from a callback of the pick', () => {
  for (const where of ['pick', 'tryTake'] as const) {
    for (const hooked of [false, true]) {
      it(`from ${where === 'pick' ? "a balancer's pick()" : "a limit's tryTake()"}${hooked ? ', past a pass-through hook' : ''}: PoolClosedError with the reason as cause`, async () => {
        const { error, reason, pool } = await scenario(where, hooked);
        expect(error).toBeInstanceOf(PoolClosedError);
        expect((error as Error).cause).toBe(reason);
        expect(inFlight(pool)).toBe(0);
      });
    }
  }

  it("control: from an async limiter take(): the reason as cause", async () => {
    const { error, reason } = await scenario('take', false);
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as Error).cause).toBe(reason);
  });
});
