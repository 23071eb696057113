import { describe, expect, it } from 'vitest';
import { HttpRequestError } from 'viem';
import { SolanaError, SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR } from '@solana/kit';
import { ClientCallError, type Call } from '../../src/index.js';
import { parseRetryAfter, pauseOnRetryAfter, retryAfterMs } from '../../src/jsonrpc/index.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const limited = (retryAfter: string | undefined, status = 429): HttpRequestError =>
  new HttpRequestError({ url: 'http://127.0.0.1', status, headers: new Headers(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) });

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120_000],
    ['0', 0],
    [' 1.5 ', 1_500],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['soon', undefined],
    ['-5', undefined],
    ['', undefined],
  ])('%j is %s ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });
});

describe('retryAfterMs', () => {
  it('reads a 429 of viem, through the pool wrapper', () => {
    expect(retryAfterMs(new ClientCallError(limited('30'), 'a', 'eth_call'), NOW)).toBe(30_000);
  });

  it('reads a 429 of kit, from its context', () => {
    const error = new SolanaError(SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR, { headers: new Headers({ 'Retry-After': '2' }), message: 'Too Many Requests', statusCode: 429 });
    expect(retryAfterMs(error, NOW)).toBe(2_000);
  });

  it('has nothing to say for another status, or a 429 with no header', () => {
    expect(retryAfterMs(limited('30', 503), NOW)).toBeUndefined();
    expect(retryAfterMs(limited(undefined), NOW)).toBeUndefined();
    expect(retryAfterMs(new Error('plain'), NOW)).toBeUndefined();
  });
});

describe('pauseOnRetryAfter', () => {
  const callRecording = (): { call: Call<unknown>; pauses: number[] } => {
    const pauses: number[] = [];
    return { pauses, call: { pauseClient: (ms: number) => pauses.push(ms) } as unknown as Call<unknown> };
  };

  it('pauses the client for the Retry-After, at most maxPause', () => {
    const { call, pauses } = callRecording();
    pauseOnRetryAfter(limited('30'), call, 60_000);
    pauseOnRetryAfter(limited('3600'), call, 60_000);
    expect(pauses).toEqual([30_000, 60_000]);
  });

  it('does not pause for a zero Retry-After, or when maxPause is 0', () => {
    const { call, pauses } = callRecording();
    pauseOnRetryAfter(limited('0'), call, 60_000);
    pauseOnRetryAfter(limited('30'), call, 0);
    expect(pauses).toEqual([]);
  });
});
