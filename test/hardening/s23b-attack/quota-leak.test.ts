import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type TakeOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { advance, codeOf, ending, StillClock } from './rig.js';

// Status: fails at HEAD 76e003a; passes against uncommitted src/ changes by someone else seen in the
// working tree at 06:02 UTC (see NOTES.md).
// Was a fault (S23B-2, low; fixed in session 23: Quota.take gives a take up when its signal aborts, with tokens of others held, and gives them back). Pool limits by name, one in memory (`tokens`) and one a custom limiter (`requests`)
// whose first take ignores its signal and never answers. The in-memory tokens are taken first
// (src/limit/quota.ts `take`: `[...#local, ...#shared]`), then the attempt waits on the custom limiter; the
// pool gives the wait up at maxWait + 5 s (RateLimitedError, as documented), but the 6 tokens it took from its
// OWN in-memory bucket are never given back: a later call of the same cost is refused although no call ever
// reached a client. Observed: the second call rejected with RateLimitedError at once.
// Expected: the attempt "never reached its client" so its cost goes back to the in-memory buckets
// (src/limit/quota.ts `giveBack` docstring: "an attempt that took it but never reached its client (refused,
// shed, no client at all)"); docs/call-pipeline.md: the pool "gives up every wait by a timer of its own ...
// and the limiter drops the waiter"; raceAbort's docstring (src/pipeline/pool-token.ts): "so that nothing of
// it stays queued or armed". The Limiter contract says a take should honour its signal, but the pool's own
// bucket is not the custom limiter's to leak.
// Controls: the same limiter answering late (after the backstop), or rejecting on abort: the tokens come back
// and the second call is served.
// Suspected cause: the give-back lives in Quota.take's catch, reached only when the custom take settles; the
// backstop rejects raceAbort's promise, not Quota.take's. Possible fix: Quota.take races each shared take
// against its signal (and gives back what it took when the signal aborts).
useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

type Mode = 'ignores its signal, never answers' | 'answers late' | 'rejects on abort';

async function secondCall(mode: Mode): Promise<{ first: string | undefined; second: unknown }> {
  const clock = new StillClock();
  let takes = 0;
  const late: (() => void)[] = [];
  const requests = {
    take: (_n: number, o?: TakeOptions): Promise<void> => {
      takes++;
      if (takes > 1) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        if (mode === 'answers late') late.push(resolve);
        if (mode === 'rejects on abort') o?.signal?.addEventListener('abort', () => reject(o.signal!.reason as Error));
      });
    },
  };
  const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { tokens: { rate: 1, per: 3_600_000, burst: 10 }, requests } });
  pool.add('a', { name: 'a' });
  const first = ending(pool.run(() => 'v1', { cost: { tokens: 6 } }));
  await advance(6_000);
  for (const r of late) r();
  await advance(10);
  const second = ending(pool.run(() => 'v2', { cost: { tokens: 6 } }));
  await advance(10);
  await pool.destroy();
  return { first: codeOf(first.value), second: second.ok === true ? second.value : codeOf(second.value) };
}

describe('S23B-2: tokens of the pool\'s own bucket after a wait given up on a custom limiter', () => {
  it('limiter ignores its signal and never answers: the second call is served (observed: RateLimitedError, 6 tokens kept)', async () => {
    expect(await secondCall('ignores its signal, never answers')).toEqual({ first: 'ERR_RATE_LIMITED', second: 'v2' });
  });
  it('control: the limiter answers late: served', async () => {
    expect(await secondCall('answers late')).toEqual({ first: 'ERR_RATE_LIMITED', second: 'v2' });
  });
  it('control: the limiter rejects on abort: served', async () => {
    expect(await secondCall('rejects on abort')).toEqual({ first: 'ERR_RATE_LIMITED', second: 'v2' });
  });
});
