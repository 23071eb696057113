import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../src/undici/retry-after.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('retryAfterMs', () => {
  it.each([
    ['delay-seconds', '30', 30_000],
    ['delay-seconds with spaces', ' 2 ', 2_000],
    ['the first of repeated headers', ['5', '60'], 5_000],
    ['an HTTP date in the future', 'Thu, 01 Jan 2026 00:00:10 GMT', 10_000],
    ['a huge delay, capped at 60 s', '99999999999', 60_000],
    ['a fraction of a second, as some servers send', '1.5', 1_500],
  ] as const)('reads %s', (_what, header, expected) => {
    expect(retryAfterMs(header as string | string[], () => NOW)).toBe(expected);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['zero', '0'],
    ['negative', '-5'],
    ['garbage', 'soon'],
    ['garbage that Date.parse takes for a year', 'x 2099'],
    ['a date in the past', 'Wed, 31 Dec 2025 23:59:00 GMT'],
  ] as const)('gives nothing for %s', (_what, header) => {
    expect(retryAfterMs(header, () => NOW)).toBeUndefined();
  });
});
