import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bufferBody, isAsyncIterable } from '../../src/undici/buffer-body.js';

async function text(body: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts).toString();
}

describe('bufferBody', () => {
  it('gives back a body that ends within the bound whole, from Buffers, strings and Uint8Arrays', async () => {
    const buffered = await bufferBody(Readable.from([Buffer.from('ab'), 'cd', new Uint8Array([101, 102])]), 6);
    expect(buffered.isWhole).toBe(true);
    expect((buffered.body as Buffer).toString()).toBe('abcdef');
  });

  it('gives back a longer body as a stream of what was read followed by the rest', async () => {
    const buffered = await bufferBody(Readable.from(['abc', 'def', 'ghi']), 4);
    expect(buffered.isWhole).toBe(false);
    expect(await text(buffered.body as AsyncIterable<Buffer>)).toBe('abcdefghi');
  });

  it('rejects with the body\'s own error', async () => {
    const failing = (async function* () {
      yield 'a';
      throw new Error('disk gone');
    })();
    await expect(bufferBody(failing, 100)).rejects.toThrow('disk gone');
  });

  it('refuses chunks that are not bytes or strings', async () => {
    await expect(bufferBody(Readable.from([{ not: 'bytes' }]), 100)).rejects.toThrow(TypeError);
  });

  it('tells async iterables from other bodies', () => {
    expect([isAsyncIterable(Readable.from([])), isAsyncIterable('text'), isAsyncIterable(Buffer.alloc(1)), isAsyncIterable(null)]).toEqual([true, false, false, false]);
  });
});
