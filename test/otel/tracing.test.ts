import { context, SpanKind, SpanStatusCode, trace, TraceFlags, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, InvalidOptionError, RateLimitedError, type Call } from '../../src/index.js';
import { ATTR_ATTEMPT, ATTR_CANCELLED, ATTR_CLIENT, ATTR_ERROR_TYPE, ATTR_RPC_METHOD, ATTR_SERVER_ADDRESS, tracing, TRACER_NAME, type TracingOptions } from '../../src/otel/index.js';
import { deferred } from '../helpers/manual-clock.js';

/** A fake upstream with a host, for `server.address`. */
class Upstream {
  readonly host: string;
  constructor(host: string) {
    this.host = host;
  }
}

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const userTracer = provider.getTracer('user-code');

function poolWith(options: TracingOptions<Upstream>): ClientPool<Upstream> {
  const pool = new ClientPool<Upstream>();
  pool.use(tracing(options));
  pool.add(new Upstream('a.example'), { name: 'a' });
  return pool;
}

const finished = (): ReadableSpan[] => exporter.getFinishedSpans();
const only = (name: string): ReadableSpan => {
  const spans = finished().filter((s) => s.name === name);
  expect(spans).toHaveLength(1);
  return spans[0]!;
};
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('tracing() with the OpenTelemetry SDK', () => {
  beforeAll(() => {
    // Without a context manager the active span would not follow awaits into the user's function.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => context.disable());
  afterEach(() => {
    exporter.reset();
    trace.disable();
  });

  it('makes one CLIENT span per call, named after the method, with RPC attributes', async () => {
    const pool = poolWith({ tracerProvider: provider, serverAddress: (client) => client.host, attributes: { 'rpc.system': 'jsonrpc' } });
    await expect(pool.run(() => 'slot 1', { method: 'get_slot' })).resolves.toBe('slot 1');

    const span = only('get_slot');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.instrumentationScope.name).toBe(TRACER_NAME);
    expect(span.ended).toBe(true);
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
    expect(span.events).toEqual([]);
    expect(span.attributes).toEqual({
      [ATTR_RPC_METHOD]: 'get_slot',
      [ATTR_CLIENT]: 'a',
      [ATTR_ATTEMPT]: 1,
      [ATTR_SERVER_ADDRESS]: 'a.example',
      'rpc.system': 'jsonrpc',
    });
    expect([ATTR_RPC_METHOD, ATTR_SERVER_ADDRESS, ATTR_ERROR_TYPE, ATTR_CLIENT, ATTR_ATTEMPT]).toEqual([
      'rpc.method',
      'server.address',
      'error.type',
      'clientpool.client',
      'clientpool.attempt',
    ]);
  });

  it('records a failure: error.type, an exception event, status ERROR with the message', async () => {
    const pool = poolWith({ tracerProvider: provider });
    await expect(pool.run(() => Promise.reject(new TypeError('bad slot')), { method: 'get_slot' })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_CLIENT_CALL'));

    const span = only('get_slot');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad slot' });
    expect(span.attributes[ATTR_ERROR_TYPE]).toBe('TypeError');
    expect(span.events).toHaveLength(1);
    expect(span.events[0]!.name).toBe('exception');
    expect(span.events[0]!.attributes).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'bad slot' });
  });

  it('records a thrown non-Error as error.type _OTHER', async () => {
    const pool = poolWith({ tracerProvider: provider });
    await expect(
      pool.run(() => {
        throw 'out of slots';
      }, { method: 'get_slot' }),
    ).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_CLIENT_PANIC'));
    const span = only('get_slot');
    expect(span.attributes[ATTR_ERROR_TYPE]).toBe('_OTHER');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'out of slots' });
    expect(span.events[0]!.attributes).toMatchObject({ 'exception.message': 'out of slots' });
  });

  it('makes its span the active one in the function: the user\'s spans nest under it, across awaits', async () => {
    const pool = poolWith({ tracerProvider: provider });
    await userTracer.startActiveSpan('handle request', async (request: Span) => {
      await pool.run(async () => {
        await tick();
        userTracer.startSpan('parse slot').end();
      }, { method: 'get_slot' });
      request.end();
    });

    const [request, ours, inner] = [only('handle request'), only('get_slot'), only('parse slot')];
    expect(ours.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(inner.parentSpanContext?.spanId).toBe(ours.spanContext().spanId);
    expect(new Set([request, ours, inner].map((s) => s.spanContext().traceId)).size).toBe(1);
  });

  it('ends the span once the call settles, not before', async () => {
    const pool = poolWith({ tracerProvider: provider });
    const gate = deferred<string>();
    const running = pool.run(() => gate.promise, { method: 'slow' });
    await tick();
    expect(finished()).toEqual([]);
    gate.resolve('done');
    await running;
    expect(only('slow').ended).toBe(true);
  });

  it('marks an attempt the caller aborted as cancelled, not failed, even if the function later succeeds', async () => {
    const pool = poolWith({ tracerProvider: provider });
    const gate = deferred<string>();
    const controller = new AbortController();
    const running = pool.run(() => gate.promise, { method: 'slow', signal: controller.signal });
    controller.abort(new DOMException('user left', 'AbortError'));
    await expect(running).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_ABORTED'));
    // Ended by the pool's verdict, while the function is still running.
    expect(only('slow').ended).toBe(true);
    gate.resolve('too late');
    await tick();
    const span = only('slow');
    expect(span.attributes[ATTR_CANCELLED]).toBe(true);
    expect(span.attributes[ATTR_ERROR_TYPE]).toBeUndefined();
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
  });

  it('ends the span of an attempt whose function never settles when its timeout ends it, failed with TimeoutError', async () => {
    vi.useFakeTimers();
    try {
      const pool = new ClientPool<Upstream>({ timeout: 20 });
      pool.use(tracing({ tracerProvider: provider }));
      pool.add(new Upstream('a.example'), { name: 'a' });
      const running = pool.run(() => new Promise<never>(() => {}), { method: 'slow' });
      const rejected = expect(running).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_TIMEOUT'));
      await vi.advanceTimersByTimeAsync(19);
      expect(finished()).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      await rejected;
      const span = only('slow');
      expect(span.ended).toBe(true);
      expect(span.attributes[ATTR_ERROR_TYPE]).toBe('TimeoutError');
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'call timed out after 20 ms on client a' });
      expect(span.attributes[ATTR_CANCELLED]).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('marks an error answer (isFailure says no) and a refusal by inner middleware failed', async () => {
    const pool = new ClientPool<Upstream>({ breaker: false, isFailure: () => false });
    pool.use(tracing({ tracerProvider: provider }));
    pool.use({ name: 'quota', execute: (call, next) => (call.method === 'refused' ? Promise.reject(new RateLimitedError(1_000, 'quota')) : next(call)) });
    pool.add(new Upstream('a.example'), { name: 'a' });
    await expect(pool.run(() => Promise.reject(new RangeError('no such slot')), { method: 'answered' })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_CLIENT_CALL'));
    await expect(pool.run(() => 'ok', { method: 'refused' })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_RATE_LIMITED'));

    expect([only('answered'), only('refused')].map((span) => [span.attributes[ATTR_ERROR_TYPE], span.status.code, span.events.map((e) => e.name)])).toEqual([
      ['RangeError', SpanStatusCode.ERROR, ['exception']],
      ['RateLimitedError', SpanStatusCode.ERROR, ['exception']],
    ]);
  });

  it('marks an attempt cut off by pool.destroy() as cancelled', async () => {
    const pool = poolWith({ tracerProvider: provider });
    // No timeout, no signal, a function that ignores call.signal: the attempt is over for the pool, and so
    // is its span; the caller, past the tracing hook's next(), gets PoolClosedError a turn later.
    const call = pool.run(() => new Promise<never>(() => {}), { method: 'slow' });
    call.catch(() => undefined);
    await tick();
    expect(finished()).toEqual([]);
    await pool.destroy();
    await expect(call).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_POOL_CLOSED'));
    const span = only('slow');
    expect(span.attributes[ATTR_CANCELLED]).toBe(true);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('lets two tracing middlewares on one pool each end their own span', async () => {
    const pool = new ClientPool<Upstream>();
    pool.use(tracing({ tracerProvider: provider, spanName: () => 'outer' }));
    pool.use(tracing({ tracerProvider: provider, spanName: () => 'inner' }));
    pool.add(new Upstream('a.example'), { name: 'a' });
    await pool.run(() => 1, { method: 'get_slot' });
    expect([only('outer').ended, only('inner').ended]).toEqual([true, true]);
    expect(only('inner').parentSpanContext?.spanId).toBe(only('outer').spanContext().spanId);
  });

  it('makes a span per call with one child span per attempt, under the caller\'s span', async () => {
    const pool = new ClientPool<Upstream>({ breaker: false, retryBudget: false, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.use(tracing({ tracerProvider: provider }));
    pool.add(new Upstream('a.example'), { name: 'a' });
    pool.add(new Upstream('b.example'), { name: 'b' });
    await userTracer.startActiveSpan('handle request', async (request: Span) => {
      await pool.run((_, call) => (call.attempt === 1 ? Promise.reject(new Error('first attempt fails')) : 'ok'), { method: 'get_slot' });
      request.end();
    });

    const request = only('handle request');
    const spans = finished().filter((s) => s.name === 'get_slot');
    const callSpan = spans.find((s) => s.attributes[ATTR_ATTEMPT] === undefined)!;
    const attempts = spans.filter((s) => s.attributes[ATTR_ATTEMPT] !== undefined);
    expect(callSpan.kind).toBe(SpanKind.CLIENT);
    expect(callSpan.attributes[ATTR_RPC_METHOD]).toBe('get_slot');
    expect(callSpan.status.code).toBe(SpanStatusCode.UNSET);
    expect(callSpan.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(attempts.map((s) => [s.attributes[ATTR_ATTEMPT], s.status.code])).toEqual([
      [1, SpanStatusCode.ERROR],
      [2, SpanStatusCode.UNSET],
    ]);
    expect(attempts.map((s) => s.parentSpanContext?.spanId)).toEqual([callSpan.spanContext().spanId, callSpan.spanContext().spanId]);
    expect(attempts[0]!.attributes[ATTR_CLIENT]).not.toBe(attempts[1]!.attributes[ATTR_CLIENT]);
  });

  it('the call span fails when every attempt failed', async () => {
    const pool = new ClientPool<Upstream>({ breaker: false, retryBudget: false, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.use(tracing({ tracerProvider: provider }));
    pool.add(new Upstream('a.example'), { name: 'a' });
    await pool.run(() => Promise.reject(new Error('always')), { method: 'get_slot' }).catch(() => undefined);
    const callSpan = finished().find((s) => s.name === 'get_slot' && s.attributes[ATTR_ATTEMPT] === undefined)!;
    expect(callSpan.status.code).toBe(SpanStatusCode.ERROR);
    expect(finished().filter((s) => s.attributes[ATTR_ATTEMPT] !== undefined)).toHaveLength(2);
  });

  it('marks an attempt outrun by its hedge as timed out, and a hedge that lost as cancelled', async () => {
    const pool = new ClientPool<Upstream>({ breaker: false, retryBudget: false, hedge: { delay: 0 } });
    pool.use(tracing({ tracerProvider: provider }));
    pool.add(new Upstream('a.example'), { name: 'a' });
    pool.add(new Upstream('b.example'), { name: 'b' });
    const slow = deferred<string>();
    await pool.run((_, call) => (call.attempt === 1 ? slow.promise : 'hedged'), { method: 'get_slot' });
    slow.resolve('too late');
    await tick();

    const spans = finished().filter((s) => s.name === 'get_slot' && s.attributes[ATTR_ATTEMPT] !== undefined);
    const byAttempt = new Map(spans.map((s) => [s.attributes[ATTR_ATTEMPT], s]));
    expect(byAttempt.get(1)?.attributes[ATTR_CANCELLED]).toBeUndefined();
    expect(byAttempt.get(1)?.status.code).toBe(SpanStatusCode.ERROR);
    expect(byAttempt.get(1)?.attributes[ATTR_ERROR_TYPE]).toBe('TimeoutError');
    expect(byAttempt.get(2)?.attributes[ATTR_CANCELLED]).toBeUndefined();
    expect(byAttempt.get(2)?.status.code).toBe(SpanStatusCode.UNSET);

    exporter.reset();
    const hedge = deferred<string>();
    // The first attempt answers as soon as the hedge has started, whatever the machine's speed.
    const first = deferred<string>();
    await pool.run(
      (_, call) => {
        if (call.attempt === 1) return first.promise;
        first.resolve('first');
        return hedge.promise;
      },
      { method: 'get_slot' },
    );
    hedge.resolve('too late');
    await tick();
    const again = new Map(finished().filter((s) => s.attributes[ATTR_ATTEMPT] !== undefined).map((s) => [s.attributes[ATTR_ATTEMPT], s]));
    expect(again.get(2)?.attributes[ATTR_CANCELLED]).toBe(true);
    expect(again.get(2)?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('fails and ends the span of an attempt whose error\'s getters throw, and the caller gets that error', async () => {
    const hostile = new Error('hostile');
    for (const key of ['name', 'message']) Object.defineProperty(hostile, key, { get: () => { throw new Error(`no ${key}`); } });
    const pool = poolWith({ tracerProvider: provider });
    await expect(pool.run(() => Promise.reject(hostile), { method: 'get_slot' })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_CLIENT_CALL') && (e as Error).cause === hostile);
    const span = only('get_slot');
    expect(span.ended).toBe(true);
    expect(span.attributes[ATTR_ERROR_TYPE]).toBe('_OTHER');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('fails a call span with an error whose getters throw, and the caller still gets that very error', async () => {
    const hostile = new RateLimitedError(5);
    Object.defineProperty(hostile, 'message', { get: () => { throw new Error('no message'); } });
    Object.defineProperty(hostile, 'name', { get: () => { throw new Error('no name'); } });
    const pool = new ClientPool<Upstream>({ retry: { attempts: 2 } });
    pool.use(tracing({ tracerProvider: provider })).use({ name: 'refuse', around: () => Promise.reject(hostile) });
    pool.add(new Upstream('a.example'), { name: 'a' });
    await expect(pool.run(() => 1, { method: 'get_slot' })).rejects.toBe(hostile);
    const span = only('get_slot');
    expect(span.ended).toBe(true);
    expect(span.attributes[ATTR_ERROR_TYPE]).toBe('_OTHER');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('ends the span with an error when inner middleware throws synchronously', async () => {
    const pool = poolWith({ tracerProvider: provider });
    pool.use(() => {
      throw new RangeError('inner middleware broke');
    });
    await expect(pool.run(() => 1, { method: 'get_slot' })).rejects.toThrow('inner middleware broke');
    const span = only('get_slot');
    expect(span.attributes[ATTR_ERROR_TYPE]).toBe('RangeError');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('names spans with spanName and takes a tracer directly', async () => {
    const pool = poolWith({ tracer: provider.getTracer('mine'), spanName: (call: Call<Upstream>) => `rpc ${call.method}` });
    await pool.run(() => 1, { method: 'get_slot' });
    expect(only('rpc get_slot').instrumentationScope.name).toBe('mine');
  });

  it('uses the global provider by default, even one registered after the middleware was made', async () => {
    const pool = poolWith({});
    await pool.run(() => 1, { method: 'before' });
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    await pool.run(() => 1, { method: 'after' });
    expect(finished().map((s) => s.name)).toEqual(['after']);
  });

  it('passes a sampled-out trace on to the function without recording a span', async () => {
    const sampledOut = new BasicTracerProvider({ sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const pool = poolWith({ tracerProvider: sampledOut });
    const seen = await pool.run(() => trace.getSpan(context.active())?.spanContext(), { method: 'get_slot' });
    expect(finished()).toEqual([]);
    expect(seen?.traceFlags).toBe(TraceFlags.NONE);
    expect(seen?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(seen?.traceId).not.toBe('0'.repeat(32));
  });
});

describe('tracing() without an SDK', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => context.disable());
  afterEach(() => exporter.reset());

  it('records nothing and throws nothing; the user\'s own spans are roots', async () => {
    // The test provider exists and records the user's span, but is not registered: ours must not appear.
    const pool = poolWith({});
    await pool.run(async () => {
      await tick();
      userTracer.startSpan('user work').end();
    }, { method: 'get_slot' });
    await expect(pool.run(() => Promise.reject(new Error('still a normal error')))).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_CLIENT_CALL'));
    expect(finished().map((s) => [s.name, s.parentSpanContext])).toEqual([['user work', undefined]]);
  });
});

describe('tracing() options', () => {
  it.each<[string, unknown, string]>([
    ['options', 42, 'options'],
    ['both tracer and tracerProvider', { tracer: provider.getTracer('x'), tracerProvider: provider }, 'tracer'],
    ['tracer', { tracer: {} }, 'tracer'],
    ['tracerProvider', { tracerProvider: 'global' }, 'tracerProvider'],
    ['spanName', { spanName: 'get_slot' }, 'spanName'],
    ['serverAddress', { serverAddress: 'a.example' }, 'serverAddress'],
    ['attributes', { attributes: [] }, 'attributes'],
  ])('rejects a bad %s, naming the option', (_, options, option) => {
    expect(() => tracing(options as TracingOptions)).toThrow(InvalidOptionError);
    expect(() => tracing(options as TracingOptions)).toThrow(expect.objectContaining({ option }) as Error);
  });
});
