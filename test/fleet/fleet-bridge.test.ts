import { afterEach, describe, expect, it, vi } from 'vitest';
import { AllCircuitsOpenError, CallbackError, ClientPool, InvalidOptionError, type Breaker, type Fleet, type FleetHost, type FleetSession, type StateChange } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { recordWarnings } from '../helpers/warnings.js';

// The pool's side of a fleet, with a fleet link written here: what the pool tells it, what it may do to
// the pool, and that a link which throws, answers nonsense or applies things never breaks a call.

interface Told {
  readonly what: string;
  readonly client: string;
  readonly value?: number | boolean;
}

/** A fleet link that records what it is told and answers `mayProbe` / `mayCheck` as the test says. */
function recordingFleet(answers: { mayProbe?: (client: string) => number; mayCheck?: (client: string, probe: string) => boolean } = {}) {
  const told: Told[] = [];
  let host!: FleetHost;
  let left = 0;
  const fleet: Fleet = {
    join(pool) {
      host = pool;
      const session: FleetSession = {
        opened: (client, ms, trips) => void told.push({ what: 'opened', client, value: ms }, { what: 'trips', client, value: trips }),
        closed: (client) => void told.push({ what: 'closed', client }),
        paused: (client, ms) => void told.push({ what: 'paused', client, value: ms }),
        healthChanged: (client, isDown) => void told.push({ what: 'health', client, value: isDown }),
        mayProbe: (client) => answers.mayProbe?.(client) ?? 0,
        mayCheck: (client, probe) => answers.mayCheck?.(client, probe) ?? true,
        leave: () => {
          left++;
          return Promise.resolve();
        },
      };
      return session;
    },
  };
  return { fleet, told, host: () => host, left: () => left };
}

interface Upstream {
  readonly name: string;
  isDead: boolean;
  calls: number;
}

function poolWith(fleet: Fleet, clock = new ClockForPools()) {
  const x: Upstream = { name: 'x', isDead: false, calls: 0 };
  const y: Upstream = { name: 'y', isDead: false, calls: 0 };
  const pool = new ClientPool<Upstream>({ breaker: { maxFailures: 2, cooldown: 1_000 }, fleet, clock, retryBudget: false });
  pool.add(x, { name: 'x' });
  pool.add(y, { name: 'y' });
  const changes: StateChange[] = [];
  pool.onStateChange((change) => changes.push(change));
  const call = (): Promise<string> =>
    pool.run((u) => {
      u.calls++;
      if (u.isDead) throw new Error(`${u.name} is dead`);
      return u.name;
    });
  const state = (name: string): string => pool.members().find((m) => m.name === name)!.state.kind;
  return { pool, x, y, changes, call, state, clock };
}

class ClockForPools extends ManualClock {}

afterEach(() => void vi.restoreAllMocks());

describe('the pool tells its fleet what happened here', () => {
  it('an opening here is told with the ms until it may probe and its trips; its closing after probes is told too', async () => {
    const link = recordingFleet();
    const { x, call, state, clock, pool } = poolWith(link.fleet);
    x.isDead = true;
    while (state('x') !== 'open') await call().catch(() => undefined);
    expect(link.told.filter((t) => t.client === 'x')).toEqual([
      { what: 'opened', client: 'x', value: 1_000 },
      { what: 'trips', client: 'x', value: 1 },
    ]);
    x.isDead = false;
    clock.advance(1_000);
    while (state('x') !== 'closed') await call();
    expect(link.told.at(-1)).toEqual({ what: 'closed', client: 'x' });
    await pool.close();
    expect(link.left()).toBe(1);
  });

  it('a pause asked by a call is told with its ms', async () => {
    const link = recordingFleet();
    const { pool } = poolWith(link.fleet);
    await pool.run((_, call) => call.pauseClient(750));
    expect(link.told.filter((t) => t.what === 'paused')).toHaveLength(1);
    expect(link.told.find((t) => t.what === 'paused')?.value).toBe(750);
    await pool.close();
  });
});

describe('what a fleet applies to the pool', () => {
  it('openCircuit opens the client here for ms with the given trips, reported by onStateChange, and is not told back', async () => {
    const link = recordingFleet();
    const { x, y, call, changes, state, clock, pool } = poolWith(link.fleet);
    link.host().openCircuit('x', 500, 3);
    expect(state('x')).toBe('open');
    expect(changes).toEqual([expect.objectContaining({ client: 'x', from: expect.objectContaining({ kind: 'closed' }), to: { kind: 'open', until: 500, trips: 3 } })]);
    expect(link.told).toEqual([]);
    for (let i = 0; i < 10; i++) await call();
    expect([x.calls, y.calls]).toEqual([0, 10]);
    // Its own cooldown of 500 ms is over: the next call may probe it.
    clock.advance(500);
    x.calls = 0;
    for (let i = 0; i < 10; i++) await call();
    expect(x.calls).toBeGreaterThan(0);
    await pool.close();
  });

  it('closeCircuit closes an open client here, and is not told back', async () => {
    const link = recordingFleet();
    const { call, x, state, pool } = poolWith(link.fleet);
    x.isDead = true;
    while (state('x') !== 'open') await call().catch(() => undefined);
    link.told.length = 0;
    link.host().closeCircuit('x');
    expect(state('x')).toBe('closed');
    expect(link.told).toEqual([]);
    await pool.close();
  });

  it('pause keeps the client out for ms and is not told back; setDown marks it down and up, heard by onHealthChange, not told back', async () => {
    const link = recordingFleet();
    const { x, call, clock, pool } = poolWith(link.fleet);
    link.host().pause('x', 300);
    for (let i = 0; i < 6; i++) await call();
    expect(x.calls).toBe(0);
    clock.advance(300);
    for (let i = 0; i < 6; i++) await call();
    expect(x.calls).toBeGreaterThan(0);
    const health: unknown[] = [];
    pool.onHealthChange((change) => health.push(change));
    link.host().setDown('x', true);
    x.calls = 0;
    for (let i = 0; i < 6; i++) await call();
    expect(x.calls).toBe(0);
    link.host().setDown('x', false);
    expect(health).toEqual([
      { client: 'x', isDown: true },
      { client: 'x', isDown: false },
    ]);
    expect(link.told).toEqual([]);
    await pool.close();
  });

  it('reportHeight only raises a height; height() reads it back', async () => {
    const link = recordingFleet();
    const { pool } = poolWith(link.fleet);
    expect(link.host().height('x')).toBeUndefined();
    link.host().reportHeight('x', 10);
    link.host().reportHeight('x', 7);
    expect(link.host().height('x')).toBe(10);
    expect(pool.members().find((m) => m.name === 'x')!.height).toBe(10);
    await pool.close();
  });

  it('odd durations and names are harmless: NaN, negative and huge ms are clamped, unknown clients ignored, a closed pool ignores everything', async () => {
    const link = recordingFleet();
    const { pool, state, clock } = poolWith(link.fleet);
    link.host().openCircuit('x', Number.NaN);
    // Open for 0 ms: due for a probe at once.
    expect(state('x')).toBe('half-open');
    link.host().openCircuit('y', -5, Number.NaN);
    link.host().pause('x', Number.POSITIVE_INFINITY);
    link.host().openCircuit('nobody', 100);
    link.host().closeCircuit('nobody');
    link.host().setDown('nobody', true);
    link.host().recheck('nobody');
    // -5 ms is 0 ms, trips NaN is 1: y is due for a probe at once.
    expect(pool.members().find((m) => m.name === 'y')!.state).toEqual({ kind: 'half-open', trips: 1 });
    expect(clock.now()).toBe(0);
    await pool.close();
    expect(() => link.host().openCircuit('x', 10)).not.toThrow();
    expect(link.host().names()).toEqual([]);
  });

  it('a breaker of your own without trip() and reset() is left alone', async () => {
    const link = recordingFleet();
    const breaker = (): Breaker => ({ state: { kind: 'closed' }, acquire: () => 'call', canAcquire: () => true, success() {}, failure() {}, release() {} });
    const pool = new ClientPool<string>({ breaker, fleet: link.fleet });
    pool.add('x', { name: 'x' });
    link.host().openCircuit('x', 1_000);
    expect(pool.members()[0]!.state.kind).toBe('closed');
    expect(await pool.run((c) => c)).toBe('x');
    await pool.close();
  });
});

describe('the probe gate: one process of the fleet probes an open client', () => {
  it('while mayProbe says wait, the client stays open past its cooldown and takes no call; recheck lets it probe at once', async () => {
    let turn = 5_000;
    const link = recordingFleet({ mayProbe: () => turn });
    const { x, call, state, clock, pool } = poolWith(link.fleet);
    link.host().openCircuit('x', 100);
    clock.advance(100);
    for (let i = 0; i < 10; i++) await call();
    expect(x.calls).toBe(0);
    expect(state('x')).toBe('open');
    turn = 0;
    link.host().recheck('x');
    for (let i = 0; i < 4; i++) await call();
    expect(x.calls).toBeGreaterThan(0);
    await pool.close();
  });

  it('the wait mayProbe gave ends by itself: the gate is asked again then', async () => {
    const asked: number[] = [];
    const clock = new ClockForPools();
    const link = recordingFleet({
      mayProbe: () => {
        asked.push(clock.now());
        return asked.length === 1 ? 200 : 0;
      },
    });
    const { x, call, pool } = poolWith(link.fleet, clock);
    link.host().openCircuit('x', 100);
    clock.advance(100);
    await call();
    clock.advance(200);
    for (let i = 0; i < 4; i++) await call();
    expect(asked).toEqual([100, 300]);
    expect(x.calls).toBeGreaterThan(0);
    await pool.close();
  });

  it('with the only client waiting its turn, a call fails at once with AllCircuitsOpenError (no hang)', async () => {
    const link = recordingFleet({ mayProbe: () => 60_000 });
    const clock = new ClockForPools();
    const pool = new ClientPool<string>({ fleet: link.fleet, clock });
    pool.add('x', { name: 'x' });
    link.host().openCircuit('x', 10);
    clock.advance(10);
    await expect(pool.run((c) => c)).rejects.toBeInstanceOf(AllCircuitsOpenError);
    await pool.close();
  });
});

describe('a fleet link that misbehaves never breaks a call', () => {
  it('every session method throwing: calls go on, the throws are warnings, mayProbe and mayCheck answer yes', async () => {
    const warnings = recordWarnings();
    const boom = (): never => {
      throw new Error('link down');
    };
    let host!: FleetHost;
    const fleet: Fleet = {
      join: (pool) => {
        host = pool;
        return { opened: boom, closed: boom, paused: boom, healthChanged: boom, mayProbe: boom, mayCheck: boom, leave: boom };
      },
    };
    const checked: string[] = [];
    const clock = new ClockForPools();
    const pool = new ClientPool<Upstream>({ breaker: { maxFailures: 1, cooldown: 100 }, fleet, clock, healthCheck: { check: (u) => void checked.push(u.name), interval: 60_000 } });
    const x: Upstream = { name: 'x', isDead: true, calls: 0 };
    pool.add(x, { name: 'x' });
    await pool.run((_, call) => call.pauseClient(1));
    clock.advance(1);
    await expect(pool.run(() => Promise.reject(new Error('no')))).rejects.toThrow();
    host.openCircuit('x', 0);
    clock.advance(200);
    expect(await pool.run(() => 'probed')).toBe('probed');
    await pool.checkHealth();
    expect(checked).toEqual(['x']);
    await expect(pool.close()).rejects.toBeInstanceOf(AggregateError);
    const warned = warnings.filter((w) => w.code === 'CLIENTPOOL_CALLBACK_ERROR').map((w) => w.text);
    for (const method of ['paused', 'opened', 'mayProbe', 'closed', 'mayCheck']) expect(warned.join('\n')).toContain(`the fleet's ${method}() failed`);
  });

  it('mayProbe answering nonsense (NaN, a string, a promise, Infinity) is a yes, or the longest timer', async () => {
    for (const answer of [Number.NaN, '100', Promise.resolve(5), -1]) {
      const link = recordingFleet({ mayProbe: () => answer as number });
      const { x, call, clock, pool } = poolWith(link.fleet);
      link.host().openCircuit('x', 10);
      clock.advance(10);
      for (let i = 0; i < 4; i++) await call();
      expect(x.calls).toBeGreaterThan(0);
      await pool.close();
    }
    const link = recordingFleet({ mayProbe: () => Number.POSITIVE_INFINITY });
    const { x, call, clock, pool } = poolWith(link.fleet);
    link.host().openCircuit('x', 10);
    clock.advance(10);
    for (let i = 0; i < 4; i++) await call();
    expect(x.calls).toBe(0);
    clock.advance(2 ** 31 - 1);
    for (let i = 0; i < 4; i++) await call();
    await pool.close();
  });

  it('mayCheck false skips that client\'s health checks here', async () => {
    const link = recordingFleet({ mayCheck: (client) => client !== 'x' });
    const checked: string[] = [];
    const pool = new ClientPool<string>({ fleet: link.fleet, healthCheck: { check: (c) => void checked.push(c), interval: 60_000 } });
    pool.add('x', { name: 'x' });
    pool.add('y', { name: 'y' });
    await pool.checkHealth();
    expect(checked).toEqual(['y']);
    await pool.close();
  });

  it('a health change found by checks here is told; one the fleet applied is not', async () => {
    const link = recordingFleet();
    let isUp = false;
    const pool = new ClientPool<string>({ fleet: link.fleet, healthCheck: { check: () => { if (!isUp) throw new Error('down'); }, interval: 60_000, unhealthyThreshold: 1, healthyThreshold: 1 } });
    pool.add('x', { name: 'x' });
    await pool.checkHealth();
    expect(link.told).toEqual([{ what: 'health', client: 'x', value: true }]);
    isUp = true;
    link.host().setDown('x', false);
    await pool.checkHealth();
    expect(link.told).toHaveLength(1);
    await pool.close();
  });

  it('join throwing fails the constructor with a CallbackError carrying the cause; join returning nothing too; a non-Fleet is an InvalidOptionError', () => {
    const cause = new Error('no redis');
    const thrown = (() => {
      try {
        new ClientPool({ fleet: { join: () => { throw cause; } } });
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(CallbackError);
    expect((thrown as Error).cause).toBe(cause);
    expect(() => new ClientPool({ fleet: { join: () => undefined as unknown as FleetSession } })).toThrow(CallbackError);
    for (const bad of [42, null, {}, { join: 'x' }]) expect(() => new ClientPool({ fleet: bad as unknown as Fleet })).toThrow(InvalidOptionError);
  });
});
