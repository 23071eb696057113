import { describe, expect, it } from 'vitest';
import { ClientPool, PoolClosedError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22c #4, fixed in session 22): after `destroy(reason)`, a NEW call is refused with a PoolClosedError
// that has the reason as cause or not depending only on how it was written:
//   run(fn)                       -> PoolClosedError, cause = reason    (fast path: the closed lane's pick)
//   quorum(fn, { of: 1 })         -> PoolClosedError, cause = reason    (core.closedError())
//   run(fn, {}) / { timeout } / { method } / { coalesce } / { retry } / { hedge }
//                                 -> PoolClosedError, cause undefined
//   run(fn) on a pool with an around hook or an onCallEnd middleware, proxy().get()
//                                 -> PoolClosedError, cause undefined
// Expected: 87e546c: "Every refusal of a closing pool (pick, pool token, coalesce, quorum, held calls) takes
// PoolCore.closedError(): destroy()'s error with its reason" - the same answer for every call of a destroyed
// pool, as the calls destroy() ended got (docs/call-pipeline.md: "PoolClosedError (reason as cause)").
// Cause: src/pool.ts #run still starts with `if (core.isClosing) throw new PoolClosedError();` (and
// around-call.ts sends a closing pool's call straight to #run).

useUnhandledGuard({ time: 'real', quietWarnings: true });

type Client = { get: () => string };
const reason = new Error('shutting down');

async function destroyed(setup: 'plain' | 'hook' | 'callEnd'): Promise<ClientPool<Client>> {
  const pool = new ClientPool<Client>();
  if (setup === 'hook') pool.use({ name: 'pass', around: (_s, next) => next() });
  if (setup === 'callEnd') pool.use({ name: 'ends', onCallEnd: () => {} });
  pool.add({ get: () => 'v' }, { name: 'a' });
  await pool.destroy(reason);
  return pool;
}

async function refusal(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'resolved',
    (e: unknown) => e,
  );
}

const withOptions: [string, (pool: ClientPool<Client>) => Promise<unknown>][] = [
  ['run(fn, {})', (pool) => pool.run(() => 'v', {})],
  ['run(fn, { timeout })', (pool) => pool.run(() => 'v', { timeout: 100 })],
  ['run(fn, { method })', (pool) => pool.run(() => 'v', { method: 'm' })],
  ['run(fn, { coalesce })', (pool) => pool.run(() => 'v', { coalesce: 'k' })],
  ['run(fn, { retry })', (pool) => pool.run(() => 'v', { retry: { attempts: 2 } })],
  ['proxy().get()', (pool) => (pool.proxy() as unknown as { get: () => Promise<string> }).get()],
];

describe('a new call after destroy(reason): PoolClosedError with the reason as cause, however it is written', () => {
  for (const [name, call] of withOptions) {
    it(name, async () => {
      const error = await refusal(call(await destroyed('plain')));
      expect(error).toBeInstanceOf(PoolClosedError);
      expect((error as Error).cause).toBe(reason);
    });
  }

  for (const setup of ['hook', 'callEnd'] as const) {
    it(`run(fn) on a pool with ${setup === 'hook' ? 'an around hook' : 'an onCallEnd middleware'}`, async () => {
      const error = await refusal((await destroyed(setup)).run(() => 'v'));
      expect(error).toBeInstanceOf(PoolClosedError);
      expect((error as Error).cause).toBe(reason);
    });
  }

  it('control: run(fn) with no options, no hook: the reason as cause', async () => {
    const error = await refusal((await destroyed('plain')).run(() => 'v'));
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as Error).cause).toBe(reason);
  });

  it('control: quorum(fn, { of: 1 }): the reason as cause', async () => {
    const error = await refusal((await destroyed('plain')).quorum(() => 'v', { of: 1 }));
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as Error).cause).toBe(reason);
  });
});
