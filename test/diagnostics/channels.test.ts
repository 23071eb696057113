import { AsyncLocalStorage } from 'node:async_hooks';
import * as dc from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CHANNELS,
  ClientPool,
  hasErrorCode,
  type AttemptEndMessage,
  type AttemptStartMessage,
  type CallMessage,
  type CircuitMessage,
  type RateLimitMessage,
} from '../../src/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';

type Client = { readonly id: string };

const CALL_EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;
type CallEvent = (typeof CALL_EVENTS)[number];

/** One message heard, in the order heard: `call:<event>` for the tracing channel, else the channel's name. */
interface Heard {
  readonly on: string;
  readonly message: unknown;
}

/** Subscribe to every clientpool channel; `stop()` unsubscribes all. */
function listen(): { readonly heard: Heard[]; readonly stop: () => void; readonly of: <M>(on: string) => M[] } {
  const heard: Heard[] = [];
  const calls = dc.tracingChannel(CHANNELS.call);
  const handlers = Object.fromEntries(CALL_EVENTS.map((event) => [event, (message: unknown): void => void heard.push({ on: `call:${event}`, message })])) as Record<CallEvent, (message: unknown) => void>;
  calls.subscribe(handlers);
  const plain = [CHANNELS.attemptStart, CHANNELS.attemptEnd, CHANNELS.circuit, CHANNELS.rateLimit].map((name) => {
    const onMessage = (message: unknown): void => void heard.push({ on: name, message });
    dc.subscribe(name, onMessage);
    return [name, onMessage] as const;
  });
  return {
    heard,
    stop: () => {
      calls.unsubscribe(handlers);
      for (const [name, onMessage] of plain) dc.unsubscribe(name, onMessage);
    },
    of: <M>(on: string) => heard.filter((h) => h.on === on).map((h) => h.message as M),
  };
}

const order = (heard: readonly Heard[]): string[] => heard.map((h) => h.on);
let stops: (() => void)[] = [];
function subscribed(): ReturnType<typeof listen> {
  const listener = listen();
  stops.push(() => listener.stop());
  return listener;
}

afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  vi.useRealTimers();
});

describe('diagnostics_channel: clientpool:call, a TracingChannel around each pool.run()', () => {
  it('a success: start, the attempt, end, then asyncStart/asyncEnd with the result, on one context object', async () => {
    const { heard, of } = subscribed();
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' }, { name: 'a' });
    const options = { method: 'get_slot' };
    expect(await pool.run((client) => `${client.id}!`, options)).toBe('a!');
    expect(order(heard)).toEqual(['call:start', CHANNELS.attemptStart, 'call:end', CHANNELS.attemptEnd, 'call:asyncStart', 'call:asyncEnd']);
    const [context] = of<CallMessage<Client>>('call:start');
    expect(context).toEqual({ pool, method: 'get_slot', options, result: 'a!' });
    // The options as the call reads them: once, into a copy (docs/call-pipeline.md).
    expect(context!.options).toEqual(options);
    for (const event of ['call:end', 'call:asyncStart', 'call:asyncEnd']) expect(of(event)[0]).toBe(context);
    expect('error' in context!).toBe(false);
    await pool.close();
  });

  it('a failure: error (what the caller got) before asyncStart/asyncEnd, and no result', async () => {
    const { heard, of } = subscribed();
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' }, { name: 'a' });
    const caught = await pool.run(() => Promise.reject(new Error('boom'))).catch((e: unknown) => e);
    expect(hasErrorCode(caught, 'ERR_CLIENT_CALL')).toBe(true);
    expect(order(heard)).toEqual(['call:start', CHANNELS.attemptStart, 'call:end', CHANNELS.attemptEnd, 'call:error', 'call:asyncStart', 'call:asyncEnd']);
    const [context] = of<CallMessage<Client>>('call:error');
    expect(context).toMatchObject({ pool, method: 'unknown', options: undefined });
    expect(context!.error).toBe(caught);
    expect('result' in context!).toBe(false);
    await pool.close();
  });

  it('a call refused before any attempt (no clients) is traced with no attempt events', async () => {
    const { heard, of } = subscribed();
    const pool = new ClientPool<Client>();
    const caught = await pool.run(() => 'never', { method: 'm' }).catch((e: unknown) => e);
    expect(hasErrorCode(caught, 'ERR_NO_CLIENTS')).toBe(true);
    expect(order(heard)).toEqual(['call:start', 'call:end', 'call:error', 'call:asyncStart', 'call:asyncEnd']);
    expect(of<CallMessage>('call:error')[0]!.error).toBe(caught);
    await pool.close();
  });

  it('options run() refuses are traced as the call that failed, the method read safely', async () => {
    const { of } = subscribed();
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' });
    const hostile = new Proxy({}, {
      get() {
        throw new Error('unreadable');
      },
    });
    const caught = await pool.run(() => 'never', hostile).catch((e: unknown) => e);
    expect(hasErrorCode(caught, 'ERR_INVALID_OPTION')).toBe(true);
    const bad = await pool.run(() => 'never', { method: 42 } as unknown as { method: string }).catch((e: unknown) => e);
    expect(hasErrorCode(bad, 'ERR_INVALID_OPTION')).toBe(true);
    expect(of<CallMessage>('call:error').map((c) => [c.method, c.error])).toEqual([['unknown', caught], ['unknown', bad]]);
    await pool.close();
  });

  it('wraps the around hooks too, and runs the call in the stores bound to its start channel', async () => {
    const { heard } = subscribed();
    const store = new AsyncLocalStorage<string>();
    const start = dc.channel('tracing:clientpool:call:start');
    start.bindStore(store, (context) => `call of ${(context as CallMessage).method}`);
    stops.push(() => start.unbindStore(store));
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' });
    pool.use({
      name: 'outer',
      around(_scope, next) {
        heard.push({ on: 'around', message: store.getStore() });
        return next();
      },
    });
    const seen = await pool.run(async () => {
      await Promise.resolve();
      return store.getStore();
    }, { method: 'get' });
    expect(seen).toBe('call of get');
    expect(order(heard).slice(0, 3)).toEqual(['call:start', 'around', CHANNELS.attemptStart]);
    expect(heard[1]!.message).toBe('call of get');
    await pool.close();
  });
});

describe('diagnostics_channel: clientpool:attempt:start and clientpool:attempt:end', () => {
  it('carry the pool, the call, its outcome and, when the pool times attempts, its duration in ms', async () => {
    const { of } = subscribed();
    const clock = new ManualClock();
    const pool = new ClientPool<Client>({ clock, measureLatency: true });
    pool.add({ id: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(7);
      return 'v';
    }, { method: 'get' });
    const [started] = of<AttemptStartMessage<Client>>(CHANNELS.attemptStart);
    const [ended] = of<AttemptEndMessage<Client>>(CHANNELS.attemptEnd);
    expect(started!.pool).toBe(pool);
    expect(started!.call).toMatchObject({ clientName: 'a', method: 'get', attempt: 1, kind: 'first' });
    expect(Object.keys(started!)).toEqual(['pool', 'call']);
    expect(ended).toEqual({ pool, call: started!.call, outcome: { kind: 'success' }, durationMs: 7 });
    await pool.close();
  });

  it('durationMs is NaN when the pool does not time attempts', async () => {
    const { of } = subscribed();
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' });
    await pool.run(() => 'v');
    expect(of<AttemptEndMessage>(CHANNELS.attemptEnd)[0]!.durationMs).toBeNaN();
    await pool.close();
  });

  it('a retry: each attempt starts and ends in turn, the failure before the retry, one call around both', async () => {
    const { heard, of } = subscribed();
    const pool = new ClientPool<Client>({ strategy: 'round-robin', retry: { attempts: 2, backoff: { initial: 0, jitter: 'none' } } });
    pool.add({ id: 'bad' }, { name: 'bad' });
    pool.add({ id: 'good' }, { name: 'good' });
    const value = await pool.run((client) => (client.id === 'bad' ? Promise.reject(new Error('down')) : client.id));
    expect(value).toBe('good');
    const attempts = heard.filter((h) => h.on.startsWith('clientpool:attempt'));
    expect(attempts.map((h) => [h.on, (h.message as AttemptStartMessage).call.clientName, (h.message as AttemptStartMessage).call.kind])).toEqual([
      [CHANNELS.attemptStart, 'bad', 'first'],
      [CHANNELS.attemptEnd, 'bad', 'first'],
      [CHANNELS.attemptStart, 'good', 'retry'],
      [CHANNELS.attemptEnd, 'good', 'retry'],
    ]);
    const ends = of<AttemptEndMessage>(CHANNELS.attemptEnd);
    expect(ends[0]!.outcome.kind).toBe('failure');
    expect(ends[1]!.outcome.kind).toBe('success');
    expect(ends[1]!.call.attempt).toBe(2);
    expect(order(heard)[0]).toBe('call:start');
    expect(order(heard).at(-1)).toBe('call:asyncEnd');
    expect(of('call:start')).toHaveLength(1);
    await pool.close();
  });

  it('a hedge: the hedge starts after the delay and wins; the first attempt, outrun, ends as a failure', async () => {
    vi.useFakeTimers();
    const { heard, of } = subscribed();
    const pool = new ClientPool<Client>({ strategy: 'round-robin', hedge: { delay: 10 }, retryBudget: false });
    pool.add({ id: 'slow' }, { name: 'slow' });
    pool.add({ id: 'fast' }, { name: 'fast' });
    const call = pool.run((client, { signal }) => (client.id === 'fast' ? 'fast' : new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped'))))));
    await vi.advanceTimersByTimeAsync(10);
    expect(await call).toBe('fast');
    const attempts = heard.filter((h) => h.on.startsWith('clientpool:attempt')).map((h) => [h.on, (h.message as AttemptEndMessage).call.clientName, (h.message as AttemptEndMessage).outcome?.kind]);
    expect(attempts).toEqual([
      [CHANNELS.attemptStart, 'slow', undefined],
      [CHANNELS.attemptStart, 'fast', undefined],
      [CHANNELS.attemptEnd, 'fast', 'success'],
      [CHANNELS.attemptEnd, 'slow', 'failure'],
    ]);
    expect(of<AttemptStartMessage>(CHANNELS.attemptStart)[1]!.call.kind).toBe('hedge');
    expect(order(heard).indexOf('call:asyncEnd')).toBeGreaterThan(order(heard).lastIndexOf(CHANNELS.attemptEnd));
    await pool.close();
  });

  it('a timeout on fake time ends the attempt as a failure with ERR_TIMEOUT and its measured duration', async () => {
    vi.useFakeTimers();
    const { of } = subscribed();
    const pool = new ClientPool<Client>({ timeout: 50, measureLatency: true });
    pool.add({ id: 'a' });
    const call = pool.run(() => new Promise(() => {})).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    const caught = await call;
    expect(hasErrorCode(caught, 'ERR_TIMEOUT')).toBe(true);
    const [ended] = of<AttemptEndMessage>(CHANNELS.attemptEnd);
    expect(ended!.outcome).toEqual({ kind: 'failure', error: caught });
    expect(ended!.durationMs).toBe(50);
    expect(of<CallMessage>('call:error')[0]!.error).toBe(caught);
    await pool.close();
  });

  it('destroy() ends a plain attempt in flight with its end published (cancelled), so no start is left open', async () => {
    const { of } = subscribed();
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' });
    const hung = deferred<string>();
    const call = pool.run(() => hung.promise);
    await Promise.resolve();
    expect(of(CHANNELS.attemptStart)).toHaveLength(1);
    await pool.destroy(new Error('shutting down'));
    const [ended] = of<AttemptEndMessage>(CHANNELS.attemptEnd);
    expect(ended!.outcome.kind).toBe('cancelled');
    expect(hasErrorCode((ended!.outcome as { error: unknown }).error, 'ERR_POOL_CLOSED')).toBe(true);
    hung.resolve('late');
    await call.catch(() => undefined);
    expect(of(CHANNELS.attemptEnd)).toHaveLength(1);
  });
});

describe('diagnostics_channel: attempts served a client after their call was over', () => {
  it('publish their start and their end (cancelled) at once: every start has its end', async () => {
    vi.useFakeTimers();
    const { of } = subscribed();
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' }, { name: 'a', limit: { rate: 10, burst: 1 } });
    await pool.run(() => 'spends the token');
    const controller = new AbortController();
    let isCalled = false;
    const call = pool.run(() => (isCalled = true), { signal: controller.signal, maxWait: 1_000 }).catch((e: unknown) => e);
    // The token comes in a timer, which serves the waiting call; the caller leaves before it resumes.
    vi.advanceTimersByTime(100);
    controller.abort(new Error('left'));
    expect(hasErrorCode(await call, 'ERR_ABORTED')).toBe(true);
    expect(isCalled).toBe(false);
    const starts = of<AttemptStartMessage>(CHANNELS.attemptStart);
    const ends = of<AttemptEndMessage>(CHANNELS.attemptEnd);
    expect(starts).toHaveLength(2);
    expect(ends).toHaveLength(2);
    expect(ends[1]!.call).toBe(starts[1]!.call);
    expect(ends[1]!.outcome.kind).toBe('cancelled');
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });
});

describe('diagnostics_channel: clientpool:circuit', () => {
  it('publishes each transition with the pool, the client, from, to and the clock time, before the attempt end', async () => {
    const { heard, of } = subscribed();
    const clock = new ManualClock();
    clock.time = 1_000;
    const pool = new ClientPool<Client>({ clock, breaker: { maxFailures: 1, cooldown: 5_000 } });
    pool.add({ id: 'a' }, { name: 'a' });
    await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    const [transition] = of<CircuitMessage<Client>>(CHANNELS.circuit);
    expect(transition).toMatchObject({ pool, client: 'a', from: { kind: 'closed' }, to: { kind: 'open' }, at: 1_000 });
    expect(Object.keys(transition!).sort()).toEqual(['at', 'client', 'from', 'pool', 'to']);
    expect(order(heard).indexOf(CHANNELS.circuit)).toBeLessThan(order(heard).indexOf(CHANNELS.attemptEnd));
    const refused = await pool.run(() => 'never').catch((e: unknown) => e);
    expect(hasErrorCode(refused, 'ERR_ALL_CIRCUITS_OPEN')).toBe(true);
    expect(of(CHANNELS.attemptStart)).toHaveLength(1);
    await pool.close();
  });

  it('onStateChange listeners and the channel hear the same transition', async () => {
    const { of } = subscribed();
    const pool = new ClientPool<Client>({ breaker: { maxFailures: 1 } });
    pool.add({ id: 'a' }, { name: 'a' });
    const events: unknown[] = [];
    pool.onStateChange((event) => events.push(event));
    await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    const { pool: from, ...fields } = of<CircuitMessage>(CHANNELS.circuit)[0]!;
    expect(from).toBe(pool);
    expect(events).toEqual([fields]);
    await pool.close();
  });
});

describe('diagnostics_channel: clientpool:rate-limit', () => {
  it('a wait for a pool token: scope pool, no client, the method and the ms waited', async () => {
    vi.useFakeTimers();
    const { of } = subscribed();
    const pool = new ClientPool<Client>({ limit: { rate: 10, burst: 1 } });
    pool.add({ id: 'a' });
    await pool.run(() => 'spends the only token');
    const call = pool.run(() => 'waited', { method: 'get' });
    await vi.advanceTimersByTimeAsync(100);
    expect(await call).toBe('waited');
    expect(of<RateLimitMessage<Client>>(CHANNELS.rateLimit)).toEqual([{ pool, scope: 'pool', client: undefined, method: 'get', waitedMs: 100, rejected: false }]);
    await pool.close();
  });

  it("a wait for a client's bucket names the client that served it; a refusal names none (no client was ready)", async () => {
    vi.useFakeTimers();
    const { of } = subscribed();
    const pool = new ClientPool<Client>();
    pool.add({ id: 'a' }, { name: 'a', limit: { rate: 10, burst: 1 } });
    await pool.run(() => 'spends the token');
    const waited = pool.run(() => 'served', { method: 'put' });
    await vi.advanceTimersByTimeAsync(100);
    expect(await waited).toBe('served');
    const caught = await pool.run(() => 'refused', { method: 'put', maxWait: 0 }).catch((e: unknown) => e);
    expect(hasErrorCode(caught, 'ERR_RATE_LIMITED')).toBe(true);
    expect(of<RateLimitMessage<Client>>(CHANNELS.rateLimit)).toEqual([
      { pool, scope: 'client', client: 'a', method: 'put', waitedMs: 100, rejected: false },
      { pool, scope: 'client', client: undefined, method: 'put', waitedMs: 0, rejected: true },
    ]);
    await pool.close();
  });
});

describe('diagnostics_channel: subscribers', () => {
  it('unsubscribed, every channel is left without subscribers and hears nothing more', async () => {
    const listener = listen();
    listener.stop();
    for (const name of [CHANNELS.attemptStart, CHANNELS.attemptEnd, CHANNELS.circuit, CHANNELS.rateLimit]) expect(dc.hasSubscribers(name)).toBe(false);
    expect(dc.tracingChannel(CHANNELS.call).hasSubscribers).toBe(false);
    const pool = new ClientPool<Client>({ breaker: { maxFailures: 1 } });
    pool.add({ id: 'a' });
    await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(listener.heard).toEqual([]);
    await pool.close();
  });

  it('a subscriber that throws breaks no call: each settles once with its own value, counters right, the throws reported as Node reports them', async () => {
    // Node reports a subscriber's throw as an uncaught exception on the next tick; the runner's own
    // handler is set aside meanwhile, so that the throws are counted here instead of failing the run.
    const runners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const reported: unknown[] = [];
    const onUncaught = (error: unknown): void => void reported.push(error);
    process.on('uncaughtException', onUncaught);
    const thrower = (): never => {
      throw new Error('subscriber bug');
    };
    const calls = dc.tracingChannel(CHANNELS.call);
    const handlers = { start: thrower, end: thrower, asyncStart: thrower, asyncEnd: thrower, error: thrower };
    const names = [CHANNELS.attemptStart, CHANNELS.attemptEnd, CHANNELS.circuit, CHANNELS.rateLimit];
    try {
      calls.subscribe(handlers);
      for (const name of names) dc.subscribe(name, thrower);
      const pool = new ClientPool<Client>({ breaker: { maxFailures: 2 }, limit: { rate: 1, burst: 2 }, maxWait: 0 });
      pool.add({ id: 'a' }, { name: 'a' });
      const settled = vi.fn();
      const ok = pool.run(() => 'value').then(settled);
      await expect(ok).resolves.toBeUndefined();
      const failed = await pool.run(() => Promise.reject(new Error('down'))).catch((e: unknown) => e);
      const limited = await pool.run(() => 'refused').catch((e: unknown) => e);
      expect(settled).toHaveBeenCalledTimes(1);
      expect(settled).toHaveBeenCalledWith('value');
      expect(hasErrorCode(failed, 'ERR_CLIENT_CALL')).toBe(true);
      expect(hasErrorCode(limited, 'ERR_RATE_LIMITED')).toBe(true);
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 1, failures: 1 });
      await new Promise((resolve) => setImmediate(resolve));
      // Per call: start, end, asyncStart, asyncEnd (+ error when it failed); per attempt: start, end; one refusal.
      expect(reported).toHaveLength(4 + 2 + (5 + 2) + (5 + 1));
      expect(reported.every((error) => (error as Error).message === 'subscriber bug')).toBe(true);
      await pool.close();
    } finally {
      calls.unsubscribe(handlers);
      for (const name of names) dc.unsubscribe(name, thrower);
      process.off('uncaughtException', onUncaught);
      for (const listener of runners) process.on('uncaughtException', listener);
    }
  });

  it('pools of two copies of the package (an ESM and a CommonJS build) publish on the same channels', async () => {
    const { of } = subscribed();
    vi.resetModules();
    const other = await import('../../src/index.js');
    expect(other.ClientPool).not.toBe(ClientPool);
    const mine = new ClientPool<Client>();
    const theirs = new other.ClientPool<Client>();
    mine.add({ id: 'a' });
    theirs.add({ id: 'b' });
    await mine.run(() => 1);
    await theirs.run(() => 2);
    expect(of<CallMessage>('call:start').map((c) => c.pool)).toEqual([mine, theirs]);
    expect(of<AttemptEndMessage>(CHANNELS.attemptEnd).map((c) => c.pool)).toEqual([mine, theirs]);
    await Promise.all([mine.close(), theirs.close()]);
  });
});
