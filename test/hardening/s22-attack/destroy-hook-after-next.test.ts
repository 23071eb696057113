import { describe, expect, it } from 'vitest';
import { ClientPool, PoolClosedError, type CallEnd, type CallScope } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22 #1, fixed in session 22): destroy(reason) does not end a call whose around hook has called next() and then hangs (a flush
// in `finally`, a cache write after the answer). The attempt is ended (or already over), destroy() and
// close() resolve, the pool is empty, and the caller's promise stays pending for ever: onCallEnd and the
// trace never hear it. README: destroy "ends every attempt in flight now (PoolClosedError, reason as
// cause)"; the only documented exception is a function with no timeout and no signal that ignores
// call.signal (docs/call-pipeline.md, close() and destroy()). Before next(), the same hook is ended by
// destroy() at once (control). No time is involved: nothing here waits on a timer.

useUnhandledGuard({ time: 'real', quietWarnings: true });

const never = new Promise<never>(() => undefined);
type Hook = (scope: CallScope<string>, next: () => Promise<unknown>) => Promise<unknown>;

function pool(around: Hook): { pool: ClientPool<string>; ends: CallEnd<string>[] } {
  const p = new ClientPool<string>();
  const ends: CallEnd<string>[] = [];
  p.use({ name: 'ends', onCallEnd: (e) => void ends.push(e) });
  p.use({ name: 'flush', around });
  p.add('a', { name: 'a' });
  return { pool: p, ends };
}

const hangInFinally: Hook = async (_s, next) => {
  try {
    return await next();
  } finally {
    await never; // a flush that never completes
  }
};
const hangAfterAnswer: Hook = async (_s, next) => {
  const value = await next();
  await never; // a cache write that never completes
  return value;
};

describe('destroy(reason) and a hook hanging after next()', () => {
  it('the attempt is ended by destroy, the hook hangs in finally: the caller gets PoolClosedError with the reason', async () => {
    const { pool: p, ends } = pool(hangInFinally);
    // A timeout (never reached) gives the attempt a race, so destroy() can end it.
    const seen = state(p.run(() => never, { timeout: 60_000 }));
    await turns();
    await p.destroy('why');
    await turns(10);
    const s = seen();
    expect(s).not.toBe('pending');
    expect(s).toMatchObject({ ok: false });
    const error = (s as { value: unknown }).value;
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as Error).cause).toBe('why');
    expect(ends).toHaveLength(1);
  });

  it('fn answered, the hook hangs after it; destroy(reason): the caller gets PoolClosedError with the reason', async () => {
    const { pool: p, ends } = pool(hangAfterAnswer);
    const seen = state(p.run(() => 'v'));
    await turns();
    await p.destroy('why');
    await turns(10);
    const s = seen();
    expect(s).not.toBe('pending');
    expect((s as { value: unknown }).value).toBeInstanceOf(PoolClosedError);
    expect(ends).toHaveLength(1);
  });

  it('with a signal that never aborts (a server-lifetime signal), destroy(reason) ends it too', async () => {
    const { pool: p, ends } = pool(hangAfterAnswer);
    const ac = new AbortController();
    const seen = state(p.run(() => 'v', { signal: ac.signal }));
    await turns();
    await p.destroy('why');
    await turns(10);
    expect(seen()).not.toBe('pending');
    expect(ends).toHaveLength(1);
  });

  it('control: the same hook hanging before next() is ended by destroy(reason) at once', async () => {
    const { pool: p, ends } = pool(async (_s, next) => {
      await never;
      return next();
    });
    const seen = state(p.run(() => 'v'));
    await turns();
    await p.destroy('why');
    await turns();
    const s = seen();
    expect(s).toMatchObject({ ok: false });
    expect((s as { value: unknown }).value).toBeInstanceOf(PoolClosedError);
    expect(((s as { value: Error }).value).cause).toBe('why');
    expect(ends).toHaveLength(1);
  });
});
