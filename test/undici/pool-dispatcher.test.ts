// poolDispatcher as undici uses a dispatcher: fetch, request, the global dispatcher, close and destroy,
// against real loopback origins (one killed mid-run).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, fetch, getGlobalDispatcher, Pool, request, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { poolDispatcher, type PoolDispatcher } from '../../src/undici/index.js';
import { startOrigin, stopOrigins, until } from './origins.js';

const dispatchers: PoolDispatcher[] = [];
const previousGlobal = getGlobalDispatcher();

afterEach(async () => {
  setGlobalDispatcher(previousGlobal);
  await Promise.allSettled(dispatchers.splice(0).map((d) => d.destroy()));
  await stopOrigins();
});

function track(dispatcher: PoolDispatcher): PoolDispatcher {
  dispatchers.push(dispatcher);
  return dispatcher;
}

describe('poolDispatcher', () => {
  it('spreads request() calls over every origin, sending the caller\'s path and query to the origin picked', async () => {
    const a = await startOrigin('a');
    const b = await startOrigin('b');
    const dispatcher = track(poolDispatcher({ origins: [a.url, b.url] }));
    const texts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await request(`http://service.invalid/items/${i}?q=x`, { dispatcher });
      expect(response.statusCode).toBe(200);
      texts.push(await response.body.text());
    }
    expect(texts).toEqual(['a /items/0?q=x', 'b /items/1?q=x', 'a /items/2?q=x', 'b /items/3?q=x']);
  });

  it('serves fetch(), headers and body', async () => {
    const a = await startOrigin('a', (req, res) => {
      res.setHeader('x-origin', 'a');
      res.end(JSON.stringify({ path: req.url, host: req.headers.host }));
    });
    const dispatcher = track(poolDispatcher({ origins: [a.url] }));
    const response = await fetch('http://service.invalid/users/1', { dispatcher });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-origin')).toBe('a');
    // The Host header is the picked origin's, as undici's per-origin Pool sends it.
    expect(await response.json()).toEqual({ path: '/users/1', host: a.url.slice('http://'.length) });
  });

  it('keeps every request succeeding while one origin is killed mid-run', async () => {
    const a = await startOrigin('a');
    const b = await startOrigin('b');
    const dispatcher = track(poolDispatcher({ origins: [a.url, b.url], pool: { breaker: { maxFailures: 2, cooldown: 60_000 } } }));
    const statuses: number[] = [];
    const worker = async (id: number): Promise<void> => {
      for (let i = 0; i < 50; i++) {
        if (id === 0 && i === 10) await a.kill();
        const response = await request(`http://service.invalid/${id}/${i}`, { dispatcher });
        await response.body.text();
        statuses.push(response.statusCode);
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    expect(statuses).toHaveLength(200);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const [memberA, memberB] = dispatcher.pool.members();
    expect(memberA!.state.kind).toBe('open');
    expect(memberB!.successes).toBeGreaterThan(100);
  });

  it('delivers a 1 MB chunked response body intact, with backpressure', async () => {
    const payload = Buffer.alloc(1 << 20);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) % 251;
    const a = await startOrigin('a', (_req, res) => {
      let offset = 0;
      const write = (): void => {
        while (offset < payload.length) {
          const chunk = payload.subarray(offset, offset + 16_384);
          offset += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', write);
        }
        res.end();
      };
      write();
    });
    const dispatcher = track(poolDispatcher({ origins: [a.url] }));
    const viaRequest = await request('http://service.invalid/big', { dispatcher, highWaterMark: 1024 });
    expect(viaRequest.headers['transfer-encoding']).toBe('chunked');
    const got = Buffer.from(await viaRequest.body.arrayBuffer());
    const viaFetch = Buffer.from(await (await fetch('http://service.invalid/big', { dispatcher })).arrayBuffer());
    const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    expect([got.length, digest(got)]).toEqual([payload.length, digest(payload)]);
    expect([viaFetch.length, digest(viaFetch)]).toEqual([payload.length, digest(payload)]);
  });

  describe('as the global dispatcher', () => {
    it('serves fetch() and request() that name no dispatcher', async () => {
      const a = await startOrigin('a');
      const dispatcher = track(poolDispatcher({ origins: [a.url] }));
      setGlobalDispatcher(dispatcher);
      const viaFetch = await fetch('http://service.invalid/f');
      const viaRequest = await request('http://service.invalid/r');
      expect([await viaFetch.text(), await viaRequest.body.text()]).toEqual(['a /f', 'a /r']);
      expect(a.hits).toEqual(['GET /f', 'GET /r']);
    });

    it("serves Node's built-in fetch, which brings its own undici and older-style handlers", async () => {
      const a = await startOrigin('a');
      setGlobalDispatcher(track(poolDispatcher({ origins: [a.url] })));
      const response = await globalThis.fetch('http://service.invalid/builtin', { method: 'PUT', body: 'x' });
      expect([response.status, await response.text()]).toEqual([200, 'a /builtin']);
      expect(a.bodies.map(String)).toEqual(['x']);
    });

    it('with serviceOrigin, sends other origins to the fallback dispatcher', async () => {
      const a = await startOrigin('a');
      const elsewhere = await startOrigin('elsewhere');
      const fallback = new Agent();
      const dispatcher = track(poolDispatcher({ origins: [a.url], serviceOrigin: 'http://api.internal', fallback }));
      setGlobalDispatcher(dispatcher);
      expect(await (await fetch('http://api.internal/x')).text()).toBe('a /x');
      expect(await (await fetch(`${elsewhere.url}/y`)).text()).toBe('elsewhere /y');
      expect(await (await request('http://api.internal/z')).body.text()).toBe('a /z');
      expect(await (await request(`${elsewhere.url}/w`)).body.text()).toBe('elsewhere /w');
      // No origin at all: the dispatcher's own.
      expect(await (await dispatcher.request({ path: '/v', method: 'GET' })).body.text()).toBe('a /v');
      expect([a.hits, elsewhere.hits]).toEqual([['GET /x', 'GET /z', 'GET /v'], ['GET /y', 'GET /w']]);
      await dispatcher.close();
      // A fallback of the caller's is not the dispatcher's to close.
      expect(fallback.closed).toBe(false);
      await fallback.close();
    });
  });

  it('with serviceOrigin and no fallback, sends other origins through an Agent it makes and closes', async () => {
    const a = await startOrigin('a');
    const elsewhere = await startOrigin('elsewhere');
    const dispatcher = track(poolDispatcher({ origins: [a.url], serviceOrigin: new URL('http://api.internal') }));
    expect(await (await request(`${elsewhere.url}/y`, { dispatcher })).body.text()).toBe('elsewhere /y');
    const connections = (): Promise<number> => new Promise((resolve, reject) => elsewhere.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    expect(await connections()).toBe(1);
    await dispatcher.close();
    // The Agent's sockets close as it does; the server hears so a little later (bounded wait, not a speed check).
    const giveUp = Date.now() + 10_000;
    while ((await connections()) > 0 && Date.now() < giveUp) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await connections()).toBe(0);
  });

  it('runs each request through the pool\'s middleware, labelled by its method (or by label), on the origin picked', async () => {
    const a = await startOrigin('a');
    const seen: string[] = [];
    const middleware = { name: 'seen', execute: (call: { method: string; clientName: string; kind: string }, next: (call: never) => Promise<unknown>) => (seen.push(`${call.method} ${call.clientName} ${call.kind}`), next(call as never)) };
    const dispatcher = track(poolDispatcher({ origins: [a.url], pool: { middleware: [middleware] } }));
    await (await request('http://service.invalid/x', { dispatcher, method: 'DELETE' })).body.text();
    const labelled = track(poolDispatcher({ origins: [a.url], pool: { middleware: [middleware] }, label: (r) => `${r.method.toLowerCase()}_${r.path.split('/')[1] ?? ''}` }));
    await (await request('http://service.invalid/users/7', { dispatcher: labelled })).body.text();
    expect(seen).toEqual([`DELETE ${a.url} first`, `get_users ${a.url} first`]);
  });

  it('lets a health check reach each origin through its own dispatcher, and keeps requests off one that fails it', async () => {
    const sick = await startOrigin('sick', (req, res) => {
      res.statusCode = req.url === '/healthz' ? 500 : 200;
      res.end('sick');
    });
    const well = await startOrigin('well');
    const dispatcher = track(poolDispatcher({
      origins: [sick.url, well.url],
      pool: {
        healthCheck: {
          interval: 60_000,
          unhealthyThreshold: 1,
          check: async ({ origin, dispatcher: own }, signal) => {
            const { statusCode, body } = await request(`${origin}/healthz`, { dispatcher: own, signal });
            await body.dump();
            if (statusCode !== 200) throw new Error(`health ${statusCode}`);
          },
        },
      },
    }));
    await dispatcher.pool.checkHealth();
    for (let i = 0; i < 4; i++) await (await request(`http://service.invalid/${i}`, { dispatcher })).body.text();
    // Only health checks reached it (how many depends on whether the first round had run already).
    expect(sick.hits.length).toBeGreaterThan(0);
    expect(sick.hits.filter((hit) => hit !== 'GET /healthz')).toEqual([]);
    expect(well.hits.filter((hit) => hit !== 'GET /healthz')).toEqual(['GET /0', 'GET /1', 'GET /2', 'GET /3']);
  });

  it('close() waits for requests in flight, then closes the pool and every per-origin dispatcher', async () => {
    const a = await startOrigin('a');
    const b = await startOrigin('b');
    const made: Pool[] = [];
    const dispatcher = track(poolDispatcher({ origins: [a.url, b.url], factory: (origin) => (made.push(new Pool(origin)), made.at(-1)!) }));
    const inFlight = request('http://service.invalid/one', { dispatcher });
    const closed = dispatcher.close();
    expect(await (await inFlight).body.text()).toBe('a /one');
    await closed;
    expect(dispatcher.pool.isClosed).toBe(true);
    expect(made.map((p) => p.closed)).toEqual([true, true]);
    await expect(request('http://service.invalid/late', { dispatcher })).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });

  it('takes undici\'s callback forms of close() and destroy()', async () => {
    const a = await startOrigin('a');
    const closing = track(poolDispatcher({ origins: [a.url] }));
    await new Promise<void>((resolve) => closing.close(resolve));
    expect(closing.pool.isClosed).toBe(true);
    const destroying = track(poolDispatcher({ origins: [a.url] }));
    await new Promise<void>((resolve) => destroying.destroy(resolve));
    const destroyingWithError = track(poolDispatcher({ origins: [a.url] }));
    await new Promise<void>((resolve) => destroyingWithError.destroy(new Error('stop'), resolve));
    expect([destroying.pool.isClosed, destroyingWithError.pool.isClosed]).toEqual([true, true]);
  });

  it('destroy() ends a response whose body is still streaming', async () => {
    const a = await startOrigin('a', (_req, res) => {
      res.writeHead(200);
      res.write('first part');
    });
    const made: Dispatcher[] = [];
    const dispatcher = track(poolDispatcher({ origins: [a.url], factory: (origin) => (made.push(new Pool(origin)), made.at(-1)!) }));
    const response = await request('http://service.invalid/stream', { dispatcher });
    const body = response.body.text();
    await dispatcher.destroy(new Error('shutting down'));
    await expect(body).rejects.toThrow();
    await until(() => a.aborted.length === 1);
    expect((made[0] as Pool).destroyed).toBe(true);
  });
});

describe('a streamed body read into memory (bufferBody) that stalls', () => {
  const stalled = (): Readable =>
    Readable.from(
      (async function* () {
        yield 'abc';
        await new Promise(() => {});
      })(),
    );

  it('the caller\'s abort ends the request at once, with its reason', async () => {
    const a = await startOrigin('a');
    const dispatcher = track(poolDispatcher({ origins: [a.url], bufferBody: 1_024 }));
    const controller = new AbortController();
    const pending = request('http://service.invalid/x', { dispatcher, method: 'PUT', body: stalled(), signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(pending).rejects.toThrow('gave up');
    expect(dispatcher.pool.members()[0]!.inFlight).toBe(0);
  });

  it('close() and destroy() end it rather than leave the caller waiting', async () => {
    const a = await startOrigin('a');
    for (const end of ['close', 'destroy'] as const) {
      const dispatcher = poolDispatcher({ origins: [a.url], bufferBody: 1_024 });
      const pending = request('http://service.invalid/x', { dispatcher, method: 'PUT', body: stalled() });
      await new Promise((resolve) => setImmediate(resolve));
      await (end === 'close' ? dispatcher.close() : dispatcher.destroy());
      await expect(pending).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    }
  });
});
