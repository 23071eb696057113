import { describe, expect, it } from 'vitest';
import { CallbackError, ClientPanicError, ClientPool, isClientPoolError } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22 #5, fixed in session 22): an around hook that rejects with a value carrying the clientpool brand
// (Symbol.for('clientpool.error')) but that is not an Error (a plain object, a JSON-revived error, a
// forged or structurally-cloned one) reaches the caller as that plain object. README, errors: "Every
// error the library raises is a class ... the caller gets a clientpool error with the original as
// cause"; docs/call-pipeline.md: around hooks are guarded. The same value thrown by fn or by an
// `execute` middleware becomes a ClientPanicError (recover() checks `instanceof Error` and a string
// code: isBrandedError); aroundFailure() only checks the brand (isClientPoolError).

useUnhandledGuard({ time: 'real', quietWarnings: true });

const forged = (): object => ({ [Symbol.for('clientpool.error')]: true, code: 'ERR_TIMEOUT', message: 'revived from JSON' });

describe('a branded non-Error rejected by a hook', () => {
  it('around hook rejects with it: the caller gets a CallbackError with it as the cause, not the plain object', async () => {
    const p = new ClientPool<string>();
    p.use({ name: 'h', around: () => Promise.reject(forged()) });
    p.add('a', { name: 'a' });
    const seen = state(p.run(() => 'v'));
    await turns();
    const error = (seen() as { value: unknown }).value;
    expect(error).toBeInstanceOf(Error);
    expect(isClientPoolError(error)).toBe(true);
    expect(error).toBeInstanceOf(CallbackError);
  });

  it('around hook throws it synchronously: the same', async () => {
    const p = new ClientPool<string>();
    p.use({ name: 'h', around: () => { throw forged(); } });
    p.add('a', { name: 'a' });
    const seen = state(p.run(() => 'v'));
    await turns();
    expect((seen() as { value: unknown }).value).toBeInstanceOf(Error);
  });

  it('control: fn and execute middleware rejecting with it give a ClientPanicError', async () => {
    const p = new ClientPool<string>();
    p.add('a', { name: 'a' });
    const a = state(p.run(() => Promise.reject(forged())));
    const q = new ClientPool<string>();
    q.use({ name: 'x', execute: () => Promise.reject(forged()) });
    q.add('a', { name: 'a' });
    const b = state(q.run(() => 'v'));
    await turns();
    expect((a() as { value: unknown }).value).toBeInstanceOf(ClientPanicError);
    expect((b() as { value: unknown }).value).toBeInstanceOf(ClientPanicError);
  });
});
