/** A signal that never aborts: for a read nothing can end early. */
const NEVER = new AbortController().signal;

/** A streamed body read up to a bound: whole (now replayable), or too long and to be sent as a stream. */
export type BufferedBody = { readonly isWhole: true; readonly body: Buffer } | { readonly isWhole: false; readonly body: AsyncIterable<Buffer> };

/** Whether `body` is read by iterating it (a Readable, an async generator, every `fetch()` body). */
export function isAsyncIterable(body: unknown): body is AsyncIterable<unknown> {
  return typeof body === 'object' && body !== null && typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/**
 * Read a streamed request body into memory, at most `maxBytes`: a body that ends within it comes back
 * whole, as bytes that can be sent to any number of origins; a longer one comes back as a stream of
 * what was read followed by the rest, to be sent once. Rejects with the body's own error, or with
 * `signal`'s reason as soon as it aborts (the body is then closed: a stalled body cannot hold the request).
 */
export async function bufferBody(body: AsyncIterable<unknown>, maxBytes: number, signal: AbortSignal = NEVER): Promise<BufferedBody> {
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await nextOrAbort(iterator, signal);
    if (next.done === true) return { isWhole: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) };
    const chunk = toBuffer(next.value);
    chunks.push(chunk);
    size += chunk.length;
    if (size > maxBytes) return { isWhole: false, body: rest(chunks, iterator) };
  }
}

/** The iterator's next chunk, or a rejection with `signal`'s reason once it aborts (the iterator closed). */
function nextOrAbort(iterator: AsyncIterator<unknown>, signal: AbortSignal): Promise<IteratorResult<unknown>> {
  const close = (): void => {
    try {
      // Best effort: a body that cannot be closed is still let go of.
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
    } catch {
      // A `return` that throws: nothing more to do.
    }
  };
  if (signal.aborted) {
    close();
    return Promise.reject(signal.reason as Error);
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      close();
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    iterator.next().then(
      (result) => {
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the body's own error, as it is
        reject(error);
      },
    );
  });
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
