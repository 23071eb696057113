import { describe, expect, it } from 'vitest';
import { cleanPair } from '../../bench/clean-pair.js';

const BARE = 'bare await fn(client)';
const DEFAULT = 'clientpool default';

describe('bench: two candidates, each alone in fresh processes that alternate', () => {
  it('times each candidate in processes of its own, pair by pair, and gives the median of their ratios a / b', () => {
    const result = cleanPair(DEFAULT, BARE, { pairs: 2, iterations: 500, rounds: 1 });
    expect(result.a).toHaveLength(2);
    expect(result.b).toHaveLength(2);
    for (const ns of [...result.a, ...result.b]) expect(ns).toBeGreaterThan(0);
    const ratios = result.a.map((a, i) => a / result.b[i]!).sort((x, y) => x - y);
    // Two pairs: the median is the upper one (harness.ts's `median`), the quartiles the lower and upper.
    expect(result.ratio).toBe(ratios[1]);
    expect(result.middleHalf).toBe(`${ratios[0]!.toFixed(3)}-${ratios[1]!.toFixed(3)}`);
  });

  it('names a candidate it does not know, from the process that could not find it', () => {
    expect(() => cleanPair('no such candidate', BARE, { pairs: 1, iterations: 10, rounds: 1 })).toThrow(/no candidate named "no such candidate"/);
  });

  it.each([
    ['pairs', { pairs: 0, iterations: 10, rounds: 1 }],
    ['iterations', { pairs: 1, iterations: Number.NaN, rounds: 1 }],
    ['rounds', { pairs: 1, iterations: 10, rounds: 1.5 }],
  ])('refuses %s that is not a whole number >= 1, before starting any process', (key, options) => {
    expect(() => cleanPair(DEFAULT, BARE, options)).toThrow(new RangeError(`${key} must be a whole number >= 1, got ${String(options[key as keyof typeof options])}`));
  });
});
