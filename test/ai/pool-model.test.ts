// poolModel's doGenerate through generateText: fallback, answered errors, 429 pauses, usage, abort.
import { APICallError } from '@ai-sdk/provider';
import { generateText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientCallError, hasErrorCode } from '../../src/index.js';
import { poolModel, type UsageReport } from '../../src/ai/index.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';
import { settled } from './fake-timers.js';
import { recordWarnings } from '../helpers/warnings.js';
import { answering, apiError, hanging, modelPool, throwing, usage } from './mock-models.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('poolModel: generateText', () => {
  it('falls back from a model throwing a 500 APICallError to the next, and counts the 500 against the first', async () => {
    const broken = throwing(apiError(500));
    const good = answering('from m1');
    const pool = modelPool([broken, good]);
    const result = await generateText({ model: poolModel(pool), prompt: 'hi' });
    expect(result.text).toBe('from m1');
    expect(broken.doGenerateCalls).toHaveLength(1);
    expect(pool.members().map((m) => [m.name, m.failures, m.successes])).toEqual([
      ['m0', 1, 0],
      ['m1', 0, 1],
    ]);
    await pool.close();
  });

  it('a 400 reaches the caller as the APICallError the model threw, unretried: the second model is never called and the first is not counted', async () => {
    const refusing = throwing(apiError(400));
    const good = answering('never');
    const pool = modelPool([refusing, good], { breaker: { maxFailures: 1 } });
    const error = await generateText({ model: poolModel(pool), prompt: 'hi' }).catch((e: unknown) => e);
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as APICallError).statusCode).toBe(400);
    expect(refusing.doGenerateCalls).toHaveLength(1);
    expect(good.doGenerateCalls).toHaveLength(0);
    // Told to the breaker as an answer: with maxFailures 1, a failure would have opened it.
    expect(pool.members()[0]).toMatchObject({ name: 'm0', state: { kind: 'closed' } });
    await pool.close();
  });

  it('when every model fails, the pool error reaches the caller and the SDK does not retry on top of the pool', async () => {
    const models = [throwing(apiError(503)), throwing(apiError(502))];
    const pool = modelPool(models);
    const error = await generateText({ model: poolModel(pool), prompt: 'hi' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientCallError);
    expect((error as ClientCallError).cause).toMatchObject({ statusCode: 502 });
    // The SDK's default maxRetries (2) would have made 6 calls had it retried the pool's error.
    expect(models.map((m) => m.doGenerateCalls.length)).toEqual([1, 1]);
    await pool.close();
  });

  it('passes call.signal as the model abortSignal, so the caller abort reaches the model and keeps its reason', async () => {
    const model = hanging();
    const pool = modelPool([model]);
    const controller = new AbortController();
    const pending = generateText({ model: poolModel(pool), prompt: 'hi', abortSignal: controller.signal, maxRetries: 0 }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(model.signals).toHaveLength(1));
    const reason = new Error('user left');
    controller.abort(reason);
    const error = await pending;
    expect(model.signals[0]?.aborted).toBe(true);
    expect(hasErrorCode(error, 'ERR_ABORTED')).toBe(true);
    expect((error as Error).cause).toBe(reason);
    expect(pool.members()[0]).toMatchObject({ failures: 0, cancelled: 1 });
    await pool.close();
  });

  it('reports each call usage to onUsage with the model that served it', async () => {
    const reports: UsageReport[] = [];
    const models = [answering('a', usage(10, 20)), answering('b', usage(7, 1))];
    const pool = modelPool(models);
    const model = poolModel(pool, { onUsage: (report) => reports.push(report) });
    const first = await generateText({ model, prompt: 'hi' });
    await generateText({ model, prompt: 'hi' });
    expect(first.usage).toMatchObject({ inputTokens: 10, outputTokens: 20 });
    expect(reports.map((r) => [r.clientName, r.kind, r.usage.inputTokens.total, r.usage.outputTokens.total])).toEqual([
      ['m0', 'generate', 10, 20],
      ['m1', 'generate', 7, 1],
    ]);
    expect(reports[0]?.client).toBe(models[0]);
    await pool.close();
  });

  it('an onUsage that throws fails nothing: the call resolves and one CLIENTPOOL_CALLBACK_ERROR warning says so', async () => {
    const warnings = recordWarnings();
    const pool = modelPool([answering('a')]);
    const model = poolModel(pool, {
      onUsage: () => {
        throw new Error('quota store down');
      },
    });
    await expect(generateText({ model, prompt: 'hi' })).resolves.toMatchObject({ text: 'a' });
    await expect(generateText({ model, prompt: 'hi' })).resolves.toMatchObject({ text: 'a' });
    expect(warnings).toEqual([{ text: expect.stringContaining('quota store down') as string, code: 'CLIENTPOOL_CALLBACK_ERROR' }]);
    await pool.close();
  });

  it('names itself by provider and modelId, and the served model in response.modelId', async () => {
    const pool = modelPool([answering('served')]);
    const model = poolModel(pool, { provider: 'acme', modelId: 'chat' });
    expect([model.specificationVersion, model.provider, model.modelId]).toEqual(['v4', 'acme', 'chat']);
    expect(poolModel(pool)).toMatchObject({ provider: 'clientpool', modelId: 'pool', supportedUrls: {} });
    const result = await generateText({ model, prompt: 'hi' });
    expect(result.finalStep.response.modelId).toBe('served');
    await pool.close();
  });

  it('serves a v3 model brought up to v4 by wrapLanguageModel', async () => {
    const v3 = new MockLanguageModelV3({
      modelId: 'old',
      doGenerate: { content: [{ type: 'text', text: 'from v3' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(1, 2), warnings: [] },
    });
    const pool = modelPool([wrapLanguageModel({ model: v3, middleware: [] })]);
    expect((await generateText({ model: poolModel(pool), prompt: 'hi' })).text).toBe('from v3');
    expect(v3.doGenerateCalls).toHaveLength(1);
    await pool.close();
  });

  it('labels its calls generate (or labels.generate) for the pool, so per-method options apply', async () => {
    const seen: string[] = [];
    const pool = modelPool([answering('a')], { middleware: [(call, next) => (seen.push(call.method), next(call))] });
    await generateText({ model: poolModel(pool), prompt: 'hi' });
    await generateText({ model: poolModel(pool, { labels: { generate: 'chat_generate' } }), prompt: 'hi' });
    expect(seen).toEqual(['generate', 'chat_generate']);
    await pool.close();
  });
});

describe('poolModel: a 429', () => {
  useFakeTime();

  it('with retry-after pauses that model: the call and the next ones go to the other until the pause is over', async () => {
    const limited = answering('m0');
    limited.doGenerate = vi.fn(limited.doGenerate).mockRejectedValueOnce(apiError(429, { 'retry-after': '30' }));
    const other = answering('m1');
    const pool = modelPool([limited, other], { clock: dateClock });
    const model = poolModel(pool);
    const texts: string[] = [];
    for (let i = 0; i < 4; i++) texts.push((await settled(generateText({ model, prompt: 'hi' }))).text);
    expect(texts).toEqual(['m1', 'm1', 'm1', 'm1']);
    expect(pool.members()[0]).toMatchObject({ name: 'm0', failures: 1 });
    await vi.advanceTimersByTimeAsync(30_000);
    const after: string[] = [];
    for (let i = 0; i < 2; i++) after.push((await generateText({ model, prompt: 'hi' })).text);
    expect(after.sort()).toEqual(['m0', 'm1']);
    await pool.close();
  });

  it('with retry-after-ms pauses for that many ms, before retry-after', async () => {
    const limited = answering('m0');
    limited.doGenerate = vi.fn(limited.doGenerate).mockRejectedValueOnce(apiError(429, { 'retry-after-ms': '1500', 'retry-after': '60' }));
    const pool = modelPool([limited, answering('m1')], { clock: dateClock });
    const model = poolModel(pool);
    await settled(generateText({ model, prompt: 'hi' }));
    // settled() moved the clock by a few ms: the pause ends 1.5 s after the 429, well before 60 s.
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await generateText({ model, prompt: 'hi' })).text).toBe('m1');
    await vi.advanceTimersByTimeAsync(600);
    const texts = [(await generateText({ model, prompt: 'hi' })).text, (await generateText({ model, prompt: 'hi' })).text];
    expect(texts).toContain('m0');
    await pool.close();
  });
});
