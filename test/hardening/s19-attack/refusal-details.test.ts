import { describe, expect, it } from 'vitest';
import { InvalidOptionError, type CallScope } from '../../../src/index.js';
import { settle, throwsOnRead, watchedPool, WATCHED } from './helpers.js';

// Small promises of a refusal: a native promise, an end heard with source 'upstream' and a duration, and
// an around hook registered while the options are read never sees the refused call.

describe.each(WATCHED)('refusal details, watched by %s', (watch) => {
  it('run() returns a native promise for a refused call', async () => {
    const w = watchedPool(watch);
    const p = w.pool.run((c) => c, throwsOnRead('timeout', 1, 5).options);
    expect(Object.getPrototypeOf(p)).toBe(Promise.prototype);
    await expect(p).rejects.toBeInstanceOf(InvalidOptionError);
    await w.done();
  });

  it('onCallEnd hears a refused call with source upstream and a duration of at least 0', async () => {
    const w = watchedPool(watch);
    w.pool.use({ name: 'probe', onCallEnd: (end) => void w.ends.push(end) });
    await settle(w.pool.run((c) => c, throwsOnRead('cost', 1, { requests: 1 }).options));
    const end = w.ends.at(-1)!;
    expect(end.source).toBe('upstream');
    expect(end.durationMs).toBeGreaterThanOrEqual(0);
    expect(end.error).toBeInstanceOf(InvalidOptionError);
    await w.done();
  });

  it('an around hook registered by a getter while the options are read never sees that call when it is refused', async () => {
    const w = watchedPool(watch);
    const late: CallScope<string>[] = [];
    const options = {
      get method(): string {
        w.pool.use({ name: 'late', around: (scope, next) => {
          late.push(scope);
          return next();
        } });
        throw new Error('refused');
      },
    };
    const r = await settle(w.pool.run((c) => c, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect(late).toEqual([]);
    await w.done();
  });

  it('an around hook sees the copy, frozen or not as the pool made it, with every run option as a key', async () => {
    const w = watchedPool(watch);
    const scopes: CallScope<string>[] = [];
    w.pool.use({ name: 'scope', around: (scope, next) => {
      scopes.push(scope);
      return next();
    } });
    await w.pool.run((c) => c, { method: 'get' });
    expect(Object.keys(scopes[0]!.options).sort()).toEqual(['cache', 'coalesce', 'cost', 'deadline', 'hedge', 'key', 'maxWait', 'method', 'minHeight', 'priority', 'retry', 'signal', 'strategy', 'timeout', 'traceId']);
    expect(scopes[0]!.method).toBe('get');
    await w.done();
  });
});
