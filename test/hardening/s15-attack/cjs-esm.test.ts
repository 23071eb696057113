// The ESM sources and a CommonJS copy of them (bundled from src, as the CJS build is: test/helpers/cjs-copy.ts)
// mixed in one process, for what the change touched: balancers with onInFlight hooks, retried calls whose
// first attempt fails, run-option errors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as Api from '../../../src/index.js';
import { useCjsCopy } from '../../helpers/cjs-copy.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

type Lib = typeof Api;
interface Fake {
  readonly id: string;
}

const cjsCopy = useCjsCopy();
const esm: Lib = Api;
let cjs: Lib;
beforeAll(() => {
  cjs = cjsCopy.current;
});

useUnhandledGuard({ time: 'real' });

const BUILDS = [
  ['ESM pool', 'CJS objects'],
  ['CJS pool', 'ESM objects'],
] as const;

const ending = async (call: Promise<unknown>, lib: () => Lib): Promise<string> => {
  try {
    return `value ${String(await call)}`;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    const codeOf = (e: unknown): string => (e as { code?: string }).code ?? (e as Error).message;
    return `error ${codeOf(error)}${cause === undefined ? '' : ` cause ${codeOf(cause)}`} guard=${lib().isClientPoolError(error)}`;
  }
};

describe('the ESM and CommonJS builds together', () => {
  for (const [poolBuild, objectBuild] of BUILDS) {
    const poolLib = (): Lib => (poolBuild === 'ESM pool' ? esm : cjs);
    const objectLib = (): Lib => (poolBuild === 'ESM pool' ? cjs : esm);

    it(`${poolBuild} with ${objectBuild}' leastInFlight(): its onInFlight hooks steer calls in the lane, in-flight back to 0`, async () => {
      const pool = new (poolLib().ClientPool)<Fake>({ strategy: objectLib().leastInFlight<Fake>() });
      for (const n of ['a', 'b', 'c']) pool.add({ id: n }, { name: n });
      const releases: (() => void)[] = [];
      const picked: string[] = [];
      const calls = Array.from({ length: 6 }, () =>
        pool.run(
          (client) =>
            new Promise<string>((resolve) => {
              picked.push(client.id);
              releases.push(() => resolve(client.id));
            }),
        ),
      );
      // Least in flight, told by the hooks: two calls on each client.
      expect(pool.members().map((m) => m.inFlight)).toEqual([2, 2, 2]);
      releases.forEach((r) => r());
      await Promise.all(calls);
      expect(picked.slice(0, 3).sort()).toEqual(['a', 'b', 'c']);
      expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0, 0]);
      await pool.close();
    });

    it(`${poolBuild}, retries, ${objectBuild}' errors thrown by the function: retried as failures, the caller's error recognised by both builds`, async () => {
      const pool = new (poolLib().ClientPool)<Fake>({ retry: { attempts: 3, backoff: { initial: 0, max: 0 } } });
      for (const n of ['a', 'b', 'c']) pool.add({ id: n }, { name: n });
      const tried: string[] = [];
      const got = await ending(
        pool.run((client) => {
          tried.push(client.id);
          throw new (objectLib().AbortedError)(new Error('nested pool'));
        }),
        poolLib,
      );
      expect(tried).toEqual(['a', 'b', 'c']);
      expect(got).toBe('error ERR_CLIENT_CALL cause ERR_ABORTED guard=true');
      expect(pool.members().map((m) => [m.inFlight, m.failures])).toEqual([[0, 1], [0, 1], [0, 1]]);
      await pool.close();
    });

    it(`${poolBuild}: a retry refused by the budget is a RetryBudgetExhaustedError ${objectBuild === 'CJS objects' ? 'the CJS' : 'the ESM'} build recognises`, async () => {
      const pool = new (poolLib().ClientPool)<Fake>({ retry: { attempts: 3 }, retryBudget: { ratio: 0, reserve: 0 } });
      for (const n of ['a', 'b']) pool.add({ id: n }, { name: n });
      let error: unknown;
      await pool.run(() => Promise.reject(new Error('down'))).catch((e: unknown) => (error = e));
      expect(objectLib().hasErrorCode(error, 'ERR_RETRY_BUDGET')).toBe(true);
      expect(objectLib().hasErrorCode((error as Error).cause, 'ERR_CLIENT_CALL')).toBe(true);
      await pool.close();
    });

    it(`${poolBuild}: ${objectBuild}' balancer with an onInFlight hook as a call's strategy is an InvalidOptionError naming strategy`, async () => {
      const pool = new (poolLib().ClientPool)<Fake>();
      pool.add({ id: 'a' }, { name: 'a' });
      let error: unknown;
      await pool.run(() => 1, { strategy: objectLib().leastInFlight<Fake>() }).catch((e: unknown) => (error = e));
      expect(objectLib().hasErrorCode(error, 'ERR_INVALID_OPTION')).toBe(true);
      expect((error as { option?: string }).option).toBe('strategy');
      await pool.close();
    });

    it(`${poolBuild}: an unknown run-option key is an InvalidOptionError both builds recognise, naming it`, async () => {
      const pool = new (poolLib().ClientPool)<Fake>();
      pool.add({ id: 'a' }, { name: 'a' });
      let error: unknown;
      await pool.run(() => 1, { timout: 5 } as Api.RunOptions<Fake>).catch((e: unknown) => (error = e));
      expect(objectLib().hasErrorCode(error, 'ERR_INVALID_OPTION')).toBe(true);
      expect((error as { option?: string }).option).toBe('run options.timout');
      await pool.close();
    });

    it(`${poolBuild}: a getter that throws ${objectBuild === 'CJS objects' ? 'the CJS' : 'the ESM'} build's InvalidOptionError gives that error as it is`, async () => {
      const pool = new (poolLib().ClientPool)<Fake>();
      pool.add({ id: 'a' }, { name: 'a' });
      const thrown = new (objectLib().InvalidOptionError)('timeout', 'a number', 'x');
      const options = Object.defineProperty({}, 'timeout', {
        enumerable: true,
        get: () => {
          throw thrown;
        },
      });
      let error: unknown;
      await pool.run(() => 1, options).catch((e: unknown) => (error = e));
      expect(error).toBe(thrown);
      await pool.close();
    });
  }
});
