import type { Attributes, Tracer, TracerProvider } from '@opentelemetry/api';
import type { Call } from '../call.js';
import { InvalidOptionError } from '../errors.js';
import { callable, keySet, knownKeys, optionsObject } from '../validate.js';

const OPTION_KEYS = keySet(['tracer', 'tracerProvider', 'spanName', 'serverAddress', 'attributes']);

/** Options of {@link tracing}. */
export interface TracingOptions<T = unknown> {
  /**
   * The tracer to start spans with. Give this or `tracerProvider`, not both.
   * @default the tracer `clientpool` of `tracerProvider`
   */
  readonly tracer?: Tracer;
  /**
   * Where to get the tracer when no `tracer` is given.
   * @default the global provider (`trace.getTracerProvider()`), which forwards to an SDK registered even after the middleware was made
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * Name of the span of each attempt. The span of a whole call that may retry or hedge (the parent of
   * its attempts' spans) is named after the method label.
   * @default the call's method label (`call.method`, e.g. `get_slot`)
   */
  readonly spanName?: (call: Call<T>) => string;
  /**
   * The `server.address` attribute of a client (its host name or IP), when you know it.
   * @default no `server.address` attribute
   */
  readonly serverAddress?: (client: T, clientName: string) => string | undefined;
  /**
   * Attributes set on every span, e.g. `{ 'rpc.system': 'jsonrpc', 'rpc.service': 'solana' }`.
   * @default {}
   */
  readonly attributes?: Attributes;
}

/** The options checked. */
export interface ResolvedTracingOptions<T> {
  readonly tracer: Tracer | undefined;
  readonly tracerProvider: TracerProvider | undefined;
  readonly spanName: ((call: Call<T>) => string) | undefined;
  readonly serverAddress: ((client: T, clientName: string) => string | undefined) | undefined;
  readonly attributes: Attributes;
}

/** Check every option once, at construction, naming the option and the bad value. */
export function resolveTracingOptions<T>(options: TracingOptions<T>): ResolvedTracingOptions<T> {
  optionsObject('options', options);
  if (options !== undefined) knownKeys('options', options, OPTION_KEYS);
  const { tracer, tracerProvider, spanName, serverAddress, attributes = {} } = options;
  if (tracer !== undefined && tracerProvider !== undefined) {
    throw new InvalidOptionError('tracer', 'given without tracerProvider (the tracer already comes from a provider)', tracer);
  }
  if (tracer !== undefined && !hasMethod(tracer, 'startSpan')) throw new InvalidOptionError('tracer', 'an OpenTelemetry Tracer', tracer);
  if (tracerProvider !== undefined && !hasMethod(tracerProvider, 'getTracer')) {
    throw new InvalidOptionError('tracerProvider', 'an OpenTelemetry TracerProvider', tracerProvider);
  }
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new InvalidOptionError('attributes', 'an object of attribute names to values', attributes);
  }
  return {
    tracer,
    tracerProvider,
    spanName: spanName === undefined ? undefined : callable('spanName', spanName),
    serverAddress: serverAddress === undefined ? undefined : callable('serverAddress', serverAddress),
    attributes: Object.freeze({ ...attributes }),
  };
}

function hasMethod(value: unknown, method: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function';
}
