/**
 * Nothing is kept per refused call or per method label: the options objects of refused calls (with every
 * watcher, hooks that keep nothing) are collectable once the calls are over. Uses a forced GC
 * (`--expose-gc` set at run time), deterministic for objects nothing references.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';
import { gc } from '../../helpers/gc.js';

const channel = tracingChannel('clientpool:call');
const noop = (): void => undefined;

const REFUSED: [string, (i: number) => Record<string, unknown>][] = [
  ['timeout -1', (i) => ({ method: `m${i}`, timeout: -1 })],
  ['retry { attempts: null }', (i) => ({ method: `m${i}`, retry: { attempts: null } })],
  ['hedge { delay: -1 }', (i) => ({ method: `m${i}`, hedge: { delay: -1 } })],
  ['a getter that throws', (i) => ({ method: `m${i}`, get timeout(): number { throw new Error('no'); } })],
  ['coalesce with cache { ttl: -1 }', (i) => ({ method: `m${i}`, coalesce: `k${i}`, cache: { ttl: -1 } })],
  ['coalesce with a valid retry and a bad cost', (i) => ({ method: `m${i}`, coalesce: `k${i}`, retry: { attempts: 2 }, cost: { requests: -1 } })],
  ['an aborted signal', (i) => ({ method: `m${i}`, signal: AbortSignal.abort(), timeout: -1 })],
];

describe('refused calls leave nothing behind', () => {
  it.each(REFUSED)('%s: 200 refused calls with distinct labels, watched by around, onCallEnd and a trace: their options objects are collected', async (_name, make) => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'around', around: (_s, next) => next() });
    pool.use({ name: 'ends', onCallEnd: noop });
    const subscribers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
    channel.subscribe(subscribers);
    pool.add('a');
    const refs: WeakRef<object>[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const options = make(i);
        refs.push(new WeakRef(options));
        await pool.run((c) => c, options as RunOptions<string>).catch(noop);
      }
    } finally {
      channel.unsubscribe(subscribers);
    }
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    gc();
    // The last one may sit in a register or a one-entry memo, and one more in a stack slot of optimized
    // code (seen once in a clean-clone CI run, session 22, not again in 9 runs alone): a leak keeps ~199.
    const kept = refs.slice(0, -1).filter((r) => r.deref() !== undefined).length;
    expect(kept).toBeLessThanOrEqual(1);
    await pool.close();
  });

  it('control: the check sees objects that are kept (an array holding them)', async () => {
    const held: object[] = [];
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 20; i++) {
      const o = { i };
      held.push(o);
      refs.push(new WeakRef(o));
    }
    gc();
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(20);
    expect(held).toHaveLength(20);
  });
});
