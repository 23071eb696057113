import { vi } from 'vitest';
import { turns } from '../../helpers/promise-state.js';

/** The pool's backstop past maxWait (src/pipeline/pool-token.ts OVERDUE_MS). */
export const OVERDUE_MS = 5_000;
export const MAX = 2_147_483_647;
export const DID_NOT_ANSWER = 'a limiter that did not answer within maxWait';

/** A clock that stands still unless moved. */
export class StillClock {
  time = 0;
  now(): number {
    return this.time;
  }
}

/** A promise's ending, recorded with the fake time (Date.now()) it came at. */
export interface Ending {
  at: number | undefined;
  ok: boolean | undefined;
  value: unknown;
}

export function ending(promise: Promise<unknown>): Ending {
  const e: Ending = { at: undefined, ok: undefined, value: undefined };
  promise.then(
    (value) => Object.assign(e, { at: Date.now(), ok: true, value }),
    (value: unknown) => Object.assign(e, { at: Date.now(), ok: false, value }),
  );
  return e;
}

export async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await turns(2);
}

/** A function that never settles until released. */
export function hanging(): { fn: () => Promise<string>; release: (v?: string) => void; started: () => number } {
  const resolvers: ((v: string) => void)[] = [];
  let n = 0;
  return {
    fn: () => {
      n++;
      return new Promise<string>((resolve) => resolvers.push(resolve));
    },
    release: (v = 'held') => {
      for (const r of resolvers.splice(0)) r(v);
    },
    started: () => n,
  };
}

export function codeOf(value: unknown): string | undefined {
  return (value as { code?: string } | undefined)?.code;
}
