import { tracingChannel } from 'node:diagnostics_channel';
import { ClientPool, type CallEnd, type CallScope, type CallMessage } from '../../../src/index.js';

export type Watch = 'nothing' | 'onCallEnd' | 'around' | 'trace' | 'all';
export const WATCHES: Watch[] = ['nothing', 'onCallEnd', 'around', 'trace', 'all'];
export const WATCHED: Watch[] = ['onCallEnd', 'around', 'trace', 'all'];

export interface TraceEvent {
  readonly kind: 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';
  readonly message: CallMessage;
}

export interface Watched {
  readonly pool: ClientPool<string>;
  readonly ends: CallEnd<string>[];
  readonly scopes: CallScope<string>[];
  readonly trace: TraceEvent[];
  /** Unsubscribe the trace (when subscribed), and close the pool. */
  readonly done: () => Promise<void>;
}

const channel = tracingChannel('clientpool:call');

/** A pool with clients `a` (and `b`), watched as `watch` says; the trace only keeps this pool's messages. */
export function watchedPool(watch: Watch, options: ConstructorParameters<typeof ClientPool<string>>[0] = {}, clients = ['a', 'b']): Watched {
  const pool = new ClientPool<string>(options);
  const ends: CallEnd<string>[] = [];
  const scopes: CallScope<string>[] = [];
  const trace: TraceEvent[] = [];
  if (watch === 'onCallEnd' || watch === 'all') pool.use({ name: 'ends', onCallEnd: (end) => void ends.push(end) });
  if (watch === 'around' || watch === 'all') pool.use({ name: 'around', around: (scope, next) => {
    scopes.push(scope);
    return next();
  } });
  const keep = (kind: TraceEvent['kind']) => (message: unknown): void => {
    if ((message as CallMessage).pool === pool) trace.push({ kind, message: message as CallMessage });
  };
  const subscribers = { start: keep('start'), end: keep('end'), asyncStart: keep('asyncStart'), asyncEnd: keep('asyncEnd'), error: keep('error') };
  const isTraced = watch === 'trace' || watch === 'all';
  if (isTraced) channel.subscribe(subscribers);
  for (const client of clients) pool.add(client, { name: client });
  return {
    pool,
    ends,
    scopes,
    trace,
    done: async () => {
      if (isTraced) channel.unsubscribe(subscribers);
      await pool.close();
    },
  };
}

/** Settle `promise` to what it resolved or rejected with. */
export function settle(promise: Promise<unknown>): Promise<{ ok: boolean; value: unknown }> {
  return promise.then((value) => ({ ok: true, value }), (value: unknown) => ({ ok: false, value }));
}

/** Options whose `key` getter throws on read number `n` (1-based) and counts every read. */
export function throwsOnRead(key: string, n: number, value: unknown, base: Record<string, unknown> = {}): { options: object; reads: () => number; thrown: Error } {
  let reads = 0;
  const thrown = new Error(`read ${n} of ${key} fails`);
  const options = { ...base };
  Object.defineProperty(options, key, {
    enumerable: true,
    get() {
      reads++;
      if (reads === n) throw thrown;
      return value;
    },
  });
  return { options, reads: () => reads, thrown };
}
