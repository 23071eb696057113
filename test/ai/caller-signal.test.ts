// One long-lived caller signal (a server's shutdown signal) shared by every call of a pooled model.
import { getEventListeners } from 'node:events';
import type { LanguageModelV4, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { generateText, streamText } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { poolModel, type PooledLanguageModel } from '../../src/ai/index.js';
import { streamSignal } from '../../src/util/follow-signal.js';
import { deferred } from '../helpers/manual-clock.js';
import { answering, modelPool, textParts, usage } from './mock-models.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

/** Let the event loop turn: the pool drops its watch of a caller signal once no call of it is in flight. */
const afterIO = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Process warnings seen by name (a `MaxListenersExceededWarning` is emitted, not thrown). */
let warnings: string[] = [];
const onWarning = (warning: Error): void => void warnings.push(warning.name);
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

/** A server's shutdown signal, with the server's own listener on it. */
function shutdownSignal(): AbortController {
  const controller = new AbortController();
  controller.signal.addEventListener('abort', () => {});
  return controller;
}

/** A model whose calls all wait for `gate`: a generate answers then; a stream sends its text at once and finishes then. */
function gated(gate: Promise<void>): MockLanguageModelV4 & { signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  const [start, textStart, delta, textEnd, finish] = textParts('x');
  const model = new MockLanguageModelV4({
    doGenerate: async () => {
      await gate;
      return { content: [{ type: 'text', text: 'x' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(1, 1), warnings: [] };
    },
    doStream: ({ abortSignal }) => {
      if (abortSignal !== undefined) signals.push(abortSignal);
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        start(controller) {
          for (const part of [start, textStart, delta]) controller.enqueue(part!);
          abortSignal?.addEventListener('abort', () => controller.error(abortSignal.reason), { once: true });
          void gate.then(() => {
            if (abortSignal?.aborted === true) return;
            controller.enqueue(textEnd!);
            controller.enqueue(finish!);
            controller.close();
          });
        },
      });
      return Promise.resolve({ stream });
    },
  });
  return Object.assign(model, { signals });
}

/**
 * A pooled model over `backend`, the shutdown signal its calls share, how many listeners they added to
 * it, and the end of a test: every listener gone (once the event loop turned), no warning, pool closed.
 */
function sharing(backend: LanguageModelV4): { signal: AbortSignal; shutdown: AbortController; model: PooledLanguageModel; added: () => number; ended: () => Promise<void> } {
  const shutdown = shutdownSignal();
  const before = listeners(shutdown.signal);
  const pool = modelPool([backend]);
  return {
    shutdown,
    signal: shutdown.signal,
    model: poolModel(pool),
    added: () => listeners(shutdown.signal) - before,
    async ended() {
      await afterIO();
      expect(listeners(shutdown.signal)).toBe(before);
      expect(warnings).toEqual([]);
      await pool.close();
    },
  };
}

async function drain(stream: ReadableStream<LanguageModelV4StreamPart>): Promise<LanguageModelV4StreamPart[]> {
  const parts: LanguageModelV4StreamPart[] = [];
  const reader = stream.getReader();
  for (;;) {
    const next = await reader.read();
    if (next.done) return parts;
    parts.push(next.value);
  }
}

describe('streamSignal', () => {
  it('follows one caller signal with a single listener however many streams share it, and drops it when the last lets go', () => {
    const caller = new AbortController();
    const streams = Array.from({ length: 20 }, () => streamSignal(new AbortController().signal, caller.signal));
    expect(listeners(caller.signal)).toBe(1);
    for (const stream of streams.slice(1)) stream.release();
    expect(listeners(caller.signal)).toBe(1);
    streams[0]!.release();
    streams[0]!.release();
    expect(listeners(caller.signal)).toBe(0);
  });

  it('aborts every stream still following with the caller reason, and only its own stream when an attempt ends', () => {
    const caller = new AbortController();
    const attempt = new AbortController();
    const ended = streamSignal(attempt.signal, caller.signal);
    const others = [streamSignal(new AbortController().signal, caller.signal), streamSignal(new AbortController().signal, caller.signal)];
    const timeout = new Error('attempt timed out');
    attempt.abort(timeout);
    expect(ended.signal.reason).toBe(timeout);
    expect(others.map((s) => s.signal.aborted)).toEqual([false, false]);
    const left = new Error('shutting down');
    caller.abort(left);
    expect(others.map((s): unknown => s.signal.reason)).toEqual([left, left]);
    expect(listeners(caller.signal)).toBe(0);
    expect(listeners(attempt.signal)).toBe(0);
  });

  it('is the aborted source itself when one has aborted already, adding no listener', () => {
    const caller = new AbortController();
    caller.abort(new Error('gone'));
    const attempt = new AbortController().signal;
    expect(streamSignal(attempt, caller.signal).signal).toBe(caller.signal);
    expect(listeners(attempt)).toBe(0);
  });

  it('a stream following again after the caller signal aborted is aborted at once', () => {
    const caller = new AbortController();
    streamSignal(new AbortController().signal, caller.signal);
    caller.abort(new Error('gone'));
    expect(streamSignal(new AbortController().signal, caller.signal).signal.aborted).toBe(true);
  });
});

describe('poolModel: one caller signal for every call', () => {
  it('leaves no listener behind after 1 000 sequential generateText calls, and never warns', async () => {
    const { model, signal, ended } = sharing(answering('a'));
    for (let i = 0; i < 1_000; i++) await generateText({ model, prompt: 'hi', abortSignal: signal, maxRetries: 0 });
    await ended();
  });

  it('leaves no listener behind after 1 000 sequential streamText calls read to the end, and never warns', async () => {
    const { model, signal, ended } = sharing(answering('a'));
    for (let i = 0; i < 1_000; i++) await streamText({ model, prompt: 'hi', abortSignal: signal, maxRetries: 0 }).text;
    await ended();
  });

  it('50 concurrent generateText calls add one listener between them, removed once they end, and no warning', async () => {
    const gate = deferred();
    const { model, signal, added, ended } = sharing(gated(gate.promise));
    const calls = Array.from({ length: 50 }, () => generateText({ model, prompt: 'hi', abortSignal: signal, maxRetries: 0 }));
    await afterIO();
    expect(added()).toBe(1);
    gate.resolve();
    expect((await Promise.all(calls)).map((r) => r.text)).toEqual(Array(50).fill('x'));
    await ended();
  });

  it('50 streams open at once add one listener between them (the SDK calling doStream), removed once they end, and no warning', async () => {
    const gate = deferred();
    const { model, signal, added, ended } = sharing(gated(gate.promise));
    // Through doStream as the SDK calls it: streamText adds two listeners of its own per stream.
    const opened = await Promise.all(Array.from({ length: 50 }, () => model.doStream({ prompt: [], abortSignal: signal })));
    await afterIO();
    expect(added()).toBe(1);
    gate.resolve();
    const texts = await Promise.all(opened.map(async (result) => (await drain(result.stream)).flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('')));
    expect(texts).toEqual(Array(50).fill('x'));
    await ended();
  });

  it('the caller signal still reaches every open stream through the one listener, with its reason', async () => {
    const backend = gated(deferred().promise);
    const { model, signal, shutdown, ended } = sharing(backend);
    const opened = await Promise.all(Array.from({ length: 12 }, () => model.doStream({ prompt: [], abortSignal: signal })));
    const reason = new Error('server shutting down');
    shutdown.abort(reason);
    const ends = await Promise.all(opened.map(async (result) => (await drain(result.stream)).at(-1)));
    expect(ends).toEqual(Array(12).fill({ type: 'error', error: reason }));
    expect(backend.signals.map((s): unknown => s.reason)).toEqual(Array(12).fill(reason));
    await ended();
  });
});
