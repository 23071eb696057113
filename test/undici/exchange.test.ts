// What is retried or hedged, and when a response becomes the caller's: the safety rules of the undici
// adapter, against real loopback origins.
import { Readable } from 'node:stream';
import { fetch, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { poolDispatcher, type PoolDispatcher, type PoolDispatcherOptions } from '../../src/undici/index.js';
import { startOrigin, stopOrigins, until, type Origin } from './origins.js';

const dispatchers: PoolDispatcher[] = [];

afterEach(async () => {
  await Promise.allSettled(dispatchers.splice(0).map((d) => d.destroy()));
  await stopOrigins();
});

/** A dispatcher over `origins`, round-robin from the first, retrying at once (no backoff to wait out). */
function over(origins: Origin[], options: Omit<PoolDispatcherOptions, 'origins'> = {}): PoolDispatcher {
  const dispatcher = poolDispatcher({ pool: { retry: { attempts: 3, backoff: { initial: 0, max: 0 } } }, ...options, origins: origins.map((o) => o.url) });
  dispatchers.push(dispatcher);
  return dispatcher;
}

const unavailable = (name: string) => startOrigin(name, (_req, res) => {
  res.statusCode = 503;
  res.end(`${name} is down`);
});

function failures(dispatcher: PoolDispatcher): number[] {
  return dispatcher.pool.members().map((m) => m.failures);
}

describe('retries and hedges only while safe', () => {
  it('moves a GET that got a 503 to another origin, and counts the 503 against its origin', async () => {
    const a = await unavailable('a');
    const b = await startOrigin('b');
    const dispatcher = over([a, b]);
    const response = await request('http://service.invalid/x', { dispatcher });
    expect([response.statusCode, await response.body.text()]).toEqual([200, 'b /x']);
    expect([a.hits, b.hits]).toEqual([['GET /x'], ['GET /x']]);
    expect(failures(dispatcher)).toEqual([1, 0]);
  });

  it('passes a 404 to the caller unretried, not counted against the origin', async () => {
    const a = await startOrigin('a', (_req, res) => {
      res.statusCode = 404;
      res.end('no such thing');
    });
    const b = await startOrigin('b');
    const dispatcher = over([a, b]);
    const response = await request('http://service.invalid/missing', { dispatcher });
    expect([response.statusCode, await response.body.text()]).toEqual([404, 'no such thing']);
    expect(b.hits).toEqual([]);
    expect(dispatcher.pool.members().map((m) => [m.successes, m.failures])).toEqual([[1, 0], [0, 0]]);
  });

  it('does not retry a POST: its 503 reaches the caller, body and all, and counts against the origin', async () => {
    const a = await unavailable('a');
    const b = await startOrigin('b');
    const dispatcher = over([a, b]);
    const response = await request('http://service.invalid/orders', { dispatcher, method: 'POST', body: 'order' });
    expect([response.statusCode, await response.body.text()]).toEqual([503, 'a is down']);
    expect(b.hits).toEqual([]);
    expect(failures(dispatcher)).toEqual([1, 0]);
  });

  it('retries a POST that opts in with idempotent: true, or by idempotentMethods', async () => {
    const a = await unavailable('a');
    const b = await startOrigin('b');
    const perRequest = over([a, b]);
    const optedIn = await request('http://service.invalid/orders', { dispatcher: perRequest, method: 'POST', body: 'order', idempotent: true });
    expect([optedIn.statusCode, await optedIn.body.text()]).toEqual([200, 'b /orders']);
    const byMethod = over([a, b], { idempotentMethods: ['GET', 'POST'] });
    const retried = await request('http://service.invalid/orders', { dispatcher: byMethod, method: 'POST', body: Buffer.from('order') });
    expect(retried.statusCode).toBe(200);
    await retried.body.text();
    expect(b.bodies.map(String)).toEqual(['order', 'order']);
  });

  it('does not retry a GET that opts out with idempotent: false', async () => {
    const a = await unavailable('a');
    const b = await startOrigin('b');
    const response = await request('http://service.invalid/x', { dispatcher: over([a, b]), idempotent: false });
    expect(response.statusCode).toBe(503);
    await response.body.text();
    expect(b.hits).toEqual([]);
  });

  it('sends a streaming request body to one origin only, even for a PUT, and never again', async () => {
    const a = await unavailable('a');
    const b = await startOrigin('b');
    const dispatcher = over([a, b]);
    const body = Readable.from([Buffer.from('part one, '), Buffer.from('part two')]);
    const response = await request('http://service.invalid/upload', { dispatcher, method: 'PUT', body });
    expect([response.statusCode, await response.body.text()]).toEqual([503, 'a is down']);
    expect(a.bodies.map(String)).toEqual(['part one, part two']);
    expect(b.hits).toEqual([]);
    // To a healthy origin it arrives whole.
    const next = await request('http://service.invalid/upload', { dispatcher, method: 'PUT', body: Readable.from(['x', 'y', 'z']) });
    expect(next.statusCode).toBe(200);
    await next.body.text();
    expect(b.bodies.map(String)).toEqual(['xyz']);
  });

  it('with bufferBody, retries a PUT whose streamed body fits, resending the same bytes (fetch streams every body)', async () => {
    const a = await unavailable('a');
    const b = await startOrigin('b');
    const dispatcher = over([a, b], { bufferBody: 1024 });
    const viaFetch = await fetch('http://service.invalid/doc', { dispatcher, method: 'PUT', body: 'the document' });
    expect([viaFetch.status, await viaFetch.text()]).toEqual([200, 'b /doc']);
    const viaRequest = await request('http://service.invalid/doc', { dispatcher, method: 'PUT', body: Readable.from([Buffer.from('part 1, '), 'part 2']) });
    expect(viaRequest.statusCode).toBe(200);
    await viaRequest.body.text();
    // Each met a's 503 first, then went to b with the same bytes.
    expect(a.bodies.map(String)).toEqual(['the document', 'part 1, part 2']);
    expect(b.bodies.map(String)).toEqual(['the document', 'part 1, part 2']);
  });

  it('with bufferBody, sends a streamed body longer than the bound once, whole, to one origin', async () => {
    const a = await unavailable('a');
    const b = await startOrigin('b');
    const dispatcher = over([a, b], { bufferBody: 8 });
    const response = await request('http://service.invalid/doc', { dispatcher, method: 'PUT', body: Readable.from(['0123', '4567', '89ab', 'cdef']) });
    expect(response.statusCode).toBe(503);
    await response.body.text();
    expect(a.bodies.map(String)).toEqual(['0123456789abcdef']);
    expect(b.hits).toEqual([]);
  });

  it('moves a GET whose connection was reset before any response to another origin', async () => {
    const a = await startOrigin('a', (req) => req.socket.destroy());
    const b = await startOrigin('b');
    const dispatcher = over([a, b]);
    const response = await request('http://service.invalid/x', { dispatcher });
    expect([response.statusCode, await response.body.text()]).toEqual([200, 'b /x']);
    expect(failures(dispatcher)).toEqual([1, 0]);
  });

  it('gives the caller the last failing response when every origin fails', async () => {
    const a = await unavailable('a');
    const b = await unavailable('b');
    const dispatcher = over([a, b], { pool: { retry: { attempts: 2, backoff: { initial: 0, max: 0 } } } });
    const response = await request('http://service.invalid/x', { dispatcher });
    expect([response.statusCode, await response.body.text()]).toEqual([503, 'b is down']);
    expect(failures(dispatcher)).toEqual([1, 1]);
  });

  it('never retries once the response started: an origin dying mid-body errors the caller, no other origin asked', async () => {
    const a = await startOrigin('a', (req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part of it', () => req.socket.destroy());
    });
    const b = await startOrigin('b');
    const dispatcher = over([a, b]);
    const response = await request('http://service.invalid/x', { dispatcher });
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
    expect(b.hits).toEqual([]);
  });

  it('pauses an origin that answers 429 with Retry-After, and sends the request on at once', async () => {
    const a = await startOrigin('a', (_req, res) => {
      res.writeHead(429, { 'retry-after': '30' });
      res.end('slow down');
    });
    const b = await startOrigin('b');
    const dispatcher = over([a, b]);
    for (let i = 0; i < 4; i++) {
      const response = await request(`http://service.invalid/${i}`, { dispatcher });
      expect(response.statusCode).toBe(200);
      await response.body.text();
    }
    // The first request met the 429; every later one skipped the paused origin.
    expect(a.hits).toEqual(['GET /0']);
    expect(b.hits).toEqual(['GET /0', 'GET /1', 'GET /2', 'GET /3']);
  });

  it('commits one response of hedged attempts and aborts the other on its origin', async () => {
    const a = await startOrigin('a', () => {
      // Never answers: the hedge on b wins.
    });
    const b = await startOrigin('b');
    const dispatcher = over([a, b], { pool: { hedge: { delay: 5 } } });
    const response = await request('http://service.invalid/x', { dispatcher });
    expect([response.statusCode, await response.body.text()]).toEqual([200, 'b /x']);
    await until(() => a.aborted.length === 1);
    expect(a.aborted).toEqual(['GET /x']);
  });

  it('aborts the request on the origin when the caller aborts, and rejects with the caller\'s reason', async () => {
    const a = await startOrigin('a', (req, res) => {
      // /slow never answers.
      if (req.url !== '/slow') res.end(`a ${req.url ?? ''}`);
    });
    const dispatcher = over([a]);
    const controller = new AbortController();
    const pending = request('http://service.invalid/slow', { dispatcher, signal: controller.signal });
    await until(() => a.hits.length === 1);
    controller.abort(new Error('user left'));
    await expect(pending).rejects.toThrow('user left');
    await until(() => a.aborted.length === 1);
    expect(dispatcher.pool.members()[0]!.failures).toBe(0);
    // The aborted call's signal is not lent to the next request.
    const next = await request('http://service.invalid/next', { dispatcher });
    expect(await next.body.text()).toBe('a /next');
  });

  it('ends the response on the origin when the caller aborts after it started, with no retry', async () => {
    const a = await startOrigin('a', (_req, res) => {
      res.writeHead(200);
      res.write('the start');
    });
    const b = await startOrigin('b');
    const dispatcher = over([a, b]);
    const controller = new AbortController();
    const response = await request('http://service.invalid/stream', { dispatcher, signal: controller.signal });
    const body = response.body.text();
    controller.abort(new Error('enough'));
    await expect(body).rejects.toThrow('enough');
    await until(() => a.aborted.length === 1);
    expect(b.hits).toEqual([]);
    // What the first request's abort touched does not reach the next request (nor anything it reuses).
    const next = await request('http://service.invalid/next', { dispatcher });
    expect(await next.body.text()).toBe('b /next');
  });

  it('passes a bad request\'s own undici error to the caller, unretried and not counted against any origin', async () => {
    const a = await startOrigin('a');
    const b = await startOrigin('b');
    const dispatcher = over([a, b]);
    await expect(request('http://service.invalid/x', { dispatcher, headers: { 'bad header': 'x' } })).rejects.toMatchObject({ code: 'UND_ERR_INVALID_ARG' });
    expect(dispatcher.pool.members().map((m) => m.failures)).toEqual([0, 0]);
    expect([a.hits, b.hits]).toEqual([[], []]);
  });

  it('counts the statuses isFailureStatus names, and turns its throw into a CallbackError for the caller', async () => {
    const a = await startOrigin('a', (_req, res) => {
      res.statusCode = 409;
      res.end('conflict');
    });
    const b = await startOrigin('b');
    const moved = await request('http://service.invalid/x', { dispatcher: over([a, b], { isFailureStatus: (status) => status === 409 }) });
    expect(await moved.body.text()).toBe('b /x');
    const cause = new Error('predicate broke');
    const throwing = over([a, b], {
      isFailureStatus: () => {
        throw cause;
      },
    });
    await expect(request('http://service.invalid/x', { dispatcher: throwing })).rejects.toMatchObject({ code: 'ERR_CALLBACK', cause });
    expect(throwing.pool.members().map((m) => m.failures)).toEqual([0, 0]);
  });

  it('passes informational responses (103 Early Hints) on without committing to them', async () => {
    const a = await startOrigin('a', (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.end('final');
    });
    const dispatcher = over([a]);
    const infos: number[] = [];
    const response = await request('http://service.invalid/page', { dispatcher, onInfo: ({ statusCode }) => infos.push(statusCode) });
    expect([infos, response.statusCode, await response.body.text()]).toEqual([[103], 200, 'final']);
  });

  it('hands an upgrade (undici upgrade()) the socket of the origin picked', async () => {
    const a = await startOrigin('a');
    a.server.on('upgrade', (req, socket) => {
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n${req.url ?? ''} upgraded`);
    });
    const dispatcher = over([a]);
    const { headers, socket } = await dispatcher.upgrade({ path: '/ws', protocol: 'echo' });
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect([headers['upgrade'], Buffer.concat(chunks).toString()]).toEqual(['echo', '/ws upgraded']);
  });

  it('times an attempt out with the pool\'s timeout and moves it to another origin', async () => {
    const a = await startOrigin('a', () => {
      // Never answers.
    });
    const b = await startOrigin('b');
    // Long enough for b to answer on a busy machine: a never answers at all.
    const dispatcher = over([a, b], { pool: { timeout: 1_000, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } } });
    const response = await request('http://service.invalid/x', { dispatcher });
    expect(await response.body.text()).toBe('b /x');
    await until(() => a.aborted.length === 1);
    expect(failures(dispatcher)).toEqual([1, 0]);
  });
});
