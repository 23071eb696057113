import { describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientCallError, ClientPoolError, RateLimitedError, TimeoutError, type Outcome } from '../../src/index.js';
import { MAX_ERROR_TYPES, MetricAttributes } from '../../src/otel/metrics-attributes.js';

const SUCCESS: Outcome = { kind: 'success' };
/** No pool attached: every client is gone for a sweep. */
const noClients = (): ReadonlySet<string> => new Set();
const timedOut = (): Outcome => ({ kind: 'failure', error: new TimeoutError(20, 'a') });

describe('MetricAttributes: the attribute sets recorded with, made once', () => {
  it('returns the very same frozen object for the same client, method, kind and outcome', () => {
    const attributes = new MetricAttributes(100, {}, noClients);
    const first = attributes.attempt('a', 'get', 'first', SUCCESS);
    expect(attributes.attempt('a', 'get', 'first', { kind: 'success' })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toEqual({ 'clientpool.client': 'a', 'clientpool.method': 'get', 'clientpool.attempt.kind': 'first', 'clientpool.outcome': 'success' });
    // A new error of the same code is the same set.
    expect(attributes.attempt('a', 'get', 'retry', timedOut())).toBe(attributes.attempt('a', 'get', 'retry', timedOut()));
    expect(attributes.call('get', new TimeoutError(1, 'a'), true)).toBe(attributes.call('get', new TimeoutError(2, 'b'), true));
    expect(attributes.client('a')).toBe(attributes.client('a'));
    expect(attributes.transition('a', 'closed', 'open')).toBe(attributes.transition('a', 'closed', 'open'));
  });

  it.each<[string, Outcome, Record<string, string>]>([
    ['failure', { kind: 'failure', error: new TimeoutError(20, 'a') }, { 'clientpool.outcome': 'failure', 'error.type': 'ERR_TIMEOUT' }],
    ['answered', { kind: 'answered', error: new ClientCallError(new Error('404'), 'a', 'get') }, { 'clientpool.outcome': 'answered', 'error.type': 'ERR_CLIENT_CALL' }],
    ['refused', { kind: 'refused', error: new RateLimitedError(5) }, { 'clientpool.outcome': 'refused', 'error.type': 'ERR_RATE_LIMITED' }],
    ['cancelled', { kind: 'cancelled', error: new AbortedError('left') }, { 'clientpool.outcome': 'cancelled' }],
  ])('sets error.type to the code of a %s, and only of a failed attempt', (_, outcome, expected) => {
    const attributes = new MetricAttributes(100, {}, noClients);
    expect(attributes.attempt('a', 'get', 'hedge', outcome)).toEqual({ 'clientpool.client': 'a', 'clientpool.method': 'get', 'clientpool.attempt.kind': 'hedge', ...expected });
  });

  it('keeps kinds and outcomes apart', () => {
    const attributes = new MetricAttributes(100, {}, noClients);
    const sets = new Set(
      (['first', 'retry', 'hedge'] as const).flatMap((kind) => [SUCCESS, timedOut(), { kind: 'cancelled', error: new AbortedError('x') } as Outcome].map((outcome) => attributes.attempt('a', 'get', kind, outcome))),
    );
    expect(sets.size).toBe(9);
  });

  it('gives a call error without a clientpool code error.type ERR_UNKNOWN, and a successful call none', () => {
    const attributes = new MetricAttributes(100, {}, noClients);
    expect(attributes.call('get', Object.assign(new Error('reset'), { code: 'ECONNRESET' }), true)).toEqual({ 'clientpool.method': 'get', 'error.type': 'ERR_UNKNOWN' });
    expect(attributes.call('get', 'a string', true)).toEqual({ 'clientpool.method': 'get', 'error.type': 'ERR_UNKNOWN' });
    expect(attributes.call('get', undefined, false)).toEqual({ 'clientpool.method': 'get' });
  });

  it('caps methods at maxMethods across every instrument: later ones are other', () => {
    const attributes = new MetricAttributes(2, {}, noClients);
    expect(attributes.attempt('a', 'm1', 'first', SUCCESS)['clientpool.method']).toBe('m1');
    expect(attributes.call('m2', undefined, false)['clientpool.method']).toBe('m2');
    expect(attributes.rateLimit({ scope: 'pool', client: undefined, method: 'm3', waitedMs: 1, rejected: false })['clientpool.method']).toBe('other');
    expect(attributes.attempt('b', 'm4', 'first', SUCCESS)).toBe(attributes.attempt('b', 'm5', 'first', SUCCESS));
    expect(attributes.attempt('b', 'm4', 'first', SUCCESS)['clientpool.method']).toBe('other');
    expect(attributes.attempt('b', 'm1', 'first', SUCCESS)['clientpool.method']).toBe('m1');
    expect(new MetricAttributes(0, {}, noClients).call('m1', undefined, false)['clientpool.method']).toBe('other');
  });

  it('adds the constant attributes to every set', () => {
    const attributes = new MetricAttributes(100, { 'clientpool.pool': 'rpc' }, noClients);
    for (const set of [
      attributes.attempt('a', 'get', 'first', timedOut()),
      attributes.call('get', undefined, false),
      attributes.client('a'),
      attributes.transition('a', 'open', 'half-open'),
      attributes.rateLimit({ scope: 'client', client: 'a', method: 'get', waitedMs: 1, rejected: true }),
    ]) expect(set['clientpool.pool']).toBe('rpc');
  });

  it('names the client of a rate limit only when the event has one, and marks a refusal', () => {
    const attributes = new MetricAttributes(100, {}, noClients);
    expect(attributes.rateLimit({ scope: 'pool', client: undefined, method: 'get', waitedMs: 1, rejected: false })).toEqual({ 'clientpool.rate_limit.scope': 'pool', 'clientpool.method': 'get' });
    expect(attributes.rateLimit({ scope: 'client', client: 'a', method: 'get', waitedMs: 1, rejected: true })).toEqual({
      'clientpool.rate_limit.scope': 'client',
      'clientpool.client': 'a',
      'clientpool.method': 'get',
      'error.type': 'ERR_RATE_LIMITED',
    });
  });

  it('caps distinct error types at MAX_ERROR_TYPES: later codes are ERR_UNKNOWN', () => {
    const attributes = new MetricAttributes(100, {}, noClients);
    class DataCodeError extends ClientPoolError {
      readonly code: string;
      constructor(code: string) {
        super(code);
        this.code = code;
      }
    }
    for (let i = 0; i < MAX_ERROR_TYPES; i++) expect(attributes.call('get', new DataCodeError(`ERR_${i}`), true)['error.type']).toBe(`ERR_${i}`);
    expect(attributes.call('get', new DataCodeError('ERR_ONE_TOO_MANY'), true)['error.type']).toBe('ERR_UNKNOWN');
    expect(attributes.call('get', new DataCodeError('ERR_0'), true)['error.type']).toBe('ERR_0');
  });

  it('forgets the sets of clients no longer in any pool, and makes equal ones again if one comes back', () => {
    const attributes = new MetricAttributes(100, {}, noClients);
    const kept = attributes.attempt('a', 'get', 'first', SUCCESS);
    const dropped = attributes.attempt('b', 'get', 'first', SUCCESS);
    const droppedClient = attributes.client('b');
    attributes.retainClients(new Set(['a']));
    expect(attributes.attempt('a', 'get', 'first', SUCCESS)).toBe(kept);
    const again = attributes.attempt('b', 'get', 'first', SUCCESS);
    expect(again).not.toBe(dropped);
    expect(again).toEqual(dropped);
    expect(attributes.client('b')).not.toBe(droppedClient);
  });

  it('forgets the circuit-transition and client-scope rate-limit sets of clients no longer in any pool; pool-scope ones stay', () => {
    const attributes = new MetricAttributes(100, {}, noClients);
    const keptTransition = attributes.transition('a', 'closed', 'open');
    const droppedTransition = attributes.transition('b', 'closed', 'open');
    const keptLimit = attributes.rateLimit({ scope: 'client', client: 'a', method: 'get', waitedMs: 1, rejected: false });
    const droppedLimit = attributes.rateLimit({ scope: 'client', client: 'b', method: 'get', waitedMs: 1, rejected: true });
    const poolLimit = attributes.rateLimit({ scope: 'pool', client: undefined, method: 'get', waitedMs: 1, rejected: false });
    attributes.retainClients(new Set(['a']));
    expect(attributes.transition('a', 'closed', 'open')).toBe(keptTransition);
    expect(attributes.rateLimit({ scope: 'client', client: 'a', method: 'get', waitedMs: 2, rejected: false })).toBe(keptLimit);
    expect(attributes.rateLimit({ scope: 'pool', client: undefined, method: 'get', waitedMs: 2, rejected: false })).toBe(poolLimit);
    const transitionAgain = attributes.transition('b', 'closed', 'open');
    expect(transitionAgain).not.toBe(droppedTransition);
    expect(transitionAgain).toEqual(droppedTransition);
    const limitAgain = attributes.rateLimit({ scope: 'client', client: 'b', method: 'get', waitedMs: 2, rejected: true });
    expect(limitAgain).not.toBe(droppedLimit);
    expect(limitAgain).toEqual(droppedLimit);
  });
});

describe('MetricAttributes: sweeping the sets of gone clients between collections', () => {
  /** `count` clients `${prefix}0`.. each given an attempt set. */
  const attemptsOf = (attributes: MetricAttributes, prefix: string, count: number): void => {
    for (let i = 0; i < count; i++) attributes.attempt(`${prefix}${i}`, 'get', 'first', SUCCESS);
  };

  it('sweeps at the 64th new client, before making its entry: gone clients\' sets are forgotten, live ones\' kept', () => {
    const live = vi.fn((): ReadonlySet<string> => new Set(['keep']));
    const attributes = new MetricAttributes(100, {}, live);
    const kept = attributes.attempt('keep', 'get', 'first', SUCCESS);
    attemptsOf(attributes, 'gone', 62);
    expect(live).not.toHaveBeenCalled();
    expect(attributes.entryCounts().attempts).toBe(63);

    attributes.attempt('next', 'get', 'first', SUCCESS);
    expect(live).toHaveBeenCalledTimes(1);
    // "keep" and the client whose entry triggered the sweep.
    expect(attributes.entryCounts().attempts).toBe(2);
    expect(attributes.attempt('keep', 'get', 'first', SUCCESS)).toBe(kept);
  });

  it('waits for as many new clients as were live at the last sweep, when more than 64: amortised O(1) per client', () => {
    const many = new Set(Array.from({ length: 500 }, (_, i) => `live${i}`));
    const live = vi.fn((): ReadonlySet<string> => many);
    const attributes = new MetricAttributes(100, {}, live);
    attemptsOf(attributes, 'gone', 64);
    expect(live).toHaveBeenCalledTimes(1);
    attemptsOf(attributes, 'later', 499);
    expect(live).toHaveBeenCalledTimes(1);
    attributes.attempt('one-more', 'get', 'first', SUCCESS);
    expect(live).toHaveBeenCalledTimes(2);
  });

  it('stays bounded by the allowance whatever the churn, in every per-client map', () => {
    const attributes = new MetricAttributes(100, {}, noClients);
    for (let i = 0; i < 10_000; i++) {
      const client = `c${i}`;
      attributes.attempt(client, 'get', 'first', timedOut());
      attributes.transition(client, 'closed', 'open');
      attributes.rateLimit({ scope: 'client', client, method: 'get', waitedMs: 1, rejected: false });
      attributes.rateLimit({ scope: 'pool', client: undefined, method: 'get', waitedMs: 1, rejected: true });
      const { attempts, transitions, rateLimits } = attributes.entryCounts();
      // Three entries per client share one allowance of 64 new entries (the pool-scope set is no client's).
      expect(attempts + transitions + rateLimits - 1).toBeLessThanOrEqual(64);
    }
    attributes.retainClients(new Set(['c9999']));
    expect(attributes.entryCounts()).toEqual({ attempts: 1, gauges: 0, transitions: 1, rateLimits: 2, methods: 0 });
  });

  it('makes no gauge set count towards a sweep: they are made at collection, for live clients only', () => {
    const live = vi.fn(noClients);
    const attributes = new MetricAttributes(100, {}, live);
    for (let i = 0; i < 200; i++) attributes.client(`c${i}`);
    expect(live).not.toHaveBeenCalled();
    attributes.retainClients(new Set(['c1']));
    expect(attributes.entryCounts().gauges).toBe(1);
  });
});

describe('MetricAttributes: error.type of errors with odd codes', () => {
  /** A clientpool error of a user subclass whose `code` getter throws. */
  class ThrowingCodeError extends ClientPoolError {
    override get code(): string {
      throw new Error('no code');
    }
  }
  /** A user subclass whose `code` is not a string. */
  class NumericCodeError extends ClientPoolError {
    override get code(): string {
      return 42 as unknown as string;
    }
  }

  it.each<[string, ClientPoolError]>([
    ['whose code getter throws', new ThrowingCodeError('x')],
    ['whose code is not a string', new NumericCodeError('x')],
  ])('gives a call and an attempt that failed with a clientpool error %s error.type ERR_UNKNOWN, without throwing', (_, error) => {
    const attributes = new MetricAttributes(100, {}, noClients);
    expect(attributes.call('get', error, true)).toEqual({ 'clientpool.method': 'get', 'error.type': 'ERR_UNKNOWN' });
    expect(attributes.attempt('a', 'get', 'first', { kind: 'failure', error })['error.type']).toBe('ERR_UNKNOWN');
  });

  it('counts ERR_UNKNOWN against no slot of the cap: MAX_ERROR_TYPES real codes still keep their names after odd ones', () => {
    const attributes = new MetricAttributes(100, {}, noClients);
    class DataCodeError extends ClientPoolError {
      readonly code: string;
      constructor(code: string) {
        super(code);
        this.code = code;
      }
    }
    for (let i = 0; i < 3; i++) attributes.call('get', new ThrowingCodeError('x'), true);
    for (let i = 0; i < MAX_ERROR_TYPES; i++) expect(attributes.call('get', new DataCodeError(`ERR_${i}`), true)['error.type']).toBe(`ERR_${i}`);
  });
});
