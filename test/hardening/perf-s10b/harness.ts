import { afterEach, beforeEach, vi } from 'vitest';
import { ClientPool, type Call, type Middleware, type PoolOptions, type RunOptions } from '../../../src/index.js';

export type Client = { name: string };

/** The two pipelines a call with retries may run through: pick stage first, or a pool-wide limit before it. */
export type Shape = 'pick-first' | 'limit-first';
export const SHAPES: readonly Shape[] = ['pick-first', 'limit-first'];

/** A pool-wide limit that never runs dry: it only puts a stage before the pick. */
const roomyLimit = { rate: 1_000_000, burst: 1_000_000 };

export interface Observed {
  outcomes: string[];
  callEnds: (string | undefined)[];
  tried: string[];
}

export function makePool(shape: Shape, names: readonly string[], options: PoolOptions<Client> = {}, seen: Observed = { outcomes: [], callEnds: [], tried: [] }): { pool: ClientPool<Client>; seen: Observed } {
  const pool = new ClientPool<Client>({ retryBudget: false, ...(shape === 'limit-first' ? { limit: roomyLimit } : {}), ...options });
  for (const name of names) pool.add({ name }, { name });
  const observer: Middleware<Client> = {
    name: 'observer',
    onOutcome(call: Call<Client>, outcome) {
      seen.outcomes.push(`${call.clientName}:${outcome.kind}`);
    },
    onCallEnd(end) {
      seen.callEnds.push(end.error?.code);
    },
  };
  pool.use(observer);
  return { pool, seen };
}

/** What the caller saw, in a comparable form. */
export function settled(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => {
      if (!(error instanceof Error)) return { nonError: String(error) };
      const e = error as Error & { code?: string; cause?: unknown };
      const cause = e.cause as { code?: string; message?: string } | undefined;
      return { code: e.code, message: e.message, cause: typeof cause === 'object' && cause !== null ? (cause.code ?? cause.message) : cause };
    },
  );
}

export const never = (): Promise<never> => new Promise(() => {});
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function inFlight(pool: ClientPool<Client>): number {
  return pool.members().reduce((sum, m) => sum + m.inFlight, 0);
}

export type RunFn = (pool: ClientPool<Client>, options?: RunOptions<Client>) => Promise<unknown>;

/**
 * The unhandled rejections of each test of the file that calls this (at its top level), emptied before
 * each test; with `fakeTimers`, each test also runs on vitest's fake timers.
 */
export function captureUnhandled(options: { readonly fakeTimers: boolean }): unknown[] {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
    if (options.fakeTimers) vi.useFakeTimers();
  });
  afterEach(() => {
    if (options.fakeTimers) vi.useRealTimers();
    process.off('unhandledRejection', onUnhandled);
  });
  return unhandled;
}
