// Attack on clientpool/ai: cost shapes, usage Proxies, streams cancelled at every point, one long-lived
// caller signal aborted with 100 streams open.
import { getEventListeners } from 'node:events';
import { runInNewContext } from 'node:vm';
import type { LanguageModelV4, LanguageModelV4StreamPart, LanguageModelV4Usage } from '@ai-sdk/provider';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { isModelFailure, poolModel } from '../../../src/ai/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { falloutOf, inFlight } from '../../helpers/broken-callbacks.js';
import { answering, streaming, textParts, usage } from '../../ai/mock-models.js';

const MINUTE = 60_000;

function keyPool(model: LanguageModelV4, tokens = 10_000): { pool: ClientPool<LanguageModelV4>; tokensLeft: () => number | undefined } {
  const pool = new ClientPool<LanguageModelV4>({ clock: new ManualClock() });
  pool.add(model, { name: 'key', limit: { tokens: { rate: tokens, per: MINUTE } } });
  return { pool, tokensLeft: () => pool.members()[0]!.quota?.['tokens'] };
}

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;
const afterIO = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function drain(stream: ReadableStream<LanguageModelV4StreamPart>): Promise<LanguageModelV4StreamPart[]> {
  const parts: LanguageModelV4StreamPart[] = [];
  const reader = stream.getReader();
  for (;;) {
    const next = await reader.read();
    if (next.done) return parts;
    parts.push(next.value);
  }
}

describe('poolModel cost: shapes an estimate may return', () => {
  it('an async estimate (a promise of a cost) is refused naming cost, not silently reserved as one request', async () => {
    const { pool, tokensLeft } = keyPool(answering('hi', usage(1, 1)));
    const pooled = poolModel(pool, { cost: (() => Promise.resolve({ tokens: 5_000 })) as never });
    // A promise has no own amounts: the reservation must not quietly become { requests: 1 }.
    await expect(pooled.doGenerate({ prompt: [] })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'cost' });
    expect(tokensLeft()).toBe(10_000);
    await pool.close();
  });

  it('a fixed cost given as a Map is refused naming cost at poolModel()', async () => {
    const pool = new ClientPool<LanguageModelV4>();
    pool.add(answering('hi'));
    expect(() => poolModel(pool, { cost: new Map([['tokens', 5_000]]) as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'cost' }));
    await pool.close();
  });

  it('an estimate returning a Proxy whose get trap throws fails the call naming cost, before any model', async () => {
    const model = answering('hi');
    const { pool } = keyPool(model);
    const hostile = new Proxy({ tokens: 5 }, {
      get() {
        throw new Error('trap');
      },
    });
    const pooled = poolModel(pool, { cost: () => hostile });
    await expect(pooled.doGenerate({ prompt: [] })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: expect.stringMatching(/^cost/) as string });
    expect(model.doGenerateCalls).toHaveLength(0);
    await pool.close();
  });

  it('an estimate returning different shapes per call reserves each as given', async () => {
    const { pool, tokensLeft } = keyPool(answering('hi', usage(100, 100)));
    let i = 0;
    const shapes = [{ tokens: 1_000 }, { requests: 1 }, { tokens: 0 }, { other: 7 }];
    const pooled = poolModel(pool, { cost: () => shapes[i++ % shapes.length]! });
    for (let n = 0; n < 4; n++) await pooled.doGenerate({ prompt: [] });
    // Each call settled to its usage (200 tokens): 4 x 200 spent, whatever was reserved.
    expect(tokensLeft()).toBe(10_000 - 800);
    await pool.close();
  });
});

describe('poolModel cost: retries and hedges settle on the key that served each attempt', () => {
  it('a 503 on key a then an answer on key b: a keeps its reservation, b is settled to its usage', async () => {
    const failing = new MockLanguageModelV4({ doGenerate: () => Promise.reject(Object.assign(new Error('HTTP 503'), { statusCode: 503 })) });
    const pool = new ClientPool<LanguageModelV4>({ clock: new ManualClock(), strategy: 'round-robin', isFailure: isModelFailure, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.add(failing, { name: 'a', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    pool.add(answering('hi', usage(300, 200)), { name: 'b', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    const result = await poolModel(pool, { cost: { tokens: 1_000 } }).doGenerate({ prompt: [] });
    expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
    expect(pool.members().map((m) => [m.name, m.quota?.['tokens']])).toEqual([
      ['a', 9_000],
      ['b', 9_500],
    ]);
    await pool.close();
  });
});

describe('poolModel usage: Proxies', () => {
  it('a revoked Proxy as usage: generate resolves, the reservation stands, no warning', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const { pool, tokensLeft } = keyPool(answering('hi', proxy as unknown as LanguageModelV4Usage));
    const fallout = await falloutOf(async () => {
      const result = await poolModel(pool, { cost: { tokens: 1_000 } }).doGenerate({ prompt: [] });
      expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
    });
    expect(fallout.unhandled).toEqual([]);
    expect(tokensLeft()).toBe(9_000);
    await pool.close();
  });

  it('a finish part whose usage getter throws: the stream still ends without an error part after the text', async () => {
    const [start, textStart, delta, textEnd] = textParts('hi');
    const finish = Object.defineProperty({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' } }, 'usage', {
      enumerable: true,
      get() {
        throw new Error('usage getter broke');
      },
    }) as LanguageModelV4StreamPart;
    const { pool, tokensLeft } = keyPool(streaming([start!, textStart!, delta!, textEnd!, finish]));
    const result = await poolModel(pool, { cost: { tokens: 1_000 } }).doStream({ prompt: [] });
    const parts = await drain(result.stream);
    expect(parts.map((p) => p.type)).toEqual(['stream-start', 'response-metadata', 'text-start', 'text-delta', 'text-end', 'finish']);
    expect(tokensLeft()).toBe(9_000);
    await pool.close();
  });

  it('a model that sends its finish part twice is charged its usage once', async () => {
    const [start, textStart, delta, textEnd, finish] = textParts('hi', usage(300, 200));
    const { pool, tokensLeft } = keyPool(streaming([start!, textStart!, delta!, textEnd!, finish!, finish!]));
    const result = await poolModel(pool, { cost: { tokens: 1_000 } }).doStream({ prompt: [] });
    await drain(result.stream);
    // settle() sets the figure: a model that sends finish twice is charged its usage once.
    expect(tokensLeft()).toBe(10_000 - 500);
    await pool.close();
  });
});

describe('poolModel streams cancelled by the consumer', () => {
  it.each([
    ['before the first read', 0],
    ['between chunks', 3],
    ['after finish', 99],
  ])('cancelled %s: no unhandled rejection, the caller signal left as it was, the model stream cancelled', async (_when, reads) => {
    const model = streaming(textParts('hi', usage(300, 200)));
    const { pool, tokensLeft } = keyPool(model);
    const caller = new AbortController();
    const before = listeners(caller.signal);
    const fallout = await falloutOf(async () => {
      const result = await poolModel(pool, { cost: { tokens: 1_000 } }).doStream({ prompt: [], abortSignal: caller.signal });
      const reader = result.stream.getReader();
      for (let i = 0; i < reads; i++) if ((await reader.read()).done) break;
      await reader.cancel(new Error('consumer left'));
    });
    await afterIO();
    expect(fallout.unhandled).toEqual([]);
    expect(listeners(caller.signal)).toBe(before);
    expect(inFlight(pool)).toEqual([0]);
    // Finished: settled to 500; cancelled before finish: the reservation of 1 000 stands.
    expect(tokensLeft()).toBe(reads === 99 ? 9_500 : 9_000);
    await pool.close();
  });

  it('a cancel while a read is pending (the model silent) ends the stream without an unhandled rejection', async () => {
    const [start, textStart, delta] = textParts('hi');
    const model = streaming([start!, textStart!, delta!], { isLeftOpen: true });
    const { pool } = keyPool(model);
    const fallout = await falloutOf(async () => {
      const result = await poolModel(pool).doStream({ prompt: [] });
      const reader = result.stream.getReader();
      for (let i = 0; i < 3; i++) await reader.read();
      const pending = reader.read();
      await reader.cancel(new Error('consumer left'));
      expect(await pending).toEqual({ done: true, value: undefined });
    });
    expect(fallout.unhandled).toEqual([]);
    expect(model.cancelled).toHaveLength(1);
    await pool.close();
  });
});

describe('poolModel: one long-lived caller signal aborted with 100 streams open', () => {
  it('every open stream ends with the abort reason as an error part, no listener is left, nothing in flight', async () => {
    const shutdown = new AbortController();
    const before = listeners(shutdown.signal);
    const model = new MockLanguageModelV4({
      doStream: ({ abortSignal }) => {
        const [start, textStart, delta] = textParts('x');
        const stream = new ReadableStream<LanguageModelV4StreamPart>({
          start(controller) {
            for (const part of [start, textStart, delta]) controller.enqueue(part!);
            abortSignal?.addEventListener('abort', () => controller.error(abortSignal.reason), { once: true });
          },
        });
        return Promise.resolve({ stream });
      },
    });
    const pool = new ClientPool<LanguageModelV4>();
    pool.add(model, { name: 'm' });
    const pooled = poolModel(pool);
    const reason = new Error('shutdown');
    const fallout = await falloutOf(async () => {
      const opened = await Promise.all(Array.from({ length: 100 }, () => pooled.doStream({ prompt: [], abortSignal: shutdown.signal })));
      await afterIO();
      // One listener for all 100 streams (the pool's own watch is gone once its calls ended).
      expect(listeners(shutdown.signal)).toBe(before + 1);
      const readers = opened.map((o) => drain(o.stream));
      // Half of them mid-read when the signal aborts.
      shutdown.abort(reason);
      const all = await Promise.all(readers);
      for (const parts of all) expect(parts.at(-1)).toEqual({ type: 'error', error: reason });
    });
    await afterIO();
    expect(fallout).toEqual({ warnings: [], unhandled: [] });
    expect(listeners(shutdown.signal)).toBe(before);
    expect(inFlight(pool)).toEqual([0]);
    await pool.close();
  });

  it('100 streams waiting for their first content when the signal aborts all fail with AbortedError (the reason as cause), their model streams cancelled', async () => {
    const shutdown = new AbortController();
    const before = listeners(shutdown.signal);
    const [start] = textParts('x');
    const model = streaming([start!], { isLeftOpen: true });
    const pool = new ClientPool<LanguageModelV4>();
    pool.add(model, { name: 'm' });
    const pooled = poolModel(pool);
    const reason = new Error('shutdown');
    const fallout = await falloutOf(async () => {
      const opening = Array.from({ length: 100 }, () => pooled.doStream({ prompt: [], abortSignal: shutdown.signal }).catch((e: unknown) => e));
      await new Promise((resolve) => setTimeout(resolve, 10));
      shutdown.abort(reason);
      for (const error of await Promise.all(opening)) expect(error).toMatchObject({ code: 'ERR_ABORTED', cause: reason });
    });
    await afterIO();
    expect(fallout).toEqual({ warnings: [], unhandled: [] });
    expect(model.cancelled).toHaveLength(100);
    expect(listeners(shutdown.signal)).toBe(before);
    expect(inFlight(pool)).toEqual([0]);
    await pool.close();
  });

  it('a stream opened after the caller signal aborted fails with the pool AbortedError, leaving no listener', async () => {
    const shutdown = new AbortController();
    shutdown.abort(new Error('gone'));
    const pool = new ClientPool<LanguageModelV4>();
    pool.add(answering('hi'), { name: 'm' });
    await expect(poolModel(pool).doStream({ prompt: [], abortSignal: shutdown.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(listeners(shutdown.signal)).toBe(0);
    expect(inFlight(pool)).toEqual([0]);
    await pool.close();
  });
});

describe('poolModel onUsage: what a listener returns', () => {
  it('a rejecting promise of another realm (a vm context Promise) is caught and reported, never unhandled', async () => {
    const pool = new ClientPool<LanguageModelV4>();
    pool.add(answering('hi'), { name: 'm' });
    const onUsage = (): unknown => runInNewContext('Promise.reject(new Error("listener in another realm broke"))');
    const fallout = await falloutOf(async () => {
      await poolModel(pool, { onUsage: onUsage }).doGenerate({ prompt: [] });
    });
    expect(fallout.unhandled).toEqual([]);
    expect(fallout.warnings).toEqual([expect.objectContaining({ code: 'CLIENTPOOL_CALLBACK_ERROR' })]);
    await pool.close();
  });
});

describe('poolModel: models that break the contract (docs: "a doStream that resolves with no stream likewise")', () => {
  it.each([
    ['no stream at all', {}],
    ['a stream that is not a ReadableStream', { stream: 'garbage' }],
  ])('a doStream resolving with %s fails with CallbackError, as a doGenerate resolving with no result does', async (_what, result) => {
    const model = new MockLanguageModelV4({ doGenerate: () => Promise.resolve(undefined as never), doStream: () => Promise.resolve(result as never) });
    const pool = new ClientPool<LanguageModelV4>();
    pool.add(model, { name: 'm' });
    const pooled = poolModel(pool);
    const generateError: unknown = await pooled.doGenerate({ prompt: [] }).catch((e: unknown) => e);
    const streamError: unknown = await pooled.doStream({ prompt: [] }).catch((e: unknown) => e);
    const codeOf = (e: unknown): unknown => (e as { cause?: { code?: unknown } }).cause?.code ?? (e as { code?: unknown }).code;
    expect(codeOf(generateError)).toBe('ERR_CALLBACK');
    expect(codeOf(streamError)).toBe('ERR_CALLBACK');
    await pool.close();
  });
});

describe('poolModel: calling back into the pool', () => {
  it('onUsage that closes the pool: the call that reported still resolves, the next is refused with PoolClosedError', async () => {
    const pool = new ClientPool<LanguageModelV4>();
    pool.add(answering('hi'), { name: 'm' });
    const pooled = poolModel(pool, { onUsage: () => void pool.close() });
    const result = await pooled.doGenerate({ prompt: [] });
    expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
    await expect(pooled.doGenerate({ prompt: [] })).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });

  it('a stream read to its finish after the pool closed: the finish passes, no unhandled rejection, no warning', async () => {
    const model = streaming(textParts('hi', usage(300, 200)));
    const { pool } = keyPool(model);
    const fallout = await falloutOf(async () => {
      const result = await poolModel(pool, { cost: { tokens: 1_000 } }).doStream({ prompt: [] });
      await pool.close();
      const parts = await drain(result.stream);
      expect(parts.at(-1)?.type).toBe('finish');
    });
    expect(fallout).toEqual({ warnings: [], unhandled: [] });
  });

  it('a stream read to its finish after its model was removed settles on the removed key without throwing', async () => {
    const model = streaming(textParts('hi', usage(300, 200)));
    const { pool } = keyPool(model);
    const result = await poolModel(pool, { cost: { tokens: 1_000 } }).doStream({ prompt: [] });
    await pool.remove('key');
    const parts = await drain(result.stream);
    expect(parts.at(-1)?.type).toBe('finish');
    await pool.close();
  });
});

describe('poolModel: hedged streams on one long-lived caller signal', () => {
  it('the lost hedge is cancelled and, once the winner is read, the caller signal has its listeners back', async () => {
    const shutdown = new AbortController();
    const before = listeners(shutdown.signal);
    const [start, textStart, delta, textEnd, finish] = textParts('x');
    const cancelled: unknown[] = [];
    const slow = new MockLanguageModelV4({
      doStream: () =>
        Promise.resolve({
          stream: new ReadableStream<LanguageModelV4StreamPart>({
            async start(controller) {
              controller.enqueue(start!);
              await new Promise((resolve) => setTimeout(resolve, 60));
              for (const part of [textStart, delta, textEnd, finish]) controller.enqueue(part!);
              controller.close();
            },
            cancel(reason) {
              cancelled.push(reason);
            },
          }),
        }),
    });
    const pool = new ClientPool<LanguageModelV4>({ strategy: 'round-robin', hedge: { delay: 10 } });
    pool.add(slow, { name: 'slow' });
    pool.add(streaming(textParts('fast')), { name: 'fast' });
    const fallout = await falloutOf(async () => {
      const result = await poolModel(pool).doStream({ prompt: [], abortSignal: shutdown.signal });
      const parts = await drain(result.stream);
      expect(parts.find((p) => p.type === 'text-delta')).toMatchObject({ delta: 'fast' });
      await new Promise((resolve) => setTimeout(resolve, 80));
    });
    await afterIO();
    expect(fallout.unhandled).toEqual([]);
    expect(cancelled).toHaveLength(1);
    expect(listeners(shutdown.signal)).toBe(before);
    expect(inFlight(pool)).toEqual([0, 0]);
    await pool.close();
  });
});

describe('poolModel: every option validated at once (docs: "every option is validated at once, InvalidOptionError naming it")', () => {
  it.each([
    ['run.retry', { retry: 'twice' }],
    ['run.hedge', { hedge: { delay: -5 } }],
    ['run.strategy', { strategy: 'fastest-please' }],
  ])('a bad %s is refused at poolModel(), naming it', (option, run) => {
    const pool = new ClientPool<LanguageModelV4>();
    pool.add(answering('hi'));
    expect(() => poolModel(pool, { run: run as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: expect.stringContaining(option) as string }));
  });
});
