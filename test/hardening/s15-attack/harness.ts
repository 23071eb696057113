// Shared set-up of the s15 attack probes: a pool of named fakes, one way of configuring its retries and
// what stands around its pick, and everything a probe compares afterwards (attempts, verdicts, starts).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { vi } from 'vitest';
import { CHANNELS, ClientPool, type Balancer, type Call, type PoolMember, type PoolOptions, type RunOptions } from '../../../src/index.js';

export interface Fake {
  readonly id: string;
}

/** Where the retry policy and the other things around a call come from. */
export type Way =
  | 'pool-retry'
  | 'method-retry'
  | 'call-retry'
  | 'execute-middleware'
  | 'onOutcome-hook'
  | 'attempt-start-subscriber'
  | 'hooked-balancer'
  | 'throwing-hooked-balancer'
  | 'pool-limit'
  | 'call-timeout'
  | 'call-signal';

export const WAYS: readonly Way[] = ['pool-retry', 'method-retry', 'call-retry', 'execute-middleware', 'onOutcome-hook', 'attempt-start-subscriber', 'hooked-balancer', 'throwing-hooked-balancer', 'pool-limit', 'call-timeout', 'call-signal'];

export interface Harness {
  readonly pool: ClientPool<Fake>;
  /** The run options that go with the way (the retry, a method, a timeout, a signal). */
  readonly options: RunOptions<Fake>;
  /** Attempt starts published on `clientpool:attempt:start` (only the subscriber way subscribes). */
  readonly starts: string[];
  /** Verdicts `onOutcome` heard (only the onOutcome way). */
  readonly outcomes: string[];
  /** In-flight counts the hooked balancer heard. */
  readonly heard: number[];
  dispose(): void;
}

/** Options built up field by field. */
export type Mutable<O> = { -readonly [K in keyof O]: O[K] };

export const dateClock = { now: (): number => Date.now() };

/** A pool of `names` configured the way `way` says, with `retry` as the retry policy. */
export function harness(way: Way, retry: NonNullable<RunOptions<Fake>['retry']>, names: readonly string[] = ['a', 'b', 'c'], extra: PoolOptions<Fake> = {}, addOptions: Record<string, unknown> = {}): Harness {
  const starts: string[] = [];
  const outcomes: string[] = [];
  const heard: number[] = [];
  const poolOptions: Mutable<PoolOptions<Fake>> = { clock: dateClock, ...extra };
  let options: RunOptions<Fake> = {};
  if (way === 'method-retry') {
    poolOptions.methods = { get: { retry } };
    options = { method: 'get' };
  } else if (way === 'call-retry') {
    options = { retry };
  } else {
    poolOptions.retry = retry;
  }
  if (way === 'call-timeout') options = { timeout: 1_000_000 };
  if (way === 'call-signal') options = { signal: new AbortController().signal };
  if (way === 'pool-limit') poolOptions.limit = { rate: 1_000, burst: 1_000 };
  if (way === 'hooked-balancer' || way === 'throwing-hooked-balancer') {
    let i = 0;
    const isThrowing = way === 'throwing-hooked-balancer';
    const balancer: Balancer<Fake> = {
      pick: (ready: readonly PoolMember<Fake>[]) => ready[i++ % ready.length]!,
      onReady: () => {
        if (isThrowing) throw new Error('onReady hook');
      },
      onInFlight: (member: PoolMember<Fake>) => {
        heard.push(member.inFlight);
        if (isThrowing) throw new Error('onInFlight hook');
      },
    };
    poolOptions.strategy = balancer;
  }
  const pool = new ClientPool<Fake>(poolOptions);
  for (const name of names) pool.add({ id: name }, { name, ...addOptions });
  if (way === 'execute-middleware') pool.use({ name: 'pass', execute: (call, next) => next(call) });
  if (way === 'onOutcome-hook') pool.use({ name: 'verdicts', onOutcome: (call: Call<Fake>, outcome) => outcomes.push(`${call.attempt}:${call.clientName}:${outcome.kind}`) });
  const onStart = (message: unknown): void => {
    const { call } = message as { call: Call<Fake> };
    starts.push(`${call.attempt}:${call.clientName}`);
  };
  if (way === 'attempt-start-subscriber') subscribe(CHANNELS.attemptStart, onStart);
  return {
    pool,
    options,
    starts,
    outcomes,
    heard,
    dispose: () => {
      if (way === 'attempt-start-subscriber') unsubscribe(CHANNELS.attemptStart, onStart);
    },
  };
}

/** Moves fake time until `promise` settles (at most `limitMs`), and gives back how it ended. */
export async function settled<V>(promise: Promise<V>, limitMs = 60_000, stepMs = 5): Promise<{ value?: V; error?: unknown; isSettled: boolean }> {
  let result: { value?: V; error?: unknown; isSettled: boolean } = { isSettled: false };
  promise.then(
    (value) => (result = { value, isSettled: true }),
    (error: unknown) => (result = { error, isSettled: true }),
  );
  for (let t = 0; t < limitMs && !result.isSettled; t += stepMs) await vi.advanceTimersByTimeAsync(stepMs);
  await vi.advanceTimersByTimeAsync(0);
  return result;
}

/** The code of an error (and its cause's), or `value <v>`. */
export function describeEnd(result: { value?: unknown; error?: unknown; isSettled: boolean }): string {
  if (!result.isSettled) return 'pending';
  if (result.error === undefined) return `value ${String(result.value)}`;
  const error = result.error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const cause = error.cause === undefined ? '' : ` cause ${error.cause.code ?? error.cause.message ?? 'unknown'}`;
  return `error ${error.code ?? error.message ?? 'unknown'}${cause}`;
}
