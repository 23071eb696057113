import { context, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { callKey, type Call, type CallKey, type CallScope } from '../call.js';
import type { ClientPoolError } from '../errors.js';
import type { Middleware, Next } from '../middleware/middleware.js';
import type { Outcome } from '../pipeline/outcome.js';
import { ATTR_CANCELLED, ATTR_ERROR_TYPE, ATTR_SERVER_ADDRESS, errorType } from './attributes.js';
import { resolveTracingOptions, type TracingOptions } from './options.js';

/** The instrumentation scope of the spans. */
export const TRACER_NAME = 'clientpool';

/**
 * OpenTelemetry tracing for a pool, as a middleware: one CLIENT span per attempt of a pool call (a
 * retried or hedged call makes one per attempt, numbered by `clientpool.attempt`), named after the
 * method label, with RPC semantic-convention attributes. The span is the active one while
 * your function runs, so the spans it starts (an HTTP client's, your own) nest under it. It ends with
 * the pool's verdict on the attempt (`onOutcome`), also when the function never settles and a
 * timeout, the caller or a winning hedge ends the attempt: a failure, an error answer or a refusal
 * marks it failed, a cancellation sets `clientpool.cancelled`.
 *
 * With no SDK registered the spans are OpenTelemetry's no-op ones: the middleware then only asks for a
 * span, sees it is not recording and calls on.
 *
 * @example
 * ```ts
 * import { tracing } from 'clientpool/otel';
 *
 * pool.use(tracing({ serverAddress: (client) => client.url.hostname }));
 * await pool.run((client, call) => client.getSlot(), { method: 'get_slot' }); // span "get_slot"
 * ```
 */
export function tracing<T = unknown>(options: TracingOptions<T> = {}): Middleware<T> {
  return new Tracing(options);
}

class Tracing<T> implements Middleware<T> {
  readonly name = 'tracing';
  readonly #tracer: Tracer;
  readonly #spanName: ((call: Call<T>) => string) | undefined;
  readonly #serverAddress: ((client: T, clientName: string) => string | undefined) | undefined;
  /** The `attributes` option; undefined when empty, to skip merging it per call. */
  readonly #attributes: Attributes | undefined;
  /** Where `execute` leaves a recording span for `onOutcome` to end: one key per middleware, so two never mix. */
  readonly #span: CallKey<Span> = callKey('clientpool.otel.span');

  constructor(options: TracingOptions<T>) {
    const resolved = resolveTracingOptions(options);
    // The global provider is a proxy: a tracer taken from it now forwards to an SDK registered later.
    this.#tracer = resolved.tracer ?? (resolved.tracerProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);
    this.#spanName = resolved.spanName;
    this.#serverAddress = resolved.serverAddress;
    this.#attributes = Object.keys(resolved.attributes).length === 0 ? undefined : resolved.attributes;
  }

  /**
   * A call that may make several attempts (retry or hedging applies) gets a span of its own, the parent
   * of its attempts' spans; a plain call has just its attempt's span.
   */
  around(scope: CallScope<T>, next: () => Promise<unknown>): Promise<unknown> {
    if (!scope.isResilient) return next();
    const span = this.#tracer.startSpan(scope.method, { kind: SpanKind.CLIENT, attributes: { 'rpc.method': scope.method, ...this.#attributes } });
    if (!span.isRecording()) {
      span.end();
      if (span.spanContext() === INVALID_SPAN_CONTEXT) return next();
      return context.with(trace.setSpan(context.active(), span), next);
    }
    return context.with(trace.setSpan(context.active(), span), next).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        failed(span, error);
        span.end();
        throw error;
      },
    );
  }

  /** Start the attempt's span and run the rest of the chain with it active; `onOutcome` ends it. */
  execute(call: Call<T>, next: Next): Promise<unknown> {
    const span = this.#tracer.startSpan(this.#spanName === undefined ? call.method : this.#spanName(call), this.#spanOptions(call));
    if (span.isRecording()) {
      call.set(this.#span, span);
    } else {
      span.end();
      // No SDK: the no-op span has the invalid context, and there is nothing to propagate. A span an SDK
      // sampled out still carries a trace (sampled=0) that the user's outgoing calls should pass on.
      if (span.spanContext() === INVALID_SPAN_CONTEXT) return next(call);
    }
    return context.with(trace.setSpan(context.active(), span), next, undefined, call);
  }

  /**
   * End the attempt's span with the pool's verdict, once per attempt, whatever ended it (its function, a
   * timeout, the caller, a hedge, `destroy()`). An attempt this middleware never saw (refused further
   * out, or given up before the chain reached it) has no span here.
   */
  onOutcome(call: Call<T>, outcome: Outcome): void {
    const span = call.get(this.#span);
    if (span === undefined) return;
    if (outcome.kind === 'cancelled') span.setAttribute(ATTR_CANCELLED, true);
    else if (outcome.kind !== 'success') failed(span, reported(outcome.error));
    span.end();
  }

  /** Start-time attributes, which samplers see: the semantic conventions ask for these at creation. */
  #spanOptions(call: Call<T>): SpanOptions {
    // Literal keys (the values of ATTR_RPC_METHOD, ATTR_CLIENT, ATTR_ATTEMPT) rather than computed ones
    // let V8 build the object from a template: about 20 ns less per call, which is the whole budget
    // of the no-SDK path.
    let attributes: Attributes = { 'rpc.method': call.method, 'clientpool.client': call.clientName, 'clientpool.attempt': call.attempt };
    if (this.#attributes !== undefined) attributes = { ...this.#attributes, ...attributes };
    if (this.#serverAddress !== undefined) {
      const address = this.#serverAddress(call.client, call.clientName);
      if (address !== undefined) attributes[ATTR_SERVER_ADDRESS] = address;
    }
    return { kind: SpanKind.CLIENT, attributes };
  }
}

/**
 * What to report of an attempt's error: the client's own failure for one the pool wrapped
 * (`ClientCallError`, `ClientPanicError`), so `error.type` says `TypeError` rather than the wrapper;
 * clientpool's own error for the rest (`TimeoutError`, a refusal).
 */
function reported(error: ClientPoolError): unknown {
  return error.code === 'ERR_CLIENT_CALL' || error.code === 'ERR_CLIENT_PANIC' ? error.cause : error;
}

/**
 * Mark the span failed: `error.type`, the exception event, status ERROR with the message. Never throws:
 * an error whose `message` getter or `toString` throws still fails the span, and the caller still gets
 * the error as it was thrown (not this one's throw).
 */
function failed(span: Span, error: unknown): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
  try {
    if (error instanceof Error) {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    } else {
      const message = String(error);
      span.recordException(message);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
  } catch {
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
}
