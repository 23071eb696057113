// A call's function or middleware may pass its own options on to another call (a nested run, a quorum
// read, a spread over defaults). Since the copy, call.options holds all 15 known keys, undefined where
// the caller gave none: these probes pin what that does to each way of passing them on.
import { describe, expect, it } from 'vitest';
import { ClientPool, type Call, type RunOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

interface Fake {
  readonly id: string;
}

useUnhandledGuard({ time: 'real' });

function poolOf(...names: string[]): ClientPool<Fake> {
  const pool = new ClientPool<Fake>();
  for (const name of names) pool.add({ id: name }, { name });
  return pool;
}

describe('call.options passed on from inside a call', () => {
  it('to a nested pool.run, as they are', async () => {
    const pool = poolOf('a', 'b');
    const value = await pool.run((_client, call: Call<Fake>) => pool.run((_c, inner: Call<Fake>) => `${inner.method}:${inner.options.timeout}`, call.options), { method: 'get', timeout: 100 });
    expect(value).toBe('get:100');
    await pool.close();
  });

  it('to pool.quorum, spread with `of`: accepted, as the options the caller gave would be', async () => {
    const pool = poolOf('a', 'b', 'c');
    const given: RunOptions<Fake> = { method: 'get', timeout: 100 };
    // The caller's own options are accepted by quorum...
    await expect(pool.quorum(() => 1, { ...given, of: 2 })).resolves.toBe(1);
    // ...and so should the copy the call ran with be (it holds nothing the caller did not give).
    const outcome = await pool.run((_client, call: Call<Fake>) => pool.quorum(() => 1, { ...call.options, of: 2 }), given).then(
      (value) => value,
      (error: unknown) => `${(error as { code?: string }).code} ${(error as { option?: string }).option}`,
    );
    expect(outcome).toBe(1);
    await pool.close();
  });

  // A behaviour change rather than a fault: a spread of call.options over defaults now sets every
  // option the caller left out to undefined (5794fe0 kept the defaults: call.options was the
  // caller's object). Pinned so a change to the copy's shape is noticed.
  it('spread over defaults: the copy sets the options the caller left out to undefined', async () => {
    const pool = poolOf('a');
    const defaults = { timeout: 50, priority: 'high' as const };
    const merged = await pool.run((_client, call: Call<Fake>) => ({ ...defaults, ...call.options }), { method: 'get' });
    expect(merged.timeout).toBeUndefined();
    expect(merged.priority).toBeUndefined();
    await pool.close();
  });
});
