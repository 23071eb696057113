import { systemClock, type Clock } from '../clock.js';
import { AbortedError, InvalidOptionError, PoolClosedError, RateLimitedError, TimeoutError } from '../errors.js';
import { Emitter, type Event } from '../events.js';
import type { Limiter, TakeOptions } from '../limit/limiter.js';
import { TokenBucket } from '../limit/token-bucket.js';
import { WaiterQueue } from '../limit/waiter-queue.js';
import { emitWarning } from '../util/host.js';
import { givenOr, abortSignal, callable, duration, finiteAtLeast, integerAtLeast, keySet, knownKeys, MAX_DURATION_MS, nonEmptyString, optionsObject, positive, positiveDuration } from '../validate.js';
import { configFingerprint, ConfigMismatchError } from './config-fingerprint.js';
import { scriptClient } from './eval-script.js';
import { runAdjustScript, runTokenBucketScript, type AdjustReply, type RedisScriptClient, type ScriptReply, type ScriptRequest } from './script.js';

const OPTION_KEYS = keySet(['redis', 'key', 'rate', 'per', 'burst', 'maxWait', 'lease', 'leaseTtl', 'timeout', 'recheckInterval', 'processes', 'insurance', 'onMismatch', 'clock']);
const INSURANCE_KEYS = keySet(['rate', 'burst']);

/** Options of a {@link RedisTokenBucket}. */
export interface RedisTokenBucketOptions {
  /**
   * The Redis connection, owned by you: the bucket never connects, reconnects or quits it. An ioredis
   * `Redis` or `Cluster` fits; give it `enableOfflineQueue: false` and `maxRetriesPerRequest: 0` so that
   * commands fail at once while Redis is down instead of queueing (and later taking tokens nobody uses).
   */
  readonly redis: RedisScriptClient;
  /**
   * The Redis key holding this limit's state: one key per quota (an API key, a provider), shared by
   * every process that must respect it. ioredis `keyPrefix` applies.
   */
  readonly key: string;
  /** Tokens added per `per` milliseconds (per second by default), fleet-wide: a finite number > 0. */
  readonly rate: number;
  /**
   * The period `rate` counts over, in milliseconds: `{ rate: 10_000, per: 60_000 }` is 10 000 tokens a
   * minute (a provider's tokens-per-minute quota). A duration > 0, at most 2^31-1; `insurance.rate`
   * counts over it too.
   * @default 1_000
   */
  readonly per?: number;
  /**
   * Bucket size, fleet-wide: tokens that may be taken at once after a quiet period.
   * @default max(1, rate)
   */
  readonly burst?: number;
  /**
   * Default longest wait of `take()` in milliseconds, at most 2^31-1 (the pool passes its own `maxWait`).
   * @default 1_000
   */
  readonly maxWait?: number;
  /**
   * Tokens to take per round trip when the bucket has plenty: the extra ones are kept in a local reserve
   * that serves later calls (and `tryTake`) without a round trip. Extra tokens are leased only while the
   * bucket keeps at least half its burst, so a busy bucket is never drained by leases. 1 turns leasing off.
   * @default 1
   */
  readonly lease?: number;
  /**
   * Milliseconds a leased token may wait in the local reserve; then it is dropped unused (counted in
   * `stats.expiredTokens`), so an idle process does not sit on the fleet's tokens.
   * @default 250
   */
  readonly leaseTtl?: number;
  /**
   * Milliseconds each Redis round trip may take; past it the bucket falls back to its local insurance
   * bucket. Raced with a timer, independently of the client's own `commandTimeout`.
   * @default 50
   */
  readonly timeout?: number;
  /**
   * While in fallback, milliseconds between probes of Redis (one read-only script run each).
   * @default 500
   */
  readonly recheckInterval?: number;
  /**
   * How many processes share this key. Only used to size the default insurance bucket, so that while
   * Redis is down the fleet as a whole stays near the shared `rate`.
   * @default 1
   */
  readonly processes?: number;
  /**
   * This process's own bucket while Redis is slow or down. A take of more than `insurance.burst` tokens
   * waits until it is full, takes it all and owes the rest (its `adjust()`), so the local rate holds.
   * @default { rate: rate / processes, burst: max(1, burst / processes) }
   */
  readonly insurance?: { readonly rate?: number; readonly burst?: number };
  /**
   * What to do when another process uses the same `key` with other settings (`rate`, `per` or `burst`
   * differ: its fingerprint is found stored with the key). Either way the bucket reports it on
   * `onMismatch`, counts it in `stats.mismatches` and emits a process warning (code
   * `CLIENTPOOL_CONFIG_MISMATCH`) once per distinct other configuration.
   * - `'warn'`: nothing more; calls go on, on this process's own settings.
   * - `'refuse'`: the bucket stops trusting the key: the waiters and every later `take()` reject with the
   *   `ConfigMismatchError` (`tryTake` answers false), until a read-only check, every `recheckInterval`,
   *   finds the key empty or written with this configuration again.
   * @default 'warn'
   */
  readonly onMismatch?: 'warn' | 'refuse';
  /** Time source for waits, deadlines and lease expiry (the bucket itself runs on Redis server time). @default performance.now() */
  readonly clock?: Clock;
}

/** Where tokens come from now: a discriminated union, read through {@link RedisTokenBucket.state}. */
export type RedisBucketState =
  | { readonly mode: 'redis' }
  | { readonly mode: 'fallback'; readonly since: number; readonly cause: Error }
  | { readonly mode: 'closed' };

/** The bucket stopped using Redis and serves tokens from its local insurance bucket. */
export interface FallbackEvent {
  readonly key: string;
  /** The failure: a `TimeoutError` (`ERR_TIMEOUT`) or the Redis client's error. */
  readonly cause: Error;
}

/** Redis answered a probe again: the shared limit applies again. */
export interface RecoverEvent {
  readonly key: string;
  /** Milliseconds spent in fallback. */
  readonly downMs: number;
}

/** Counters for metrics; every field but `mode` and `reserve` only grows. */
export interface RedisTokenBucketStats {
  readonly mode: RedisBucketState['mode'];
  /** Script runs sent to Redis, probes included. */
  readonly roundTrips: number;
  /** Round trips that failed or timed out. */
  readonly failures: number;
  /** Switches from Redis to the local insurance bucket. */
  readonly fallbacks: number;
  /** Tokens taken from Redis, leased ones included. */
  readonly redisTokens: number;
  /** Of those, tokens leased ahead of demand. */
  readonly leasedTokens: number;
  /**
   * Tokens taken from Redis but dropped unused: a lease expired, or a configuration mismatch made the
   * bucket refuse (`onMismatch: 'refuse'`).
   */
  readonly expiredTokens: number;
  /** Tokens granted by the local insurance bucket while Redis was unavailable. */
  readonly localTokens: number;
  /** Tokens in the local reserve now. */
  readonly reserve: number;
  /** Tokens charged by `adjust(n > 0)`, as asked (paid from the reserve, Redis or the insurance bucket). */
  readonly chargedTokens: number;
  /** Tokens given back by `adjust(n < 0)`, as asked (Redis keeps no more than a full bucket of them). */
  readonly refundedTokens: number;
  /**
   * Adjustments not applied as asked: a round trip that failed or timed out (the adjustment then went to
   * the insurance bucket), or an `n` that was not a finite number (ignored).
   */
  readonly adjustFailures: number;
  /**
   * Replies from Redis (takes, adjustments, probes) that found another configuration's fingerprint stored
   * with the key: while two configurations share it, most round trips count.
   */
  readonly mismatches: number;
}

const REDIS: RedisBucketState = { mode: 'redis' };
/** A timeout timer this late (ms) says the event loop was stalled. */
const STALL_MS = 5;
const CLOSED: RedisBucketState = { mode: 'closed' };
/** Distinct other configurations warned about per bucket at most. */
const MAX_WARNED_CONFIGURATIONS = 16;
/** Most debt a charge may leave, in ms: a wait for a token then still fits a timer. */
const MAX_DEBT_MS = MAX_DURATION_MS;

/**
 * A token bucket shared by every process that uses the same Redis `key`: a provider's quota holds for
 * the fleet, not per process. Each round trip runs one Lua script that refills and takes atomically on
 * Redis server time, as a theoretical arrival time (GCRA) like the in-memory `TokenBucket`, so both let
 * exactly burst + rate·t through. Waiters queue FIFO within the process; several queued takes share one
 * round trip.
 *
 * When a round trip fails or exceeds `timeout`, the bucket falls back to a local `TokenBucket` sized to
 * this process's share (`insurance`), reports it through `onFallback`, probes Redis every
 * `recheckInterval` and returns to it (`onRecover`): calls keep flowing, never hang, and never fail just
 * because Redis is down.
 *
 * Costs: `take(n)` takes a call's declared cost (any n up to `burst`), and `adjust(n)` settles the real
 * figure later, charging or refunding the difference for the whole fleet (docs/redis.md, "Costs").
 *
 * Configuration mismatch: every write stores this bucket's {@link RedisTokenBucket.fingerprint} (`rate`,
 * `per`, `burst`) with the state, and a round trip that finds another one there reports a
 * `ConfigMismatchError` (code `ERR_CONFIG_MISMATCH`, `ours` and `theirs`) on `onMismatch`, counts it in
 * `stats.mismatches` and warns once per distinct other configuration (`CLIENTPOOL_CONFIG_MISMATCH`). By
 * default (`onMismatch: 'warn'`) calls go on; with `'refuse'`, `take()` rejects with that error (through a
 * `ClientPool`, the call rejects with it, as with any clientpool error a limiter raises) until the key
 * holds this configuration again or expires (docs/redis.md, "Configuration mismatch").
 *
 * @example
 * ```ts
 * const redis = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
 * const pool = new ClientPool<Client>({
 *   limit: new RedisTokenBucket({ redis, key: 'provider-a', rate: 100, burst: 100, processes: 4 }),
 * });
 * ```
 */
export class RedisTokenBucket implements Limiter, Disposable {
  /** The Redis key of this limit. */
  readonly key: string;
  /** Tokens per `per` ms, fleet-wide. */
  readonly rate: number;
  /** The period of `rate`, in ms. */
  readonly per: number;
  /** Bucket size, fleet-wide. */
  readonly burst: number;
  /** Most tokens taken per round trip. */
  readonly lease: number;
  /** The settings stored with the key, `burst=…;per=…;rate=…` ({@link configFingerprint}). */
  readonly fingerprint: string;
  readonly #redis: RedisScriptClient;
  /** Milliseconds per token. */
  readonly #interval: number;
  readonly #intervalUs: number;
  /** Tokens a lease must leave in the bucket. */
  readonly #keep: number;
  readonly #maxWait: number;
  readonly #leaseTtl: number;
  readonly #timeout: number;
  readonly #recheckInterval: number;
  readonly #clock: Clock;
  readonly #local: TokenBucket;
  #state: RedisBucketState = REDIS;
  readonly #queue: WaiterQueue<void>;
  /** A round trip for the queue is in flight. */
  #isBusy = false;
  /** Redis said when the head's tokens are due: the queue wakes the bucket then. */
  #isSleeping = false;
  #probeTimer: NodeJS.Timeout | undefined;
  #reserve = 0;
  #reserveUntil = 0;
  #roundTrips = 0;
  #failures = 0;
  #fallbackCount = 0;
  #redisTokens = 0;
  #leasedTokens = 0;
  #expiredTokens = 0;
  #localTokens = 0;
  #chargedTokens = 0;
  #refundedTokens = 0;
  #adjustFailures = 0;
  /** An adjust round trip is in flight; adjustments made meanwhile add up here and go in the next one. */
  #isAdjusting = false;
  #pendingAdjust = 0;
  /** Largest |n| one adjust round trip sends: past it the script's clamps decide anyway. */
  readonly #adjustBound: number;
  /** Warnings already given (one per kind per bucket). */
  readonly #warned = new Set<string>();
  readonly #fallbacks = new Emitter<FallbackEvent>();
  readonly #recoveries = new Emitter<RecoverEvent>();
  readonly #mismatchEvents = new Emitter<ConfigMismatchError>();
  /** `onMismatch: 'refuse'`. */
  readonly #isRefusing: boolean;
  /** Set while the bucket refuses takes for a mismatch: the error they reject with. */
  #distrust: ConfigMismatchError | undefined;
  /** The read-only check that ends a refusal. */
  #trustTimer: NodeJS.Timeout | undefined;
  #mismatches = 0;
  /** Other configurations already warned about. */
  readonly #warnedTheirs = new Set<string>();

  /** Subscribe to switches to the local insurance bucket. Returns a disposable. */
  readonly onFallback: Event<FallbackEvent> = this.#fallbacks.event;
  /** Subscribe to returns to Redis. Returns a disposable. */
  readonly onRecover: Event<RecoverEvent> = this.#recoveries.event;
  /**
   * Subscribe to configuration mismatches: one event per reply from Redis that found another
   * configuration's fingerprint with the key (`ConfigMismatchError`: `key`, `ours`, `theirs`). Returns a
   * disposable; a listener that throws is reported as a warning and breaks nothing.
   */
  readonly onMismatch: Event<ConfigMismatchError> = this.#mismatchEvents.event;

  constructor(options: RedisTokenBucketOptions) {
    if (options === undefined) throw new InvalidOptionError('options', 'an options object with redis, key and rate', options);
    optionsObject('options', options);
    knownKeys('options', options, OPTION_KEYS);
    this.#redis = scriptClient(options.redis);
    this.key = nonEmptyString('key', options.key);
    this.rate = positive('rate', options.rate);
    this.per = options.per === undefined ? 1_000 : positiveDuration('per', options.per);
    this.burst = finiteAtLeast('burst', givenOr(options.burst, Math.max(1, this.rate)), 1);
    this.#maxWait = duration('maxWait', givenOr(options.maxWait, 1_000));
    this.lease = integerAtLeast('lease', givenOr(options.lease, 1), 1);
    if (this.lease > this.burst) throw new InvalidOptionError('lease', `an integer from 1 to burst (${this.burst})`, this.lease);
    this.#leaseTtl = positiveDuration('leaseTtl', givenOr(options.leaseTtl, 250));
    this.#timeout = positiveDuration('timeout', givenOr(options.timeout, 50));
    this.#recheckInterval = positiveDuration('recheckInterval', givenOr(options.recheckInterval, 500));
    const processes = integerAtLeast('processes', givenOr(options.processes, 1), 1);
    optionsObject('insurance', options.insurance);
    if (options.insurance !== undefined) knownKeys('insurance', options.insurance, INSURANCE_KEYS);
    this.#isRefusing = mismatchPolicy(options.onMismatch) === 'refuse';
    this.#clock = options.clock === undefined ? systemClock : clock(options.clock);
    this.fingerprint = configFingerprint({ rate: this.rate, per: this.per, burst: this.burst });
    this.#interval = this.per / this.rate;
    this.#intervalUs = (this.per * 1_000) / this.rate;
    this.#keep = Math.ceil(this.burst / 2);
    this.#adjustBound = this.burst + MAX_DEBT_MS / this.#interval;
    optionsObject('insurance', options.insurance);
    const insurance = options.insurance ?? {};
    this.#local = new TokenBucket(
      {
        rate: givenOr(insurance.rate, this.rate / processes),
        per: this.per,
        burst: givenOr(insurance.burst, Math.max(1, this.burst / processes)),
        maxWait: this.#maxWait,
        clock: this.#clock,
      },
      'insurance',
    );
    this.#queue = new WaiterQueue<void>({
      clock: this.#clock,
      perToken: this.#interval,
      // A waiter whose round trip is under way at its deadline gets that round trip's answer.
      grace: this.#timeout,
      wake: () => {
        this.#isSleeping = false;
        this.#pump();
      },
      late: (_waiter, retryAfterMs) => new RateLimitedError(retryAfterMs, `redis ${this.key}`),
    });
  }

  /** Where tokens come from now. */
  get state(): RedisBucketState {
    return this.#state;
  }

  /** With `onMismatch: 'refuse'`, the mismatch that makes takes reject now; undefined while the key is trusted. */
  get mismatch(): ConfigMismatchError | undefined {
    return this.#distrust;
  }

  /** A snapshot of the counters, for metrics. */
  get stats(): RedisTokenBucketStats {
    this.#expire(this.#clock.now());
    return {
      mode: this.#state.mode,
      roundTrips: this.#roundTrips,
      failures: this.#failures,
      fallbacks: this.#fallbackCount,
      redisTokens: this.#redisTokens,
      leasedTokens: this.#leasedTokens,
      expiredTokens: this.#expiredTokens,
      localTokens: this.#localTokens,
      reserve: this.#reserve,
      chargedTokens: this.#chargedTokens,
      refundedTokens: this.#refundedTokens,
      adjustFailures: this.#adjustFailures,
      mismatches: this.#mismatches,
    };
  }

  /**
   * Take `n` tokens if they are at hand now (leased, or local in fallback) and nobody is queued before us.
   * False for an `n` that `take()` would refuse, so that `take()` says why.
   */
  tryTake(n = 1): boolean {
    if (this.#queue.length > 0 || this.#state === CLOSED || this.#distrust !== undefined || !(n > 0 && n <= this.burst)) return false;
    if (this.#takeReserve(n)) return true;
    // More than the insurance bucket holds is for take(), which pays it in two steps.
    if (this.#state.mode === 'fallback' && n <= this.#local.burst && this.#local.tryTake(n)) {
      this.#localTokens += n;
      return true;
    }
    return false;
  }

  /**
   * Take `n` tokens (a number > 0 and <= `burst`, whole or fractional: a call's cost), waiting in FIFO order
   * within this process: a take of many tokens is not passed by later small ones. Rejects with
   * `InvalidOptionError` (option `tokens`) at once for any other `n`, since a take above the whole bucket
   * could never be served; `RateLimitedError` (and its `retryAfterMs`) when the wait would exceed
   * `maxWait`; `AbortedError` when `signal` aborts (taking nothing); `PoolClosedError` after `close()`;
   * with `onMismatch: 'refuse'`, `ConfigMismatchError` while another configuration uses the key.
   * Never rejects because Redis is down.
   */
  take(n = 1, options: TakeOptions = {}): Promise<void> {
    if (this.#state === CLOSED) return Promise.reject(new PoolClosedError());
    if (!(typeof n === 'number' && n > 0 && n <= this.burst)) {
      return Promise.reject(new InvalidOptionError('tokens', `a number > 0 and <= burst (${this.burst})`, n));
    }
    let signal: AbortSignal | undefined;
    let maxWait: number;
    try {
      signal = abortSignal('signal', options.signal);
      maxWait = options.maxWait === undefined ? this.#maxWait : duration('maxWait', options.maxWait);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (signal?.aborted === true) return Promise.reject(new AbortedError(signal.reason));
    if (this.#distrust !== undefined) return Promise.reject(this.#distrust);
    if (this.#queue.length === 0) {
      if (this.#takeReserve(n)) return Promise.resolve();
      if (this.#state.mode === 'fallback') return this.#takeLocal(n, signal, maxWait);
    }
    const taken = this.#queue.push(undefined, n, this.#clock.now() + maxWait, signal);
    this.#pump();
    return taken;
  }

  /**
   * Settle a call's real cost once it is known (the pool calls it for `call.settle()`): `n > 0` charges `n`
   * more tokens at once, without waiting (the shared bucket may go into debt, at most 2^31-1 ms of it, and
   * refuses takes until it has refilled); `n < 0` gives `-n` tokens back to Redis, for the whole fleet
   * (never past a full bucket); 0 does nothing. Whole or fractional tokens.
   *
   * Never throws or rejects, and returns at once; the round trip (bounded by `timeout`) goes on behind:
   * - a charge is paid first from the local reserve of leased tokens (they were taken from Redis already,
   *   so this is exact and needs no round trip), the rest in Redis; a refund always goes to Redis;
   * - adjustments made while one is in flight are added up and sent as one;
   * - a refund wakes a waiter that was sleeping until its tokens were due, so it asks again at once;
   * - in fallback, and when the round trip fails or times out (which falls back, `onFallback`), the
   *   adjustment goes to the local insurance bucket and is not replayed to Redis later (one that timed
   *   out may still have reached Redis, and then counts in both);
   * - an `n` that is not a finite number is ignored and reported once per bucket as a
   *   `CLIENTPOOL_CALLBACK_ERROR` warning; failures count in `stats.adjustFailures`;
   * - after `close()`, nothing.
   */
  adjust(n: number): void {
    try {
      this.#adjust(n);
    } catch (error) {
      // Only a clock of the caller's that throws gets here; the pool calls adjust after the call and cannot fail it.
      this.#adjustFailures++;
      this.#warn('adjust-error', `clientpool: RedisTokenBucket(${this.key}).adjust(${String(n)}) failed: ${errorText(error)}`, 'The adjustment was dropped; reported once per bucket.');
    }
  }

  #adjust(n: number): void {
    if (this.#state === CLOSED || n === 0) return;
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      this.#adjustFailures++;
      this.#warn('adjust', `clientpool: RedisTokenBucket(${this.key}).adjust(): ${new InvalidOptionError('tokens', 'a finite number', n).message}`, 'The adjustment was ignored; reported once per bucket.');
      return;
    }
    let rest = n;
    if (n > 0) {
      this.#chargedTokens += n;
      if (this.#reserve > 0) {
        this.#expire(this.#clock.now());
        const paid = Math.min(this.#reserve, Math.floor(n));
        this.#reserve -= paid;
        rest -= paid;
        if (rest === 0) return;
      }
    } else {
      this.#refundedTokens -= n;
    }
    if (this.#state.mode === 'fallback') {
      this.#adjustLocal(rest);
      return;
    }
    this.#pendingAdjust = this.#clampAdjust(this.#pendingAdjust + rest);
    if (!this.#isAdjusting) this.#sendAdjust();
  }

  /**
   * Reject every waiter with `PoolClosedError` and stop every timer and probe. Leased tokens are dropped.
   * The Redis connection is yours and stays open.
   */
  close(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    if (this.#probeTimer !== undefined) clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    if (this.#trustTimer !== undefined) clearTimeout(this.#trustTimer);
    this.#trustTimer = undefined;
    this.#distrust = undefined;
    this.#queue.close(new PoolClosedError());
    this.#reserve = 0;
    this.#local.close();
    this.#fallbacks.clear();
    this.#recoveries.clear();
    this.#mismatchEvents.clear();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Serve what the reserve can, then send one round trip for the rest of the queue, unless one is pending. */
  #pump(): void {
    if (this.#isBusy || this.#isSleeping || this.#state === CLOSED) return;
    if (this.#reserve > 0) {
      this.#expire(this.#clock.now());
      this.#serveFromReserve();
    }
    const head = this.#queue.head;
    if (head === undefined) return;
    if (this.#state.mode === 'fallback') {
      this.#handOver();
      return;
    }
    // Whole tokens beyond the head's (which may be fractional: a cost), as far as the burst goes.
    const demand = Math.max(head.n, Math.min(this.#queue.tokens, Math.floor(this.burst)));
    // Woken early (the head left): the answer to this round trip says when to come back.
    this.#queue.wakeAt(undefined);
    this.#isBusy = true;
    const request: ScriptRequest = {
      interval: this.#intervalUs,
      burst: this.burst,
      need: head.n,
      demand,
      extra: Math.max(0, this.lease - demand),
      keep: this.#keep,
      fingerprint: this.fingerprint,
      refuse: this.#isRefusing,
    };
    void this.#roundTrip(() => runTokenBucketScript(this.#redis, this.key, request)).then(
      (reply) => this.#onReply(reply, head.n, demand),
      (error: unknown) => this.#onFailure(error as Error),
    );
  }

  #onReply(reply: ScriptReply, need: number, demand: number): void {
    this.#isBusy = false;
    if (this.#state === CLOSED) return;
    if (reply.theirs !== undefined && this.#mismatched(reply.theirs)) {
      // Refused: the tokens this run took are dropped with the queue.
      this.#redisTokens += reply.granted;
      this.#expiredTokens += reply.granted;
      return;
    }
    if (reply.granted > 0) {
      this.#redisTokens += reply.granted;
      this.#leasedTokens += Math.max(0, reply.granted - demand);
      this.#refill(reply.granted);
      this.#pump();
      return;
    }
    // Nothing was taken: reject those who cannot be served in time (assuming no other process takes a
    // token meanwhile, so this never rejects too early), and sleep until the head's tokens are due.
    const now = this.#clock.now();
    const waitMs = reply.waitUs / 1_000;
    const queue = this.#queue;
    // The first `need` tokens come in `waitMs`, each further one an interval later.
    queue.refuseLate(now + waitMs - need * this.#interval);
    const head = queue.head;
    if (head === undefined) return;
    this.#isSleeping = true;
    queue.wakeAt(now + Math.max(0, waitMs + (head.n - need) * this.#interval));
  }

  #sendAdjust(): void {
    const n = this.#pendingAdjust;
    this.#pendingAdjust = 0;
    if (n === 0) return;
    this.#isAdjusting = true;
    const request = { interval: this.#intervalUs, burst: this.burst, n, maxDebtUs: MAX_DEBT_MS * 1_000, fingerprint: this.fingerprint, refuse: this.#isRefusing };
    void this.#roundTrip(() => runAdjustScript(this.#redis, this.key, request)).then(
      (reply) => this.#onAdjusted(reply),
      (error: unknown) => this.#onAdjustFailure(n, error as Error),
    );
  }

  #onAdjusted(reply: AdjustReply): void {
    this.#isAdjusting = false;
    if (this.#state === CLOSED) return;
    // The adjustment stands either way: it settles a call already made.
    if (reply.theirs !== undefined) this.#mismatched(reply.theirs);
    // Tokens came back: a waiter sleeping until its tokens were due may go now.
    if (reply.movedUs < 0 && this.#isSleeping) {
      this.#isSleeping = false;
      this.#pump();
    }
    if (this.#state.mode === 'fallback') {
      const pending = this.#pendingAdjust;
      this.#pendingAdjust = 0;
      if (pending !== 0) this.#adjustLocal(pending);
    } else this.#sendAdjust();
  }

  #onAdjustFailure(n: number, error: Error): void {
    this.#isAdjusting = false;
    this.#failures++;
    this.#adjustFailures++;
    if (this.#state === CLOSED) return;
    this.#fallBack(error);
    const pending = this.#pendingAdjust;
    this.#pendingAdjust = 0;
    this.#adjustLocal(this.#clampAdjust(n + pending));
    this.#pump();
  }

  /** An adjustment for the insurance bucket (fallback): not replayed to Redis later. */
  #adjustLocal(n: number): void {
    try {
      this.#local.adjust(n);
    } catch (error) {
      this.#adjustFailures++;
      this.#warn('adjust-local', `clientpool: RedisTokenBucket(${this.key}): the insurance bucket's adjust(${n}) threw: ${errorText(error)}`, 'The adjustment was dropped; reported once per bucket.');
    }
  }

  /** Past ±(burst + the most debt) an adjustment changes nothing more; keeps a sum of many finite (and the text sent) finite. */
  #clampAdjust(n: number): number {
    return Math.max(-this.#adjustBound, Math.min(this.#adjustBound, n));
  }

  #warn(kind: string, message: string, detail: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    emitWarning(message, 'CLIENTPOOL_CALLBACK_ERROR', detail);
  }

  /**
   * A reply found `theirs` stored with the key: report it (event, count, one warning per configuration)
   * and, with `onMismatch: 'refuse'`, stop trusting the key. True when the bucket refuses now.
   */
  #mismatched(theirs: string): boolean {
    this.#mismatches++;
    // Bounded: a key written by many configurations must not grow the set without end.
    const isNew = !this.#warnedTheirs.has(theirs) && this.#warnedTheirs.size < MAX_WARNED_CONFIGURATIONS;
    // While two configurations alternate on the key most replies get here: no error is built for nobody.
    if (!isNew && !this.#isRefusing && !this.#mismatchEvents.hasListeners) return false;
    const error = new ConfigMismatchError(this.key, this.fingerprint, theirs);
    if (isNew) {
      this.#warnedTheirs.add(theirs);
      emitWarning(`clientpool: ${error.message}`, 'CLIENTPOOL_CONFIG_MISMATCH', 'Each process enforces its own settings on the shared key, so neither limit holds; reported once per other configuration.');
    }
    this.#mismatchEvents.emit(error);
    // A listener may have closed the bucket.
    if (!this.#isRefusing || this.#state === CLOSED) return false;
    const wasTrusted = this.#distrust === undefined;
    this.#distrust = error;
    this.#expiredTokens += this.#reserve;
    this.#reserve = 0;
    this.#isSleeping = false;
    this.#queue.close(error);
    if (wasTrusted) this.#scheduleTrustCheck();
    return true;
  }

  #scheduleTrustCheck(): void {
    this.#trustTimer = setTimeout(() => {
      this.#trustTimer = undefined;
      this.#checkTrust();
    }, this.#recheckInterval);
    this.#trustTimer.unref();
  }

  /** While refusing: a read-only script run; the key is trusted again when it holds no other configuration. */
  #checkTrust(): void {
    const request: ScriptRequest = { interval: this.#intervalUs, burst: this.burst, need: 0, demand: 0, extra: 0, keep: 0, fingerprint: this.fingerprint };
    void this.#roundTrip(() => runTokenBucketScript(this.#redis, this.key, request)).then(
      (reply) => {
        if (this.#state === CLOSED || this.#distrust === undefined) return;
        if (reply.theirs === undefined) this.#distrust = undefined;
        else {
          this.#mismatched(reply.theirs);
          if (this.#distrust !== undefined) this.#scheduleTrustCheck();
        }
      },
      () => {
        this.#failures++;
        if (this.#state !== CLOSED && this.#distrust !== undefined) this.#scheduleTrustCheck();
      },
    );
  }

  #onFailure(error: Error): void {
    this.#isBusy = false;
    this.#failures++;
    if (this.#state === CLOSED) return;
    this.#fallBack(error);
    this.#pump();
  }

  #fallBack(cause: Error): void {
    if (this.#state.mode !== 'redis') return;
    this.#state = { mode: 'fallback', since: this.#clock.now(), cause };
    this.#fallbackCount++;
    this.#scheduleProbe();
    this.#fallbacks.emit({ key: this.key, cause });
  }

  #scheduleProbe(): void {
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      this.#probe();
    }, this.#recheckInterval);
    // Probing alone must not keep the process alive.
    this.#probeTimer.unref();
  }

  /** A read-only script run: it proves both that Redis answers in time and that the script is loaded. */
  #probe(): void {
    const request: ScriptRequest = { interval: this.#intervalUs, burst: this.burst, need: 0, demand: 0, extra: 0, keep: 0, fingerprint: this.fingerprint };
    void this.#roundTrip(() => runTokenBucketScript(this.#redis, this.key, request)).then(
      (reply) => {
        const state = this.#state;
        if (state.mode !== 'fallback') return;
        this.#state = REDIS;
        this.#recoveries.emit({ key: this.key, downMs: this.#clock.now() - state.since });
        if (reply.theirs !== undefined) this.#mismatched(reply.theirs);
        this.#pump();
      },
      () => {
        this.#failures++;
        if (this.#state.mode === 'fallback') this.#scheduleProbe();
      },
    );
  }

  /** One script run raced against `timeout`. A late answer is ignored; a late failure is absorbed. */
  #roundTrip<R>(run: () => Promise<R>): Promise<R> {
    this.#roundTrips++;
    return new Promise<R>((resolve, reject) => {
      const sent = performance.now();
      const timer = setTimeout(() => {
        const fail = (): void => reject(new TimeoutError(this.#timeout, `redis ${this.key}`));
        // A timer that fires late means this process's event loop was stalled (GC, CPU), and after a
        // stall timers run before pending socket reads: let an answer that already arrived win (I/O comes
        // before setImmediate), so that a busy process does not mistake itself for a slow Redis.
        if (performance.now() - sent > this.#timeout + STALL_MS) setImmediate(fail);
        else fail();
      }, this.#timeout);
      void run().then(
        (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** Redis is unavailable: move the queue, in order, to the local bucket with what is left of each wait. */
  #handOver(): void {
    const now = this.#clock.now();
    this.#isSleeping = false;
    this.#queue.transfer((waiter) => this.#takeLocal(waiter.n, waiter.signal, Math.max(0, waiter.deadline - now)));
  }

  #takeLocal(n: number, signal: AbortSignal | undefined, maxWait: number): Promise<void> {
    // A cost above the insurance bucket: wait until it is full, take it all and owe the rest, so that
    // the local rate still holds over time.
    const first = Math.min(n, this.#local.burst);
    return this.#local.take(first, signal === undefined ? { maxWait } : { signal, maxWait }).then(() => {
      if (first < n) this.#adjustLocal(n - first);
      this.#localTokens += n;
    });
  }

  /** Add granted tokens to the reserve and serve the queue from it. */
  #refill(granted: number): void {
    const now = this.#clock.now();
    this.#expire(now);
    const older = this.#reserve;
    const olderUntil = this.#reserveUntil;
    this.#reserve += granted;
    this.#reserveUntil = now + this.#leaseTtl;
    const before = this.#reserve;
    this.#serveFromReserve();
    // Older tokens are served first. While some are left, the whole reserve keeps their deadline, so that
    // no token outlives leaseTtl.
    if (before - this.#reserve < older) this.#reserveUntil = olderUntil;
  }

  /** Serve the head of the queue while the reserve lasts (callers expire the reserve first). */
  #serveFromReserve(): void {
    const queue = this.#queue;
    for (let head = queue.head; head !== undefined && this.#reserve >= head.n; head = queue.head) {
      this.#reserve -= head.n;
      queue.serve(undefined);
    }
  }

  #takeReserve(n: number): boolean {
    if (this.#reserve < n) return false;
    this.#expire(this.#clock.now());
    if (this.#reserve < n) return false;
    this.#reserve -= n;
    return true;
  }

  #expire(now: number): void {
    if (this.#reserve > 0 && now >= this.#reserveUntil) {
      this.#expiredTokens += this.#reserve;
      this.#reserve = 0;
    }
  }
}

function errorText(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return '(unreadable error)';
  }
}

function mismatchPolicy(value: unknown): 'warn' | 'refuse' {
  if (value === undefined) return 'warn';
  if (value === 'warn' || value === 'refuse') return value;
  throw new InvalidOptionError('onMismatch', "'warn' or 'refuse'", value);
}

function clock(value: unknown): Clock {
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError('clock', 'an object with now()', value);
  callable('clock.now', (value as { now?: unknown }).now);
  return value as Clock;
}
