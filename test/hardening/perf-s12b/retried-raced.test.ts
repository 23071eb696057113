// Retries with timeouts, signals and deadlines, hedges with a deadline, around/onCallEnd, measureLatency:
// what the caller sees and each client's counts, as the code before the raced fast path gave them (cf8f33c).
import { expect, it, vi } from 'vitest';
import * as lib from '../../../src/index.js';
import { scenarios } from './scenarios.js';

const expected: Record<string, string[]> = {
  'retry+timeout: first succeeds before its timeout': ['a1@c0:first', 'call=c0', 'c0:s1f0c0r0i0 c1:s0f0c0r0i0', 'budget={"balance":10,"refused":0}'],
  'retry+timeout: first throws, second succeeds': ['a1@c0:first', 'a2@c1:retry', 'call=c1', 'c0:s0f1c0r0i0 c1:s1f0c0r0i0'],
  'retry+timeout: first times out, second succeeds, first answers late': ['a1@c0:first', 'a2@c1:retry', 'call=c1', 'c0:s0f1c0r0i0 c1:s1f0c0r0i0'],
  'retry+signal: caller aborts the first attempt: no retry': ['a1@c0:first', 'call!ERR_ABORTED', 'c0:s0f0c1r0i0 c1:s0f0c0r0i0'],
  'retry+signal: first succeeds, abort after: the value, no retry': ['a1@c0:first', 'call=c0', 'c0:s1f0c0r0i0 c1:s0f0c0r0i0'],
  'retryOn sees each failure and its attempt number; false stops': ['a1@c0:first', 'retryOn(ERR_TIMEOUT,1)', 'a2@c1:retry', 'retryOn(ERR_TIMEOUT,2)', 'call!ERR_TIMEOUT', 'c0:s0f1c0r0i0 c1:s0f1c0r0i0 c2:s0f0c0r0i0'],
  'retryOn throwing: reported, no retry': ['a1@c0:first', 'call!ERR_CLIENT_CALL', 'c0:s0f1c0r0i0 c1:s0f0c0r0i0'],
  'default retry rule: an answered error (isFailure false) is not retried, with a timeout': ['a1@c0:first', 'call!ERR_CLIENT_CALL', 'c0:s0f1c0r0i0 c1:s0f0c0r0i0'],
  'deadline with retries: the late retry is cut, a cancellation of its client': ['a1@c0:first', 'a2@c1:retry', 'a3@c2:retry', 'call!ERR_DEADLINE_EXCEEDED', 'c0:s0f1c0r0i0 c1:s0f1c0r0i0 c2:s0f0c1r0i0'],
  'deadline with hedges: attempts cut at the deadline': ['a1@c0:first', 'a2@c1:hedge', 'call!ERR_DEADLINE_EXCEEDED', 'c0:s0f1c0r0i0 c1:s0f0c1r0i0 c2:s0f0c0r0i0'],
  'onCallEnd and around with retries and a timeout': ['around', 'a1@c0:first', 'end:ok:undefined', 'ok=c0', 'around', 'a1@c1:first', 'a2@c0:retry', 'end:ok:undefined', 'retried=c0', 'around', 'a1@c1:first', 'end:ERR_ABORTED:undefined', 'aborted!ERR_ABORTED', 'c0:s2f0c0r0i0 c1:s0f1c1r0i0'],
  'measureLatency with retries and a timeout: durations heard': ['a1@c0:first', 'o:1:failure:10', 'a2@c1:retry', 'o:2:success:3', 'call=c1', 'a1@c0:first', 'o:1:success:4', 'plain=c0', 'c0:s1f1c0r0i0 c1:s1f0c0r0i0'],
};

for (const [name, want] of Object.entries(expected)) {
  it(`${name}: as before the raced fast path, no unhandled rejection`, async () => {
    const unhandled: unknown[] = [];
    const on = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', on);
    vi.useFakeTimers();
    vi.setSystemTime(0);
    let got: string[];
    try {
      got = await scenarios[name]!(lib);
    } finally {
      vi.useRealTimers();
    }
    await new Promise((r) => setTimeout(r, 1));
    process.off('unhandledRejection', on);
    expect(unhandled).toEqual([]);
    expect(got).toEqual(want);
  });
}
