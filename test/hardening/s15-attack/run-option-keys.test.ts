// Odd run options (unknown keys, near misses, inherited keys, Proxies, getters that throw) are refused with
// an InvalidOptionError naming the key, whichever order the known keys are compared in.
import { describe, expect, it } from 'vitest';
import { ClientPool, hasErrorCode, InvalidOptionError, PoolClosedError, type RunOptions } from '../../../src/index.js';
import { type Fake } from './harness.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'real' });

const KNOWN = ['method', 'strategy', 'signal', 'timeout', 'deadline', 'coalesce', 'cache', 'retry', 'hedge', 'key', 'maxWait', 'traceId', 'minHeight', 'cost', 'priority'];

function poolOf(): ClientPool<Fake> {
  const pool = new ClientPool<Fake>();
  pool.add({ id: 'a' }, { name: 'a' });
  return pool;
}

async function refusal(options: unknown): Promise<unknown> {
  const pool = poolOf();
  let called = 0;
  const error = await pool.run(() => ++called, options as RunOptions<Fake>).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(called).toBe(0);
  await pool.close();
  return error;
}

/** `options` are refused with an InvalidOptionError whose cause is `thrown`, the function not called. */
async function expectRefusedFor(options: unknown, thrown: Error): Promise<void> {
  const error = await refusal(options);
  expect(error).toBeInstanceOf(InvalidOptionError);
  expect((error as Error).cause).toBe(thrown);
}

describe('run option keys', () => {
  for (const key of ['timout', 'Timeout', 'retries', 'signal ', 'methods', 'deadLine', 'hedges', 'strategies', 'constructor', '__proto__', 'toString', '']) {
    it(`an unknown key ${JSON.stringify(key)} is an InvalidOptionError naming it and listing every known key`, async () => {
      const options = JSON.parse(`{${JSON.stringify(key)}: 1}`) as object;
      const error = await refusal(options);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(`run options.${key}`);
      for (const known of KNOWN) expect((error as Error).message).toContain(known);
    });
  }

  it('an unknown key after every known key is still found (the comparison order does not end the scan early)', async () => {
    const options: Record<string, unknown> = { method: 'x', timeout: 10, signal: undefined, retry: false, strategy: undefined };
    options['timeOut'] = 5;
    const error = await refusal(options);
    expect((error as InvalidOptionError).option).toBe('run options.timeOut');
  });

  it('every known key alone is accepted (the switch and the known-key list agree)', async () => {
    const pool = poolOf();
    for (const key of KNOWN) {
      const error = await pool.run(() => 1, { [key]: undefined }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect([key, error]).toEqual([key, undefined]);
    }
    await pool.close();
  });

  it('an unknown key inherited from the prototype is refused too, naming it', async () => {
    const options = Object.create({ timout: 1 }) as object;
    const error = await refusal(options);
    expect((error as InvalidOptionError).option).toBe('run options.timout');
  });

  it('a Proxy whose ownKeys trap throws is an InvalidOptionError with what it threw as cause', async () => {
    const thrown = new Error('ownKeys trap');
    const options = new Proxy(
      {},
      {
        ownKeys: () => {
          throw thrown;
        },
      },
    );
    await expectRefusedFor(options, thrown);
  });

  it('a Proxy whose get trap throws is an InvalidOptionError with what it threw as cause', async () => {
    const thrown = new Error('get trap');
    const options = new Proxy(
      { timeout: 10 },
      {
        get: () => {
          throw thrown;
        },
      },
    );
    await expectRefusedFor(options, thrown);
  });

  for (const key of KNOWN) {
    it(`a getter for ${key} that throws is an InvalidOptionError with what it threw as cause`, async () => {
      const thrown = new Error(`getter ${key}`);
      const options = Object.defineProperty({}, key, {
        enumerable: true,
        get: () => {
          throw thrown;
        },
      });
      await expectRefusedFor(options, thrown);
    });
  }

  it('a getter for signal that answers once, then throws: an InvalidOptionError, never the raw error', async () => {
    const thrown = new Error('second read');
    let reads = 0;
    const signal = new AbortController().signal;
    const options = Object.defineProperty({}, 'signal', {
      enumerable: true,
      get: () => {
        if (++reads > 1) throw thrown;
        return signal;
      },
    });
    const pool = poolOf();
    const outcome = await pool.run(() => 'ran', options as RunOptions<Fake>).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await pool.close();
    // Either the call runs (the option read once) or it is refused as an option that cannot be read.
    if ('error' in outcome) {
      expect(outcome.error).toBeInstanceOf(InvalidOptionError);
      expect((outcome.error as Error).cause).toBe(thrown);
    } else {
      expect(outcome.value).toBe('ran');
    }
  });

  // unreadableOptions passes a clientpool error on as it is (a nested check's own InvalidOptionError): a
  // getter throwing one of the library's errors is taken for such a check. Pinned as the design.
  it('a getter that throws a clientpool error gives that error as it is', async () => {
    const thrown = new PoolClosedError();
    const options = Object.defineProperty({}, 'timeout', {
      enumerable: true,
      get: () => {
        throw thrown;
      },
    });
    const error = await refusal(options);
    expect(error).toBe(thrown);
    expect(hasErrorCode(error, 'ERR_POOL_CLOSED')).toBe(true);
  });
});
