// The two handler styles a dispatcher is called with: undici 7's controller style (interceptors, compose)
// and the older callbacks that request() and fetch() still use (covered by the other files).
import type { IncomingHttpHeaders } from 'node:http';
import { interceptors, request, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { poolDispatcher, type PoolDispatcher } from '../../src/undici/index.js';
import { startOrigin, stopOrigins, until } from './origins.js';

const dispatchers: PoolDispatcher[] = [];
afterEach(async () => {
  await Promise.allSettled(dispatchers.splice(0).map((d) => d.destroy()));
  await stopOrigins();
});

describe('handlers of the controller style', () => {
  it('get the response through the controller, and pause and resume its body', async () => {
    const a = await startOrigin('a', (_req, res) => {
      res.write('one,');
      setTimeout(() => res.end('two'), 5);
    });
    const dispatcher = poolDispatcher({ origins: [a.url] });
    dispatchers.push(dispatcher);
    const events: string[] = [];
    let controller: Dispatcher.DispatchController | undefined;
    let body = '';
    const done = new Promise<void>((resolve, reject) => {
      dispatcher.dispatch({ origin: 'http://service.invalid', path: '/x', method: 'GET' }, {
        onRequestStart(c) {
          controller = c;
          events.push('start');
        },
        onResponseStart(c, statusCode, headers: IncomingHttpHeaders) {
          events.push(`status ${statusCode} ${headers['transfer-encoding'] ?? ''}`);
          c.pause();
          setTimeout(() => {
            events.push(`paused ${c.paused}`);
            c.resume();
          }, 10);
        },
        onResponseData(_c, chunk) {
          if (events.at(-1) !== 'data') events.push('data');
          body += chunk.toString();
        },
        onResponseEnd() {
          events.push('end');
          resolve();
        },
        onResponseError(_c, error) {
          reject(error);
        },
      });
    });
    await done;
    expect(controller).toBeDefined();
    // No data while paused: it all came after the resume.
    expect(events).toEqual(['start', 'status 200 chunked', 'paused true', 'data', 'end']);
    expect(body).toBe('one,two');
  });

  it('work under undici interceptors composed on the dispatcher (responseError)', async () => {
    const a = await startOrigin('a', (_req, res) => {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end('{"message":"no such user"}');
    });
    const dispatcher = poolDispatcher({ origins: [a.url] });
    dispatchers.push(dispatcher);
    const composed = dispatcher.compose(interceptors.responseError());
    await expect(request('http://service.invalid/users/9', { dispatcher: composed })).rejects.toMatchObject({ statusCode: 404 });
    await until(() => a.hits.length === 1);
  });

  it('can abort through the controller before the response, as undici\'s own dispatchers allow', async () => {
    const a = await startOrigin('a', () => {
      // Never answers.
    });
    const dispatcher = poolDispatcher({ origins: [a.url] });
    dispatchers.push(dispatcher);
    const reason = new Error('no longer wanted');
    const error = await new Promise<Error>((resolve) => {
      dispatcher.dispatch({ origin: 'http://service.invalid', path: '/x', method: 'GET' }, {
        onRequestStart(c) {
          void until(() => a.hits.length === 1).then(() => c.abort(reason));
        },
        onResponseError(_c, e) {
          resolve(e);
        },
      });
    });
    expect(error).toBe(reason);
    await until(() => a.aborted.length === 1);
  });
});
