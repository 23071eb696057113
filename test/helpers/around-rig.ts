// A pool on a manual clock (moved by the test, not by the timers), with
// onCallEnd and the `clientpool:call` trace recorded for this pool only.
import { tracingChannel } from 'node:diagnostics_channel';
import { vi } from 'vitest';
import { ClientPool, type CallEnd, type CallScope, type PoolOptions } from '../../src/index.js';

export type Hook = (scope: CallScope<string>, next: () => Promise<unknown>) => Promise<unknown>;

export interface Rig {
  readonly pool: ClientPool<string>;
  readonly ends: CallEnd<string>[];
  readonly traceEnds: unknown[];
  readonly clock: { t: number };
  /** Move the fake timers by `ms` and the clock to `to` (default: by the same ms) before they fire. */
  readonly advance: (ms: number, to?: number) => Promise<void>;
  readonly done: () => Promise<void>;
}

const channel = tracingChannel('clientpool:call');

export function rig(hooks: readonly Hook[], options: Partial<PoolOptions<string>> = {}, clients: readonly string[] = ['a']): Rig {
  const clock = { t: 0 };
  const pool = new ClientPool<string>({ random: () => 0.5, ...options, clock: { now: () => clock.t } });
  const ends: CallEnd<string>[] = [];
  const traceEnds: unknown[] = [];
  pool.use({ name: 'ends', onCallEnd: (e) => void ends.push(e) });
  hooks.forEach((around, i) => pool.use({ name: `hook${i}`, around }));
  for (const c of clients) pool.add(c, { name: c });
  const sub = {
    start: () => undefined,
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: (m: unknown) => {
      const msg = m as { pool?: unknown; error?: unknown; result?: unknown };
      if (msg.pool === pool) traceEnds.push('error' in msg && msg.error !== undefined ? msg.error : { result: msg.result });
    },
    error: () => undefined,
  };
  channel.subscribe(sub);
  return {
    pool,
    ends,
    traceEnds,
    clock,
    advance: async (ms, to) => {
      clock.t = to ?? clock.t + ms;
      await vi.advanceTimersByTimeAsync(ms);
    },
    done: async () => {
      channel.unsubscribe(sub);
      if (!pool.isClosed) await pool.close();
    },
  };
}

export function messageOf(error: unknown): string {
  return (error as Error).message;
}
