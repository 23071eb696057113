/**
 * The core entry (`clientpool`) bundles for a browser with esbuild (`platform: 'browser'`) with no Node
 * built-in left in it, and the bundle runs the pool scenario (scripts/runtimes/scenario.mjs: breaker,
 * retry, timeout, limits, trace IDs) in a fresh V8 context that has only a browser's globals.
 */
import { build, type BuildFailure, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createBrowserRealm, type BrowserRealm } from './browser-realm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CORE = `${ROOT}src/index.ts`;
const SCENARIO = `${ROOT}scripts/runtimes/scenario.mjs`;

interface Bundle {
  readonly code: string;
  readonly metafile: Metafile;
}

/** Bundles `contents` (an entry module) for a browser; rejects with esbuild's errors as `file:line text`. */
async function bundleForBrowser(contents: string, format: 'esm' | 'iife'): Promise<Bundle> {
  try {
    const result = await build({
      stdin: { contents, resolveDir: ROOT, sourcefile: 'entry.mjs', loader: 'js' },
      bundle: true,
      platform: 'browser',
      format,
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    return { code: result.outputFiles[0]!.text, metafile: result.metafile };
  } catch (error) {
    const failure = error as BuildFailure;
    if (!Array.isArray(failure.errors)) throw error;
    throw new Error(`esbuild could not bundle for the browser:\n${failure.errors.map((e) => `${e.location?.file ?? '?'}:${e.location?.line ?? '?'} ${e.text}`).join('\n')}`, { cause: error });
  }
}

/** Every import the bundle leaves to its host (esbuild marks what it could not bundle as external). */
function externalImports(metafile: Metafile): string[] {
  return Object.values(metafile.outputs).flatMap((output) => output.imports.map((entry) => entry.path));
}

interface ScenarioReport {
  readonly passed: number;
  readonly failures: string[];
}

describe('the core in a browser', () => {
  let realm: BrowserRealm | undefined;
  afterEach(() => {
    realm?.dispose();
    realm = undefined;
  });

  it('the core entry bundles for platform browser, with no node: import left', async () => {
    const { code, metafile } = await bundleForBrowser(`export * from ${JSON.stringify(CORE)};`, 'esm');
    expect(externalImports(metafile)).toEqual([]);
    expect(Object.keys(metafile.inputs).filter((input) => input.startsWith('node:') || input.includes('(disabled)'))).toEqual([]);
    expect(code).toMatch(/\bClientPool\b/);
  });

  it('the bundle runs the pool scenario in a context with only browser globals: no process, Buffer or setImmediate', async () => {
    const entry = `import * as lib from ${JSON.stringify(CORE)};
      import { runScenario } from ${JSON.stringify(SCENARIO)};
      globalThis.scenario = runScenario(lib);`;
    const { code } = await bundleForBrowser(entry, 'iife');
    realm = createBrowserRealm();
    expect(realm.run('[typeof process, typeof Buffer, typeof setImmediate, typeof require]')).toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
    realm.run(code);
    const report = await (realm.context['scenario'] as Promise<ScenarioReport>);
    expect(report.failures).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(20);
    expect(realm.warnings).toEqual([]);
  });

  it('trace IDs come from the web crypto: a pool with the trace-ID middleware runs where only crypto.getRandomValues exists', async () => {
    const entry = `import { ClientPool, traceId, TRACE_ID } from ${JSON.stringify(CORE)};
      const pool = new ClientPool({ middleware: [traceId()] });
      pool.add({}, { name: 'only' });
      globalThis.ids = Promise.all([1, 2, 3].map(() => pool.run((_client, call) => call.get(TRACE_ID))));`;
    const { code } = await bundleForBrowser(entry, 'iife');
    realm = createBrowserRealm();
    realm.run(code);
    const ids = await (realm.context['ids'] as Promise<string[]>);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(3);
  });

  it('a listener that throws is reported on console.warn where there is no process.emitWarning', async () => {
    const entry = `import { ClientPool } from ${JSON.stringify(CORE)};
      const pool = new ClientPool({ breaker: { maxFailures: 1, cooldown: 60000 } });
      pool.onStateChange(() => { throw new Error('listener bug'); });
      pool.add({}, { name: 'down' });
      globalThis.done = pool.run(() => Promise.reject(new Error('down'))).catch((error) => error.code);`;
    const { code } = await bundleForBrowser(entry, 'iife');
    realm = createBrowserRealm();
    realm.run(code);
    expect(await (realm.context['done'] as Promise<string>)).toBe('ERR_CLIENT_CALL');
    expect(realm.warnings).toEqual([expect.stringMatching(/^clientpool: an event listener threw: .*listener bug.* \(CLIENTPOOL_LISTENER_ERROR\)$/)]);
  });

  it('health checks run on numeric timer handles: a client failing its checks goes down, and close() stops them', async () => {
    const entry = `import { ClientPool } from ${JSON.stringify(CORE)};
      const pool = new ClientPool({ healthCheck: { interval: 60000, timeout: 1000, unhealthyThreshold: 1, check: (client) => { if (!client.isUp) throw new Error('sick'); } } });
      const changes = [];
      pool.onHealthChange((change) => changes.push(change.client + ' ' + (change.isDown ? 'down' : 'up')));
      pool.add({ isUp: true }, { name: 'up' });
      pool.add({ isUp: false }, { name: 'sick' });
      globalThis.done = pool.checkHealth().then(async () => { await pool.close(); return changes; });`;
    const { code } = await bundleForBrowser(entry, 'iife');
    realm = createBrowserRealm();
    realm.run(code);
    expect(await (realm.context['done'] as Promise<string[]>)).toEqual(['sick down']);
    expect(realm.warnings).toEqual([]);
  });

  it('a call with its own signal and a predicate that throws: the sweep runs on a timer, the warning goes to console.warn', async () => {
    const entry = `import { ClientPool } from ${JSON.stringify(CORE)};
      const pool = new ClientPool({ isFailure: () => { throw new Error('bad predicate'); } });
      pool.add({}, { name: 'only' });
      const signal = new AbortController().signal;
      globalThis.done = pool.run(() => Promise.reject(new Error('down')), { signal }).catch((error) => error.code)
        .then((code) => new Promise((resolve) => setTimeout(() => resolve(code), 10)));`;
    const { code } = await bundleForBrowser(entry, 'iife');
    realm = createBrowserRealm();
    realm.run(code);
    expect(await (realm.context['done'] as Promise<string>)).toBe('ERR_CLIENT_CALL');
    expect(realm.warnings).toEqual([expect.stringMatching(/^clientpool: .*bad predicate.* \(CLIENTPOOL_CALLBACK_ERROR\) /)]);
  });
});
