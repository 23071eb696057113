import { seededRandom } from '../../../src/index.js';
import { describe, expect, it, vi } from 'vitest';
import type { Call, RunOptions } from '../../../src/index.js';
import { inFlight, makePool, settled, type Client, type Shape, captureUnhandled } from './harness.js';

// Seeded random workloads of calls with retries (functions that answer, fail, throw or hang, after a
// random delay; timeouts, deadlines, caller aborts; close() or destroy() at a random moment), each run
// on a pool with the pick stage first and on one with a pool-wide limit before it: the callers, the
// clients tried, the attempts' outcomes and the call ends must be the same.

const unhandled = captureUnhandled({ fakeTimers: true });

interface Plan {
  startAt: number;
  options: RunOptions<Client>;
  abortAt: number | undefined;
  /** Per (attempt, client): what the function does. */
  behaviour: (attempt: number, client: string) => { kind: 'ok' | 'reject' | 'throw' | 'hang'; after: number };
}

function planFor(seed: number): { calls: Plan[]; endAt: number; end: 'close' | 'destroy' | 'none'; maxInFlight: number | undefined } {
  const random = seededRandom(seed);
  const pickOf = <V>(values: readonly V[]): V => values[Math.floor(random() * values.length)]!;
  const calls: Plan[] = [];
  const n = 3 + Math.floor(random() * 6);
  for (let i = 0; i < n; i++) {
    const table = new Map<string, { kind: 'ok' | 'reject' | 'throw' | 'hang'; after: number }>();
    for (let attempt = 1; attempt <= 4; attempt++)
      for (const client of ['a', 'b', 'c']) table.set(`${attempt}/${client}`, { kind: pickOf(['ok', 'reject', 'reject', 'throw', 'hang'] as const), after: pickOf([0, 0, 5, 20, 60]) });
    const retry = { attempts: pickOf([2, 3, 4]), backoff: { initial: pickOf([0, 10, 30]), max: 30, jitter: 'none' as const } };
    const timeout = random() < 0.4 ? pickOf([10, 40, 100]) : undefined;
    const deadline = random() < 0.25 ? pickOf([30, 80, 200]) : undefined;
    const options: RunOptions<Client> = { retry, method: `m${i}`, ...(timeout === undefined ? {} : { timeout }), ...(deadline === undefined ? {} : { deadline }) };
    const abortAt = random() < 0.3 ? pickOf([0, 3, 15, 50]) : undefined;
    calls.push({ startAt: pickOf([0, 0, 5, 25]), options, abortAt, behaviour: (attempt, client) => table.get(`${Math.min(attempt, 4)}/${client}`)! });
  }
  return { calls, endAt: pickOf([10, 40, 120, 1_000]), end: pickOf(['close', 'destroy', 'none', 'none'] as const), maxInFlight: random() < 0.3 ? 1 : undefined };
}

async function runSeed(seed: number, shape: Shape): Promise<unknown> {
  const plan = planFor(seed);
  const { pool, seen } = makePool(shape, []);
  for (const name of ['a', 'b', 'c']) pool.add({ name }, { name, ...(plan.maxInFlight === undefined ? {} : { maxInFlight: plan.maxInFlight }) });
  const tried: string[][] = plan.calls.map(() => []);
  const results: Promise<unknown>[] = [];
  const timers: Promise<void>[] = [];
  const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  plan.calls.forEach((call, i) => {
    const controller = new AbortController();
    if (call.abortAt !== undefined) timers.push(wait(call.startAt + call.abortAt).then(() => controller.abort('left')));
    results[i] = wait(call.startAt).then(() =>
      settled(
        pool.run(
          (client: Client, c: Call<Client>) => {
            tried[i]!.push(`${client.name}#${c.attempt}`);
            const { kind, after } = call.behaviour(c.attempt, client.name);
            if (kind === 'throw') throw new Error(`thrown by ${client.name}`);
            // A hang only where something bounds it (a timeout, a deadline, a caller's abort, destroy()).
            if (kind === 'hang' && (call.options.timeout !== undefined || call.options.deadline !== undefined || call.abortAt !== undefined || plan.end === 'destroy')) return new Promise((_, reject) => c.signal.addEventListener('abort', () => reject(new Error('hung, then aborted'))));
            return new Promise((resolve, reject) => setTimeout(() => (kind === 'ok' ? resolve(`ok from ${client.name}`) : reject(new Error(`rejected by ${client.name}`))), after));
          },
          { ...call.options, ...(call.abortAt === undefined ? {} : { signal: controller.signal }) },
        ),
      ),
    );
  });
  if (plan.end !== 'none') timers.push(wait(plan.endAt).then(() => (plan.end === 'close' ? pool.close() : pool.destroy(new Error('shutdown')))));
  let isDone = false;
  const all = Promise.all(results).finally(() => (isDone = true));
  for (let i = 0; i < 400 && !isDone; i++) await vi.advanceTimersByTimeAsync(10);
  const answers = isDone ? await all : 'some caller never answered';
  const left = inFlight(pool);
  // Whatever is still waiting (a close() for calls in flight) ends here.
  const destroying = pool.destroy(new Error('test over'));
  await vi.advanceTimersByTimeAsync(5_000);
  await Promise.all([...timers, destroying]);
  return { answers, tried, left, outcomes: [...seen.outcomes].sort(), callEnds: [...seen.callEnds].sort(), unhandled: unhandled.length };
}

describe('seeded workloads of calls with retries, pick stage first or a limit before it', () => {
  for (let seed = 1; seed <= 80; seed++) {
    it(`seed ${seed}: the same for every caller, attempt and call end; nothing left in flight`, async () => {
      const pickFirst = await runSeed(seed, 'pick-first');
      const limitFirst = await runSeed(seed, 'limit-first');
      expect(pickFirst).toEqual(limitFirst);
      expect(pickFirst).toMatchObject({ left: 0, unhandled: 0 });
      expect((pickFirst as { answers: unknown }).answers).not.toBe('some caller never answered');
    });
  }
});
