// The pick stage's lane: a call with no options goes straight from the balancer's pick to its function.
// It must go where the same call through the whole pick stage goes, and leave the pool as that call does.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientPool, PoolClosedError, seededRandom, type Balancer, type PoolMember, type PoolOptions, type RunOptions } from '../../src/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { ending } from '../helpers/outcomes.js';

interface Fake {
  readonly id: number;
}

type Op =
  | { readonly kind: 'call'; readonly fail: boolean; readonly pauseMs: number; readonly hold: boolean; readonly costly: boolean; readonly with: 'none' | 'method' | 'retry' }
  | { readonly kind: 'release'; readonly index: number; readonly fail: boolean }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'add'; readonly tier: number; readonly cap: number | undefined; readonly limited: boolean }
  | { readonly kind: 'remove'; readonly index: number }
  | { readonly kind: 'observe' }
  | { readonly kind: 'health'; readonly index: number; readonly isDown: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('call' as const), fail: fc.boolean(), pauseMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 })), hold: fc.boolean(), costly: fc.integer({ min: 0, max: 4 }).map((n) => n === 0), with: fc.constantFrom('none' as const, 'method' as const, 'retry' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), index: fc.nat(), fail: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), tier: fc.integer({ min: 0, max: 1 }), cap: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }), limited: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('observe' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('health' as const), index: fc.nat(), isDown: fc.boolean() }) },
);


describe("the pick stage's lane (calls with no options)", () => {
  it('sends each call where the whole pick stage sends it, and leaves the same state, whatever the clients do', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), fc.boolean(), fc.boolean(), fc.constantFrom(30, 50, 100), fc.integer(), fc.boolean(), async (ops, slowStart, measureLatency, maxEjectedPercent, seed, destroy) => {
        const clock = new ManualClock();
        // Health is checked only when a step asks (`checkHealth()`): a client whose id is here fails its check.
        const down = new Set<number>();
        const healthCheck = { check: (client: Fake) => (down.has(client.id) ? Promise.reject(new Error('down')) : Promise.resolve()), interval: 1_000_000, unhealthyThreshold: 1, healthyThreshold: 1 };
        // Seeded alike, so that two pools make the same slow-start and panic draws.
        const options = (): PoolOptions<Fake> => ({ clock, random: seededRandom(seed), maxWait: 0, measureLatency, healthCheck, breaker: { maxFailures: 2, cooldown: 200 }, maxEjectedPercent, ...(slowStart ? { slowStart: { window: 300 } } : {}) });
        // `lane` runs `run(fn)`; `stage` runs `run(fn, { cost: {} })`: a cost of one request, as a call with no options has, which the roster's full `select()` picks for.
        const lane = new ClientPool<Fake>(options());
        const stage = new ClientPool<Fake>(options());
        let nextId = 0;
        const add = (tier: number, cap: number | undefined, limited: boolean): void => {
          const id = nextId++;
          const addOptions = { name: `c${id}`, tier, ...(cap === undefined ? {} : { maxInFlight: cap }), ...(limited ? { limit: { rate: 5, burst: 2 } } : {}) };
          lane.add({ id }, addOptions);
          stage.add({ id }, addOptions);
        };
        for (let i = 0; i < 3; i++) add(0, undefined, false);
        // Which client each attempt of each pool went to, in order.
        const served = { lane: [] as string[], stage: [] as string[] };
        const laneHeard: string[] = [];
        const stageHeard: string[] = [];
        const held: { lane: ReturnType<typeof deferred<string>>; stage: ReturnType<typeof deferred<string>>; done: Promise<[string, string]> }[] = [];
        for (const step of ops) {
          if (step.kind === 'call') {
            const pending = { lane: deferred<string>(), stage: deferred<string>() };
            // A call refused before its function ran never takes its answer: a rejection nobody waits for.
            pending.lane.promise.catch(() => {});
            pending.stage.promise.catch(() => {});
            const fn = (which: 'lane' | 'stage') => (_client: Fake, call: { clientName: string; pauseClient(ms: number): void }) => {
              served[which].push(call.clientName);
              if (step.pauseMs > 0) call.pauseClient(step.pauseMs);
              if (step.hold) return pending[which].promise;
              return step.fail ? Promise.reject(new Error('down')) : Promise.resolve(call.clientName);
            };
            // Options that say nothing of the pick (a method, retries: the first attempt takes the lane too),
            // or a call costing 3 requests (both pools pick it the full way), which may not fit a bucket.
            const extra: RunOptions<Fake> = step.with === 'method' ? { method: 'get' } : step.with === 'retry' ? { retry: { attempts: 2, backoff: { initial: 0, jitter: 'none' } } } : {};
            const a = step.costly ? lane.run(fn('lane'), { ...extra, cost: { requests: 3 } }) : step.with === 'none' ? lane.run(fn('lane')) : lane.run(fn('lane'), extra);
            const b = stage.run(fn('stage'), { ...extra, cost: step.costly ? { requests: 3 } : {} });
            const done = Promise.all([ending(a), ending(b)]);
            if (step.hold) held.push({ ...pending, done });
            else {
              const [x, y] = await done;
              expect(x).toBe(y);
            }
          } else if (step.kind === 'release') {
            if (held.length === 0) continue;
            const [call] = held.splice(step.index % held.length, 1);
            if (step.fail) {
              call!.lane.reject(new Error('down'));
              call!.stage.reject(new Error('down'));
            } else {
              call!.lane.resolve('late');
              call!.stage.resolve('late');
            }
            const [x, y] = await call!.done;
            expect(x).toBe(y);
          } else if (step.kind === 'advance') clock.advance(step.ms);
          else if (step.kind === 'add') add(step.tier, step.cap, step.limited);
          else if (step.kind === 'health') {
            const id = step.index % nextId;
            if (step.isDown) down.add(id);
            else down.delete(id);
            await Promise.all([lane.checkHealth(), stage.checkHealth()]);
          } else if (step.kind === 'observe') {
            const watch = (heard: string[]) => ({ name: `watch ${heard.length}`, onOutcome: (call: { clientName: string }, outcome: { kind: string }) => void heard.push(`${call.clientName} ${outcome.kind}`) });
            lane.use(watch(laneHeard));
            stage.use(watch(stageHeard));
          } else {
            const names = lane.members().map((m) => m.name);
            if (names.length === 0) continue;
            const name = names[step.index % names.length]!;
            void lane.remove(name);
            void stage.remove(name);
          }
          expect(served.lane).toEqual(served.stage);
          expect(lane.members()).toEqual(stage.members());
          expect(laneHeard).toEqual(stageHeard);
        }
        // The end: destroy() cancels what is in flight (and its hooks hear it), or close() waits for it.
        const ended = destroy ? Promise.all([lane.destroy(), stage.destroy()]) : Promise.all([lane.close(), stage.close()]);
        for (const call of held) {
          call.lane.resolve('late');
          call.stage.resolve('late');
          const [x, y] = await call.done;
          expect(x).toBe(y);
        }
        await ended;
        expect(laneHeard).toEqual(stageHeard);
      }),
      { numRuns: 300 },
    );
  });

  it("charges a call with no options the cost its method's defaults give it", async () => {
    const pool = new ClientPool<Fake>({ clock: new ManualClock(), methods: { unknown: { cost: { requests: 3 } } } });
    pool.add({ id: 0 }, { name: 'c0', limit: { rate: 1, burst: 5 } });
    await pool.run(() => Promise.resolve(1));
    expect(pool.members()[0]!.tokens).toBe(2);
    await pool.close();
  });

  it("keeps a call with no options that its method's defaults make low priority out of the reserve", async () => {
    const pool = new ClientPool<Fake>({ maxWait: 1_000, reserve: 0.5, methods: { unknown: { priority: 'low' } } });
    pool.add({ id: 0 }, { name: 'c0', maxInFlight: 2 });
    const first = deferred<string>();
    const running = pool.run(() => first.promise);
    // Half of the client's 2 slots are kept for calls of normal priority: a second low call is shed.
    await expect(pool.run(() => Promise.resolve('second'))).rejects.toMatchObject({ code: 'ERR_SHED' });
    first.resolve('first');
    await running;
    await pool.close();
  });

  it('leaves the first attempt of a call with a cost of its own to the full pick, which charges that cost', async () => {
    const pool = new ClientPool<Fake>({ clock: new ManualClock() });
    pool.add({ id: 0 }, { name: 'c0', limit: { rate: 1, burst: 5 } });
    await pool.run(() => Promise.resolve(1), { method: 'get', cost: { requests: 3 } });
    expect(pool.members()[0]!.tokens).toBe(2);
    await pool.close();
  });

  it('leaves the first attempt of a call with a key to the full pick, which sends every call of a key to one client', async () => {
    const pool = new ClientPool<Fake>();
    for (let id = 0; id < 4; id++) pool.add({ id }, { name: `c${id}` });
    const served = new Set<string>();
    for (let i = 0; i < 8; i++) await pool.run((_client, call) => Promise.resolve(served.add(call.clientName)), { key: 'account-7', retry: { attempts: 2 } });
    expect(served.size).toBe(1);
    await pool.close();
  });

  it('goes in line behind calls already waiting for a client, even when one is ready now', async () => {
    const pool = new ClientPool<Fake>({ maxWait: 1_000 });
    pool.add({ id: 0 }, { name: 'c0', maxInFlight: 1 });
    const first = deferred<string>();
    const order: string[] = [];
    const running = pool.run(() => first.promise);
    // The client is at its cap: this call waits in line.
    const waiting = pool.run(() => {
      order.push('waiting');
      return Promise.resolve('waiting');
    });
    first.resolve('first');
    await running;
    // The client is free again while the call in line has not been served yet: a new call goes behind it.
    const later = pool.run(() => {
      order.push('later');
      return Promise.resolve('later');
    });
    await Promise.all([waiting, later]);
    expect(order).toEqual(['waiting', 'later']);
    await pool.close();
  });

  it('refuses the call, without running its function, when the balancer destroys the pool from its pick', async () => {
    const made: { pool?: ClientPool<Fake> } = {};
    const balancer: Balancer<Fake> = {
      pick(ready: readonly PoolMember<Fake>[]): PoolMember<Fake> {
        void made.pool?.destroy();
        return ready[0]!;
      },
    };
    const pool = (made.pool = new ClientPool<Fake>({ strategy: balancer }));
    pool.add({ id: 0 }, { name: 'c0' });
    let ran = false;
    await expect(
      pool.run(() => {
        ran = true;
        return Promise.resolve(1);
      }),
    ).rejects.toBeInstanceOf(Error);
    expect(ran).toBe(false);
    await expect(pool.run(() => Promise.resolve(1))).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('tells an onOutcome hook that joined while the call was in flight how it ended', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 0 }, { name: 'c0' });
    const answer = deferred<string>();
    const running = pool.run(() => answer.promise);
    const heard: string[] = [];
    pool.use({ name: 'late', onOutcome: (call, outcome) => void heard.push(`${call.clientName} ${outcome.kind}`) });
    answer.resolve('ok');
    await expect(running).resolves.toBe('ok');
    expect(heard).toEqual(['c0 success']);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('publishes the end of a call on clientpool:attempt:end to a subscriber that joined while it was in flight', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 0 }, { name: 'c0' });
    const answer = deferred<string>();
    const running = pool.run(() => answer.promise);
    const heard: string[] = [];
    const onEnd = (message: unknown): void => {
      const { pool: from, outcome } = message as { pool: unknown; outcome: { kind: string } };
      if (from === pool) heard.push(outcome.kind);
    };
    subscribe('clientpool:attempt:end', onEnd);
    try {
      answer.resolve('ok');
      await running;
    } finally {
      unsubscribe('clientpool:attempt:end', onEnd);
    }
    expect(heard).toEqual(['success']);
    await pool.close();
  });

  it('publishes the start of a call on clientpool:attempt:start while it has subscribers', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 0 }, { name: 'c0' });
    const heard: string[] = [];
    const onStart = (message: unknown): void => {
      const { pool: from, call } = message as { pool: unknown; call: { clientName: string } };
      if (from === pool) heard.push(call.clientName);
    };
    subscribe('clientpool:attempt:start', onStart);
    try {
      await pool.run(() => Promise.resolve(1));
    } finally {
      unsubscribe('clientpool:attempt:start', onStart);
    }
    expect(heard).toEqual(['c0']);
    await pool.close();
  });
});
