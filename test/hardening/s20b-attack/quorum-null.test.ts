/**
 * `null` is a value, never "not given" (docs/call-pipeline.md, `givenOr`): pool.quorum() refuses
 * `agree: null` and `penalty: null`, as it refuses `compare: null`, `onDisagree: null` and every run
 * option's null. (helper-91's fault 6, fixed.)
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/index.js';
import { NONE, settle, watchedPool } from './helpers.js';

describe('pool.quorum() with null', () => {
  it.each([
    ['agree: null', { of: 3, agree: null }],
    ['penalty: null', { of: 3, penalty: null }],
  ])('%s is refused with InvalidOptionError, as compare: null is', async (_name, options) => {
    const w = watchedPool(NONE, {}, ['a', 'b', 'c']);
    const got = await settle(w.pool.quorum(() => 1, options as never));
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    await w.done();
  });

  it.each([
    ['compare: null', { of: 3, compare: null }],
    ['onDisagree: null', { of: 3, onDisagree: null }],
    ['timeout: null', { of: 3, timeout: null }],
    ['cost { requests: null }', { of: 3, cost: { requests: null } }],
    ['agree: undefined (the default majority)', { of: 3, agree: undefined }],
  ])('control: %s', async (name, options) => {
    const w = watchedPool(NONE, {}, ['a', 'b', 'c']);
    const got = await settle(w.pool.quorum(() => 1, options as never));
    if (name.startsWith('agree')) expect(got).toEqual({ ok: true, value: 1 });
    else expect(got.value).toBeInstanceOf(InvalidOptionError);
    await w.done();
  });
});
