import { describe, expect, it } from 'vitest';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';

// Options whose getters answer differently on each read. Each option is read once per call (readRunOptions),
// so that it cannot answer one way when checked and another (or throw) at a later read: with an `onCallEnd`
// observer, an `around` hook or a `clientpool:call` subscriber too, a getter that throws on its first read
// refuses the call and is not read again to run it.

function flakyOptions(): { options: object; reads: () => number } {
  let n = 0;
  const options = {
    get method(): string {
      n++;
      if (n === 1) throw new Error('first read fails');
      return `m${n}`;
    },
  };
  return { options, reads: () => n };
}

describe('options getters are read once per call', () => {
  it('without hooks: a method getter that throws on its first read refuses the call', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const { options, reads } = flakyOptions();
    await expect(pool.run((c) => c, options)).rejects.toBeInstanceOf(InvalidOptionError);
    expect(reads()).toBeGreaterThanOrEqual(1); // (the error's description reads it once more)
    await pool.close();
  });

  it('with an onCallEnd observer: options whose getter throws on its first read are refused (as without), not re-read and run', { timeout: 5000 }, async () => {
    const ends: { method: string; error: unknown }[] = [];
    const pool = new ClientPool<string>({ middleware: [{ name: 'ends', onCallEnd: (end) => { ends.push({ method: end.method, error: end.error }); } }] });
    pool.add('a');
    const { options, reads } = flakyOptions();
    const methods: string[] = [];
    const outcome = await pool.run((c, call) => { methods.push(call.method); return c; }, options).then(() => 'ran', (e: unknown) => e);
    expect(outcome).toBeInstanceOf(InvalidOptionError);
    expect(methods).toEqual([]);
    expect(reads()).toBeLessThanOrEqual(2);
    expect(ends).toEqual([{ method: 'unknown', error: outcome }]);
    await pool.close();
  });

  it('with an around hook: options whose getter throws on its first read are refused, not re-read and run', { timeout: 5000 }, async () => {
    const pool = new ClientPool<string>({ middleware: [{ name: 'around', around: (_scope, next) => next() }] });
    pool.add('a');
    const { options } = flakyOptions();
    const methods: string[] = [];
    const outcome = await pool.run((c, call) => { methods.push(call.method); return c; }, options).then(() => 'ran', (e: unknown) => e);
    expect(outcome).toBeInstanceOf(InvalidOptionError);
    expect(methods).toEqual([]);
    await pool.close();
  });

  it('while clientpool:call is traced: options whose getter throws on its first read are refused, not re-read and run', { timeout: 5000 }, async () => {
    const listener = (): void => {};
    subscribe('tracing:clientpool:call:start', listener);
    try {
      const pool = new ClientPool<string>();
      pool.add('a');
      const { options } = flakyOptions();
      const methods: string[] = [];
      const outcome = await pool.run((c, call) => { methods.push(call.method); return c; }, options).then(() => 'ran', (e: unknown) => e);
      expect(outcome).toBeInstanceOf(InvalidOptionError);
      expect(methods).toEqual([]);
      await pool.close();
    } finally {
      unsubscribe('tracing:clientpool:call:start', listener);
    }
  });

  it('with an onCallEnd observer: the method the observer hears is the one the call ran with', { timeout: 5000 }, async () => {
    const ends: string[] = [];
    const pool = new ClientPool<string>({ middleware: [{ name: 'ends', onCallEnd: (end) => { ends.push(end.method); } }] });
    pool.add('a');
    const { options } = flakyOptions();
    const methods: string[] = [];
    await pool.run((c, call) => { methods.push(call.method); return c; }, options).catch(() => undefined);
    expect(ends.length).toBe(1);
    if (methods.length > 0) expect(methods[0]).toBe(ends[0]);
    await pool.close();
  });

  it('a getter returning a different retry each read: the call uses one of them, read once', { timeout: 5000 }, async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    pool.add('b');
    let n = 0;
    const options = { method: 'get', get retry(): object { n++; return n === 1 ? { attempts: 2, backoff: { initial: 0 } } : { attempts: 5, backoff: { initial: 0 } }; } };
    let attempts = 0;
    await pool.run(() => { attempts++; return Promise.reject(new Error('x')); }, options).catch(() => undefined);
    expect(n).toBe(1);
    expect(attempts).toBe(2);
    await pool.close();
  });
});
