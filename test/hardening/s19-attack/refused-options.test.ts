import { describe, expect, it } from 'vitest';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { InvalidOptionError, isClientPoolError, type RunOptions } from '../../../src/index.js';
import { settle, throwsOnRead, watchedPool, WATCHED, WATCHES, type Watched } from './helpers.js';

// Options that cannot be read, or are refused, whatever watches the call: the caller gets a typed error
// (the original as cause when there is one), the function never runs, no getter is read again to run it,
// onCallEnd fires once, the around hook never sees the call, the trace tells the same story.

useUnhandledGuard({ time: 'real' });

/** What every refused call must leave behind, for the watch it had. */
function expectRefusalSeen(w: Watched, error: unknown, given: unknown, method = 'unknown'): void {
  expect(w.scopes).toEqual([]);
  if (w.ends.length > 0 || w.trace.length > 0) {
    // onCallEnd (when watching): once, the caller's error, the options as given.
  }
  for (const end of w.ends) {
    expect(end.error).toBe(error);
    expect(end.options).toBe(given);
    expect(end.method).toBe(method);
  }
  if (w.trace.length > 0) {
    expect(w.trace.map((e) => e.kind)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    const message = w.trace[0]!.message;
    for (const e of w.trace) expect(e.message).toBe(message);
    expect(message.error).toBe(error);
    expect(message.options).toBe(given);
    expect(message.method).toBe(method);
    expect('result' in message).toBe(false);
  }
  for (const member of w.pool.members()) expect(member.inFlight).toBe(0);
}

function endsExpected(watch: string): number {
  return watch === 'onCallEnd' || watch === 'all' ? 1 : 0;
}

describe.each(WATCHES)('watched by %s', (watch) => {
  it.each([1, 2, 3])('a timeout getter that throws on read %i: the first read is the only read that counts (refused only when the first throws)', async (n) => {
    const w = watchedPool(watch);
    const { options, reads, thrown } = throwsOnRead('timeout', n, 1_000, { method: 'get' });
    let runs = 0;
    const r = await settle(w.pool.run((c) => {
      runs++;
      return c;
    }, options));
    if (n === 1) {
      expect(r.ok).toBe(false);
      expect(r.value).toBeInstanceOf(InvalidOptionError);
      expect((r.value as Error).cause).toBe(thrown);
      expect(runs).toBe(0);
      expect(reads()).toBeLessThanOrEqual(2); // the read that threw, and the error's description of the options (never a read to run it)
      expectRefusalSeen(w, r.value, options, 'get');
    } else {
      expect(r).toEqual({ ok: true, value: 'a' });
      expect(runs).toBe(1);
      expect(reads()).toBe(1);
      if (w.trace.length > 0) expect(w.trace.map((e) => e.kind)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    }
    expect(w.ends).toHaveLength(endsExpected(watch));
    await w.done();
  });

  it('a method getter that throws: refused, labelled unknown (the accessor is not run again to label it)', async () => {
    const w = watchedPool(watch);
    const { options, reads, thrown } = throwsOnRead('method', 1, 'get');
    const r = await settle(w.pool.run((c) => c, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect((r.value as Error).cause).toBe(thrown);
    expect(reads()).toBeLessThanOrEqual(2); // the read that threw, and at most the error's description of the options
    expect(w.ends).toHaveLength(endsExpected(watch));
    expectRefusalSeen(w, r.value, options, 'unknown');
    await w.done();
  });

  it.each(['get', 'ownKeys', 'getOwnPropertyDescriptor', 'has', 'getPrototypeOf'] as const)('a Proxy whose %s trap throws: a typed error, the trap error as cause when a trap ran and threw, no get after the refusal', async (trap) => {
    const w = watchedPool(watch);
    const thrown = new Error(`${trap} trap`);
    let getsAfter = 0;
    let refused = false;
    const target = { method: 'get', timeout: 1_000 };
    const handler: ProxyHandler<object> = {
      [trap]: () => {
        throw thrown;
      },
    };
    if (trap !== 'get') handler.get = (t, k, r) => {
      if (refused) getsAfter++;
      return Reflect.get(t, k, r) as unknown;
    };
    const options = new Proxy(target, handler);
    let runs = 0;
    const r = await settle(w.pool.run((c) => {
      runs++;
      return c;
    }, options));
    refused = true;
    if (trap === 'has') {
      // `in` is not used to read options: the call runs, read once.
      expect(r).toEqual({ ok: true, value: 'a' });
      expect(runs).toBe(1);
    } else {
      expect(r.ok).toBe(false);
      expect(isClientPoolError(r.value)).toBe(true);
      expect(r.value).toBeInstanceOf(InvalidOptionError);
      expect((r.value as Error).cause).toBe(thrown);
      expect(runs).toBe(0);
      expectRefusalSeen(w, r.value, options, trap === 'getOwnPropertyDescriptor' ? 'unknown' : 'get');
    }
    expect(getsAfter).toBe(0);
    expect(w.ends).toHaveLength(endsExpected(watch));
    await w.done();
  });

  it.each([
    ['a number', 5],
    ['a string', 'get'],
    ['true', true],
    ['an array', []],
    ['an array with a method', Object.assign([], { method: 'get' })],
    ['a symbol', Symbol('s')],
    ['a function', () => {}],
  ])('options that are %s: InvalidOptionError naming run options, no function run', async (_name, options) => {
    const w = watchedPool(watch);
    let runs = 0;
    const r = await settle(w.pool.run((c) => {
      runs++;
      return c;
    }, options as never));
    if (typeof options === 'function') {
      // A function is an object in JS terms but typeof 'function': refused as not an options object.
    }
    expect(r.ok).toBe(false);
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect((r.value as Error).message).toMatch(/^run options/);
    expect(runs).toBe(0);
    expect(w.ends).toHaveLength(endsExpected(watch));
    const label = Array.isArray(options) && (options as { method?: string }).method === 'get' ? 'get' : 'unknown';
    expectRefusalSeen(w, r.value, options, label);
    await w.done();
  });

  // Session 22 (s22b-attack #4): null is refused as every other options argument of the library refuses it.
  it('null options: InvalidOptionError naming run options, no function run, the same whatever watches', async () => {
    const w = watchedPool(watch);
    let runs = 0;
    const r = await settle(w.pool.run((c) => {
      runs++;
      return c;
    }, null as never));
    expect(r.ok).toBe(false);
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect((r.value as Error).message).toMatch(/^run options/);
    expect(runs).toBe(0);
    expect(w.ends).toHaveLength(endsExpected(watch));
    expectRefusalSeen(w, r.value, null, 'unknown');
    await w.done();
  });

  it('a frozen options object is read into a copy and the call runs with it', async () => {
    const w = watchedPool(watch);
    const options = Object.freeze({ method: 'get', timeout: 1_000 });
    const seen: unknown[] = [];
    const r = await settle(w.pool.run((c, call) => {
      seen.push(call.options);
      return c;
    }, options));
    expect(r).toEqual({ ok: true, value: 'a' });
    expect(seen[0]).not.toBe(options);
    expect(seen[0]).toMatchObject(options);
    for (const end of w.ends) expect(end.options).toBe(seen[0]);
    for (const s of w.scopes) expect(s.options).toBe(seen[0]);
    for (const e of w.trace) expect(e.message.options).toBe(seen[0]);
    await w.done();
  });

  it('an own error key is an unknown key: refused with InvalidOptionError naming it, the function never runs, the refusal is not mistaken for the key', async () => {
    const w = watchedPool(watch);
    const planted = new Error('planted');
    const options = { method: 'get', error: planted };
    let runs = 0;
    const r = await settle(w.pool.run((c) => {
      runs++;
      return c;
    }, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect(r.value).not.toBe(planted);
    expect((r.value as Error).message).toMatch(/run options\.error/);
    expect(runs).toBe(0);
    expectRefusalSeen(w, r.value, options, 'get');
    await w.done();
  });

  it('a non-enumerable error key is not an option at all: the call runs with a copy that has no error key', async () => {
    const w = watchedPool(watch);
    const options = Object.defineProperty({ method: 'get' }, 'error', { value: new Error('hidden'), enumerable: false });
    const seen: object[] = [];
    const r = await settle(w.pool.run((c, call) => {
      seen.push(call.options);
      return c;
    }, options));
    expect(r).toEqual({ ok: true, value: 'a' });
    expect('error' in seen[0]!).toBe(false);
    expect(w.scopes).toHaveLength(watch === 'around' || watch === 'all' ? 1 : 0);
    await w.done();
  });

  it('an options object whose prototype has an error key (Object.create) is refused for the inherited key, not mistaken for a refusal', async () => {
    const w = watchedPool(watch);
    const options = Object.create({ error: 'from proto' }, { method: { value: 'get', enumerable: true } }) as RunOptions<string>;
    const r = await settle(w.pool.run((c) => c, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect((r.value as Error).message).toMatch(/run options\.error/);
    await w.done();
  });

  it('an unknown key (timout): InvalidOptionError naming it, no cause, function never runs', async () => {
    const w = watchedPool(watch);
    const options = { method: 'get', timout: 5 };
    let runs = 0;
    const r = await settle(w.pool.run((c) => {
      runs++;
      return c;
    }, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect((r.value as Error).message).toMatch(/timout/);
    expect(runs).toBe(0);
    expectRefusalSeen(w, r.value, options, 'get');
    await w.done();
  });

  it.each([
    ['signal', 'not a signal'],
    ['method', ''],
    ['key', 5],
    ['traceId', ''],
    ['coalesce', ''],
    ['maxWait', -1],
  ])('a bad %s value read by readRunOptions: refused, function never runs, the around hook never sees it', async (key, value) => {
    const w = watchedPool(watch);
    const options = { [key]: value };
    let runs = 0;
    const r = await settle(w.pool.run((c) => {
      runs++;
      return c;
    }, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect(runs).toBe(0);
    expect(w.scopes).toEqual([]);
    expect(w.ends).toHaveLength(endsExpected(watch));
    await w.done();
  });
});

describe.each(WATCHED)('refused options combined with other options, watched by %s', (watch) => {
  it.each([
    ['retry', { retry: { attempts: 3 } }],
    ['hedge', { hedge: { delay: 1 } }],
    ['coalesce', { coalesce: 'k' }],
    ['coalesce and cache', { coalesce: 'k', cache: { ttl: 1_000 } }],
    ['timeout', { timeout: 50 }],
    ['signal', { signal: new AbortController().signal }],
    ['deadline', { deadline: 1_000 }],
    ['key', { key: 'x' }],
  ])('with %s: a throwing priority getter refuses the call before any attempt, the retry budget untouched', async (_name, base) => {
    const w = watchedPool(watch, { retry: { attempts: 2 } });
    const before = w.pool.retryBudget;
    const { options, reads, thrown } = throwsOnRead('priority', 1, 'normal', { method: 'get', ...base });
    let runs = 0;
    const r = await settle(w.pool.run((c) => {
      runs++;
      throw new Error(`fn ran on ${c}`);
    }, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect((r.value as Error).cause).toBe(thrown);
    expect(runs).toBe(0);
    expect(reads()).toBeLessThanOrEqual(2); // the read that threw, and the error's description
    expect(w.pool.retryBudget).toEqual(before);
    expectRefusalSeen(w, r.value, options, 'get');
    await w.done();
  });

  it('an already-aborted signal with an unreadable timeout: InvalidOptionError (as with nothing watching), not AbortedError', async () => {
    const plain = watchedPool('nothing');
    const w = watchedPool(watch);
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    const make = (): object => throwsOnRead('timeout', 1, 5, { signal: controller.signal }).options;
    const a = await settle(plain.pool.run((c) => c, make()));
    const b = await settle(w.pool.run((c) => c, make()));
    expect(a.value).toBeInstanceOf(InvalidOptionError);
    expect(b.value).toBeInstanceOf(InvalidOptionError);
    expect((b.value as Error).message).toBe((a.value as Error).message);
    await plain.done();
    await w.done();
  });

  it('an already-aborted signal with readable options: AbortedError with the reason as cause, onCallEnd once, function never runs', async () => {
    const w = watchedPool(watch);
    const controller = new AbortController();
    const reason = new Error('gone');
    controller.abort(reason);
    let runs = 0;
    const r = await settle(w.pool.run((c) => {
      runs++;
      return c;
    }, { signal: controller.signal }));
    expect((r.value as { code?: string }).code).toBe('ERR_ABORTED');
    expect((r.value as Error).cause).toBe(reason);
    expect(runs).toBe(0);
    expect(w.ends).toHaveLength(watch === 'onCallEnd' || watch === 'all' ? 1 : 0);
    await w.done();
  });
});

describe.each(WATCHES)('the order of refusals, watched by %s', (watch) => {
  it('a closing pool: PoolClosedError before unreadable options are reported', async () => {
    const w = watchedPool(watch);
    const closing = w.pool.close();
    const { options } = throwsOnRead('timeout', 1, 5);
    const r = await settle(w.pool.run((c) => c, options));
    expect((r.value as { code?: string }).code).toBe('ERR_POOL_CLOSED');
    expect(w.ends).toHaveLength(endsExpected(watch));
    for (const end of w.ends) expect(end.error).toBe(r.value);
    await closing;
    await w.done();
  });

  it('a destroyed pool: PoolClosedError before unreadable options, destroy and close resolve', async () => {
    const w = watchedPool(watch);
    await w.pool.destroy(new Error('bye'));
    const { options } = throwsOnRead('method', 1, 'get');
    const r = await settle(w.pool.run((c) => c, options));
    expect((r.value as { code?: string }).code).toBe('ERR_POOL_CLOSED');
    await expect(w.done()).resolves.toBeUndefined();
  });

  it.each([undefined, 5, 'fn', {}])('fn %s: InvalidOptionError about fn before unreadable options', async (fn) => {
    const w = watchedPool(watch);
    const { options } = throwsOnRead('timeout', 1, 5);
    const r = await settle(w.pool.run(fn as never, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect((r.value as Error).message).toMatch(/^fn /);
    expect(w.scopes).toEqual([]);
    expect(w.ends).toHaveLength(endsExpected(watch));
    await w.done();
  });

  it('fn not a function with readable options: the around hook may run, the caller gets InvalidOptionError about fn', async () => {
    const w = watchedPool(watch);
    const r = await settle(w.pool.run(42 as never, { method: 'get' }));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect((r.value as Error).message).toMatch(/^fn /);
    expect(w.ends).toHaveLength(endsExpected(watch));
    await w.done();
  });
});
