import { vi } from 'vitest';
import { turns } from '../../helpers/promise-state.js';

// Shared with s23-attack: the backstop's constants and `ending`.
export { DID_NOT_ANSWER, ending, OVERDUE_MS, type Ending } from '../s23-attack/rig.js';
export const MAX = 2_147_483_647;

/** A clock that stands still unless moved. */
export class StillClock {
  time = 0;
  now(): number {
    return this.time;
  }
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
