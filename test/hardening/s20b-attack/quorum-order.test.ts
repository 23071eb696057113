/**
 * pool.quorum() refuses in the order run() does (closed, fn, aborted signal, bad options), the same with
 * every watcher; onCallEnd hears it once, around hooks and the `clientpool:call` trace never (quorum.md).
 */
import { describe, expect, it } from 'vitest';
import { NONE, settle, shape, watchedPool, type Watchers } from './helpers.js';

const ALL: Watchers = { around: true, onCallEnd: true, trace: true };
const CASES: [boolean, boolean, boolean, boolean][] = [];
for (const closed of [false, true]) for (const badFn of [false, true]) for (const aborted of [false, true]) for (const bad of [false, true]) CASES.push([closed, badFn, aborted, bad]);

describe('quorum refusal order', () => {
  it.each(CASES)('closed %s, fn 42 %s, aborted %s, timeout -1 %s: the same answer with every watcher, onCallEnd once, no around hook', async (closed, badFn, aborted, bad) => {
    const answers: unknown[] = [];
    for (const w of [NONE, ALL]) {
      const x = watchedPool(w, {}, ['a', 'b', 'c']);
      if (closed) await x.pool.close();
      const o: Record<string, unknown> = { of: 2 };
      if (aborted) o['signal'] = AbortSignal.abort();
      if (bad) o['timeout'] = -1;
      const got = await settle(x.pool.quorum((badFn ? 42 : () => 1) as never, o as never));
      answers.push(shape(got));
      if (w.onCallEnd) expect(x.ends).toHaveLength(1);
      expect(x.scopes).toHaveLength(0);
      await x.done();
    }
    expect(answers[1]).toEqual(answers[0]);
    const expected = closed ? 'ERR_POOL_CLOSED' : badFn ? 'ERR_INVALID_OPTION' : aborted ? 'ERR_ABORTED' : bad ? 'ERR_INVALID_OPTION' : undefined;
    if (expected === undefined) expect(answers[0]).toEqual({ resolved: 1 });
    else expect(answers[0]).toMatchObject({ code: expected });
  });
});
