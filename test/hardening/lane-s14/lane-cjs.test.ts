// The lane with objects of the CommonJS build mixed in: a CJS pool with ESM balancers and breakers, an
// ESM pool whose balancer returns a member of a CJS pool, errors recognised across the builds.
import { describe, expect, it } from 'vitest';
import { ClientPool, failureRate, hasErrorCode, roundRobin, type Balancer, type PoolMember, type RunOptions } from '../../../src/index.js';
import { useCjsCopy } from '../../helpers/cjs-copy.js';
import { ending } from '../../helpers/outcomes.js';

const cjs = useCjsCopy();

interface Fake {
  readonly id: number;
}

const WAYS: readonly (RunOptions<Fake> | undefined)[] = [undefined, { cost: {} }];

describe('the lane across the ESM and CommonJS builds', () => {
  it("a CJS pool with the ESM build's roundRobin() and failureRate(): the lane serves as the full pick does, inFlight back to 0", async () => {
    const logs: string[][] = [];
    for (const options of WAYS) {
      const log: string[] = [];
      const pool = new cjs.current.ClientPool<Fake>({ strategy: roundRobin<Fake>(), breaker: failureRate({ threshold: 0.5, window: { kind: 'count', size: 4 }, minimumThroughput: 2 }) });
      for (let i = 0; i < 3; i++) pool.add({ id: i }, { name: `c${i}` });
      for (let i = 0; i < 9; i++) {
        log.push(
          await ending(
            pool.run((_client, call) => (i % 4 === 1 ? Promise.reject(new Error('down')) : Promise.resolve(call.clientName)), options),
          ),
        );
      }
      log.push(pool.members().map((m) => `${m.name} ${m.inFlight} ${m.successes} ${m.failures}`).join(', '));
      await pool.close();
      logs.push(log);
    }
    expect(logs[0]).toEqual(logs[1]);
    expect(logs[0]!.at(-1)).toMatch(/^c0 0 \d+ \d+, c1 0 \d+ \d+, c2 0 \d+ \d+$/);
  });

  it('an ESM pool whose balancer returns a member of a CJS pool: ERR_CALLBACK, the function not run', async () => {
    const other = new cjs.current.ClientPool<Fake>();
    other.add({ id: 9 }, { name: 'cjs-member' });
    let foreign: PoolMember<Fake> | undefined;
    await other.run(() => 1, { strategy: { pick: (ready: readonly PoolMember<Fake>[]) => (foreign = ready[0]!) } });
    for (const options of WAYS) {
      const balancer: Balancer<Fake> = { pick: () => foreign! };
      const pool = new ClientPool<Fake>({ strategy: balancer });
      pool.add({ id: 0 }, { name: 'a' });
      let ran = false;
      const error = await pool
        .run(() => {
          ran = true;
          return 1;
        }, options)
        .catch((e: unknown) => e);
      expect(hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
      expect(cjs.current.hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
      expect(ran).toBe(false);
      expect(pool.members()[0]!.inFlight).toBe(0);
      await pool.close();
    }
    await other.close();
  });

  it('a CJS pool whose balancer returns a member of an ESM pool: ERR_CALLBACK, recognised by the ESM build', async () => {
    const other = new ClientPool<Fake>();
    other.add({ id: 9 }, { name: 'esm-member' });
    let foreign: PoolMember<Fake> | undefined;
    await other.run(() => 1, { strategy: { pick: (ready) => (foreign = ready[0]!) } });
    for (const options of WAYS) {
      const pool = new cjs.current.ClientPool<Fake>({ strategy: { pick: () => foreign! } });
      pool.add({ id: 0 }, { name: 'a' });
      const error = await pool.run(() => 1, options).catch((e: unknown) => e);
      expect(hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
      expect(pool.members()[0]!.inFlight).toBe(0);
      await pool.close();
    }
    await other.close();
  });
});
