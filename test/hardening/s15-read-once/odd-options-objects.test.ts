// Options objects of every odd kind a user may pass to run(): the copy the call runs with holds what
// reading each key of the object gives (own, inherited, prototype getter, Proxy `get`), read once.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, InvalidOptionError, type Call, type RunOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

interface Fake {
  readonly id: string;
}

useUnhandledGuard({ time: 'fake-timers' });

const clock = { now: (): number => Date.now() };
const never = (): Promise<never> => new Promise<never>(() => undefined);

function poolOf(...names: string[]): ClientPool<Fake> {
  const pool = new ClientPool<Fake>({ clock });
  for (const name of names) pool.add({ id: name }, { name });
  return pool;
}

/** What the call's function sees of `options` (method and timeout), and how long until it times out. */
async function runWith(options: unknown): Promise<{ method: string | undefined; timeout: number | undefined; timedOutAt: number | undefined }> {
  const pool = poolOf('a');
  let method: string | undefined;
  let timeout: number | undefined;
  const start = Date.now();
  let timedOutAt: number | undefined;
  const call = pool.run((_client, c: Call<Fake>) => {
    method = c.options.method;
    timeout = c.options.timeout;
    return never();
  }, options as RunOptions<Fake>);
  call.catch((error: unknown) => {
    if ((error as { code?: string }).code === 'ERR_TIMEOUT') timedOutAt = Date.now() - start;
  });
  for (let t = 0; t < 200 && timedOutAt === undefined; t++) await vi.advanceTimersByTimeAsync(1);
  return { method, timeout, timedOutAt };
}

describe('odd options objects run with what reading their keys gives', () => {
  it('a frozen object', async () => {
    expect(await runWith(Object.freeze({ method: 'm', timeout: 50 }))).toEqual({ method: 'm', timeout: 50, timedOutAt: 50 });
  });

  it('an object with a null prototype', async () => {
    expect(await runWith(Object.assign(Object.create(null) as object, { method: 'm', timeout: 50 }))).toEqual({ method: 'm', timeout: 50, timedOutAt: 50 });
  });

  it('a class instance whose options are getters on its prototype', async () => {
    class Options {
      get method(): string {
        return 'm';
      }
      get timeout(): number {
        return 50;
      }
    }
    expect(await runWith(new Options())).toEqual({ method: 'm', timeout: 50, timedOutAt: 50 });
  });

  it('inherited keys (Object.create(proto))', async () => {
    expect(await runWith(Object.create({ method: 'm', timeout: 50 }) as object)).toEqual({ method: 'm', timeout: 50, timedOutAt: 50 });
  });

  it('a non-enumerable own timeout', async () => {
    expect(await runWith(Object.defineProperty({ method: 'm' }, 'timeout', { value: 50, enumerable: false }))).toEqual({ method: 'm', timeout: 50, timedOutAt: 50 });
  });

  it('a Proxy whose ownKeys trap lies (says no keys) but whose get answers', async () => {
    const options = new Proxy({}, {
      ownKeys: () => [],
      get: (_target, key) => (key === 'method' ? 'm' : key === 'timeout' ? 50 : undefined),
    });
    expect(await runWith(options)).toEqual({ method: 'm', timeout: 50, timedOutAt: 50 });
  });

  it('a getter that answers differently at each read runs with its first answer', async () => {
    let n = 0;
    const options = Object.defineProperty({}, 'timeout', { enumerable: true, get: () => (++n === 1 ? 50 : 5) });
    expect(await runWith(options)).toEqual({ method: undefined, timeout: 50, timedOutAt: 50 });
    expect(n).toBe(1);
  });

  it('{} (empty): no option, every key of the copy undefined', async () => {
    const pool = poolOf('a');
    const copy = await pool.run((_client, c: Call<Fake>) => c.options, {});
    expect(Object.values(copy).every((value) => value === undefined)).toBe(true);
    expect(Object.keys(copy)).toHaveLength(15);
  });

  it('one options object reused by concurrent calls and changed between them: each call keeps what it started with', async () => {
    const pool = poolOf('a');
    const options: { timeout: number } = { timeout: 100 };
    const ends: string[] = [];
    const start = Date.now();
    const track = (name: string, promise: Promise<unknown>): void =>
      void promise.catch((error: unknown) => ends.push(`${name}:${(error as { code?: string }).code}@${Date.now() - start}`));
    track('first', pool.run(never, options));
    options.timeout = 30;
    track('second', pool.run(never, options));
    options.timeout = 60;
    track('third', pool.run(never, options));
    options.timeout = 1;
    await vi.advanceTimersByTimeAsync(150);
    expect(ends).toEqual(['second:ERR_TIMEOUT@30', 'third:ERR_TIMEOUT@60', 'first:ERR_TIMEOUT@100']);
  });
});

describe('options that cannot be read are an InvalidOptionError with the thrown error as cause', () => {
  const thrown = new Error('trap');
  const CASES: [string, () => unknown][] = [
    ['a Proxy whose get trap throws', () => new Proxy({ timeout: 5 }, { get: () => { throw thrown; } })],
    ['a Proxy whose ownKeys trap throws', () => new Proxy({}, { ownKeys: () => { throw thrown; } })],
    ['a getter that throws', () => Object.defineProperty({}, 'timeout', { enumerable: true, get: () => { throw thrown; } })],
    ['a prototype getter that throws', () => new (class { get method(): string { throw thrown; } })()],
  ];
  it.each(CASES)('%s', async (_name, make) => {
    const pool = poolOf('a');
    const error = await pool.run(() => 1, make() as RunOptions<Fake>).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('run options');
    expect((error as Error).cause).toBe(thrown);
  });
});

describe('a signal value that cannot be inspected is refused as an InvalidOptionError, never the raw error', () => {
  const thrown = new Error('getPrototypeOf trap');
  const SIGNALS: [string, () => unknown][] = [
    ['a Proxy whose getPrototypeOf trap throws', () => new Proxy({}, { getPrototypeOf: () => { throw thrown; } })],
    ['a revoked Proxy', () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    }],
  ];
  type Where = 'run' | 'run with an around hook' | 'quorum';
  const WHERE: readonly Where[] = ['run', 'run with an around hook', 'quorum'];
  const cases = SIGNALS.flatMap(([name, make]) => WHERE.map((where) => [name, where, make] as const));
  it.each(cases)('%s, through %s', async (_name, where, make) => {
    const pool = poolOf('a', 'b', 'c');
    if (where === 'run with an around hook') pool.use({ name: 'around', around: (_scope, next) => next() });
    let calls = 0;
    let outcome: unknown;
    try {
      const promise = where === 'quorum' ? pool.quorum(() => ++calls, { of: 1, signal: make() } as never) : pool.run(() => ++calls, { signal: make() } as RunOptions<Fake>);
      outcome = await promise.then(() => 'resolved', (e: unknown) => e);
    } catch (error) {
      outcome = { syncThrow: error };
    }
    expect(outcome).toBeInstanceOf(InvalidOptionError);
    expect((outcome as InvalidOptionError).code).toBe('ERR_INVALID_OPTION');
    expect(calls).toBe(0);
  });
});
