import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, type RunOptions } from '../../src/index.js';

const hostile = new Proxy(
  {},
  {
    get() {
      throw new Error('options trap');
    },
    ownKeys() {
      throw new Error('keys trap');
    },
  },
);

const throwingTimeout = {
  get timeout(): number {
    throw new Error('getter');
  },
};

describe('options that cannot be read are refused with InvalidOptionError, what was thrown as its cause', () => {
  const pool = new ClientPool<object>();
  pool.add({});
  const fn = (): number => 1;

  it.each([
    ['run options that are a Proxy', hostile, 'keys trap'],
    ['retry options that are a Proxy', { retry: hostile }, 'keys trap'],
    ['hedge options that are a Proxy', { hedge: hostile }, 'keys trap'],
    ['a run option whose getter throws', throwingTimeout, 'getter'],
    [
      'a retry option whose getter throws',
      {
        retry: {
          get attempts(): number {
            throw new Error('attempts getter');
          },
        },
      },
      'attempts getter',
    ],
  ])('%s', async (_what, options, cause) => {
    const error = await pool.run(fn, options as RunOptions<object>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(((error as Error).cause as Error).message).toBe(cause);
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it('the same through an around hook, which reads the options first', async () => {
    const wrapped = new ClientPool<object>();
    wrapped.add({});
    wrapped.use({ name: 'span', around: (_scope, next) => next() });
    const error = await wrapped.run(fn, throwingTimeout as RunOptions<object>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    await wrapped.close();
  });

  it('close() with a bad signal or unreadable options returns a rejected promise, and leaves the pool open', async () => {
    const target = new ClientPool<object>();
    let closing: Promise<void> | undefined;
    expect(() => (closing = target.close({ signal: 5 } as unknown as { signal: AbortSignal }))).not.toThrow();
    await expect(closing).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(target.close(hostile)).rejects.toBeInstanceOf(InvalidOptionError);
    expect(target.isClosed).toBe(false);
    await target.close();
    await pool.close();
  });
});
