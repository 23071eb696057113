// poolModel's options: validated once, at poolModel(), naming the option and the bad value.
import { generateText } from 'ai';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, InvalidOptionError, TimeoutError } from '../../src/index.js';
import { poolModel, type PoolModelOptions } from '../../src/ai/index.js';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { thrownBy } from '../helpers/bad-input.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';
import { settled } from './fake-timers.js';
import { hanging, modelPool } from './mock-models.js';

const pool = new ClientPool<LanguageModelV4>();

function invalid(options: unknown): InvalidOptionError {
  const error = thrownBy(() => poolModel(pool, options as PoolModelOptions));
  expect(error).toBeInstanceOf(InvalidOptionError);
  return error as InvalidOptionError;
}

describe('poolModel options', () => {
  it.each([
    ['options', 42],
    ['options', 'x'],
    ['options.modelID', { modelID: 'chat' }],
    ['provider', { provider: '' }],
    ['modelId', { modelId: 7 }],
    ['labels', { labels: 'generate' }],
    ['labels.generate', { labels: { generate: '' } }],
    ['labels.streams', { labels: { streams: 's' } }],
    ['run', { run: 5 }],
    ['run.signal', { run: { signal: new AbortController().signal } }],
    ['run.method', { run: { method: 'x' } }],
    ['run.timeout', { run: { timeout: -1 } }],
    ['run.deadline', { run: { deadline: Number.NaN } }],
    ['run.maxWait', { run: { maxWait: Infinity } }],
    ['run.key', { run: { key: 1 } }],
    ['run.traceId', { run: { traceId: '' } }],
    ['rateLimitPause', { rateLimitPause: -1 }],
    ['rateLimitPause', { rateLimitPause: 2 ** 31 }],
    ['onUsage', { onUsage: 'log' }],
    ['supportedUrls', { supportedUrls: [] }],
    ['supportedUrls.image/*', { supportedUrls: { 'image/*': ['https://'] } }],
  ])('refuses a bad %s', (option, options) => {
    expect(invalid(options).option).toBe(option);
  });

  it('refuses something that is not a pool', () => {
    expect(() => poolModel({} as unknown as ClientPool<LanguageModelV4>)).toThrow(InvalidOptionError);
    expect(() => poolModel(null as unknown as ClientPool<LanguageModelV4>)).toThrow(/pool must be a ClientPool, got null/);
  });

  it('an options object whose getter throws is refused with the throw as the cause', () => {
    const thrown = new Error('getter');
    const error = invalid({
      get provider(): string {
        throw thrown;
      },
    });
    expect(error.cause).toBe(thrown);
  });

  it('takes supportedUrls as given, copied', () => {
    const urls = { 'image/*': [/^https:\/\//] };
    const model = poolModel(pool, { supportedUrls: urls });
    urls['image/*'].push(/x/);
    expect(model.supportedUrls).toEqual({ 'image/*': [/^https:\/\//] });
  });
});

describe('poolModel run options', () => {
  useFakeTime();

  it('run.timeout applies to every call: a model that never answers fails with TimeoutError', async () => {
    const models = [hanging()];
    const timed = modelPool(models, { clock: dateClock, retry: false });
    const error = settled(generateText({ model: poolModel(timed, { run: { timeout: 2_000 } }), prompt: 'hi', maxRetries: 0 }).catch((e: unknown) => e));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await error).toBeInstanceOf(TimeoutError);
    expect(models[0]?.signals[0]?.aborted).toBe(true);
    await timed.close();
  });
});
