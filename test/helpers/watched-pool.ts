import { tracingChannel } from 'node:diagnostics_channel';
import { ClientPool, type CallEnd, type CallMessage, type CallScope, type PoolOptions } from '../../src/index.js';

/** What watches a pool's calls: an around hook (passes through, or `around`), an onCallEnd hook, a `clientpool:call` trace subscriber. */
export interface Watchers {
  readonly around: boolean;
  readonly onCallEnd: boolean;
  readonly trace: boolean;
}

export type AroundFn = (scope: CallScope<string>, next: () => Promise<unknown>) => Promise<unknown>;

export interface TraceEvent {
  readonly kind: 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';
  readonly message: CallMessage;
}

export interface Watched {
  readonly pool: ClientPool<string>;
  /** What the around hook saw, one scope per call. */
  readonly scopes: CallScope<string>[];
  /** What onCallEnd heard, one end per call. */
  readonly ends: CallEnd<string>[];
  /** This pool's trace messages. */
  readonly trace: TraceEvent[];
  /** Unsubscribe the trace (when subscribed). */
  readonly untrace: () => void;
  /** Unsubscribe the trace, and close the pool unless it is closed. */
  readonly done: () => Promise<void>;
}

const channel = tracingChannel('clientpool:call');

/** A pool with `clients` (each named as itself), watched as `w` says; the around hook runs `around` when given, else passes through. */
export function watchedPool(w: Watchers, options: PoolOptions<string> = {}, clients: readonly string[] = ['a', 'b'], around?: AroundFn): Watched {
  const pool = new ClientPool<string>(options);
  const scopes: CallScope<string>[] = [];
  const ends: CallEnd<string>[] = [];
  const trace: TraceEvent[] = [];
  if (w.around) {
    pool.use({
      name: 'around',
      around: (scope, next) => {
        scopes.push(scope);
        return around === undefined ? next() : around(scope, next);
      },
    });
  }
  if (w.onCallEnd) pool.use({ name: 'ends', onCallEnd: (end) => void ends.push(end) });
  const keep = (kind: TraceEvent['kind']) => (message: unknown): void => {
    if ((message as CallMessage).pool === pool) trace.push({ kind, message: message as CallMessage });
  };
  const subscribers = { start: keep('start'), end: keep('end'), asyncStart: keep('asyncStart'), asyncEnd: keep('asyncEnd'), error: keep('error') };
  let isTraced = w.trace;
  if (isTraced) channel.subscribe(subscribers);
  const untrace = (): void => {
    if (isTraced) channel.unsubscribe(subscribers);
    isTraced = false;
  };
  for (const client of clients) pool.add(client, { name: client });
  return {
    pool,
    scopes,
    ends,
    trace,
    untrace,
    done: async () => {
      untrace();
      if (!pool.isClosed) await pool.close();
    },
  };
}

export interface Settled {
  readonly ok: boolean;
  readonly value: unknown;
}

/** Settle `promise` to what it resolved or rejected with. */
export function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then((value) => ({ ok: true, value }), (value: unknown) => ({ ok: false, value }));
}

/** What a settled call came to, for comparing: the value, or the error's class, code, message and option. */
export function shape(s: Settled): unknown {
  if (s.ok) return { resolved: s.value };
  const e = s.value as { constructor?: { name?: string }; code?: unknown; message?: unknown; option?: unknown };
  return { rejected: e?.constructor?.name, code: e?.code, message: e?.message, option: e?.option };
}

/** The attempts in flight across the pool's clients. */
export function inFlight(pool: ClientPool<string>): number {
  return pool.members().reduce((sum, m) => sum + m.inFlight, 0);
}

/** Counts of `clientpool:call` trace starts and async ends, from every pool, while subscribed; `reset()` zeroes them. */
export function countTrace(): { readonly counts: { start: number; asyncEnd: number }; reset(): void; unsubscribe(): void } {
  const counts = { start: 0, asyncEnd: 0 };
  const ignore = (): void => undefined;
  const subscribers = {
    start: () => {
      counts.start++;
    },
    end: ignore,
    asyncStart: ignore,
    asyncEnd: () => {
      counts.asyncEnd++;
    },
    error: ignore,
  };
  channel.subscribe(subscribers);
  return {
    counts,
    reset: () => {
      counts.start = 0;
      counts.asyncEnd = 0;
    },
    unsubscribe: () => channel.unsubscribe(subscribers),
  };
}
