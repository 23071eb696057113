import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, PoolClosedError, type CallScope, type RunOptions } from '../../src/index.js';

// Options whose values the call refuses (checked with its plan, retry and hedge, after readRunOptions) never
// reach an `around` hook: a hook that answers without next() (a cache) would resolve an invalid call, and one
// that throws would turn the InvalidOptionError into a CallbackError. The call rejects as without hooks.

type Around = (scope: CallScope<string>, next: () => Promise<unknown>) => Promise<unknown>;

function poolWith(around?: Around): ClientPool<string> {
  const pool = new ClientPool<string>();
  if (around !== undefined) pool.use({ name: 'around', around });
  pool.add('a');
  return pool;
}

async function refusal(pool: ClientPool<string>, options: unknown, fn: unknown = (client: string) => client): Promise<unknown> {
  return pool.run(fn as (client: string) => string, options as RunOptions<string>).then(
    (value) => ({ resolved: value }),
    (error: unknown) => error,
  );
}

const REFUSED: [string, object][] = [
  ['timeout -1', { timeout: -1 }],
  ['deadline 0', { deadline: 0 }],
  ['maxWait NaN with a timeout', { timeout: 10, maxWait: Number.NaN }],
  ['timeout over 2^31-1 ms', { timeout: 2 ** 31 }],
  ['priority bogus', { priority: 'bogus' }],
  ['cost -1', { cost: -1 }],
  ['strategy bogus', { strategy: 'bogus' }],
  ['retry attempts "x"', { retry: { attempts: 'x' } }],
  ['retry 7', { retry: 7 }],
  ['hedge delay -5', { hedge: { delay: -5 } }],
  ['method labelled, timeout -1', { method: 'get', timeout: -1 }],
];

describe('around hooks never see options the call refuses', () => {
  it.each(REFUSED)('%s: the hook is not run, and the caller gets the InvalidOptionError a call without hooks gets', async (_name, options) => {
    const seen: unknown[] = [];
    const hooked = poolWith((scope, next) => {
      seen.push(scope.options);
      return next();
    });
    const plain = poolWith();
    const withHooks = await refusal(hooked, options);
    const without = await refusal(plain, options);
    expect(withHooks).toBeInstanceOf(InvalidOptionError);
    expect(without).toBeInstanceOf(InvalidOptionError);
    expect((withHooks as Error).message).toBe((without as Error).message);
    expect(seen).toEqual([]);
    await Promise.all([hooked.close(), plain.close()]);
  });

  it('a caching hook that answers without next() does not turn a call with timeout -1 into a success', async () => {
    const pool = poolWith(() => Promise.resolve('from cache'));
    expect(await refusal(pool, { timeout: -1 })).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('a hook that throws does not turn the refusal of timeout -1 into a CallbackError', async () => {
    const pool = poolWith(() => {
      throw new Error('hook failed');
    });
    expect(await refusal(pool, { timeout: -1 })).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('the checks keep their order: a closed pool refuses with PoolClosedError, a missing fn with its InvalidOptionError, before the bad value', async () => {
    const pool = poolWith((_scope, next) => next());
    const noFn = await refusal(pool, { timeout: -1 }, 'not a function');
    expect(noFn).toBeInstanceOf(InvalidOptionError);
    expect((noFn as InvalidOptionError).message).toMatch(/fn/);
    await pool.close();
    expect(await refusal(pool, { timeout: -1 })).toBeInstanceOf(PoolClosedError);
  });

  it('valid options still run the hook once, with the copy the call runs with', async () => {
    const seen: CallScope<string>[] = [];
    const pool = poolWith((scope, next) => {
      seen.push(scope);
      return next();
    });
    const given = { method: 'get', timeout: 50, retry: { attempts: 2 } };
    expect(await pool.run((client) => client, given)).toBe('a');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'get', isResilient: true, options: { method: 'get', timeout: 50 } });
    expect(seen[0]!.options).not.toBe(given);
    await pool.close();
  });

  it('a getter read once: a valid timeout whose getter would answer -1 on a second read runs the hook and the call', async () => {
    let reads = 0;
    const seen: unknown[] = [];
    const pool = poolWith((scope, next) => {
      seen.push(scope.options.timeout);
      return next();
    });
    const options = {
      get timeout() {
        reads++;
        return reads === 1 ? 50 : -1;
      },
    };
    expect(await pool.run((client) => client, options)).toBe('a');
    expect(reads).toBe(1);
    expect(seen).toEqual([50]);
    await pool.close();
  });
});

describe('calls refused whatever they hold skip the around hooks too', () => {
  it.each([
    ['a bad cache', { coalesce: 'k', cache: { ttl: -1 } }],
    ['a cache with staleIfError but no onStale', { coalesce: 'k', cache: { ttl: 10, staleIfError: 100 } }],
  ])('%s: no hook runs, InvalidOptionError as without hooks', async (_name, options) => {
    const seen: unknown[] = [];
    const hooked = poolWith((scope, next) => {
      seen.push(scope);
      return next();
    });
    const plain = poolWith();
    const withHooks = await refusal(hooked, options);
    const without = await refusal(plain, options);
    expect(withHooks).toBeInstanceOf(InvalidOptionError);
    expect((withHooks as Error).message).toBe((without as Error).message);
    expect(seen).toEqual([]);
    await Promise.all([hooked.close(), plain.close()]);
  });

  it('a caching hook cannot answer a call on a closed pool, nor one whose fn is not a function, nor one whose signal aborted', async () => {
    const pool = poolWith(() => Promise.resolve('from cache'));
    expect(await refusal(pool, { method: 'get' }, 42)).toBeInstanceOf(InvalidOptionError);
    const aborted = await refusal(pool, { signal: AbortSignal.abort(new Error('gone')) });
    expect((aborted as { code?: string }).code).toBe('ERR_ABORTED');
    await pool.close();
    expect(await refusal(pool, { method: 'get' })).toBeInstanceOf(PoolClosedError);
  });

  it('a refusal found before the hooks is the one the caller gets: a retry getter answering bad then good never lets the call run', async () => {
    let reads = 0;
    let runs = 0;
    const pool = poolWith((_scope, next) => next());
    const retry = {
      get attempts() {
        reads++;
        return reads === 1 ? 'x' : 2;
      },
    };
    const error = await refusal(pool, { retry }, () => runs++);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(runs).toBe(0);
    expect(reads).toBe(1);
    await pool.close();
  });
});

describe('a coalesced call is checked before it joins or starts a flight', () => {
  it('a joiner with timeout -1 is refused, not answered by the flight in progress', async () => {
    const pool = poolWith();
    let release!: (value: string) => void;
    const flight = pool.run(() => new Promise<string>((resolve) => (release = resolve)), { coalesce: 'k' });
    const joiner = refusal(pool, { coalesce: 'k', timeout: -1 });
    release('shared');
    expect(await flight).toBe('shared');
    expect(await joiner).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('a good joiner is not refused for the options of the call that would have started the flight', async () => {
    const pool = poolWith();
    const bad = refusal(pool, { coalesce: 'k', timeout: -1 });
    const good = pool.run((client) => client, { coalesce: 'k' });
    expect(await bad).toBeInstanceOf(InvalidOptionError);
    expect(await good).toBe('a');
    await pool.close();
  });
});
