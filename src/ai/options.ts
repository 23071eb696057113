import type { LanguageModelV4, LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { costOption, type Cost } from '../limit/cost.js';
import { validateStrategy } from '../balancers/strategies.js';
import { hedgePolicy } from '../resilience/hedge-policy.js';
import { retryPolicy } from '../resilience/retry-policy.js';
import type { RunOptions } from '../call.js';
import { CallbackError, InvalidOptionError } from '../errors.js';
import { callable, duration, keySet, knownKeys, nonEmptyString, optionsObject, positiveDuration, unreadableOptions } from '../validate.js';
import { guardedUsageListener, type UsageListener, type UsageReport } from './usage.js';

/** Run options given to every call of a pooled model; `method` and `signal` are the model's own. */
export type PoolModelRunOptions<M> = Pick<RunOptions<M>, 'timeout' | 'deadline' | 'retry' | 'hedge' | 'key' | 'maxWait' | 'traceId' | 'strategy'>;

/** Options of {@link poolModel}. */
export interface PoolModelOptions<M extends LanguageModelV4 = LanguageModelV4> {
  /**
   * The pooled model's `provider`, which the AI SDK puts in telemetry spans and `response` metadata.
   * The model that served a call is named by `response.modelId` (filled from its `modelId` when its
   * provider sends none) and by `onUsage`'s `clientName`.
   * @default 'clientpool'
   */
  readonly provider?: string;
  /** The pooled model's `modelId`: one name for the whole pool, say `'chat'`. @default 'pool' */
  readonly modelId?: string;
  /**
   * URLs the pooled model takes as they are, by media type (`{ 'image/*': [/^https:\/\//] }`); the AI SDK
   * downloads any other URL in a prompt and passes the bytes. Give only patterns every model of the pool
   * supports.
   * @default {} (the SDK downloads every URL)
   */
  readonly supportedUrls?: Readonly<Record<string, RegExp[]>>;
  /**
   * The `method` labels of the pool's calls, for metrics, traces, and per-method options (the pool's
   * `methods: { generate: { timeout: 60_000 } }`). Non-empty strings.
   * @default { generate: 'generate', stream: 'stream' }
   */
  readonly labels?: { readonly generate?: string; readonly stream?: string };
  /** Run options for every call (timeout, deadline, retry, hedge, key, maxWait, traceId, strategy). @default none */
  readonly run?: PoolModelRunOptions<M>;
  /**
   * Milliseconds to pause a model that answered HTTP 429 without a `retry-after-ms` or `retry-after`
   * header (with one, the header decides). 0: no pause without a header. A duration in ms from 0 to
   * 2^31-1.
   * @default 1_000
   */
  readonly rateLimitPause?: number;
  /**
   * Told each call's token usage once its model reported it: after `doGenerate` resolved, or when a
   * stream's `finish` part passed (a stream that fails or is cancelled before it reports none). A throw
   * or rejection is reported as a `CLIENTPOOL_CALLBACK_ERROR` process warning, never fails the call.
   * @default none
   */
  readonly onUsage?: UsageListener<M>;
  /**
   * What each call reserves of the pool's limits (docs/cost-quotas.md): a `Cost` such as `{ tokens:
   * 2_000 }`, or a function of the call's options that estimates it (`(o) => ({ tokens:
   * (o.maxOutputTokens ?? 1_000) + 500 })`). Whatever it reserved, the call settles its real usage once
   * the model reports it (`call.settle()`): `tokens` (input + output), `inputTokens` and `outputTokens`,
   * so a pool whose models carry `limit: { tokens: { rate: 40_000, per: 60_000 } }` counts what each key
   * really spent. A function that throws, or an invalid cost, fails the call with `CallbackError` /
   * `InvalidOptionError` before any model is called.
   * @default none: nothing is reserved beyond one request; usage is still settled (charged) when reported
   */
  readonly cost?: Cost | ((callOptions: LanguageModelV4CallOptions) => Cost);
}

/** {@link PoolModelOptions}, validated, with defaults. */
export interface ResolvedPoolModelOptions<M extends LanguageModelV4> {
  readonly provider: string;
  readonly modelId: string;
  readonly supportedUrls: Readonly<Record<string, RegExp[]>>;
  readonly generateLabel: string;
  readonly streamLabel: string;
  readonly run: PoolModelRunOptions<M> | undefined;
  readonly rateLimitPause: number;
  readonly reportUsage: (report: UsageReport<M>) => void;
  /** The cost a call reserves, or `undefined` for none. @throws CallbackError, InvalidOptionError */
  readonly costOf: (callOptions: LanguageModelV4CallOptions) => Cost | undefined;
}

const KEYS = keySet(['provider', 'modelId', 'supportedUrls', 'labels', 'run', 'rateLimitPause', 'onUsage', 'cost']);
const LABEL_KEYS = keySet(['generate', 'stream']);
const RUN_KEYS = keySet(['timeout', 'deadline', 'retry', 'hedge', 'key', 'maxWait', 'traceId', 'strategy']);

/**
 * Validate {@link PoolModelOptions} once, at `poolModel()`.
 * @throws InvalidOptionError naming the option and the bad value; a getter or Proxy that throws is the `cause`.
 */
export function resolvePoolModelOptions<M extends LanguageModelV4>(options: PoolModelOptions<M> | undefined): ResolvedPoolModelOptions<M> {
  optionsObject('options', options);
  if (options === undefined) return resolve({});
  try {
    knownKeys('options', options, KEYS);
    return resolve(options);
  } catch (error) {
    throw unreadableOptions('options', options, error);
  }
}

function resolve<M extends LanguageModelV4>(options: PoolModelOptions<M>): ResolvedPoolModelOptions<M> {
  const { labels, run, supportedUrls } = options;
  optionsObject('labels', labels);
  if (labels !== undefined) knownKeys('labels', labels, LABEL_KEYS);
  return {
    provider: options.provider === undefined ? 'clientpool' : nonEmptyString('provider', options.provider),
    modelId: options.modelId === undefined ? 'pool' : nonEmptyString('modelId', options.modelId),
    supportedUrls: supportedUrls === undefined ? {} : urlPatterns(supportedUrls),
    generateLabel: labels?.generate === undefined ? 'generate' : nonEmptyString('labels.generate', labels.generate),
    streamLabel: labels?.stream === undefined ? 'stream' : nonEmptyString('labels.stream', labels.stream),
    run: run === undefined ? undefined : runOptions(run),
    rateLimitPause: options.rateLimitPause === undefined ? 1_000 : duration('rateLimitPause', options.rateLimitPause),
    reportUsage: guardedUsageListener(options.onUsage === undefined ? undefined : callable<UsageListener<M>>('onUsage', options.onUsage)),
    costOf: costEstimate(options.cost),
  };
}

/** The `cost` option: a fixed cost validated now, or a function whose answer is validated per call. */
function costEstimate(option: unknown): (callOptions: LanguageModelV4CallOptions) => Cost | undefined {
  if (option === undefined) return () => undefined;
  if (typeof option !== 'function') {
    const cost = costOption('cost', option);
    return () => cost;
  }
  const estimate = option as (callOptions: LanguageModelV4CallOptions) => unknown;
  return (callOptions) => {
    let cost: unknown;
    try {
      cost = estimate(callOptions);
    } catch (error) {
      throw new CallbackError('the cost option', 'threw', error);
    }
    return costOption('cost', cost);
  };
}

/**
 * The run options: known keys, and the plain values checked now so that a typo fails at `poolModel()`,
 * not at the first call, the policies (`retry`, `hedge`, `strategy`) included.
 */
function runOptions<M>(run: PoolModelRunOptions<M>): PoolModelRunOptions<M> {
  optionsObject('run', run);
  knownKeys('run', run, RUN_KEYS);
  if (run.timeout !== undefined) positiveDuration('run.timeout', run.timeout);
  if (run.deadline !== undefined) positiveDuration('run.deadline', run.deadline);
  if (run.maxWait !== undefined) duration('run.maxWait', run.maxWait);
  if (run.key !== undefined && typeof run.key !== 'string') throw new InvalidOptionError('run.key', 'a string', run.key);
  if (run.traceId !== undefined) nonEmptyString('run.traceId', run.traceId);
  // The policies too, now and by their name here: a typo must fail at poolModel(), not at the first call.
  if (run.retry !== undefined && run.retry !== false) retryPolicy(run.retry, 'run.retry');
  if (run.hedge !== undefined && run.hedge !== false) hedgePolicy(run.hedge, 'run.hedge');
  if (run.strategy !== undefined) validateStrategy('run.strategy', run.strategy);
  // A copy: the options are read once, later edits of the caller's object change nothing.
  return { ...run };
}

function urlPatterns(value: unknown): Readonly<Record<string, RegExp[]>> {
  optionsObject('supportedUrls', value);
  const copy: Record<string, RegExp[]> = {};
  for (const [mediaType, patterns] of Object.entries(value as object)) {
    if (!Array.isArray(patterns) || !patterns.every((p) => p instanceof RegExp)) throw new InvalidOptionError(`supportedUrls.${mediaType}`, 'an array of RegExp', patterns);
    copy[mediaType] = [...patterns] as RegExp[];
  }
  return copy;
}
