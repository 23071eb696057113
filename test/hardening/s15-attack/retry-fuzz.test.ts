// Seeded random runs of calls (no options, a method, retries, a timeout, a signal, a deadline, a hedge)
// whose attempts fail in random ways, on pools with and without middleware, onOutcome hooks, hooked
// balancers and caps, with aborts along the way: every call settles once, attempts stay within their
// policy, every start published has its outcome, and in-flight counts return to 0. With S15_LOG set, the
// log of every run is written there, so that two builds can be compared run by run.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHANNELS, ClientPool, seededRandom, type Balancer, type Call, type PoolMember, type PoolOptions, type Random, type RunOptions } from '../../../src/index.js';
import { dateClock, type Fake, type Mutable } from './harness.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake', quietWarnings: true });

const pickOf = <V>(random: Random, values: readonly V[]): V => values[Math.floor(random() * values.length)]!;

type Behaviour = 'value' | 'late value' | 'throw' | 'reject' | 'late reject' | 'non-error' | 'hang' | 'hang, signal';

function behave(behaviour: Behaviour, client: Fake, call: Call<Fake>): unknown {
  switch (behaviour) {
    case 'value':
      return client.id;
    case 'late value':
      return new Promise((resolve) => setTimeout(() => resolve(client.id), 30));
    case 'throw':
      throw new Error(`throw ${client.id}`);
    case 'reject':
      return Promise.reject(new Error(`reject ${client.id}`));
    case 'late reject':
      return new Promise((_, reject) => setTimeout(() => reject(new Error(`late ${client.id}`)), 30));
    case 'non-error':
      throw 42;
    case 'hang':
      // Answers at last, long after any timeout: a function that ignores its signal.
      return new Promise((resolve) => setTimeout(() => resolve(`very late ${client.id}`), 400));
    case 'hang, signal':
      return new Promise((_, reject) => {
        const signal = call.signal;
        signal.addEventListener('abort', () => reject(signal.reason as Error));
        setTimeout(() => reject(new Error('gave up')), 400);
      });
  }
}

const BEHAVIOURS: readonly Behaviour[] = ['value', 'late value', 'throw', 'reject', 'late reject', 'non-error', 'hang', 'hang, signal'];

async function run(seed: number): Promise<{ log: string[]; problems: string[] }> {
  const random = seededRandom(seed);
  const log: string[] = [];
  const problems: string[] = [];
  const setup = {
    middleware: pickOf(random, ['none', 'execute', 'onOutcome'] as const),
    balancer: pickOf(random, ['pool', 'hooked', 'least-in-flight'] as const),
    cap: pickOf(random, [undefined, 1, 2]),
    breaker: pickOf(random, [undefined, { maxFailures: 2, cooldown: 200 }] as const),
    poolRetry: random() < 0.3,
    subscriber: random() < 0.3,
  };
  log.push(JSON.stringify(setup));
  const options: Mutable<PoolOptions<Fake>> = { clock: dateClock, random: seededRandom(seed + 1), maxWait: 100, retryBudget: { ratio: 0.5, reserve: 5 } };
  if (setup.breaker !== undefined) options.breaker = setup.breaker;
  if (setup.poolRetry) options.retry = { attempts: 2, backoff: { initial: 5, max: 5, jitter: 'none' } };
  options.methods = { get: { retry: { attempts: 3, backoff: { initial: 5, max: 20 } }, timeout: 100 } };
  if (setup.balancer === 'least-in-flight') options.strategy = 'least-in-flight';
  if (setup.balancer === 'hooked') {
    let i = 0;
    const balancer: Balancer<Fake> = {
      pick: (ready: readonly PoolMember<Fake>[]) => ready[i++ % ready.length]!,
      onInFlight: (member) => {
        if (member.inFlight < 0) problems.push(`negative inFlight on ${member.name}`);
      },
      onReady: () => undefined,
    };
    options.strategy = balancer;
  }
  const pool = new ClientPool<Fake>(options);
  for (const name of ['a', 'b', 'c']) pool.add({ id: name }, { name, ...(setup.cap === undefined ? {} : { maxInFlight: setup.cap }) });
  const outcomes = new Map<string, number>();
  if (setup.middleware === 'execute') pool.use({ name: 'pass', execute: (call, next) => next(call) });
  if (setup.middleware === 'onOutcome') pool.use({ name: 'v', onOutcome: (call) => outcomes.set(call.method, (outcomes.get(call.method) ?? 0) + 1) });
  let starts = 0;
  const onStart = (): void => {
    starts++;
  };
  if (setup.subscriber) subscribe(CHANNELS.attemptStart, onStart);
  const ends: Promise<void>[] = [];
  const controllers: AbortController[] = [];
  try {
    for (let n = 0; n < 25; n++) {
      const way = pickOf(random, ['none', 'method', 'retry', 'timeout', 'signal', 'deadline', 'hedge', 'retry+signal'] as const);
      const runOptions: RunOptions<Fake> | undefined =
        way === 'none'
          ? undefined
          : way === 'method'
            ? { method: 'get' }
            : way === 'retry'
              ? { retry: { attempts: 3, backoff: { initial: 5, max: 5, jitter: 'none' } } }
              : way === 'timeout'
                ? { timeout: 50 }
                : way === 'deadline'
                  ? { deadline: 120, retry: { attempts: 3, backoff: { initial: 5, max: 5 } } }
                  : way === 'hedge'
                    ? { hedge: { delay: 10 }, timeout: 200 }
                    : { signal: (controllers[controllers.push(new AbortController()) - 1]!).signal, ...(way === 'retry+signal' ? { retry: { attempts: 3, backoff: { initial: 5, max: 5 } } } : {}) };
      const behaviours = Array.from({ length: 5 }, () => pickOf(random, BEHAVIOURS));
      let attempts = 0;
      const tried: string[] = [];
      const limit = way === 'none' || way === 'timeout' || way === 'signal' ? (setup.poolRetry ? 2 : 1) : way === 'hedge' ? (setup.poolRetry ? 3 : 2) : 3;
      const start = Date.now();
      let settledCount = 0;
      const call = pool.run((client, c) => {
        tried.push(client.id);
        return behave(behaviours[attempts++] ?? 'value', client, c);
      }, runOptions);
      ends.push(
        call.then(
          (value) => {
            settledCount++;
            log.push(`#${n} ${way} [${behaviours.join(',')}] -> value ${String(value)} tried ${tried.join('')} at ${Date.now() - start}`);
          },
          (error: unknown) => {
            settledCount++;
            const e = error as { code?: string; cause?: { code?: string; message?: string } };
            log.push(`#${n} ${way} [${behaviours.join(',')}] -> error ${e.code ?? String(error)} (${e.cause?.code ?? e.cause?.message ?? ''}) tried ${tried.join('')} at ${Date.now() - start}`);
          },
        ).then(() => {
          if (attempts > limit) problems.push(`#${n} ${way}: ${attempts} attempts > ${limit}`);
          if (settledCount !== 1) problems.push(`#${n}: settled ${settledCount} times`);
        }),
      );
      const step = pickOf(random, [0, 1, 7, 20]);
      await vi.advanceTimersByTimeAsync(step);
      if (controllers.length > 0 && random() < 0.3) pickOf(random, controllers).abort(new Error('caller left'));
    }
    for (let t = 0; t < 3_000 && ends.length > 0; t += 10) await vi.advanceTimersByTimeAsync(10);
    await Promise.all(ends);
    await vi.advanceTimersByTimeAsync(500);
    const members = pool.members();
    log.push(members.map((m) => `${m.name} inFlight=${m.inFlight} s=${m.successes} f=${m.failures} c=${m.cancelled} r=${m.refused} ${m.state.kind}`).join('; '));
    log.push(`budget ${JSON.stringify(pool.retryBudget)} starts ${starts}`);
    for (const m of members) if (m.inFlight !== 0) problems.push(`${m.name} inFlight ${m.inFlight} after every call settled`);
    const closing = pool.close();
    let isClosed = false;
    void closing.then(() => (isClosed = true));
    for (let t = 0; t < 2_000 && !isClosed; t += 10) await vi.advanceTimersByTimeAsync(10);
    if (!isClosed) problems.push('close() did not resolve');
  } finally {
    if (setup.subscriber) unsubscribe(CHANNELS.attemptStart, onStart);
  }
  return { log, problems };
}

describe('seeded random runs of retried, raced and plain calls', () => {
  const logs: Record<number, string[]> = {};
  afterEach(() => {
    if (process.env['S15_LOG'] !== undefined) writeFileSync(process.env['S15_LOG'], JSON.stringify(logs, null, 1));
  });
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}: every call settles once, within its attempts; in-flight back to 0; close() resolves`, async () => {
      const { log, problems } = await run(seed);
      logs[seed] = log;
      expect(problems).toEqual([]);
    });
  }
});
