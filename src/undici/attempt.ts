import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Call } from '../call.js';
import { AbortedError, CallbackError } from '../errors.js';
import { UpstreamStatusError } from './errors.js';
import type { Exchange } from './exchange.js';
import { retryAfterMs } from './retry-after.js';
import type { Upstream } from './upstream.js';

type Controller = Dispatcher.DispatchController;

/**
 * Where an attempt stands. `waiting`: sent, no response yet. `committed`: its response is the caller's.
 * `held`: it answered with a failing status; the response is paused and kept, in case no other origin
 * answers better. `discarded`: it lost (to another attempt, the caller's abort, the pool's timeout).
 */
type AttemptState = 'waiting' | 'committed' | 'held' | 'discarded';

/**
 * undici error codes that say the request itself is bad, whatever the origin: not the origin's failure,
 * not worth a retry. The attempt resolves with the error, which reaches the caller as it is.
 */
const REQUEST_ERRORS = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH']);

/**
 * One attempt of a request on one origin: the handler undici's per-origin dispatcher calls. It settles
 * the pool's attempt when the response starts: a passing status commits the response to the caller
 * (resolve), a failing one (5xx, 429) is held back and fails the attempt (reject), as does a connection
 * error before any response. After that the attempt's promise is settled; data flows through the exchange.
 */
export class Attempt implements Dispatcher.DispatchHandler {
  readonly #exchange: Exchange;
  readonly #upstream: Upstream;
  readonly #call: Call<Upstream>;
  #state: AttemptState = 'waiting';
  #controller: Controller | undefined;
  /** An abort asked for before undici handed over the controller. */
  #pendingAbort: Error | undefined;
  #resolve: ((value: Error | undefined) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #signal: AbortSignal | undefined;

  // A held response, kept paused until the exchange delivers or discards it.
  statusCode = 0;
  headers: IncomingHttpHeaders = {};
  statusMessage: string | undefined;
  readonly chunks: Buffer[] = [];
  trailers: IncomingHttpHeaders | undefined;
  error: Error | undefined;

  constructor(exchange: Exchange, upstream: Upstream, call: Call<Upstream>) {
    this.#exchange = exchange;
    this.#upstream = upstream;
    this.#call = call;
  }

  /** Send the request; settles as the class says. Resolves with an error only for a bad request. */
  run(): Promise<Error | undefined> {
    return new Promise<Error | undefined>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      // `call.signal` costs an AbortController per attempt: read only when the pool can end attempts.
      if (this.#exchange.host.isAbortable) {
        const signal = (this.#signal = this.#call.signal);
        if (signal.aborted) {
          this.#state = 'discarded';
          this.#settle(asError(signal.reason), false);
          return;
        }
        signal.addEventListener('abort', this);
      }
      try {
        this.#upstream.dispatcher.dispatch({ ...this.#exchange.request, origin: this.#upstream.origin }, this);
      } catch (error) {
        this.onResponseError(undefined, asError(error));
      }
    });
  }

  /** The pool ended the attempt (`call.signal` aborted): a listener object, so no closure per attempt. */
  handleEvent(): void {
    this.abort(asError(this.#signal?.reason));
  }

  /** The controller of this attempt's response, once undici gave it. */
  get controller(): Controller | undefined {
    return this.#controller;
  }

  /** Abort the attempt's request (a lost hedge, the caller's abort, a timeout). */
  abort(reason: Error): void {
    if (this.#state === 'waiting' || this.#state === 'held') this.#state = 'discarded';
    this.#settle(reason, false);
    if (this.#controller === undefined) this.#pendingAbort ??= reason;
    else this.#controller.abort(reason);
  }

  /**
   * Let the response go without a verdict against the origin: the attempt resolves (with `value`, an error
   * for the caller, or nothing) before its request is aborted, so the pool never reads the abort as a failure.
   */
  #drop(value: Error | undefined, reason: Error): void {
    this.#settle(value, true);
    this.abort(reason);
  }

  /** A held response becomes the caller's: later data flows straight through the exchange. */
  promote(): void {
    if (this.#state === 'held') this.#state = 'committed';
  }

  get isDiscarded(): boolean {
    return this.#state === 'discarded';
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.#pendingAbort !== undefined) controller.abort(this.#pendingAbort);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    if (this.#state !== 'waiting' || this.#exchange.isDecided) {
      this.#settle(undefined, true);
      this.#state = 'discarded';
      socket.destroy();
      return;
    }
    this.#state = 'committed';
    this.#settle(undefined, true);
    this.#exchange.upgrade(this, controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (this.#state !== 'waiting') return;
    const exchange = this.#exchange;
    // An informational response (103 Early Hints): passed on, and the final response is still to come.
    if (statusCode < 200) {
      if (!exchange.isDecided) exchange.info(statusCode, headers, statusMessage);
      return;
    }
    if (exchange.isDecided) {
      // The origin answered well; another attempt's response simply came first.
      this.#drop(undefined, new AbortedError(undefined, 'another attempt answered first'));
      return;
    }
    let isFailure: boolean;
    try {
      isFailure = exchange.host.isFailureStatus(statusCode);
    } catch (error) {
      // The guarded predicate (see callbacks.ts) throws a CallbackError: the request fails, the origin is not blamed.
      const refused = error instanceof CallbackError ? error : new CallbackError('isFailureStatus', 'threw', error);
      this.#drop(refused, refused);
      return;
    }
    if (isFailure) {
      const pauseMs = statusCode === 429 || statusCode === 503 ? retryAfterMs(headers['retry-after'], exchange.host.now) : undefined;
      if (pauseMs !== undefined) this.#call.pauseClient(pauseMs);
      this.#state = 'held';
      this.statusCode = statusCode;
      this.headers = headers;
      this.statusMessage = statusMessage;
      controller.pause();
      exchange.hold(this);
      this.#settle(new UpstreamStatusError(statusCode, this.#upstream.origin, pauseMs), false);
      return;
    }
    this.#state = 'committed';
    this.#settle(undefined, true);
    exchange.commit(this, controller, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    if (this.#state === 'committed') this.#exchange.data(chunk);
    else if (this.#state === 'held') this.chunks.push(chunk);
  }

  onResponseEnd(_controller: Controller, trailers: IncomingHttpHeaders): void {
    if (this.#state === 'committed') this.#exchange.end(trailers);
    else if (this.#state === 'held') this.trailers = trailers;
  }

  onResponseError(_controller: Controller | undefined, error: Error): void {
    switch (this.#state) {
      case 'committed':
        this.#exchange.error(error);
        return;
      case 'held':
        this.error = error;
        return;
      case 'waiting':
        this.#state = 'discarded';
        if (isRequestError(error)) this.#settle(error, true);
        else this.#settle(error, false);
        return;
      case 'discarded':
        // Settled by its abort already (the pool ended it, or another attempt won).
        this.#settle(error, false);
    }
  }

  /** Settle the pool's attempt once: resolve (with a request error, or nothing) or reject. */
  #settle(value: Error | undefined, isResolved: boolean): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    if (resolve === undefined || reject === undefined) return;
    this.#resolve = this.#reject = undefined;
    this.#signal?.removeEventListener('abort', this);
    if (isResolved) resolve(value);
    else reject(value);
  }
}

function isRequestError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && REQUEST_ERRORS.has(code);
}

/** An abort reason or a thrown value as an Error (undici's `controller.abort` takes one). */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new AbortedError(value, 'aborted');
}
