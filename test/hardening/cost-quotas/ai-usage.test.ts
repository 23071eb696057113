// Attack: poolModel with costs and hostile usage objects (huge, negative, NaN, throwing getters), streams
// cancelled before their finish part.
import type { LanguageModelV4, LanguageModelV4Usage } from '@ai-sdk/provider';
import { generateText, streamText } from 'ai';
import { MockLanguageModelV4, convertArrayToReadableStream } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { poolModel } from '../../../src/ai/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { answering, textParts, usage } from '../../ai/mock-models.js';

const MINUTE = 60_000;

function keyPool(model: LanguageModelV4, extra: Partial<{ retry: { attempts: number } }> = {}): { pool: ClientPool<LanguageModelV4>; tokensLeft: () => number | undefined } {
  const pool = new ClientPool<LanguageModelV4>({ clock: new ManualClock(), ...extra });
  pool.add(model, { name: 'key', limit: { tokens: { rate: 10_000, per: MINUTE } } });
  return { pool, tokensLeft: () => pool.members()[0]!.quota?.['tokens'] };
}

/** A usage object whose totals are the given raw values. */
function rawUsage(input: unknown, output: unknown): LanguageModelV4Usage {
  return usage(0, 0) && ({
    inputTokens: { total: input, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: undefined, reasoning: undefined },
  } as unknown as LanguageModelV4Usage);
}

describe('poolModel: usage a provider got wrong never fails the call', () => {
  it.each([
    ['NaN', Number.NaN, 5],
    ['negative', -10, 5],
    ['Infinity', Number.POSITIVE_INFINITY, 5],
    ['a string', '12', 5],
    ['above 2^53-1', 2 ** 60, 5],
    ['two halves whose sum passes 2^53-1', 2 ** 52 + 1, 2 ** 52 + 1],
  ])('generateText with an input total that is %s resolves', async (_what, input, output) => {
    const model = answering('hi', rawUsage(input, output));
    const { pool } = keyPool(model);
    const { text } = await generateText({ model: poolModel(pool, { cost: { tokens: 1_000 } }), prompt: 'Hello' });
    expect(text).toBe('hi');
    expect(model.doGenerateCalls).toHaveLength(1);
  });

  it('generateText with a usage whose total getter throws resolves and keeps the reservation', async () => {
    const hostile = {
      inputTokens: {
        get total(): number {
          throw new Error('getter broke');
        },
      },
      outputTokens: { total: 5 },
    } as unknown as LanguageModelV4Usage;
    const { pool, tokensLeft } = keyPool(answering('hi', hostile));
    // doGenerate directly: the AI SDK's generateText reads the usage itself and would throw on its own.
    const result = await poolModel(pool, { cost: { tokens: 1_000 } }).doGenerate({ prompt: [] });
    expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
    expect(tokensLeft()).toBe(9_000);
  });

  it('streamText with a finish usage above 2^53-1 streams its text to the end', async () => {
    const model = new MockLanguageModelV4({
      doStream: () => Promise.resolve({ stream: convertArrayToReadableStream(textParts('hi', rawUsage(2 ** 60, 1))) }),
    });
    const { pool } = keyPool(model);
    const result = streamText({ model: poolModel(pool, { cost: { tokens: 1_000 } }), prompt: 'Hello', onError: () => {} });
    expect(await result.text).toBe('hi');
    expect(await result.finishReason).toBe('stop');
  });
});

describe('poolModel: usage with one side unknown', () => {
  it('a usage without the input count does not settle tokens to the output alone (the reservation stands)', async () => {
    const { pool, tokensLeft } = keyPool(answering('hi', rawUsage(undefined, 200)));
    await poolModel(pool, { cost: { tokens: 2_000 } }).doGenerate({ prompt: [] });
    // Settling `tokens` to 200 would refund the input tokens the provider did bill but did not report.
    expect(tokensLeft()).toBe(8_000);
  });
});

describe('poolModel: a stream cancelled before its finish part', () => {
  it('keeps the reservation (nothing settled, nothing leaked)', async () => {
    const parts = textParts('hello');
    const model = new MockLanguageModelV4({
      doStream: () =>
        Promise.resolve({
          stream: new ReadableStream({
            start(controller) {
              for (const part of parts.slice(0, 3)) controller.enqueue(part);
            },
          }),
        }),
    });
    const { pool, tokensLeft } = keyPool(model);
    const controller = new AbortController();
    const result = streamText({ model: poolModel(pool, { cost: { tokens: 1_000 } }), prompt: 'Hello', abortSignal: controller.signal, onError: () => {} });
    const reader = result.textStream.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => undefined);
    expect(tokensLeft()).toBe(9_000);
    expect(pool.members()[0]!.inFlight).toBe(0);
  });
});
