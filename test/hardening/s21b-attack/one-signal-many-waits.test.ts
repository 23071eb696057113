import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { AbortedError, ClientPool, type PoolOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, type Seen } from '../../helpers/promise-state.js';

// Pins: one caller signal shared by coalesced callers of 15 flights, a call held in its around hook, a
// plain call in flight (or waiting for a token), and a coalesced key that also has a caller without a
// signal: one abort ends each caller once with AbortedError (the reason as cause), aborts every flight
// left with no caller (call.signal) and keeps the flight with a steady caller, which still answers it;
// onCallEnd hears every call once; one listener while in flight, none after; inFlight back to 0.
// docs/resilience.md (coalescing): "one that aborts leaves alone ... the shared call is aborted only once
// every caller has left"; docs/call-pipeline.md: "Calls held in their `around` hooks and coalesced callers
// (however many flights they wait on) are heard through the same watches."

useUnhandledGuard({ time: 'real', quietWarnings: true });

const nameOf = (s: Seen): string => (s === 'pending' ? 'pending' : s.ok ? `ok:${String(s.value)}` : (s.value as Error).name);

async function oneAbort(poolOptions: Partial<PoolOptions<string>>, plainFirst: boolean): Promise<void> {
  const pool = new ClientPool<string>({ maxWait: 600_000, ...poolOptions });
  const ends: string[] = [];
  const hookGate = gate();
  pool.use({ name: 'ends', onCallEnd: (e) => { ends.push(`${e.method}:${e.error?.name ?? 'ok'}`); } });
  pool.use({ name: 'h', around: async (s, next) => { if (s.method === 'held') await hookGate.promise; return next(); } });
  pool.add('a');
  const ac = new AbortController();
  const fnGate = gate();
  const flightSignals = new Map<string, AbortSignal>();
  let runs = 0;
  const fn = (label: string) => async (c: string, call: { signal: AbortSignal }): Promise<string> => {
    runs++;
    flightSignals.set(label, call.signal);
    await fnGate.promise;
    return c;
  };
  const plain = plainFirst ? state(pool.run(fn('plain'), { signal: ac.signal, method: 'plain' })) : undefined;
  const steady = state(pool.run(fn('k0'), { coalesce: 'k0', method: 'steady' }));
  const calls = Array.from({ length: 15 }, (_, i) => state(pool.run(fn(`k${i}`), { coalesce: `k${i}`, signal: ac.signal, method: 'co' })));
  const held = state(pool.run(fn('held'), { signal: ac.signal, method: 'held' }));
  const plainLast = plainFirst ? undefined : state(pool.run(fn('plain'), { signal: ac.signal, method: 'plain' }));
  await turns();
  expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
  const reason = new Error('stop');
  ac.abort(reason);
  await turns();
  for (const c of [...calls, held, plain ?? plainLast!]) {
    const s = c();
    expect(nameOf(s)).toBe('AbortedError');
    expect((s as { value: AbortedError }).value.cause).toBe(reason);
  }
  expect(steady()).toBe('pending');
  // Flights k1..k14 lost every caller: aborted. k0 keeps its steady caller.
  for (const [label, signal] of flightSignals) if (/^k\d+$/.test(label) && label !== 'k0') expect(signal.aborted).toBe(true);
  if (flightSignals.has('k0')) expect(flightSignals.get('k0')!.aborted).toBe(false);
  fnGate.open();
  hookGate.open();
  await turns(10);
  // Behind the limit, the steady flight waits for the next token (10 s away): close() ends that wait.
  const closing = plainFirst ? pool.close() : undefined;
  await turns(10);
  const steadyEnd = plainFirst ? 'PoolClosedError' : 'ok';
  expect(nameOf(steady())).toBe(plainFirst ? 'PoolClosedError' : 'ok:a');
  expect(ends.filter((e) => e === `steady:${steadyEnd}`)).toHaveLength(1);
  expect(ends.filter((e) => e === 'co:AbortedError')).toHaveLength(15);
  expect(ends.filter((e) => e === 'held:AbortedError')).toHaveLength(1);
  expect(ends.filter((e) => e === 'plain:AbortedError')).toHaveLength(1);
  expect(ends).toHaveLength(18);
  expect(runs).toBeLessThanOrEqual(17);
  // Closed (the limited case): no member left to ask.
  expect(pool.members().map((m) => m.inFlight)).toEqual(plainFirst ? [] : [0]);
  expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  await (closing ?? pool.close());
}

describe('one caller signal across coalesced flights, a held call, a call in flight and waits', () => {
  it('all in flight: one abort ends each once, flights with no caller aborted, the steady one kept', async () => {
    await oneAbort({}, false);
  });

  it('behind a one-token limit (the plain call holds it, the flights wait for a token): the same, the steady flight ended by close()', async () => {
    await oneAbort({ limit: { rate: 1, per: 10_000, burst: 1 } }, true);
  });
});

describe('a signal after its pool closed', () => {
  it('joined by a held call and a coalesced caller, close(), then reused on a new pool: aborts there once', async () => {
    const pool = new ClientPool<string>();
    const hookGate = gate();
    pool.use({ name: 'h', around: async (s, next) => { if (s.method === 'held') await hookGate.promise; return next(); } });
    pool.add('a');
    const ac = new AbortController();
    const fnGate = gate();
    const held = state(pool.run(async (c) => c, { signal: ac.signal, method: 'held' }));
    const co = state(pool.run(async (c) => { await fnGate.promise; return c; }, { signal: ac.signal, coalesce: 'k' }));
    await turns();
    const closing = pool.close();
    await turns(1);
    fnGate.open();
    await closing;
    expect(nameOf(held())).toBe('PoolClosedError');
    expect(nameOf(co())).toBe('ok:a');
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Immediate')).toHaveLength(0);
    hookGate.open();
    await turns();

    const pool2 = new ClientPool<string>();
    pool2.add('b');
    const g2 = gate();
    const c2 = state(pool2.run(async (c) => { await g2.promise; return c; }, { signal: ac.signal, coalesce: 'k' }));
    const c3 = state(pool2.run(async (c) => { await g2.promise; return c; }, { signal: ac.signal }));
    await turns();
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    ac.abort('x');
    await turns();
    expect([nameOf(c2()), nameOf(c3())]).toEqual(['AbortedError', 'AbortedError']);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    g2.open();
    await pool2.close();
  });

  it('destroy(reason) with a coalesced flight whose fn ignores call.signal: PoolClosedError, no listener or immediate left', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const ac = new AbortController();
    const fnGate = gate();
    const co = state(pool.run(async (c) => { await fnGate.promise; return c; }, { signal: ac.signal, coalesce: 'k' }));
    await turns();
    await pool.destroy('boom');
    expect(nameOf(co())).toBe('PoolClosedError');
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Immediate')).toHaveLength(0);
    fnGate.open();
    await turns();
    expect(nameOf(co())).toBe('PoolClosedError');
  });
});

describe('priority joiners', () => {
  it('a high caller starts its own flight; the low flight aborted when its callers leave; a normal caller on the low signal joins the high flight and leaves it alone', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const sl = new AbortController();
    const sh = new AbortController();
    const fnGate = gate();
    const signals: AbortSignal[] = [];
    const fn = async (c: string, call: { signal: AbortSignal }): Promise<string> => { signals.push(call.signal); await fnGate.promise; return c; };
    const low = state(pool.run(fn, { coalesce: 'k', priority: 'low', signal: sl.signal }));
    const high = state(pool.run(fn, { coalesce: 'k', priority: 'high', signal: sh.signal }));
    const normal = state(pool.run(fn, { coalesce: 'k', signal: sl.signal }));
    await turns();
    expect(signals).toHaveLength(2);
    sl.abort('l');
    await turns();
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
    expect([nameOf(low()), nameOf(high()), nameOf(normal())]).toEqual(['AbortedError', 'pending', 'AbortedError']);
    fnGate.open();
    await turns();
    expect(nameOf(high())).toBe('ok:a');
    expect(pool.members()[0]?.inFlight).toBe(0);
    await pool.close();
  });
});

describe('callers of one flight sharing one signal', () => {
  for (const abort of [false, true]) {
    it(`three callers, one key, one signal (${abort ? 'aborted' : 'answered'}): each settles, onCallEnd hears each once, the trace too`, async () => {
      const pool = new ClientPool<string>();
      const ends: string[] = [];
      pool.use({ name: 'ends', onCallEnd: (e) => { ends.push(e.error?.name ?? 'ok'); } });
      pool.add('a');
      const ac = new AbortController();
      const fnGate = gate();
      let runs = 0;
      const fn = async (c: string): Promise<string> => { runs++; await fnGate.promise; return c; };
      const calls = [0, 1, 2].map(() => state(pool.run(fn, { coalesce: 'k', signal: ac.signal })));
      await turns();
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
      if (abort) ac.abort('x');
      fnGate.open();
      await turns();
      expect(calls.map((c) => nameOf(c()))).toEqual(Array(3).fill(abort ? 'AbortedError' : 'ok:a'));
      expect(ends).toEqual(Array(3).fill(abort ? 'AbortedError' : 'ok'));
      expect(runs).toBe(1);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
      await pool.close();
    });
  }
});
