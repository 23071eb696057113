// rateLimitPauseMs: how long a 429 pauses its model.
import { describe, expect, it } from 'vitest';
import { ClientCallError } from '../../src/index.js';
import { rateLimitPauseMs } from '../../src/ai/index.js';
import { apiError } from './mock-models.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('rateLimitPauseMs', () => {
  it.each([
    [{ 'retry-after': '30' }, 30_000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after-ms': '1500' }, 1_500],
    [{ 'retry-after-ms': '250.5', 'retry-after': '60' }, 250.5],
    [{ 'Retry-After': '2' }, 2_000],
    [{ 'retry-after': new Date(NOW + 45_000).toUTCString() }, 45_000],
    [{ 'retry-after': new Date(NOW - 45_000).toUTCString() }, 0],
    [{ 'retry-after': 'soon' }, 1_000],
    [{ 'retry-after': '-5' }, 1_000],
    [{ 'retry-after-ms': 'abc', 'retry-after': '3' }, 3_000],
    [{ 'retry-after': '99999999999' }, 60_000],
    [{ 'retry-after': 'x 2099' }, 1_000],
    [{}, 1_000],
  ])('a 429 with headers %o pauses %d ms', (headers, ms) => {
    expect(rateLimitPauseMs(apiError(429, headers as Record<string, string>), 1_000, NOW)).toBe(ms);
  });

  it('a 429 without headers pauses the fallback; 0 means no pause', () => {
    expect(rateLimitPauseMs(apiError(429), 750, NOW)).toBe(750);
    expect(rateLimitPauseMs(apiError(429), 0, NOW)).toBe(0);
  });

  it('anything but a 429 pauses nothing, whatever its headers', () => {
    expect(rateLimitPauseMs(apiError(503, { 'retry-after': '30' }), 1_000, NOW)).toBeUndefined();
    expect(rateLimitPauseMs(new Error('network'), 1_000, NOW)).toBeUndefined();
  });

  it('reads a 429 wrapped by the pool, along the cause chain', () => {
    expect(rateLimitPauseMs(new ClientCallError(apiError(429, { 'retry-after': '7' }), 'm0', 'generate'), 1_000, NOW)).toBe(7_000);
  });
});
