// eitherSignal: one signal following two, that lets go of both once released (no listener left on a
// long-lived source, unlike Node 20's AbortSignal.any).
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { eitherSignal } from '../../src/wrapping/either-signal.js';

describe('eitherSignal', () => {
  it('aborts with the reason of whichever source aborts first', () => {
    const a = new AbortController();
    const b = new AbortController();
    const either = eitherSignal(a.signal, b.signal);
    expect(either.signal.aborted).toBe(false);
    b.abort('second');
    a.abort('first');
    expect(either.signal.reason).toBe('second');
  });

  it('is an already aborted source when one has aborted', () => {
    const a = new AbortController();
    a.abort('gone');
    expect(eitherSignal(new AbortController().signal, a.signal).signal).toBe(a.signal);
  });

  it('release removes its listeners from both sources; an abort removes them too', () => {
    const a = new AbortController();
    const b = new AbortController();
    const either = eitherSignal(a.signal, b.signal);
    expect([getEventListeners(a.signal, 'abort').length, getEventListeners(b.signal, 'abort').length]).toEqual([1, 1]);
    either.release();
    expect([getEventListeners(a.signal, 'abort').length, getEventListeners(b.signal, 'abort').length]).toEqual([0, 0]);
    a.abort();
    expect(either.signal.aborted).toBe(false);
    eitherSignal(a.signal, b.signal);
    const other = eitherSignal(new AbortController().signal, b.signal);
    b.abort();
    expect(other.signal.aborted).toBe(true);
    expect(getEventListeners(b.signal, 'abort').length).toBe(0);
  });
});
