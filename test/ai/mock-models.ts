// Models for the tests, built on the AI SDK's own MockLanguageModelV4.
import { APICallError, type LanguageModelV4, type LanguageModelV4CallOptions, type LanguageModelV4StreamPart, type LanguageModelV4Usage } from '@ai-sdk/provider';
import { MockLanguageModelV4, convertArrayToReadableStream } from 'ai/test';
import { ClientPool, type PoolOptions } from '../../src/index.js';
import { isModelFailure } from '../../src/ai/index.js';

export const usage = (input: number, output: number): LanguageModelV4Usage => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

const STOP = { unified: 'stop', raw: 'stop' } as const;

/** An `APICallError` as a provider raises it for an HTTP status. */
export function apiError(statusCode: number, responseHeaders?: Record<string, string>): APICallError {
  return new APICallError({ message: `HTTP ${statusCode}`, url: 'https://api.example/v1/chat', requestBodyValues: {}, statusCode, ...(responseHeaders === undefined ? {} : { responseHeaders }) });
}

/** A model that answers `text` to every generate, and streams it in one delta. */
export function answering(text: string, tokens = usage(3, 5)): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    modelId: text,
    doGenerate: () => Promise.resolve({ content: [{ type: 'text', text }], finishReason: STOP, usage: tokens, warnings: [] }),
    doStream: () => Promise.resolve({ stream: convertArrayToReadableStream(textParts(text, tokens)) }),
  });
}

/** The parts of a stream that says `text` and finishes. */
export function textParts(text: string, tokens = usage(3, 5)): LanguageModelV4StreamPart[] {
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id: 't' },
    { type: 'text-delta', id: 't', delta: text },
    { type: 'text-end', id: 't' },
    { type: 'finish', usage: tokens, finishReason: STOP },
  ];
}

/** A model whose generate and stream both throw `error` (a stream that fails to open). */
export function throwing(error: unknown, modelId = 'throwing'): MockLanguageModelV4 {
  return new MockLanguageModelV4({ modelId, doGenerate: () => Promise.reject(error), doStream: () => Promise.reject(error) });
}

/**
 * A model whose stream sends `parts` (an `Error` in them makes the stream error there), then closes, or
 * with `isLeftOpen` stays open and silent; `cancelled` collects the reasons its streams were cancelled with.
 */
export function streaming(parts: readonly (LanguageModelV4StreamPart | Error)[], { isLeftOpen = false } = {}): MockLanguageModelV4 & { cancelled: unknown[] } {
  const cancelled: unknown[] = [];
  const model = new MockLanguageModelV4({
    modelId: 'streaming',
    doStream: () => {
      let i = 0;
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        pull(controller) {
          const part = parts[i++];
          if (part === undefined) {
            if (!isLeftOpen) controller.close();
            // Left open: pull is not called again until this promise settles, and it never does.
            else return new Promise<void>(() => {});
          }
          else if (part instanceof Error) controller.error(part);
          else controller.enqueue(part);
        },
        cancel(reason) {
          cancelled.push(reason);
        },
      });
      return Promise.resolve({ stream });
    },
  });
  return Object.assign(model, { cancelled });
}

/** A model whose stream and generate never answer until their abort signal aborts; `signals` collects them. */
export function hanging(modelId = 'hanging'): MockLanguageModelV4 & { signals: (AbortSignal | undefined)[] } {
  const signals: (AbortSignal | undefined)[] = [];
  const wait = (options: LanguageModelV4CallOptions): Promise<never> => {
    signals.push(options.abortSignal);
    return new Promise((_resolve, reject) => options.abortSignal?.addEventListener('abort', () => reject(options.abortSignal?.reason as Error), { once: true }));
  };
  return Object.assign(new MockLanguageModelV4({ modelId, doGenerate: wait, doStream: wait }), { signals });
}

/** A pool of `models` named m0, m1..., picked in that order, classified by `isModelFailure`, with `attempts` attempts. */
export function modelPool(models: readonly LanguageModelV4[], options: PoolOptions<LanguageModelV4> = {}): ClientPool<LanguageModelV4> {
  const pool = new ClientPool<LanguageModelV4>({ isFailure: isModelFailure, retry: { attempts: models.length, backoff: { initial: 0, max: 0 } }, ...options });
  models.forEach((model, i) => pool.add(model, { name: `m${i}` }));
  return pool;
}
