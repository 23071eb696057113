import { describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, type Outcome } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';

const clock = dateClock;
useFakeTime();

interface Named {
  readonly name: string;
}

/** Settle `call` on fake time: its value or error, and when (fake ms) it settled. */
function settleOf(call: Promise<unknown>): Promise<{ value?: unknown; error?: unknown; at: number }> {
  return call.then(
    (value) => ({ value, at: Date.now() }),
    (error: unknown) => ({ error, at: Date.now() }),
  );
}

describe('maxInFlight waiters are woken whenever a capped client can serve again', () => {
  it('a full client paused (429) by its own call: its waiter is served once the pause ends, not refused at maxWait', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000, breaker: false });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    const gate = deferred();
    const first = pool.run(async (_client, call) => {
      await gate.promise;
      // The upstream asked for a pause of 500 ms: the client is out of the rotation until then.
      call.pauseClient(500);
      return 'first';
    });
    const waiter = settleOf(pool.run(() => 'second'));
    await vi.advanceTimersByTimeAsync(100);
    gate.resolve();
    await vi.advanceTimersByTimeAsync(2_000);
    await expect(first).resolves.toBe('first');
    // The pause ended at 600: the waiter is served then, well within its maxWait.
    const settled = await Promise.race([waiter, Promise.resolve({ pending: true })]);
    expect(settled).toMatchObject({ value: 'second' });
    expect((settled as { at: number }).at).toBeLessThanOrEqual(601);
    await vi.advanceTimersByTimeAsync(10_000);
    await pool.close();
  });

  it('a full client whose circuit opens while calls wait for it: they fail at once with ERR_ALL_CIRCUITS_OPEN, as a new call does, not with ERR_RATE_LIMITED at maxWait', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000, breaker: { maxFailures: 1, cooldown: 60_000 } });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    const gate = deferred();
    const first = settleOf(pool.run(() => gate.promise.then(() => Promise.reject(new Error('down')))));
    const waiter = settleOf(pool.run(() => 'second'));
    await vi.advanceTimersByTimeAsync(100);
    gate.resolve();
    await vi.advanceTimersByTimeAsync(100);
    expect(pool.members()[0]!.state.kind).toBe('open');
    // A call made now is refused at once for the open circuit.
    await expect(pool.run(() => 'third')).rejects.toMatchObject({ code: 'ERR_ALL_CIRCUITS_OPEN' });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await first).toMatchObject({ error: { code: 'ERR_CLIENT_CALL' } });
    const { error, at } = await waiter;
    expect(hasErrorCode(error, 'ERR_ALL_CIRCUITS_OPEN')).toBe(true);
    expect(at).toBeLessThanOrEqual(101);
    await pool.close();
  });

  it('a client whose cooldown ends while the others are full serves the waiting call (as a half-open probe), not refused at maxWait', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 5_000, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b', maxInFlight: 1 });
    // Open a's circuit (the balancer may try b first: fail until a is open).
    for (let i = 0; i < 4 && pool.members()[0]!.state.kind !== 'open'; i++) await pool.run(() => Promise.reject(new Error('down')), { strategy: 'round-robin' }).catch(() => undefined);
    expect(pool.members()[0]!.state.kind).toBe('open');
    expect(pool.members()[1]!.state.kind).toBe('closed');
    const gate = deferred();
    const busy = pool.run(() => gate.promise.then(() => 'busy'));
    await vi.advanceTimersByTimeAsync(0);
    const ran: string[] = [];
    const waiter = settleOf(
      pool.run((client) => {
        ran.push(client.name);
        return 'probe';
      }),
    );
    await vi.advanceTimersByTimeAsync(1_100);
    // a's cooldown ended at 1 000: it may take a probe, and the waiting call is that probe.
    const settled = await Promise.race([waiter, Promise.resolve({ pending: true })]);
    expect(settled).toMatchObject({ value: 'probe' });
    expect(ran).toEqual(['a']);
    gate.resolve();
    await busy;
    await vi.advanceTimersByTimeAsync(10_000);
    await pool.close();
  });

  it('a capped half-open client whose probe fails: the call waiting behind the probe fails at once with ERR_ALL_CIRCUITS_OPEN, as a new call does', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(1_000);
    // The probe holds the one slot, and fails at 1 100.
    const probe = settleOf(pool.run(() => new Promise((_resolve, reject) => setTimeout(() => reject(new Error('still down')), 100))));
    const waiter = settleOf(pool.run(() => 'after'));
    await vi.advanceTimersByTimeAsync(110);
    expect(await probe).toMatchObject({ error: { code: 'ERR_CLIENT_CALL' } });
    expect(pool.members()[0]!.state.kind).toBe('open');
    // A call made now, behind the waiter in line, must not wait out maxWait either.
    const later = settleOf(pool.run(() => 'new'));
    await vi.advanceTimersByTimeAsync(10);
    // Both settled by now (their time is what settleOf records), not at maxWait.
    const ends = await Promise.all([waiter, later]);
    expect(ends.map((end) => (end.error as { code: string }).code)).toEqual(['ERR_ALL_CIRCUITS_OPEN', 'ERR_ALL_CIRCUITS_OPEN']);
    expect(Math.max(...ends.map((end) => end.at))).toBeLessThanOrEqual(1_110);
    await vi.advanceTimersByTimeAsync(20_000);
    await pool.close();
  });

  it('panic routing (maxEjectedPercent): a slot freeing on an open, capped client serves the call waiting for it', async () => {
    const pool = new ClientPool<Named>({ clock, breaker: { maxFailures: 1, cooldown: 60_000 }, maxEjectedPercent: 50, maxWait: 10_000 });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    pool.add({ name: 'b' }, { name: 'b', maxInFlight: 1 });
    for (let i = 0; i < 2; i++) await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(pool.members().map((m) => m.state.kind)).toEqual(['open', 'open']);
    // Panic routing spreads calls over both open clients, one each (their caps).
    const gates = [deferred(), deferred()];
    const held = gates.map((gate) => pool.run(() => gate.promise.then(() => 'held')));
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.members().map((m) => m.inFlight)).toEqual([1, 1]);
    const waiter = settleOf(pool.run(() => 'waited'));
    await vi.advanceTimersByTimeAsync(100);
    gates[0]!.resolve();
    await vi.advanceTimersByTimeAsync(10);
    await expect(held[0]).resolves.toBe('held');
    // A slot is free on a client that panic routing uses: the waiter is served now, not refused at 10 000.
    const settled = await Promise.race([waiter, Promise.resolve({ pending: true })]);
    expect(settled).toMatchObject({ value: 'waited' });
    gates[1]!.resolve();
    await vi.advanceTimersByTimeAsync(10_000);
    await pool.close();
  });
});

describe('maxInFlight with hedges, retries, removal, destroy, health checks: the cap holds and inFlight returns to 0', () => {
  it('a hedge never puts a client over its cap, and every count returns to 0', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000, hedge: { delay: 50, maxHedges: 3 }, retryBudget: false });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    pool.add({ name: 'b' }, { name: 'b', maxInFlight: 1 });
    let peak = 0;
    const calls = Array.from({ length: 4 }, () =>
      settleOf(
        pool.run(
          () =>
            new Promise((resolve) => {
              peak = Math.max(peak, ...pool.members().map((m) => m.inFlight));
              setTimeout(() => resolve('v'), 300);
            }),
        ),
      ),
    );
    for (let t = 0; t < 2_000; t += 25) {
      await vi.advanceTimersByTimeAsync(25);
      for (const member of pool.members()) expect(member.inFlight).toBeLessThanOrEqual(1);
    }
    const results = await Promise.all(calls);
    expect(results.every((r) => r.value === 'v')).toBe(true);
    expect(peak).toBeLessThanOrEqual(1);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });

  it('a retry on a pool whose every client is full waits for a slot and then runs', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000, retry: { attempts: 2, backoff: { initial: 50, max: 50, jitter: 'none' } }, retryBudget: false });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    pool.add({ name: 'b' }, { name: 'b', maxInFlight: 1 });
    let tries = 0;
    let retriedAt = -1;
    const flaky = pool.run(() => {
      if (++tries === 1) return new Promise((_resolve, reject) => setTimeout(() => reject(new Error('down')), 100));
      retriedAt = Date.now();
      return 'retried';
    });
    await vi.advanceTimersByTimeAsync(0);
    const gates = [deferred(), deferred()];
    // One holds the other client from the start; the second takes the one freed at 100, during the backoff.
    const busy = [pool.run(() => gates[0]!.promise.then(() => 'busy'))];
    await vi.advanceTimersByTimeAsync(120);
    busy.push(pool.run(() => gates[1]!.promise.then(() => 'busy')));
    await vi.advanceTimersByTimeAsync(80);
    // At 150 the retry found both clients full: it waits.
    expect(tries).toBe(1);
    expect(pool.members().map((m) => m.inFlight)).toEqual([1, 1]);
    gates[1]!.resolve();
    await vi.advanceTimersByTimeAsync(10);
    await expect(flaky).resolves.toBe('retried');
    expect(retriedAt).toBeGreaterThanOrEqual(200);
    gates[0]!.resolve();
    await Promise.all(busy);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });

  it('destroy() with calls in flight and waiting: every call ends, every inFlight returns to 0', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000 });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 2 });
    // Functions that end with their signal (a plain call ignoring it is documented to keep its caller waiting).
    const listening = (_client: Named, call: { signal: AbortSignal }): Promise<never> =>
      new Promise<never>((_resolve, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason as Error)));
    const calls = [pool.run(listening), pool.run(listening, { timeout: 5_000 }), pool.run(listening), pool.run(listening, { deadline: 5_000 })].map(settleOf);
    await vi.advanceTimersByTimeAsync(10);
    expect(pool.members()[0]!.inFlight).toBe(2);
    const member = pool.members()[0]!;
    const destroyed = pool.destroy(new Error('shutdown'));
    await vi.advanceTimersByTimeAsync(10);
    const results = await Promise.all(calls);
    expect(results.map((r) => (r.error as { code?: string } | undefined)?.code)).toEqual(['ERR_POOL_CLOSED', 'ERR_POOL_CLOSED', 'ERR_POOL_CLOSED', 'ERR_POOL_CLOSED']);
    expect(member.maxInFlight).toBe(2);
    await destroyed;
  });

  it('health checks marking a full client down and up again: waiters are served by it when it comes back with a free slot', async () => {
    let healthy = true;
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000, healthCheck: { check: () => (healthy ? undefined : Promise.reject(new Error('sick'))), interval: 1_000, unhealthyThreshold: 1, healthyThreshold: 1 } });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    const gate = deferred();
    const first = pool.run(() => gate.promise.then(() => 'first'));
    const waiter = settleOf(pool.run(() => 'second'));
    healthy = false;
    await pool.checkHealth();
    gate.resolve();
    await vi.advanceTimersByTimeAsync(10);
    await expect(first).resolves.toBe('first');
    healthy = true;
    await pool.checkHealth();
    await vi.advanceTimersByTimeAsync(10);
    const settled = await Promise.race([waiter, Promise.resolve({ pending: true })]);
    expect(settled).toMatchObject({ value: 'second' });
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('10 000 waiters on one capped client are all served in FIFO order, and inFlight ends at 0', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 1_000_000, breaker: false });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 4 });
    const order: number[] = [];
    const calls = Array.from({ length: 10_000 }, (_, i) =>
      pool.run(
        () =>
          new Promise<number>((resolve) =>
            setTimeout(() => {
              order.push(i);
              resolve(i);
            }, 1),
          ),
      ),
    );
    await vi.advanceTimersByTimeAsync(20_000);
    const values = await Promise.all(calls);
    expect(values).toHaveLength(10_000);
    expect(order).toEqual([...order].sort((x, y) => x - y));
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('a call with an affinity key whose client is full goes to another ready client rather than waiting', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 0 });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    pool.add({ name: 'b' }, { name: 'b', maxInFlight: 1 });
    const ran: string[] = [];
    const gate = deferred();
    const first = pool.run((client) => {
      ran.push(client.name);
      return gate.promise;
    }, { key: 'user-1' });
    await vi.advanceTimersByTimeAsync(0);
    const second = pool.run((client) => {
      ran.push(client.name);
      return 'ok';
    }, { key: 'user-1' });
    await expect(second).resolves.toBe('ok');
    expect(ran[1]).not.toBe(ran[0]);
    gate.resolve();
    await first;
    await pool.close();
  });

  it('a half-open capped client: its probe holds a slot, and the waiter behind it is served once the probe closes the circuit', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(1_000);
    const gate = deferred();
    const outcomes: Outcome['kind'][] = [];
    pool.use({ name: 'o', onOutcome: (_call, outcome) => void outcomes.push(outcome.kind) });
    const probe = pool.run(() => gate.promise.then(() => 'probe'));
    const waiter = settleOf(pool.run(() => 'after'));
    await vi.advanceTimersByTimeAsync(50);
    gate.resolve();
    await vi.advanceTimersByTimeAsync(50);
    await expect(probe).resolves.toBe('probe');
    expect(await waiter).toMatchObject({ value: 'after' });
    expect(pool.members()[0]!.state.kind).toBe('closed');
    expect(outcomes).toEqual(['success', 'success']);
    await pool.close();
  });
});
