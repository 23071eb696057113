import { createRequire } from 'node:module';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { advance, ending, hanging, OVERDUE_MS, StillClock } from './rig.js';

// The built ESM and CJS entries (package.json "exports": import -> dist/esm, require -> dist/cjs) on one
// process: objects of one build given to the other's pool, the backstop and the lane in the CJS build, and
// errors checked across builds (README "Errors": `hasErrorCode` / `isClientPoolError` "work across duplicate
// installs and the ESM and CommonJS builds"). dist/ as found (not rebuilt).
type Lib = typeof import('../../../src/index.js');
const cjs = createRequire(import.meta.url)('../../../dist/cjs/index.js') as Lib;
// A path in a variable: the type check runs before the build (`.ci/run`), when dist/ has no declarations yet.
const ESM_ENTRY = '../../../dist/esm/index.js';
const esm = (await import(ESM_ENTRY)) as Lib;

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

describe('ESM and CJS builds on one pool', () => {
  it('the two builds are distinct copies (a real mix)', () => {
    expect(cjs.ClientPool).not.toBe(esm.ClientPool);
  });

  for (const [poolLib, bucketLib, label] of [
    [esm, cjs, 'ESM pool, CJS TokenBucket'],
    [cjs, esm, 'CJS pool, ESM TokenBucket'],
  ] as const) {
    it(`${label} as a client limit: routed around when empty (not waited on as a shared limiter)`, async () => {
      const clock = new StillClock();
      const pool = new poolLib.ClientPool<string>({ clock, maxWait: 1_000 });
      pool.add('a', { name: 'a', limit: new bucketLib.TokenBucket({ rate: 1, per: 60_000, burst: 1, clock }) });
      pool.add('b', { name: 'b' });
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) seen.push(await pool.run((c) => c));
      expect(seen).toEqual(['a', 'b', 'b', 'b']);
      await pool.close();
      expect(vi.getTimerCount()).toBe(0);
    });
  }

  it('CJS pool, still clock, slot wait: given up at maxWait + 5 s; the error is recognised by the ESM build', async () => {
    const clock = new StillClock();
    const pool = new cjs.ClientPool<string>({ clock, maxWait: 500 });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    const h = hanging();
    const first = pool.run(h.fn);
    const second = ending(pool.run(() => 'x'));
    await advance(500 + OVERDUE_MS - 1);
    expect(second.ok).toBeUndefined();
    await advance(1);
    expect(second.ok).toBe(false);
    expect(esm.hasErrorCode(second.value, 'ERR_CONCURRENCY_LIMITED')).toBe(true);
    expect(esm.isClientPoolError(second.value)).toBe(true);
    h.release();
    await first;
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an ESM pool whose balancer pick runs a nested call on a CJS pool whose pick runs one on the ESM pool: every call on the right client', async () => {
        const nested: Promise<unknown>[] = [];
    let depth = 0;
    const esmPool: InstanceType<Lib['ClientPool']> = new esm.ClientPool<unknown>({
      strategy: {
        pick(ready) {
          if (depth++ === 0) nested.push(cjsPool.run((c) => `cjs:${String(c)}`));
          depth--;
          return ready[0]!;
        },
      },
    });
    const cjsPool: InstanceType<Lib['ClientPool']> = new cjs.ClientPool<unknown>({
      strategy: {
        pick(ready) {
          if (depth++ === 1) nested.push(esmPool.run((c) => `esm-inner:${String(c)}`));
          depth--;
          return ready[ready.length - 1]!;
        },
      },
    });
    esmPool.add('e1', { name: 'e1' });
    esmPool.add('e2', { name: 'e2' });
    cjsPool.add('c1', { name: 'c1' });
    cjsPool.add('c2', { name: 'c2' });
    expect(await esmPool.run((c) => `esm:${String(c)}`)).toBe('esm:e1');
    expect((await Promise.all(nested)).sort()).toEqual(['cjs:c2', 'esm-inner:e1']);
    const inFlight = (p: InstanceType<Lib['ClientPool']>): number => p.members().reduce((s, m) => s + m.inFlight, 0);
    expect([inFlight(esmPool), inFlight(cjsPool)]).toEqual([0, 0]);
    await esmPool.close();
    await cjsPool.close();
  });

  it('a CJS middleware with onOutcome on an ESM pool: lane calls are observed, results right', async () => {
    const pool = new esm.ClientPool<string>();
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    const heard: string[] = [];
    pool.use({ name: 'o', onOutcome: (call, outcome) => heard.push(`${call.clientName}:${outcome.kind}`) });
    pool.use(cjs.traceId());
    expect([await pool.run((c) => c), await pool.run((c) => c)]).toEqual(['a', 'b']);
    expect(heard).toEqual(['a:success', 'b:success']);
    await pool.close();
  });

  it('CJS pool with an ESM pool-limit TokenBucket on a still clock: the backstop refuses at maxWait + 5 s, error typed across builds', async () => {
    const clock = new StillClock();
    const bucket = new esm.TokenBucket({ rate: 1, per: 1_000, burst: 1, clock });
    const pool = new cjs.ClientPool<string>({ clock, maxWait: 1_000, limit: bucket });
    pool.add('a', { name: 'a' });
    await pool.run(() => 'v1');
    const second = ending(pool.run(() => 'v2'));
    await advance(6_000);
    expect(second.ok).toBe(false);
    expect(esm.hasErrorCode(second.value, 'ERR_RATE_LIMITED')).toBe(true);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});


