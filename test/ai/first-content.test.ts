// poolModel's doStream through streamText: fallback only before the first content part, never after.
import { getEventListeners } from 'node:events';
import { APICallError, type LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { streamText, type TextStreamPart, type ToolSet } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it, vi } from 'vitest';
import { hasErrorCode } from '../../src/index.js';
import { poolModel, StreamEndedEarlyError, StreamErrorPartError, type UsageReport } from '../../src/ai/index.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';
import { deferred } from '../helpers/manual-clock.js';
import { settled } from './fake-timers.js';
import { answering, apiError, modelPool, streaming, textParts, throwing, usage } from './mock-models.js';

/** Every part of the stream, and what onError heard. */
async function read(result: ReturnType<typeof streamText>, errors: unknown[]): Promise<TextStreamPart<ToolSet>[]> {
  const parts: TextStreamPart<ToolSet>[] = [];
  for await (const part of result.stream) parts.push(part);
  expect(errors.length).toBeLessThanOrEqual(1);
  return parts;
}

function textOf(parts: readonly TextStreamPart<ToolSet>[]): string {
  return parts.map((p) => (p.type === 'text-delta' ? p.text : '')).join('');
}

function streamOf(model: ReturnType<typeof poolModel>, errors: unknown[]): ReturnType<typeof streamText> {
  return streamText({ model, prompt: 'hi', onError: ({ error }) => void errors.push(error) });
}

const START: LanguageModelV4StreamPart = { type: 'stream-start', warnings: [] };

describe('poolModel: streamText falls back before the first content part', () => {
  it('when the first model fails to open its stream (a 503)', async () => {
    const broken = throwing(apiError(503));
    const pool = modelPool([broken, answering('from m1')]);
    const errors: unknown[] = [];
    const parts = await read(streamOf(poolModel(pool), errors), errors);
    expect(textOf(parts)).toBe('from m1');
    expect(errors).toEqual([]);
    expect(pool.members().map((m) => m.failures)).toEqual([1, 0]);
    await pool.close();
  });

  it('when the first model sends an error part after stream-start and text-start: none of its parts reach the caller, and its stream is cancelled', async () => {
    const failing = streaming([START, { type: 'response-metadata', modelId: 'first' }, { type: 'text-start', id: 'x' }, { type: 'error', error: apiError(500) }], { isLeftOpen: true });
    const pool = modelPool([failing, answering('from m1')]);
    const errors: unknown[] = [];
    const result = streamOf(poolModel(pool), errors);
    const parts = await read(result, errors);
    expect(textOf(parts)).toBe('from m1');
    expect(parts.filter((p) => p.type === 'text-start')).toHaveLength(1);
    expect((await result.finalStep).response.modelId).toBe('from m1');
    expect(failing.cancelled).toHaveLength(1);
    expect(errors).toEqual([]);
    await pool.close();
  });

  it('when the first stream errors (a failed read) before any content', async () => {
    const pool = modelPool([streaming([START, new TypeError('socket hang up')]), answering('from m1')]);
    const errors: unknown[] = [];
    expect(textOf(await read(streamOf(poolModel(pool), errors), errors))).toBe('from m1');
    expect(pool.members().map((m) => m.failures)).toEqual([1, 0]);
    await pool.close();
  });

  it('when the first stream ends before any content and without finish: StreamEndedEarlyError, a failure of that model', async () => {
    const seen: unknown[] = [];
    const pool = modelPool([streaming([START, { type: 'text-start', id: 'x' }]), answering('from m1')], {
      middleware: [{ name: 'spy', onOutcome: (_call, outcome) => {
          if (outcome.kind === 'failure') seen.push(outcome.error);
        } }],
    });
    const errors: unknown[] = [];
    expect(textOf(await read(streamOf(poolModel(pool), errors), errors))).toBe('from m1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(StreamEndedEarlyError);
    expect(seen[0]).toMatchObject({ code: 'ERR_AI_STREAM_ENDED_EARLY', clientName: 'm0' });
    await pool.close();
  });

  it('an error part that is not an Error becomes StreamErrorPartError with it as the cause', async () => {
    const providerError = { message: 'overloaded', type: 'server_error' };
    const pool = modelPool([streaming([START, { type: 'error', error: providerError }])]);
    const errors: unknown[] = [];
    await read(streamOf(poolModel(pool), errors), errors);
    expect(errors[0]).toBeInstanceOf(StreamErrorPartError);
    expect(hasErrorCode(errors[0], 'ERR_AI_STREAM_ERROR_PART' as never)).toBe(true);
    expect((errors[0] as StreamErrorPartError).cause).toBe(providerError);
    await pool.close();
  });

  it('an empty answer (finish with no content) is an answer: passed on, no other model called', async () => {
    const other = answering('never');
    const pool = modelPool([streaming([START, { type: 'finish', usage: usage(1, 0), finishReason: { unified: 'stop', raw: 'stop' } }]), other]);
    const errors: unknown[] = [];
    const result = streamOf(poolModel(pool), errors);
    expect(textOf(await read(result, errors))).toBe('');
    expect(await result.finishReason).toBe('stop');
    expect(other.doStreamCalls).toHaveLength(0);
    await pool.close();
  });

  it('a 400 at open reaches the caller as the APICallError, unretried', async () => {
    const other = answering('never');
    const pool = modelPool([throwing(apiError(400)), other]);
    const errors: unknown[] = [];
    await read(streamOf(poolModel(pool), errors), errors);
    expect(APICallError.isInstance(errors[0])).toBe(true);
    expect(other.doStreamCalls).toHaveLength(0);
    await pool.close();
  });
});

describe('poolModel: streamText never falls back after the first content part', () => {
  it('the caller sees the partial text and the error, and no other model is called', async () => {
    const midway = new Error('connection reset mid-stream');
    const failing = streaming([START, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'Hello, ' }, midway]);
    const other = answering('never');
    const pool = modelPool([failing, other]);
    const errors: unknown[] = [];
    const parts = await read(streamOf(poolModel(pool), errors), errors);
    expect(textOf(parts)).toBe('Hello, ');
    expect(parts.filter((p) => p.type === 'error').map((p) => (p as { error: unknown }).error)).toEqual([midway]);
    expect(errors).toEqual([midway]);
    expect(other.doStreamCalls).toHaveLength(0);
    await pool.close();
  });

  it('an error part after the first content part is passed on as it is, the stream going on as the model sends it', async () => {
    const failing = streaming([START, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'Hi' }, { type: 'error', error: 'late' }]);
    const other = answering('never');
    const pool = modelPool([failing, other]);
    const errors: unknown[] = [];
    const parts = await read(streamOf(poolModel(pool), errors), errors);
    expect(textOf(parts)).toBe('Hi');
    expect(errors).toEqual(['late']);
    expect(other.doStreamCalls).toHaveLength(0);
    await pool.close();
  });

  it('the caller abort after the first content part reaches the model', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const model = new MockLanguageModelV4({
      doStream: (options) => {
        signals.push(options.abortSignal);
        const stream = new ReadableStream<LanguageModelV4StreamPart>({
          start(controller) {
            for (const part of textParts('first').slice(0, 3)) controller.enqueue(part);
            options.abortSignal?.addEventListener('abort', () => controller.error(options.abortSignal?.reason), { once: true });
          },
        });
        return Promise.resolve({ stream });
      },
    });
    const pool = modelPool([model]);
    const controller = new AbortController();
    const result = streamText({ model: poolModel(pool), prompt: 'hi', abortSignal: controller.signal, onError: () => {} });
    const seen: string[] = [];
    for await (const text of result.textStream) {
      seen.push(text);
      controller.abort(new Error('user left'));
    }
    expect(seen).toEqual(['first']);
    expect(signals[0]?.aborted).toBe(true);
    await pool.close();
  });
});

describe('poolModel: the caller signal', () => {
  it('keeps no listener on a long-lived caller signal once a stream has ended, failed over, or been cancelled', async () => {
    const shutdown = new AbortController();
    const pool = modelPool([throwing(apiError(503)), answering('a'), answering('b')], { retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    const model = poolModel(pool);
    // Through doStream itself: the SDK's own listeners are not the model's to remove.
    const read = await model.doStream({ prompt: [], abortSignal: shutdown.signal });
    const reader = read.stream.getReader();
    while (!(await reader.read()).done);
    const cancelled = await model.doStream({ prompt: [], abortSignal: shutdown.signal });
    await cancelled.stream.cancel();
    // The pool's own watch of a caller signal goes once the event loop turns with no call on it.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
    await pool.close();
  });
});

describe('poolModel: stream usage and naming', () => {
  it('reports usage when the finish part passes, once, with kind stream; none for a stream that failed after content', async () => {
    const reports: UsageReport[] = [];
    const pool = modelPool([answering('a', usage(4, 2)), streaming([START, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'x' }, new Error('cut')])]);
    const model = poolModel(pool, { onUsage: (report) => reports.push(report) });
    for (let i = 0; i < 2; i++) {
      const errors: unknown[] = [];
      await read(streamOf(model, errors), errors);
    }
    expect(reports.map((r) => [r.clientName, r.kind, r.usage.inputTokens.total, r.usage.outputTokens.total])).toEqual([['m0', 'stream', 4, 2]]);
    await pool.close();
  });

  it('names the served model in response.modelId, after the model own stream-start', async () => {
    const pool = modelPool([answering('served')]);
    const result = streamOf(poolModel(pool), []);
    await read(result, []);
    expect((await result.finalStep).response.modelId).toBe('served');
    await pool.close();
  });
});

describe('poolModel: stream timing', () => {
  useFakeTime();

  it('the pool timeout bounds the time to first content: a silent model is cancelled and the stream opens on the next', async () => {
    const silent = streaming([START], { isLeftOpen: true });
    const pool = modelPool([silent, answering('from m1')], { clock: dateClock, timeout: 5_000 });
    const errors: unknown[] = [];
    const parts = read(streamOf(poolModel(pool), errors), errors);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(textOf(await settled(parts))).toBe('from m1');
    expect(silent.cancelled).toHaveLength(1);
    expect(pool.members()[0]).toMatchObject({ failures: 1 });
    await pool.close();
  });

  it('a hedged stream: a model slow to its first content part is outrun by the hedge, and its stream cancelled', async () => {
    const slow = streaming([START], { isLeftOpen: true });
    const pool = modelPool([slow, answering('from m1')], { clock: dateClock, hedge: { delay: 100 } });
    const errors: unknown[] = [];
    const parts = read(streamOf(poolModel(pool), errors), errors);
    await vi.advanceTimersByTimeAsync(100);
    expect(textOf(await settled(parts))).toBe('from m1');
    expect(slow.cancelled).toHaveLength(1);
    expect(errors).toEqual([]);
    await pool.close();
  });

  it('a hedged stream whose two attempts reach content at once: one stream reaches the caller, the other is cancelled', async () => {
    const gate = deferred();
    const cancelled: string[] = [];
    const gated = (name: string): MockLanguageModelV4 =>
      new MockLanguageModelV4({
        modelId: name,
        doStream: () => {
          const stream = new ReadableStream<LanguageModelV4StreamPart>({
            async start(controller) {
              controller.enqueue(START);
              await gate.promise;
              for (const part of textParts(name).slice(1)) controller.enqueue(part);
              controller.close();
            },
            cancel: () => void cancelled.push(name),
          });
          return Promise.resolve({ stream });
        },
      });
    const pool = modelPool([gated('m0'), gated('m1')], { clock: dateClock, hedge: { delay: 10 } });
    const errors: unknown[] = [];
    const parts = read(streamOf(poolModel(pool), errors), errors);
    await vi.advanceTimersByTimeAsync(10);
    gate.resolve();
    const text = textOf(await settled(parts));
    expect(['m0', 'm1']).toContain(text);
    expect(cancelled).toEqual([text === 'm0' ? 'm1' : 'm0']);
    await pool.close();
  });

  it('a 429 when opening the stream pauses that model for its retry-after', async () => {
    const limited = answering('m0');
    limited.doStream = vi.fn(limited.doStream).mockRejectedValueOnce(apiError(429, { 'retry-after': '10' }));
    const pool = modelPool([limited, answering('m1')], { clock: dateClock });
    const model = poolModel(pool);
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      texts.push(textOf(await settled(read(streamOf(model, []), []))));
    }
    expect(texts).toEqual(['m1', 'm1', 'm1']);
    await vi.advanceTimersByTimeAsync(10_000);
    const after: string[] = [];
    for (let i = 0; i < 2; i++) after.push(textOf(await read(streamOf(model, []), [])));
    expect(after).toContain('m0');
    await pool.close();
  });
});
