import type { Dispatcher } from 'undici';
import { CallbackError } from '../errors.js';
import { catchRejection, warnOnce } from '../jsonrpc/warn.js';

// The user callbacks a PoolDispatcher calls per request, wrapped once at construction so that whatever
// they do (throw, return garbage, return a promise that rejects) no request crashes the process, hangs,
// or leaves a call in flight.

/** The `label` option's type. */
export type Labeller = (request: Dispatcher.DispatchOptions) => string;

/** The `isFailureStatus` option's type. */
export type FailureStatus = (statusCode: number) => boolean;

/** The default label: the request's method, e.g. `GET`. */
export const defaultLabel: Labeller = (request) => request.method;

/** The default failing statuses: 5xx and 429. */
export const defaultIsFailureStatus: FailureStatus = (statusCode) => statusCode >= 500 || statusCode === 429;

/**
 * `label`, guarded: a label that throws, or returns anything but a non-empty string (a promise, a number,
 * `undefined`), gives the default label (the method), and the first such failure of this dispatcher is
 * reported as a `CLIENTPOOL_CALLBACK_ERROR` process warning. A label is a metrics name: the request
 * itself goes on. Never throws.
 */
export function guardedLabel(label: Labeller | undefined): Labeller {
  if (label === undefined) return defaultLabel;
  const warned = new Set<string>();
  return (request) => {
    let value: unknown;
    try {
      value = label(request);
    } catch (error) {
      warnOnce(warned, 'label', error, 'The request was labelled by its method.');
      return request.method;
    }
    if (typeof value === 'string' && value !== '') return value;
    catchRejection(value);
    warnOnce(warned, 'label', new TypeError(`returned ${describe(value)}, not a non-empty string`), 'The request was labelled by its method.');
    return request.method;
  };
}

/**
 * `isFailureStatus`, guarded: a predicate that throws, or returns anything but a boolean (a promise: it
 * is not awaited), throws a {@link CallbackError} (what it threw as the `cause`), which fails the request
 * without counting against the origin: no status can be classified by a broken predicate, and guessing
 * would retry or pass on responses against the user's intent.
 */
export function guardedFailureStatus(predicate: FailureStatus | undefined): FailureStatus {
  if (predicate === undefined) return defaultIsFailureStatus;
  return (statusCode) => {
    let value: unknown;
    try {
      value = predicate(statusCode);
    } catch (error) {
      throw new CallbackError('isFailureStatus', `threw for status ${statusCode}`, error);
    }
    if (typeof value === 'boolean') return value;
    catchRejection(value);
    throw new CallbackError('isFailureStatus', `returned ${describe(value)} for status ${statusCode}, not a boolean`);
  };
}

/** What a callback returned, for a message: its type, never its (possibly huge or hostile) content. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (typeof value !== 'object') return typeof value;
  try {
    return typeof (value as { then?: unknown }).then === 'function' ? 'a promise' : 'an object';
  } catch {
    return 'an object';
  }
}
