// pool.proxy() on undici's Pool against a loopback node:http server: requests run through the pool, and
// with the `signal` option a timeout or a lost hedge aborts the HTTP request itself (the server sees its
// request closed), not only the caller's promise.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientPool, TimeoutError } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';

/** A loopback server: `/hang` never answers (unless `answersAll`), anything else answers `ok <path>`. */
interface TestServer {
  readonly url: string;
  /** Requests to /hang, in arrival order, each with a promise of its `close`. */
  readonly hanging: { readonly request: IncomingMessage; readonly closed: Promise<void>; isClosed: boolean }[];
  /** Resolves when the n-th /hang request has arrived. */
  arrived(n: number): Promise<void>;
}

const servers: Server[] = [];
const pools: Pool[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(pools.splice(0).map((pool) => pool.destroy()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function startServer(answersAll = false): Promise<TestServer> {
  const hanging: TestServer['hanging'] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((request, response) => {
    if (request.url === '/hang' && !answersAll) {
      const entry = { request, closed: once(request.socket, 'close').then(() => undefined), isClosed: false };
      void entry.closed.then(() => (entry.isClosed = true));
      hanging.push(entry);
      for (const waiter of waiters.filter((w) => w.n <= hanging.length)) waiter.resolve();
      return;
    }
    response.end(`ok ${request.url ?? ''}`);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hanging,
    arrived(n) {
      if (hanging.length >= n) return Promise.resolve();
      const { promise, resolve } = deferred();
      waiters.push({ n, resolve });
      return promise;
    },
  };
}

function undiciPool(url: string): Pool {
  const pool = new Pool(url, { connections: 4 });
  pools.push(pool);
  return pool;
}

describe('pool.proxy() on undici Pool', () => {
  it('runs request through the pool, labelled, with its generic opaque result', async () => {
    const server = await startServer();
    const labels: string[] = [];
    const pool = new ClientPool<Pool>({ middleware: [{ name: 'labels', execute: (call, next) => (labels.push(`${call.method}@${call.clientName}`), next(call)) }] });
    pool.add(undiciPool(server.url), { name: 'a' });
    pool.add(undiciPool(server.url), { name: 'b' });
    const http = pool.proxy({ signal: { request: 0 } });
    const first = await http.request({ path: '/one', method: 'GET', opaque: { id: 1 } });
    const second = await http.request({ path: '/two', method: 'GET' });
    expect([first.statusCode, await first.body.text(), first.opaque.id]).toEqual([200, 'ok /one', 1]);
    expect(await second.body.text()).toBe('ok /two');
    expect(labels).toEqual(['request@a', 'request@b']);
  });

  it('a timeout aborts the request itself when the signal option names its options parameter', async () => {
    const server = await startServer();
    // The pool's clock moves with the fake timers: nothing here depends on real time.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const pool = new ClientPool<Pool>({ timeout: 100, clock: { now: () => Date.now() } });
    pool.add(undiciPool(server.url));
    const pending = pool.proxy({ signal: { request: 0 } }).request({ path: '/hang', method: 'GET' }).catch((e: unknown) => e);
    await server.arrived(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await pending).toBeInstanceOf(TimeoutError);
    await server.hanging[0]!.closed; // the server saw the request go: undici aborted it
  });

  it('without the signal option the request outlives its timeout (the caller gets TimeoutError, the server keeps the request)', async () => {
    const server = await startServer();
    // The pool's clock moves with the fake timers: nothing here depends on real time.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const pool = new ClientPool<Pool>({ timeout: 100, clock: { now: () => Date.now() } });
    pool.add(undiciPool(server.url));
    const pending = pool.proxy().request({ path: '/hang', method: 'GET' }).catch((e: unknown) => e);
    await server.arrived(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await pending).toBeInstanceOf(TimeoutError);
    // A loopback round trip for an abort to have reached the server, had there been one.
    const probe = await pool.proxy().request({ path: '/probe', method: 'GET' }).catch((e: unknown) => e);
    expect(probe).not.toBeInstanceOf(Error);
    expect(server.hanging[0]!.isClosed).toBe(false);
  });

  it('a hedge that loses the race has its request aborted', async () => {
    const slow = await startServer();
    const fast = await startServer(true);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const pool = new ClientPool<Pool>({ strategy: 'round-robin', hedge: { delay: 50 }, clock: { now: () => Date.now() } });
    pool.add(undiciPool(slow.url), { name: 'slow' });
    pool.add(undiciPool(fast.url), { name: 'fast' });
    const http = pool.proxy({ signal: { request: 0 } });
    // The first attempt goes to `slow` and hangs there; the hedge goes to `fast`, whose /hang is a 200.
    const pending = http.request({ path: '/hang', method: 'GET' });
    await slow.arrived(1);
    await vi.advanceTimersByTimeAsync(50);
    const response = await pending;
    expect([response.statusCode, await response.body.text()]).toEqual([200, 'ok /hang']);
    await slow.hanging[0]!.closed;
  });

  it("with the caller's own signal in the options, a timeout still aborts the request itself", async () => {
    const server = await startServer();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const pool = new ClientPool<Pool>({ timeout: 100, clock: { now: () => Date.now() } });
    pool.add(undiciPool(server.url), { name: 'a' });
    const own = new AbortController();
    const pending = pool.proxy({ signal: { request: 0 } }).request({ path: '/hang', method: 'GET', signal: own.signal }).catch((e: unknown) => e);
    await server.arrived(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await pending).toBeInstanceOf(TimeoutError);
    await server.hanging[0]!.closed;
    expect(own.signal.aborted).toBe(false); // the caller's controller is left alone
  });

  it("a caller's abort through its own signal is a cancellation (AbortedError), not a failure of the client", async () => {
    const server = await startServer();
    const pool = new ClientPool<Pool>();
    pool.add(undiciPool(server.url), { name: 'a' });
    const own = new AbortController();
    const pending = pool.proxy({ signal: { request: 0 } }).request({ path: '/hang', method: 'GET', signal: own.signal }).catch((e: unknown) => e);
    await server.arrived(1);
    own.abort(new Error('user left'));
    expect(await pending).toBeInstanceOf(AbortedError);
    await server.hanging[0]!.closed;
    expect(pool.members()[0]).toMatchObject({ failures: 0, cancelled: 1 });
  });

  it('dispatch, which reports to a handler, is left out; a dead client is not counted healthy through it', () => {
    const pool = new ClientPool<Pool>();
    pool.add(undiciPool('http://127.0.0.1:1'), { name: 'dead' });
    const http = pool.proxy() as unknown as Record<string, unknown>;
    expect(() => http['dispatch']).toThrow(expect.objectContaining({ code: 'ERR_EXCLUDED_METHOD', reason: 'callback style' }) as Error);
    expect(() => http['dispatch']).toThrow(/reports its outcome to a handler/);
    expect(typeof pool.proxy({ include: ['dispatch'] }).dispatch).toBe('function');
  });
});
