/**
 * src/util/host.ts: on Node each helper is the Node call it stands for; in a browser (a V8 context with
 * only browser globals, the module bundled by esbuild) each does the nearest web-standard thing or nothing.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { allowManyListeners, builtinModule, cancelAfterIO, emitWarning, refTimer, runAfterIO, unrefTimer } from '../../src/util/host.js';
import { recordWarnings } from '../helpers/warnings.js';
import { createBrowserRealm, type BrowserRealm } from './browser-realm.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('host helpers on Node', () => {
  it('builtinModule returns a Node built-in by id, and undefined for an id Node does not have', () => {
    expect(builtinModule('node:events')).toHaveProperty('setMaxListeners');
    expect(builtinModule('node:no-such-module')).toBeUndefined();
  });

  it('allowManyListeners lets a signal take more than 10 listeners without a MaxListenersExceededWarning', () => {
    const warnings = recordWarnings();
    const listen = (signal: AbortSignal): void => {
      for (let i = 0; i < 12; i++) signal.addEventListener('abort', () => {});
    };
    listen(new AbortController().signal);
    expect(warnings.map((w) => w.text)).toEqual([expect.stringMatching(/MaxListenersExceededWarning/)]);
    const lifted = [new AbortController().signal, new AbortController().signal];
    allowManyListeners(...lifted);
    lifted.forEach(listen);
    expect(warnings).toHaveLength(1);
  });

  it('emitWarning is process.emitWarning with the code, and the detail when there is one', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    emitWarning('clientpool: a listener threw', 'CLIENTPOOL_LISTENER_ERROR');
    emitWarning('clientpool: a hook failed', 'CLIENTPOOL_CALLBACK_ERROR', 'The call went on.');
    expect(spy.mock.calls).toEqual([
      ['clientpool: a listener threw', { code: 'CLIENTPOOL_LISTENER_ERROR' }],
      ['clientpool: a hook failed', { code: 'CLIENTPOOL_CALLBACK_ERROR', detail: 'The call went on.' }],
    ]);
  });

  it('emitWarning reads process.emitWarning when it warns, so a spy set later hears it', () => {
    const warnings = recordWarnings();
    emitWarning('late', 'CODE');
    expect(warnings).toEqual([{ text: 'late', code: 'CODE' }]);
  });

  it('unrefTimer and refTimer switch whether a Node timer keeps the process alive; a number is left alone', () => {
    const timer = setTimeout(() => {}, 60_000);
    try {
      unrefTimer(timer);
      expect(timer.hasRef()).toBe(false);
      refTimer(timer);
      expect(timer.hasRef()).toBe(true);
      expect(() => {
        unrefTimer(7);
        refTimer(7);
        unrefTimer(undefined);
      }).not.toThrow();
    } finally {
      clearTimeout(timer);
    }
  });

  it('runAfterIO runs its callbacks in order, in setImmediate; cancelAfterIO stops one', async () => {
    const immediate = vi.spyOn(globalThis, 'setImmediate');
    const order: string[] = [];
    runAfterIO(() => order.push('first'));
    const cancelled = runAfterIO(() => order.push('cancelled'));
    runAfterIO(() => order.push('second'));
    cancelAfterIO(cancelled);
    expect(immediate).toHaveBeenCalledTimes(3);
    immediate.mockRestore();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['first', 'second']);
  });

  it('runAfterIO uses the setImmediate of the moment (fake timers installed after load)', () => {
    vi.useFakeTimers();
    try {
      const order: string[] = [];
      runAfterIO(() => order.push('ran'));
      expect(order).toEqual([]);
      vi.runAllTimers();
      expect(order).toEqual(['ran']);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('host helpers in a browser', () => {
  let realm: BrowserRealm | undefined;
  afterEach(() => {
    realm?.dispose();
    realm = undefined;
  });

  /** The helpers bundled for a browser and loaded into a fresh realm, as `host` there. */
  async function loadInBrowser(): Promise<BrowserRealm> {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../../src/util/host.ts', import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'host',
      write: false,
      logLevel: 'silent',
    });
    realm = createBrowserRealm();
    realm.run(result.outputFiles[0]!.text);
    return realm;
  }

  it('builtinModule finds nothing, and allowManyListeners does nothing, with no process', async () => {
    const browser = await loadInBrowser();
    expect(browser.run(`[host.builtinModule('node:events'), host.allowManyListeners(new AbortController().signal)]`)).toEqual([undefined, undefined]);
  });

  it('emitWarning writes to console.warn, with its code and detail', async () => {
    const browser = await loadInBrowser();
    browser.run(`host.emitWarning('clientpool: a hook failed', 'CLIENTPOOL_CALLBACK_ERROR', 'The call went on.')`);
    expect(browser.warnings).toEqual(['clientpool: a hook failed (CLIENTPOOL_CALLBACK_ERROR) The call went on.']);
  });

  it("unrefTimer and refTimer accept a browser's numeric timer handle", async () => {
    const browser = await loadInBrowser();
    expect(browser.run(`const id = setTimeout(() => {}, 60000); host.unrefTimer(id); host.refTimer(id); clearTimeout(id); typeof id`)).toBe('number');
  });

  it('runAfterIO runs on a timer where there is no setImmediate, and cancelAfterIO stops it', async () => {
    const browser = await loadInBrowser();
    const order = browser.run(`const order = [];
      host.runAfterIO(() => order.push('ran'));
      host.cancelAfterIO(host.runAfterIO(() => order.push('cancelled')));
      order`) as string[];
    expect(order).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect([...order]).toEqual(['ran']);
  });
});
