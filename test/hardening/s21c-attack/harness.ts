import { vi } from 'vitest';
import { ClientPool, type CallScope, type PoolOptions } from '../../../src/index.js';
import { turns } from '../../helpers/promise-state.js';

export type Hook = (scope: CallScope<string>, next: () => Promise<unknown>) => Promise<unknown>;

export interface Harness {
  readonly pool: ClientPool<string>;
  readonly ends: string[];
  readonly fnRuns: () => number;
  readonly advance: (ms: number) => Promise<void>;
  readonly clock: { t: number };
}

/** A pool on a clock moved with the fake timers, onCallEnd recorded, `hooks` as around hooks (first outermost), clients 'a' and 'b'. */
export function harness(hooks: Hook[], poolOptions: Partial<PoolOptions<string>> = {}): Harness {
  const clock = { t: 0 };
  const pool = new ClientPool<string>({ ...poolOptions, clock: { now: () => clock.t } });
  const ends: string[] = [];
  pool.use({ name: 'ends', onCallEnd: (e) => void ends.push(e.error?.name ?? 'ok') });
  hooks.forEach((around, i) => pool.use({ name: `hook${i}`, around }));
  pool.add('a', { name: 'a' });
  pool.add('b', { name: 'b' });
  return {
    pool,
    ends,
    clock,
    fnRuns: () => 0,
    advance: async (ms) => {
      for (let i = 0; i < ms; i++) {
        clock.t += 1;
        await vi.advanceTimersByTimeAsync(1);
      }
      await turns();
    },
  };
}

export function nameOf(error: unknown): string {
  return (error as Error).name;
}
