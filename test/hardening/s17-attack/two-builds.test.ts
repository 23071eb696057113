// The ESM sources and a CommonJS copy (test/helpers/cjs-copy.ts): the lane's probe hand-off (4241126) and
// the bound handlers read once from the class (eab8d3b, a bundler keeping names: esbuild here) behave the
// same in both builds.
import { describe, expect, it } from 'vitest';
import * as Api from '../../../src/index.js';
import { useCjsCopy } from '../../helpers/cjs-copy.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

type Lib = typeof Api;
interface Fake {
  readonly id: string;
}

const cjsCopy = useCjsCopy();
useUnhandledGuard({ time: 'fake', quietWarnings: true });

const code = async (call: Promise<unknown>): Promise<string> => {
  try {
    return `value ${String(await call)}`;
  } catch (error) {
    return `error ${(error as { code?: string }).code ?? String(error)}`;
  }
};

const OPTIONS: readonly (readonly [string, Api.RunOptions<Fake> | undefined])[] = [
  ['no options', undefined],
  ['{ method }', { method: 'get' }],
  ['{ timeout }', { timeout: 60_000 }],
];

async function probeStory(lib: Lib, options: Api.RunOptions<Fake> | undefined): Promise<string[]> {
  const clock = new ManualClock();
  const heard: string[] = [];
  const pool = new lib.ClientPool<Fake>({
    clock,
    breaker: ({ clock: c }) => {
      const inner = new lib.ConsecutiveBreaker({ maxFailures: 1, cooldown: 10 }, c);
      return {
        get state() {
          return inner.state;
        },
        acquire: () => inner.acquire(),
        canAcquire: () => inner.canAcquire(),
        success: (a, ms) => (heard.push(`success ${a}`), inner.success(a, ms)),
        failure: (a, ms) => (heard.push(`failure ${a}`), inner.failure(a, ms)),
        release: (a) => (heard.push(`release ${a}`), inner.release(a)),
      };
    },
  });
  pool.add({ id: 'a' }, { name: 'a' });
  const story = [await code(pool.run(() => Promise.reject(new Error('down')), options))];
  clock.advance(10);
  story.push(await code(pool.run(() => 'probe', options)), await code(pool.run(() => 'after', options)));
  const m = pool.members()[0]!;
  story.push(`state ${m.state.kind} inFlight ${m.inFlight} successes ${m.successes} failures ${m.failures}`, ...heard);
  await pool.close();
  return story;
}

async function writesStory(lib: Lib, options: Api.RunOptions<Fake> | undefined): Promise<string[]> {
  const pool = new lib.ClientPool<Fake>();
  pool.add({ id: 'a' }, { name: 'a' });
  const story: string[] = [];
  for (const name of ['bind', 'invoke', 'heldSucceeded', 'laneSucceeded', 'heldFailed', 'succeed', 'host']) {
    story.push(
      `${name}: ${await code(
        pool.run((client, call) => {
          Object.defineProperty(call, name, { value: 'user data', writable: true, configurable: true });
          return Promise.resolve(client.id);
        }, options),
      )} inFlight ${pool.members()[0]!.inFlight}`,
    );
  }
  // Not awaited: a call the pool lost track of must not hang the test (its outcome is the story).
  try {
    void pool.destroy().catch(() => undefined);
  } catch {
    story.push('destroy() threw synchronously');
  }
  return story;
}

describe('the two builds', () => {
  for (const [label, options] of OPTIONS) {
    it(`${label}: a half-open probe is held and heard as a probe, the circuit closes, the same in ESM and CJS`, async () => {
      const esm = await probeStory(Api, options);
      const cjs = await probeStory(cjsCopy.current, options);
      expect(esm).toEqual(['error ERR_CLIENT_CALL', 'value probe', 'value after', 'state closed inFlight 0 successes 2 failures 1', 'failure call', 'success probe', 'success call']);
      expect(cjs).toEqual(esm);
    });

    it(`${label}: a function writing the pool's handler names and \`host\` on its call answers and frees its client, in ESM and CJS alike`, async () => {
      const esm = await writesStory(Api, options);
      const cjs = await writesStory(cjsCopy.current, options);
      expect(cjs).toEqual(esm);
      expect(esm).toEqual(['bind', 'invoke', 'heldSucceeded', 'laneSucceeded', 'heldFailed', 'succeed', 'host'].map((name) => `${name}: value a inFlight 0`));
    });
  }
});
