// Attack on clientpool/undici: callbacks that call back into the pool, the dispatcher closed or destroyed
// mid-request, a fetch aborted during its body; real loopback origins.
import { Readable } from 'node:stream';
import { fetch, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { poolDispatcher, type PoolDispatcher, type PoolDispatcherOptions } from '../../../src/undici/index.js';
import { falloutOf, inFlight } from '../../helpers/broken-callbacks.js';
import { startOrigin, stopOrigins, until, type Origin } from '../../undici/origins.js';

const dispatchers: PoolDispatcher[] = [];

afterEach(async () => {
  await Promise.allSettled(dispatchers.splice(0).map((d) => d.destroy()));
  await stopOrigins();
});

function over(origins: Origin[], options: Omit<PoolDispatcherOptions, 'origins'> = {}): PoolDispatcher {
  const dispatcher = poolDispatcher({ ...options, origins: origins.map((o) => o.url) });
  dispatchers.push(dispatcher);
  return dispatcher;
}

/** An origin that sends its headers and a first chunk, then holds the response open. */
function slowBody(name: string): Promise<Origin> {
  return startOrigin(name, (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('first ');
  });
}

/** Bound on a hang (not a speed assertion). */
function within<T>(promise: Promise<T>, ms = 5_000): Promise<T> {
  return Promise.race([promise, new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms).unref())]);
}

describe('poolDispatcher: fetch aborted while its body streams', () => {
  it('the body read rejects with an AbortError, the origin sees the abort, nothing is left in flight, close() resolves', async () => {
    const a = await slowBody('a');
    const dispatcher = over([a]);
    const controller = new AbortController();
    const fallout = await falloutOf(async () => {
      const response = await fetch('http://service.invalid/slow', { dispatcher, signal: controller.signal });
      const reader = response.body!.getReader();
      const first = (await reader.read()) as { value?: Uint8Array };
      expect(new TextDecoder().decode(first.value)).toBe('first ');
      const next = reader.read();
      controller.abort();
      await expect(next).rejects.toMatchObject({ name: 'AbortError' });
      await until(() => a.aborted.length === 1);
    });
    expect(fallout.unhandled).toEqual([]);
    expect(inFlight(dispatcher.pool)).toEqual([0]);
    await within(dispatcher.close());
  });
});

describe('poolDispatcher: closed or destroyed mid-request', () => {
  it('close() while a streamed PUT body is still being sent: the request completes, then close() resolves', async () => {
    const a = await startOrigin('a', (_request, response, body) => response.end(`got ${body.length}`));
    const dispatcher = over([a]);
    const body = new Readable({ read() {} });
    body.push('x'.repeat(100));
    const pending = request('http://service.invalid/upload', { dispatcher, method: 'PUT', body });
    await until(() => a.hits.length === 1);
    const closing = dispatcher.close();
    body.push('y'.repeat(100));
    body.push(null);
    const response = await within(pending);
    expect([response.statusCode, await response.body.text()]).toEqual([200, 'got 200']);
    await within(closing);
    expect(inFlight(dispatcher.pool)).toEqual([]);
  });

  it('close() while a streamed body is read into memory (bufferBody) fails that request with PoolClosedError, and close() resolves', async () => {
    const a = await startOrigin('a');
    const dispatcher = over([a], { bufferBody: 1_024 });
    const body = new Readable({ read() {} });
    body.push('x');
    const pending = request('http://service.invalid/upload', { dispatcher, method: 'PUT', body }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await within(dispatcher.close());
    expect(await within(pending)).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(a.hits).toEqual([]);
  });

  it('destroy(error) while the response body streams: the body errors with that error', async () => {
    const a = await slowBody('a');
    const dispatcher = over([a]);
    const response = await request('http://service.invalid/slow', { dispatcher });
    const text = response.body.text();
    const reason = new Error('shutting down');
    await within(dispatcher.destroy(reason));
    await expect(within(text)).rejects.toBe(reason);
  });
});

describe('poolDispatcher: callbacks that call back into the pool', () => {
  it('an isFailureStatus that closes the dispatcher: the caller gets the held 503, close() resolves, nothing in flight', async () => {
    const a = await startOrigin('a', (_request, response) => {
      response.statusCode = 503;
      response.end('busy');
    });
    const b = await startOrigin('b');
    let closing: Promise<void> | undefined;
    const dispatcher: PoolDispatcher = over([a, b], {
      pool: { strategy: 'round-robin', retry: { attempts: 2, backoff: { initial: 0, max: 0 } } },
      isFailureStatus: (status) => {
        closing ??= dispatcher.close();
        return status >= 500;
      },
    });
    const fallout = await falloutOf(async () => {
      const response = await within(request('http://service.invalid/x', { dispatcher }));
      // Either the held 503 or b's answer: a real response, never a hang.
      expect([200, 503]).toContain(response.statusCode);
      await response.body.dump();
      await within(closing!);
    });
    expect(fallout.unhandled).toEqual([]);
  });

  it('an isFailureStatus that removes the origin serving and fails it: the request moves to the other origin', async () => {
    const a = await startOrigin('a', (_request, response) => {
      response.statusCode = 503;
      response.end('busy');
    });
    const b = await startOrigin('b');
    let removing: Promise<void> | undefined;
    const dispatcher: PoolDispatcher = over([a, b], {
      pool: { strategy: 'round-robin', retry: { attempts: 2, backoff: { initial: 0, max: 0 } } },
      isFailureStatus: (status) => {
        if (status === 503) removing ??= dispatcher.pool.remove(a.url);
        return status >= 500;
      },
    });
    const response = await within(request('http://service.invalid/x', { dispatcher }));
    expect([response.statusCode, await response.body.text()]).toEqual([200, 'b /x']);
    await within(removing!);
    expect(dispatcher.pool.members().map((m) => [m.name, m.inFlight])).toEqual([[b.url, 0]]);
  });

  it('a label that sends another request through the same dispatcher: both succeed, nothing in flight', async () => {
    const a = await startOrigin('a');
    let nested: Promise<Awaited<ReturnType<typeof request>>> | undefined;
    const dispatcher: PoolDispatcher = over([a], {
      label: (options) => {
        if (options.path === '/outer') nested ??= request('http://service.invalid/inner', { dispatcher });
        return 'GET';
      },
    });
    const outer = await within(request('http://service.invalid/outer', { dispatcher }));
    expect(await outer.body.text()).toBe('a /outer');
    expect(await (await within(nested!)).body.text()).toBe('a /inner');
    expect(inFlight(dispatcher.pool)).toEqual([0]);
  });

  it('a label that destroys the dispatcher: the request fails with an error, no hang, no unhandled rejection', async () => {
    const a = await startOrigin('a');
    const dispatcher: PoolDispatcher = over([a], {
      label: () => {
        void dispatcher.destroy();
        return 'GET';
      },
    });
    const fallout = await falloutOf(async () => {
      const outcome = await within(request('http://service.invalid/x', { dispatcher }).then((r) => r.statusCode, (e: unknown) => e));
      expect(outcome).toBeInstanceOf(Error);
    });
    expect(fallout.unhandled).toEqual([]);
  });

  it('an isFailureStatus returning a thenable whose then getter throws fails the request with CallbackError', async () => {
    const a = await startOrigin('a');
    const hostile = Object.defineProperty({}, 'then', {
      get() {
        throw new Error('then getter');
      },
    });
    const dispatcher = over([a], { isFailureStatus: (() => hostile) as never });
    const fallout = await falloutOf(async () => {
      await expect(within(request('http://service.invalid/x', { dispatcher }))).rejects.toMatchObject({ code: 'ERR_CALLBACK', callback: 'isFailureStatus' });
    });
    expect(fallout.unhandled).toEqual([]);
    expect(inFlight(dispatcher.pool)).toEqual([0]);
  });
});

describe('poolDispatcher: requests to an origin that never answers', () => {
  it('destroy() with no pool timeout ends the request in flight (no hang), nothing left in flight', async () => {
    const a = await startOrigin('a', () => {});
    const dispatcher = over([a]);
    const pending = request('http://service.invalid/x', { dispatcher }).then(() => 'answered', (e: unknown) => e);
    await until(() => a.hits.length === 1);
    await within(dispatcher.destroy());
    expect(await within(pending)).toBeInstanceOf(Error);
    expect(inFlight(dispatcher.pool)).toEqual([]);
  });

  it('fetch with a streamed request body aborted during the upload rejects with an AbortError, nothing left in flight', async () => {
    const a = await startOrigin('a');
    const dispatcher = over([a]);
    const controller = new AbortController();
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulls++;
        if (pulls === 1) c.enqueue(new TextEncoder().encode('part one'));
        // Then silent: the upload stalls until the caller aborts.
        return new Promise(() => {});
      },
    });
    const fallout = await falloutOf(async () => {
      const pending = fetch('http://service.invalid/upload', { dispatcher, method: 'POST', body, duplex: 'half', signal: controller.signal });
      await until(() => a.hits.length === 1);
      controller.abort();
      await expect(within(pending)).rejects.toMatchObject({ name: 'AbortError' });
      await until(() => inFlight(dispatcher.pool)[0] === 0);
    });
    expect(fallout.unhandled).toEqual([]);
    await within(dispatcher.close());
  });
});

describe('poolDispatcher: bad pool options name the option as written', () => {
  it('pool: { timeout: -1 } is refused naming pool.timeout', () => {
    expect(() => poolDispatcher({ origins: ['http://127.0.0.1:1'], pool: { timeout: -1 } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'pool.timeout' }));
  });
});

describe('poolDispatcher: a request body whose async iterator getter throws (bufferBody on)', () => {
  it('the request rejects with an error, the process keeps running, nothing in flight', async () => {
    const a = await startOrigin('a');
    const dispatcher = over([a], { bufferBody: 1_024 });
    const body = Object.defineProperty({}, Symbol.asyncIterator, {
      get() {
        throw new Error('iterator getter broke');
      },
    });
    const fallout = await falloutOf(async () => {
      const outcome = await within(request('http://service.invalid/x', { dispatcher, method: 'PUT', body: body as never }).then((r) => r.statusCode, (e: unknown) => e));
      expect(outcome).toBeInstanceOf(Error);
    });
    expect(fallout.unhandled).toEqual([]);
    expect(inFlight(dispatcher.pool)).toEqual([0]);
  });
});

describe('poolDispatcher: a held failing response when the retry goes nowhere', () => {
  it('503 from a, then b never answers and times out: the caller gets a\'s 503 with its whole body', async () => {
    const a = await startOrigin('a', (_request, response) => {
      response.writeHead(503, { 'content-type': 'text/plain' });
      response.write('busy, ');
      setTimeout(() => response.end('try later'), 30);
    });
    const b = await startOrigin('b', () => {});
    const dispatcher = over([a, b], { pool: { strategy: 'round-robin', timeout: 150, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } } });
    const response = await within(request('http://service.invalid/x', { dispatcher }));
    expect([response.statusCode, await within(response.body.text())]).toEqual([503, 'busy, try later']);
    expect(inFlight(dispatcher.pool)).toEqual([0, 0]);
  });

  it('503 from a, then b refuses the connection: the caller gets a\'s 503', async () => {
    const a = await startOrigin('a', (_request, response) => {
      response.statusCode = 503;
      response.end('busy');
    });
    const b = await startOrigin('b');
    await b.kill();
    const dispatcher = over([a, b], { pool: { strategy: 'round-robin', retry: { attempts: 2, backoff: { initial: 0, max: 0 } } } });
    const response = await within(request('http://service.invalid/x', { dispatcher }));
    expect([response.statusCode, await response.body.text()]).toEqual([503, 'busy']);
  });
});

describe('poolDispatcher: requests after close()', () => {
  it.each(['close', 'destroy'] as const)('a request for another origin (the fallback) after %s() is refused, not sent through a fresh Agent nobody closes', async (end) => {
    const a = await startOrigin('a');
    const other = await startOrigin('other');
    const dispatcher = over([a], { serviceOrigin: 'http://api.internal' });
    await (end === 'close' ? dispatcher.close() : dispatcher.destroy());
    const outcome = await within(request(`${other.url}/x`, { dispatcher }).then((r) => r.statusCode, (e: unknown) => e));
    expect(outcome).toBeInstanceOf(Error);
    expect(other.hits).toEqual([]);
  });

  it('a request to the pool after close() fails with PoolClosedError', async () => {
    const a = await startOrigin('a');
    const dispatcher = over([a]);
    await dispatcher.close();
    await expect(within(request('http://service.invalid/x', { dispatcher }))).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(a.hits).toEqual([]);
  });
});
