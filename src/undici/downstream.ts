import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { AbortedError } from '../errors.js';

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;

/**
 * The caller's handler in undici 7's controller style. undici's own APIs (`request`, `fetch`, Node's
 * built-in fetch) still pass handlers of the older style (`onConnect`, `onHeaders`, `onData`,
 * `onComplete`, `onError`), so those are adapted here, as undici's internal `WrapHandler` does.
 */
export interface Downstream {
  onRequestStart(controller: Controller, context: object): void;
  onRequestUpgrade(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void;
  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage: string | undefined): void;
  onResponseData(controller: Controller, chunk: Buffer): void;
  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void;
  onResponseError(controller: Controller, error: Error): void;
}

/** `handler` as a {@link Downstream}: new-style handlers as they are, old-style ones adapted. */
export function downstreamOf(handler: Handler): Downstream {
  return typeof handler.onRequestStart === 'function' ? new ModernHandler(handler) : new LegacyHandler(handler);
}

/** A new-style handler; its optional hooks made callable. */
class ModernHandler implements Downstream {
  readonly #handler: Handler;
  constructor(handler: Handler) {
    this.#handler = handler;
  }
  onRequestStart(controller: Controller, context: object): void {
    this.#handler.onRequestStart?.(controller, context);
  }
  onRequestUpgrade(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }
  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage: string | undefined): void {
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }
  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#handler.onResponseData?.(controller, chunk);
  }
  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    this.#handler.onResponseEnd?.(controller, trailers);
  }
  onResponseError(controller: Controller, error: Error): void {
    if (this.#handler.onResponseError === undefined) throw error;
    this.#handler.onResponseError(controller, error);
  }
}

/**
 * The older handler style, still what undici's `request()` and `fetch()` pass (undici's types mark these
 * hooks deprecated for writers of new handlers; a dispatcher must still call them).
 */
interface OldStyleHandler {
  onConnect?(abort: (reason?: Error) => void, context: object): void;
  onUpgrade?(statusCode: number, headers: Buffer[], socket: Duplex): void;
  onResponseStarted?(): void;
  onHeaders?(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: Buffer[]): void;
  onError?(error: Error): void;
}

/** An old-style handler: `false` from `onHeaders`/`onData` pauses, its `resume` callback resumes. */
class LegacyHandler implements Downstream {
  readonly #handler: OldStyleHandler;
  constructor(handler: Handler) {
    this.#handler = handler as unknown as OldStyleHandler;
  }
  onRequestStart(controller: Controller, context: object): void {
    this.#handler.onConnect?.((reason) => controller.abort(reason ?? new AbortedError(undefined, 'aborted by the caller')), context);
  }
  onRequestUpgrade(_controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#handler.onUpgrade?.(statusCode, rawHeaders(headers), socket);
  }
  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage: string | undefined): void {
    this.#handler.onResponseStarted?.();
    if (this.#handler.onHeaders?.(statusCode, rawHeaders(headers), () => controller.resume(), statusMessage ?? '') === false) controller.pause();
  }
  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#handler.onData?.(chunk) === false) controller.pause();
  }
  onResponseEnd(_controller: Controller, trailers: IncomingHttpHeaders): void {
    this.#handler.onComplete?.(rawHeaders(trailers));
  }
  onResponseError(_controller: Controller, error: Error): void {
    if (this.#handler.onError === undefined) throw error;
    this.#handler.onError(error);
  }
}

/** Headers as undici's raw list: name, value, name, value..., each a latin1 Buffer (an array for repeats). */
function rawHeaders(headers: IncomingHttpHeaders): Buffer[] {
  const raw: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of value) raw.push(Buffer.from(name, 'latin1'), Buffer.from(item, 'latin1'));
    } else {
      raw.push(Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1'));
    }
  }
  return raw;
}
