import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { MAX_SIGNAL_INDEX, readProxyOptions } from '../../src/wrapping/proxy-options.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('readProxyOptions: everything checkable without a client is checked when the proxy is made', () => {
  it.each([
    ['a per-method timeout of 0', { methods: { get: { timeout: 0 } } }, 'proxy options.methods.get.timeout', 0],
    ['a per-method maxWait below 0', { methods: { get: { maxWait: -1 } } }, 'proxy options.methods.get.maxWait', -1],
    ['a per-method unknown strategy', { methods: { get: { strategy: 'fastest' } } }, 'proxy options.methods.get.strategy', 'fastest'],
    ['a per-method retry with 0 attempts', { methods: { get: { retry: { attempts: 0 } } } }, 'proxy options.methods.get.retry.attempts', 0],
    ['a per-method hedge without a delay', { methods: { get: { hedge: {} } } }, 'proxy options.methods.get.hedge.delay', undefined],
    ['a per-method key that is not a string', { methods: { get: { key: 5 } } }, 'proxy options.methods.get.key', 5],
    ['a per-method signal (per-call only)', { methods: { get: { signal: new AbortController().signal } } }, 'proxy options.methods.get.signal', expect.any(AbortSignal)],
    ['a per-method label (the proxy labels)', { methods: { get: { method: 'x' } } }, 'proxy options.methods.get.method', 'x'],
    ['per-method options that are a number', { methods: { get: 5 } }, 'proxy options.methods.get', 5],
    ['a methods key with an empty step', { methods: { 'chat..create': {} } }, 'proxy options.methods.chat..create', 'chat..create'],
    ['a methods key ending in a dot', { methods: { 'chat.': {} } }, 'proxy options.methods.chat.', 'chat.'],
    ['a methods key naming a default-excluded method', { methods: { quit: {} } }, 'proxy options.methods.quit', 'quit'],
    ['a methods key under an excluded resource', { methods: { 'chat.completions.create': {} }, exclude: ['chat'] }, 'proxy options.methods.chat.completions.create', 'chat.completions.create'],
    ['a methods key naming a built-in member', { methods: { toString: {} } }, 'proxy options.methods.toString', 'toString'],
    ['a methods key naming then', { methods: { then: {} } }, 'proxy options.methods.then', 'then'],
    ['a signal index that is a string', { signal: { request: '0' } }, 'proxy options.signal.request', '0'],
    ['a signal index that is a fraction', { signal: { request: 0.5 } }, 'proxy options.signal.request', 0.5],
    ['a signal index past the last one', { signal: { request: MAX_SIGNAL_INDEX + 1 } }, 'proxy options.signal.request', MAX_SIGNAL_INDEX + 1],
    ['a signal key naming an excluded method', { signal: { request: 0 }, exclude: ['req*'] }, 'proxy options.signal.request', 'request'],
    ['a run timeout of NaN', { run: { timeout: Number.NaN } }, 'proxy options.run.timeout', Number.NaN],
    ['a run signal that is not an AbortSignal', { run: { signal: {} } }, 'proxy options.run.signal', {}],
    ['a run traceId that is empty', { run: { traceId: '' } }, 'proxy options.run.traceId', ''],
    ['a run label (the proxy labels)', { run: { method: 'x' } }, 'proxy options.run.method', 'x'],
    ['commandMethods a string', { commandMethods: 'send' }, 'proxy options.commandMethods', 'send'],
    ['commandMethods with an empty name', { commandMethods: ['send', ''] }, 'proxy options.commandMethods[1]', ''],
    ['commandLabel a string', { commandLabel: 'class' }, 'proxy options.commandLabel', 'class'],
  ] as const)('%s: InvalidOptionError naming %s', (_what, options, option, value) => {
    const error = thrown(() => readProxyOptions(options));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option, value });
  });

  it('says why a key is refused and how to fix it', () => {
    expect(() => readProxyOptions({ methods: { quit: {} } })).toThrow(/quit is left out: lifecycle; include it: include: \['quit'\]/);
    expect(() => readProxyOptions({ signal: { get: 0 }, exclude: ['get'] })).toThrow(/get is left out: excluded; drop it from exclude/);
    expect(() => readProxyOptions({ methods: { 'chat.completions.create': {} }, exclude: ['chat'] })).toThrow(/chat is left out: excluded/);
  });

  it('accepts what include brings back, built-in members included by name', () => {
    expect(() => readProxyOptions({ methods: { quit: { timeout: 10 } }, include: ['quit'] })).not.toThrow();
    expect(() => readProxyOptions({ methods: { toString: {} }, include: ['toString'] })).not.toThrow();
  });

  it('copies the options once: changing them afterwards changes nothing, and an undefined value overrides nothing', () => {
    const methods: Record<string, { timeout?: number }> = { get: { timeout: 10, ...{ key: undefined } } };
    const signal: Record<string, number> = { request: 0 };
    const settings = readProxyOptions<unknown>({ methods, signal, run: { timeout: undefined, key: 'k' } });
    methods['get']!.timeout = 0;
    methods['set'] = { timeout: 0 };
    signal['request'] = -1;
    expect(settings.perMethod.get('get')).toEqual({ timeout: 10 });
    expect(Object.keys(settings.perMethod.get('get')!)).toEqual(['timeout']);
    expect(settings.perMethod.has('set')).toBe(false);
    expect(settings.signalAt.get('request')).toBe(0);
    expect(settings.run).toEqual({ key: 'k' });
    expect(Object.keys(settings.run!)).toEqual(['key']);
  });

  it('a map option whose getter throws is refused with what it threw as the cause', () => {
    const failure = new Error('getter');
    const methods = Object.defineProperty({}, 'get', { enumerable: true, get: () => { throw failure; } });
    const error = thrown(() => readProxyOptions({ methods }));
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'proxy options.methods', cause: failure });
  });

  it('a top-level option whose getter throws is an InvalidOptionError with what it threw as the cause', () => {
    for (const key of ['label', 'include', 'exclude', 'methods', 'signal', 'run', 'callbacks', 'commandMethods', 'commandLabel']) {
      const failure = new Error(`getter ${key}`);
      const options = Object.defineProperty({}, key, { enumerable: true, get: () => { throw failure; } });
      expect(thrown(() => readProxyOptions(options)), key).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'proxy options', cause: failure });
    }
  });

  it('a label of null or an unknown style is refused, naming proxy options.label', () => {
    expect(thrown(() => readProxyOptions({ label: null }))).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'proxy options.label', value: null });
    expect(thrown(() => readProxyOptions({ label: 'kebab' }))).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'proxy options.label', value: 'kebab' });
  });

  it('lists the keys of methods and signal for the check on a client, each with the option that named it', () => {
    const settings = readProxyOptions({ methods: { 'chat.completions.create': {} }, signal: { request: 0 } });
    expect(settings.paths).toEqual([
      { option: 'proxy options.methods.chat.completions.create', path: 'chat.completions.create', steps: ['chat', 'completions', 'create'] },
      { option: 'proxy options.signal.request', path: 'request', steps: ['request'] },
    ]);
  });

  it('command methods: send by default, by name, path or glob when given, none with []', () => {
    expect(readProxyOptions({}).isCommandMethod('send', 's3.send')).toBe(true);
    expect(readProxyOptions({}).isCommandMethod('get', 'get')).toBe(false);
    const given = readProxyOptions({ commandMethods: ['execute', 'rpc.*'] });
    expect([given.isCommandMethod('execute', 'db.execute'), given.isCommandMethod('call', 'rpc.call'), given.isCommandMethod('send', 'send')]).toEqual([true, true, false]);
    expect(readProxyOptions({ commandMethods: [] }).isCommandMethod('send', 'send')).toBe(false);
  });
});
