import { describe, expect, it } from 'vitest';
import { CallbackError, type Balancer, type RunOptions } from '../../src/index.js';
import { closeWorkingPools, expectInvalid, fake, workingPool, type Fake } from '../helpers/bad-input.js';

closeWorkingPools();

describe('pool.run(fn, options) with bad input', () => {
  const foreign = { slot: 0, name: 'ok', client: fake('ok'), weight: 1, inFlight: 0, latencyMs: 0 };
  const bad: [string, RunOptions<Fake>, string, unknown][] = [
    ['timeout 0', { timeout: 0 }, 'timeout', 0],
    ['timeout Infinity', { timeout: Infinity }, 'timeout', Infinity],
    ['timeout string', { timeout: '5' as never }, 'timeout', '5'],
    ['signal an object', { signal: { aborted: false } as never }, 'signal', { aborted: false }],
    ['strategy a number', { strategy: 42 as never }, 'strategy', 42],
    ['strategy null', { strategy: null as never }, 'strategy', null],
    ['strategy an object without pick', { strategy: {} as never }, 'strategy', {}],
    ['retry true', { retry: true as never }, 'retry', true],
    ['retry.attempts 0', { retry: { attempts: 0 } }, 'retry.attempts', 0],
    ['retry.backoff.jitter unknown', { retry: { backoff: { jitter: 'some' as never } } }, 'retry.backoff.jitter', 'some'],
    ['hedge.delay negative', { hedge: { delay: -1 } }, 'hedge.delay', -1],
    ['hedge.maxHedges 0', { hedge: { delay: 1, maxHedges: 0 } }, 'hedge.maxHedges', 0],
  ];
  it.each(bad.map(([label, options, option, value]) => [label, option, options, value] as const))('%s: rejects (no throw) InvalidOptionError naming %s, counts nothing, and the pool keeps working', async (_label, option, options, value) => {
    const { pool, stillWorks } = workingPool();
    let call: Promise<unknown> | undefined;
    expect(() => (call = pool.run((client) => client.id, options))).not.toThrow();
    expectInvalid(await call!.catch((e: unknown) => e), option, value);
    await stillWorks();
  });

  it('a Balancer whose pick returns a foreign member: rejects (no throw) CallbackError naming the balancer, counts nothing, and the pool keeps working', async () => {
    const { pool, stillWorks } = workingPool();
    let call: Promise<unknown> | undefined;
    expect(() => (call = pool.run((client) => client.id, { strategy: { pick: () => foreign } as unknown as Balancer<Fake> }))).not.toThrow();
    const error = await call!.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallbackError);
    expect((error as CallbackError).callback).toMatch(/balancer/);
    await stillWorks();
  });

  it('maxWait negative, on a call that has to wait for a token: rejects InvalidOptionError naming maxWait', async () => {
    const { pool } = workingPool({ limit: { rate: 1, burst: 1 } });
    await pool.run(() => 'takes the only token');
    expectInvalid(await pool.run(() => 'waits', { maxWait: -1 }).catch((e: unknown) => e), 'maxWait', -1);
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, failures: 0 });
  });

  it('pauseClient with a bad duration: the call rejects InvalidOptionError naming pauseClient, and its client is not paused', async () => {
    const { pool } = workingPool();
    for (const ms of [-1, Number.NaN, Infinity]) {
      expectInvalid(await pool.run((_client, call) => call.pauseClient(ms)).catch((e: unknown) => e), 'pauseClient', ms);
    }
    await expect(pool.run((client) => client.id)).resolves.toBe('ok');
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, state: { kind: 'closed' } });
  });

  it('run() with a non-function rejects InvalidOptionError naming fn, and counts nothing against the client', async () => {
    const { pool } = workingPool({ breaker: { maxFailures: 2 } });
    const errors = [];
    for (let i = 0; i < 2; i++) errors.push(await pool.run(42 as never).catch((e: unknown) => e));
    // Before the fix: Actual: ClientCallError ("this[#fn] is not a function"), counted against
    // `ok`, whose circuit opens. Expected: InvalidOptionError naming fn, and nothing counted.
    expect(pool.members()[0]).toMatchObject({ failures: 0, state: { kind: 'closed' } });
    expectInvalid(errors[0], 'fn', 42);
  });

  it('a Balancer whose pick() returns undefined makes run() reject CallbackError naming the balancer', async () => {
    const { pool } = workingPool();
    const error = await pool.run((client) => client.id, { strategy: { pick: () => undefined } as unknown as Balancer<Fake> }).catch((e: unknown) => e);
    expect(pool.members()[0]).toMatchObject({ inFlight: 0 });
    expect(error).toBeInstanceOf(CallbackError);
    expect((error as CallbackError).callback).toMatch(/balancer/);
  });

  it('run() with a negative maxWait rejects InvalidOptionError even when the call need not wait', async () => {
    const { pool } = workingPool();
    // Before the fix: actual resolves 'ok' (maxWait is only read when a call waits for a token);
    // timeout, retry and hedge are checked on every call.
    expectInvalid(await pool.run((client) => client.id, { maxWait: -1 }).catch((e: unknown) => e), 'maxWait', -1);
  });
});
