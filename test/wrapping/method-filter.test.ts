import { describe, expect, it } from 'vitest';
import { BLOCKING_METHODS, CONNECTION_STATE_METHODS, defaultExclusionReason, EVENT_EMITTER_METHODS, EVENT_SOURCE_METHODS, HANDLER_METHODS, LIFECYCLE_METHODS, STREAM_METHODS, type DefaultExcludedMethod } from '../../src/wrapping/default-exclusions.js';
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

  it('refuses then in include, which is never proxied', () => {
    expect(() => new MethodFilter(['get', 'then'], undefined)).toThrow(expect.objectContaining({ option: 'proxy options.include[1]', value: 'then' }) as Error);
    expect(() => new MethodFilter(['chat.then'], undefined)).toThrow(expect.objectContaining({ option: 'proxy options.include[0]' }) as Error);
    expect(() => new MethodFilter(undefined, ['then'])).not.toThrow();
  });

  it('refuses lists that are not arrays of non-empty strings', () => {
    expect(() => new MethodFilter('quit', undefined)).toThrow(/proxy options\.include must be an array of method names, dotted paths or globs, got "quit"/);
    expect(() => new MethodFilter(undefined, [''])).toThrow(/proxy options\.exclude\[0\] must be a method name, dotted path or glob, got ""/);
  });

  it('takes globs, matched against the name and the dotted path', () => {
    const filter = new MethodFilter(['watch*', 'admin.**'], ['flush*', 'chat.*.create', 'se?']);
    expect(filter.reason('flushall', 'flushall', true)).toBe('excluded');
    expect(filter.reason('flushdb', 'admin.flushdb', true)).toBe('excluded');
    expect(filter.reason('flush', 'flush', true)).toBe('excluded'); // `*` matches nothing too
    expect(filter.reason('create', 'chat.completions.create', true)).toBe('excluded');
    expect(filter.reason('create', 'chat.a.b.create', true)).toBeUndefined(); // `*` stays within one segment
    expect(filter.reason('set', 'set', true)).toBe('excluded');
    expect(filter.reason('se', 'se', true)).toBeUndefined(); // `?` is exactly one character
    expect(filter.reason('watchBlocks', 'watchBlocks', true)).toBeUndefined(); // include glob overrides a default
    expect(filter.reason('close', 'admin.db.close', true)).toBeUndefined();
    expect(filter.reason('close', 'close', true)).toBe('lifecycle');
    expect(filter.reason('a+b', 'a+b', true)).toBeUndefined(); // regex characters are literal
  });

  it('tells include entries without a wildcard, which alone bring back built-in members', () => {
    const filter = new MethodFilter(['toString', 'chat.toJSON', 'value*'], undefined);
    expect(filter.includesLiterally('toString', 'a.toString')).toBe(true);
    expect(filter.includesLiterally('toJSON', 'chat.toJSON')).toBe(true);
    expect(filter.includesLiterally('toJSON', 'toJSON')).toBe(false);
    expect(filter.includesLiterally('valueOf', 'valueOf')).toBe(false);
  });
});

describe('DefaultExcludedMethod', () => {
  it('names exactly the methods of the default exclusion lists', () => {
    // A Record over the union must list every member, so the type and the lists cannot drift apart.
    const names: Record<Exclude<DefaultExcludedMethod, `${string}Buffer`>, true> = {
      close: true, quit: true, disconnect: true, destroy: true, connect: true, duplicate: true, end: true, terminate: true, shutdown: true, dispose: true,
      on: true, once: true, off: true, emit: true, addListener: true, removeListener: true, removeAllListeners: true, prependListener: true,
      prependOnceListener: true, listeners: true, rawListeners: true, listenerCount: true, eventNames: true, setMaxListeners: true, getMaxListeners: true,
      pipe: true, unpipe: true, subscribe: true, psubscribe: true, ssubscribe: true, unsubscribe: true, punsubscribe: true, sunsubscribe: true,
      monitor: true, pipeline: true, multi: true, watch: true, unwatch: true, exec: true,
      getFilterChanges: true, getFilterLogs: true, uninstallFilter: true, extend: true,
      select: true, auth: true, readonly: true, readwrite: true, reset: true, hello: true, client: true, defineCommand: true,
      blpop: true, brpop: true, brpoplpush: true, blmove: true, blmpop: true, bzpopmin: true, bzpopmax: true, bzmpop: true, wait: true, waitaof: true, xread: true, xreadgroup: true,
      dispatch: true,
    };
    expect(Object.keys(names).sort()).toEqual([...LIFECYCLE_METHODS, ...EVENT_EMITTER_METHODS, ...STREAM_METHODS, ...EVENT_SOURCE_METHODS, ...CONNECTION_STATE_METHODS, ...BLOCKING_METHODS, ...HANDLER_METHODS].sort());
    // Each connection-state or blocking command's `Buffer` variant is in the type too, as at run time.
    const buffers: Record<Extract<DefaultExcludedMethod, `${string}Buffer`>, true> = Object.fromEntries([...CONNECTION_STATE_METHODS, ...BLOCKING_METHODS].map((name) => [`${name}Buffer`, true])) as never;
    for (const name of Object.keys(buffers)) expect(defaultExclusionReason(name), name).toBe('stream or connection state');
  });

  it('covers the event-source patterns, watch* and create*Filter, as the run-time rule does', () => {
    const watcher: DefaultExcludedMethod = 'watchBlocks';
    const filter: DefaultExcludedMethod = 'createContractEventFilter';
    // @ts-expect-error not an event source
    const plain: DefaultExcludedMethod = 'getBlock';
    expect([watcher, filter, plain].map(defaultExclusionReason)).toEqual(['stream or connection state', 'stream or connection state', undefined]);
  });
});

describe('defaultExclusionReason: event sources', () => {
  it("leaves out viem's watchers, filters and extend, which return an event source or must stay on one client", () => {
    const names = ['watchBlocks', 'watchBlockNumber', 'watchEvent', 'watchContractEvent', 'watchPendingTransactions', 'createBlockFilter', 'createEventFilter', 'createContractEventFilter', 'createPendingTransactionFilter', 'getFilterChanges', 'getFilterLogs', 'uninstallFilter', 'extend'];
    for (const name of names) expect(defaultExclusionReason(name), name).toBe('stream or connection state');
    for (const name of ['getBlock', 'getLogs', 'readContract', 'createAccessList', 'filter', 'createFilterish']) expect(defaultExclusionReason(name), name).toBeUndefined();
  });
});

describe('defaultExclusionReason: connection state, blocking, handlers and streams', () => {
  it('leaves out commands that change one connection or block it, with their Buffer variants', () => {
    const names = ['select', 'auth', 'readonly', 'readwrite', 'reset', 'hello', 'client', 'clientBuffer', 'defineCommand', 'blpop', 'blpopBuffer', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'wait', 'waitaof', 'xread', 'xreadgroup', 'xreadBuffer'];
    for (const name of names) expect(defaultExclusionReason(name), name).toBe('stream or connection state');
    for (const name of ['get', 'lpop', 'rpop', 'xadd', 'xrange', 'selectAll', 'Buffer', 'getBuffer']) expect(defaultExclusionReason(name), name).toBeUndefined();
  });

  it('leaves out methods returning a stream by name (scanStream), as the generator does by type', () => {
    for (const name of ['scanStream', 'hscanStream', 'zscanBufferStream']) expect(defaultExclusionReason(name), name).toBe('stream or connection state');
    expect(defaultExclusionReason('stream')).toBeUndefined(); // undici's stream(options, factory) returns a promise
  });

  it('leaves out handler-style dispatch as callback style', () => {
    expect(defaultExclusionReason('dispatch')).toBe('callback style');
  });
});

