import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, isClientPoolError, type CallEnd } from '../../../src/index.js';

// pool.quorum() with an onCallEnd hook: CallEnds.run(options, ...) is handed the caller's quorum options as
// given, and labels them with methodOf(options), which runs the `method` getter; quorumSpec then reads it
// again. A getter that throws on its first read is swallowed by methodOf ('unknown'), and the second read,
// in quorumSpec, answers: the quorum runs. Without the hook, the same options refuse the quorum.

function throwsOnce(): { options: { of: number; readonly method: string }; reads: () => number } {
  let reads = 0;
  const options = {
    of: 2,
    get method(): string {
      reads++;
      if (reads === 1) throw new Error('first read fails');
      return 'get';
    },
  };
  return { options, reads: () => reads };
}

function twoClientPool(withHook: boolean, ends: CallEnd<string>[] = []): ClientPool<string> {
  const pool = new ClientPool<string>();
  if (withHook) pool.use({ name: 'ends', onCallEnd: (end) => void ends.push(end) });
  pool.add('a');
  pool.add('b');
  return pool;
}

describe('quorum options are read once whatever watches the quorum', () => {
  it('without hooks: a quorum whose method getter throws on its first read is refused and its function never runs (control)', async () => {
    const pool = twoClientPool(false);
    const { options, reads } = throwsOnce();
    let runs = 0;
    const error = await pool.quorum(() => {
      runs++;
      return 1;
    }, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(runs).toBe(0);
    expect(reads()).toBeGreaterThanOrEqual(1);
    await pool.close();
  });

  it('with an onCallEnd hook: a quorum whose method getter throws on its first read is refused too, and its function never runs', async () => {
    const ends: CallEnd<string>[] = [];
    const pool = twoClientPool(true, ends);
    const { options } = throwsOnce();
    let runs = 0;
    const error = await pool.quorum(() => {
      runs++;
      return 1;
    }, options).catch((e: unknown) => e);
    expect(runs).toBe(0);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(ends).toHaveLength(1);
    await pool.close();
  });

  it('with an onCallEnd hook: the method getter of quorum options that can be read is run once per quorum', async () => {
    const pool = twoClientPool(true);
    let reads = 0;
    const options = {
      of: 2,
      get method(): string {
        reads++;
        return 'get';
      },
    };
    await expect(pool.quorum(() => 1, options)).resolves.toBe(1);
    expect(reads).toBe(1);
    await pool.close();
  });

  // givenOf(options) (src/pipeline/call-end.ts), new in this change, asks `options instanceof OptionsRefusal`
  // of the quorum options as given: for a Proxy that is a getPrototypeOf trap, run outside any try. A trap
  // that throws (or a revoked Proxy) makes pool.quorum() throw synchronously, the raw error, when an
  // onCallEnd hook is registered; without the hook the same options give a rejected promise.
  it('with an onCallEnd hook: quorum options that are a Proxy whose getPrototypeOf trap throws give a rejected promise with a typed error, never a synchronous throw', async () => {
    const pool = twoClientPool(true);
    const options = new Proxy({ of: 2 }, { getPrototypeOf: () => {
      throw new Error('proto trap');
    } });
    let returned: Promise<unknown> | undefined;
    let thrown: unknown;
    try {
      returned = pool.quorum(() => 1, options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeUndefined();
    const error = await returned?.catch((e: unknown) => e);
    expect(isClientPoolError(error)).toBe(true);
    await pool.close();
  });

  it('with an onCallEnd hook: a revoked Proxy as quorum options gives a rejected promise, never a synchronous throw', async () => {
    const pool = twoClientPool(true);
    const { proxy, revoke } = Proxy.revocable({ of: 2 }, {});
    revoke();
    let returned: Promise<unknown> | undefined;
    let thrown: unknown;
    try {
      returned = pool.quorum(() => 1, proxy);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeUndefined();
    await returned?.catch(() => undefined);
    await pool.close();
  });
});
