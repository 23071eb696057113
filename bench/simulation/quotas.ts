import { withGlobal } from '@sinonjs/fake-timers';
import { ClientPool, isClientPoolError, type PoolOptions, type Strategy } from '../../src/index.js';
import { LATENCY_SIGMA } from './backend.js';
import { exponential, logNormal, stream } from './rng.js';

/**
 * Issue 15's token-quota scenario: two API keys of 10 000 and 40 000 tokens a minute behind a fake
 * provider that meters each key as LLM providers do, and calls of random cost whose real usage is known
 * only from the answer. The real pool with and without per-key token limits, round-robin or
 * most-headroom, with and without `call.settle()`; same virtual clock and seeded streams as the fault
 * scenarios.
 */

/** The keys' quotas, tokens per minute. */
export const KEYS = [
  { name: 'key-a', tokensPerMinute: 10_000 },
  { name: 'key-b', tokensPerMinute: 40_000 },
] as const;
export const MINUTE_MS = 60_000;
/** A call reserves a cost drawn uniformly from this range of tokens (prompt + the most it may answer)... */
export const COST_RANGE = [200, 2_000] as const;
/** ...and really uses this share of it, uniformly. */
export const USAGE_RANGE = [0.4, 1] as const;
/** Median latency of an answer: an LLM answers in about a second (same log-normal shape as the fault scenarios). */
export const QUOTA_LATENCY_MEDIAN_MS = 1_000;
/** The offered loads: reserved tokens a minute as a multiple of the keys' total. */
export const LOADS = [0.5, 2] as const;
const TOTAL_PER_MINUTE = KEYS.reduce((sum, k) => sum + k.tokensPerMinute, 0);
const MEAN_COST = (COST_RANGE[0] + COST_RANGE[1]) / 2;

/** The provider's answer when a key is over its quota: HTTP 429 with `Retry-After`. */
export class ProviderRateLimitError extends Error {
  override readonly name = 'ProviderRateLimitError';
  readonly status = 429;
  constructor(
    readonly key: string,
    /** When the key is under its quota again, in ms (the header in whole seconds, rounded up). */
    readonly retryAfterMs: number,
  ) {
    super(`429 Too Many Requests: ${key} is over its tokens per minute; retry after ${retryAfterMs / 1_000} s`);
  }
}

/** An answer and what it really cost. */
export interface Completion {
  readonly usedTokens: number;
}

/**
 * One API key at the fake provider. The provider counts the tokens each answer really used, at the
 * moment it answers, in a sliding 60-s window; a request that arrives while the count is at or over the
 * quota gets a 429 whose `Retry-After` is when enough of the window will have expired. A request
 * admitted under the quota may take the count past it, as at real providers: that overshoot is what the
 * report calls "exceeded".
 */
export class ProviderKey {
  readonly name: string;
  readonly quota: number;
  /** Every charge: virtual time and tokens, in time order. */
  readonly charges: { readonly at: number; readonly tokens: number }[] = [];
  served = 0;
  rejected = 0;
  reservedTokens = 0;
  usedTokens = 0;
  readonly #random: () => number;
  readonly #now: () => number;

  constructor(name: string, quota: number, random: () => number, now: () => number) {
    this.name = name;
    this.quota = quota;
    this.#random = random;
    this.#now = now;
  }

  /** The provider's count for this key over the last minute. */
  windowCount(): number {
    const since = this.#now() - MINUTE_MS;
    let sum = 0;
    for (let i = this.charges.length - 1; i >= 0 && this.charges[i]!.at > since; i--) sum += this.charges[i]!.tokens;
    return sum;
  }

  /** A completion that reserved `maxTokens` and will use `usedTokens` of them. */
  complete(maxTokens: number, usedTokens: number, signal: AbortSignal): Promise<Completion> {
    const count = this.windowCount();
    if (count >= this.quota) {
      this.rejected++;
      return Promise.reject(new ProviderRateLimitError(this.name, this.#retryAfter(count)));
    }
    this.reservedTokens += maxTokens;
    const latency = Math.max(1, Math.round(logNormal(this.#random, QUOTA_LATENCY_MEDIAN_MS, LATENCY_SIGMA)));
    return new Promise<Completion>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        this.charges.push({ at: this.#now(), tokens: usedTokens });
        this.served++;
        this.usedTokens += usedTokens;
        resolve({ usedTokens });
      }, latency);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** ms until the count falls below the quota, in whole seconds as `Retry-After` gives it. */
  #retryAfter(count: number): number {
    const now = this.#now();
    let left = count;
    for (const charge of this.charges) {
      if (charge.at <= now - MINUTE_MS) continue;
      left -= charge.tokens;
      if (left < this.quota) return Math.max(1, Math.ceil((charge.at + MINUTE_MS - now) / 1_000)) * 1_000;
    }
    return 1_000;
  }

  /** The highest count over any 60-s window of the run. */
  peakWindow(): number {
    let peak = 0;
    let sum = 0;
    let first = 0;
    for (const charge of this.charges) {
      sum += charge.tokens;
      while (this.charges[first]!.at <= charge.at - MINUTE_MS) sum -= this.charges[first++]!.tokens;
      peak = Math.max(peak, sum);
    }
    return peak;
  }
}

/** A configuration of the token-quota scenario. */
export interface QuotaConfiguration {
  readonly id: string;
  readonly label: string;
  readonly strategy: Strategy<ProviderKey>;
  /** Each key's `limit: { tokens: { rate, per: 60_000, burst } }` as a share of its quota; none when absent. */
  readonly limitShare?: number;
  /** The calls settle their real usage with `call.settle({ tokens })`. */
  readonly settles: boolean;
}

export const QUOTA_CONFIGURATIONS: readonly QuotaConfiguration[] = [
  { id: 'none', label: 'no limits, round-robin', strategy: 'round-robin', settles: false },
  { id: 'rr', label: 'token limits, round-robin', strategy: 'round-robin', limitShare: 1, settles: false },
  { id: 'rr-settle', label: 'token limits, round-robin, settle()', strategy: 'round-robin', limitShare: 1, settles: true },
  { id: 'headroom', label: 'token limits, most-headroom', strategy: 'most-headroom', limitShare: 1, settles: false },
  { id: 'headroom-settle', label: 'token limits, most-headroom, settle()', strategy: 'most-headroom', limitShare: 1, settles: true },
  // The form docs/cost-quotas.md gives for staying under N in every 60-s window: rate and burst N / 2.
  { id: 'headroom-settle-half', label: 'token limits at N/2 (rate and burst), most-headroom, settle()', strategy: 'most-headroom', limitShare: 0.5, settles: true },
];

/** The pool options every configuration shares (plus `strategy`, `clock`, `random`). */
export const QUOTA_POOL_OPTIONS = {
  timeout: 30_000,
  // A 429 pauses its key (`call.pauseClient`) and fails the call; it is the quota's doing, not the key's health.
  isFailure: (error: unknown) => !(error instanceof ProviderRateLimitError),
} as const satisfies Omit<PoolOptions<ProviderKey>, 'clock' | 'random'>;

/** What one token-quota run measured; a pure function of the seed. */
export interface QuotaResult {
  readonly configuration: string;
  /** Offered load: reserved tokens a minute over the keys' total. */
  readonly load: number;
  readonly calls: number;
  readonly successes: number;
  /** Per key, in {@link KEYS} order. */
  readonly keys: readonly {
    readonly name: string;
    readonly served: number;
    /** 429s the provider answered. */
    readonly rejected: number;
    /** The provider's highest count over a 60-s window, over the quota. */
    readonly peakShare: number;
  }[];
  /** Calls the pool refused itself (`ERR_RATE_LIMITED`). */
  readonly refusedLocally: number;
  /** Failures by code, 429s (`ERR_CLIENT_CALL`) and local refusals included. */
  readonly errors: Readonly<Record<string, number>>;
  /** Tokens reserved by the requests the provider accepted, and what they really used. */
  readonly reservedTokens: number;
  readonly usedTokens: number;
  /** Tokens used per minute over the run, over the keys' total. */
  readonly utilisation: number;
  readonly hung: number;
}

const TO_FAKE = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] as const;
const DRAIN_MS = 60_000;

/** Run the token-quota scenario with one configuration at one load for `durationMs` of virtual time. */
export async function runQuotas(configuration: QuotaConfiguration, options: { readonly seed: number; readonly durationMs: number; readonly load: number }): Promise<QuotaResult> {
  const clock = withGlobal(globalThis).install({ now: 0, toFake: [...TO_FAKE] });
  try {
    return await drive(configuration, options, () => clock.now, (ms) => clock.tickAsync(ms));
  } finally {
    clock.uninstall();
  }
}

async function drive(
  configuration: QuotaConfiguration,
  { seed, durationMs, load }: { readonly seed: number; readonly durationMs: number; readonly load: number },
  now: () => number,
  tick: (ms: number) => Promise<unknown>,
): Promise<QuotaResult> {
  const keys = KEYS.map((k, i) => new ProviderKey(k.name, k.tokensPerMinute, stream(seed, `quota-latency:${i}`), now));
  const pool = new ClientPool<ProviderKey>({ ...QUOTA_POOL_OPTIONS, strategy: configuration.strategy, clock: { now }, random: stream(seed, 'pool') });
  for (const key of keys) {
    const share = configuration.limitShare;
    const tokens = share === undefined ? undefined : { rate: key.quota * share, per: MINUTE_MS, burst: key.quota * share };
    pool.add(key, { name: key.name, ...(tokens === undefined ? {} : { limit: { tokens } }) });
  }

  const errors: Record<string, number> = {};
  let calls = 0;
  let successes = 0;
  let pending = 0;
  // Each call's cost and real usage are drawn at its arrival, so every configuration sees the same calls.
  const costs = stream(seed, 'quota-cost');
  const start = (): void => {
    const maxTokens = Math.round(COST_RANGE[0] + costs() * (COST_RANGE[1] - COST_RANGE[0]));
    const usedTokens = Math.round(maxTokens * (USAGE_RANGE[0] + costs() * (USAGE_RANGE[1] - USAGE_RANGE[0])));
    calls++;
    pending++;
    pool
      .run(
        async (key, call) => {
          try {
            const answer = await key.complete(maxTokens, usedTokens, call.signal);
            if (configuration.settles) call.settle({ tokens: answer.usedTokens });
            return answer;
          } catch (error) {
            if (error instanceof ProviderRateLimitError) call.pauseClient(error.retryAfterMs);
            throw error;
          }
        },
        { method: 'chat', cost: { tokens: maxTokens } },
      )
      .then(
        () => {
          pending--;
          successes++;
        },
        (error: unknown) => {
          pending--;
          const code = isClientPoolError(error) ? error.code : 'non-clientpool error';
          errors[code] = (errors[code] ?? 0) + 1;
        },
      );
  };

  const arrivals = stream(seed, 'quota-arrivals');
  const meanGap = MINUTE_MS / ((load * TOTAL_PER_MINUTE) / MEAN_COST);
  let nextAt = exponential(arrivals, meanGap);
  const arrive = (): void => {
    while (nextAt <= now()) {
      start();
      nextAt += exponential(arrivals, meanGap);
    }
    if (nextAt < durationMs) setTimeout(arrive, Math.ceil(nextAt) - now());
  };
  setTimeout(arrive, Math.ceil(nextAt));

  while (now() < durationMs) await tick(1_000);
  const deadline = durationMs + DRAIN_MS;
  while (pending > 0 && now() < deadline) await tick(1_000);
  const hung = pending;
  if (hung === 0) await pool.close();

  const usedTokens = keys.reduce((sum, k) => sum + k.usedTokens, 0);
  return {
    configuration: configuration.id,
    load,
    calls,
    successes,
    keys: keys.map((k) => ({ name: k.name, served: k.served, rejected: k.rejected, peakShare: k.peakWindow() / k.quota })),
    refusedLocally: errors['ERR_RATE_LIMITED'] ?? 0,
    errors,
    reservedTokens: keys.reduce((sum, k) => sum + k.reservedTokens, 0),
    usedTokens,
    utilisation: usedTokens / ((durationMs / MINUTE_MS) * TOTAL_PER_MINUTE),
    hung,
  };
}
