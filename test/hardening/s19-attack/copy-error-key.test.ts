import { tracingChannel } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { ClientPool, isClientPoolError, type CallMessage } from '../../../src/index.js';

// The copy readRunOptions makes is a plain, writable object, and it is handed to watchers before the call
// runs: the trace's `start` message (`message.options`) and an around hook's `scope.options`. #run then
// tells a refusal from that very object with `'error' in options` (src/pool.ts, #run: `else if ('error' in
// options) throw options.error`). A watcher that writes an `error` key on the options it was shown (a tracer
// annotating the object, a hook normalising it) turns a good call into a "refusal": the function never runs
// and #run throws whatever was written; with only a trace watching, the caller gets that raw value, not a
// clientpool error. `options instanceof OptionsRefusal` would not be fooled.

const channel = tracingChannel('clientpool:call');

describe('what a watcher writes on the options it is shown cannot refuse the call', () => {
  it('a clientpool:call start subscriber that writes options.error: the caller still gets a typed result (the call runs, or a clientpool error)', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const start = (message: unknown): void => {
      const m = message as CallMessage;
      if (m.pool === pool && m.options !== undefined) (m.options as unknown as Record<string, unknown>)['error'] = 'annotated by the tracer';
    };
    channel.subscribe({ start } as never);
    let runs = 0;
    const r = await pool.run((c) => {
      runs++;
      return c;
    }, { method: 'get' }).then((value) => ({ ok: true, value }), (value: unknown) => ({ ok: false, value }));
    channel.unsubscribe({ start } as never);
    expect(r.ok || isClientPoolError(r.value)).toBe(true);
    expect(runs).toBe(1);
    await pool.close();
  });

  it('an around hook that writes scope.options.error before next(): the function still runs', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'annotate', around: (scope, next) => {
      (scope.options as unknown as Record<string, unknown>)['error'] = undefined;
      return next();
    } });
    pool.add('a');
    let runs = 0;
    const r = await pool.run((c) => {
      runs++;
      return c;
    }, { method: 'get' }).catch((e: unknown) => e);
    expect(runs).toBe(1);
    expect(r).toBe('a');
    await pool.close();
  });
});
