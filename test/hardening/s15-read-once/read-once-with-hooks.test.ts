// run() promises (docs/call-pipeline.md, "Options are checked the same way") to read each of its options
// once, when the call starts, and to run the call with that copy. These probes count the reads of a
// getter with each of the hooks that stand around a call (onCallEnd, around, the clientpool:call trace)
// and check that the call's label and its copy of the options agree.
import { tracingChannel } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { CHANNELS, ClientPool, type Call, type RunOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

interface Fake {
  readonly id: string;
}

useUnhandledGuard({ time: 'real' });

type Hook = 'none' | 'onCallEnd' | 'around' | 'trace';
const HOOKS: readonly Hook[] = ['none', 'onCallEnd', 'around', 'trace'];

function poolWith(hook: Hook): { pool: ClientPool<Fake>; dispose: () => void } {
  const pool = new ClientPool<Fake>({ methods: { a: { timeout: 1_000 }, b: { timeout: 2_000 } } });
  pool.add({ id: 'x' }, { name: 'x' });
  if (hook === 'onCallEnd') pool.use({ name: 'ends', onCallEnd: () => undefined });
  if (hook === 'around') pool.use({ name: 'around', around: (_scope, next) => next() });
  const noop = (): void => undefined;
  const handlers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
  const channel = tracingChannel(CHANNELS.call);
  if (hook === 'trace') channel.subscribe(handlers);
  return { pool, dispose: () => hook === 'trace' && channel.unsubscribe(handlers) };
}

/** Options whose `method` getter answers a new label at each read ('m1', 'm2', ...), and counts its reads. */
function shifting(): { options: RunOptions<Fake>; reads: () => number } {
  let n = 0;
  const options = Object.defineProperty({}, 'method', { enumerable: true, get: () => `m${++n}` }) as RunOptions<Fake>;
  return { options, reads: () => n };
}

describe('a run option is read once, whatever hook stands around the call', () => {
  it.each(HOOKS)('with %s: the method getter is read exactly once', async (hook) => {
    const { pool, dispose } = poolWith(hook);
    const { options, reads } = shifting();
    await pool.run(() => 1, options);
    dispose();
    expect(reads()).toBe(1);
    await pool.close();
  });

  it.each(HOOKS)('with %s: call.method and call.options.method are the same label', async (hook) => {
    const { pool, dispose } = poolWith(hook);
    const { options } = shifting();
    let labels: [string, string | undefined] | undefined;
    await pool.run((_client, call: Call<Fake>) => {
      labels = [call.method, call.options.method];
      return 1;
    }, options);
    dispose();
    expect(labels![0]).toBe(labels![1]);
    await pool.close();
  });

  it('with onCallEnd: the label onCallEnd reports is the label of the call the function saw', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'x' }, { name: 'x' });
    const ended: string[] = [];
    pool.use({ name: 'ends', onCallEnd: ({ method }) => void ended.push(method) });
    const { options } = shifting();
    let inside: string | undefined;
    await pool.run((_client, call: Call<Fake>) => {
      inside = call.options.method;
      return 1;
    }, options);
    expect(ended).toEqual([inside]);
    await pool.close();
  });
});

describe('an around hook is told the label the call runs with', () => {
  it('scope.method is call.method, for a method getter that answers differently per read', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'x' }, { name: 'x' });
    let scoped: string | undefined;
    pool.use({ name: 'around', around: (scope, next) => ((scoped = scope.method), next()) });
    const { options } = shifting();
    let inside: string | undefined;
    await pool.run((_client, call: Call<Fake>) => {
      inside = call.method;
      return 1;
    }, options);
    expect(scoped).toBe(inside);
    await pool.close();
  });
});

describe('a run option object is read once for the whole call (every key)', () => {
  const KEYS = ['signal', 'method', 'key', 'traceId', 'coalesce', 'minHeight', 'cache', 'deadline', 'maxWait', 'timeout', 'strategy', 'cost', 'priority', 'retry', 'hedge'] as const;
  it.each(HOOKS)('with %s: a Proxy sees one get per known key and no more', async (hook) => {
    const { pool, dispose } = poolWith(hook);
    const gets: string[] = [];
    const options = new Proxy({ method: 'a', timeout: 500 }, {
      get(target, key, receiver) {
        if (typeof key === 'string') gets.push(key);
        return Reflect.get(target, key, receiver) as unknown;
      },
    }) as RunOptions<Fake>;
    await pool.run(() => 1, options);
    dispose();
    const counts = new Map<string, number>();
    for (const key of gets) counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const key of KEYS) expect(counts.get(key) ?? 0, key).toBeLessThanOrEqual(1);
    await pool.close();
  });
});
