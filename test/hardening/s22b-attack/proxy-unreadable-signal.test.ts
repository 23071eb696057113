import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22b #6, fixed in session 22): d33f3ce made run() refuse a signal that only has AbortSignal's prototype
// (`Object.create(AbortSignal.prototype)`, whose `aborted` getter throws ERR_INVALID_THIS) with
// InvalidOptionError (validate.ts abortSignal(): read through the real getter). The proxy's path for a
// caller's own signal in the options argument was left out: `callerSignal()` (src/wrapping/inject-signal.ts)
// still checks `instanceof AbortSignal` only, and when the proxy also has a `run: { signal }`, proxy.ts
// combines the two with `eitherSignal(given, runSignal)`, whose `a.aborted` throws. The proxied method then
// THROWS a raw TypeError synchronously (not a rejection, not a clientpool error).
// docs/proxy.md "Errors": "InvalidOptionError for a bad option ... otherwise the errors of pool.run()";
// README: every error the library raises is a clientpool class. Expected: the proxied call returns a
// promise that rejects with InvalidOptionError, as it does without the proxy's run signal (control).

useUnhandledGuard({ time: 'real' });

type Client = { get(o?: { signal?: AbortSignal }): Promise<string> };

function proxied(withRunSignal: boolean): { pool: ClientPool<Client>; p: Client } {
  const pool = new ClientPool<Client>();
  pool.add({ get: () => Promise.resolve('v') }, { name: 'a' });
  const p = pool.proxy({ signal: { get: 0 }, ...(withRunSignal ? { run: { signal: new AbortController().signal } } : {}) });
  return { pool, p };
}

async function outcome(call: () => Promise<string>): Promise<{ threw?: unknown; rejected?: unknown; value?: unknown }> {
  let promise: Promise<string>;
  try {
    promise = call();
  } catch (error) {
    return { threw: error };
  }
  return promise.then((value) => ({ value }), (rejected: unknown) => ({ rejected }));
}

describe('a proxied call given a signal that only has AbortSignal\'s prototype', () => {
  it('with the proxy\'s own run signal: rejects with InvalidOptionError (no synchronous TypeError)', async () => {
    const { pool, p } = proxied(true);
    const seen = await outcome(() => p.get({ signal: Object.create(AbortSignal.prototype) as AbortSignal }));
    expect(seen.threw).toBeUndefined();
    expect(seen.rejected).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('control: without a run signal, it rejects with InvalidOptionError', async () => {
    const { pool, p } = proxied(false);
    const seen = await outcome(() => p.get({ signal: Object.create(AbortSignal.prototype) as AbortSignal }));
    expect(seen.threw).toBeUndefined();
    expect(seen.rejected).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('control: a real signal with the proxy\'s run signal answers', async () => {
    const { pool, p } = proxied(true);
    const seen = await outcome(() => p.get({ signal: new AbortController().signal }));
    expect(seen).toEqual({ value: 'v' });
    await pool.close();
  });
});
