import { afterEach, describe, expect, it } from 'vitest';
import { ClientPool, isClientPoolError } from '../../../src/index.js';

// #call and #run tell a refusal (OptionsRefusal) from readable options with `'error' in options`. A call
// with no options runs with EMPTY_OPTIONS, a frozen `{}` that inherits from Object.prototype: an inherited
// `error` (a library or a polluted prototype writing Object.prototype.error) makes every call with no options
// look refused as soon as a hook or a trace watches it: `around` is skipped and #run throws the inherited
// value itself, not a clientpool error. The same call with nothing watching runs (runPlain / #run with
// EMPTY_OPTIONS never asks `'error' in`). `options instanceof OptionsRefusal` would not be fooled.
// (Calls that give options are refused with or without hooks under such a prototype: readRunOptions's
// `for...in` sees the inherited key as unknown; that part is the same whatever watches.)

const proto = Object.prototype as unknown as Record<string, unknown>;

afterEach(() => {
  delete proto['error'];
});

describe('a call with no options and hooks is not mistaken for a refused one because of an inherited error key', () => {
  it('control, nothing watching: a call with no options runs while Object.prototype.error is set', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    proto['error'] = 'inherited';
    const result = await pool.run((client) => client).catch((e: unknown) => e);
    delete proto['error'];
    expect(result).toBe('a');
    await pool.close();
  });

  it('with an onCallEnd hook: a call with no options runs its function and resolves while Object.prototype.error is set', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'ends', onCallEnd: () => {} });
    pool.add('a');
    proto['error'] = 'inherited';
    let runs = 0;
    const result = await pool.run((client) => {
      runs++;
      return client;
    }).catch((e: unknown) => e);
    delete proto['error'];
    expect(runs).toBe(1);
    expect(result).toBe('a');
    await pool.close();
  });

  it('with an around hook: a call with no options runs the hook and its function while Object.prototype.error is set', async () => {
    const pool = new ClientPool<string>();
    let arounds = 0;
    pool.use({ name: 'around', around: (_scope, next) => {
      arounds++;
      return next();
    } });
    pool.add('a');
    proto['error'] = new Error('inherited');
    const result = await pool.run((client) => client).catch((e: unknown) => e);
    delete proto['error'];
    expect(arounds).toBe(1);
    expect(result).toBe('a');
    await pool.close();
  });

  it('with an onCallEnd hook: whatever happens to a call with no options, the caller gets a typed clientpool error, never the inherited value', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'ends', onCallEnd: () => {} });
    pool.add('a');
    proto['error'] = 'inherited';
    const error = await pool.run(() => {
      throw new Error('boom');
    }).catch((e: unknown) => e);
    delete proto['error'];
    expect(isClientPoolError(error)).toBe(true);
    await pool.close();
  });
});
