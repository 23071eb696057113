// Token usage reported to the cost quotas (issue 16 §4, issue 15 §1): a pooled model reserves a cost and
// settles each call's real usage on the key that served it.
import { generateText, streamText } from 'ai';
import { describe, expect, it } from 'vitest';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { ClientPool } from '../../src/index.js';
import { poolModel } from '../../src/ai/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { answering, usage } from './mock-models.js';

const MINUTE = 60_000;

function keyPool(): { pool: ClientPool<LanguageModelV4>; tokensLeft: () => number | undefined } {
  const pool = new ClientPool<LanguageModelV4>({ clock: new ManualClock() });
  pool.add(answering('hi', usage(300, 200)), { name: 'key', limit: { tokens: { rate: 10_000, per: MINUTE }, outputTokens: { rate: 4_000, per: MINUTE } } });
  return { pool, tokensLeft: () => pool.members()[0]!.quota?.['tokens'] };
}

describe('poolModel: token usage settled on the key that served', () => {
  it('generateText: the reservation of 2 000 is settled to the 500 the model reported', async () => {
    const { pool, tokensLeft } = keyPool();
    await generateText({ model: poolModel(pool, { cost: { tokens: 2_000 } }), prompt: 'Hello' });
    expect(tokensLeft()).toBe(9_500);
    expect(pool.members()[0]!.quota?.['outputTokens']).toBe(3_800);
  });

  it('streamText: usage is settled when the finish part passes, after the pool call ended', async () => {
    const { pool, tokensLeft } = keyPool();
    const result = streamText({ model: poolModel(pool, { cost: () => ({ tokens: 1_000 }) }), prompt: 'Hello' });
    expect(await result.text).toBe('hi');
    expect(tokensLeft()).toBe(9_500);
  });

  it('without a cost option nothing is reserved, and the usage is still charged', async () => {
    const { pool, tokensLeft } = keyPool();
    await generateText({ model: poolModel(pool), prompt: 'Hello' });
    expect(tokensLeft()).toBe(9_500);
  });

  it('an estimate from the call options reserves per call: a key without room for it is skipped', async () => {
    const pool = new ClientPool<LanguageModelV4>({ clock: new ManualClock(), maxWait: 0 });
    pool.add(answering('small', usage(10, 10)), { name: 'small', limit: { tokens: { rate: 1_000, per: MINUTE } } });
    pool.add(answering('large', usage(10, 10)), { name: 'large', limit: { tokens: { rate: 40_000, per: MINUTE } } });
    const model = poolModel(pool, { cost: (options) => ({ tokens: (options.maxOutputTokens ?? 0) + 500 }) });
    const { text } = await generateText({ model, prompt: 'Hello', maxOutputTokens: 4_000 });
    expect(text).toBe('large');
  });

  it('an estimate that throws rejects the call with CallbackError before any model is called', async () => {
    const model = answering('hi');
    const pool = new ClientPool<LanguageModelV4>();
    pool.add(model);
    const pooled = poolModel(pool, {
      cost: () => {
        throw new Error('estimate broke');
      },
    });
    await expect(pooled.doGenerate({ prompt: [] })).rejects.toMatchObject({ code: 'ERR_CALLBACK', cause: { message: 'estimate broke' } });
    expect(model.doGenerateCalls).toHaveLength(0);
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it('an invalid cost is refused by name when the model is made, or per call when estimated', async () => {
    const pool = new ClientPool<LanguageModelV4>();
    pool.add(answering('hi'));
    expect(() => poolModel(pool, { cost: { tokens: -1 } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'cost.tokens' }));
    const pooled = poolModel(pool, { cost: () => ({ tokens: Number.NaN }) });
    await expect(pooled.doGenerate({ prompt: [] })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'cost.tokens' });
  });
});
