import { describe, expect, it } from 'vitest';
import { CallbackError } from '../../src/errors.js';
import { CLOSED, type Breaker, type CircuitState } from '../../src/breaker/breaker.js';
import { ConsecutiveBreaker } from '../../src/breaker/consecutive.js';
import { guardedBreaker } from '../../src/breaker/guarded-breaker.js';

/** A breaker whose every method throws `error` while `isBroken`. */
function brokenBreaker(error: Error, usesDuration?: boolean): { breaker: Breaker; calls: string[]; setBroken: (isBroken: boolean) => void; setState: (state: CircuitState) => void } {
  let isBroken = false;
  let state: CircuitState = CLOSED;
  const calls: string[] = [];
  const act = <R>(name: string, value: R): R => {
    calls.push(name);
    if (isBroken) throw error;
    return value;
  };
  const breaker: Breaker = {
    get state() {
      return act('state', state);
    },
    acquire: () => act('acquire', false),
    canAcquire: () => act('canAcquire', false),
    success: (admission, durationMs) => act(`success ${admission} ${durationMs}`, undefined),
    failure: (admission, durationMs) => act(`failure ${admission} ${durationMs}`, undefined),
    release: (admission) => act(`release ${admission}`, undefined),
    ...(usesDuration === undefined ? {} : { usesDuration }),
  };
  return { breaker, calls, setBroken: (b) => (isBroken = b), setState: (s) => (state = s) };
}

describe('guardedBreaker', () => {
  it("uses the pool's own circuit as it is", () => {
    const circuit = new ConsecutiveBreaker();
    expect(guardedBreaker(circuit, () => undefined)).toBe(circuit);
  });

  it('passes every call and answer through while the breaker works', () => {
    const { breaker, calls, setState } = brokenBreaker(new Error('x'));
    const open: CircuitState = { kind: 'open', until: 5, trips: 1 };
    setState(open);
    const guarded = guardedBreaker(breaker, () => expect.unreachable());
    expect(guarded.state).toBe(open);
    expect(guarded.acquire()).toBe(false);
    expect(guarded.canAcquire()).toBe(false);
    guarded.success('call', 3);
    guarded.failure('probe', 4);
    guarded.release('probe');
    expect(calls).toEqual(['state', 'acquire', 'canAcquire', 'success call 3', 'failure probe 4', 'release probe']);
  });

  it('a method that throws is reported by name and answers as a breaker that knows nothing: admit, last state', () => {
    const error = new Error('broken');
    const { breaker, setBroken, setState } = brokenBreaker(error);
    const warnings: [string, unknown][] = [];
    const guarded = guardedBreaker(breaker, (name, e) => warnings.push([name, e]));
    const halfOpen: CircuitState = { kind: 'half-open', trips: 2 };
    setState(halfOpen);
    expect(guarded.state).toBe(halfOpen);
    setBroken(true);
    expect(guarded.state).toBe(halfOpen);
    expect(guarded.acquire()).toBe('call');
    expect(guarded.canAcquire()).toBe(true);
    expect(guarded.success('call', 1)).toBeUndefined();
    expect(guarded.failure('call', 1)).toBeUndefined();
    expect(guarded.release('call')).toBeUndefined();
    expect(warnings).toEqual([
      ["the breaker's state", error],
      ["the breaker's acquire()", error],
      ["the breaker's canAcquire()", error],
      ["the breaker's success()", error],
      ["the breaker's failure()", error],
      ["the breaker's release()", error],
    ]);
  });

  it('a breaker broken from the start reads as closed', () => {
    const { breaker, setBroken } = brokenBreaker(new Error('broken'));
    setBroken(true);
    expect(guardedBreaker(breaker, () => undefined).state).toBe(CLOSED);
  });

  it('keeps usesDuration only when the breaker sets it to true', () => {
    expect(guardedBreaker(brokenBreaker(new Error('x'), true).breaker, () => undefined).usesDuration).toBe(true);
    expect('usesDuration' in guardedBreaker(brokenBreaker(new Error('x'), false).breaker, () => undefined)).toBe(false);
    expect('usesDuration' in guardedBreaker(brokenBreaker(new Error('x')).breaker, () => undefined)).toBe(false);
  });

  it('an async method answers as a breaker that knows nothing, and says why', async () => {
    const last: CircuitState = { kind: 'half-open', trips: 1 };
    let state: CircuitState | Promise<CircuitState> = last;
    const breaker = {
      get state() {
        return state;
      },
      acquire: () => Promise.resolve(false),
      canAcquire: () => Promise.resolve(false),
      success: () => undefined,
      failure: () => undefined,
      release: () => undefined,
    } as unknown as Breaker;
    const warnings: [string, unknown][] = [];
    const guarded = guardedBreaker(breaker, (name, e) => warnings.push([name, e]));
    expect(guarded.state).toBe(last);
    state = Promise.resolve(CLOSED);
    expect(guarded.state).toBe(last);
    expect(guarded.acquire()).toBe('call');
    expect(guarded.canAcquire()).toBe(true);
    await Promise.resolve();
    expect(warnings.map(([name]) => name)).toEqual(["the breaker's state", "the breaker's acquire()", "the breaker's canAcquire()"]);
    for (const [name, error] of warnings) {
      expect(error).toBeInstanceOf(CallbackError);
      expect((error as Error).message).toBe(`${name} returned a promise where an answer was due at once`);
    }
  });

  it('only an object is taken for a promise: any other answer, a function with a then method too, passes through', async () => {
    let thenCalls = 0;
    const callable = Object.assign(() => undefined, {
      then: (_resolve: unknown, reject: (error: unknown) => void) => {
        thenCalls++;
        reject(new Error('read as a promise'));
      },
    });
    const answers: unknown[] = [callable, 'call', false, 0, undefined, null];
    let answer: unknown;
    const breaker = {
      get state() {
        return answer;
      },
      acquire: () => answer,
      canAcquire: () => answer,
      success: () => answer,
      failure: () => answer,
      release: () => answer,
    } as unknown as Breaker;
    const warnings: unknown[] = [];
    const guarded = guardedBreaker(breaker, (name) => warnings.push(name));
    for (answer of answers) {
      expect([guarded.state, guarded.acquire(), guarded.canAcquire(), guarded.success('call', 1), guarded.failure('call', 1), guarded.release('call')]).toEqual(Array.from({ length: 6 }, () => answer));
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(thenCalls).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('an async outcome method is not waited for; its rejection is reported as a throw is', async () => {
    const error = new Error('rejected');
    let outcome: Promise<void> = Promise.resolve();
    const breaker = {
      state: CLOSED,
      acquire: () => 'call',
      canAcquire: () => true,
      success: () => outcome,
      failure: () => outcome,
      release: () => outcome,
    } as unknown as Breaker;
    const warnings: [string, unknown][] = [];
    const guarded = guardedBreaker(breaker, (name, e) => warnings.push([name, e]));
    expect(guarded.success('call', 1)).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toEqual([]);
    outcome = Promise.reject(error);
    guarded.success('call', 1);
    guarded.failure('call', 1);
    guarded.release('call');
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toEqual([
      ["the breaker's success()", error],
      ["the breaker's failure()", error],
      ["the breaker's release()", error],
    ]);
  });
});
