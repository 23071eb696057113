import { Registry } from 'prom-client';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, ClientPool, traceId, type CallEnd } from '../../../src/index.js';
import { prometheusMetrics } from '../../../src/prometheus/index.js';
import { otelMetrics, tracing } from '../../../src/otel/index.js';
import { gate, state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { inFlight } from '../../helpers/watched-pool.js';

// Probe (passes): abort reasons that fight back (a cyclic cause, a revoked Proxy, a Proxy whose every
// trap throws, an Error Proxy whose get and getPrototypeOf throw, an Error-like with throwing getters for
// message/name/code/retryAfterMs/stack, an object whose Symbol.toPrimitive throws), with traceId(),
// prometheusMetrics(), tracing() and otelMetrics() installed and an around hook, aborting a call held in
// its hook, inside it after next() (hook hanging), in flight, hedged, coalesced, and served stale from a
// cache. Each caller gets AbortedError with that very reason as cause, onCallEnd once, inFlight 0,
// close() resolves, nothing unhandled. Real timers, short sleeps only to let a hedge start (5 ms).

useUnhandledGuard({ time: 'real', quietWarnings: true });

function reasons(): Record<string, unknown> {
  const cyclic = new Error('cyclic') as Error & { cause?: unknown };
  cyclic.cause = cyclic;
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const allTraps = new Proxy({}, new Proxy({}, { get: () => () => { throw new Error('trap'); } }));
  const errorProxy = new Proxy(new Error('p'), { get: () => { throw new Error('get'); }, getPrototypeOf: () => { throw new Error('proto'); } });
  const thrower = (): never => { throw new Error('getter'); };
  const getters = Object.defineProperties(Object.create(Error.prototype) as object, { message: { get: thrower }, name: { get: thrower }, code: { get: thrower }, retryAfterMs: { get: thrower }, stack: { get: thrower } });
  const primitive = { [Symbol.toPrimitive]: thrower };
  return { cyclic, revoked, allTraps, errorProxy, getters, primitive };
}

const WHERE = ['held', 'inside', 'in flight', 'hedge', 'coalesce', 'stale cache'] as const;

beforeAll(() => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] }));
});
afterAll(() => {
  trace.disable();
});

describe('weird abort reasons through hooks and adapters', () => {
  for (const [name, reason] of Object.entries(reasons())) for (const where of WHERE) {
    it(`${name} / ${where}`, async () => {
      const pool = new ClientPool<string>({ retryBudget: false });
      const ends: CallEnd<string>[] = [];
      pool.use(traceId()).use(prometheusMetrics({ registry: new Registry() })).use(tracing()).use(otelMetrics());
      const g = gate();
      pool.use({ name: 'hook', around: async (_s, next) => {
        if (where === 'held') await g.promise;
        const v = await next();
        if (where === 'inside') await g.promise;
        return v;
      } });
      pool.use({ name: 'ends', onCallEnd: (e) => void ends.push(e) });
      pool.add('a', { name: 'a' });
      pool.add('b', { name: 'b' });
      const ac = new AbortController();
      const hang = (_c: string, call: { signal: AbortSignal }): Promise<never> => new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(call.signal.reason)));
      const options: Record<string, unknown> = { signal: ac.signal };
      if (where === 'hedge') options['hedge'] = { delay: 1 };
      if (where === 'coalesce') options['coalesce'] = 'k';
      if (where === 'stale cache') {
        await pool.run(() => 'old', { coalesce: 'k', cache: { ttl: 1, staleIfError: 60_000, onStale: () => undefined } });
        await new Promise((r) => setTimeout(r, 5));
        options['coalesce'] = 'k';
        options['cache'] = { ttl: 1, staleIfError: 60_000, onStale: () => undefined };
      }
      ends.length = 0;
      const seen = state(pool.run(where === 'inside' ? () => 'v' : hang, options));
      await new Promise((r) => setTimeout(r, 5));
      ac.abort(reason);
      await turns(5);
      g.open();
      await turns(5);
      const s = seen();
      expect(s).toMatchObject({ ok: false });
      const error = (s as { value: unknown }).value;
      expect(error).toBeInstanceOf(AbortedError);
      expect((error as Error).cause).toBe(reason);
      expect(ends).toHaveLength(1);
      expect(inFlight(pool)).toBe(0);
      await pool.close();
    });
  }
});
