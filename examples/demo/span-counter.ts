// A tiny in-memory OpenTelemetry SDK: the real BasicTracerProvider with a span processor that counts
// spans instead of exporting them, so that the demo shows tracing at work without a collector. Swap
// the processor for a BatchSpanProcessor over an OTLP exporter to send the spans somewhere.
import { context, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_ATTEMPT } from '../../src/otel/index.js';

/** Counts ended spans: attempt spans (one per attempt on a client), call spans (parents of retried or hedged attempts), errors. */
export class SpanCounter implements SpanProcessor {
  attempts = 0;
  calls = 0;
  /** Attempt spans that are children of a call span: retries and hedges, and first tries of calls that may retry. */
  nested = 0;
  errors = 0;

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (span.attributes[ATTR_ATTEMPT] === undefined) this.calls++;
    else {
      this.attempts++;
      if (span.parentSpanContext !== undefined) this.nested++;
    }
    if (span.status.code === SpanStatusCode.ERROR) this.errors++;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The SDK of the demo: a provider over a {@link SpanCounter}, and a context manager so that the active span follows awaits. */
export function startTracing(): { readonly provider: BasicTracerProvider; readonly counter: SpanCounter; shutdown(): Promise<void> } {
  const counter = new SpanCounter();
  const provider = new BasicTracerProvider({ spanProcessors: [counter] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    provider,
    counter,
    async shutdown() {
      await provider.shutdown();
      context.disable();
    },
  };
}
