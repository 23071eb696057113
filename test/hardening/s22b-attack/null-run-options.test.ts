import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22b #4, fixed in session 22): `pool.run(fn, null)` is taken as "no options" (pool.ts: `options ?? EMPTY_OPTIONS`), and fn
// runs. Every other options argument refuses null with InvalidOptionError: `new ClientPool(null)`,
// `add(client, null)`, `quorum(fn, null)`, `close(null)`, `proxy(null)` ("... options must be an options
// object, got null"), as does every option inside them since d33f3ce. docs/call-pipeline.md: "`null` is a
// value, never 'not given' ... `undefined` alone means the default". Expected: run(fn, null) rejects with
// InvalidOptionError (option 'run options' or similar), fn not run, with or without around hooks / a trace.

useUnhandledGuard({ time: 'real' });

function pool(hooked: boolean): ClientPool<string> {
  const p = new ClientPool<string>();
  if (hooked) p.use({ name: 'pass', around: (_s, next) => next() });
  p.add('a', { name: 'a' });
  return p;
}

describe('null as the options argument', () => {
  for (const hooked of [false, true]) {
    it(`run(fn, null)${hooked ? ' with an around hook' : ''}: InvalidOptionError, fn not run`, async () => {
      const p = pool(hooked);
      let runs = 0;
      const error = await p.run(() => (runs++, 'v'), null as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(runs).toBe(0);
      await p.close();
    });
  }

  it('control: every other options argument refuses null', async () => {
    expect(() => new ClientPool(null as never)).toThrow(InvalidOptionError);
    const p = pool(false);
    expect(() => p.add('b', null as never)).toThrow(InvalidOptionError);
    expect(() => p.proxy(null as never)).toThrow(InvalidOptionError);
    await expect(p.quorum(() => 'v', null as never)).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(p.close(null as never)).rejects.toBeInstanceOf(InvalidOptionError);
    await p.close();
  });

  it('control: run(fn, undefined) and run(fn, {}) run fn', async () => {
    const p = pool(true);
    await expect(p.run(() => 'v', undefined)).resolves.toBe('v');
    await expect(p.run(() => 'v', {})).resolves.toBe('v');
    await p.close();
  });
});
