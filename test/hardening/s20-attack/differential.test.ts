import { afterEach, describe, expect, it } from 'vitest';
import { describe_, inFlight, runWith, watchedPool, WATCHED, type Watch, type Watched } from './helpers.js';

// Every run option with each kind of bad value, and each watcher: the caller gets what a pool with nothing
// watching gives (class, code, message, option); a refused call runs no around hook and no fn; onCallEnd and
// the trace hear it once; nothing is left in flight. A value the unwatched pool accepts runs the hook once.

const BIG = 2 ** 31;
const BAD: [string, Record<string, unknown>][] = [
  ['signal "x"', { signal: 'x' }],
  ['signal {}', { signal: {} }],
  ['signal null', { signal: null }],
  ['method ""', { method: '' }],
  ['method 5', { method: 5 }],
  ['method null', { method: null }],
  ['key 5', { key: 5 }],
  ['key null', { key: null }],
  ['traceId ""', { traceId: '' }],
  ['traceId 5', { traceId: 5 }],
  ['coalesce ""', { coalesce: '' }],
  ['coalesce 5', { coalesce: 5 }],
  ['coalesce null', { coalesce: null }],
  ['minHeight -1', { minHeight: -1 }],
  ['minHeight NaN', { minHeight: Number.NaN }],
  ['minHeight "x"', { minHeight: 'x' }],
  ['minHeight with coalesce', { minHeight: 1, coalesce: 'k' }],
  ['cache without coalesce', { cache: { ttl: 10 } }],
  ['deadline NaN', { deadline: Number.NaN }],
  ['deadline -1', { deadline: -1 }],
  ['deadline 0', { deadline: 0 }],
  ['deadline 2^31', { deadline: BIG }],
  ['deadline "5"', { deadline: '5' }],
  ['deadline null', { deadline: null }],
  ['maxWait NaN', { maxWait: Number.NaN }],
  ['maxWait -1', { maxWait: -1 }],
  ['maxWait 2^31', { maxWait: BIG }],
  ['maxWait "x"', { maxWait: 'x' }],
  ['maxWait null', { maxWait: null }],
  ['timeout NaN', { timeout: Number.NaN }],
  ['timeout -1', { timeout: -1 }],
  ['timeout 0', { timeout: 0 }],
  ['timeout 2^31', { timeout: BIG }],
  ['timeout Infinity', { timeout: Number.POSITIVE_INFINITY }],
  ['timeout "5"', { timeout: '5' }],
  ['timeout null', { timeout: null }],
  ['timeout -1 with a method', { method: 'get', timeout: -1 }],
  ['timeout -1 with strategy', { timeout: -1, strategy: 'random' }],
  ['timeout -1 with signal', { timeout: -1, signal: new AbortController().signal }],
  ['timeout -1 with key', { timeout: -1, key: 'user-1' }],
  ['strategy "bogus"', { strategy: 'bogus' }],
  ['strategy 5', { strategy: 5 }],
  ['strategy null', { strategy: null }],
  ['strategy {}', { strategy: {} }],
  ['strategy { pick: 5 }', { strategy: { pick: 5 } }],
  ['strategy a Balancer with onReady (hooks per call)', { strategy: { pick: (r: unknown[]) => r[0], onReady: () => {} } }],
  ['strategy a Balancer with usesLatency', { strategy: { pick: (r: unknown[]) => r[0], usesLatency: true } }],
  ['cost -1', { cost: -1 }],
  ['cost "x"', { cost: 'x' }],
  ['cost null', { cost: null }],
  ['cost []', { cost: [] }],
  ['cost { tokens: -1 }', { cost: { tokens: -1 } }],
  ['cost { tokens: NaN }', { cost: { tokens: Number.NaN } }],
  ['cost { tokens: "5" }', { cost: { tokens: '5' } }],
  ['priority "bogus"', { priority: 'bogus' }],
  ['priority "HIGH"', { priority: 'HIGH' }],
  ['priority 1', { priority: 1 }],
  ['priority null', { priority: null }],
  ['retry 7', { retry: 7 }],
  ['retry true', { retry: true }],
  ['retry null', { retry: null }],
  ['retry "x"', { retry: 'x' }],
  ['retry.attempts "x"', { retry: { attempts: 'x' } }],
  ['retry.attempts 0', { retry: { attempts: 0 } }],
  ['retry.attempts 1.5', { retry: { attempts: 1.5 } }],
  ['retry.attempts NaN', { retry: { attempts: Number.NaN } }],
  ['retry unknown key', { retry: { attempt: 2 } }],
  ['retry.backoff.initial -1', { retry: { backoff: { initial: -1 } } }],
  ['retry.backoff.max < initial', { retry: { backoff: { initial: 50, max: 10 } } }],
  ['retry.backoff.jitter "x"', { retry: { backoff: { jitter: 'x' } } }],
  ['retry.backoff.multiplier -1', { retry: { backoff: { multiplier: -1 } } }],
  ['retry.retryOn 5', { retry: { retryOn: 5 } }],
  ['retry.retryAfter "x"', { retry: { retryAfter: 'x' } }],
  ['hedge true', { hedge: true }],
  ['hedge 5', { hedge: 5 }],
  ['hedge null', { hedge: null }],
  ['hedge {}', { hedge: {} }],
  ['hedge.delay -5', { hedge: { delay: -5 } }],
  ['hedge.delay NaN', { hedge: { delay: Number.NaN } }],
  ['hedge.delay 2^31', { hedge: { delay: BIG } }],
  ['hedge.delay "p95"', { hedge: { delay: 'p95' } }],
  ['hedge.delay.quantile 2', { hedge: { delay: { quantile: 2 } } }],
  ['hedge.delay.quantile missing', { hedge: { delay: {} } }],
  ['hedge.delay min > max', { hedge: { delay: { quantile: 0.9, min: 100, max: 10 } } }],
  ['hedge.maxHedges 0', { hedge: { delay: 5, maxHedges: 0 } }],
  ['hedge.maxHedges -1', { hedge: { delay: 5, maxHedges: -1 } }],
  ['hedge unknown key', { hedge: { delay: 5, maxHedge: 2 } }],
  ['several bad: timeout -1, priority bogus, retry 7', { timeout: -1, priority: 'bogus', retry: 7 }],
  ['several bad: deadline -1, timeout -1', { deadline: -1, timeout: -1 }],
  ['several bad: hedge -1, retry 7', { hedge: { delay: -1 }, retry: 7 }],
  ['unknown key', { timout: 5 }],
];

const open: Watched[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.done()));
});
function pool(watch: Watch): Watched {
  const w = watchedPool(watch);
  open.push(w);
  return w;
}

describe.each(WATCHED)('watched by %s', (watch) => {
  it.each(BAD)('%s: the caller gets what an unwatched pool gives, hooks run only for a call that runs, every watcher hears it once', async (_name, options) => {
    const plain = pool('nothing');
    const watched = pool(watch);
    const expected = await runWith(plain, options);
    const got = await runWith(watched, options);
    expect(describe_(got)).toEqual(describe_(expected));
    if (!expected.ok) {
      expect((got.value as Error).constructor).toBe((expected.value as Error).constructor);
    }
    expect(watched.fnRuns.n).toBe(plain.fnRuns.n);
    const ran = plain.fnRuns.n > 0;
    if (watch === 'around' || watch === 'all') expect(watched.scopes.length).toBe(ran ? 1 : 0);
    if (watch === 'onCallEnd' || watch === 'all') {
      expect(watched.ends).toHaveLength(1);
      expect(watched.ends[0]!.error).toBe(got.ok ? undefined : got.value);
      const m = options['method'];
      expect(watched.ends[0]!.method).toBe(typeof m === 'string' && m !== '' ? m : 'unknown');
    }
    if (watch === 'trace' || watch === 'all') {
      expect(watched.trace.filter((e) => e.kind === 'start')).toHaveLength(1);
      expect(watched.trace.filter((e) => e.kind === 'error')).toHaveLength(got.ok ? 0 : 1);
      expect(watched.trace.filter((e) => e.kind === 'asyncEnd')).toHaveLength(1);
    }
    expect(inFlight(watched.pool)).toBe(0);
  });
});

describe('the unwatched pool refuses every bad value listed', () => {
  it.each(BAD)('%s: refused with ERR_INVALID_OPTION', async (_name, options) => {
    const plain = pool('nothing');
    const got = await runWith(plain, options);
    expect(got.ok).toBe(false);
    expect((got.value as { code?: string }).code).toBe('ERR_INVALID_OPTION');
    expect(plain.fnRuns.n).toBe(0);
  });
});
