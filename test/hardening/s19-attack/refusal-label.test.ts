import { describe, expect, it } from 'vitest';
import { InvalidOptionError, type RunOptions } from '../../../src/index.js';
import { settle, watchedPool } from './helpers.js';

// OptionsRefusal labels a refused call by the caller's own `method` data property whenever it is a string
// (src/pool-options.ts, OptionsRefusal constructor: `typeof method === 'string' ? method : undefined`). An
// empty `method` is refused by readRunOptions precisely because it is no label (nonEmptyString('method')),
// yet the refusal hands '' to onCallEnd (CallEnd.method) and to the trace (CallMessage.method), documented
// as "the call's method option, or 'unknown'". Metrics adapters then see a series with an empty method label.

describe('a refused call is labelled only by a method that is a label', () => {
  it("an empty method is refused, and onCallEnd hears it labelled 'unknown', not ''", async () => {
    const w = watchedPool('onCallEnd');
    const r = await settle(w.pool.run((c) => c, { method: '' }));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect(w.ends.map((e) => e.method)).toEqual(['unknown']);
    await w.done();
  });

  it("an empty method with another unreadable option: the trace's start message is labelled 'unknown', not ''", async () => {
    const w = watchedPool('trace');
    const options = Object.defineProperty({ method: '' }, 'timeout', { enumerable: true, get: () => {
      throw new Error('no');
    } }) as RunOptions<string>;
    const r = await settle(w.pool.run((c) => c, options));
    expect(r.value).toBeInstanceOf(InvalidOptionError);
    expect(w.trace[0]?.message.method).toBe('unknown');
    await w.done();
  });
});
