// maxInFlight after 80d4526: a client without one keeps an internal cap of 2^31-1 (`UNCAPPED`) and an
// `isCapped` flag, instead of Infinity. Probed from outside: snapshots and both metrics must still say
// "none" for such a client and report a user cap of exactly 2^31-1 as given; mixed capped and uncapped
// clients under caps reached and freed, the reserve near 1, panic routing, tiers, quorum, adaptive limits.
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type AddOptions, type PoolOptions, type RunOptions } from '../../../src/index.js';
import { prometheusMetrics } from '../../../src/prometheus/index.js';
import { ATTR_CLIENT, METRIC_CONCURRENCY_LIMIT, otelMetrics } from '../../../src/otel/index.js';
import { deferred } from '../../helpers/manual-clock.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { collect, points, testMeterProvider } from '../../otel/metric-reader.js';
import { find, parseExposition } from '../../prometheus/exposition.js';

useUnhandledGuard({ time: 'fake', quietWarnings: true });

interface Named {
  readonly name: string;
}

const dateClock = { now: (): number => Date.now() };
const MAX = 2 ** 31 - 1;

function poolOf(options: PoolOptions<Named>, clients: Readonly<Record<string, Omit<AddOptions<Named>, 'name'>>>): ClientPool<Named> {
  const pool = new ClientPool<Named>({ clock: dateClock, ...options });
  for (const [name, add] of Object.entries(clients)) pool.add({ name }, { name, ...add });
  return pool;
}

/** Calls that hold their client until released; `ran` records where each ran, `ended` how each ended. */
function holdAll(pool: ClientPool<Named>, count: number, options: RunOptions<Named> = {}): { ran: string[]; ended: string[]; release: () => void; done: Promise<unknown> } {
  const gate = deferred();
  const ran: string[] = [];
  const ended: string[] = [];
  const calls = Array.from({ length: count }, () =>
    pool
      .run((client) => {
        ran.push(client.name);
        return gate.promise.then(() => client.name);
      }, options)
      .then(
        (name) => ended.push(`ok ${name}`),
        (error: unknown) => ended.push(`error ${(error as { code?: string }).code ?? String(error)}`),
      ),
  );
  return { ran, ended, release: () => gate.resolve(), done: Promise.all(calls) };
}

const tally = (names: readonly string[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
};

describe('snapshots: absent is undefined, every given cap (2^31-1 included) as given', () => {
  it('uncapped, 1, 2^31-1 and an adaptive limit at 2^31-1: undefined, 1, 2^31-1, 2^31-1', async () => {
    const pool = poolOf({}, {
      free: {},
      one: { maxInFlight: 1 },
      max: { maxInFlight: MAX },
      adaptive: { maxInFlight: { adaptive: 'aimd', min: 1, max: MAX, initial: MAX } },
    });
    expect(pool.members().map((m) => [m.name, m.maxInFlight])).toEqual([
      ['free', undefined],
      ['one', 1],
      ['max', MAX],
      ['adaptive', MAX],
    ]);
    await pool.close();
  });

  it('a snapshot of an uncapped client says undefined however many calls it holds, and after they end', async () => {
    const pool = poolOf({}, { free: {} });
    const held = holdAll(pool, 50);
    expect(pool.members()[0]!.inFlight).toBe(50);
    expect(pool.members()[0]!.maxInFlight).toBeUndefined();
    held.release();
    await held.done;
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, maxInFlight: undefined });
    await pool.close();
  });

  it('a user cap of 2^31-1 is a cap that snapshots keep after calls, and an uncapped client re-added with it reports it', async () => {
    const pool = poolOf({}, { a: {} });
    await pool.remove('a');
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: MAX });
    await pool.run(() => 'x');
    expect(pool.members()[0]!.maxInFlight).toBe(MAX);
    await pool.close();
  });

  it('maxInFlight above 2^31-1, Infinity, 0 and 1.5 are refused', async () => {
    const pool = poolOf({}, {});
    for (const bad of [MAX + 1, Number.POSITIVE_INFINITY, 0, 1.5, Number.NaN]) {
      expect(() => pool.add({ name: `bad${bad}` }, { name: `bad${bad}`, maxInFlight: bad })).toThrow(/maxInFlight/);
    }
    expect(pool.members()).toEqual([]);
    await pool.close();
  });
});

describe('the concurrency gauges: no series for an uncapped client, the given value for a cap of 2^31-1', () => {
  it('Prometheus: <prefix>_concurrency_limit lists the capped (2^31-1 included, and an adaptive one) and not the uncapped, under load too', async () => {
    const registry = new Registry();
    const pool = new ClientPool<Named>({ clock: dateClock }).use(prometheusMetrics({ registry }));
    pool.add({ name: 'free' }, { name: 'free' });
    pool.add({ name: 'max' }, { name: 'max', maxInFlight: MAX });
    pool.add({ name: 'adaptive' }, { name: 'adaptive', maxInFlight: { adaptive: 'gradient2' } });
    const held = holdAll(pool, 10);
    const scrape = parseExposition(await registry.metrics());
    const series = find(scrape, 'middleware_concurrency_limit').map((sample) => [sample.labels['client'], sample.value]);
    expect(series.map(([client]) => client).sort()).toEqual(['adaptive', 'max']);
    expect(series.find(([client]) => client === 'max')![1]).toBe(MAX);
    expect(Number.isInteger(series.find(([client]) => client === 'adaptive')![1])).toBe(true);
    held.release();
    await held.done;
    await pool.close();
  });

  it('OpenTelemetry: clientpool.concurrency.limit observes 2^31-1 for the user cap, nothing for the uncapped client', async () => {
    const { provider, reader } = testMeterProvider();
    const pool = new ClientPool<Named>({ clock: dateClock }).use(otelMetrics({ meterProvider: provider }));
    pool.add({ name: 'free' }, { name: 'free' });
    pool.add({ name: 'max' }, { name: 'max', maxInFlight: MAX });
    const held = holdAll(pool, 6);
    const collected = await collect(reader);
    expect(points(collected, METRIC_CONCURRENCY_LIMIT).map((p) => [p.attributes[ATTR_CLIENT], p.value])).toEqual([['max', MAX]]);
    held.release();
    await held.done;
    await pool.close();
  });
});

describe('capped and uncapped clients mixed', () => {
  it('a client at its cap is passed over for the uncapped one, and takes calls again once freed', async () => {
    const pool = poolOf({ strategy: 'round-robin' }, { capped: { maxInFlight: 2 }, free: {} });
    const first = holdAll(pool, 10);
    expect(tally(first.ran)).toEqual({ capped: 2, free: 8 });
    first.release();
    await first.done;
    const second = holdAll(pool, 4);
    expect(tally(second.ran)).toEqual({ capped: 2, free: 2 });
    second.release();
    await second.done;
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });

  it('only capped clients, all full: a call waits for a slot within maxWait and runs once one frees', async () => {
    const pool = poolOf({ maxWait: 50 }, { a: { maxInFlight: 1 }, b: { maxInFlight: 1 } });
    const held = holdAll(pool, 2);
    const waiting = holdAll(pool, 1);
    await vi.advanceTimersByTimeAsync(49);
    expect(waiting.ran).toEqual([]);
    held.release();
    await held.done;
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting.ran).toHaveLength(1);
    waiting.release();
    await waiting.done;
    expect(waiting.ended).toHaveLength(1);
    await pool.close();
  });

  it('an uncapped client never makes a call wait for a slot: 1 000 calls at once all run', async () => {
    const pool = poolOf({ maxWait: 0 }, { a: { maxInFlight: 1 }, free: {} });
    const held = holdAll(pool, 1_000);
    expect(tally(held.ran)).toEqual({ a: 1, free: 999 });
    held.release();
    await held.done;
    expect(held.ended.every((e) => e.startsWith('ok'))).toBe(true);
    await pool.close();
  });
});

describe('the reserve: low-priority share of capped clients only', () => {
  const NEAR_ONE = 1 - 2 ** -40;

  it(`reserve ${NEAR_ONE}: an uncapped client takes every low call; a cap of 2^31-1 leaves low calls one slot; a cap of 10 one slot`, async () => {
    const pool = poolOf({ reserve: NEAR_ONE, maxWait: 0, strategy: 'round-robin' }, { free: {} });
    const lows = holdAll(pool, 20, { priority: 'low' });
    expect(tally(lows.ran)).toEqual({ free: 20 });
    lows.release();
    await lows.done;
    await pool.close();

    for (const cap of [MAX, 10]) {
      const capped = poolOf({ reserve: NEAR_ONE, maxWait: 0 }, { capped: { maxInFlight: cap } });
      const low = holdAll(capped, 3, { priority: 'low' });
      expect(low.ran).toEqual(['capped']);
      // A normal call still takes the reserved slots.
      const normal = holdAll(capped, 2);
      expect(normal.ran).toEqual(['capped', 'capped']);
      low.release();
      normal.release();
      await Promise.all([low.done, normal.done]);
      expect(low.ended.filter((e) => e.startsWith('error'))).toHaveLength(2);
      await capped.close();
    }
  });

  it('reserve 0.5: a cap of 10 takes 5 low calls, a cap of 2^31-1 takes any, the uncapped any', async () => {
    const pool = poolOf({ reserve: 0.5, maxWait: 0, strategy: 'round-robin' }, { ten: { maxInFlight: 10 }, max: { maxInFlight: MAX }, free: {} });
    const lows = holdAll(pool, 60, { priority: 'low' });
    expect(tally(lows.ran)).toEqual({ ten: 5, max: 28, free: 27 });
    lows.release();
    await lows.done;
    await pool.close();
  });
});

describe('panic routing (maxEjectedPercent): uncapped members take any number of calls, capped ones up to their cap', () => {
  it('both circuits open and cooling: panic spreads 40 calls, one on the capped client, the rest on the uncapped', async () => {
    const pool = poolOf({ maxEjectedPercent: 50, breaker: { maxFailures: 1, cooldown: 60_000 }, strategy: 'round-robin' }, { capped: { maxInFlight: 1 }, free: {} });
    // One failure each (round robin): both circuits open.
    for (let i = 0; i < 2; i++) await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(pool.members().map((m) => m.state.kind)).toEqual(['open', 'open']);
    const panic = holdAll(pool, 40);
    expect(tally(panic.ran)).toEqual({ capped: 1, free: 39 });
    panic.release();
    await panic.done;
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });
});

describe('tiers and quorum with capped and uncapped clients', () => {
  it('tier 0 capped at 2, tier 1 uncapped: the third call spills to tier 1, and tier 0 takes calls again once freed', async () => {
    const pool = poolOf({}, { primary: { maxInFlight: 2, tier: 0 }, backup: { tier: 1 } });
    const held = holdAll(pool, 5);
    expect(tally(held.ran)).toEqual({ primary: 2, backup: 3 });
    held.release();
    await held.done;
    const again = holdAll(pool, 1);
    expect(again.ran).toEqual(['primary']);
    again.release();
    await again.done;
    await pool.close();
  });

  it('quorum of 3 over capped (1) and uncapped clients: each read reaches three distinct clients, and the caps hold', async () => {
    const pool = poolOf({ maxWait: 1_000 }, { a: { maxInFlight: 1 }, b: {}, c: {}, d: { maxInFlight: MAX } });
    const seen: string[][] = [];
    const reads = Array.from({ length: 4 }, () => {
      const ran: string[] = [];
      seen.push(ran);
      return pool.quorum(
        (client) => {
          ran.push(client.name);
          return new Promise<number>((resolve) => setTimeout(() => resolve(7), 10));
        },
        { of: 3 },
      );
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(await Promise.all(reads)).toEqual([7, 7, 7, 7]);
    for (const ran of seen) expect(new Set(ran).size).toBe(ran.length);
    expect(pool.members().map((m) => [m.name, m.inFlight, m.maxInFlight])).toEqual([
      ['a', 0, 1],
      ['b', 0, undefined],
      ['c', 0, undefined],
      ['d', 0, MAX],
    ]);
    await pool.close();
  });
});

describe('adaptive limits move the cap, and snapshots and gauges follow it', () => {
  it('aimd from 1, alone: sequential successes raise the cap to 3 (then in-flight 1 is under half of it); the gauge has it, an uncapped newcomer has none', async () => {
    const registry = new Registry();
    const pool = new ClientPool<Named>({ clock: dateClock }).use(prometheusMetrics({ registry }));
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: { adaptive: 'aimd', min: 1, max: 4, initial: 1, backoff: 0.5 } });
    const caps: (number | undefined)[] = [];
    for (let i = 0; i < 12; i++) {
      await pool.run(() => 'ok');
      caps.push(pool.members()[0]!.maxInFlight);
    }
    expect(caps).toEqual([2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    pool.add({ name: 'free' }, { name: 'free' });
    expect(pool.members()[1]!.maxInFlight).toBeUndefined();
    const scrape = parseExposition(await registry.metrics());
    expect(find(scrape, 'middleware_concurrency_limit').map((s) => s.labels['client'])).toEqual(['a']);
    await pool.close();
  });

  it('aimd from 2^31-1: a drop lowers the cap below 2^31-1 and it is reported, never as absent', async () => {
    const pool = poolOf({ breaker: false }, { a: { maxInFlight: { adaptive: 'aimd', min: 1, max: MAX, initial: MAX, backoff: 0.5 } } });
    expect(pool.members()[0]!.maxInFlight).toBe(MAX);
    const timedOut = pool.run(() => new Promise(() => undefined), { timeout: 10 }).catch((error: unknown) => (error as { code?: string }).code);
    await vi.advanceTimersByTimeAsync(10);
    expect(await timedOut).toBe('ERR_TIMEOUT');
    const cap = pool.members()[0]!.maxInFlight;
    expect(cap).toBe(Math.floor(MAX * 0.5));
    await pool.close();
  });

  it('an adaptive cap lowered under the in-flight count takes the client out; freed below it, it takes calls again up to the new cap', async () => {
    const pool = poolOf({ breaker: false, maxWait: 0 }, { a: { maxInFlight: { adaptive: 'aimd', min: 1, max: 10, initial: 4, backoff: 0.5 } } });
    const held = holdAll(pool, 3);
    // The fourth call times out: a drop halves the cap to 2, under the 3 still in flight.
    const dropped = pool.run(() => new Promise(() => undefined), { timeout: 10 }).catch((error: unknown) => (error as { code?: string }).code);
    await vi.advanceTimersByTimeAsync(10);
    expect(await dropped).toBe('ERR_TIMEOUT');
    expect(pool.members()[0]).toMatchObject({ inFlight: 3, maxInFlight: 2 });
    const refused = holdAll(pool, 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(refused.ran).toEqual([]);
    expect(refused.ended).toHaveLength(1);
    expect(refused.ended).toEqual(['error ERR_CONCURRENCY_LIMITED']);
    held.release();
    await held.done;
    const after = holdAll(pool, 3);
    await vi.advanceTimersByTimeAsync(0);
    // The three held calls' successes raised the cap back to 3 (aimd: +1 per `limit` successes near it).
    expect(pool.members()[0]).toMatchObject({ inFlight: 3, maxInFlight: 3 });
    expect(after.ran).toEqual(['a', 'a', 'a']);
    after.release();
    await after.done;
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });
});

describe('as a property: capped and uncapped clients mixed, with a reserve, calls held for random times', () => {
  it('no capped client ever runs more than its cap (a low call no more than its share), every call ends, in-flight back to 0, snapshots as given', async () => {
    const capArb = fc.constantFrom<number | undefined>(undefined, undefined, 1, 2, 3, MAX);
    const callArb = fc.record({ holdMs: fc.integer({ min: 0, max: 30 }), isLow: fc.boolean(), startMs: fc.integer({ min: 0, max: 20 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(capArb, { minLength: 1, maxLength: 4 }), fc.constantFrom(0, 0.34, 0.5, 1 - 2 ** -40), fc.array(callArb, { minLength: 1, maxLength: 40 }), async (caps, reserve, calls) => {
        vi.setSystemTime(0);
        const pool = new ClientPool<Named>({ clock: dateClock, reserve, maxWait: 10_000, breaker: false });
        caps.forEach((cap, i) => pool.add({ name: `c${i}` }, { name: `c${i}`, ...(cap === undefined ? {} : { maxInFlight: cap }) }));
        const capOf = new Map(caps.map((cap, i) => [`c${i}`, cap]));
        const violations: string[] = [];
        const endings: string[] = [];
        const runs = calls.map(
          ({ holdMs, isLow, startMs }) =>
            new Promise<void>((done) => {
              setTimeout(() => {
                pool
                  .run(
                    (client) => {
                      const member = pool.members().find((m) => m.name === client.name)!;
                      const cap = capOf.get(client.name);
                      if (cap !== undefined) {
                        const share = isLow ? Math.max(1, Math.floor(cap * (1 - reserve) + 1e-9)) : cap;
                        if (member.inFlight > share) violations.push(`${client.name} ${member.inFlight} > ${share} (${isLow ? 'low' : 'normal'})`);
                      }
                      return new Promise<string>((resolve) => setTimeout(() => resolve('ok'), holdMs));
                    },
                    isLow ? { priority: 'low' } : {},
                  )
                  .then(
                    (value) => endings.push(value),
                    (error: unknown) => endings.push(`${isLow ? 'low' : 'normal'} error ${(error as { code?: string }).code ?? String(error)}`),
                  )
                  .finally(done);
              }, startMs);
            }),
        );
        await vi.advanceTimersByTimeAsync(5_000);
        await Promise.all(runs);
        expect(violations).toEqual([]);
        expect(endings).toHaveLength(calls.length);
        // A low call that finds no room is shed rather than queued (documented); nothing else fails.
        expect(endings.filter((e) => e !== 'ok' && e !== 'low error ERR_SHED')).toEqual([]);
        // An uncapped client never sheds a low call: with one, every call runs.
        if (caps.includes(undefined)) expect(endings.filter((e) => e !== 'ok')).toEqual([]);
        expect(pool.members().map((m) => [m.inFlight, m.maxInFlight])).toEqual(caps.map((cap) => [0, cap]));
        await pool.close();
      }),
      { numRuns: 60 },
    );
  });
});
