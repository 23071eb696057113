import { describe, expect, it } from 'vitest';
import { EVENT_EMITTER_METHODS, LIFECYCLE_METHODS, STREAM_METHODS, type DefaultExcludedMethod } from '../../src/wrapping/default-exclusions.js';
import { MethodFilter } from '../../src/wrapping/method-filter.js';

describe('MethodFilter', () => {
  it('leaves out the default exclusions, methods only, with their reason', () => {
    const filter = new MethodFilter(undefined, undefined);
    expect(filter.reason('quit', 'quit', true)).toBe('lifecycle');
    expect(filter.reason('once', 'a.once', true)).toBe('event emitter');
    expect(filter.reason('multi', 'multi', true)).toBe('stream or connection state');
    expect(filter.reason('get', 'get', true)).toBeUndefined();
    expect(filter.reason('close', 'close', false)).toBeUndefined(); // a resource named close is not a lifecycle method
  });

  it('include wins over the defaults and exclude over both, by name anywhere or by exact path', () => {
    const filter = new MethodFilter(['quit', 'admin.close'], ['get', 'chat.create', 'quit']);
    expect(filter.reason('close', 'admin.close', true)).toBeUndefined();
    expect(filter.reason('close', 'close', true)).toBe('lifecycle');
    expect(filter.reason('get', 'a.b.get', true)).toBe('excluded');
    expect(filter.reason('create', 'chat.create', true)).toBe('excluded');
    expect(filter.reason('create', 'images.create', true)).toBeUndefined();
    expect(filter.reason('quit', 'quit', true)).toBe('excluded');
    expect(filter.reason('chat', 'chat', false)).toBeUndefined();
    expect(new MethodFilter(['close'], undefined).reason('close', 'chat.completions.close', true)).toBeUndefined();
  });

  it('refuses lists that are not arrays of non-empty strings', () => {
    expect(() => new MethodFilter('quit', undefined)).toThrow(/proxy options\.include must be an array of method names or dotted paths, got "quit"/);
    expect(() => new MethodFilter(undefined, [''])).toThrow(/proxy options\.exclude\[0\] must be a method name or dotted path, got ""/);
  });
});

describe('DefaultExcludedMethod', () => {
  it('names exactly the methods of the default exclusion lists', () => {
    // A Record over the union must list every member, so the type and the lists cannot drift apart.
    const names: Record<DefaultExcludedMethod, true> = {
      close: true, quit: true, disconnect: true, destroy: true, connect: true, duplicate: true, end: true, terminate: true, shutdown: true, dispose: true,
      on: true, once: true, off: true, emit: true, addListener: true, removeListener: true, removeAllListeners: true, prependListener: true,
      prependOnceListener: true, listeners: true, rawListeners: true, listenerCount: true, eventNames: true, setMaxListeners: true, getMaxListeners: true,
      pipe: true, unpipe: true, subscribe: true, psubscribe: true, ssubscribe: true, unsubscribe: true, punsubscribe: true, sunsubscribe: true,
      monitor: true, pipeline: true, multi: true, watch: true, unwatch: true, exec: true,
    };
    expect(Object.keys(names).sort()).toEqual([...LIFECYCLE_METHODS, ...EVENT_EMITTER_METHODS, ...STREAM_METHODS].sort());
  });
});
