import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Call, RunOptions } from '../call.js';
import { AbortedError } from '../errors.js';
import type { ClientPool } from '../pool.js';
import { asError, Attempt } from './attempt.js';
import type { Downstream } from './downstream.js';
import { isRepeatable } from './replay.js';
import { bufferBody, isAsyncIterable } from './buffer-body.js';
import type { Upstream } from './upstream.js';

type Controller = Dispatcher.DispatchController;

/** What every exchange of one dispatcher shares: resolved once, at construction. */
export interface ExchangeHost {
  readonly pool: ClientPool<Upstream>;
  /** Statuses that count against the origin; throws a `CallbackError` when the user's predicate breaks. */
  readonly isFailureStatus: (statusCode: number) => boolean;
  /** The pool's `method` label of a request; never throws. */
  readonly label: (request: Dispatcher.DispatchOptions) => string;
  /** Methods that may be sent more than once. */
  readonly methods: ReadonlySet<string>;
  /** Bytes of a streamed body of a repeatable request read into memory first, so that it can be resent; 0: none. */
  readonly bufferBody: number;
  /**
   * Whether the pool can end an attempt early (a timeout, a deadline, a hedge that won, a pool not made
   * here): then each attempt listens to `call.signal`, one AbortController per attempt. Otherwise only the
   * caller's abort can (the exchange aborts its attempts itself) and `destroy()` (which destroys the
   * per-origin dispatchers).
   */
  readonly isAbortable: boolean;
  /** Controllers of calls that ended unaborted, lent to the next requests (LIFO). */
  readonly controllers: AbortController[];
  /** Wall-clock ms, for `Retry-After` dates. */
  readonly now: () => number;
  /** Exchanges still reading their body into memory: not yet in the pool, so ended by `close()` and `destroy()` here. */
  readonly buffering: Set<Exchange>;
}

/** Idle controllers a host keeps at most: enough for the requests of a busy moment, a bound on memory. */
const MAX_IDLE_CONTROLLERS = 1_024;

/**
 * One caller's request, across the attempts the pool makes for it, and the controller the caller holds.
 * It owns the one decision that matters for safety: which attempt's response the caller gets. The first
 * attempt whose response starts with a passing status is committed at once, and from then on nothing is
 * retried or hedged (the pool's attempt is settled, later attempts abort themselves). A failing response
 * is held, paused, and handed over only if the pool gives up (no retry left, or none allowed), so the
 * caller sees the origin's real answer rather than an error.
 */
export class Exchange implements Controller {
  readonly host: ExchangeHost;
  /** The caller's request; its body replaced by bytes once a streamed one was buffered (`bufferBody`). */
  request: Dispatcher.DispatchOptions;
  /** Aborts the read of a streamed body into memory (`bufferBody`), while it lasts. */
  #buffering: AbortController | undefined;
  readonly #downstream: Downstream;
  /** Aborts the pool's call when the caller aborts before a response is committed; lent by the host. */
  #abort: AbortController | undefined;
  #committed: Attempt | undefined;
  #held: Attempt | undefined;
  /** Attempts started, so that the caller's abort reaches them even where the pool does not watch `call.signal`. */
  #attempts: Attempt[] | undefined;
  #isPaused = false;
  #isAborted = false;
  #reason: Error | null = null;
  /** The caller got its end or its error: nothing more reaches it. */
  #isOver = false;

  constructor(host: ExchangeHost, request: Dispatcher.DispatchOptions, downstream: Downstream) {
    this.host = host;
    this.request = request;
    this.#downstream = downstream;
  }

  /** Tell the caller the request started, then run it through the pool. */
  start(): void {
    try {
      this.#downstream.onRequestStart(this, {});
    } catch (error) {
      this.#finish(asError(error));
      return;
    }
    if (this.#isAborted) {
      this.#finish(this.#reason ?? new AbortedError(undefined, 'aborted by the caller'));
      return;
    }
    const body = this.request.body;
    if (this.host.bufferBody > 0 && isAsyncIterable(body) && isRepeatable({ ...this.request, body: null }, this.host.methods)) {
      // Ended by the caller's abort, or by the dispatcher closing: a stalled body cannot hold the request.
      const buffering = (this.#buffering = new AbortController());
      this.host.buffering.add(this);
      bufferBody(body, this.host.bufferBody, buffering.signal).then(
        (buffered) => {
          this.host.buffering.delete(this);
          this.request = { ...this.request, body: buffered.body as NonNullable<Dispatcher.DispatchOptions['body']> };
          this.#run();
        },
        (error: unknown) => {
          this.host.buffering.delete(this);
          this.#finish(this.#isAborted ? (this.#reason ?? asError(error)) : asError(error));
        },
      );
      return;
    }
    this.#run();
  }

  #run(): void {
    if (this.#isAborted) {
      this.#finish(this.#reason ?? new AbortedError(undefined, 'aborted by the caller'));
      return;
    }
    // Guarded (callbacks.ts): a broken label gives the method, never an error.
    const method = this.host.label(this.request);
    const controller = (this.#abort = this.host.controllers.pop() ?? new AbortController());
    const signal = controller.signal;
    const options: RunOptions<Upstream> = isRepeatable(this.request, this.host.methods) ? { method, signal } : { method, signal, retry: false, hedge: false };
    this.host.pool.run((upstream, call) => this.#attempt(upstream, call), options).then(
      (requestError) => {
        this.#release();
        this.#succeeded(requestError);
      },
      (error: unknown) => {
        this.#release();
        this.#failed(error);
      },
    );
  }

  /**
   * The pool's call is over: its controller, if never aborted, goes back to the host for another request.
   * A new AbortController per request costs more than the rest of the adapter on Node 20 (and a new
   * signal per call defeats the pool's one-listener-per-signal watch); once the call settled, nothing of
   * the pool's still listens to it for this request.
   */
  #release(): void {
    const controller = this.#abort;
    this.#abort = undefined;
    const idle = this.host.controllers;
    if (controller !== undefined && !controller.signal.aborted && idle.length < MAX_IDLE_CONTROLLERS) idle.push(controller);
  }

  #attempt(upstream: Upstream, call: Call<Upstream>): Promise<Error | undefined> {
    const attempt = new Attempt(this, upstream, call);
    (this.#attempts ??= []).push(attempt);
    return attempt.run();
  }

  /** Whether a response is the caller's already, or the caller is gone: later attempts abort themselves. */
  get isDecided(): boolean {
    return this.#committed !== undefined || this.#isOver || this.#isAborted;
  }

  /** An attempt's passing response: the caller's from now on. */
  commit(attempt: Attempt, controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage: string | undefined): void {
    this.#committed = attempt;
    this.#discardHeld();
    this.rawHeaders = controller.rawHeaders ?? null;
    if (this.#isPaused) controller.pause();
    try {
      this.#downstream.onResponseStart(this, statusCode, headers, statusMessage);
    } catch (error) {
      attempt.abort(asError(error));
    }
  }

  /** An informational (1xx) response of an attempt still running: the caller hears of it (undici's `onInfo`). */
  info(statusCode: number, headers: IncomingHttpHeaders, statusMessage: string | undefined): void {
    try {
      this.#downstream.onResponseStart(this, statusCode, headers, statusMessage);
    } catch (error) {
      this.abort(asError(error));
    }
  }

  /** An attempt's upgrade (CONNECT, WebSocket): the socket is the caller's. */
  upgrade(attempt: Attempt, controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#committed = attempt;
    this.#discardHeld();
    this.#isOver = true;
    this.#downstream.onRequestUpgrade(controller, statusCode, headers, socket);
  }

  /** An attempt's failing response, kept in case nothing better comes; an older one is let go. */
  hold(attempt: Attempt): void {
    this.#discardHeld();
    this.#held = attempt;
  }

  data(chunk: Buffer): void {
    if (this.#isOver) return;
    try {
      this.#downstream.onResponseData(this, chunk);
    } catch (error) {
      this.#committed?.abort(asError(error));
    }
  }

  end(trailers: IncomingHttpHeaders): void {
    if (this.#isOver) return;
    this.#isOver = true;
    this.rawTrailers = this.#committed?.controller?.rawTrailers ?? null;
    this.#downstream.onResponseEnd(this, trailers);
  }

  error(error: Error): void {
    this.#finish(error);
  }

  // The controller the caller holds: pause, resume and abort reach the committed attempt's response.

  get aborted(): boolean {
    return this.#isAborted;
  }

  get paused(): boolean {
    return this.#isPaused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  /** The committed response's raw headers, as its own controller had them (undici's parser's list). */
  rawHeaders: Buffer[] | string[] | IncomingHttpHeaders | null = null;
  rawTrailers: Buffer[] | string[] | IncomingHttpHeaders | null = null;

  pause(): void {
    this.#isPaused = true;
    this.#committed?.controller?.pause();
  }

  resume(): void {
    this.#isPaused = false;
    this.#committed?.controller?.resume();
  }

  abort(reason: Error): void {
    if (this.#isAborted || this.#isOver) return;
    this.#isAborted = true;
    this.#reason = reason;
    const committed = this.#committed;
    if (committed !== undefined) {
      // The response streams: end it; its error (the reason) reaches the caller through `error()`.
      committed.abort(reason);
      return;
    }
    this.#discardHeld();
    this.#buffering?.abort(reason);
    this.#abort?.abort(reason);
    for (const attempt of this.#attempts ?? []) attempt.abort(reason);
  }

  #succeeded(requestError: Error | undefined): void {
    this.#discardHeld();
    if (requestError !== undefined) this.#finish(requestError);
  }

  #failed(error: unknown): void {
    if (this.#isOver || this.#committed !== undefined) return;
    if (this.#isAborted) {
      this.#finish(this.#reason ?? asError(error));
      return;
    }
    const held = this.#held;
    if (held !== undefined && !held.isDiscarded) {
      this.#held = undefined;
      this.#deliver(held);
      return;
    }
    this.#finish(asError(error));
  }

  /** Hand a held response to the caller: its status, what of its body came, then the rest as it comes. */
  #deliver(held: Attempt): void {
    this.#committed = held;
    this.rawHeaders = held.controller?.rawHeaders ?? null;
    held.promote();
    try {
      this.#downstream.onResponseStart(this, held.statusCode, held.headers, held.statusMessage);
      for (const chunk of held.chunks.splice(0)) {
        if (this.#isOver) return;
        this.#downstream.onResponseData(this, chunk);
      }
    } catch (error) {
      held.abort(asError(error));
      this.#finish(asError(error));
      return;
    }
    if (held.error !== undefined) {
      this.#finish(held.error);
    } else if (held.trailers !== undefined) {
      this.#isOver = true;
      try {
        this.#downstream.onResponseEnd(this, held.trailers);
      } catch (error) {
        warnHandler(error);
      }
    } else if (!this.#isPaused) {
      held.controller?.resume();
    }
  }

  #discardHeld(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    held.abort(new AbortedError(undefined, 'a better response was committed, or the caller left'));
  }

  #finish(error: Error): void {
    if (this.#isOver) return;
    this.#isOver = true;
    this.#discardHeld();
    try {
      this.#downstream.onResponseError(this, error);
    } catch (thrown) {
      // Outside undici's callbacks nothing would catch it: an unhandled rejection would end the process.
      warnHandler(thrown);
    }
  }
}

/** The caller's handler threw where no one can take the error: reported, never thrown. */
function warnHandler(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  globalThis.process?.emitWarning(`clientpool/undici: the request's handler threw: ${message}`, { code: 'CLIENTPOOL_CALLBACK_ERROR', detail: 'The request was over; the error was dropped.' });
}
