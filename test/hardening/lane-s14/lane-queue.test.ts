// The lane and calls waiting in line, on fake timers (the client queue wakes on real timers): a run of
// calls over capped clients, with failures, pauses and calls in line, in the lane and in the full pick.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';
import { dateClock } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';
import { ending } from '../../helpers/outcomes.js';

interface Fake {
  readonly id: number;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

/** The scenario, run the given way; returns what it saw. */
async function scenario(options: RunOptions<Fake> | undefined, calls: number, seed: number): Promise<string[]> {
  vi.setSystemTime(0);
  const log: string[] = [];
  const pool = new ClientPool<Fake>({ clock: dateClock, maxWait: 25, breaker: { maxFailures: 3, cooldown: 50 } });
  pool.add({ id: 0 }, { name: 'a', maxInFlight: 2 });
  pool.add({ id: 1 }, { name: 'b', maxInFlight: 1 });
  const gates: ReturnType<typeof deferred<string>>[] = [];
  const endings: Promise<string>[] = [];
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % n;
  };
  const snapshot = (): string => pool.members().map((m) => `${m.name}:${m.inFlight}:${m.failures}`).join(' ');
  for (let i = 0; i < calls; i++) {
    const gate = deferred<string>();
    // A call refused before its function ran never takes its gate: a rejection nobody waits for.
    gate.promise.catch(() => undefined);
    gates.push(gate);
    const pause = next(4) === 0;
    endings.push(
      ending(
        pool.run((_client, call) => {
          log.push(`ran ${i} on ${call.clientName} at ${Date.now()}`);
          if (pause) call.pauseClient(15);
          return gate.promise;
        }, options),
      ),
    );
    log.push(`after ${i}: ${snapshot()}`);
    if (next(3) !== 0 && gates.length > 2) {
      const released = gates.splice(next(gates.length), 1)[0]!;
      if (next(3) === 0) released.reject(new Error('down'));
      else released.resolve(`g${i}`);
    }
    await vi.advanceTimersByTimeAsync(next(12));
    log.push(`then: ${snapshot()}`);
  }
  for (const gate of gates) gate.resolve('rest');
  await vi.advanceTimersByTimeAsync(200);
  log.push(...(await Promise.all(endings)));
  log.push(`end: ${snapshot()}`);
  await pool.close();
  log.push('closed');
  return log;
}

describe('calls in line for capped clients', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`serve the same clients in the same order in the lane as in the full pick, and leave every client at 0 (seed ${seed})`, async () => {
      const lane = await scenario(undefined, 30, seed);
      const full = await scenario({ cost: {} }, 30, seed);
      expect(lane).toEqual(full);
      expect(lane.at(-2)).toMatch(/^end: a:0:\d+ b:0:\d+$/);
    });
  }
});
