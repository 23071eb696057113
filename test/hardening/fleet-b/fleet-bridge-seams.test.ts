// Attacks on the pool's side of a fleet (src/fleet/fleet-bridge.ts, the probe gate in Roster.place) with
// Fleet links of our own that reenter the pool from inside its callbacks, answer with the wrong types,
// or never finish leaving. No Redis: the link is the thing under attack.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool, type Fleet, type FleetHost, type FleetSession } from '../../../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Unhandled rejections and uncaught throws fail the test they happen in. */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));
afterEach(async () => {
  await sleep(20);
  expect(unhandled.splice(0)).toEqual([]);
});

/** A link whose session methods are the defaults below, overridden per test; `host` is the pool's side once joined. */
function link(overrides: (host: FleetHost) => Partial<FleetSession>): Fleet & { host?: FleetHost } {
  const fleet: Fleet & { host?: FleetHost } = {
    join(host) {
      fleet.host = host;
      return {
        opened: () => undefined,
        closed: () => undefined,
        paused: () => undefined,
        healthChanged: () => undefined,
        mayProbe: () => 0,
        mayCheck: () => true,
        leave: () => Promise.resolve(),
        ...overrides(host),
      };
    },
  };
  return fleet;
}

const failing = async (pool: ClientPool<{ name: string }>, times: number): Promise<void> => {
  for (let i = 0; i < times; i++) await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
};

describe('a Fleet link that reenters the pool from its own callbacks', () => {
  it('openCircuit on the same client from within opened(): the circuit stays open, the pool keeps serving the others', async () => {
    const pool = new ClientPool<{ name: string }>({
      breaker: { maxFailures: 1, cooldown: 60_000 },
      retryBudget: false,
      fleet: link((host) => ({ opened: (client) => host.openCircuit(client, 120_000, 5) })),
    });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    await pool.run((c) => (c.name === 'a' ? Promise.reject(new Error('down')) : Promise.resolve(c.name))).catch(() => undefined);
    await pool.run((c) => (c.name === 'a' ? Promise.reject(new Error('down')) : Promise.resolve(c.name))).catch(() => undefined);
    const states = Object.fromEntries(pool.members().map((m) => [m.name, m.state.kind]));
    expect(Object.values(states).filter((s) => s === 'open')).toHaveLength(1);
    for (let i = 0; i < 5; i++) expect(await pool.run((c) => Promise.resolve(c.name))).toBe(states['a'] === 'open' ? 'b' : 'a');
    await pool.close();
  });

  it('closeCircuit on the client from within opened(): no throw out of the call, and the pool is left consistent', async () => {
    const pool = new ClientPool<{ name: string }>({
      breaker: { maxFailures: 1, cooldown: 60_000 },
      retryBudget: false,
      fleet: link((host) => ({ opened: (client) => host.closeCircuit(client) })),
    });
    pool.add({ name: 'a' }, { name: 'a' });
    await expect(pool.run(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    // Whatever the state now, a call either reaches the client or is refused with a clientpool error: never hangs.
    const outcome = await Promise.race([pool.run((c) => Promise.resolve(c.name)).then((v) => v, (e: Error) => e.name), sleep(2_000).then(() => 'hung')]);
    expect(outcome).not.toBe('hung');
    await pool.close();
  });

  it.each([50, Number.POSITIVE_INFINITY])('recheck of the same client from within mayProbe() (%s deep): no stack overflow reaches the caller, and the probe goes out', async (depth) => {
    let asks = 0;
    const pool = new ClientPool<{ name: string }>({
      breaker: { maxFailures: 1, cooldown: 20 },
      retryBudget: false,
      fleet: link((host) => ({
        mayProbe: (client) => {
          asks++;
          if (asks < depth) host.recheck(client);
          return 0;
        },
      })),
    });
    pool.add({ name: 'a' }, { name: 'a' });
    await failing(pool, 1);
    await sleep(40);
    expect(await pool.run((c) => Promise.resolve(c.name))).toBe('a');
    expect(pool.members()[0]?.state.kind).toBe('closed');
    await pool.close();
  });

  it('closeCircuit from a link while the pool closes (inside leave()): close resolves, nothing throws', async () => {
    const pool = new ClientPool<{ name: string }>({
      breaker: { maxFailures: 1, cooldown: 60_000 },
      retryBudget: false,
      fleet: link((host) => ({
        leave: () => {
          host.closeCircuit('a');
          host.openCircuit('a', 1_000);
          host.pause('a', 1_000);
          host.setDown('a', true);
          host.recheck('a');
          return Promise.resolve();
        },
      })),
    });
    pool.add({ name: 'a' }, { name: 'a' });
    await failing(pool, 1);
    await expect(pool.close()).resolves.toBeUndefined();
  });
});

describe('a Fleet link that answers with the wrong types', () => {
  it('mayProbe() answering a Promise: taken as "probe now", and the rejected promise is not left unhandled', async () => {
    const pool = new ClientPool<{ name: string }>({
      breaker: { maxFailures: 1, cooldown: 20 },
      retryBudget: false,
      fleet: link(() => ({ mayProbe: (() => Promise.reject(new Error('async mayProbe'))) as unknown as FleetSession['mayProbe'] })),
    });
    pool.add({ name: 'a' }, { name: 'a' });
    await failing(pool, 1);
    await sleep(40);
    expect(await pool.run((c) => Promise.resolve(c.name))).toBe('a');
    await pool.close();
  });

  it('an async opened() that rejects: reported as a warning like a throw, not an unhandled rejection', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }): void => void warnings.push(String(w.code));
    process.on('warning', onWarning);
    try {
      const pool = new ClientPool<{ name: string }>({
        breaker: { maxFailures: 1, cooldown: 60_000 },
        retryBudget: false,
        // An async session method is the attack: its rejection must be reported as a throw is.
        // eslint-disable-next-line @typescript-eslint/no-misused-promises
        fleet: link(() => ({ opened: () => Promise.reject(new Error('async opened')) })),
      });
      pool.add({ name: 'a' }, { name: 'a' });
      await failing(pool, 1);
      await sleep(20);
      expect(pool.members()[0]?.state.kind).toBe('open');
      expect(warnings).toContain('CLIENTPOOL_CALLBACK_ERROR');
      await pool.close();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it.each([
    ['a Proxy', new Proxy({}, { get: () => () => 5_000 })],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a bigint', 5_000n],
    ['a numeric string', '5000'],
  ] as const)('mayProbe() answering %s: the probe goes out (only a positive number delays it)', async (_, answer) => {
    const pool = new ClientPool<{ name: string }>({
      breaker: { maxFailures: 1, cooldown: 20 },
      retryBudget: false,
      fleet: link(() => ({ mayProbe: (() => answer) as unknown as FleetSession['mayProbe'] })),
    });
    pool.add({ name: 'a' }, { name: 'a' });
    await failing(pool, 1);
    await sleep(40);
    const got = await Promise.race([pool.run((c) => Promise.resolve(c.name)).catch((e: Error) => e.name), sleep(1_000).then(() => 'hung')]);
    // Infinity is a positive number: the client waits (capped), refused as open; every other answer probes now.
    if (answer === Number.POSITIVE_INFINITY) expect(got).toBe('AllCircuitsOpenError');
    else expect(got).toBe('a');
    await pool.close();
  });

  it.each([
    ['a Promise of false', Promise.resolve(false)],
    ['a Proxy', new Proxy({}, {})],
    ['0', 0],
  ] as const)('mayCheck() answering %s: the health check still runs here (only a plain false skips it)', async (_, answer) => {
    let checks = 0;
    const pool = new ClientPool<{ name: string }>({
      healthCheck: {
        interval: 10,
        check: () => {
          checks++;
        },
      },
      fleet: link(() => ({ mayCheck: (() => answer) as unknown as FleetSession['mayCheck'] })),
    });
    pool.add({ name: 'a' }, { name: 'a' });
    await sleep(60);
    expect(checks).toBeGreaterThan(0);
    await pool.close();
  });

  it('join() returning a Proxy whose every method throws: calls go on, close resolves', async () => {
    const session = new Proxy({} as FleetSession, {
      get: () => () => {
        throw new Error('proxy');
      },
    });
    const pool = new ClientPool<{ name: string }>({ breaker: { maxFailures: 1, cooldown: 20 }, retryBudget: false, fleet: { join: () => session } });
    pool.add({ name: 'a' }, { name: 'a' });
    await failing(pool, 1);
    await sleep(40);
    expect(await pool.run((c) => Promise.resolve(c.name))).toBe('a');
    await expect(pool.close()).rejects.toBeInstanceOf(AggregateError);
  });
});

describe('a Fleet link whose leave() never settles', () => {
  it('close({ signal }) resolves once the signal aborts', async () => {
    const pool = new ClientPool<{ name: string }>({ fleet: link(() => ({ leave: () => new Promise<void>(() => {}) })) });
    pool.add({ name: 'a' }, { name: 'a' });
    const got = await Promise.race([pool.close({ signal: AbortSignal.timeout(50) }).then(() => 'closed', () => 'rejected'), sleep(2_000).then(() => 'hung')]);
    expect(got).not.toBe('hung');
  });

  it('destroy() resolves', async () => {
    const pool = new ClientPool<{ name: string }>({ fleet: link(() => ({ leave: () => new Promise<void>(() => {}) })) });
    pool.add({ name: 'a' }, { name: 'a' });
    const got = await Promise.race([pool.destroy().then(() => 'closed', () => 'rejected'), sleep(2_000).then(() => 'hung')]);
    expect(got).not.toBe('hung');
  });

  it('leave() that throws synchronously: close rejects with it (reported), the pool is closed', async () => {
    const pool = new ClientPool<{ name: string }>({
      fleet: link(() => ({
        leave: () => {
          throw new Error('leave threw');
        },
      })),
    });
    pool.add({ name: 'a' }, { name: 'a' });
    await expect(pool.close()).rejects.toBeInstanceOf(AggregateError);
    await expect(pool.run((c) => Promise.resolve(c.name))).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });
});
