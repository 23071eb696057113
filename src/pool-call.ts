import { setMaxListeners } from 'node:events';
import type { AttemptKind, Call, CallFunction, CallKey, RunOptions } from './call.js';
import { ClientCallError, ClientPanicError, hasErrorCode, isClientPoolError, TimeoutError } from './errors.js';
import type { Member } from './member.js';

/**
 * Whether the attempt was cancelled rather than decided: the caller aborted it, or a hedge won
 * elsewhere. A timeout is not a cancellation: it is a failure of the client.
 */
export function isCancelled(call: Call<unknown>): boolean {
  return call.signal.aborted && !hasErrorCode(call.signal.reason, 'ERR_TIMEOUT');
}

/** Run options of a call that gave none. */
export const EMPTY_OPTIONS: RunOptions<never> = Object.freeze({});
/**
 * The signal of a call with neither signal nor timeout: never aborted, shared, so that such a call
 * allocates no controller. Clients such as fetch add a listener per request (and remove it after), so
 * many concurrent calls may listen at once: no max-listeners warning for it.
 */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
setMaxListeners(0, NEVER_ABORTED);

/** What a call may ask of its pool. */
export interface CallHost<T> {
  pause(member: Member<T>, ms: number): void;
}

/**
 * The end of the chain: call the user's function, turning a synchronous throw into a rejection. Not an
 * `async` function: returning the function's own promise saves the ticks of wrapping it in another.
 * Every call reaching it was made by the pool (middleware must pass on the call it received).
 */
export function invoke<T>(call: Call<T>): Promise<unknown> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    return Promise.resolve((call as PoolCall<T>).invoke());
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- normalised by #run
    return Promise.reject(error);
  }
}

/** Errors the pool or its middleware raised before reaching the client: they say nothing of its health. */
export function isLocal(error: unknown): boolean {
  return isClientPoolError(error) && !(error instanceof TimeoutError) && !(error instanceof ClientCallError) && !(error instanceof ClientPanicError);
}

/** Recovery: whatever was thrown, the caller gets a clientpool error with the original as `cause`. */
export function recover(error: unknown, call: Call<unknown>): Error {
  if (isClientPoolError(error)) return error;
  if (error instanceof Error) return new ClientCallError(error, call.clientName, call.method);
  return new ClientPanicError(error, call.clientName, call.method);
}

/** The call object: one per attempt, read by middleware and the user's function. */
export class PoolCall<T> implements Call<T> {
  readonly client: T;
  readonly clientName: string;
  readonly method: string;
  readonly attempt: number;
  readonly kind: AttemptKind;
  signal: AbortSignal;
  readonly options: RunOptions<T>;
  readonly #fn: CallFunction<T, unknown>;
  readonly #member: Member<T>;
  readonly #host: CallHost<T>;
  #values: Map<CallKey<unknown>, unknown> | undefined;

  constructor(
    member: Member<T>,
    method: string,
    attempt: number,
    kind: AttemptKind,
    signal: AbortSignal,
    options: RunOptions<T>,
    fn: CallFunction<T, unknown>,
    host: CallHost<T>,
  ) {
    this.client = member.client;
    this.clientName = member.name;
    this.method = method;
    this.attempt = attempt;
    this.kind = kind;
    this.signal = signal;
    this.options = options;
    this.#fn = fn;
    this.#member = member;
    this.#host = host;
  }

  invoke(): unknown {
    return this.#fn(this.client, this);
  }

  pauseClient(ms: number): void {
    this.#host.pause(this.#member, ms);
  }

  get<V>(key: CallKey<V>): V | undefined {
    return this.#values?.get(key) as V | undefined;
  }

  set<V>(key: CallKey<V>, value: V): void {
    (this.#values ??= new Map()).set(key, value);
  }
}
