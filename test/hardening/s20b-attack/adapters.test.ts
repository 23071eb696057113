/**
 * The shipped watchers, tracing() (its around hook makes a parent span for a call that may retry or
 * hedge) and prometheusMetrics() (calls_total from onCallEnd), with refused calls and with per-method
 * retry/hedge turned on or off per call: no span for a refused call, each call counted once.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';
import { tracing } from '../../../src/otel/index.js';
import { prometheusMetrics } from '../../../src/prometheus/index.js';
import { settle } from './helpers.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});
afterEach(() => {
  exporter.reset();
});

function pool(registry: Registry): ClientPool<string> {
  const p = new ClientPool<string>({ retryBudget: false, methods: { get: { retry: { attempts: 2, backoff: { initial: 0 } } } } });
  p.use(prometheusMetrics({ registry }));
  p.use(tracing({ tracerProvider: provider }));
  p.add('a', { name: 'a' });
  p.add('b', { name: 'b' });
  return p;
}

async function calls(registry: Registry): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'middleware_calls_total');
  const out: Record<string, number> = {};
  for (const v of (metric?.values ?? []) as { labels: Record<string, string>; value: number }[]) if (v.value > 0) out[`${v.labels['method']} ${v.labels['code']}`] = v.value;
  return out;
}

const REFUSED: [string, Record<string, unknown>][] = [
  ['retry { attempts: null }', { method: 'get', retry: { attempts: null } }],
  ['retry null', { method: 'get', retry: null }],
  ['hedge { delay: 5, maxHedges: null }', { method: 'get', hedge: { delay: 5, maxHedges: null } }],
  ['timeout -1 (method with retries)', { method: 'get', timeout: -1 }],
  ['coalesce with cache { ttl: -1 }', { method: 'get', coalesce: 'k', cache: { ttl: -1 } }],
  ['an aborted signal', { method: 'get', signal: AbortSignal.abort() }],
];

describe('tracing() and prometheusMetrics() with refused calls', () => {
  it.each(REFUSED)('%s: no span at all, calls_total counts it once with its code', async (_name, options) => {
    const registry = new Registry();
    const p = pool(registry);
    const got = await settle(p.run((c) => c, options));
    expect(got.ok).toBe(false);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    const code = (got.value as { code: string }).code;
    expect(await calls(registry)).toEqual({ [`get ${code}`]: 1 });
    await p.close();
  });

  it.each([
    ['method get (retries 2), failing: a parent span and two attempt spans', { method: 'get' }, 3],
    ['method get, retry: undefined: a parent and two attempts', { method: 'get', retry: undefined }, 3],
    ['method get, retry: false: one attempt span, no parent', { method: 'get', retry: false }, 1],
    ['method other, retry { attempts: 2 }: a parent and two attempts', { method: 'other', retry: { attempts: 2, backoff: { initial: 0 } } }, 3],
  ] as const)('%s', async (_name, options, spans) => {
    const registry = new Registry();
    const p = pool(registry);
    const got = await settle(p.run(() => { throw new Error('boom'); }, options as RunOptions<string>));
    expect(got.ok).toBe(false);
    expect(exporter.getFinishedSpans()).toHaveLength(spans);
    expect(Object.values(await calls(registry))).toEqual([1]);
    await p.close();
  });
});
