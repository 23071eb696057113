// Every user callback of poolModel (onUsage), and models that break the SDK's contract, broken every way,
// with the SDK's own mock models: no crash, no unhandled rejection, no call left in flight.
import { generateText, streamText } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/index.js';
import { poolModel } from '../../src/ai/index.js';
import { brokenCallbacks, callbackWarning, falloutOf, inFlight, throwingGetter } from '../helpers/broken-callbacks.js';
import { answering, modelPool } from './mock-models.js';

describe('poolModel: a broken onUsage', () => {
  it.each(brokenCallbacks)('one that %s fails no generate or stream, with at most one warning', async (how, onUsage) => {
    const pool = modelPool([answering('a')]);
    const model = poolModel(pool, { onUsage: onUsage });
    const fallout = await falloutOf(async () => {
      expect((await generateText({ model, prompt: 'hi' })).text).toBe('a');
      expect(await streamText({ model, prompt: 'hi' }).text).toBe('a');
    });
    const isFailure = how === 'throws' || how === 'returns a promise that rejects';
    expect(fallout).toEqual({ warnings: isFailure ? [callbackWarning('onUsage')] : [], unhandled: [] });
    expect(inFlight(pool)).toEqual([0]);
  });

  it.each(['provider', 'modelId', 'supportedUrls', 'labels', 'run', 'rateLimitPause', 'onUsage'])('options whose %s getter throws are refused naming options, with the throw as cause', (key) => {
    const { options, cause } = throwingGetter(key);
    expect(() => poolModel(modelPool([answering('a')]), options as never)).toThrow(expect.objectContaining({ code: InvalidOptionError.code, option: 'options', cause }));
  });
});

describe('poolModel: a model that breaks the SDK contract', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
  ])('a doGenerate that resolves with %s fails its attempt (counted), and the next model serves', async (_what, value) => {
    const broken = new MockLanguageModelV4({ doGenerate: () => Promise.resolve(value as never) });
    const pool = modelPool([broken, answering('b')]);
    const fallout = await falloutOf(async () => {
      expect((await generateText({ model: poolModel(pool), prompt: 'hi' })).text).toBe('b');
    });
    expect(fallout.unhandled).toEqual([]);
    expect(pool.members().map((m) => [m.failures, m.inFlight])).toEqual([
      [1, 0],
      [0, 0],
    ]);
  });

  it('a doStream that resolves with no stream fails its attempt (counted), and the next model serves', async () => {
    const broken = new MockLanguageModelV4({ doStream: () => Promise.resolve({} as never) });
    const pool = modelPool([broken, answering('b')]);
    expect(await streamText({ model: poolModel(pool), prompt: 'hi' }).text).toBe('b');
    expect(pool.members().map((m) => [m.failures, m.inFlight])).toEqual([
      [1, 0],
      [0, 0],
    ]);
  });

  it('a model whose modelId getter throws still serves: the response names it by its name in the pool', async () => {
    const model = answering('a');
    Object.defineProperty(model, 'modelId', {
      get() {
        throw new Error('modelId getter broke');
      },
    });
    const pool = modelPool([model]);
    const generated = await generateText({ model: poolModel(pool), prompt: 'hi' });
    expect([generated.text, generated.finalStep.response.modelId]).toEqual(['a', 'm0']);
    const streamed = streamText({ model: poolModel(pool), prompt: 'hi' });
    expect(await streamed.text).toBe('a');
    expect((await streamed.finalStep).response.modelId).toBe('m0');
    expect(inFlight(pool)).toEqual([0]);
  });
});
