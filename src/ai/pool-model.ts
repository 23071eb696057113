import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4GenerateResult, LanguageModelV4StreamPart, LanguageModelV4StreamResult, LanguageModelV4Usage } from '@ai-sdk/provider';
import type { Call, RunOptions } from '../call.js';
import { CallbackError, hasErrorCode, InvalidOptionError } from '../errors.js';
import type { ClientPool } from '../pool.js';
import { streamSignal } from '../util/follow-signal.js';
import { isModelFailure } from './classify.js';
import { passOn, readToFirstContent, type OpenedStream } from './first-content.js';
import { resolvePoolModelOptions, type PoolModelOptions, type ResolvedPoolModelOptions } from './options.js';
import { rateLimitPauseMs } from './retry-after.js';
import { settleUsage } from './usage.js';

/** What an attempt that won returns: its value, and the model of the pool that made it. */
interface Served<M, V> {
  readonly value: V;
  readonly client: M;
  readonly clientName: string;
}

/**
 * An AI SDK language model (specification `v4`, as `ai` 7 takes) over a pool of language models:
 * providers, or API keys of one. Give it to `generateText`, `streamText`, `generateObject`, agents.
 *
 * - `doGenerate` is one `pool.run()` (label `generate`): the pool picks a model, retries a failure on
 *   another per its `retry` options, and `call.signal` (the caller's abort, the pool's timeout, a lost
 *   hedge) is the model's `abortSignal`.
 * - `doStream` is one `pool.run()` (label `stream`) that lasts until the stream's first content part:
 *   a stream that fails to open, errors or ends before it is opened on another model; after it, nothing
 *   fails over, and a failure reaches the caller as an `error` part. The pool's `timeout` bounds the
 *   time to first content; the caller's `abortSignal` bounds the whole stream.
 * - A 429 pauses that model for its `retry-after-ms` / `retry-after` (`call.pauseClient`) and counts as
 *   its failure; create the pool with `isFailure: isModelFailure` so that a 4xx answer (invalid prompt,
 *   content filter) is neither counted nor retried.
 *
 * Errors: an answer (an error `isModelFailure` does not count, such as a 400 `APICallError`) is thrown as
 * the model threw it; anything else as the pool's error (`ClientCallError` with the last model's error
 * as `cause`, `AllCircuitsOpenError`, `TimeoutError`, `AbortedError`, `RateLimitedError`...) or as this
 * adapter's (`StreamEndedEarlyError`, `StreamErrorPartError`), which the SDK does not retry on top of
 * the pool.
 *
 * @throws InvalidOptionError when `pool` is not a pool or an option is invalid.
 * @example
 * const pool = new ClientPool<LanguageModelV4>({ isFailure: isModelFailure, retry: { attempts: 3 } });
 * pool.add(openai('gpt-5-mini'), { name: 'openai' });
 * pool.add(anthropic('claude-haiku-4-5'), { name: 'anthropic' });
 * const { text } = await generateText({ model: poolModel(pool), prompt: 'Hello' });
 */
export function poolModel<M extends LanguageModelV4>(pool: ClientPool<M>, options?: PoolModelOptions<M>): PooledLanguageModel<M> {
  return new PooledLanguageModel(pool, options);
}

/** The model {@link poolModel} returns. */
export class PooledLanguageModel<M extends LanguageModelV4 = LanguageModelV4> implements LanguageModelV4 {
  readonly specificationVersion = 'v4';
  /** `options.provider`: `'clientpool'` by default. The model that served a call is in `response.modelId`. */
  readonly provider: string;
  /** `options.modelId`: `'pool'` by default. */
  readonly modelId: string;
  readonly supportedUrls: Record<string, RegExp[]>;
  /** Generate through the pool. Bound: it may be called detached from the model. */
  readonly doGenerate: (options: LanguageModelV4CallOptions) => Promise<LanguageModelV4GenerateResult>;
  /** Stream through the pool. Bound: it may be called detached from the model. */
  readonly doStream: (options: LanguageModelV4CallOptions) => Promise<LanguageModelV4StreamResult>;

  constructor(pool: ClientPool<M>, options?: PoolModelOptions<M>) {
    if (typeof pool !== 'object' || pool === null || typeof (pool as { run?: unknown }).run !== 'function') throw new InvalidOptionError('pool', 'a ClientPool', pool);
    const resolved = resolvePoolModelOptions(options);
    this.provider = resolved.provider;
    this.modelId = resolved.modelId;
    this.supportedUrls = { ...resolved.supportedUrls };
    const generateRun: RunOptions<M> = Object.freeze({ ...resolved.run, method: resolved.generateLabel });
    const streamRun: RunOptions<M> = Object.freeze({ ...resolved.run, method: resolved.streamLabel });
    this.doGenerate = (callOptions) => generate(pool, resolved, runOptionsOf(generateRun, callOptions, resolved), callOptions);
    this.doStream = (callOptions) => stream(pool, resolved, runOptionsOf(streamRun, callOptions, resolved), callOptions);
  }
}

async function generate<M extends LanguageModelV4>(pool: ClientPool<M>, options: ResolvedPoolModelOptions<M>, runOptions: () => RunOptions<M>, callOptions: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
  const run = runOptions();
  let served: Served<M, LanguageModelV4GenerateResult>;
  try {
    served = await pool.run(async (model, call): Promise<Served<M, LanguageModelV4GenerateResult>> => {
      try {
        const value: unknown = await model.doGenerate({ ...callOptions, abortSignal: call.signal });
        // A model that breaks its contract fails its attempt (and the pool may try another), not the caller later.
        if (typeof value !== 'object' || value === null) throw new CallbackError(`doGenerate of model ${call.clientName}`, `resolved with ${value === null ? 'null' : typeof value}, not a result`);
        settleUsage(call, (value as LanguageModelV4GenerateResult).usage);
        return { value: value as LanguageModelV4GenerateResult, client: model, clientName: call.clientName };
      } catch (error) {
        pauseIfRateLimited(error, call, options.rateLimitPause);
        throw error;
      }
    }, run);
  } catch (error) {
    throw callerError(error);
  }
  const { value, client, clientName } = served;
  options.reportUsage({ client, clientName, kind: 'generate', usage: value.usage });
  // Name the model that served, unless its provider did.
  return value.response?.modelId !== undefined ? value : { ...value, response: { ...value.response, modelId: modelIdOf(client, clientName) } };
}

async function stream<M extends LanguageModelV4>(pool: ClientPool<M>, options: ResolvedPoolModelOptions<M>, runOptions: () => RunOptions<M>, callOptions: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
  const run = runOptions();
  const callerSignal = callOptions.abortSignal;
  const opened = new OpenedStreams();
  let served: Served<M, Opened>;
  try {
    served = await pool.run(async (model, call): Promise<Served<M, Opened>> => {
      // After the pool's call is won, `call.signal` never aborts: the caller's signal must reach the model
      // for the rest of the stream. Not `AbortSignal.any`, which on Node 20 keeps every signal made from a
      // long-lived source (a server's shutdown signal) alive; and one listener on it for all streams.
      const either = callerSignal === undefined ? undefined : streamSignal(call.signal, callerSignal);
      try {
        const result: unknown = await model.doStream({ ...callOptions, abortSignal: either?.signal ?? call.signal });
        // A model that breaks its contract fails its attempt (the pool may try another), as for doGenerate.
        if (!isStreamResult(result)) throw new CallbackError(`doStream of model ${call.clientName}`, 'resolved with no ReadableStream as its stream');
        const value = opened.add({ stream: await readToFirstContent(result, call.signal, call.clientName), release: either?.release ?? noop, call });
        return { value, client: model, clientName: call.clientName };
      } catch (error) {
        either?.release();
        pauseIfRateLimited(error, call, options.rateLimitPause);
        throw error;
      }
    }, run);
  } catch (error) {
    opened.keepOnly(undefined);
    throw callerError(error);
  }
  const { value, client, clientName } = served;
  opened.keepOnly(value);
  nameServingModel(value.stream.head, modelIdOf(client, clientName));
  const onPart = (part: LanguageModelV4StreamPart): void => {
    if (part.type !== 'finish') return;
    let usage: LanguageModelV4Usage;
    try {
      usage = part.usage;
    } catch {
      // A finish part whose usage cannot be read: nothing to settle or report; the stream ends as sent.
      return;
    }
    settleUsage(value.call, usage);
    options.reportUsage({ client, clientName, kind: 'stream', usage });
  };
  return { ...value.stream.result, stream: passOn(value.stream, onPart, value.release) };
}

/** Whether a `doStream` result carries a `ReadableStream` (read safely: a getter may throw). */
function isStreamResult(value: unknown): value is LanguageModelV4StreamResult {
  try {
    return typeof value === 'object' && value !== null && (value as { stream?: unknown }).stream instanceof ReadableStream;
  } catch {
    return false;
  }
}

/** A stream read to its first content part, and the release of its abort signal's listeners. */
interface Opened {
  readonly stream: OpenedStream;
  readonly release: () => void;
  /** The attempt that opened it: its usage is settled on it when the stream finishes. */
  readonly call: Call<unknown>;
}

const noop = (): void => {};

/**
 * Streams of attempts that reached their first content: once the call is settled, all but the winner's
 * are cancelled, those of attempts that resolved too late for the pool (a hedge outrun by a hair, a
 * timeout) included, so no model is left streaming to nobody.
 */
class OpenedStreams {
  readonly #streams: Opened[] = [];
  #isSettled = false;

  add(opened: Opened): Opened {
    if (this.#isSettled) cancel(opened);
    else this.#streams.push(opened);
    return opened;
  }

  keepOnly(winner: Opened | undefined): void {
    this.#isSettled = true;
    for (const opened of this.#streams) if (opened !== winner) cancel(opened);
    this.#streams.length = 0;
  }
}

function cancel(opened: Opened): void {
  opened.release();
  opened.stream.reader.cancel().catch(() => {});
}

/** Tell the SDK which model served, after `stream-start`, unless the model's own metadata did. */
function nameServingModel(head: LanguageModelV4StreamPart[], modelId: string): void {
  if (head.some((part) => part.type === 'response-metadata' && part.modelId !== undefined)) return;
  const at = head[0]?.type === 'stream-start' ? 1 : 0;
  head.splice(at, 0, { type: 'response-metadata', modelId });
}

/** A model's `modelId`, or its name in the pool when that cannot be read (a getter that throws, not a string). */
function modelIdOf(model: LanguageModelV4, clientName: string): string {
  try {
    const id: unknown = model.modelId;
    return typeof id === 'string' ? id : clientName;
  } catch {
    return clientName;
  }
}

/**
 * A call's run options, made when the call starts: the model's own, with the caller's signal and the
 * cost the call reserves. An estimate that throws rejects the call before any model is asked.
 */
function runOptionsOf<M extends LanguageModelV4>(run: RunOptions<M>, callOptions: LanguageModelV4CallOptions, options: ResolvedPoolModelOptions<M>): () => RunOptions<M> {
  return () => {
    const signal = callOptions.abortSignal;
    const cost = options.costOf(callOptions);
    if (signal === undefined && cost === undefined) return run;
    return { ...run, ...(signal === undefined ? {} : { signal }), ...(cost === undefined ? {} : { cost }) };
  };
}

/** A 429 pauses the model that answered it: its key is out of quota for a while, the others are not. */
function pauseIfRateLimited(error: unknown, call: Call<unknown>, fallbackMs: number): void {
  const ms = rateLimitPauseMs(error, fallbackMs);
  if (ms !== undefined && ms > 0) call.pauseClient(ms);
}

/**
 * What the caller gets for a failed call: the model's own error when it was an answer (a 400: the SDK's
 * error types and fields, and the SDK does not retry it), the pool's error otherwise.
 */
function callerError(error: unknown): unknown {
  return hasErrorCode(error, 'ERR_CLIENT_CALL') && !isModelFailure(error.cause) ? error.cause : error;
}
