import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { IDEMPOTENT_METHODS, isRepeatable, isReplayableBody } from '../../src/undici/replay.js';

const methods = new Set(IDEMPOTENT_METHODS);
const req = (options: Partial<Dispatcher.DispatchOptions>): Dispatcher.DispatchOptions => ({ path: '/', method: 'GET', ...options });

describe('isReplayableBody', () => {
  it.each([
    ['no body', undefined, true],
    ['null', null, true],
    ['a string', 'text', true],
    ['a Buffer', Buffer.from('x'), true],
    ['a Uint8Array', new Uint8Array(2), true],
    ['an ArrayBuffer', new ArrayBuffer(2), true],
    ['a Readable', Readable.from(['x']), false],
    ['an async iterable', (async function* () {})(), false],
    ['a FormData', new FormData(), false],
  ] as const)('%s: %s', (_what, body, expected) => {
    expect(isReplayableBody(body)).toBe(expected);
  });
});

describe('isRepeatable', () => {
  it.each([
    ['GET', req({}), true],
    ['HEAD', req({ method: 'HEAD' }), true],
    ['OPTIONS', req({ method: 'OPTIONS' }), true],
    ['PUT with a string body', req({ method: 'PUT', body: '{}' }), true],
    ['DELETE', req({ method: 'DELETE' }), true],
    ['POST', req({ method: 'POST', body: 'x' }), false],
    ['PATCH', req({ method: 'PATCH', body: 'x' }), false],
    ['TRACE', req({ method: 'TRACE' }), false],
    ['POST opting in with idempotent: true', req({ method: 'POST', body: 'x', idempotent: true }), true],
    ['GET opting out with idempotent: false', req({ idempotent: false }), false],
    ['PUT with a stream body', req({ method: 'PUT', body: Readable.from(['x']) }), false],
    ['POST opting in but with a stream body', req({ method: 'POST', idempotent: true, body: Readable.from(['x']) }), false],
    ['a WebSocket upgrade', req({ upgrade: 'websocket' }), false],
  ] as const)('%s: %s', (_what, request, expected) => {
    expect(isRepeatable(request, methods)).toBe(expected);
  });
});
