import type { LanguageModelV4StreamPart, LanguageModelV4StreamResult } from '@ai-sdk/provider';
import { StreamEndedEarlyError, StreamErrorPartError } from './errors.js';

/**
 * A model's stream read up to its first content part: what the caller gets once the pool's call is won.
 * Nothing of it reached the caller yet, so until then the stream may still fail over to another model.
 */
export interface OpenedStream {
  /** The model's `doStream` result: its `request` and `response` are passed on. */
  readonly result: LanguageModelV4StreamResult;
  /** The parts read so far, the first content part (or `finish`) last. */
  readonly head: LanguageModelV4StreamPart[];
  /** The rest of the stream. */
  readonly reader: ReadableStreamDefaultReader<LanguageModelV4StreamPart>;
}

/**
 * Parts that carry no content: buffered while the stream may still fail over, and dropped with it if it
 * does. A `*-start` part only announces content, so a stream that fails right after one still fails over.
 */
function isPreamble(part: LanguageModelV4StreamPart): boolean {
  switch (part.type) {
    case 'stream-start':
    case 'response-metadata':
    case 'raw':
    case 'ping':
    case 'text-start':
    case 'reasoning-start':
    case 'tool-input-start':
      return true;
    default:
      return false;
  }
}

/**
 * Read `result`'s stream up to its first content part (any part but the preamble, `error` aside;
 * `finish` counts, an empty answer being an answer). An `error` part or a failed read before it is
 * thrown (an `Error` as it is, another value as {@link StreamErrorPartError}), as is a stream that
 * closes before it ({@link StreamEndedEarlyError}): the attempt fails, and the pool may open the stream
 * on another model. When `signal` aborts (the attempt timed out, lost a hedge, or the caller left) the
 * stream is cancelled, so a model that ignores its abort signal leaks nothing.
 *
 * @param clientName The model's name in the pool, for errors.
 */
export async function readToFirstContent(result: LanguageModelV4StreamResult, signal: AbortSignal, clientName: string): Promise<OpenedStream> {
  const reader = result.stream.getReader();
  const cancel = (reason: unknown = signal.reason): void => {
    reader.cancel(reason).catch(() => {});
  };
  const onAbort = (): void => cancel();
  if (signal.aborted) cancel();
  else signal.addEventListener('abort', onAbort, { once: true });
  const head: LanguageModelV4StreamPart[] = [];
  try {
    for (;;) {
      const next = await reader.read();
      // Read after an abort: the pool has dropped this attempt, nobody would read the rest.
      if (signal.aborted) throw signal.reason;
      if (next.done) throw new StreamEndedEarlyError(clientName);
      const part = next.value;
      if (part.type === 'error') throw part.error instanceof Error ? part.error : new StreamErrorPartError(clientName, part.error);
      head.push(part);
      if (!isPreamble(part)) return { result, head, reader };
    }
  } catch (error) {
    cancel(error);
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The caller's stream: `opened`'s head, then the rest of the model's stream. Never fails over: an error
 * after the first content part (a failed read) reaches the caller as an `error` part, and the stream
 * ends. `onPart` sees each part as it is passed on (for usage, at `finish`); `onEnd` is called once when
 * the stream closes, fails or is cancelled. Cancelling it cancels the model's stream.
 */
export function passOn(opened: OpenedStream, onPart: (part: LanguageModelV4StreamPart) => void, onEnd: () => void): ReadableStream<LanguageModelV4StreamPart> {
  const { head, reader } = opened;
  let next = 0;
  return new ReadableStream<LanguageModelV4StreamPart>({
    async pull(controller) {
      if (next < head.length) {
        const part = head[next++]!;
        onPart(part);
        controller.enqueue(part);
        return;
      }
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        read = await reader.read();
      } catch (error) {
        onEnd();
        controller.enqueue({ type: 'error', error });
        controller.close();
        return;
      }
      if (read.done) {
        onEnd();
        controller.close();
        return;
      }
      onPart(read.value);
      controller.enqueue(read.value);
    },
    cancel(reason) {
      onEnd();
      return reader.cancel(reason);
    },
  });
}
