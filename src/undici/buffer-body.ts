/** A streamed body read up to a bound: whole (now replayable), or too long and to be sent as a stream. */
export type BufferedBody = { readonly isWhole: true; readonly body: Buffer } | { readonly isWhole: false; readonly body: AsyncIterable<Buffer> };

/** Whether `body` is read by iterating it (a Readable, an async generator, every `fetch()` body). */
export function isAsyncIterable(body: unknown): body is AsyncIterable<unknown> {
  return typeof body === 'object' && body !== null && typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/**
 * Read a streamed request body into memory, at most `maxBytes`: a body that ends within it comes back
 * whole, as bytes that can be sent to any number of origins; a longer one comes back as a stream of
 * what was read followed by the rest, to be sent once. Rejects with the body's own error.
 */
export async function bufferBody(body: AsyncIterable<unknown>, maxBytes: number): Promise<BufferedBody> {
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return { isWhole: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) };
    const chunk = toBuffer(next.value);
    chunks.push(chunk);
    size += chunk.length;
    if (size > maxBytes) return { isWhole: false, body: rest(chunks, iterator) };
  }
}

async function* rest(read: Buffer[], iterator: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  yield* read;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return;
    yield toBuffer(next.value);
  }
}

/** A chunk as a Buffer, without copying bytes: Readables give Buffers or strings, fetch gives Uint8Arrays. */
function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError(`a request body chunk must be a string or bytes, got ${typeof chunk}`);
}
