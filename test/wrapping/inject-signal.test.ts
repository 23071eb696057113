import { describe, expect, it } from 'vitest';
import { injectSignal } from '../../src/wrapping/inject-signal.js';

const signal = new AbortController().signal;

describe('injectSignal', () => {
  it.each([
    ['a missing options argument becomes { signal }', ['/x'], 1, ['/x', { signal }]],
    ['an undefined one too', ['/x', undefined], 1, ['/x', { signal }]],
    ['a null one too', ['/x', null], 1, ['/x', { signal }]],
    ['earlier missing arguments stay undefined', [], 1, [undefined, { signal }]],
    ['an object without a signal is copied with it', [{ path: '/' }], 0, [{ path: '/', signal }]],
    ['an object whose signal is null gets it', [{ path: '/', signal: null }], 0, [{ path: '/', signal }]],
  ] as const)('%s', (_name, args, index, expected) => {
    expect(injectSignal(args, index, signal)).toEqual(expected);
  });

  it("leaves the caller's own signal, and a non-object argument, as they are", () => {
    const own = new AbortController().signal;
    const args = [{ signal: own }];
    expect(injectSignal(args, 0, signal)).toBe(args);
    const strings = ['a', 'b'];
    expect(injectSignal(strings, 1, signal)).toBe(strings);
  });

  it("never changes the caller's array or object; a class instance keeps its prototype", () => {
    class Options {
      readonly path = '/';
      describe(): string {
        return this.path;
      }
    }
    const options = new Options();
    const args = [options];
    const [copy] = injectSignal(args, 0, signal) as [Options & { signal: AbortSignal }];
    expect(args).toEqual([options]);
    expect(options).not.toHaveProperty('signal');
    expect(copy).toBeInstanceOf(Options);
    expect(copy.describe()).toBe('/');
    expect(copy.signal).toBe(signal);
  });
});
