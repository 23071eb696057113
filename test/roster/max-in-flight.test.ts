import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, type AddOptions } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';

const clock = dateClock;
useFakeTime();

interface Named {
  readonly name: string;
}

/** A call that holds its client until `release` is called; records which client it ran on. */
function holding(pool: ClientPool<Named>, ran: string[], options: Parameters<ClientPool<Named>['run']>[1] = {}): { done: Promise<unknown>; release: () => void } {
  const gate = deferred();
  const done = pool.run((client) => {
    ran.push(client.name);
    return gate.promise;
  }, options);
  return { done, release: () => gate.resolve() };
}

describe('maxInFlight: a client at its cap is passed over, and calls wait for a slot', () => {
  it('a client at its cap takes no more calls while another is ready', async () => {
    const pool = new ClientPool<Named>({ clock });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    pool.add({ name: 'b' }, { name: 'b' });
    const ran: string[] = [];
    const calls = Array.from({ length: 5 }, () => holding(pool, ran));
    await vi.advanceTimersByTimeAsync(0);
    expect(ran.filter((name) => name === 'a')).toHaveLength(1);
    expect(ran).toHaveLength(5);
    expect(pool.members().map((m) => [m.name, m.inFlight, m.maxInFlight])).toEqual([
      ['a', 1, 1],
      ['b', 4, undefined],
    ]);
    for (const call of calls) call.release();
    await Promise.all(calls.map((call) => call.done));
    await pool.close();
  });

  it('when every client is at its cap, calls wait in FIFO order and are served as slots free', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000 });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 2 });
    const ran: string[] = [];
    const first = [holding(pool, ran), holding(pool, ran)];
    const order: number[] = [];
    const waiting = [0, 1, 2].map((i) => pool.run(() => order.push(i), { method: 'queued' }));
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toEqual([]);
    expect(pool.members()[0]!.inFlight).toBe(2);
    first[0]!.release();
    // Each waiter is served on a turn of the loop after a slot frees.
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all(waiting);
    expect(order).toEqual([0, 1, 2]);
    first[1]!.release();
    await Promise.all(first.map((call) => call.done));
    await pool.close();
  });

  it('fails with ConcurrencyLimitedError when no slot frees within maxWait, and reports no rate-limit wait', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 500 });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    const limits: unknown[] = [];
    pool.onRateLimit((event) => limits.push(event));
    const busy = holding(pool, []);
    let failedAt = -1;
    const refused = pool.run(() => 'never').catch((error: unknown) => {
      failedAt = Date.now();
      return error;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    const error = await refused;
    expect(hasErrorCode(error, 'ERR_CONCURRENCY_LIMITED')).toBe(true);
    expect(failedAt).toBe(500);
    expect(limits).toEqual([]);
    busy.release();
    await busy.done;
    await pool.close();
  });

  it('a wait for a slot ends with the caller\'s abort, and with the call\'s deadline as DeadlineExceededError', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000 });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    const busy = holding(pool, []);
    const controller = new AbortController();
    const aborted = pool.run(() => 'never', { signal: controller.signal }).catch((error: unknown) => error);
    const late = pool.run(() => 'never', { deadline: 300 }).catch((error: unknown) => error);
    controller.abort(new Error('caller left'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(hasErrorCode(await aborted, 'ERR_ABORTED')).toBe(true);
    const deadline = await late;
    expect(hasErrorCode(deadline, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect((deadline as Error).cause).toMatchObject({ code: 'ERR_CONCURRENCY_LIMITED' });
    busy.release();
    await busy.done;
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('a full client removed while calls wait for it: they fail at once with NoClientsError rather than wait out maxWait', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 10_000 });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    const busy = holding(pool, []);
    let failedAt = -1;
    const waiting = pool.run(() => 'never').catch((error: unknown) => {
      failedAt = Date.now();
      return error;
    });
    await vi.advanceTimersByTimeAsync(10);
    const removed = pool.remove('a');
    await vi.advanceTimersByTimeAsync(10);
    expect(hasErrorCode(await waiting, 'ERR_NO_CLIENTS')).toBe(true);
    expect(failedAt).toBe(10);
    busy.release();
    await removed;
    await pool.close();
  });

  it('a client whose circuit opens while full is not brought back by a slot freeing', async () => {
    const pool = new ClientPool<Named>({ clock, breaker: { maxFailures: 1, cooldown: 10_000 }, maxWait: 0 });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    await expect(pool.run(() => Promise.reject(new Error('down')))).rejects.toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(pool.members()[0]!.state.kind).toBe('open');
    await expect(pool.run(() => 'v')).rejects.toMatchObject({ code: 'ERR_ALL_CIRCUITS_OPEN' });
    await pool.close();
  });

  it('panic routing (maxEjectedPercent) does not put a client over its cap', async () => {
    const pool = new ClientPool<Named>({ clock, breaker: { maxFailures: 1, cooldown: 60_000 }, maxEjectedPercent: 50, maxWait: 0 });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    pool.add({ name: 'b' }, { name: 'b', maxInFlight: 1 });
    // Open both circuits: the pool panics and spreads calls over every client, capped ones included.
    for (let i = 0; i < 2; i++) await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    const ran: string[] = [];
    const calls = Array.from({ length: 6 }, () => holding(pool, ran));
    // Past the caps, calls are refused at once (maxWait 0).
    const ends = calls.map((call) => call.done.then(() => 'ok', (error: unknown) => (error as { code: string }).code));
    await vi.advanceTimersByTimeAsync(0);
    expect(Math.max(...pool.members().map((m) => m.inFlight))).toBeLessThanOrEqual(1);
    for (const call of calls) call.release();
    expect((await Promise.all(ends)).filter((end) => end === 'ERR_CONCURRENCY_LIMITED').length).toBeGreaterThanOrEqual(4);
    await pool.close();
  });

  it.each([0, -1, 1.5, Number.NaN, Infinity, 2 ** 31, '3'])('add(client, { maxInFlight: %s }) throws InvalidOptionError naming maxInFlight', (value) => {
    const pool = new ClientPool<Named>();
    expect(() => pool.add({ name: 'a' }, { maxInFlight: value } as unknown as AddOptions<Named>)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'maxInFlight' }) as Error);
    expect(pool.size).toBe(0);
  });
});

describe('maxInFlight, as a property: no client ever exceeds its cap, and no call waits while a slot is free', () => {
  it('holds for any sequence of calls starting and ending', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(fc.constant('start' as const), fc.nat({ max: 20 })), { minLength: 1, maxLength: 60 }),
        async (caps, steps) => {
          vi.setSystemTime(0);
          const pool = new ClientPool<Named>({ clock, maxWait: 1_000_000, breaker: false });
          caps.forEach((cap, i) => pool.add({ name: `c${i}` }, { name: `c${i}`, maxInFlight: cap }));
          const capacity = caps.reduce((sum, cap) => sum + cap, 0);
          const running: (() => void)[] = [];
          const settled: Promise<unknown>[] = [];
          let waiting = 0;
          for (const step of steps) {
            if (step === 'start') {
              waiting++;
              const gate = deferred();
              settled.push(
                pool.run(() => {
                  waiting--;
                  running.push(() => gate.resolve());
                  return gate.promise;
                }),
              );
            } else if (running.length > 0) {
              running.splice(step % running.length, 1)[0]!();
            }
            await vi.advanceTimersByTimeAsync(0);
            const members = pool.members();
            for (const member of members) expect(member.inFlight).toBeLessThanOrEqual(member.maxInFlight!);
            // A call still waiting means every slot is taken.
            if (waiting > 0) expect(members.reduce((sum, m) => sum + m.inFlight, 0)).toBe(capacity);
          }
          while (running.length > 0 || waiting > 0) {
            running.shift()?.();
            await vi.advanceTimersByTimeAsync(0);
          }
          await Promise.all(settled);
          await pool.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('a client without maxInFlight: no cap, whatever the count and the reserve', () => {
  it('takes low-priority calls past any share of its (absent) cap, even with the largest reserve below 1', async () => {
    // Uncapped is kept as 2^31-1 inside: a reserve this close to 1 would leave it one low slot if that were taken for a cap.
    const pool = new ClientPool<Named>({ clock, reserve: 1 - 2 ** -40, maxWait: 0 });
    pool.add({ name: 'a' }, { name: 'a' });
    const ran: string[] = [];
    const calls = Array.from({ length: 3 }, () => holding(pool, ran, { priority: 'low' }));
    expect(ran).toEqual(['a', 'a', 'a']);
    expect(pool.members()[0]!.maxInFlight).toBeUndefined();
    for (const call of calls) call.release();
    await Promise.all(calls.map((call) => call.done));
  });

  it('a cap of 2^31-1 is reported as given, not as absent', () => {
    const pool = new ClientPool<Named>({ clock });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 2 ** 31 - 1 });
    expect(pool.members()[0]!.maxInFlight).toBe(2 ** 31 - 1);
  });
});
