import { describe, expect, it } from 'vitest';
import { InvalidOptionError, isClientPoolError } from '../../../src/index.js';
import { settle, watchedPool, WATCHES } from './helpers.js';

// A revoked Proxy as run options: optionsObject('run options', value) (src/validate.ts) calls
// Array.isArray(value), which throws a TypeError for a revoked Proxy, and readRunOptions calls it outside
// its try blocks (src/pool-options.ts), so the TypeError is not turned into InvalidOptionError by
// unreadableOptions. With hooks, readRunOptionsOrRefusal keeps it as the refusal's `error` and #run throws it
// as it is; without hooks #run rejects with it. The caller gets a raw TypeError, not a clientpool error,
// whatever watches (not new in this change, but the refusal carries it unchanged).

describe.each(WATCHES)('a revoked Proxy as run options, watched by %s', (watch) => {
  it('is refused with InvalidOptionError (the TypeError as cause), and the function never runs', async () => {
    const w = watchedPool(watch);
    const { proxy, revoke } = Proxy.revocable({ method: 'get' }, {});
    revoke();
    let runs = 0;
    const r = await settle(w.pool.run(() => {
      runs++;
    }, proxy));
    expect(runs).toBe(0);
    expect(isClientPoolError(r.value)).toBe(true);
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect((r.value as Error).cause).toBeInstanceOf(TypeError);
    await w.done();
  });
});
