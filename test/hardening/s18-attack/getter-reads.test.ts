import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';

// Options whose getters answer differently on each read. The docs (readRunOptions) promise each option
// is read once per call, so that it "cannot answer one way when checked and another (or throw) at a
// later read". With an `onCallEnd` observer or an `around` hook, `#call` reads them, and when that read
// throws, `#run` reads them again: a getter that throws once is then read a second and third time, and
// the call runs (label-only, via runLabelled) instead of being refused.

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
