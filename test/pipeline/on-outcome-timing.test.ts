import { describe, expect, it } from 'vitest';
import { ClientPool, type Middleware } from '../../src/index.js';

/** The duration an `onOutcome` hook hears for one successful call, in a pool made with `options`. */
async function durationHeard(onOutcome: NonNullable<Middleware<object>['onOutcome']>, options: { measureLatency?: boolean } = {}): Promise<unknown> {
  const pool = new ClientPool<object>(options);
  pool.add({});
  let heard: unknown;
  pool.use({
    name: 'probe',
    onOutcome(...args: Parameters<typeof onOutcome>) {
      heard = args[2];
    },
  });
  pool.use({ name: 'hook under test', onOutcome });
  await pool.run(() => 'v');
  await pool.close();
  return heard;
}

const seen: unknown[] = [];

describe("onOutcome's durationMs: timed when a hook's length is 3, so declare it plainly", () => {
  it('declared plainly, (call, outcome, ms): a duration in ms', async () => {
    expect(await durationHeard((call, outcome, ms) => {
      seen.push([call, outcome, ms]);
    })).toBeGreaterThanOrEqual(0);
  });

  it('declared with a default, (call, outcome, ms = -1), length 2: NaN', async () => {
    // eslint-disable-next-line @typescript-eslint/no-useless-default-assignment -- the default is the point
    expect(await durationHeard((call, outcome, ms = -1) => {
      seen.push([call, outcome, ms]);
    })).toBeNaN();
  });

  it('declared with a default, in a pool that times every call (measureLatency): a duration', async () => {
    // eslint-disable-next-line @typescript-eslint/no-useless-default-assignment -- the default is the point
    expect(await durationHeard((call, outcome, ms = -1) => {
      seen.push([call, outcome, ms]);
    }, { measureLatency: true })).toBeGreaterThanOrEqual(0);
  });
});
